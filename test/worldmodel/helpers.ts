/** Shared data for the world-model tests: a known linear system and recorded GridNav/TextWorld transitions. */
import { Box } from '../../envs/core/space.js';
import { Rng } from '../../envs/core/rng.js';
import type { TransitionData } from '../../worldmodel/trainer.js';
import type { Trajectory } from '../../worldmodel/evaluate.js';

/** s' = A·s + B·a, r = −‖s'‖², never terminates. */
export const LINEAR_A = [
  [0.9, 0.1, 0],
  [0, 0.8, 0.2],
  [0.1, 0, 0.95],
];
export const LINEAR_B = [0.5, -0.3, 0.2];

export const linearSpaces = {
  observationSpace: new Box({ low: -10, high: 10, shape: [3] }),
  actionSpace: new Box({ low: -1, high: 1, shape: [1] }),
};

/** One step of the linear system. */
export function linearStep(
  s: ArrayLike<number>,
  a: number,
): { next: Float32Array; reward: number } {
  const next = new Float32Array(3);
  let reward = 0;
  for (let j = 0; j < 3; j++) {
    let v = LINEAR_B[j]! * a;
    for (let k = 0; k < 3; k++) v += LINEAR_A[j]![k]! * s[k]!;
    next[j] = v;
    reward -= v * v;
  }
  return { next, reward };
}

/** `n` transitions of the linear system from states uniform in [−range, range]. */
export function linearData(n: number, seed: number, range = 2): TransitionData {
  const rng = new Rng(seed);
  const data: TransitionData = {
    size: n,
    states: new Float32Array(n * 3),
    actions: new Float32Array(n),
    nextStates: new Float32Array(n * 3),
    rewards: new Float32Array(n),
    terminated: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) data.states[i * 3 + j] = rng.uniform(-range, range);
    data.actions[i] = rng.uniform(-1, 1);
    const { next, reward } = linearStep(data.states.subarray(i * 3, i * 3 + 3), data.actions[i]!);
    data.nextStates.set(next, i * 3);
    data.rewards[i] = reward;
  }
  return data;
}

/** Trajectories of the linear system under random actions. */
export function linearTrajectories(count: number, length: number, seed: number): Trajectory[] {
  const rng = new Rng(seed);
  const out: Trajectory[] = [];
  for (let e = 0; e < count; e++) {
    const states = new Float32Array((length + 1) * 3);
    const actions = new Float32Array(length);
    const rewards = new Float32Array(length);
    for (let j = 0; j < 3; j++) states[j] = rng.uniform(-2, 2);
    for (let t = 0; t < length; t++) {
      actions[t] = rng.uniform(-1, 1);
      const { next, reward } = linearStep(states.subarray(t * 3, t * 3 + 3), actions[t]!);
      states.set(next, (t + 1) * 3);
      rewards[t] = reward;
    }
    out.push({ states, actions, rewards, terminated: false });
  }
  return out;
}
