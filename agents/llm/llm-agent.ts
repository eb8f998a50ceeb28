/**
 * The pure language-model agent (the study's "traditional LLM agent"): each step it renders the
 * prompt of `prompts.ts` from the {@link ActContext} the loop hands it (the environment's TextView
 * and info, the episode's progress) and its own bounded history, asks a {@link LanguageModel},
 * and maps the answer to an action. It never holds or steps an environment, and it learns nothing.
 *
 * - `generate` mode (any provider): the reply goes down a fixed parse ladder ({@link parseReply}):
 *   an `Action:` tag (a ReAct "Thought: ... Action: ..." reply included), then an exact match among
 *   `commands()`, then the env's `parseCommand` (on lead-in-stripped sentences: "I will go north."),
 *   then a single admissible command named in the reply. A parsed action outside the action mask is
 *   not admissible. An unusable reply is answered with the reason as a follow-up message and asked
 *   again, up to `maxRetries` times; then a random admissible command is taken (seeded generator)
 *   and counted in `llm/invalid_actions`.
 * - `rank` mode (providers with `capabilities.score`): one `score` call per step over the
 *   admissible commands after the plain prompt; the highest log-probability wins (divided by the
 *   command's token count with `lengthNormalise`). Continuous actions have command *forms*
 *   (`torque <-2..2>`), not a list to rank: `rank` needs `candidates` (concrete commands such as
 *   `torque -2`, `torque 0`, `torque 2`) there, and `create` refuses a Box action space without them.
 * - Request seeds: `deriveSeed(seed, envId, phase, envIndex, episode, step, attempt)`, never the clock.
 * - Metrics (see {@link LlmAgent.metrics}): `llm/steps`, `llm/calls`, `llm/prompt_tokens`,
 *   `llm/completion_tokens`, `llm/latency_ms` (as the provider reports it: a cassette replays it),
 *   `llm/retries`, `llm/parse_failures`, `llm/invalid_actions`; rank mode: `llm/scored_tokens` and
 *   `time/llm_latency_ms` (measured here, so under the wall-clock prefix). Summed per episode
 *   ({@link LlmAgent.episodeMetrics}, on each episode's line) and per log interval (train steps).
 * - History: per sub-environment and loop (`train` / `evaluate`), the episode's turns (command,
 *   and the env's `info.feedback` to it), the last `historyLength` kept; a new episode (context
 *   `episodeStep` 0) clears it. `save`/`load` keep histories, counters and the generator, so a
 *   resumed run asks what the uninterrupted one would have.
 *
 * @example
 * const model = await createLanguageModel({ provider: 'local' });
 * const agent = LlmAgent.create(spacesOf(env), { model, mode: 'generate', seed: 1 });
 * const { meanReturn } = await evaluate(agent, env, { episodes: 5, seed: 3 });
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../envs/core/atomic.js';
import type { TextView } from '../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
  formatValue,
} from '../../envs/core/errors.js';
import { Rng, isRngState, type RngState } from '../../envs/core/rng.js';
import { Box, Discrete, type AnySpace } from '../../envs/core/space.js';
import type {
  ActBatchOptions,
  ActContext,
  ActOptions,
  ActPhase,
  Agent,
  EnvSpaces,
  Metrics,
  Transition,
} from '../agent.js';
import { resolveConfig, type ConfigRules } from '../options.js';
import { checkMask } from '../spaces.js';
import {
  MalformedAnswerError,
  deriveSeed,
  type ChatMessage,
  type LanguageModel,
} from './language-model.js';
import {
  DEFAULT_HISTORY_LENGTH,
  advanceTurns,
  continuationOf,
  promptInputOf,
  recordTurn,
  renderPrompt,
  retryMessage,
  sortCommands,
  type HistoryTurn,
  type PromptInput,
} from './prompts.js';

/** How the agent turns the model into an action. */
export type LlmMode = 'generate' | 'rank';

