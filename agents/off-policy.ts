/**
 * The part of the {@link Agent} contract that DQN and SAC share: acting on a row batch of
 * observations, and observing transitions one at a time (store in the replay buffer, then train if
 * it is time), and normalising a replay batch. Each agent writes `actRows`, `store` and `afterStep`; everything an agent learns
 * stays in its own file.
 */
import type { ActBatchOptions, ActOptions, Agent, Metrics, Transition } from './agent.js';
import type { ReplayBatch } from './buffers/replay-buffer.js';
import { MetricAccumulator } from './checkpoint.js';
import type { Normalizer } from './normalization.js';

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
}
