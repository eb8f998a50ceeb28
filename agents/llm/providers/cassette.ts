/**
 * The `cassette` provider: records every request and answer of an inner provider to a JSONL file
 * and replays them, so an experiment with a language model reruns offline and exactly.
 *
 * ## Keys
 * A request's key is the sha256 (hex) of a canonical JSON (keys sorted, no spaces) of what it
 * asks: for `complete`, the model name, the messages (role, content) and the parameters
 * (`temperature`, 0 when absent; `maxTokens`, `stop`, `seed`, `null` when absent; an empty `stop`
 * is `null`); for `score`, the model name, the prompt and the continuations in order. The model
 * name is the inner model's (`LanguageModel.model`), not the snapshot a server reports.
 *
 * ## Modes
 * - `record`: answers from the cassette when it has the key, otherwise asks `inner` and appends
 *   the answer. Needs `inner`.
 * - `replay`: the same; without `inner` a miss is a {@link CassetteMissError}.
 * - `strict`: never calls `inner` (given as options, it is not even built, so a replay needs no
 *   key or server): a miss is a {@link CassetteMissError} naming the key and a digest of the
 *   request.
 * Identical requests in flight at once share one call of `inner` and one record; a request asked
 * again later gets the recorded answer, in every mode, so a recording run and its replays see the
 * same answers.
 *
 * ## The file
 * One JSON object per line: `{v: 1, key, kind: 'complete' | 'score', request, response,
 * recordedAt}`. `request` holds only the model, the messages and the parameters (or the prompt and
 * continuations), never a key or a provider option; `response` keeps the inner provider and model
 * that answered. Each record is written with one append of the full line, then `fdatasync`, one
 * write at a time; a run killed mid-write loses at most the line in flight. Reading, a last line
 * without its newline is such a cut: it is ignored, silently (its size is
 * {@link CassetteLanguageModel.truncatedBytes}), and cut off the file before the next append, so
 * the file stays valid JSONL. Any complete line that is not a valid record, or whose key does not
 * match its request, is a {@link MalformedFileError} naming the line: a cassette is never silently
 * half-read. An answer is checked as such a line before it is written (an inner model's empty text
 * is a {@link MalformedAnswerError}, recorded nowhere). Blank lines are skipped; of two records
 * with one key (two writers), the first is used. One process writes a cassette at a time.
 *
 * A replayed completion is the recorded one with `provider: 'cassette'` (and its recorded
 * `latencyMs`); `model` is the recorded model. The cassette's `model` is the inner model's name,
 * else `options.model`, else the one model recorded in the file.
 *
 * @example
 * const lm = await createLanguageModel({
 *   provider: 'cassette', path: 'runs/x/llm.jsonl', mode: 'record',
 *   inner: { provider: 'openai', model: 'gpt-4o-mini' } });
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { InvalidOptionError, MalformedFileError } from '../../../envs/core/errors.js';
import {
  CassetteMissError,
  LanguageModelError,
  MalformedAnswerError,
  checkCompletionRequest,
  checkScoreArguments,
  createLanguageModel,
  registerLanguageModelProvider,
  type ChatMessage,
  type Completion,
  type CompletionRequest,
  type LanguageModel,
  type LanguageModelCapabilities,
  type LanguageModelOptions,
  type ScoredContinuation,
  type TokenUsage,
} from '../language-model.js';

declare module '../language-model.js' {
  interface LanguageModelProviderOptions {
    cassette: CassetteProviderOptions;
  }
}

/** How a cassette treats a request it has no recording of; see the module comment. */
export type CassetteMode = 'record' | 'replay' | 'strict';

/** Options of the `cassette` provider. */
export interface CassetteProviderOptions {
  /** The JSONL file (created, with its folder, on the first record). */
  path: string;
  /** @defaultValue `'replay'` */
  mode?: CassetteMode;
  /**
   * The model that answers misses: an instance (the caller closes it) or provider options (built
   * here, except in strict mode, and closed with the cassette).
   */
  inner?: LanguageModel | LanguageModelOptions;
  /** The model whose recordings to use; must equal the inner model's name when both are given. */
  model?: string;
}