/** Config of {@link LlmAgent} (what `config.json` records; the model by its names). */
export interface LlmConfig {
  /** The model's provider (recorded from the model). */
  provider: string;
  /** The model's name (recorded from the model). */
  model: string;
  /** `generate` (any provider) or `rank` (providers with `score`). @defaultValue 'generate' */
  mode: LlmMode;
  /** Turns of history in the prompt. @defaultValue 16 */
  historyLength: number;
  /** Follow-up questions after an unusable reply, before a random admissible command. @defaultValue 2 */
  maxRetries: number;
  /** Rank by log-probability per token instead of in total. @defaultValue true */
  lengthNormalise: boolean;
  /** Ask for "Thought: ..." then "Action: ..." (generate mode). @defaultValue false */
  react: boolean;
  /** Sampling temperature. @defaultValue 0 */
  temperature: number;
  /** Most tokens of a reply. @defaultValue 64, or 256 with `react` */
  maxTokens: number;
  /** Stop sequences of a reply. @defaultValue ["\n"] (the answer is on the cue's line), or [] with `react` */
  stop: string[];
  /** Commands `rank` scores instead of `commands()` (needed for continuous actions); null: `commands()`. @defaultValue null */
  candidates: string[] | null;
  /** Seed of request seeds and of the fallback generator. @defaultValue 1 */
  seed: number;
}

/** Options of {@link LlmAgent.create}: the model, and any subset of {@link LlmConfig}. */
export type LlmOptions = Partial<Omit<LlmConfig, 'provider' | 'model'>> & {
  /** The language model to ask (the caller keeps and closes it). */
  model: LanguageModel;
};

/** Defaults of {@link LlmConfig} (without the model's names). */
export const LLM_DEFAULTS: Readonly<Omit<LlmConfig, 'provider' | 'model'>> = Object.freeze({
  mode: 'generate',
  historyLength: DEFAULT_HISTORY_LENGTH,
  maxRetries: 2,
  lengthNormalise: true,
  react: false,
  temperature: 0,
  maxTokens: 64,
  stop: ['\n'],
  candidates: null,
  seed: 1,
});

type ScalarConfig = Omit<LlmConfig, 'provider' | 'model' | 'stop' | 'candidates'>;

const RULES: ConfigRules<ScalarConfig> = {
  mode: { kind: 'choice', values: ['generate', 'rank'] },
  historyLength: { kind: 'number', integer: true, min: 0, max: 10_000 },
  maxRetries: { kind: 'number', integer: true, min: 0, max: 100 },
  lengthNormalise: { kind: 'boolean' },
  react: { kind: 'boolean' },
  temperature: { kind: 'number', min: 0, max: 2 },
  maxTokens: { kind: 'number', integer: true, min: 1, max: 100_000 },
  seed: { kind: 'seed' },
};

// ---------------------------------------------------------------------------------------------
// The parse ladder

/** What {@link parseReply} maps a reply against: the admissible commands and the env's parser. */
export interface ReplyTarget<A> {
  /** The admissible commands now (`commands()`). */
  commands: readonly string[];
  /** The env's parser (`parseCommand`); throws for text it cannot map. */
  parseCommand: (text: string) => A;
  /** Allowed actions (index `action - start` of a Discrete space), 1 = allowed. */
  actionMask?: Uint8Array | undefined;
  /** The first action of a Discrete space (masks are indexed from it). @defaultValue 0 */
  maskStart?: number;
}

/** Which rung of the ladder mapped a reply. */
export type ReplyRung = 'exact' | 'parse' | 'mention';

/** A reply mapped to an action. */
export interface ParsedReply<A> {
  ok: true;
  action: A;
  /** The command taken, as the history records it (the admissible command, or the text parsed). */
  command: string;
  rung: ReplyRung;
  /** True if the command came from an `Action:` tag. */
  tagged: boolean;
}

/** A reply nothing usable could be read from. */
export interface UnusableReply {
  ok: false;
  /** Why, for the follow-up message (the parse error's message, or what was not admissible). */
  reason: string;
}

/**
 * Maps a model's reply to an action, down a fixed ladder:
 * 1. tag: the text after the first `Action:` (at a line start, or capitalised after a ReAct
 *    "Thought: ..."; `Command:` too) is the candidate; without a tag the whole reply is;
 * 2. exact: a piece of the candidate (all of it, each line, each sentence or clause after a colon — bullets, quotes,
 *    markdown, end punctuation and lead-ins such as "I will" / "Let's" stripped) equal to an
 *    admissible command, ignoring case and spacing;
 * 3. parse: the env's `parseCommand` on those pieces, in the same order (first-person sentences
 *    such as "I am not sure" are skipped: they are talk, not commands);
 * 4. mention: exactly one admissible command named in the candidate as a phrase.
 * An action outside `actionMask` is not admissible (the ladder goes on to the next piece).
 */
