/**
 * The language prior: the study's `llm.predict(state, action)`. A language model is asked "what is
 * true after this command" about a state written in its environment's canonical state text, and
 * the answer is read back into the state vector. A planner asks about imagined states too, so
 * every state of the observation space can be asked about (the codecs in
 * `envs/<family>/state-text.ts`; {@link stateTextCodec} picks one for an environment).
 *
 * ## The prior format  (wmgym-lm's corpus is written in it: {@link renderPriorExample})
 * A system message {@link PRIOR_SYSTEM}, then the user message {@link formatPriorPrompt}:
 * ```
 * State:
 * <canonical text of the state>
 * Command: <command>
 * Next state:
 * ```
 * and the answer {@link formatPriorAnswer}: the next state in the canonical text, then the reward
 * and whether the episode terminated (a time limit is not termination):
 * ```
 *
 * <canonical text of the next state>
 * Reward: <number>
 * Done: yes|no
 * ```
 * (the answer starts with the line break after `Next state:`). Rewards are written with at most 4
 * decimals, trailing zeros dropped (`1`, `0.9438`, `-16.2736`). {@link parsePriorAnswer} is lenient
 * where a model's habits differ and the meaning does not: leading blank lines, an echoed
 * `Next state:` line, any case in `Reward:` / `Done:`, text after the `Done:` line (ignored: the
 * answer ends there, as the stop sequences would end it). Within the state part the codec's rules
 * apply (what it may leave out is taken from the state asked about).
 *
 * ## LanguagePrior
 * Implements the world model's `Prior` (worldmodel/knowledge.ts) structurally: `agents/` may not
 * import `worldmodel/`, so {@link LanguagePriorPrediction} copies the shape of its
 * `PriorPrediction`, and test/worldmodel passes a LanguagePrior to
 * `KnowledgeableExperienceLearning`, so a change of either shape fails type checking there.
 * - Batched: `predict(states, actions)` asks about the N rows with at most `concurrency` requests in
 *   flight (shared by every call on the prior), one request per distinct (state, action).
 * - Cached: answers are kept by the exact (state, action) values in a least-recently-used cache of
 *   `cacheSize` rows; a request in flight is shared, not repeated.
 * - Seeded from content: each request's seed is `deriveSeed(seed, 'language-prior', state text,
 *   command)`, never the clock, so a rerun asks the same questions with the same seeds.
 * - An answer that does not parse (a {@link StateTextParseError}, or an empty answer the provider
 *   reports as {@link MalformedAnswerError}) is counted in `counters.failedParses`, kept in
 *   `lastParseError`, and falls back to "no change": next = state, reward 0, done 0. Every other
 *   language-model error (unreachable endpoint, timeout, HTTP status) is thrown: it is not an
 *   answer.
 * - `probabilities` are never returned: one sampled answer is not a distribution, so all mass is
 *   on `nextStates` (as the `Prior` contract reads an absent `probabilities`).
 * - It answers asynchronously: use it through `combinePrediction`, not `asModel()`.
 */
import { ClassicControlEnv } from '../../envs/classic/classic-env.js';
import { classicStateText } from '../../envs/classic/state-text.js';
import { envId, type Env } from '../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
  formatValue,
} from '../../envs/core/errors.js';
import { GridNavEnv } from '../../envs/gridnav/gridnav-env.js';
import { gridNavStateText } from '../../envs/gridnav/state-text.js';
import { textWorldStateText } from '../../envs/textworld/state-text.js';
import { TextWorldEnv } from '../../envs/textworld/textworld.js';
import {
  MalformedAnswerError,
  deriveSeed,
  type ChatMessage,
  type LanguageModel,
} from './language-model.js';

// ---- state-text codecs ----------------------------------------------------------------------------

/**
 * A canonical state text: a state vector written as text and read back. Each environment family
 * has one (`ClassicStateText`, `GridNavStateText`, `TextWorldStateText`).
 */
export interface StateTextCodec {
  /** The environment the text speaks of (for messages). */
  readonly envId: string;
  /** Entries in a state vector. */
  readonly size: number;
  /** The canonical text of a state: deterministic, one line per fact or item. */
  encode(state: ArrayLike<number>): string;
  /**
   * The state a text describes; what the family's text leaves out (walls, the map) is taken from
   * `reference`. Throws {@link StateTextParseError} for text that does not parse.
   */
  decode(text: string, reference: ArrayLike<number>): Float32Array;
  /** The command of an action (a Discrete index, or a Box action's values) in the text's names. */
  commandText(action: number | ArrayLike<number>): string;
}

