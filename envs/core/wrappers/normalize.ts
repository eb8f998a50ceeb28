/**
 * Running statistics and the wrappers that normalise with them, as Gymnasium 1.0's
 * `RunningMeanStd`, `NormalizeObservation` and `NormalizeReward` (statistics kept in float64).
 *
 * @example
 * const env = new NormalizeReward(new NormalizeObservation(make('Pendulum-v1')), { gamma: 0.99 });
 * const saved = env.getState(); // includes the statistics
 */
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  formatValue,
} from '../errors.js';
import { ObservationWrapper, Wrapper, type Env, type JsonValue, type StepResult } from '../env.js';
import { Box } from '../space.js';

/** The plain-JSON form of a {@link RunningMeanStd}. */
export interface RunningMeanStdJSON {
  /** The shape of one sample. */
  shape: number[];
  /** Running mean, per element. */
  mean: number[];
  /** Running population variance, per element. */
  var: number[];
  /** Number of samples seen (starting at epsilon). */
  count: number;
}

/** Mean, variance and count, as {@link NormalizeObservation.getStatistics} returns them. */
export interface Statistics {
  /** Running mean, per element. */
  mean: Float64Array;
  /** Running population variance, per element. */
  var: Float64Array;
  /** Number of samples seen. */
  count: number;
}

/**
 * Running mean and (population) variance of vectors of a fixed shape, updated by batches with the
 * parallel-variance formula (Chan et al.), as Gymnasium's `RunningMeanStd`. Starts at mean 0,
 * variance 1 and count `epsilon`.
 * @example
 * const rms = new RunningMeanStd([3]);
 * rms.update(Float32Array.of(1, 2, 3, 4, 5, 6)); // a batch of two rows
 */
export class RunningMeanStd {
  /** The shape of one sample. */
  readonly shape: readonly number[];
  /** Numbers per sample (product of the shape, 1 for a scalar). */
  readonly size: number;
  /** Running mean, per element. */
  readonly mean: Float64Array;
  /** Running population variance, per element. */
  readonly var: Float64Array;
  /** Number of samples seen (starting at `epsilon`). */
  count: number;

