/**
 * The part of the {@link Agent} contract that DQN and SAC share: acting on a row batch of
 * observations, and observing transitions one at a time (store in the replay buffer, then train if
 * it is time), and normalising a replay batch. Each agent writes `actRows`, `store` and `afterStep`; everything an agent learns
 * stays in its own file.
 *
 * Besides the env-facing contract, both agents can be driven without an environment (what a
 * model-based learner does with imagined data): {@link OffPolicyAgent.trainFrom} runs gradient
 * steps on batches drawn from given replay buffers in given shares, and two row hooks read the
 * networks on flat observation rows — {@link OffPolicyAgent.actOnRows} (the actor, or ε-greedy Q)
 * and {@link OffPolicyAgent.valueRows} (the critic's state value). These hooks speak the
 * environment's units: observations as {@link ObservationEncoder} rows, actions as the environment
 * takes them.
 */
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  formatValue,
} from '../envs/core/errors.js';
import type { Rng } from '../envs/core/rng.js';
import type { ActBatchOptions, ActOptions, Agent, Metrics, Transition } from './agent.js';
import type { ReplayBatch, ReplayBuffer } from './buffers/replay-buffer.js';
import { MetricAccumulator } from './checkpoint.js';
import type { Normalizer } from './normalization.js';

/**
 * A replay buffer {@link OffPolicyAgent.trainFrom} draws from, and its share of every batch. The
 * buffer holds observations as {@link ObservationEncoder} rows and actions as the environment
 * takes them (Box values in the action bounds; Discrete values including the space's `start`);
 * a buffer without action masks counts every action as allowed.
 */
export interface ReplaySource {
  /** The transitions. */
  buffer: ReplayBuffer;
  /** Share of each batch in [0, 1]; the shares of all sources sum to 1. */
  fraction: number;
}

/** Options of {@link OffPolicyAgent.actOnRows}. */
export interface RowActOptions {
  /** Sample (SAC's Gaussian or categorical, DQN's ε-greedy) or act greedily. */
  explore: boolean;
  /** The generator the exploration draws from (the caller's, so the agent's own stays untouched). */
  rng: Rng;
  /** Allowed actions per row, `[n × actions]` (Discrete); undefined: all allowed. */
  masks?: Uint8Array | undefined;
}

/** Base of the replay-buffer agents (DQN, SAC). */
export abstract class OffPolicyAgent<O, A> implements Partial<Agent<O, A>> {
  /** Metrics logged since the last {@link OffPolicyAgent.metrics} call. */
  protected readonly accumulator = new MetricAccumulator();
  /** Observation and reward statistics, saved with the agent. */
  protected abstract readonly normalizer: Normalizer;

  async act(observation: O, options: ActOptions = {}): Promise<A> {
    const [a] = await this.actRows([observation], options.explore ?? false, [options.actionMask]);
    return a!;
  }

  async actBatch(observations: readonly O[], options: ActBatchOptions = {}): Promise<A[]> {
    return this.actRows(observations, options.explore ?? false, options.actionMasks ?? []);
  }

  async observe(t: Transition<O, A>): Promise<void> {
    this.store(t);
    await this.afterStep();
  }

  async observeBatch(transitions: readonly (Transition<O, A> | null)[]): Promise<void> {
    for (const t of transitions) {
      if (t === null) continue;
      this.store(t);
      await this.afterStep();
    }
  }

  metrics(): Metrics {
    return this.accumulator.drain();
  }

  /** Raw replay values → what the networks see (current statistics, as SB3). */
  protected normalizeBatch(batch: ReplayBatch): void {
    this.normalizer.normalizeObservations(batch.observations);
    this.normalizer.normalizeObservations(batch.nextObservations);
    this.normalizer.scaleRewards(batch.rewards);
  }

  /** One action per observation (`masks[i]` for row i, when the env gives masks). */
  protected abstract actRows(
    observations: readonly O[],
    explore: boolean,
    masks: readonly (Uint8Array | undefined)[],
  ): Promise<A[]>;