/** The parameters of a recorded completion request; absent ones are `null`. */
export interface CassetteParameters {
  temperature: number;
  maxTokens: number | null;
  stop: string[] | null;
  seed: number | null;
}

/** A recorded `complete`. */
export interface CompleteRecord {
  v: 1;
  key: string;
  kind: 'complete';
  request: { model: string; messages: ChatMessage[]; parameters: CassetteParameters };
  response: { text: string; usage: TokenUsage; latencyMs: number; provider: string; model: string };
  recordedAt: string;
}

/** A recorded `score`. */
export interface ScoreRecord {
  v: 1;
  key: string;
  kind: 'score';
  request: { model: string; prompt: string; continuations: string[] };
  response: { scores: ScoredContinuation[]; latencyMs: number; provider: string; model: string };
  recordedAt: string;
}

/** One line of a cassette. */
export type CassetteRecord = CompleteRecord | ScoreRecord;

const MODES: readonly CassetteMode[] = ['record', 'replay', 'strict'];
const OPTION_KEYS = ['path', 'mode', 'inner', 'model'];
const RECORD_KEYS = ['v', 'key', 'kind', 'request', 'response', 'recordedAt'];
const NEWLINE = 0x0a;

/** A language model that records and replays another; see the module comment. */
export class CassetteLanguageModel implements LanguageModel {
  readonly provider = 'cassette';
  readonly model: string;
  readonly capabilities: LanguageModelCapabilities;
  /** The cassette file. */
  readonly path: string;
  readonly mode: CassetteMode;
  /** Bytes of a cut last line ignored when the file was read (0 for an intact file). */
  readonly truncatedBytes: number;
  private readonly records: Map<string, CassetteRecord>;
  private readonly pending = new Map<string, Promise<CassetteRecord>>();
  private readonly inner: LanguageModel | undefined;
  private readonly ownsInner: boolean;
  /** Bytes of the file that hold complete lines: what an append must follow. */
  private validBytes: number;
  private needsRepair: boolean;
  private handle: FileHandle | undefined;
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(args: {
    path: string;
    mode: CassetteMode;
    model: string;
    inner: LanguageModel | undefined;
    ownsInner: boolean;
    records: Map<string, CassetteRecord>;
    validBytes: number;
    truncatedBytes: number;
  }) {
    this.path = args.path;
    this.mode = args.mode;
    this.model = args.model;
    this.inner = args.inner;
    this.ownsInner = args.ownsInner;
    this.records = args.records;
    this.validBytes = args.validBytes;
    this.truncatedBytes = args.truncatedBytes;
    this.needsRepair = args.truncatedBytes > 0;
    const recordedScores = [...args.records.values()].some(
      (r) => r.kind === 'score' && r.request.model === args.model,
    );
    this.capabilities = Object.freeze({
      complete: true,
      score: args.inner?.capabilities.score ?? recordedScores,
    });
  }