  /**
   * @param shape the shape of one sample (`[]` for scalars)
   * @param epsilon the starting count. @defaultValue 1e-4
   * @throws {@link InvalidOptionError} for a bad shape or a non-positive epsilon.
   */
  constructor(shape: readonly number[] = [], epsilon = 1e-4) {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new InvalidOptionError(
        'shape of RunningMeanStd',
        shape,
        'an array of positive integers ([] for scalars)',
      );
    }
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
      throw new InvalidOptionError('epsilon of RunningMeanStd', epsilon, 'a finite number > 0');
    }
    const dims: readonly number[] = shape;
    this.shape = Object.freeze([...dims]);
    this.size = dims.reduce((a, b) => a * b, 1);
    this.mean = new Float64Array(this.size);
    this.var = new Float64Array(this.size).fill(1);
    this.count = epsilon;
  }

  /**
   * Adds a batch of samples, row-major: all of `batch` (its length a multiple of `size`; a single
   * sample is a batch of one), or only its first `rows` rows when `rows` is given.
   * @throws {@link InvalidValueError} for an empty batch, a length that does not fit, or a non-finite value.
   */
  update(batch: ArrayLike<number>, rows?: number): void {
    const size = this.size;
    const length = batch.length;
    const fits =
      rows === undefined
        ? typeof length === 'number' && length > 0 && length % size === 0
        : Number.isSafeInteger(rows) && rows > 0 && rows * size <= length;
    if (!fits) {
      throw new InvalidValueError(
        'batch for RunningMeanStd.update',
        rows === undefined
          ? formatValue(batch)
          : `${formatValue(batch)} with rows=${formatValue(rows)}`,
        rows === undefined
          ? `a non-empty array of numbers whose length is a multiple of ${size}`
          : `rows a positive integer with rows × ${size} <= the batch length`,
      );
    }
    rows ??= length / size;
    const batchMean = new Float64Array(size);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < size; k++) {
        const v = batch[r * size + k]!;
        if (!Number.isFinite(v)) {
          throw new InvalidValueError(
            'batch for RunningMeanStd.update',
            formatValue(batch),
            'finite numbers',
            `element ${r * size + k} is ${formatValue(v)}`,
          );
        }
        batchMean[k]! += v;
      }
    }
    for (let k = 0; k < size; k++) batchMean[k]! /= rows;
    const batchVar = new Float64Array(size);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < size; k++) {
        const d = batch[r * size + k]! - batchMean[k]!;
        batchVar[k]! += d * d;
      }
    }
    for (let k = 0; k < size; k++) batchVar[k]! /= rows;
    this.updateFromMoments(batchMean, batchVar, rows);
  }

  /**
   * Merges the moments of a batch: mean, population variance and count.
   * @throws {@link InvalidValueError} for wrong lengths, non-finite moments, a negative variance or a count <= 0.
   */
  updateFromMoments(
    batchMean: ArrayLike<number>,
    batchVar: ArrayLike<number>,
    batchCount: number,
  ): void {
    const size = this.size;
    const finite = (a: ArrayLike<number>, min: number): boolean => {
      if (a.length !== size) return false;
      for (let k = 0; k < size; k++) if (!(Number.isFinite(a[k]) && a[k]! >= min)) return false;
      return true;
    };
    if (
      !finite(batchMean, -Infinity) ||
      !finite(batchVar, 0) ||
      !(Number.isFinite(batchCount) && batchCount > 0)
    ) {
      throw new InvalidValueError(
        'moments for RunningMeanStd.updateFromMoments',
        `mean ${formatValue(batchMean)}, var ${formatValue(batchVar)}, count ${formatValue(batchCount)}`,
        `${size} finite means, ${size} finite variances >= 0 and a count > 0`,
      );
    }
    const count = this.count;
    const total = count + batchCount;
    for (let k = 0; k < size; k++) {
      const delta = batchMean[k]! - this.mean[k]!;
      const m2 =
        this.var[k]! * count +
        batchVar[k]! * batchCount +
        (delta * delta * count * batchCount) / total;
      this.mean[k] = this.mean[k]! + (delta * batchCount) / total;
      this.var[k] = m2 / total;
    }
    this.count = total;
  }

  /** A copy with the same statistics. */
  clone(): RunningMeanStd {
    return RunningMeanStd.fromJSON(this.toJSON());
  }

  /** Plain JSON (shape, mean, var, count). */
  toJSON(): RunningMeanStdJSON {
    return {
      shape: [...this.shape],
      mean: Array.from(this.mean),
      var: Array.from(this.var),
      count: this.count,
    };
  }

  /** Reads {@link RunningMeanStd.toJSON} back. @throws {@link InvalidStateError} for a malformed value. */
  static fromJSON(json: unknown): RunningMeanStd {
    const j = json as Partial<RunningMeanStdJSON> | null;
    const expected =
      '{shape: positive integers, mean: finite numbers, var: finite numbers >= 0, count > 0} from toJSON()';
    if (
      typeof j !== 'object' ||
      j === null ||
      !Array.isArray(j.shape) ||
      !j.shape.every((d) => Number.isSafeInteger(d) && d > 0)
    ) {
      throw new InvalidStateError('RunningMeanStd', expected, json);
    }
    const size = j.shape.reduce((a, b) => a * b, 1);
    const ok = (a: unknown, min: number): a is number[] =>
      Array.isArray(a) &&
      a.length === size &&
      a.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= min);
    if (
      !ok(j.mean, -Infinity) ||
      !ok(j.var, 0) ||
      typeof j.count !== 'number' ||
      !Number.isFinite(j.count) ||
      j.count <= 0
    ) {
      throw new InvalidStateError('RunningMeanStd', expected, json);
    }
    const rms = new RunningMeanStd(j.shape, j.count);
    rms.mean.set(j.mean);
    rms.var.set(j.var);
    return rms;
  }
}

/** Options of {@link NormalizeObservation}. */
export interface NormalizeObservationOptions {
  /** Added to the variance before the square root. @defaultValue 1e-8 */
  epsilon?: number;
}

