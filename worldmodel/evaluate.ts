/**
 * How good a world model is, measured on recorded trajectories it was not trained on: the figure
 * behind the study's table 1 (next-state prediction error).
 *
 * For each horizon h (1, 5, 10, 20 by default) and every start t of every trajectory with
 * t + h ≤ its length, the model imagines h steps open-loop from the true state s_t with the true
 * actions a_t … a_{t+h−1} (all starts batched: one model call per step) and its prediction ŝ_{t+h}
 * is compared with the true s_{t+h}:
 * - `mse`: mean over entries of ((ŝ − s) / σ)², σ the standard deviation of each state entry over
 *   the evaluation data (floored at 1e-6; constant entries are compared in raw units), so every
 *   family's error is in z-units;
 * - `noChangeMse`: the same for the "nothing changes" prediction ŝ_{t+h} = s_t, and `ratio` =
 *   mse / noChangeMse (below 1: the model beats copying the state);
 * - the same three split into starts where the state changed over the h steps (`changed`) and
 *   where it did not (`unchanged`), each with its count;
 * - discrete states: `exactMatch` (fraction of predictions equal to the true state in every
 *   entry) and `changedF1`, the F1 score of "entry i changes to value v" over the entries: a true
 *   positive is an entry that changed and was predicted to change to its true value, a false
 *   positive an entry predicted to change that did not change to that value, a false negative an
 *   entry that changed but was not predicted so;
 * - `rewardMse`: mean squared error of the predicted reward at step h (raw units).
 * A prediction after a predicted or true termination is still compared (the states are what they
 * are); starts whose true trajectory terminates before t + h are skipped.
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import type { Env } from '../envs/core/env.js';
import { Rng } from '../envs/core/rng.js';
import { Discrete, flattenInto, flatdim, type AnySpace } from '../envs/core/space.js';
import type { ImaginationModel } from './model.js';
import { emptyTransitions, type TransitionData } from './trainer.js';
import type { ModelBatch } from './world-model.js';

/** One recorded trajectory: T steps. */
export interface Trajectory {
  /** `[(T + 1) × stateSize]`: s_0 … s_T. */
  states: Float32Array;
  /** `[T × actionDim]` (Box) or `[T]` (Discrete values). */
  actions: Float32Array;
  /** `[T]`. */
  rewards: Float32Array;
  /** Whether the last step terminated the MDP. */
  terminated: boolean;
}

/** Errors of one group of predictions. */
export interface ErrorSummary {
  /** Predictions compared. */
  count: number;
  /** Mean squared error in z-units. */
  mse: number;
  /** The no-change prediction's mean squared error in z-units. */
  noChangeMse: number;
  /** mse / noChangeMse (NaN when the no-change error is 0, i.e. nothing changed). */
  ratio: number;
}

/** Errors at one horizon. */
export interface HorizonError extends ErrorSummary {
  /** Steps imagined open-loop. */
  horizon: number;
  /** Starts where the state changed over the h steps. */
  changed: ErrorSummary;
  /** Starts where the state did not change. */
  unchanged: ErrorSummary;
  /** Fraction of exactly right next states (discrete states; undefined for continuous). */
  exactMatch?: number | undefined;
  /** F1 over changed entries (discrete states; undefined for continuous). */
  changedF1?: number | undefined;
  /** Mean squared error of the reward at step h. */
  rewardMse: number;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  /** Horizons. @defaultValue [1, 5, 10, 20] */
  horizons?: readonly number[];
  /** Whether states are discrete (exact match, F1, exact change test). @defaultValue the model's layout, else false */
  discrete?: boolean;
  /** At most this many starts per horizon (evenly spaced over all starts). @defaultValue 20000 */
  maxStarts?: number;
}

/**
 * Measures `model` on `trajectories`; see the module comment.
 * @throws {@link InvalidValueError} for malformed trajectories.
 * @throws {@link InvalidOptionError} for bad horizons.
 */
