/**
 * Observation and reward normalisation inside the agent (SB3's `VecNormalize`), so the running
 * statistics are saved and loaded WITH the agent — a policy trained on normalised observations is
 * useless without them, and SB3 keeps them in a separate file that is easy to lose.
 *
 * Observations: `clip((x − μ) / √(σ² + 1e-8), ±clip)`, statistics updated only while training,
 * frozen in evaluation. Rewards: divided by the running std of the discounted return of each
 * sub-environment, clipped. On-policy agents scale as they collect; off-policy agents store raw
 * values and scale each sampled batch with the current statistics (as SB3 does with a replay
 * buffer behind `VecNormalize`).
 */
import { InvalidStateError } from '../envs/core/errors.js';
import { RunningMeanStd } from '../envs/core/wrappers/normalize.js';

/** Options of {@link Normalizer}. */
export interface NormalizerOptions {
  /** Length of a flat observation. */
  size: number;
  /** Sub-environments (one discounted return each). */
  numEnvs: number;
  /** Normalise observations. */
  observations: boolean;
  /** Normalise rewards. */
  rewards: boolean;
  /** Clip for normalised observations. */
  clipObservations: number;
  /** Clip for normalised rewards. */
  clipRewards: number;
  /** Discount of the return whose std scales rewards. */
  gamma: number;
}

const EPSILON = 1e-8;

/** Running observation/reward statistics of one agent. */
export class Normalizer {
  private readonly options: NormalizerOptions;
  private observationStats: RunningMeanStd;
  private returnStats: RunningMeanStd;
  private returns: Float64Array;

  constructor(options: NormalizerOptions) {
    this.options = options;
    this.observationStats = new RunningMeanStd([options.size]);
    this.returnStats = new RunningMeanStd([]);
    this.returns = new Float64Array(options.numEnvs);
  }

  /** True when observations are normalised. */
  get normalizesObservations(): boolean {
    return this.options.observations;
  }

  /** Updates the observation statistics with `count` flat rows. */
  updateObservations(rows: Float32Array, count: number): void {
    if (!this.options.observations) return;
    this.observationStats.update(rows, count);
  }

  /** Normalises flat rows in place (no-op when disabled). */
  normalizeObservations(rows: Float32Array): void {
    if (!this.options.observations) return;
    const size = this.options.size;
    const clip = this.options.clipObservations;
    const mean = this.observationStats.mean;
    const variance = this.observationStats.var;
    for (let i = 0; i < rows.length; i++) {
      const j = i % size;
      const z = (rows[i]! - mean[j]!) / Math.sqrt(variance[j]! + EPSILON);
      rows[i] = Math.min(Math.max(z, -clip), clip);
    }
  }

  /** Scales a reward of sub-environment `env` (updating the return statistics); `done` resets that return. */
  normalizeReward(reward: number, env: number, done: boolean): number {
    if (!this.options.rewards) return reward;
    this.trackReward(reward, env, done);
    return this.scaleReward(reward);
  }

  /** Updates the discounted return of sub-environment `env` and its statistics; `done` resets it. */
  trackReward(reward: number, env: number, done: boolean): void {
    if (!this.options.rewards) return;
    const ret = this.returns[env]! * this.options.gamma + reward;
    this.returns[env] = ret;
    this.returnStats.update(Float64Array.of(ret), 1);
    if (done) this.returns[env] = 0;
  }

  /** A reward divided by the running std of the return, clipped (no statistics change). */
  scaleReward(reward: number): number {
    if (!this.options.rewards) return reward;
    const clip = this.options.clipRewards;
    const scaled = reward / Math.sqrt(this.returnStats.var[0]! + EPSILON);
    return Math.min(Math.max(scaled, -clip), clip);
  }

  /** Scales rewards in place with {@link Normalizer.scaleReward}. */
  scaleRewards(rewards: Float32Array): void {
    if (!this.options.rewards) return;
    for (let i = 0; i < rewards.length; i++) rewards[i] = this.scaleReward(rewards[i]!);
  }

  /** Plain-JSON statistics. */
  toJSON(): Record<string, unknown> {
    return {
      observations: this.observationStats.toJSON(),
      returns: this.returnStats.toJSON(),
      discounted: Array.from(this.returns),
    };
  }

  /** Restores {@link Normalizer.toJSON}; throws `InvalidStateError` on a malformed or mismatched state. */
  fromJSON(json: unknown, file = 'agent state'): void {
    const j = json as { observations?: unknown; returns?: unknown; discounted?: unknown } | null;
    if (
      typeof j !== 'object' ||
      j === null ||
      !Array.isArray(j.discounted) ||
      j.discounted.length !== this.options.numEnvs
    ) {
      throw new InvalidStateError(
        `normalisation statistics in ${file}`,
        `{observations, returns, discounted[${this.options.numEnvs}]}`,
        json,
      );
    }
    const observations = RunningMeanStd.fromJSON(j.observations);
    if (observations.mean.length !== this.options.size) {
      throw new InvalidStateError(
        `observation statistics in ${file}`,
        `${this.options.size} values`,
        observations.mean.length,
      );
    }
    this.observationStats = observations;
    this.returnStats = RunningMeanStd.fromJSON(j.returns);
    this.returns = Float64Array.from(j.discounted as number[]);
  }
}
