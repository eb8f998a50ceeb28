/**
 * The `local` provider: wmgym-lm ({@link WmgymLm}), the small model the suite trains on its own
 * games' text, run in-process on the suite's tensor backend — the offline default. It completes
 * and scores (`capabilities.score` is true).
 *
 * ## Prompt template
 * The end-of-text token, then the messages' contents in order, joined by one newline; roles are
 * not written, and the reply continues the last message directly:
 * ```
 * <|endoftext|>{system content}
 * {user content}
 * ```
 * (`<|endoftext|>` is the token, not its spelling). This is the layout wmgym-lm's corpus is written
 * in — the agent's prompts (./prompts.ts, `renderTrainingExample`: the prompt, then the command)
 * and the language prior's (./prior.ts, `renderPriorExample`: the system text, a newline, the
 * question, then the answer), each document after an end-of-text token — so a request reads
 * exactly as the model's training text did. {@link renderLocalPrompt} writes it. A prompt longer
 * than the model's context keeps its end.
 *
 * ## Replies
 * The generated text exactly as the model wrote it, up to the end-of-text token, the first of the
 * request's `stop` strings (not included) or `maxTokens` tokens. A reply that is empty or only
 * whitespace is a {@link MalformedAnswerError}, never an empty string. `usage` counts wmgym-lm
 * tokens: the prompt tokens the model saw (at most its context) and the tokens it generated.
 * Requests are checked as every provider checks them (`checkCompletionRequest`); sampling
 * (temperature > 0) is seeded by the request's `seed` (a negative seed s samples as 2⁵³ + s, the
 * sampler's seeds being ≥ 0), else by the provider's.
 * {@link LocalLanguageModel.score} tokenises the prompt (after the end-of-text token) and each
 * continuation on their own.
 *
 * ## Options (`createLanguageModel({ provider: 'local', ... })`)
 * `path`: the saved model's folder; by default `models/wmgym-lm` of the wmgym package (found from
 * this module's location, so it works from `dist/` too); a relative `path` is resolved against
 * the working directory. `seed`: the sampling seed of requests that bring none (temperature > 0).
 * `maxTokens`: the reply length of requests that do not say.
 *
 * @example
 * const lm = await createLanguageModel({ provider: 'local' });
 * const { text } = await lm.complete({ messages: [{ role: 'user', content: renderPrompt(input) }], stop: ['\n'] });
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
} from '../../../envs/core/errors.js';
import { checkSeed } from '../../../envs/core/rng.js';
import { initBackend } from '../../nn/backend.js';
import {
  MalformedAnswerError,
  checkCompletionRequest,
  checkScoreArguments,
  registerLanguageModelProvider,
  type ChatMessage,
  type Completion,
  type CompletionRequest,
  type LanguageModel,
  type LanguageModelCapabilities,
  type ScoredContinuation,
} from '../language-model.js';
import type { Tokenizer } from '../tokenizer.js';
import { WmgymLm } from '../wmgym-lm.js';

/** Options of the `local` provider. */
export interface LocalProviderOptions {
  /** Folder of the saved model. @defaultValue the package's `models/wmgym-lm` */
  path?: string;
  /** Sampling seed of requests without one. @defaultValue 0 */
  seed?: number;
  /** Most tokens of a reply when a request does not say. @defaultValue 128 */
  maxTokens?: number;
}

declare module '../language-model.js' {
  interface LanguageModelProviderOptions {
    local: LocalProviderOptions;
  }
}

const DEFAULT_MAX_TOKENS = 128;

/** The prompt text of `messages` (the end-of-text token goes before it): their contents joined by newlines. */
export function renderLocalPrompt(messages: readonly ChatMessage[]): string {
  return messages.map((m) => m.content).join('\n');
}

/** wmgym-lm behind the {@link LanguageModel} contract; see the module comment. */
export class LocalLanguageModel implements LanguageModel {
  readonly provider = 'local';
  readonly model: string;
  readonly capabilities: LanguageModelCapabilities = { complete: true, score: true };
  /** The folder the model was loaded from. */
  readonly path: string;
  private lm: WmgymLm | undefined;
  private readonly tokenizer: Tokenizer;
  private readonly seed: number;
  private readonly maxTokens: number;

  private constructor(path: string, lm: WmgymLm, options: { seed: number; maxTokens: number }) {
    this.path = path;
    this.lm = lm;
    const tokenizer = lm.tokenizer;
    if (tokenizer === undefined) {
      lm.dispose();
      throw new MalformedFileError(
        join(path, 'config.json'),
        '$.tokenizer',
        'expected "tokenizer.json" (the local provider needs the tokenizer), received null',
      );
    }
    this.tokenizer = tokenizer;
    const name = WmgymLm.metadata(path)['name'];
    this.model = typeof name === 'string' && name !== '' ? name : basename(path);
    this.seed = options.seed;
    this.maxTokens = options.maxTokens;
  }