  /** Validates a transition and adds it to the replay buffer. */
  protected abstract store(t: Transition<O, A>): void;

  /** Runs the gradient steps due after one more env step. */
  protected abstract afterStep(): Promise<void>;

  /** Builds the networks (and picks the tensor backend); the row hooks need it done. */
  abstract ready(): Promise<void>;

  /**
   * Runs `updates` gradient steps (critic, actor and targets as the algorithm schedules them)
   * without any env step, each on one batch of `batchSize` transitions drawn from `sources` in
   * their shares (see {@link sampleReplaySources}).
   * @throws {@link InvalidOptionError} for a bad update count, bad shares or a buffer whose layout
   * is not the agent's.
   */
  abstract trainFrom(sources: readonly ReplaySource[], updates: number): Promise<void>;

  /**
   * The agent's actions for `n` observation rows (`rows` `[n × observationSize]`, as
   * {@link ObservationEncoder} writes them), one network pass: `[n × actionDim]` Box values in the
   * bounds or `[n]` Discrete values. Synchronous; call {@link OffPolicyAgent.ready} first.
   * @throws {@link InvalidStateError} before `ready()`.
   * @throws {@link InvalidValueError} for rows or masks of the wrong length.
   */
  abstract actOnRows(rows: Float32Array, options: RowActOptions): Float32Array;

  /**
   * The critic's value of `n` observation rows, `[n]`, one pass (in the reward units the critic
   * learned). Synchronous; call {@link OffPolicyAgent.ready} first.
   * @throws {@link InvalidStateError} before `ready()`.
   * @throws {@link InvalidValueError} for rows or masks of the wrong length.
   */
  abstract valueRows(rows: Float32Array, masks?: Uint8Array): Float32Array;
}

/** The layout a {@link ReplaySource} buffer must have for an agent. */
export interface ReplayLayout {
  /** Observation row length. */
  observationSize: number;
  /** Values per action (1 for Discrete). */
  actionSize: number;
  /** Number of discrete actions when the agent reads masks; 0 for Box. */
  actionCount: number;
}

/**
 * Checks `updates` and `sources` for {@link OffPolicyAgent.trainFrom} of `agent`.
 * @throws {@link InvalidOptionError} naming the bad argument, what it holds and what is allowed.
 */
export function checkReplaySources(
  agent: string,
  sources: readonly ReplaySource[],
  updates: number,
  layout: ReplayLayout,
): void {
  const where = `${agent}.trainFrom`;
  if (!Number.isSafeInteger(updates) || updates < 0)
    throw new InvalidOptionError(`${where} updates`, updates, 'an integer >= 0');
  const list: unknown = sources;
  if (!Array.isArray(list) || list.length === 0)
    throw new InvalidOptionError(
      `${where} sources`,
      sources,
      'a non-empty array of {buffer, fraction}',
    );
  let total = 0;
  sources.forEach((source, i) => {
    const f = source.fraction;
    if (typeof f !== 'number' || !Number.isFinite(f) || f < 0 || f > 1)
      throw new InvalidOptionError(`${where} sources[${i}].fraction`, f, 'a number in [0, 1]');
    total += f;
    const b = source.buffer;
    const masks = layout.actionCount > 0 ? [0, layout.actionCount] : [0];
    if (
      b.observationSize !== layout.observationSize ||
      b.actionSize !== layout.actionSize ||
      !masks.includes(b.actionMaskSize)
    ) {
      throw new InvalidOptionError(
        `${where} sources[${i}].buffer`,
        `observationSize ${b.observationSize}, actionSize ${b.actionSize}, actionMaskSize ${b.actionMaskSize}`,
        `observationSize ${layout.observationSize}, actionSize ${layout.actionSize}, actionMaskSize ${masks.join(' or ')}`,
      );
    }
  });
  if (Math.abs(total - 1) > 1e-9)
    throw new InvalidOptionError(
      `${where} sources fractions`,
      sources.map((s) => s.fraction),
      'shares summing to 1',
    );
}

