/**
 * The wrappers `make` applies (TimeLimit, OrderEnforcing) and the one every training loop wants
 * (RecordEpisodeStatistics), as in Gymnasium's `wrappers/common.py`.
 */
import { InvalidOptionError, InvalidStateError, ResetNeededError } from '../errors.js';
import {
  Wrapper,
  type Env,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
} from '../env.js';

/**
 * Truncates an episode after `maxEpisodeSteps` steps (`truncated: true` on that step). Stepping
 * again before `reset` throws `ResetNeededError`.
 */
export class TimeLimit<O, A> extends Wrapper<O, A> {
  /** Steps after which an episode is truncated. */
  readonly maxEpisodeSteps: number;
  private elapsed = 0;
  private ended = false;

  constructor(env: Env<O, A>, maxEpisodeSteps: number) {
    super(env);
    if (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
      throw new InvalidOptionError('maxEpisodeSteps', maxEpisodeSteps, 'a positive integer');
    }
    this.maxEpisodeSteps = maxEpisodeSteps;
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  override reset(args?: ResetArgs): ResetResult<O> {
    this.elapsed = 0;
    this.ended = false;
    return this.env.reset(args);
  }

  override step(action: A): StepResult<O> {
    if (this.ended) throw new ResetNeededError(this.id, 'after-end');
    const result = this.env.step(action);
    this.elapsed++;
    if (this.elapsed >= this.maxEpisodeSteps) result.truncated = true;
    this.ended = result.terminated || result.truncated;
    return result;
  }

  protected override saveWrapperState(): JsonValue {
    return { elapsed: this.elapsed, ended: this.ended };
  }

  protected override checkWrapperState(state: JsonValue): void {
    const s = state as { elapsed?: unknown; ended?: unknown } | null;
    if (
      typeof s?.elapsed !== 'number' ||
      !Number.isSafeInteger(s.elapsed) ||
      s.elapsed < 0 ||
      typeof s.ended !== 'boolean'
    ) {
      throw new InvalidStateError('TimeLimit', '{elapsed: integer >= 0, ended: boolean}', state);
    }
  }

  protected override loadWrapperState(state: JsonValue): void {
    const s = state as { elapsed: number; ended: boolean };
    this.elapsed = s.elapsed;
    this.ended = s.ended;
  }
}

/** Options of {@link OrderEnforcing}. */
export interface OrderEnforcingOptions {
  /** Allow `render()` before the first `reset()`. @defaultValue false */
  disableRenderOrderEnforcing?: boolean;
}

/**
 * Throws `ResetNeededError` on `step` before the first `reset`, on `step` after the episode ended
 * (terminated or truncated), and on `render` before the first `reset`.
 */
export class OrderEnforcing<O, A> extends Wrapper<O, A> {
  private hasReset = false;
  private ended = false;
  private readonly disableRenderOrderEnforcing: boolean;

  constructor(env: Env<O, A>, options: OrderEnforcingOptions = {}) {
    super(env);
    this.disableRenderOrderEnforcing = options.disableRenderOrderEnforcing ?? false;
  }

  /** True once `reset` has been called. */
  get hasResetOnce(): boolean {
    return this.hasReset;
  }

  override reset(args?: ResetArgs): ResetResult<O> {
    const result = this.env.reset(args);
    this.hasReset = true;
    this.ended = false;
    return result;
  }

  override step(action: A): StepResult<O> {
    if (!this.hasReset) throw new ResetNeededError(this.id, 'before-reset');
    if (this.ended) throw new ResetNeededError(this.id, 'after-end');
    const result = this.env.step(action);
    this.ended = result.terminated || result.truncated;
    return result;
  }

  override render(): RenderFrame | undefined {
    if (!this.hasReset && !this.disableRenderOrderEnforcing)
      throw new ResetNeededError(this.id, 'before-reset', 'render');
    return this.env.render();
  }

  protected override saveWrapperState(): JsonValue {
    return { hasReset: this.hasReset, ended: this.ended };
  }

  protected override checkWrapperState(state: JsonValue): void {
    const s = state as { hasReset?: unknown; ended?: unknown } | null;
    if (typeof s?.hasReset !== 'boolean' || typeof s.ended !== 'boolean') {
      throw new InvalidStateError('OrderEnforcing', '{hasReset: boolean, ended: boolean}', state);
    }
  }