/**
 * The state-text codec of an environment of the suite. A function over the env families rather
 * than a method on each env class: the codec is the language prior's concern (and the corpus
 * builder's), so the environments stay as they are and each family keeps its codec beside it.
 * @throws {@link InvalidOptionError} for an environment outside the three families, GridNav's
 * egocentric observation, or a wrapper that changes the observation space.
 */
export function stateTextCodec(env: Env): StateTextCodec {
  const inner = env.unwrapped;
  if (inner instanceof ClassicControlEnv) return classicStateText(env);
  if (inner instanceof GridNavEnv) return gridNavStateText(env);
  if (inner instanceof TextWorldEnv) return textWorldStateText(env);
  throw new InvalidOptionError(
    'stateTextCodec env',
    envId(env),
    'a classic-control, GridNav or TextWorld environment',
  );
}

// ---- the prior format -----------------------------------------------------------------------------

/** The system message of every prior request. */
export const PRIOR_SYSTEM =
  'You are the world model of an environment. Given its state and a command, write the state after the command in the same format, one fact per line, then "Reward: <number>" and "Done: yes" or "Done: no".';

/** Stop sequences of a prior request: the start of another question. */
export const PRIOR_STOP: readonly string[] = Object.freeze(['\nState:', '\nCommand:']);

/** One (state, command, next state, reward, done) example of the prior format, texts already encoded. */
export interface PriorExample {
  /** Canonical text of the state. */
  state: string;
  /** The command. */
  command: string;
  /** Canonical text of the next state. */
  nextState: string;
  /** The reward of the step. */
  reward: number;
  /** Whether the episode terminated (not truncated) on the step. */
  done: boolean;
}

/**
 * The user message of a prior request: `State:\n<text>\nCommand: <command>\nNext state:`.
 * @throws {@link InvalidValueError} for a command that is empty or spans lines.
 */
export function formatPriorPrompt(stateText: string, command: string): string {
  if (typeof command !== 'string' || command.trim() === '' || /[\r\n]/.test(command))
    throw new InvalidValueError(
      'command of a prior prompt',
      formatValue(command),
      'one non-empty line',
    );
  return `State:\n${stateText}\nCommand: ${command.trim()}\nNext state:`;
}

/** The messages of a prior request: {@link PRIOR_SYSTEM}, then {@link formatPriorPrompt}. */
export function priorMessages(stateText: string, command: string): ChatMessage[] {
  return [
    { role: 'system', content: PRIOR_SYSTEM },
    { role: 'user', content: formatPriorPrompt(stateText, command) },
  ];
}

/** A reward as the prior format writes it: at most 4 decimals, trailing zeros dropped. */
export function formatPriorReward(reward: number): string {
  if (!Number.isFinite(reward))
    throw new InvalidValueError('reward of a prior answer', formatValue(reward), 'a finite number');
  const r = Number(reward.toFixed(4));
  return String(r === 0 ? 0 : r);
}

/**
 * The answer of a prior request: `\n<next state text>\nReward: <number>\nDone: yes|no`.
 * @throws {@link InvalidValueError} for a reward that is not finite.
 */
export function formatPriorAnswer(
  answer: Pick<PriorExample, 'nextState' | 'reward' | 'done'>,
): string {
  return `\n${answer.nextState}\nReward: ${formatPriorReward(answer.reward)}\nDone: ${answer.done ? 'yes' : 'no'}`;
}

/**
 * A full example as training text: the system line, a line break, the prompt and the answer —
 * the request's messages joined by line breaks with the answer right after `Next state:`.
 * `system: false` leaves the system line out (for a corpus whose reader adds it).
 * @example
 * renderPriorExample({ state: codec.encode(s), command: codec.commandText(a),
 *                      nextState: codec.encode(next), reward, done: terminated });
 */
export function renderPriorExample(
  example: PriorExample,
  options: { system?: boolean } = {},
): string {
  const body = formatPriorPrompt(example.state, example.command) + formatPriorAnswer(example);
  return options.system === false ? body : `${PRIOR_SYSTEM}\n${body}`;
}