export function parseReply<A>(
  reply: string,
  target: ReplyTarget<A>,
): ParsedReply<A> | UnusableReply {
  if (typeof reply !== 'string' || reply.trim() === '')
    return { ok: false, reason: 'the reply is empty' };
  const tag = findTag(reply);
  const candidate = tag ?? reply;
  const tagged = tag !== undefined;
  const pieces = piecesOf(candidate);
  if (pieces.length === 0)
    return {
      ok: false,
      reason: tagged ? 'the Action: tag is followed by nothing' : 'the reply is empty',
    };
  const commands = sortCommands(target.commands);
  const byKey = new Map<string, string>();
  for (const c of commands) if (!byKey.has(keyOf(c))) byKey.set(keyOf(c), c);

  let firstReason: string | undefined;
  let inadmissible: string | undefined;
  const attempt = (text: string, command: string, rung: ReplyRung): ParsedReply<A> | undefined => {
    let action: A;
    try {
      action = target.parseCommand(text);
    } catch (error) {
      firstReason ??= error instanceof Error ? error.message : String(error);
      return undefined;
    }
    if (!allowed(action, target)) {
      inadmissible ??= `"${text}" is not admissible now (admissible: ${commands.join(', ') || 'none'})`;
      return undefined;
    }
    return { ok: true, action, command, rung, tagged };
  };

  for (const piece of pieces) {
    const command = byKey.get(keyOf(piece));
    if (command === undefined) continue;
    const parsed = attempt(command, command, 'exact');
    if (parsed !== undefined) return parsed;
  }
  for (const piece of pieces) {
    // A first-person sentence is talk, not a command (TextWorld's parser reads "I ..." as "i", inventory).
    if (FIRST_PERSON.test(piece)) continue;
    const parsed = attempt(piece, piece, 'parse');
    if (parsed !== undefined) return parsed;
  }
  const named = mentioned(candidate, commands);
  if (named.length === 1) {
    const parsed = attempt(named[0]!, named[0]!, 'mention');
    if (parsed !== undefined) return parsed;
  }
  if (named.length > 1)
    return {
      ok: false,
      reason: `the reply names several admissible commands (${named.join(', ')}); give exactly one`,
    };
  return { ok: false, reason: inadmissible ?? firstReason ?? 'no admissible command in the reply' };
}

const FIRST_PERSON = /^(?:i|i'm|i've|i'd|i'll|we|we're|we'll|me|my)\s+\S/i;

const TAG_AT_LINE_START = /(?:^|\n)[ \t]*[*_#>`-]*[ \t]*(?:action|command)[ \t]*[*_]*[ \t]*:/i;
const TAG_CAPITALISED = /\b(?:Action|ACTION|Command|COMMAND)[ \t]*[*_]*[ \t]*:/;

/** The text after the first `Action:` tag (its line, or the next non-empty line), or undefined. */
function findTag(reply: string): string | undefined {
  const a = TAG_AT_LINE_START.exec(reply);
  const b = TAG_CAPITALISED.exec(reply);
  const ends = [a, b]
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m.index + m[0].length);
  if (ends.length === 0) return undefined;
  const rest = reply.slice(Math.min(...ends));
  const lines = rest.split('\n');
  const first = lines[0]!.trim();
  if (clean(first) !== '') return first;
  return (
    lines
      .slice(1)
      .find((l) => clean(l) !== '')
      ?.trim() ?? ''
  );
}

/** The candidate's pieces in ladder order: all of it, each line, each sentence; cleaned, deduplicated. */
function piecesOf(candidate: string): string[] {
  const raw: string[] = [candidate];
  const lines = candidate.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 1) raw.push(...lines);
  for (const line of lines) {
    const sentences = line.split(/(?<=[.!?;:])\s+/);
    if (sentences.length > 1) raw.push(...sentences);
  }
  const out: string[] = [];
  for (const r of raw) {
    const piece = withoutLeadIn(clean(r));
    if (piece !== '' && !out.includes(piece)) out.push(piece);
  }
  return out;
}

