/** A callback that "kills" a training run: it throws once the loop reaches `step` env steps. */
import type { Callback } from '../../agents/loop.js';

export class KillAt implements Callback {
  readonly name = 'kill';
  private readonly step: number;
  constructor(step: number) {
    this.step = step;
  }
  onStep({ envSteps }: { envSteps: number }): void {
    if (envSteps >= this.step) throw new Error(`killed at ${envSteps}`);
  }
}