/** What {@link parsePriorAnswer} reads from an answer. */
export interface PriorAnswer {
  nextState: Float32Array;
  reward: number;
  done: boolean;
}

const REWARD = /^reward\s*:\s*(.*)$/i;
const DONE = /^done\s*:\s*(yes|no)\.?$/i;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/**
 * Reads an answer in the prior format (see the module comment); the state part is decoded with
 * `reference` (the state asked about) as the codec's reference.
 * @throws {@link StateTextParseError} for an answer that does not parse (line numbers are the answer's).
 */
export function parsePriorAnswer(
  text: string,
  codec: StateTextCodec,
  reference: ArrayLike<number>,
): PriorAnswer {
  const what = `prior answer for ${codec.envId}`;
  const shape = 'the next state, then a "Reward: <number>" line and a "Done: yes|no" line';
  if (typeof text !== 'string') throw new StateTextParseError(what, undefined, String(text), shape);
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && lines[start]!.trim() === '') start++;
  if (start < lines.length && /^next state\s*:?$/i.test(lines[start]!.trim())) start++;
  let r = start;
  while (r < lines.length && !REWARD.test(lines[r]!.trim())) r++;
  if (r === lines.length)
    throw new StateTextParseError(what, undefined, text, shape, 'There is no "Reward:" line');
  const rewardText = REWARD.exec(lines[r]!.trim())![1]!.trim();
  const reward = NUMBER.test(rewardText) ? Number(rewardText) : NaN;
  if (!Number.isFinite(reward))
    throw new StateTextParseError(what, r + 1, lines[r]!.trim(), '"Reward: <a finite number>"');
  let d = r + 1;
  while (d < lines.length && lines[d]!.trim() === '') d++;
  const done = d < lines.length ? DONE.exec(lines[d]!.trim()) : null;
  if (done === null)
    throw new StateTextParseError(
      what,
      d < lines.length ? d + 1 : undefined,
      d < lines.length ? lines[d]!.trim() : text,
      '"Done: yes" or "Done: no" right after the "Reward:" line',
    );
  let nextState: Float32Array;
  try {
    nextState = codec.decode(lines.slice(start, r).join('\n'), reference);
  } catch (error) {
    if (!(error instanceof StateTextParseError)) throw error;
    throw new StateTextParseError(
      what,
      error.line === undefined ? undefined : error.line + start,
      error.received,
      error.allowed,
      '',
      { cause: error },
    );
  }
  return { nextState, reward, done: done[1]!.toLowerCase() === 'yes' };
}

// ---- LanguagePrior -------------------------------------------------------------------------------

/**
 * What a {@link LanguagePrior} predicts for N rows: the shape of worldmodel/knowledge.ts's
 * `PriorPrediction`, copied because `agents/` may not import `worldmodel/`.
 */
export interface LanguagePriorPrediction {
  /** Next states `[N × stateSize]`. */
  nextStates: Float32Array;
  /** Rewards `[N]`. */
  rewards: Float32Array;
  /** Termination probabilities `[N]` (0 or 1: one answer each). */
  doneProbabilities: Float32Array;
  /** Never set (see the module comment): all mass on `nextStates`. */
  probabilities?: Float32Array | undefined;
}

/** Options of {@link LanguagePrior.create}. */
export interface LanguagePriorOptions {
  /** The language model asked. */
  model: LanguageModel;
  /** The environment's state text ({@link stateTextCodec}). */
  codec: StateTextCodec;
  /** The command of an action row (1 value for a Discrete action). @defaultValue the codec's `commandText` */
  commandText?: (action: Float32Array) => string;
  /** Name recorded in reports. @defaultValue `language-model:<provider>/<model>` */
  name?: string;
  /** Sampling temperature. @defaultValue 0 */
  temperature?: number;
  /** Most tokens of an answer. @defaultValue 1024 */
  maxTokens?: number;
  /** Requests in flight at once. @defaultValue 4 */
  concurrency?: number;
  /** (state, action) rows whose answers are kept; 0 keeps none (requests in flight are still shared). @defaultValue 4096 */
  cacheSize?: number;
  /** Run seed mixed into every request's seed. @defaultValue 0 */
  seed?: number;
}

