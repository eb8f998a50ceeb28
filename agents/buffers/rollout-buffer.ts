/**
 * The on-policy rollout buffer: `numSteps` transitions per environment (one column each, in time
 * order), then generalised advantage estimation, GAE(λ) (Schulman et al. 2016), written once here.
 *
 * Episode ends are handled as SB3 does, not as CleanRL: a `terminated` step has no future value;
 * a `truncated` step (time limit) bootstraps from the value of its final observation
 * (`bootstrapValues`), and in both cases the advantage recursion does not cross into the next
 * episode. The last stored step of a column bootstraps from the value of the observation that
 * follows it.
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../../envs/core/errors.js';

/** Options of {@link RolloutBuffer}. */
export interface RolloutBufferOptions {
  /** Steps per environment before an update. */
  numSteps: number;
  /** Environments (columns). */
  numEnvs: number;
  /** Length of a flattened observation. */
  observationSize: number;
  /** Length of an action as stored (1 for a discrete index). */
  actionSize: number;
  /** Number of discrete actions when masks are stored; 0 for none. @defaultValue 0 */
  actionMaskSize?: number;
}

/** One on-policy step as stored. */
export interface RolloutStep {
  observation: Float32Array;
  /** The observation that followed (the final observation when the episode ended). */
  nextObservation: Float32Array;
  /** The action as sampled (unclipped for Gaussian policies). */
  action: Float32Array;
  /** log π(action | observation) at collection time. */
  logProb: number;
  /** V(observation) at collection time. */
  value: number;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** Allowed actions in `observation` (when masks are stored). */
  actionMask?: Uint8Array | undefined;
}

/** A fixed-size store of on-policy steps with GAE. */
export class RolloutBuffer {
  readonly numSteps: number;
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly actionMaskSize: number;
  /** `[numEnvs * numSteps, observationSize]`, column `e` at rows `e * numSteps ...`. */
  readonly observations: Float32Array;
  /** Next observations, same layout (read for bootstrap values). */
  readonly nextObservations: Float32Array;
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly values: Float32Array;
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly actionMasks: Uint8Array;
  /** V(final observation) for truncated steps, V(next observation) for each column's last step. */
  readonly bootstrapValues: Float32Array;
  /** Filled by {@link RolloutBuffer.computeAdvantages}. */
  readonly advantages: Float32Array;
  /** Advantages + values (the value targets). */
  readonly returns: Float32Array;
  private readonly counts: number[];