/**
 * One batch of `batchSize` rows from `sources`: source i gives
 * `round(c_i · batchSize) − round(c_{i−1} · batchSize)` rows (`c_i` the cumulative share, the last
 * one exactly `batchSize`), drawn uniformly with `rng` in source order; a source with no rows is
 * not sampled. With `actionCount` > 0 every row has masks (all ones for a buffer without them).
 */
export function sampleReplaySources(
  sources: readonly ReplaySource[],
  batchSize: number,
  rng: Rng,
  actionCount: number,
): ReplayBatch {
  const parts: ReplayBatch[] = [];
  let cumulative = 0;
  let taken = 0;
  sources.forEach((source, i) => {
    cumulative += source.fraction;
    const upTo = i === sources.length - 1 ? batchSize : Math.round(cumulative * batchSize);
    const count = Math.max(upTo - taken, 0);
    taken += count;
    if (count > 0) parts.push(source.buffer.sample(count, rng));
  });
  if (parts.length === 1 && (actionCount === 0 || parts[0]!.actionMasks !== undefined))
    return parts[0]!;
  const first = parts[0]!;
  const o = first.observations.length / first.size;
  const a = first.actions.length / first.size;
  const out: ReplayBatch = {
    size: batchSize,
    observations: new Float32Array(batchSize * o),
    actions: new Float32Array(batchSize * a),
    rewards: new Float32Array(batchSize),
    nextObservations: new Float32Array(batchSize * o),
    terminated: new Float32Array(batchSize),
    truncated: new Float32Array(batchSize),
    actionMasks: actionCount > 0 ? new Uint8Array(batchSize * actionCount).fill(1) : undefined,
    nextActionMasks: actionCount > 0 ? new Uint8Array(batchSize * actionCount).fill(1) : undefined,
    indices: new Int32Array(batchSize),
  };
  let row = 0;
  for (const part of parts) {
    out.observations.set(part.observations, row * o);
    out.actions.set(part.actions, row * a);
    out.rewards.set(part.rewards, row);
    out.nextObservations.set(part.nextObservations, row * o);
    out.terminated.set(part.terminated, row);
    out.truncated.set(part.truncated, row);
    out.indices.set(part.indices, row);
    if (actionCount > 0 && part.actionMasks !== undefined) {
      out.actionMasks!.set(part.actionMasks, row * actionCount);
      out.nextActionMasks!.set(part.nextActionMasks!, row * actionCount);
    }
    row += part.size;
  }
  return out;
}

/**
 * Checks the arguments of an agent's row hook and returns the row count (`rows.length / size`).
 * @throws {@link InvalidStateError} when the agent is not built.
 * @throws {@link InvalidValueError} for rows, or masks (`[n × actionCount]`), of the wrong length.
 */
export function checkRows(
  agent: string,
  built: boolean,
  rows: Float32Array,
  size: number,
  masks: Uint8Array | undefined,
  actionCount: number,
): number {
  if (!built)
    throw new InvalidStateError(
      `${agent} row hooks`,
      'await agent.ready() first',
      'an unbuilt agent',
    );
  if (!(rows instanceof Float32Array) || rows.length % size !== 0)
    throw new InvalidValueError(
      `observation rows for ${agent}`,
      formatValue(rows),
      `a Float32Array of n × ${size} values`,
    );
  const n = rows.length / size;
  if (
    masks !== undefined &&
    (!(masks instanceof Uint8Array) || actionCount === 0 || masks.length !== n * actionCount)
  )
    throw new InvalidValueError(
      `action masks for ${agent}`,
      formatValue(masks),
      actionCount === 0 ? 'no masks (Box actions)' : `a Uint8Array of ${n} × ${actionCount} values`,
    );
  return n;
}