/** What a {@link LanguagePrior} has done so far. */
export interface LanguagePriorCounters {
  /** Requests sent to the language model. */
  calls: number;
  /** Rows answered from the cache or from a request already in flight. */
  cacheHits: number;
  /** Answers that did not parse (each fell back to "no change"). */
  failedParses: number;
  /** Prompt tokens of every request. */
  promptTokens: number;
  /** Completion tokens of every request. */
  completionTokens: number;
}

/** One row's answer, as kept in the cache. */
interface RowAnswer {
  next: Float32Array;
  reward: number;
  done: number;
}

/** A language model as a world-model prior; see the module comment. */
export class LanguagePrior {
  /** Name recorded in reports. */
  readonly name: string;
  /** The language model asked. */
  readonly model: LanguageModel;
  /** The state text. */
  readonly codec: StateTextCodec;
  /** The last answer that did not parse, and why. */
  lastParseError: StateTextParseError | MalformedAnswerError | undefined = undefined;
  private readonly commandOf: (action: Float32Array) => string;
  private readonly temperature: number;
  private readonly maxTokens: number;
  private readonly concurrency: number;
  private readonly cacheSize: number;
  private readonly seed: number;
  private readonly cache = new Map<string, RowAnswer>();
  private readonly pending = new Map<string, Promise<RowAnswer>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private readonly count: LanguagePriorCounters = {
    calls: 0,
    cacheHits: 0,
    failedParses: 0,
    promptTokens: 0,
    completionTokens: 0,
  };

  private constructor(options: Required<Omit<LanguagePriorOptions, 'name'>> & { name: string }) {
    this.name = options.name;
    this.model = options.model;
    this.codec = options.codec;
    this.commandOf = options.commandText;
    this.temperature = options.temperature;
    this.maxTokens = options.maxTokens;
    this.concurrency = options.concurrency;
    this.cacheSize = options.cacheSize;
    this.seed = options.seed;
  }