/**
 * Normalises Box observations to zero mean and unit variance with running statistics:
 * `(obs − mean) / sqrt(var + epsilon)`, updated with each observation first (reset ones included)
 * while `updateRunningMean` is true. Observation space: Box(-Infinity, Infinity) of the same shape.
 * Snapshots include the statistics (not the `updateRunningMean` switch, which is configuration).
 */
export class NormalizeObservation<A> extends ObservationWrapper<Float32Array, A, Float32Array> {
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  private readonly outerSpace: Box;
  private rms: RunningMeanStd;
  private update = true;

  /** @throws {@link InvalidOptionError} unless the observation space is a Box and epsilon > 0. */
  constructor(env: Env<Float32Array, A>, options: NormalizeObservationOptions = {}) {
    super(env);
    const space = env.observationSpace;
    if (!(space instanceof Box)) {
      throw new InvalidOptionError(
        `observation space of ${this.id} for NormalizeObservation`,
        String(space),
        'a Box observation space',
      );
    }
    this.epsilon = positiveEpsilon(options.epsilon ?? 1e-8, 'NormalizeObservation');
    this.outerSpace = new Box({ low: -Infinity, high: Infinity, shape: space.shape });
    this.rms = new RunningMeanStd(space.shape);
  }

  override get observationSpace(): Box {
    return this.outerSpace;
  }

  /** Whether each observation updates the statistics (turn off for evaluation). @defaultValue true */
  get updateRunningMean(): boolean {
    return this.update;
  }

  set updateRunningMean(value: boolean) {
    if (typeof value !== 'boolean')
      throw new InvalidOptionError('updateRunningMean', value, 'a boolean');
    this.update = value;
  }

  /** A copy of the running statistics. */
  getStatistics(): Statistics {
    return {
      mean: Float64Array.from(this.rms.mean),
      var: Float64Array.from(this.rms.var),
      count: this.rms.count,
    };
  }

  /** Replaces the running statistics (e.g. with those of a training run). @throws {@link InvalidStateError} for a wrong shape or values. */
  setStatistics(statistics: Statistics | RunningMeanStd): void {
    const json = {
      shape: [...this.rms.shape],
      mean: Array.from(statistics.mean),
      var: Array.from(statistics.var),
      count: statistics.count,
    };
    this.rms = RunningMeanStd.fromJSON(json);
  }

  /** The normalised observation (fresh float32). @throws {@link InvalidValueError} for a non-finite observation. */
  observation(observation: Float32Array): Float32Array {
    if (this.update) this.rms.update(observation);
    const { mean, var: variance } = this.rms;
    const out = new Float32Array(observation.length);
    for (let i = 0; i < out.length; i++)
      out[i] = (observation[i]! - mean[i]!) / Math.sqrt(variance[i]! + this.epsilon);
    return out;
  }

  protected override saveWrapperState(): JsonValue {
    return this.rms.toJSON() as unknown as JsonValue;
  }

  protected override checkWrapperState(state: JsonValue): void {
    const rms = RunningMeanStd.fromJSON(state);
    if (rms.shape.join() !== this.rms.shape.join()) {
      throw new InvalidStateError(
        'NormalizeObservation',
        `statistics of shape [${this.rms.shape.join(', ')}]`,
        state,
      );
    }
  }

  protected override loadWrapperState(state: JsonValue): void {
    this.rms = RunningMeanStd.fromJSON(state);
  }
}

/** Options of {@link NormalizeReward}. */
export interface NormalizeRewardOptions {
  /** Discount of the running return whose variance scales the rewards. @defaultValue 0.99 */
  gamma?: number;
  /** Added to the variance before the square root. @defaultValue 1e-8 */
  epsilon?: number;
}

/**
 * Scales rewards so that their discounted sum has roughly unit variance, as Gymnasium 1.0: on
 * each step the running return becomes `G ← G·γ·(1 − terminated) + r`, its variance is updated
 * (while `updateRunningMean`), and the reward returned is `r / sqrt(var(G) + epsilon)` (not
 * centred). As in Gymnasium, the return restarts on termination only — after a truncation it
 * carries on, discounted, into the next episode. Snapshots include the statistics and the return.
 */