  protected override loadWrapperState(state: JsonValue): void {
    const s = state as { hasReset: boolean; ended: boolean };
    this.hasReset = s.hasReset;
    this.ended = s.ended;
  }
}

/** The statistics of one finished episode, in `info.episode` (Gymnasium's `r`, `l`, `t`). */
export interface EpisodeStatistics {
  /** Return: the sum of rewards. */
  r: number;
  /** Length in steps. */
  l: number;
  /** Wall time of the episode in seconds. */
  t: number;
}

/** Options of {@link RecordEpisodeStatistics}. */
export interface RecordEpisodeStatisticsOptions {
  /** How many recent episodes the queues keep. @defaultValue 100 */
  bufferLength?: number;
}

/**
 * Adds `info.episode = {r, l, t}` on the step that ends an episode, and keeps the last
 * `bufferLength` returns, lengths and times in `returnQueue`, `lengthQueue`, `timeQueue`.
 */
export class RecordEpisodeStatistics<O, A> extends Wrapper<O, A> {
  /** Returns of the last `bufferLength` episodes, oldest first. */
  readonly returnQueue: number[] = [];
  /** Lengths of the last `bufferLength` episodes, oldest first. */
  readonly lengthQueue: number[] = [];
  /** Wall times (seconds) of the last `bufferLength` episodes, oldest first. */
  readonly timeQueue: number[] = [];
  /** Episodes finished since construction. */
  episodeCount = 0;
  private readonly bufferLength: number;
  private episodeReturn = 0;
  private episodeLength = 0;
  private episodeStart = performance.now();

  constructor(env: Env<O, A>, options: RecordEpisodeStatisticsOptions = {}) {
    super(env);
    const bufferLength = options.bufferLength ?? 100;
    if (!Number.isSafeInteger(bufferLength) || bufferLength < 1) {
      throw new InvalidOptionError('options.bufferLength', bufferLength, 'a positive integer');
    }
    this.bufferLength = bufferLength;
  }

  override reset(args?: ResetArgs): ResetResult<O> {
    const result = this.env.reset(args);
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.episodeStart = performance.now();
    return result;
  }

  override step(action: A): StepResult<O> {
    const result = this.env.step(action);
    this.episodeReturn += result.reward;
    this.episodeLength++;
    if (result.terminated || result.truncated) {
      const episode: EpisodeStatistics = {
        r: this.episodeReturn,
        l: this.episodeLength,
        t: Math.round(performance.now() - this.episodeStart) / 1000,
      };
      result.info = { ...result.info, episode };
      push(this.returnQueue, episode.r, this.bufferLength);
      push(this.lengthQueue, episode.l, this.bufferLength);
      push(this.timeQueue, episode.t, this.bufferLength);
      this.episodeCount++;
    }
    return result;
  }

  protected override saveWrapperState(): JsonValue {
    return {
      episodeReturn: this.episodeReturn,
      episodeLength: this.episodeLength,
      elapsedMs: performance.now() - this.episodeStart,
    };
  }

  protected override checkWrapperState(state: JsonValue): void {
    const s = state as {
      episodeReturn?: unknown;
      episodeLength?: unknown;
      elapsedMs?: unknown;
    } | null;
    if (
      typeof s?.episodeReturn !== 'number' ||
      typeof s.episodeLength !== 'number' ||
      typeof s.elapsedMs !== 'number'
    ) {
      throw new InvalidStateError(
        'RecordEpisodeStatistics',
        '{episodeReturn, episodeLength, elapsedMs} numbers',
        state,
      );
    }
  }

  protected override loadWrapperState(state: JsonValue): void {
    const s = state as { episodeReturn: number; episodeLength: number; elapsedMs: number };
    this.episodeReturn = s.episodeReturn;
    this.episodeLength = s.episodeLength;
    this.episodeStart = performance.now() - s.elapsedMs;
  }
}

function push(queue: number[], value: number, limit: number): void {
  queue.push(value);
  if (queue.length > limit) queue.shift();
}