export function evaluateModel(
  model: ImaginationModel<Float32Array, ModelBatch> & { readonly layout?: { kind: string } },
  trajectories: readonly Trajectory[],
  options: EvaluateModelOptions = {},
): HorizonError[] {
  const horizons: readonly number[] = options.horizons ?? [1, 5, 10, 20];
  if (
    !(horizons instanceof Array) ||
    horizons.length === 0 ||
    !horizons.every((h) => Number.isSafeInteger(h) && h >= 1)
  )
    throw new InvalidOptionError(
      'evaluateModel horizons',
      horizons,
      'a non-empty array of positive integers',
    );
  const maxStarts = options.maxStarts ?? 20_000;
  if (!Number.isSafeInteger(maxStarts) || maxStarts < 1)
    throw new InvalidOptionError('evaluateModel maxStarts', maxStarts, 'a positive integer');
  const discrete = options.discrete ?? model.layout?.kind === 'discrete';
  const perAction = model.actionSpace instanceof Discrete ? 1 : model.actionSpace.size;
  if (trajectories.length === 0)
    throw new InvalidValueError('trajectories for evaluateModel', '[]', 'at least one trajectory');
  const first = trajectories[0]!;
  const t0 = first.rewards.length;
  const d = first.states.length / (t0 + 1);
  trajectories.forEach((tr, i) => {
    const t = tr.rewards.length;
    if (
      !(tr.states instanceof Float32Array) ||
      !(tr.actions instanceof Float32Array) ||
      !(tr.rewards instanceof Float32Array) ||
      tr.states.length !== (t + 1) * d ||
      tr.actions.length !== t * perAction ||
      !Number.isInteger(d) ||
      d < 1
    )
      throw new InvalidValueError(
        `trajectory ${i} for evaluateModel`,
        `states ${formatValue(tr.states.length)}, actions ${formatValue(tr.actions.length)}, rewards ${formatValue(tr.rewards.length)} values`,
        `T rewards, (T + 1) × ${d} states and T × ${perAction} actions`,
      );
  });
  // σ per entry over every state of the evaluation data.
  const sigma = stateStd(trajectories, d);
  const out: HorizonError[] = [];
  for (const h of horizons) {
    const starts: [number, number][] = [];
    trajectories.forEach((tr, i) => {
      const t = tr.rewards.length;
      for (let s = 0; s + h <= t; s++) {
        // a terminal step is the last one; it may end the window but not lie inside it
        starts.push([i, s]);
      }
    });
    const picked =
      starts.length <= maxStarts
        ? starts
        : Array.from(
            { length: maxStarts },
            (_, k) => starts[Math.floor((k * starts.length) / maxStarts)]!,
          );
    out.push(measure(model, trajectories, picked, h, d, perAction, sigma, discrete));
  }
  return out;
}

function measure(
  model: ImaginationModel<Float32Array, ModelBatch>,
  trajectories: readonly Trajectory[],
  starts: readonly [number, number][],
  h: number,
  d: number,
  perAction: number,
  sigma: Float64Array,
  discrete: boolean,
): HorizonError {
  const n = starts.length;
  const empty = (): ErrorSummary => ({ count: 0, mse: NaN, noChangeMse: NaN, ratio: NaN });
  if (n === 0)
    return {
      horizon: h,
      ...empty(),
      changed: empty(),
      unchanged: empty(),
      rewardMse: NaN,
      exactMatch: discrete ? NaN : undefined,
      changedF1: discrete ? NaN : undefined,
    };
  const initial = new Float32Array(n * d);
  starts.forEach(([i, s], k) =>
    initial.set(trajectories[i]!.states.subarray(s * d, s * d + d), k * d),
  );
  let batch = model.batch(Array.from({ length: n }, (_, k) => initial.subarray(k * d, k * d + d)));
  let rewards: Float32Array = new Float32Array(n);
  const actions = new Float32Array(n * perAction);
  for (let step = 0; step < h; step++) {
    starts.forEach(([i, s], k) => {
      const a = trajectories[i]!.actions;
      actions.set(a.subarray((s + step) * perAction, (s + step + 1) * perAction), k * perAction);
    });
    const r = model.step(batch, actions);
    batch = r.states;
    rewards = r.rewards;
  }
  const predicted = batch.states;
  const all = { count: 0, se: 0, nc: 0 };
  const changed = { count: 0, se: 0, nc: 0 };
  const unchanged = { count: 0, se: 0, nc: 0 };
  let exact = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let rewardSe = 0;
  for (let k = 0; k < n; k++) {
    const [i, s] = starts[k]!;
    const tr = trajectories[i]!;
    const truth = tr.states.subarray((s + h) * d, (s + h + 1) * d);
    let se = 0;
    let nc = 0;
    let moved = false;
    let same = true;
    for (let j = 0; j < d; j++) {
      const sd = sigma[j]!;
      const p = predicted[k * d + j]!;
      const y = truth[j]!;
      const x0 = initial[k * d + j]!;
      se += ((p - y) / sd) ** 2;
      nc += ((x0 - y) / sd) ** 2;
      if (discrete ? x0 !== y : Math.abs(x0 - y) > 1e-6 * sd) moved = true;
      if (p !== y) same = false;
      if (discrete) {
        const trulyChanged = x0 !== y;
        const predictedChange = p !== x0;
        if (trulyChanged && predictedChange && p === y) tp++;
        else {
          if (predictedChange) fp++;
          if (trulyChanged) fn++;
        }
      }
    }
    se /= d;
    nc /= d;
    for (const g of [all, moved ? changed : unchanged]) {
      g.count++;
      g.se += se;
      g.nc += nc;
    }
    if (same) exact++;
    rewardSe += (rewards[k]! - tr.rewards[s + h - 1]!) ** 2;
  }
  const summary = (g: { count: number; se: number; nc: number }): ErrorSummary => {
    if (g.count === 0) return empty();
    const mse = g.se / g.count;
    const noChangeMse = g.nc / g.count;
    return { count: g.count, mse, noChangeMse, ratio: noChangeMse > 0 ? mse / noChangeMse : NaN };
  };
  const f1 = tp + fp + fn === 0 ? NaN : (2 * tp) / (2 * tp + fp + fn);
  return {
    horizon: h,
    ...summary(all),
    changed: summary(changed),
    unchanged: summary(unchanged),
    exactMatch: discrete ? exact / n : undefined,
    changedF1: discrete ? f1 : undefined,
    rewardMse: rewardSe / n,
  };
}