  /**
   * Reads the cassette (if the file exists) and builds the inner model when it may be asked.
   * @throws {@link InvalidOptionError} for a bad option; {@link MalformedFileError} for a bad line.
   */
  static async open(options: CassetteProviderOptions): Promise<CassetteLanguageModel> {
    const raw: unknown = options;
    if (!isRecord(raw))
      throw new InvalidOptionError('cassette options', hidden(raw), 'an object of options');
    for (const key of Object.keys(raw))
      if (!OPTION_KEYS.includes(key))
        throw new InvalidOptionError(
          `cassette.${key}`,
          hidden(raw[key]),
          `one of the known options (${OPTION_KEYS.join(', ')})`,
          'Unknown option',
        );
    const { path, mode = 'replay', inner, model: modelOption } = raw;
    if (typeof path !== 'string' || path.length === 0)
      throw new InvalidOptionError('cassette.path', path, 'a non-empty file path');
    if (!MODES.includes(mode as CassetteMode))
      throw new InvalidOptionError('cassette.mode', mode, `one of ${MODES.join(', ')}`);
    if (modelOption !== undefined && (typeof modelOption !== 'string' || modelOption.length === 0))
      throw new InvalidOptionError('cassette.model', modelOption, 'a non-empty string');
    const innerKind = describeInner(inner);
    if (mode === 'record' && innerKind === 'none')
      throw new InvalidOptionError(
        'cassette.inner',
        undefined,
        'a LanguageModel or provider options ({provider, ...})',
        'Mode "record" asks the inner model on a miss',
      );

    const { records, validBytes, truncatedBytes, exists } = await readCassette(path);
    if (!exists && (mode === 'strict' || innerKind === 'none'))
      throw new InvalidOptionError(
        'cassette.path',
        path,
        'an existing cassette file',
        `Mode "${mode as CassetteMode}"${mode === 'strict' ? '' : ' without inner'} never records: record it first with mode "record"`,
      );

    let model: LanguageModel | undefined;
    let ownsInner = false;
    if (innerKind === 'instance') model = inner as LanguageModel;
    else if (innerKind === 'options' && mode !== 'strict') {
      model = await createLanguageModel(inner as LanguageModelOptions);
      ownsInner = true;
    }
    const optionsModel =
      innerKind === 'options' && typeof (inner as Record<string, unknown>)['model'] === 'string'
        ? ((inner as Record<string, unknown>)['model'] as string)
        : undefined;
    const name = model?.model ?? modelOption ?? optionsModel ?? onlyModel(path, records);
    if (modelOption !== undefined && modelOption !== name)
      throw new InvalidOptionError(
        'cassette.model',
        modelOption,
        `the inner model's name "${name}" (or no model option)`,
      );
    return new CassetteLanguageModel({
      path,
      mode: mode as CassetteMode,
      model: name,
      // In strict mode an instance is kept for its name only: it is never called.
      inner: mode === 'strict' ? undefined : model,
      ownsInner,
      records,
      validBytes,
      truncatedBytes,
    });
  }

  /**
   * The recorded completion, or (on a miss, outside strict mode) the inner model's, recorded.
   * @throws {@link CassetteMissError} on a miss without an inner model to ask.
   */
  async complete(request: CompletionRequest): Promise<Completion> {
    const checked = checkCompletionRequest(request, 'complete request');
    this.checkOpen('complete');
    const recorded = {
      model: this.model,
      messages: checked.messages.map((m) => ({ role: m.role, content: m.content })),
      parameters: toParameters(checked),
    };
    const key = cassetteKey({ kind: 'complete', ...recorded });
    const record = await this.lookup(key, describeCompletion(checked), async () => {
      const inner = this.inner!;
      const answer = await inner.complete(checked);
      return {
        v: 1,
        key,
        kind: 'complete',
        request: recorded,
        response: {
          text: answer.text,
          usage: {
            promptTokens: answer.usage.promptTokens,
            completionTokens: answer.usage.completionTokens,
          },
          latencyMs: answer.latencyMs,
          provider: answer.provider,
          model: answer.model,
        },
        recordedAt: new Date().toISOString(),
      };
    });
    if (record.kind !== 'complete') throw this.kindMismatch(key, record.kind);
    const { text, usage, latencyMs, model } = record.response;
    return { text, usage: { ...usage }, latencyMs, provider: this.provider, model };
  }