export class NormalizeReward<O, A> extends Wrapper<O, A> {
  /** Discount of the running return. */
  readonly gamma: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  private rms = new RunningMeanStd([]);
  private discountedReturn = 0;
  private update = true;

  /** @throws {@link InvalidOptionError} unless 0 <= gamma <= 1 and epsilon > 0. */
  constructor(env: Env<O, A>, options: NormalizeRewardOptions = {}) {
    super(env);
    const gamma = options.gamma ?? 0.99;
    if (typeof gamma !== 'number' || !(gamma >= 0 && gamma <= 1)) {
      throw new InvalidOptionError('options.gamma of NormalizeReward', gamma, 'a number in [0, 1]');
    }
    this.gamma = gamma;
    this.epsilon = positiveEpsilon(options.epsilon ?? 1e-8, 'NormalizeReward');
  }

  /** Whether each step updates the return statistics (turn off for evaluation). @defaultValue true */
  get updateRunningMean(): boolean {
    return this.update;
  }

  set updateRunningMean(value: boolean) {
    if (typeof value !== 'boolean')
      throw new InvalidOptionError('updateRunningMean', value, 'a boolean');
    this.update = value;
  }

  /** The running discounted return G. */
  get discountedReward(): number {
    return this.discountedReturn;
  }

  /** A copy of the return statistics (scalar: arrays of length 1). */
  getStatistics(): Statistics {
    return {
      mean: Float64Array.from(this.rms.mean),
      var: Float64Array.from(this.rms.var),
      count: this.rms.count,
    };
  }

  /** Replaces the return statistics. @throws {@link InvalidStateError} for wrong values. */
  setStatistics(statistics: Statistics | RunningMeanStd): void {
    this.rms = RunningMeanStd.fromJSON({
      shape: [],
      mean: Array.from(statistics.mean),
      var: Array.from(statistics.var),
      count: statistics.count,
    });
  }

  /** @throws {@link InvalidValueError} if the inner reward is not finite. */
  override step(action: A): StepResult<O> {
    const result = this.env.step(action);
    const reward = result.reward;
    if (typeof reward !== 'number' || !Number.isFinite(reward)) {
      throw new InvalidValueError(
        `reward of ${this.id} for NormalizeReward`,
        formatValue(reward),
        'a finite number',
      );
    }
    this.discountedReturn =
      this.discountedReturn * this.gamma * (result.terminated ? 0 : 1) + reward;
    if (this.update) this.rms.updateFromMoments([this.discountedReturn], [0], 1);
    result.reward = reward / Math.sqrt(this.rms.var[0]! + this.epsilon);
    return result;
  }

  protected override saveWrapperState(): JsonValue {
    return {
      rms: this.rms.toJSON(),
      discountedReturn: this.discountedReturn,
    } as unknown as JsonValue;
  }

  protected override checkWrapperState(state: JsonValue): void {
    const s = state as { rms?: unknown; discountedReturn?: unknown } | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.discountedReturn !== 'number' ||
      !Number.isFinite(s.discountedReturn)
    ) {
      throw new InvalidStateError(
        'NormalizeReward',
        '{rms, discountedReturn: finite number}',
        state,
      );
    }
    const rms = RunningMeanStd.fromJSON(s.rms);
    if (rms.size !== 1 || rms.shape.length !== 0)
      throw new InvalidStateError('NormalizeReward', 'scalar return statistics (shape [])', state);
  }

  protected override loadWrapperState(state: JsonValue): void {
    const s = state as unknown as { rms: RunningMeanStdJSON; discountedReturn: number };
    this.rms = RunningMeanStd.fromJSON(s.rms);
    this.discountedReturn = s.discountedReturn;
  }
}

function positiveEpsilon(epsilon: unknown, wrapper: string): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new InvalidOptionError(`options.epsilon of ${wrapper}`, epsilon, 'a finite number > 0');
  }
  return epsilon;
}
