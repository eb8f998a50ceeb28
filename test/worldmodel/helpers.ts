/** Shared data for the world-model tests: a known linear system and recorded GridNav/TextWorld transitions. */
import { Box, Discrete } from '../../envs/core/space.js';
import { Rng } from '../../envs/core/rng.js';
import type {
  ImaginationModel,
  ImaginedStep,
  ImagineStepOptions,
  MemberChoice,
} from '../../worldmodel/model.js';
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

/**
 * A small grid world for the grid backbone: a `size × size` grid, one channel per cell (0 empty,
 * 1 wall, 2 agent) in `x * size + y` order, then the agent's x and y; actions 0..3 move north,
 * east, south, west unless a wall or the border is in the way (reward 1 for bumping). Every
 * transition is on a new random layout.
 */
export const MOVER_SIZE = 5;
export const moverSpaces = {
  observationSpace: new Box({
    low: 0,
    high: Float32Array.from({ length: MOVER_SIZE * MOVER_SIZE + 2 }, (_, i) =>
      i < MOVER_SIZE * MOVER_SIZE ? 2 : MOVER_SIZE - 1,
    ),
    shape: [MOVER_SIZE * MOVER_SIZE + 2],
  }),
  actionSpace: new Discrete(4),
};

/** `n` mover transitions, each on its own random layout (or all on the one `layoutSeed` draws). */
export function moverData(n: number, seed: number, layoutSeed?: number): TransitionData {
  const rng = new Rng(seed);
  const k = MOVER_SIZE;
  const d = k * k + 2;
  const data: TransitionData = {
    size: n,
    states: new Float32Array(n * d),
    actions: new Float32Array(n),
    nextStates: new Float32Array(n * d),
    rewards: new Float32Array(n),
    terminated: new Float32Array(n),
  };
  const dx = [0, 1, 0, -1];
  const dy = [-1, 0, 1, 0];
  for (let i = 0; i < n; i++) {
    const s = data.states.subarray(i * d, (i + 1) * d);
    const layout = layoutSeed === undefined ? rng : new Rng(layoutSeed);
    for (let c = 0; c < k * k; c++) s[c] = layout.random() < 0.25 ? 1 : 0;
    const x = rng.integer(k);
    const y = rng.integer(k);
    s[x * k + y] = 2;
    s[k * k] = x;
    s[k * k + 1] = y;
    const a = rng.integer(4);
    data.actions[i] = a;
    const next = data.nextStates.subarray(i * d, (i + 1) * d);
    next.set(s);
    const nx = x + dx[a]!;
    const ny = y + dy[a]!;
    if (nx < 0 || ny < 0 || nx >= k || ny >= k || s[nx * k + ny] === 1) {
      data.rewards[i] = 1;
    } else {
      next[x * k + y] = 0;
      next[nx * k + ny] = 2;
      next[k * k] = nx;
      next[k * k + 1] = ny;
    }
  }
  return data;
}

/** A model that records every `step` call and forwards it; `members` can pretend an ensemble. */
export class Counting<S, B> implements ImaginationModel<S, B> {
  readonly calls: { rows: number; members: MemberChoice | undefined; actions: Float32Array }[] = [];
  readonly inner: ImaginationModel<S, B>;
  readonly members: number;
  /** Rows a planner selected (kept) out of imagined batches, over all calls. */
  keptRows = 0;
  private readonly hideMasks: boolean;
  private readonly imagined = new WeakSet<object>();

  constructor(
    inner: ImaginationModel<S, B>,
    options: { members?: number; hideMasks?: boolean } = {},
  ) {
    this.inner = inner;
    this.members = options.members ?? inner.members;
    this.hideMasks = options.hideMasks ?? false;
  }

  get actionSpace(): ImaginationModel<S, B>['actionSpace'] {
    return this.inner.actionSpace;
  }

  batch(states: readonly S[]): B {
    return this.inner.batch(states);
  }

  size(batch: B): number {
    return this.inner.size(batch);
  }

  select(batch: B, rows: Int32Array): B {
    if (this.imagined.has(batch as object)) this.keptRows += rows.length;
    return this.inner.select(batch, rows);
  }

  step(batch: B, actions: Float32Array, options?: ImagineStepOptions): ImaginedStep<B> {
    this.calls.push({
      rows: this.inner.size(batch),
      members: options?.members,
      actions: actions.slice(),
    });
    const out = this.inner.step(batch, actions, options);
    this.imagined.add(out.states as object);
    return this.hideMasks ? { ...out, actionMasks: undefined } : out;
  }

  key(batch: B, row: number): string {
    return this.inner.key(batch, row);
  }

  /** Rows imagined so far (the budget in transitions). */
  get transitions(): number {
    return this.calls.reduce((sum, c) => sum + c.rows, 0);
  }
}

/** `data` (mover transitions) with each next state's allowed moves: inside the grid and not into a wall. */
export function withMoverMasks(data: TransitionData): TransitionData {
  const k = MOVER_SIZE;
  const d = k * k + 2;
  const dx = [0, 1, 0, -1];
  const dy = [-1, 0, 1, 0];
  const masks = new Uint8Array(data.size * 4);
  for (let i = 0; i < data.size; i++) {
    const next = data.nextStates.subarray(i * d, (i + 1) * d);
    const x = next[k * k]!;
    const y = next[k * k + 1]!;
    for (let a = 0; a < 4; a++) {
      const nx = x + dx[a]!;
      const ny = y + dy[a]!;
      masks[i * 4 + a] = nx >= 0 && ny >= 0 && nx < k && ny < k && next[nx * k + ny] !== 1 ? 1 : 0;
    }
  }
  return { ...data, nextActionMasks: masks };
}