  constructor(options: RolloutBufferOptions) {
    for (const key of ['numSteps', 'numEnvs', 'observationSize', 'actionSize'] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < 1)
        throw new InvalidOptionError(key, v, 'a positive integer');
    }
    const maskSize = options.actionMaskSize ?? 0;
    this.numSteps = options.numSteps;
    this.numEnvs = options.numEnvs;
    this.observationSize = options.observationSize;
    this.actionSize = options.actionSize;
    this.actionMaskSize = maskSize;
    const n = this.numSteps * this.numEnvs;
    this.observations = new Float32Array(n * this.observationSize);
    this.nextObservations = new Float32Array(n * this.observationSize);
    this.actions = new Float32Array(n * this.actionSize);
    this.logProbs = new Float32Array(n);
    this.values = new Float32Array(n);
    this.rewards = new Float32Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.actionMasks = new Uint8Array(n * maskSize);
    this.bootstrapValues = new Float32Array(n);
    this.advantages = new Float32Array(n);
    this.returns = new Float32Array(n);
    this.counts = new Array<number>(this.numEnvs).fill(0);
  }

  /** Steps stored in column `env`. */
  countOf(env: number): number {
    return this.counts[env]!;
  }

  /** Steps stored in all columns. */
  get size(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** True when some column holds `numSteps` steps. */
  get full(): boolean {
    return this.counts.some((c) => c >= this.numSteps);
  }

  /** Row index of step `t` of column `env`. */
  row(env: number, t: number): number {
    return env * this.numSteps + t;
  }

  /** Storage rows of every stored step, column by column. */
  storedRows(): Int32Array {
    const rows = new Int32Array(this.size);
    let k = 0;
    for (let e = 0; e < this.numEnvs; e++)
      for (let t = 0; t < this.counts[e]!; t++) rows[k++] = this.row(e, t);
    return rows;
  }

  /** Appends a step to column `env`; returns its row. */
  add(step: RolloutStep, env = 0): number {
    if (!Number.isSafeInteger(env) || env < 0 || env >= this.numEnvs)
      throw new InvalidOptionError('env', env, `an integer in 0..${this.numEnvs - 1}`);
    const t = this.counts[env]!;
    if (t >= this.numSteps)
      throw new InvalidOptionError(
        `add() to column ${env}`,
        'a full column',
        `at most ${this.numSteps} steps per column; call reset() after the update`,
      );
    if (
      !(step.observation instanceof Float32Array) ||
      step.observation.length !== this.observationSize
    ) {
      throw new InvalidValueError(
        'observation for the rollout buffer',
        formatValue(step.observation),
        `a Float32Array of ${this.observationSize} values`,
      );
    }
    if (
      !(step.nextObservation instanceof Float32Array) ||
      step.nextObservation.length !== this.observationSize
    ) {
      throw new InvalidValueError(
        'nextObservation for the rollout buffer',
        formatValue(step.nextObservation),
        `a Float32Array of ${this.observationSize} values`,
      );
    }
    if (!(step.action instanceof Float32Array) || step.action.length !== this.actionSize) {
      throw new InvalidValueError(
        'action for the rollout buffer',
        formatValue(step.action),
        `a Float32Array of ${this.actionSize} values`,
      );
    }
    if (!Number.isFinite(step.reward))
      throw new InvalidValueError(
        'reward for the rollout buffer',
        formatValue(step.reward),
        'a finite number',
      );
    const r = this.row(env, t);
    this.observations.set(step.observation, r * this.observationSize);
    this.nextObservations.set(step.nextObservation, r * this.observationSize);
    this.actions.set(step.action, r * this.actionSize);
    this.logProbs[r] = step.logProb;
    this.values[r] = step.value;
    this.rewards[r] = step.reward;
    this.terminated[r] = step.terminated ? 1 : 0;
    this.truncated[r] = step.truncated ? 1 : 0;
    this.bootstrapValues[r] = 0;
    if (this.actionMaskSize > 0) {
      if (step.actionMask === undefined)
        this.actionMasks.fill(1, r * this.actionMaskSize, (r + 1) * this.actionMaskSize);
      else this.actionMasks.set(step.actionMask, r * this.actionMaskSize);
    }
    this.counts[env] = t + 1;
    return r;
  }

  /**
   * Rows that need `bootstrapValues[row]` = V(nextObservations[row]) before
   * {@link RolloutBuffer.computeAdvantages}: truncated steps, and each column's last step when its
   * episode goes on.
   */
  rowsNeedingBootstrap(): number[] {
    const rows: number[] = [];
    for (let e = 0; e < this.numEnvs; e++) {
      const n = this.counts[e]!;
      for (let t = 0; t < n; t++) {
        const r = this.row(e, t);
        if (this.terminated[r] === 0 && (this.truncated[r] === 1 || t === n - 1)) rows.push(r);
      }
    }
    return rows;
  }

  /**
   * GAE(λ): δₜ = rₜ + γ·V(next) − V(sₜ), Aₜ = δₜ + γλ·Aₜ₊₁ within an episode; returns = A + V.
   * `V(next)` is the next stored value, or `bootstrapValues[t]` after a truncation or at a column's
   * end, or 0 after termination.
   */
  computeAdvantages(gamma: number, lambda: number): void {
    for (let e = 0; e < this.numEnvs; e++) {
      const n = this.counts[e]!;
      let nextAdvantage = 0;
      for (let t = n - 1; t >= 0; t--) {
        const r = this.row(e, t);
        const ended = this.terminated[r] === 1 || this.truncated[r] === 1;
        let nextValue: number;
        if (this.terminated[r] === 1) nextValue = 0;
        else if (this.truncated[r] === 1 || t === n - 1) nextValue = this.bootstrapValues[r]!;
        else nextValue = this.values[r + 1]!;
        const continues = !ended && t < n - 1 ? 1 : 0;
        const delta = this.rewards[r]! + gamma * nextValue - this.values[r]!;
        const advantage = delta + gamma * lambda * continues * nextAdvantage;
        this.advantages[r] = advantage;
        this.returns[r] = advantage + this.values[r]!;
        nextAdvantage = advantage;
      }
    }
  }

  /** Empties every column (storage is reused). */
  reset(): void {
    this.counts.fill(0);
  }

  /** Plain-JSON form of the stored steps (for checkpoints). */
  toJSON(): { counts: number[]; data: Record<string, number[]> } {
    const rows = this.storedRows();
    const pick = (array: Float32Array | Uint8Array, width: number): number[] => {
      const out: number[] = [];
      for (const r of rows) for (let j = 0; j < width; j++) out.push(array[r * width + j]!);
      return out;
    };
    return {
      counts: [...this.counts],
      data: {
        observations: pick(this.observations, this.observationSize),
        nextObservations: pick(this.nextObservations, this.observationSize),
        actions: pick(this.actions, this.actionSize),
        logProbs: pick(this.logProbs, 1),
        values: pick(this.values, 1),
        rewards: pick(this.rewards, 1),
        terminated: pick(this.terminated, 1),
        truncated: pick(this.truncated, 1),
        actionMasks: pick(this.actionMasks, this.actionMaskSize),
      },
    };
  }

  /** Restores {@link RolloutBuffer.toJSON}; throws `InvalidValueError` on a layout mismatch. */
  fromJSON(json: { counts: number[]; data: Record<string, number[]> }): void {
    const counts = json.counts;
    if (
      !Array.isArray(counts) ||
      counts.length !== this.numEnvs ||
      counts.some((c) => !Number.isSafeInteger(c) || c < 0 || c > this.numSteps)
    ) {
      throw new InvalidValueError(
        'rollout buffer counts',
        formatValue(counts),
        `${this.numEnvs} integers in 0..${this.numSteps}`,
      );
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const fields: [string, Float32Array | Uint8Array, number][] = [
      ['observations', this.observations, this.observationSize],
      ['nextObservations', this.nextObservations, this.observationSize],
      ['actions', this.actions, this.actionSize],
      ['logProbs', this.logProbs, 1],
      ['values', this.values, 1],
      ['rewards', this.rewards, 1],
      ['terminated', this.terminated, 1],
      ['truncated', this.truncated, 1],
      ['actionMasks', this.actionMasks, this.actionMaskSize],
    ];
    for (const [name, , width] of fields) {
      const values = json.data[name];
      if (!Array.isArray(values) || values.length !== total * width) {
        throw new InvalidValueError(
          `rollout buffer field ${name}`,
          `${Array.isArray(values) ? values.length : formatValue(values)} values`,
          `${total * width} values`,
        );
      }
    }
    for (let e = 0; e < this.numEnvs; e++) this.counts[e] = counts[e]!;
    const rows = this.storedRows();
    for (const [name, array, width] of fields) {
      const values = json.data[name]!;
      rows.forEach((r, i) => {
        for (let j = 0; j < width; j++) array[r * width + j] = values[i * width + j]!;
      });
    }
  }
}
