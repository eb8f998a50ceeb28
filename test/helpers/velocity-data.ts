/** Test data of sequence world models: a system whose next state needs the history. */
import { Rng } from '../../envs/core/rng.js';
import type { TransitionData } from '../../worldmodel/trainer.js';

/**
 * Constant-velocity trajectories observed by position only: x' = x + v with v drawn per
 * trajectory, so the next position follows from the last two (history), not from x alone.
 */
export function velocityData(trajectories: number, length: number, seed: number): TransitionData {
  const rng = new Rng(seed);
  const n = trajectories * length;
  const data: TransitionData = {
    size: n,
    states: new Float32Array(n),
    actions: new Float32Array(n),
    nextStates: new Float32Array(n),
    rewards: new Float32Array(n),
    terminated: new Float32Array(n),
  };
  for (let t = 0; t < trajectories; t++) {
    let x = rng.uniform(-1, 1);
    const v = rng.uniform(-0.3, 0.3);
    for (let i = 0; i < length; i++) {
      const k = t * length + i;
      data.states[k] = x;
      data.actions[k] = rng.uniform(-1, 1);
      x += v;
      data.nextStates[k] = x;
      data.rewards[k] = -x * x;
    }
  }
  return data;
}