/** Strips bullets, surrounding quotes / backticks / emphasis and end punctuation; one line. */
function clean(text: string): string {
  let t = text.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 3; i++) {
    t = t
      .replace(/^(?:[-*•>]\s+|[*_`"'“”‘’]+)/, '')
      .replace(/(?:[*_`"'“”‘’]+|[.!?;,:]+)$/, '')
      .trim();
  }
  return t;
}

const LEAD_IN = new RegExp(
  '^(?:(?:so|ok|okay|well|then|next|now|therefore|thus|alright|first)[,:]?\\s+)*' +
    '(?:' +
    [
      "i(?:'ll| will| shall| should| must| would| want to| choose to| decide to| am going to|'m going to| would like to|'d like to| think i (?:will|should)| need to)",
      'i (?:choose|pick|select)',
      "let's|let me|let us|we (?:should|will)",
      'my (?:next )?(?:action|command|move|choice|answer) (?:is|will be)',
      'the (?:best|next|right) (?:action|command|move) (?:is|would be|will be)',
    ].join('|') +
    ')[:,]?\\s+(?:to\\s+)?',
  'i',
);

function withoutLeadIn(text: string): string {
  return clean(text.replace(LEAD_IN, ''));
}

function keyOf(text: string): string {
  return clean(text).toLowerCase();
}

/** Admissible commands named in `text` as whole phrases, those inside a longer one left out. */
function mentioned(text: string, commands: readonly string[]): string[] {
  const haystack = ` ${text.toLowerCase().replace(/[^a-z0-9<>.-]+/g, ' ')} `;
  const found = commands.filter((c) => {
    const needle = c
      .toLowerCase()
      .replace(/[^a-z0-9<>.-]+/g, ' ')
      .trim();
    return needle !== '' && haystack.includes(` ${needle} `);
  });
  return found.filter(
    (c) => !found.some((d) => d !== c && d.toLowerCase().includes(c.toLowerCase())),
  );
}

function allowed<A>(action: A, target: ReplyTarget<A>): boolean {
  const mask = target.actionMask;
  if (mask === undefined || !mask.includes(1) || typeof action !== 'number') return true;
  return mask[action - (target.maskStart ?? 0)] === 1;
}

// ---------------------------------------------------------------------------------------------
// The agent

interface Counters {
  steps: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  scoredTokens: number;
  latencyMs: number;
  scoreMs: number;
  retries: number;
  parseFailures: number;
  invalidActions: number;
}

/** One sub-environment's episode as the agent follows it (per loop). */
interface Stream {
  /** Index of the current episode (0 for the first); -1 before any. */
  episode: number;
  history: HistoryTurn[];
  /** Turns dropped from the front of `history`. */
  omitted: number;
  sums: Counters;
}

/** What one step's asking produced, before the fallback draw (kept apart so `actBatch` asks at once). */
interface Choice<A> {
  stream: Stream;
  phase: ActPhase;
  /** A step the vector environment ignores: nothing recorded. */
  ignored: boolean;
  action: A | undefined;
  command: string;
  counted: Counters;
  /** For the fallback: the admissible commands and the mask. */
  commands: readonly string[];
  target: ReplyTarget<A>;
}

interface LlmSave {
  format: 'wmgym-agent';
  kind: 'llm';
  config: LlmConfig;
  actionSpace: unknown;
  rng: RngState;
  streams: Record<string, Stream>;
  totals: Counters;
}

/** The pure language-model agent; see the module comment. */
export class LlmAgent<O = unknown, A = unknown> implements Agent<O, A> {
  readonly kind = 'llm';
  readonly config: Readonly<LlmConfig>;
  private readonly model: LanguageModel;
  private readonly actionSpace: AnySpace;
  private readonly numEnvs: number;
  private rng: Rng;
  private streams = new Map<string, Stream>();
  /** Train-loop counters since the last {@link LlmAgent.metrics} call. */
  private totals: Counters = zeroCounters();

  private constructor(spaces: EnvSpaces<O, A>, model: LanguageModel, config: LlmConfig) {
    this.config = Object.freeze({
      ...config,
      stop: Object.freeze([...config.stop]) as string[],
      candidates:
        config.candidates === null ? null : (Object.freeze([...config.candidates]) as string[]),
    });
    this.model = model;
    this.actionSpace = spaces.actionSpace as AnySpace;
    this.numEnvs = spaces.numEnvs ?? 1;
    this.rng = new Rng(config.seed);
  }

  /**
   * A language-model agent for `spaces`.
   * @throws {@link InvalidOptionError} for a missing or malformed model, an unknown option, a bad
   * value, `rank` with a model without `score`, `rank` with `react`, or `rank` on a continuous
   * action space without `candidates`.
   */
  static create<O, A>(spaces: EnvSpaces<O, A>, options: LlmOptions): LlmAgent<O, A> {
    if (typeof options !== 'object' || (options as unknown) === null)
      throw new InvalidOptionError('LlmAgent options', options, 'an object with a model');
    const { model, stop, candidates, ...rest } = options;
    checkModel(model);
    const scalars = resolveConfig<ScalarConfig>('LlmAgent', LLM_DEFAULTS, RULES, rest);
    if (rest.maxTokens === undefined && scalars.react) scalars.maxTokens = 256;
    const config: LlmConfig = {
      provider: model.provider,
      model: model.model,
      ...scalars,
      stop: checkStrings(stop ?? (scalars.react ? [] : LLM_DEFAULTS.stop), 'LlmAgent.stop', true),
      candidates:
        candidates === undefined || candidates === null
          ? null
          : checkStrings(candidates, 'LlmAgent.candidates', false),
    };
    if (config.mode === 'rank') {
      if (!model.capabilities.score)
        throw new InvalidOptionError(
          'LlmAgent.mode',
          'rank',
          `"generate" for ${model.model} (${model.provider}), whose capabilities.score is false`,
        );
      if (config.react)
        throw new InvalidOptionError(
          'LlmAgent.react',
          true,
          'false in rank mode (nothing is generated)',
        );
      if (spaces.actionSpace instanceof Box && config.candidates === null)
        throw new InvalidOptionError(
          'LlmAgent.candidates',
          null,
          `a list of concrete commands to rank (e.g. ["torque -2", "torque 0", "torque 2"]) for the continuous action space ${String(spaces.actionSpace)}, whose commands() are forms; or mode "generate"`,
        );
    }
    return new LlmAgent(spaces, model, config);
  }

  async act(observation: O, options: ActOptions = {}): Promise<A> {
    const envIndex = options.envIndex ?? 0;
    const choice = await this.choose(observation, options.actionMask, envIndex, options.context);
    return this.finish(choice);
  }

  /** Asks the model for every sub-environment at once, then draws fallbacks in index order. */
  async actBatch(observations: readonly O[], options: ActBatchOptions = {}): Promise<A[]> {
    const choices = await Promise.all(
      observations.map((observation, i) =>
        this.choose(observation, options.actionMasks?.[i], i, options.contexts?.[i]),
      ),
    );
    return choices.map((choice) => this.finish(choice));
  }

  /** Nothing to learn: the history is kept from what `act` sees. */
  observe(_transition: Transition<O, A>): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to learn. */
  observeBatch(_transitions: readonly (Transition<O, A> | null)[]): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Train-loop sums since the last call (steps acted, calls, tokens, latency, retries, unusable
   * replies, random fallbacks), then cleared; nothing when no step was taken. Evaluation steps are
   * in {@link LlmAgent.episodeMetrics} only.
   */
  metrics(): Metrics {
    const out = this.totals.steps === 0 ? {} : this.metricsOf(this.totals);
    this.totals = zeroCounters();
    return out;
  }

  /** The sums of the episode that just ended in sub-environment `envIndex` of `phase`, then cleared. */
  episodeMetrics(envIndex: number, phase: ActPhase): Metrics {
    const stream = this.streams.get(streamKey(phase, envIndex));
    if (stream === undefined) return {};
    const out = this.metricsOf(stream.sums);
    stream.sums = zeroCounters();
    return out;
  }

  save(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const saved: LlmSave = {
      format: 'wmgym-agent',
      kind: 'llm',
      config: {
        ...this.config,
        stop: [...this.config.stop],
        candidates: this.config.candidates === null ? null : [...this.config.candidates],
      },
      actionSpace: this.actionSpace.toJSON(),
      rng: this.rng.getState(),
      streams: Object.fromEntries(this.streams),
      totals: { ...this.totals },
    };
    writeJsonAtomic(join(dir, 'agent.json'), saved);
    return Promise.resolve();
  }

  load(dir: string): Promise<void> {
    try {
      this.restore(join(dir, 'agent.json'));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // ---- one step ---------------------------------------------------------------------------

  private async choose(
    _observation: O, // the agent reads the environment's text, not its observation
    actionMask: Uint8Array | undefined,
    envIndex: number,
    context: ActContext | undefined,
  ): Promise<Choice<A>> {
    if (!Number.isSafeInteger(envIndex) || envIndex < 0 || envIndex >= this.numEnvs)
      throw new InvalidOptionError(
        'LlmAgent act options.envIndex',
        envIndex,
        `an integer in 0..${this.numEnvs - 1} (the agent was created for numEnvs = ${this.numEnvs}; create it with spacesOf(env) for a vector environment)`,
      );
    checkContext(context);
    const space = this.actionSpace;
    const mask = space instanceof Discrete ? checkMask(actionMask, space.n) : undefined;
    const target: ReplyTarget<A> = {
      commands: [],
      parseCommand: (text) => context.textView.parseCommand(text) as A,
      actionMask: mask,
      maskStart: space instanceof Discrete ? space.start : 0,
    };
    const key = streamKey(context.phase, envIndex);
    let stream = this.streams.get(key);
    if (stream === undefined) {
      stream = { episode: -1, history: [], omitted: 0, sums: zeroCounters() };
      this.streams.set(key, stream);
    }
    const counted = zeroCounters();
    const phase = context.phase;
    if (context.autoreset) {
      const action = this.ignoredAction();
      return { stream, phase, ignored: true, action, command: '', counted, commands: [], target };
    }

    if (advanceTurns(stream, context)) {
      stream.episode++;
      stream.sums = zeroCounters();
    }
    const input = promptInputOf(context, stream, {
      historyLength: this.config.historyLength,
      react: this.config.react,
    });
    const commands = [...input.commands];
    target.commands = commands;
    const seedParts = [
      this.config.seed,
      context.envId,
      context.phase,
      envIndex,
      stream.episode,
      context.episodeStep,
    ] as const;
    const chosen =
      this.config.mode === 'rank'
        ? await this.rank(input, target, counted)
        : await this.generate(input, target, counted, seedParts);
    return { stream, phase, ignored: false, ...chosen, counted, commands, target };
  }

  /** Asks, parses, and asks again with the reason, up to `maxRetries` times. */
  private async generate(
    input: PromptInput,
    target: ReplyTarget<A>,
    counted: Counters,
    seedParts: readonly (string | number)[],
  ): Promise<{ action: A | undefined; command: string }> {
    const { temperature, maxTokens, stop, maxRetries, react } = this.config;
    const messages: ChatMessage[] = [{ role: 'user', content: renderPrompt(input) }];
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      let reply: string;
      counted.calls++;
      try {
        const completion = await this.model.complete({
          messages,
          temperature,
          maxTokens,
          stop,
          seed: deriveSeed(...seedParts, attempt),
        });
        reply = completion.text;
        counted.promptTokens += completion.usage.promptTokens;
        counted.completionTokens += completion.usage.completionTokens;
        counted.latencyMs += completion.latencyMs;
      } catch (error) {
        if (!(error instanceof MalformedAnswerError)) throw error;
        reply = ''; // an empty or malformed answer is an unusable reply like any other
      }
      const parsed = parseReply(reply, target);
      if (parsed.ok) return { action: parsed.action, command: parsed.command };
      counted.parseFailures++;
      if (attempt === maxRetries) break;
      counted.retries++;
      if (reply.trim() !== '') messages.push({ role: 'assistant', content: reply });
      messages.push({ role: 'user', content: retryMessage(reply, parsed.reason, react) });
    }
    return { action: undefined, command: '' };
  }

  /** One `score` call over the candidates; the best admissible one. */
  private async rank(
    input: PromptInput,
    target: ReplyTarget<A>,
    counted: Counters,
  ): Promise<{ action: A | undefined; command: string }> {
    const candidates = this.config.candidates ?? [...input.commands];
    const form = candidates.find((c) => /<[^<>]*>/.test(c));
    if (form !== undefined)
      throw new InvalidOptionError(
        'LlmAgent.candidates',
        form,
        `concrete commands to rank in ${input.envId}, whose commands() are forms; pass candidates such as "torque 1" or use mode "generate"`,
      );
    if (candidates.length === 0) return { action: undefined, command: '' };
    const started = performance.now();
    const scores = await this.model.score(
      renderPrompt({ ...input, react: false }),
      candidates.map(continuationOf),
    );
    counted.scoreMs += performance.now() - started;
    counted.calls++;
    if (
      !Array.isArray(scores) ||
      scores.length !== candidates.length ||
      !scores.every(
        (s) =>
          typeof s.logProb === 'number' &&
          !Number.isNaN(s.logProb) &&
          s.logProb <= 0 &&
          Number.isSafeInteger(s.tokens) &&
          s.tokens > 0,
      )
    ) {
      throw new MalformedAnswerError(
        this.model.provider,
        '',
        this.model.model,
        `score() for ${candidates.length} continuations: expected ${candidates.length} {logProb <= 0, tokens >= 1}, received ${formatValue(scores)}`,
      );
    }
    for (const s of scores) counted.scoredTokens += s.tokens;
    const order = candidates
      .map((command, i) => ({
        command,
        i,
        value: this.config.lengthNormalise
          ? scores[i]!.logProb / scores[i]!.tokens
          : scores[i]!.logProb,
      }))
      .sort((a, b) => b.value - a.value || a.i - b.i);
    for (const { command } of order) {
      try {
        const action = target.parseCommand(command);
        if (allowed(action, target)) return { action, command };
      } catch {
        // A candidate this state cannot parse is skipped; the next best is tried.
      }
    }
    return { action: undefined, command: '' };
  }

  /** Records the turn and the counters; draws a random admissible command when nothing was usable. */
  private finish(choice: Choice<A>): A {
    const { stream, counted } = choice;
    let { action, command } = choice;
    if (choice.ignored && action !== undefined) return action;
    if (action === undefined) {
      ({ action, command } = this.fallback(choice.commands, choice.target));
      counted.invalidActions++;
    }
    counted.steps++;
    recordTurn(stream, command, this.config.historyLength);
    addCounters(stream.sums, counted);
    if (choice.phase === 'train') addCounters(this.totals, counted);
    return action;
  }

  /** A random admissible command (or, for command forms, a random action of the space). */
  private fallback(
    commands: readonly string[],
    target: ReplyTarget<A>,
  ): { action: A; command: string } {
    const concrete = commands.filter((c) => !/<[^<>]*>/.test(c));
    if (concrete.length > 0) {
      const command = this.rng.choice(concrete);
      try {
        const action = target.parseCommand(command);
        if (allowed(action, target)) return { action, command };
      } catch {
        // An admissible command the parser rejects: fall through to the space.
      }
    }
    const space = this.actionSpace;
    const action = (
      space instanceof Discrete && target.actionMask !== undefined
        ? space.sample(this.rng, target.actionMask)
        : space.sample(this.rng)
    ) as A;
    return { action, command: '(a random action)' };
  }

  /** Any action of the space, for a step the vector environment ignores (no generator drawn). */
  private ignoredAction(): A {
    const space = this.actionSpace;
    if (space instanceof Discrete) return space.start as A;
    if (space instanceof Box)
      return Float32Array.from(space.low, (low, k) =>
        Math.min(Math.max(0, low), space.high[k]!),
      ) as A;
    return space.sample(new Rng(0)) as A;
  }

  private metricsOf(c: Counters): Metrics {
    if (this.config.mode === 'rank') {
      return {
        'llm/steps': c.steps,
        'llm/calls': c.calls,
        'llm/scored_tokens': c.scoredTokens,
        'llm/invalid_actions': c.invalidActions,
        'time/llm_latency_ms': round3(c.scoreMs),
      };
    }
    return {
      'llm/steps': c.steps,
      'llm/calls': c.calls,
      'llm/prompt_tokens': c.promptTokens,
      'llm/completion_tokens': c.completionTokens,
      'llm/latency_ms': round3(c.latencyMs),
      'llm/retries': c.retries,
      'llm/parse_failures': c.parseFailures,
      'llm/invalid_actions': c.invalidActions,
    };
  }

  private restore(file: string): void {
    if (!existsSync(file))
      throw new MalformedFileError(file, '$', 'expected a saved agent, received no file');
    let parsed: { [K in keyof LlmSave]?: unknown } | null;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as { [K in keyof LlmSave]?: unknown } | null;
    } catch (error) {
      throw new MalformedFileError(file, '$', 'not valid JSON', { cause: error });
    }
    if (parsed?.format !== 'wmgym-agent' || parsed.kind !== 'llm')
      throw new MalformedFileError(
        file,
        '$.kind',
        `expected a saved llm agent, received ${formatValue(parsed?.kind)}`,
      );
    if (JSON.stringify(parsed.actionSpace) !== JSON.stringify(this.actionSpace.toJSON()))
      throw new InvalidStateError(
        `LlmAgent from ${file}`,
        `action space ${String(this.actionSpace)}`,
        parsed.actionSpace,
      );
    if (!isRngState(parsed.rng))
      throw new MalformedFileError(file, '$.rng', 'expected a generator state');
    if (!isCounters(parsed.totals))
      throw new MalformedFileError(file, '$.totals', 'expected the agent counters');
    const streams = parsed.streams;
    if (typeof streams !== 'object' || streams === null || Array.isArray(streams))
      throw new MalformedFileError(file, '$.streams', 'expected an object of episode streams');
    const restored = new Map<string, Stream>();
    for (const [key, value] of Object.entries(streams as Record<string, unknown>)) {
      if (!/^(?:train|evaluate):\d+$/.test(key) || !isStream(value))
        throw new MalformedFileError(
          file,
          `$.streams[${JSON.stringify(key)}]`,
          'expected {episode, history: [{command, feedback?}], omitted, sums} under "train:<i>" or "evaluate:<i>"',
        );
      restored.set(key, value);
    }
    this.rng = Rng.fromState(parsed.rng);
    this.streams = restored;
    this.totals = parsed.totals;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function streamKey(phase: ActPhase, envIndex: number): string {
  return `${phase}:${envIndex}`;
}

function zeroCounters(): Counters {
  return {
    steps: 0,
    calls: 0,
    promptTokens: 0,
    completionTokens: 0,
    scoredTokens: 0,
    latencyMs: 0,
    scoreMs: 0,
    retries: 0,
    parseFailures: 0,
    invalidActions: 0,
  };
}

function addCounters(into: Counters, add: Counters): void {
  for (const key of Object.keys(into) as (keyof Counters)[]) into[key] += add[key];
}

function isCounters(value: unknown): value is Counters {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Object.keys(zeroCounters()).every(
    (k) => typeof v[k] === 'number' && Number.isFinite(v[k]),
  );
}

function isStream(value: unknown): value is Stream {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof Stream, unknown>>;
  return (
    Number.isSafeInteger(v.episode) &&
    Number.isSafeInteger(v.omitted) &&
    isCounters(v.sums) &&
    Array.isArray(v.history) &&
    v.history.every(
      (t: unknown) =>
        typeof t === 'object' &&
        t !== null &&
        typeof (t as HistoryTurn).command === 'string' &&
        ((t as HistoryTurn).feedback === undefined ||
          typeof (t as HistoryTurn).feedback === 'string'),
    )
  );
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function checkModel(model: unknown): asserts model is LanguageModel {
  const m = model as Partial<LanguageModel> | null | undefined;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.complete !== 'function' ||
    typeof m.score !== 'function' ||
    typeof m.provider !== 'string' ||
    typeof m.model !== 'string' ||
    typeof m.capabilities !== 'object'
  ) {
    throw new InvalidOptionError(
      'LlmAgent.model',
      model,
      'a LanguageModel (provider, model, capabilities, complete, score), e.g. from createLanguageModel()',
    );
  }
}

function checkStrings(value: unknown, option: string, allowEmpty: boolean): string[] {
  if (
    !Array.isArray(value) ||
    (!allowEmpty && value.length === 0) ||
    !value.every((v) => typeof v === 'string' && v !== '')
  ) {
    throw new InvalidOptionError(
      option,
      value,
      `an array of non-empty strings${allowEmpty ? '' : ' (at least one)'}`,
    );
  }
  return [...(value as string[])];
}

function checkContext(context: ActContext | undefined): asserts context is ActContext {
  const c = context as Partial<ActContext> | undefined;
  const view = c?.textView as Partial<TextView<unknown>> | undefined;
  if (
    typeof c !== 'object' ||
    typeof view?.describe !== 'function' ||
    typeof view.commands !== 'function' ||
    typeof view.parseCommand !== 'function' ||
    typeof c.info !== 'object' ||
    typeof c.envId !== 'string' ||
    !Number.isSafeInteger(c.episodeStep) ||
    (c.phase !== 'train' && c.phase !== 'evaluate')
  ) {
    throw new InvalidOptionError(
      'LlmAgent act options.context',
      context,
      "the observation's ActContext (textView, info, envId, phase, episodeStep, ...), which train() and evaluate() pass",
      'The language-model agent reads the environment through its TextView',
    );
  }
}