  /**
   * Loads the model of `options.path` (initialising the tensor backend if needed).
   * @throws {@link InvalidOptionError} for an unknown or bad option.
   * @throws {@link MalformedFileError} for a missing or corrupt model, or one without tokenizer.
   */
  static async open(options: LocalProviderOptions = {}): Promise<LocalLanguageModel> {
    if (typeof options !== 'object' || (options as unknown) === null)
      throw new InvalidOptionError('local provider options', options, 'an object of options');
    for (const key of Object.keys(options))
      if (key !== 'path' && key !== 'seed' && key !== 'maxTokens')
        throw new InvalidOptionError(
          `local provider option ${key}`,
          (options as Record<string, unknown>)[key],
          'one of the known options (path, seed, maxTokens)',
          'Unknown option',
        );
    const { path, seed = 0, maxTokens = DEFAULT_MAX_TOKENS } = options;
    if (path !== undefined && (typeof path !== 'string' || path === ''))
      throw new InvalidOptionError('local provider path', path, "a saved wmgym-lm model's folder");
    checkSeed(seed, 'local provider seed');
    checkMaxTokens(maxTokens, 'local provider maxTokens');
    const folder = path === undefined ? shippedModelPath() : resolve(path);
    if (!existsSync(join(folder, 'config.json')))
      throw new MalformedFileError(
        join(folder, 'config.json'),
        '$',
        `expected a saved wmgym-lm model in ${folder}, received no config.json${path === undefined ? ' (train and save one with the wmgym-lm training script, or pass path)' : ''}`,
      );
    await initBackend();
    return new LocalLanguageModel(folder, WmgymLm.load(folder), { seed, maxTokens });
  }

  /**
   * Completes the conversation (see the module comment for the template and where a reply ends).
   * @throws {@link InvalidOptionError} for a malformed request.
   * @throws {@link MalformedAnswerError} when the reply is empty.
   * @throws {@link InvalidStateError} after {@link LocalLanguageModel.close}.
   */
  complete(request: CompletionRequest): Promise<Completion> {
    return settle(() => this.completeNow(request));
  }

  /**
   * Per continuation, the sum of its tokens' log-probabilities after `prompt` (both tokenised on
   * their own; the prompt after the end-of-text token, keeping its end when it does not fit).
   * @throws {@link InvalidOptionError} unless the prompt and every continuation are non-empty strings.
   * @throws InvalidValueError (from {@link WmgymLm.score}) for a continuation longer than the model's context.
   * @throws {@link InvalidStateError} after {@link LocalLanguageModel.close}.
   */
  score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]> {
    return settle(() => this.scoreNow(prompt, continuations));
  }

  /** Frees the model's weights; later calls throw. */
  close(): Promise<void> {
    this.lm?.dispose();
    this.lm = undefined;
    return Promise.resolve();
  }

  private completeNow(request: CompletionRequest): Completion {
    const started = performance.now();
    const checked = checkCompletionRequest(request, 'complete request');
    const lm = this.open('complete');
    const { messages, temperature = 0 } = checked;
    const stops = checked.stop ?? [];
    const maxTokens = checked.maxTokens ?? this.maxTokens;
    // The contract's seeds are safe integers; the sampler's are ≥ 0: s < 0 samples as 2⁵³ + s.
    const seed =
      checked.seed === undefined
        ? this.seed
        : checked.seed < 0
          ? 2 ** 53 + checked.seed
          : checked.seed;
    const tokenizer = this.tokenizer;
    const prompt = this.promptIds(renderLocalPrompt(messages));
    const generation = lm.generate(prompt, {
      maxTokens,
      temperature,
      seed,
      stop: [tokenizer.endOfText, tokenizer.padding],
      ...(stops.length === 0
        ? {}
        : {
            shouldStop: (tokens: readonly number[]) =>
              cut(tokenizer.decode(tokens), stops) !== undefined,
          }),
    });
    const raw = tokenizer.decode(generation.tokens);
    const text = cut(raw, stops) ?? raw;
    if (text.trim() === '')
      throw new MalformedAnswerError(
        this.provider,
        this.path,
        this.model,
        `the reply was empty: generated ${generation.tokens.length} tokens (${JSON.stringify(raw)}), ended by ${generation.reason}`,
      );
    return {
      text,
      usage: { promptTokens: generation.promptTokens, completionTokens: generation.tokens.length },
      latencyMs: performance.now() - started,
      provider: this.provider,
      model: this.model,
    };
  }

  private scoreNow(prompt: string, continuations: readonly string[]): ScoredContinuation[] {
    checkScoreArguments(prompt, continuations, 'score');
    const lm = this.open('score');
    const ids = this.promptIds(prompt);
    return lm.score(
      ids,
      continuations.map((c) => this.tokenizer.encode(c)),
    );
  }

  private open(method: string): WmgymLm {
    if (this.lm === undefined)
      throw new InvalidStateError(
        `local language model ${this.model}.${method}`,
        'an open model',
        'a closed one',
      );
    return this.lm;
  }

  private promptIds(text: string): Int32Array {
    const encoded = this.tokenizer.encode(text);
    const ids = new Int32Array(encoded.length + 1);
    ids[0] = this.tokenizer.endOfText;
    ids.set(encoded, 1);
    return ids;
  }
}

registerLanguageModelProvider('local', (options) => LocalLanguageModel.open(options));

/** The result of `run` as a promise: its error becomes a rejection, never a synchronous throw. */
function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** `text` up to the earliest of `stops`, or undefined when none occurs. */
function cut(text: string, stops: readonly string[]): string | undefined {
  let end = -1;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (end < 0 || at < end)) end = at;
  }
  return end < 0 ? undefined : text.slice(0, end);
}

function checkMaxTokens(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidOptionError(option, value, 'a positive integer');
}

/**
 * `models/wmgym-lm` of the wmgym package (the shipped wmgym-lm): the nearest folder above this
 * module with wmgym's package.json.
 * @throws {@link InvalidOptionError} when no such folder is found.
 */
export function shippedModelPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (name === 'wmgym') return join(dir, 'models', 'wmgym-lm');
      } catch {
        // Not a readable manifest: keep looking upwards.
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new InvalidOptionError(
        'local provider path',
        undefined,
        `a model folder (no wmgym package.json above ${fileURLToPath(import.meta.url)} to find models/wmgym-lm from)`,
      );
    dir = parent;
  }
}
