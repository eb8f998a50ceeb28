/**
 * The part of the {@link Agent} contract that DQN and SAC share: acting on a row batch of
 * observations, and observing transitions one at a time (store in the replay buffer, then train if
 * it is time). Each agent writes `actRows`, `store` and `afterStep`; everything an agent learns
 * stays in its own file.
 */
import type { ActBatchOptions, ActOptions, Agent, Metrics, Transition } from './agent.js';
import { MetricAccumulator } from './checkpoint.js';

/** Base of the replay-buffer agents (DQN, SAC). */
export abstract class OffPolicyAgent<O, A> implements Partial<Agent<O, A>> {
  /** Metrics logged since the last {@link OffPolicyAgent.metrics} call. */
  protected readonly accumulator = new MetricAccumulator();

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