  /**
   * The recorded scores, or (on a miss, outside strict mode) the inner model's, recorded.
   * @throws {@link CassetteMissError} on a miss without an inner model to ask.
   */
  async score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]> {
    checkScoreArguments(prompt, continuations, 'score');
    this.checkOpen('score');
    const recorded = { model: this.model, prompt, continuations: [...continuations] };
    const key = cassetteKey({ kind: 'score', ...recorded });
    const digest = `score of ${continuations.length} continuation(s) after ${clip(prompt, true)}`;
    const record = await this.lookup(key, digest, async () => {
      const inner = this.inner!;
      const started = performance.now();
      const scores = await inner.score(prompt, continuations);
      if (!Array.isArray(scores) || scores.length !== continuations.length)
        throw new LanguageModelError(
          this.provider,
          this.path,
          this.model,
          `the inner model (${inner.provider}) returned ${Array.isArray(scores) ? scores.length : typeof scores} scores for ${continuations.length} continuations`,
        );
      return {
        v: 1,
        key,
        kind: 'score',
        request: recorded,
        response: {
          scores: scores.map((s) => ({ logProb: s.logProb, tokens: s.tokens })),
          latencyMs: performance.now() - started,
          provider: inner.provider,
          model: inner.model,
        },
        recordedAt: new Date().toISOString(),
      };
    });
    if (record.kind !== 'score') throw this.kindMismatch(key, record.kind);
    return record.response.scores.map((s) => ({ ...s }));
  }

  /** Waits for the appends, closes the file, and the inner model if the cassette built it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending.values()]);
    await this.writes;
    await this.handle?.close();
    this.handle = undefined;
    if (this.ownsInner) await this.inner?.close();
  }

  private async lookup(
    key: string,
    digest: string,
    ask: () => Promise<CassetteRecord>,
  ): Promise<CassetteRecord> {
    const hit = this.records.get(key) ?? this.pending.get(key);
    if (hit !== undefined) return hit;
    if (this.inner === undefined) throw new CassetteMissError(this.path, this.model, key, digest);
    const asked = (async () => {
      const record = this.recordable(await ask());
      await this.append(record);
      this.records.set(key, record);
      return record;
    })();
    this.pending.set(key, asked);
    try {
      return await asked;
    } finally {
      this.pending.delete(key);
    }
  }

  /** The record as it will read back, checked as a line of the file is (NaN, empty text, ...). */
  private recordable(record: CassetteRecord): CassetteRecord {
    try {
      return parseRecord(this.path, 'the answer to record', JSON.stringify(record));
    } catch (error) {
      if (!(error instanceof MalformedFileError)) throw error;
      throw new MalformedAnswerError(
        this.provider,
        this.path,
        this.model,
        `the inner model (${record.response.provider}) answered what a cassette cannot record: ${error.message}`,
        { cause: error },
      );
    }
  }

  /** Appends one full line, then syncs; appends run one at a time. */
  private append(record: CassetteRecord): Promise<void> {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    const write = this.writes.then(async () => {
      try {
        const handle = await this.openForAppend();
        let written = 0;
        while (written < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
          written += bytesWritten;
        }
        await handle.datasync();
        this.validBytes += bytes.length;
      } catch (error) {
        this.needsRepair = true; // a part of the line may be on disk: cut it before the next append
        throw new LanguageModelError(
          this.provider,
          this.path,
          this.model,
          `cannot append to the cassette: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async openForAppend(): Promise<FileHandle> {
    if (this.handle === undefined) {
      await mkdir(dirname(this.path), { recursive: true });
      this.handle = await open(this.path, 'a');
    }
    if (this.needsRepair) {
      await this.handle.truncate(this.validBytes);
      this.needsRepair = false;
    }
    return this.handle;
  }

  private checkOpen(method: string): void {
    if (this.closed)
      throw new LanguageModelError(
        this.provider,
        this.path,
        this.model,
        `closed: expected an open cassette, received ${method}() after close()`,
      );
  }

  private kindMismatch(key: string, kind: string): LanguageModelError {
    return new LanguageModelError(
      this.provider,
      this.path,
      this.model,
      `the record of key ${key} is a "${kind}" record, not the kind of request asked`,
    );
  }
}

registerLanguageModelProvider('cassette', (options) =>
  CassetteLanguageModel.open(options as unknown as CassetteProviderOptions),
);

/** The key of a request: sha256 (hex) of its canonical JSON (see the module comment). */
export function cassetteKey(
  request:
    | ({ kind: 'complete' } & CompleteRecord['request'])
    | ({ kind: 'score' } & ScoreRecord['request']),
): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** JSON with object keys sorted at every depth and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value))
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function toParameters(request: CompletionRequest): CassetteParameters {
  return {
    temperature: request.temperature ?? 0,
    maxTokens: request.maxTokens ?? null,
    stop: request.stop === undefined || request.stop.length === 0 ? null : [...request.stop],
    seed: request.seed ?? null,
  };
}

function describeCompletion(request: CompletionRequest): string {
  const last = request.messages[request.messages.length - 1]!;
  const parts = [
    `${request.messages.length} message(s), last ${last.role}: ${clip(last.content, false)}`,
    `temperature ${request.temperature ?? 0}`,
  ];
  if (request.seed !== undefined) parts.push(`seed ${request.seed}`);
  if (request.maxTokens !== undefined) parts.push(`maxTokens ${request.maxTokens}`);
  return parts.join(', ');
}

/** A text cut to 60 characters (its end when `tail`), quoted. */
function clip(text: string, tail: boolean): string {
  if (text.length <= 60) return JSON.stringify(text);
  return tail
    ? `"…${JSON.stringify(text.slice(-60)).slice(1)}`
    : `${JSON.stringify(text.slice(0, 60)).slice(0, -1)}…"`;
}

function describeInner(inner: unknown): 'none' | 'instance' | 'options' {
  if (inner === undefined) return 'none';
  if (
    isRecord(inner) &&
    typeof inner['complete'] === 'function' &&
    typeof inner['score'] === 'function' &&
    typeof inner['model'] === 'string'
  )
    return 'instance';
  if (isRecord(inner) && typeof inner['provider'] === 'string') return 'options';
  throw new InvalidOptionError(
    'cassette.inner',
    hidden(inner),
    'a LanguageModel or provider options ({provider, ...})',
  );
}

function onlyModel(path: string, records: Map<string, CassetteRecord>): string {
  const models = [...new Set([...records.values()].map((r) => r.request.model))].sort();
  if (models.length === 1) return models[0]!;
  throw new InvalidOptionError(
    'cassette.model',
    undefined,
    models.length === 0
      ? `a model name (${path} holds no record to take it from)`
      : `one of the models recorded in ${path}: ${models.join(', ')}`,
    'Pass inner or model',
  );
}

// ---- reading a cassette -------------------------------------------------------------------------

async function readCassette(path: string): Promise<{
  records: Map<string, CassetteRecord>;
  validBytes: number;
  truncatedBytes: number;
  exists: boolean;
}> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      return { records: new Map(), validBytes: 0, truncatedBytes: 0, exists: false };
    throw error;
  }
  const validBytes = bytes.lastIndexOf(NEWLINE) + 1;
  const lines = bytes.subarray(0, validBytes).toString('utf8').split('\n');
  lines.pop(); // after the last newline
  const records = new Map<string, CassetteRecord>();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const record = parseRecord(path, `line ${i + 1}`, line);
    if (!records.has(record.key)) records.set(record.key, record);
  });
  return { records, validBytes, truncatedBytes: bytes.length - validBytes, exists: true };
}