function stateStd(trajectories: readonly Trajectory[], d: number): Float64Array {
  const mean = new Float64Array(d);
  let count = 0;
  for (const tr of trajectories) {
    const rows = tr.states.length / d;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < d; j++) mean[j] = mean[j]! + tr.states[r * d + j]!;
    count += rows;
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / count;
  const v = new Float64Array(d);
  for (const tr of trajectories) {
    const rows = tr.states.length / d;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < d; j++) v[j] = v[j]! + (tr.states[r * d + j]! - mean[j]!) ** 2;
  }
  // A constant entry (σ = 0) is compared in raw units.
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(v[j]! / count);
    v[j] = s > 1e-6 ? s : 1;
  }
  return v;
}

/** Options of {@link collectTrajectories}. */
export interface CollectOptions {
  /** Episodes to record. */
  episodes: number;
  /** Seed of the first reset (later episodes continue the generator), below 1,000,000 for evaluation. */
  seed: number;
  /** Seed of the random actions. @defaultValue seed */
  actionSeed?: number;
  /** Cut each episode after this many steps. @defaultValue 1000 */
  maxSteps?: number;
  /** The action for an observation; defaults to a uniformly random allowed action. */
  policy?: (observation: unknown, info: Record<string, unknown>, rng: Rng) => unknown;
}

/**
 * Records episodes of `env` (flattened observations) under `policy` — by default uniformly random
 * allowed actions — for {@link evaluateModel} or for training on other seeds.
 */
export function collectTrajectories(env: Env, options: CollectOptions): Trajectory[] {
  const space = env.observationSpace as AnySpace;
  const d = flatdim(space);
  const actionSpace = env.actionSpace as AnySpace;
  const discrete = actionSpace instanceof Discrete;
  const rng = new Rng(options.actionSeed ?? options.seed);
  const maxSteps = options.maxSteps ?? 1000;
  const out: Trajectory[] = [];
  for (let e = 0; e < options.episodes; e++) {
    let { observation, info } = env.reset(e === 0 ? { seed: options.seed } : {});
    const states: number[] = [];
    const actions: number[] = [];
    const rewards: number[] = [];
    const row = new Float32Array(d);
    const push = (o: unknown): void => {
      flattenInto(space, o, row, 0);
      for (const v of row) states.push(v);
    };
    push(observation);
    let terminated = false;
    for (let t = 0; t < maxSteps; t++) {
      let action: unknown;
      if (options.policy !== undefined) action = options.policy(observation, info, rng);
      else if (discrete) {
        const mask = info['actionMask'] as Uint8Array | undefined;
        action = actionSpace.sample(rng, mask);
      } else action = actionSpace.sample(rng);
      const result = env.step(action);
      if (discrete) actions.push(action as number);
      else for (const v of action as Float32Array) actions.push(v);
      rewards.push(result.reward);
      push(result.observation);
      observation = result.observation;
      info = result.info;
      if (result.terminated || result.truncated) {
        terminated = result.terminated;
        break;
      }
    }
    out.push({
      states: Float32Array.from(states),
      actions: Float32Array.from(actions),
      rewards: Float32Array.from(rewards),
      terminated,
    });
  }
  return out;
}

/**
 * The transitions of `trajectories`, as flat rows for {@link WorldModelTrainer.fit} (the last step
 * of a trajectory that terminated is marked terminated).
 * @throws {@link InvalidValueError} for an empty list or trajectories of different widths.
 */
export function transitionsOf(trajectories: readonly Trajectory[]): TransitionData {
  const withSteps = trajectories.filter((t) => t.rewards.length > 0);
  if (withSteps.length === 0)
    throw new InvalidValueError(
      'trajectories for transitionsOf',
      `${trajectories.length} trajectories without steps`,
      'at least one step',
    );
  const first = withSteps[0]!;
  const d = first.states.length / (first.rewards.length + 1);
  const a = first.actions.length / first.rewards.length;
  const n = withSteps.reduce((s, t) => s + t.rewards.length, 0);
  const out = emptyTransitions(n, d, a);
  let k = 0;
  withSteps.forEach((tr, j) => {
    const t = tr.rewards.length;
    if (tr.states.length !== (t + 1) * d || tr.actions.length !== t * a)
      throw new InvalidValueError(
        `trajectory ${j} for transitionsOf`,
        `${tr.states.length} state and ${tr.actions.length} action values for ${t} steps`,
        `(T + 1) × ${d} and T × ${a}`,
      );
    for (let i = 0; i < t; i++, k++) {
      out.states.set(tr.states.subarray(i * d, (i + 1) * d), k * d);
      out.nextStates.set(tr.states.subarray((i + 1) * d, (i + 2) * d), k * d);
      out.actions.set(tr.actions.subarray(i * a, (i + 1) * a), k * a);
      out.rewards[k] = tr.rewards[i]!;
      out.terminated[k] = tr.terminated && i === t - 1 ? 1 : 0;
    }
  });
  return out;
}