  /**
   * A language prior over `codec`'s states asked of `model`.
   * @throws {@link InvalidOptionError} for a missing model or codec or an option out of range.
   */
  static create(options: LanguagePriorOptions): LanguagePrior {
    const { model, codec } = options;
    if (typeof (model as Partial<LanguageModel> | undefined)?.complete !== 'function')
      throw new InvalidOptionError('LanguagePrior model', model, 'a LanguageModel');
    if (
      typeof (codec as Partial<StateTextCodec> | undefined)?.encode !== 'function' ||
      typeof codec.decode !== 'function' ||
      !Number.isSafeInteger(codec.size) ||
      codec.size < 1
    )
      throw new InvalidOptionError(
        'LanguagePrior codec',
        codec,
        'a StateTextCodec (stateTextCodec(env))',
      );
    const temperature = options.temperature ?? 0;
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 10))
      throw new InvalidOptionError('LanguagePrior temperature', temperature, 'a number in [0, 10]');
    const integer = (value: number, key: string, min: number): number => {
      if (!Number.isSafeInteger(value) || value < min)
        throw new InvalidOptionError(`LanguagePrior ${key}`, value, `an integer >= ${min}`);
      return value;
    };
    if (options.commandText !== undefined && typeof options.commandText !== 'function')
      throw new InvalidOptionError(
        'LanguagePrior commandText',
        options.commandText,
        'a function (action) => string',
      );
    return new LanguagePrior({
      model,
      codec,
      commandText: options.commandText ?? ((action) => codec.commandText(action)),
      name: options.name ?? `language-model:${model.provider}/${model.model}`,
      temperature,
      maxTokens: integer(options.maxTokens ?? 1024, 'maxTokens', 1),
      concurrency: integer(options.concurrency ?? 4, 'concurrency', 1),
      cacheSize: integer(options.cacheSize ?? 4096, 'cacheSize', 0),
      seed: integer(options.seed ?? 0, 'seed', 0),
    });
  }

  /** Calls, cache hits, failed parses and tokens so far (a copy). */
  get counters(): LanguagePriorCounters {
    return { ...this.count };
  }

  /**
   * Predictions for N rows: `states` `[N × size]`, `actions` `[N × k]` (k values per action; 1
   * for a Discrete index).
   * @throws {@link InvalidValueError} for rows of the wrong shape or a state the codec cannot write.
   * @throws LanguageModelError when the model fails other than by answering unusably.
   */
  async predict(states: Float32Array, actions: Float32Array): Promise<LanguagePriorPrediction> {
    const d = this.codec.size;
    if (!(states instanceof Float32Array) || states.length % d !== 0)
      throw new InvalidValueError(
        `states for the prior ${this.name}`,
        formatValue(states),
        `a Float32Array of N × ${d} values`,
      );
    const n = states.length / d;
    if (
      !(actions instanceof Float32Array) ||
      (n === 0 ? actions.length !== 0 : actions.length % n !== 0 || actions.length === 0)
    )
      throw new InvalidValueError(
        `actions for the prior ${this.name}`,
        formatValue(actions),
        `a Float32Array of ${n} × k values (k per action)`,
      );
    const k = n === 0 ? 0 : actions.length / n;
    const rows: Promise<RowAnswer>[] = [];
    for (let r = 0; r < n; r++)
      rows.push(this.row(states.slice(r * d, r * d + d), actions.slice(r * k, r * k + k)));
    const answers = await Promise.all(rows);
    const nextStates = new Float32Array(n * d);
    const rewards = new Float32Array(n);
    const doneProbabilities = new Float32Array(n);
    answers.forEach((a, r) => {
      nextStates.set(a.next, r * d);
      rewards[r] = a.reward;
      doneProbabilities[r] = a.done;
    });
    return { nextStates, rewards, doneProbabilities };
  }

  /** One row: the study's `llm.predict(state, action)`. */
  async predictOne(state: Float32Array, action: Float32Array): Promise<PriorAnswer> {
    const p = await this.predict(state, action);
    return { nextState: p.nextStates, reward: p.rewards[0]!, done: p.doneProbabilities[0] === 1 };
  }

  /** The answer for one row: from the cache, a request in flight, or a new request. */
  private row(state: Float32Array, action: Float32Array): Promise<RowAnswer> {
    const key = rowKey(state, action);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.count.cacheHits++;
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit);
    }
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) {
      this.count.cacheHits++;
      return inFlight;
    }
    // Written before anything is sent, so a state the codec cannot write throws here.
    const stateText = this.codec.encode(state);
    const command = this.commandOf(action);
    const messages = priorMessages(stateText, command);
    const seed = deriveSeed(this.seed, 'language-prior', stateText, command);
    const request = this.withSlot(() => this.ask(messages, seed, state)).then(
      (answer) => {
        this.pending.delete(key);
        this.remember(key, answer);
        return answer;
      },
      (error: unknown) => {
        this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, request);
    return request;
  }

  private async ask(
    messages: ChatMessage[],
    seed: number,
    state: Float32Array,
  ): Promise<RowAnswer> {
    let text: string;
    try {
      const completion = await this.model.complete({
        messages,
        temperature: this.temperature,
        maxTokens: this.maxTokens,
        stop: PRIOR_STOP,
        seed,
      });
      this.count.calls++;
      this.count.promptTokens += completion.usage.promptTokens;
      this.count.completionTokens += completion.usage.completionTokens;
      text = completion.text;
    } catch (error) {
      if (!(error instanceof MalformedAnswerError)) throw error;
      this.count.calls++;
      return this.noChange(state, error);
    }
    try {
      const answer = parsePriorAnswer(text, this.codec, state);
      return { next: answer.nextState, reward: answer.reward, done: answer.done ? 1 : 0 };
    } catch (error) {
      if (!(error instanceof StateTextParseError)) throw error;
      return this.noChange(state, error);
    }
  }

  private noChange(
    state: Float32Array,
    error: StateTextParseError | MalformedAnswerError,
  ): RowAnswer {
    this.count.failedParses++;
    this.lastParseError = error;
    return { next: state.slice(), reward: 0, done: 0 };
  }

  private remember(key: string, answer: RowAnswer): void {
    if (this.cacheSize === 0) return;
    this.cache.set(key, answer);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Runs `task` when fewer than `concurrency` requests are in flight (a freed slot passes straight to the next waiter). */
  private async withSlot<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}

/** An exact key of a (state, action) row: one character per value when all are bytes, else the float bits. */
function rowKey(state: Float32Array, action: Float32Array): string {
  const bytes = (v: Float32Array): boolean =>
    v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255);
  if (bytes(state) && bytes(action))
    return `b${Buffer.from(Uint8Array.from(state)).toString('latin1')}|${Buffer.from(Uint8Array.from(action)).toString('latin1')}`;
  const bits = (v: Float32Array): string =>
    Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return `f${bits(state)}|${bits(action)}`;
}