/** Parses and checks one line; `where` names it in errors (`line 12`). */
function parseRecord(path: string, where: string, line: string): CassetteRecord {
  const at = (jsonPath: string): string => `${where} ${jsonPath}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new MalformedFileError(path, where, `not valid JSON (${(error as Error).message})`);
  }
  const fail = (jsonPath: string, expected: string, received: unknown): never => {
    throw new MalformedFileError(
      path,
      at(jsonPath),
      `expected ${expected}, received ${short(received)}`,
    );
  };
  if (!isRecord(value)) return fail('$', 'a record object', value);
  for (const key of Object.keys(value))
    if (!RECORD_KEYS.includes(key))
      fail(`$.${key}`, `only the fields ${RECORD_KEYS.join(', ')}`, key);
  const { v, key, kind, request, response, recordedAt } = value;
  if (v !== 1) fail('$.v', 'version 1', v);
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key))
    fail('$.key', 'a sha256 hex digest', key);
  if (typeof recordedAt !== 'string') fail('$.recordedAt', 'an ISO date string', recordedAt);
  if (!isRecord(request)) return fail('$.request', 'an object', request);
  if (!isRecord(response)) return fail('$.response', 'an object', response);
  const model = request['model'];
  if (typeof model !== 'string' || model.length === 0)
    fail('$.request.model', 'a model name', model);
  for (const field of ['provider', 'model'])
    if (typeof response[field] !== 'string')
      fail(`$.response.${field}`, 'a string', response[field]);
  const latency = response['latencyMs'];
  if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0)
    fail('$.response.latencyMs', 'a number >= 0', latency);

  let computed: string;
  if (kind === 'complete') {
    const parameters = request['parameters'];
    if (!isRecord(parameters)) return fail('$.request.parameters', 'an object', parameters);
    const { temperature, maxTokens, stop, seed } = parameters;
    try {
      checkCompletionRequest(
        {
          messages: request['messages'],
          temperature,
          ...(maxTokens === null ? {} : { maxTokens }),
          ...(stop === null ? {} : { stop }),
          ...(seed === null ? {} : { seed }),
        },
        'request',
      );
    } catch (error) {
      if (error instanceof InvalidOptionError)
        fail(`$.${error.option}`, error.allowed, error.received);
      throw error;
    }
    const text = response['text'];
    if (typeof text !== 'string' || text.length === 0)
      fail('$.response.text', 'a non-empty string', text);
    const usage = response['usage'];
    if (!isRecord(usage) || !isCount(usage['promptTokens']) || !isCount(usage['completionTokens']))
      fail('$.response.usage', '{promptTokens, completionTokens} (integers >= 0)', usage);
    computed = cassetteKey({
      kind,
      model: model as string,
      messages: request['messages'] as ChatMessage[],
      parameters: parameters as unknown as CassetteParameters,
    });
  } else if (kind === 'score') {
    const { prompt, continuations } = request;
    try {
      checkScoreArguments(prompt, continuations, 'request');
    } catch (error) {
      if (error instanceof InvalidOptionError)
        fail(`$.${error.option.replace(' ', '.')}`, error.allowed, error.received);
      throw error;
    }
    const scores = response['scores'];
    if (
      !Array.isArray(scores) ||
      scores.length !== (continuations as string[]).length ||
      !scores.every(
        (s) =>
          isRecord(s) &&
          typeof s['logProb'] === 'number' &&
          Number.isFinite(s['logProb']) &&
          isCount(s['tokens']),
      )
    )
      fail('$.response.scores', 'one {logProb, tokens} per continuation', scores);
    computed = cassetteKey({
      kind,
      model: model as string,
      prompt: prompt as string,
      continuations: continuations as string[],
    });
  } else return fail('$.kind', '"complete" or "score"', kind);
  if (computed !== key)
    fail('$.key', `the key of the request (${computed}); was the line edited?`, key);
  return value as unknown as CassetteRecord;
}

function short(value: unknown): string {
  const text =
    typeof value === 'string' ? value : inspect(value, { depth: 3, breakLength: Infinity });
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** What an error shows for a value that may hold a secret (inner options with a key): its type. */
function hidden(value: unknown): string {
  return `<${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not shown>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
