import test from 'ava';
import '../../envs/index.js';
import type { Env, JsonValue } from '../../envs/core/env.js';
import { InvalidOptionError, InvalidStateError } from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { Discrete } from '../../envs/core/space.js';
import type { ImaginationModel, ImaginedStep, ImagineStepOptions } from '../../worldmodel/model.js';
import {
  CEM_DEFAULTS,
  CemPlanner,
  MPPI_DEFAULTS,
  MppiPlanner,
  SEARCH_DEFAULTS,
  SHOOTING_DEFAULTS,
  SearchPlanner,
  ShootingPlanner,
  createPlanner,
  type Planner,
} from '../../worldmodel/planner.js';
import { TrueModel, type EnvSnapshot, type TrueModelBatch } from '../../worldmodel/true-model.js';
import { ChainEnv } from '../helpers/chain-env.js';
import { Counting } from './helpers.js';

// ---- helpers ------------------------------------------------------------------------------------

/** Pendulum-v1 seed 5 starts 110° from upright (θ = 1.92 rad): below the horizontal, where the
 * torque limit cannot lift it straight up, so a good return needs a swing-up. */
const SWING_UP_SEED = 5;

/** Return of one Pendulum-v1 episode (200 steps) acting with `planner` on the true model. */
function pendulumEpisode(
  makePlanner: (model: ImaginationModel<EnvSnapshot, TrueModelBatch>) => Planner<EnvSnapshot>,
  seed: number,
  steps = 200,
): { ret: number; transitions: number; theta0: number } {
  const env = make('Pendulum-v1');
  env.reset({ seed });
  const theta0 = (TrueModel.snapshot(env) as { env: { theta: number } }).env.theta;
  const model = new Counting(TrueModel.copyOf(env));
  const planner = makePlanner(model);
  let ret = 0;
  for (let t = 0; t < steps; t++) {
    const { reward } = env.step(planner.plan(TrueModel.snapshot(env)));
    ret += reward;
  }
  return { ret, transitions: model.transitions, theta0 };
}

/** Plays a GridNav episode with `planner` until it ends; the number of steps and the last info. */
function playGrid(env: Env, planner: Planner<EnvSnapshot, number>, mask: Uint8Array | undefined) {
  let steps = 0;
  for (;;) {
    const action = planner.plan(TrueModel.snapshot(env), { actionMask: mask });
    const r = env.step(action);
    steps++;
    mask = r.info['actionMask'] as Uint8Array;
    if (r.terminated || r.truncated) return { steps, info: r.info };
  }
}

interface ToyBatch {
  /** 1 where the row's episode has ended. */
  ended: Uint8Array;
  /** Steps imagined from the root. */
  depth: number;
}

/**
 * Discrete(2) toy. Action 0 ends the episode with reward 1; action 1 gives 0 and goes on. After
 * the end the toy keeps "predicting" reward 5 and no termination, as a learned model may: a
 * planner must not count anything after a predicted termination.
 */
class EndingToy implements ImaginationModel<number, ToyBatch> {
  readonly actionSpace = new Discrete(2);
  readonly members: number = 1;

  batch(states: readonly number[]): ToyBatch {
    return { ended: Uint8Array.from(states), depth: 0 };
  }

  size(batch: ToyBatch): number {
    return batch.ended.length;
  }

  select(batch: ToyBatch, rows: Int32Array): ToyBatch {
    return { ended: Uint8Array.from(rows, (r) => batch.ended[r]!), depth: batch.depth };
  }

  step(batch: ToyBatch, actions: Float32Array): ImaginedStep<ToyBatch> {
    const n = batch.ended.length;
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    const ended = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      if (batch.ended[r] === 1) {
        rewards[r] = 5;
        ended[r] = 1;
      } else if (actions[r] === 0) {
        rewards[r] = 1;
        dones[r] = 1;
        ended[r] = 1;
      }
    }
    return {
      states: { ended, depth: batch.depth + 1 },
      rewards,
      dones,
      disagreement: new Float32Array(n),
    };
  }

  key(batch: ToyBatch, row: number): string {
    return `${batch.ended[row]}`;
  }
}

/**
 * Discrete(2) toy ensemble of two members, one step deep: action 0 gives reward 1 under both
 * members; action 1 gives 3 under member 0 and -0.5 under member 1 (mean 1.25, spread 1.75).
 * With `ts`, row r follows member r mod 2.
 */
class SplitToy extends EndingToy {
  override readonly members = 2;

  override step(
    batch: ToyBatch,
    actions: Float32Array,
    options: ImagineStepOptions = {},
  ): ImaginedStep<ToyBatch> {
    const out = super.step(batch, actions);
    for (let r = 0; r < actions.length; r++) {
      const member = r % 2;
      out.rewards[r] =
        actions[r] === 0 ? 1 : options.members === 'ts' ? (member === 0 ? 3 : -0.5) : 1.25;
      out.dones[r] = 1;
    }
    return out;
  }
}

/** A root policy that alternates the two actions over the candidates, then always takes action 1. */
const alternate = (batch: ToyBatch): Float32Array =>
  Float32Array.from(batch.ended, (_, r) => (batch.depth === 0 ? r % 2 : 1));

// ---- Pendulum -------------------------------------------------------------------------------------

test('CemPlanner with the true model swings Pendulum-v1 up within one episode', (t) => {
  const { ret, theta0 } = pendulumEpisode(
    (model) =>
      new CemPlanner(model, { population: 60, elites: 6, iterations: 3, horizon: 20, seed: 1 }),
    SWING_UP_SEED,
  );
  t.true(Math.abs(theta0) > Math.PI / 2, 'the episode starts below the horizontal');
  // Random torques score about -1345 from this start, random shooting at this budget about -239;
  // CEM scores about -116 (a swing-up within about 60 steps, then balancing).
  t.true(ret > -200, `return ${ret.toFixed(1)}`);
});

test('CEM beats random shooting at an equal budget of imagined transitions', (t) => {
  const cem = pendulumEpisode(
    (model) =>
      new CemPlanner(model, { population: 60, elites: 6, iterations: 3, horizon: 20, seed: 2 }),
    SWING_UP_SEED,
    120,
  );
  const shooting = pendulumEpisode(
    (model) => new ShootingPlanner(model, { candidates: 180, horizon: 20, seed: 2 }),
    SWING_UP_SEED,
    120,
  );
  t.is(cem.transitions, shooting.transitions, 'the same number of imagined transitions');
  t.true(
    cem.ret > shooting.ret + 50,
    `CEM ${cem.ret.toFixed(1)}, shooting ${shooting.ret.toFixed(1)}`,
  );
});

test('MppiPlanner with the true model also swings Pendulum-v1 up', (t) => {
  const { ret } = pendulumEpisode(
    (model) =>
      new MppiPlanner(model, {
        samples: 60,
        elites: 10,
        iterations: 3,
        horizon: 20,
        policyFraction: 0,
        seed: 1,
      }),
    SWING_UP_SEED,
  );
  // The same bar as CEM's at the same budget: random shooting with it stays near -239.
  t.true(ret > -200, `return ${ret.toFixed(1)}`);
});

// ---- batching -------------------------------------------------------------------------------------

test('every horizon step is one model.step for all candidates × particles, per iteration', (t) => {
  const env = make('Pendulum-v1');
  env.reset({ seed: 0 });
  const state = TrueModel.snapshot(env);
  const count = (
    build: (model: Counting<EnvSnapshot, TrueModelBatch>) => Planner<EnvSnapshot>,
  ): Counting<EnvSnapshot, TrueModelBatch>['calls'] => {
    const model = new Counting(TrueModel.copyOf(env), { members: 2 });
    build(model).plan(state);
    return model.calls;
  };
  const shooting = count(
    (m) => new ShootingPlanner(m, { candidates: 10, horizon: 5, particles: 3 }),
  );
  t.deepEqual(
    shooting.map((c) => c.rows),
    new Array<number>(5).fill(30),
  );
  const cem = count(
    (m) => new CemPlanner(m, { population: 10, elites: 2, iterations: 3, horizon: 5 }),
  );
  t.deepEqual(
    cem.map((c) => c.rows),
    new Array<number>(15).fill(20),
    'one particle per member by default',
  );
  t.true(cem.every((c) => c.members === 'ts'));
  for (const { actions } of cem) {
    for (let c = 0; c < 10; c++)
      t.is(actions[2 * c], actions[2 * c + 1], 'particles share actions');
  }
  const mppi = count(
    (m) =>
      new MppiPlanner(m, {
        samples: 10,
        elites: 3,
        iterations: 2,
        horizon: 5,
        policyFraction: 0.2,
      }),
  );
  t.deepEqual(
    mppi.map((c) => c.rows),
    [...new Array<number>(4).fill(2), ...new Array<number>(10).fill(20)],
    'the two policy rollouts (4 steps to record 5 actions), then 2 iterations × 5 steps',
  );

  const grid = make('GridNav-Task-k10-v0');
  const { info } = grid.reset({ seed: 0 });
  const model = new Counting(TrueModel.copyOf(grid));
  new SearchPlanner(model).plan(TrueModel.snapshot(grid), {
    actionMask: info['actionMask'] as Uint8Array,
  });
  t.is(model.calls.length, info['optimalSteps'] as number, 'one call per layer of the search');
});

// ---- search ---------------------------------------------------------------------------------------

test('SearchPlanner with the true model solves GridNav Task-k10 levels in exactly their optimal number of steps', (t) => {
  for (const seed of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const env = make('GridNav-Task-k10-v0');
    const { info } = env.reset({ seed });
    const planner = new SearchPlanner(TrueModel.copyOf(env));
    const { steps, info: last } = playGrid(env, planner, info['actionMask'] as Uint8Array);
    t.is(info['optimalSteps'], 10);
    t.is(steps, 10, `seed ${seed}`);
    t.true(last['success'], `seed ${seed}`);
  }
});

test('without masks the search prunes actions whose next state is the current one', (t) => {
  const env = make('GridNav-Empty-8x8-v0'); // top-left corner facing east, nothing to pick or toggle
  const { info } = env.reset({ seed: 0 });
  const model = new Counting(TrueModel.copyOf(env), { hideMasks: true });
  const { steps, info: last } = playGrid(env, new SearchPlanner(model), undefined);
  t.is(steps, info['optimalSteps'] as number);
  t.true(last['success']);
  // Root: all 8 actions tried; 4 change something (turn north, go south, go east, turn west),
  // pickup, drop, toggle and done do not. Only the 4 are expanded, by 8 actions each.
  t.is(model.calls[0]!.rows, 8);
  t.is(model.calls[1]!.rows, 32);
});

test('a beam keeps at most beamWidth states per layer and the node budget caps the search', (t) => {
  const env = make('GridNav-Task-k10-v0');
  const { info } = env.reset({ seed: 3 });
  const mask = info['actionMask'] as Uint8Array;
  const beam = new Counting(TrueModel.copyOf(env));
  new SearchPlanner(beam, { beamWidth: 3 }).plan(TrueModel.snapshot(env), { actionMask: mask });
  t.true(beam.calls.length > 1);
  t.true(
    beam.calls.every((c) => c.rows <= 3 * 8),
    beam.calls.map((c) => c.rows).join(' '),
  );
  const full = new Counting(TrueModel.copyOf(env));
  new SearchPlanner(full).plan(TrueModel.snapshot(env), { actionMask: mask });
  t.true(
    full.calls.some((c) => c.rows > 3 * 8),
    'without a beam, layers are wider',
  );
  // Five states expanded at most: nothing rewarding is found, so the action is a safe random one.
  const planner = new SearchPlanner(TrueModel.copyOf(env), { maxNodes: 5 });
  const action = planner.plan(TrueModel.snapshot(env), { actionMask: mask });
  t.true(planner.lastExpanded <= 5 && planner.lastExpanded > 0);
  t.is(mask[action], 1);
});

test('a wide layer is imagined in calls of at most batchRows rows, with the same plan', (t) => {
  const env = make('GridNav-Task-k10-v0');
  const { info } = env.reset({ seed: 5 });
  const mask = info['actionMask'] as Uint8Array;
  const whole = new Counting(TrueModel.copyOf(env));
  const chunked = new Counting(TrueModel.copyOf(env));
  const a = new SearchPlanner(whole);
  const b = new SearchPlanner(chunked, { batchRows: 7 });
  t.is(
    b.plan(TrueModel.snapshot(env), { actionMask: mask }),
    a.plan(TrueModel.snapshot(env), { actionMask: mask }),
  );
  t.deepEqual(b.getState(), a.getState(), 'the same cached plan');
  t.true(chunked.calls.every((c) => c.rows <= 7));
  t.true(whole.calls.some((c) => c.rows > 7));
  t.is(
    chunked.calls.reduce((sum, c) => sum + c.rows, 0),
    whole.calls.reduce((sum, c) => sum + c.rows, 0),
    'the same rows imagined',
  );
  t.throws(() => new SearchPlanner(whole, { batchRows: 0 }), {
    message: /SearchPlanner\.batchRows: expected an integer >= 1.*received 0/,
  });
});

test('the node budget bounds the states a search keeps, not only those it expands', (t) => {
  const env = make('TextWorld-Quest-k10-v0');
  const { info } = env.reset({ seed: 7 });
  const model = new Counting(TrueModel.copyOf(env));
  const planner = new SearchPlanner(model, { maxNodes: 300 });
  planner.plan(TrueModel.snapshot(env), { actionMask: info['actionMask'] as Uint8Array });
  t.true(planner.lastExpanded <= 300);
  const imagined = model.calls.reduce((sum, c) => sum + c.rows, 0);
  t.true(imagined > 600, `${imagined} rows imagined`);
  // The root's frontier plus at most the budget's worth of children are kept.
  t.true(model.keptRows <= 300, `${model.keptRows} rows kept`);
});

/**
 * A chain as a learned model sees it: from position p, action 1 moves on (a noise reward of
 * 0.003) and reaches the goal from position 3 (done, reward 0.8); action 0 falls into lava (done,
 * a noise reward of 0.01 where the true reward is 0).
 */
class NoisyChain implements ImaginationModel<number, { at: Int32Array }> {
  readonly actionSpace = new Discrete(2);
  readonly members = 1;
  batch(states: readonly number[]) {
    return { at: Int32Array.from(states) };
  }
  size(b: { at: Int32Array }) {
    return b.at.length;
  }
  select(b: { at: Int32Array }, rows: Int32Array) {
    return { at: Int32Array.from(rows, (r) => b.at[r]!) };
  }
  step(b: { at: Int32Array }, actions: Float32Array): ImaginedStep<{ at: Int32Array }> {
    const n = b.at.length;
    const at = new Int32Array(n);
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const goal = actions[r] === 1 && b.at[r] === 3;
      at[r] = actions[r] === 1 ? b.at[r]! + 1 : -1;
      rewards[r] = goal ? 0.8 : actions[r] === 1 ? 0.003 : 0.01;
      dones[r] = goal || actions[r] === 0 ? 1 : 0;
    }
    return { states: { at }, rewards, dones, disagreement: new Float32Array(n) };
  }
  key(b: { at: Int32Array }, row: number) {
    return `${b.at[row]}`;
  }
}

test('minReward keeps the search from taking the reward noise of a learned model for a win', (t) => {
  // Without a floor, the fall into lava (0.01) is the first "rewarding" end the search meets.
  t.is(new SearchPlanner(new NoisyChain()).plan(0), 0);
  const floored = new SearchPlanner(new NoisyChain(), { minReward: 0.1 });
  const plan: number[] = [];
  for (let p = 0; p < 4; p++) {
    plan.push(floored.plan(p));
    if (p === 0) t.is(floored.lastPlanLength, 4);
  }
  t.deepEqual(plan, [1, 1, 1, 1]);
  // Nothing above the floor within reach: no plan, a safe action (not the fall) at random.
  const shallow = new SearchPlanner(new NoisyChain(), { minReward: 0.1, maxDepth: 2 });
  t.is(shallow.plan(0), 1);
  t.is(shallow.lastPlanLength, 0);
  t.throws(() => new SearchPlanner(new NoisyChain(), { minReward: -1 }), {
    message: /SearchPlanner\.minReward: expected a finite number >= 0, received -1/,
  });
});

test('a cached plan is replayed while the observed states are the predicted ones', (t) => {
  const env = make('GridNav-Task-k10-v0');
  const { info } = env.reset({ seed: 3 });
  const planner = new SearchPlanner(TrueModel.copyOf(env));
  const first = planner.plan(TrueModel.snapshot(env), {
    actionMask: info['actionMask'] as Uint8Array,
  });
  t.true(planner.lastExpanded > 0);
  const r = env.step(first);
  planner.plan(TrueModel.snapshot(env), { actionMask: r.info['actionMask'] as Uint8Array });
  t.is(planner.lastExpanded, 0, 'replayed');
  // Elsewhere than predicted: search again.
  const other = make('GridNav-Task-k10-v0');
  const { info: otherInfo } = other.reset({ seed: 4 });
  planner.plan(TrueModel.snapshot(other), { actionMask: otherInfo['actionMask'] as Uint8Array });
  t.true(planner.lastExpanded > 0, 'searched again');
});

// ---- discrete CEM, termination, value, scoring ----------------------------------------------------

test('categorical CEM respects the root mask and the model’s masks, and walks a chain optimally', (t) => {
  const env = new ChainEnv({ length: 6, masked: true, maxSteps: 30 }); // stepping "stay" throws
  let mask = env.reset({ seed: 0 }).info['actionMask'] as Uint8Array;
  const planner = new CemPlanner(
    new TrueModel(new ChainEnv({ length: 6, masked: true, maxSteps: 30 })),
    {
      population: 30,
      elites: 5,
      iterations: 3,
      horizon: 8,
      seed: 3,
    },
  );
  let steps = 0;
  for (let done = false; !done; steps++) {
    const r = env.step(planner.plan(env.getState(), { actionMask: mask }) as number);
    mask = r.info['actionMask'] as Uint8Array;
    done = r.terminated || r.truncated;
  }
  t.is(steps, 5, 'right five times');
  planner.reset();
  env.reset({ seed: 0 });
  t.is(
    planner.plan(env.getState(), { actionMask: Uint8Array.of(1, 0, 0) }),
    0,
    'only left allowed',
  );
});

test('a predicted termination stops the reward sum, and no value is added after it', (t) => {
  const hooks = { value: (b: ToyBatch) => Float32Array.from(b.ended, () => 2) };
  const rollout = { horizon: 3, gamma: 1 };
  // Correct: ending now scores 1; going on scores 0 + value 2. Counting the toy's rewards after the
  // end (5 per step) or the value after the end would make ending look best.
  const shooting = new ShootingPlanner(new EndingToy(), {
    ...rollout,
    candidates: 4,
    policy: alternate,
    ...hooks,
  });
  t.is(shooting.plan(0), 1);
  const cem = new CemPlanner(new EndingToy(), { ...rollout, population: 16, elites: 2, ...hooks });
  t.is(cem.plan(0), 1);
  // Without the critic, ending (1) beats going on (0).
  t.is(
    new ShootingPlanner(new EndingToy(), { ...rollout, candidates: 4, policy: alternate }).plan(0),
    0,
  );
});

test('particles follow one ensemble member each and pessimistic scoring prefers agreement', (t) => {
  const build = (scoring: 'mean' | 'pessimistic' | 'min'): ShootingPlanner<number, ToyBatch> =>
    new ShootingPlanner(new SplitToy(), {
      candidates: 4,
      horizon: 1,
      particles: 2,
      members: 'ts',
      scoring,
      policy: alternate,
    });
  t.is(build('mean').plan(0), 1, 'mean 1.25 over the two members beats 1');
  t.is(build('pessimistic').plan(0), 0, '1.25 - 1.75 < 1');
  t.is(build('min').plan(0), 0, '-0.5 < 1');
  const cem = new CemPlanner(new SplitToy(), {
    horizon: 1,
    population: 8,
    elites: 2,
    scoring: 'min',
  });
  t.is(cem.plan(0), 0);
});

// ---- state ----------------------------------------------------------------------------------------

test('planner state (warm start and generator) survives getState/setState: the restored planner plans the same', (t) => {
  const env = make('Pendulum-v1');
  env.reset({ seed: 11 });
  const small = { horizon: 8, seed: 3 };
  const builders: [string, (seed: number) => Planner<EnvSnapshot>][] = [
    [
      'cem',
      (seed) =>
        new CemPlanner(TrueModel.copyOf(env), {
          ...small,
          population: 20,
          elites: 4,
          iterations: 2,
          seed,
        }),
    ],
    [
      'mppi',
      (seed) =>
        new MppiPlanner(TrueModel.copyOf(env), {
          ...small,
          samples: 20,
          elites: 4,
          iterations: 2,
          policyFraction: 0.1,
          seed,
        }),
    ],
    [
      'shooting',
      (seed) => new ShootingPlanner(TrueModel.copyOf(env), { ...small, candidates: 20, seed }),
    ],
  ];
  for (const [name, build] of builders) {
    const a = build(3);
    for (let i = 0; i < 3; i++) env.step(a.plan(TrueModel.snapshot(env)));
    const saved = JSON.parse(JSON.stringify(a.getState())) as JsonValue;
    const b = build(99);
    const fresh = build(99);
    b.setState(saved);
    const state = TrueModel.snapshot(env);
    const planned = a.plan(state) as Float32Array;
    t.deepEqual(b.plan(state), planned, name);
    t.notDeepEqual(fresh.plan(state), planned, `${name}: without the state the plan differs`);
    if (name !== 'shooting') {
      a.reset();
      t.is(
        (a.getState() as { warm: JsonValue }).warm,
        null,
        `${name}: reset forgets the warm start`,
      );
    }
  }
  // Discrete: categorical CEM on a grid, and the search planner's cached plan.
  const grid = make('GridNav-Task-k10-v0');
  const { info } = grid.reset({ seed: 1 });
  const mask = info['actionMask'] as Uint8Array;
  const a = new CemPlanner(TrueModel.copyOf(grid), {
    population: 20,
    elites: 4,
    iterations: 2,
    horizon: 6,
    seed: 5,
  });
  a.plan(TrueModel.snapshot(grid), { actionMask: mask });
  const b = new CemPlanner(TrueModel.copyOf(grid), {
    population: 20,
    elites: 4,
    iterations: 2,
    horizon: 6,
    seed: 6,
  });
  b.setState(JSON.parse(JSON.stringify(a.getState())) as JsonValue);
  for (let i = 0; i < 3; i++) {
    const state = TrueModel.snapshot(grid);
    t.is(b.plan(state, { actionMask: mask }), a.plan(state, { actionMask: mask }));
  }
  const search = new SearchPlanner(TrueModel.copyOf(grid));
  const firstAction = search.plan(TrueModel.snapshot(grid), { actionMask: mask });
  const restored = new SearchPlanner(TrueModel.copyOf(grid));
  restored.setState(JSON.parse(JSON.stringify(search.getState())) as JsonValue);
  const after = grid.step(firstAction);
  const next = TrueModel.snapshot(grid);
  const nextMask = after.info['actionMask'] as Uint8Array;
  t.is(restored.plan(next, { actionMask: nextMask }), search.plan(next, { actionMask: nextMask }));
  t.is(restored.lastExpanded, 0, 'the restored planner replays the cached plan');
});

// ---- errors ---------------------------------------------------------------------------------------

test('bad options give InvalidOptionError naming the option and the value', (t) => {
  const pendulum = make('Pendulum-v1');
  pendulum.reset({ seed: 0 });
  const box = TrueModel.copyOf(pendulum);
  const grid = make('GridNav-Task-k10-v0');
  grid.reset({ seed: 0 });
  const discrete = TrueModel.copyOf(grid);
  const cases: [() => unknown, RegExp][] = [
    [
      () => new CemPlanner(box, { population: 0 }),
      /CemPlanner\.population: expected an integer >= 2 .*received 0/,
    ],
    [
      () => new CemPlanner(box, { population: 10, elites: 11 }),
      /CemPlanner\.elites: expected an integer in 1\.\.population \(10\), received 11/,
    ],
    [
      () => new CemPlanner(box, { alpha: 1 }),
      /CemPlanner\.alpha: expected a finite number >= 0 and < 1, received 1/,
    ],
    [
      () => new CemPlanner(box, { members: 'all' as never }),
      /CemPlanner\.members: expected one of "mean", "ts", received "all"/,
    ],
    [
      () => new CemPlanner(box, { horizn: 5 } as never),
      /CemPlanner\.horizn: expected one of the known options \(.*horizon.*value\), received 5/,
    ],
    [
      () => new CemPlanner(box, { value: 3 } as never),
      /CemPlanner\.value: expected a function .*received 3/,
    ],
    [
      () => new ShootingPlanner(box, { candidates: 1.5 }),
      /ShootingPlanner\.candidates: expected an integer .*received 1\.5/,
    ],
    [
      () => new ShootingPlanner(box, { gamma: 1.1 }),
      /ShootingPlanner\.gamma: expected a finite number >= 0 and <= 1, received 1\.1/,
    ],
    [
      () => new ShootingPlanner(box, { policy: 'random' } as never),
      /ShootingPlanner\.policy: expected a function .*received "random"/,
    ],
    [
      () => new MppiPlanner(box, { temperature: 0 }),
      /MppiPlanner\.temperature: expected a finite number > 0, received 0/,
    ],
    [
      () => new MppiPlanner(box, { minStd: 3 }),
      /MppiPlanner\.minStd: expected a number in 0\.\.initialStd \(2\), received 3/,
    ],
    [
      () => new MppiPlanner(discrete),
      /model of MppiPlanner: expected a model with a Box action space.*received "Discrete\(8\)"/,
    ],
    [
      () => new SearchPlanner(box),
      /model of SearchPlanner: expected a model with a Discrete action space.*received "Box/,
    ],
    [
      () => new SearchPlanner(discrete, { beamWidth: 0 }),
      /SearchPlanner\.beamWidth: expected an integer >= 1 \(or undefined\), received 0/,
    ],
    [
      () => new SearchPlanner(discrete, { seed: -1 }),
      /SearchPlanner\.seed: expected a non-negative integer, received -1/,
    ],
    [() => new CemPlanner({} as never), /model of CemPlanner: expected an ImaginationModel/],
    [
      () => createPlanner('astar' as never, box),
      /planner: expected one of "shooting", "cem", "mppi", "search", "mcts", received "astar"/,
    ],
    [() => createPlanner('cem', box, { population: -3 }), /CemPlanner\.population: .*received -3/],
    [
      () =>
        new CemPlanner(discrete).plan(TrueModel.snapshot(grid), { actionMask: new Uint8Array(8) }),
      /actionMask of CemPlanner\.plan: expected a Uint8Array of 8 values with at least one 1, received Uint8Array\[0, 0/,
    ],
    [
      () =>
        new CemPlanner(box).plan(TrueModel.snapshot(pendulum), { actionMask: Uint8Array.of(1) }),
      /actionMask of CemPlanner\.plan: expected no mask for a Box action space, received Uint8Array\[1\]/,
    ],
  ];
  for (const [build, message] of cases)
    t.throws(build, { instanceOf: InvalidOptionError, message });
  t.throws(() => new CemPlanner(box).setState({ planner: 'MppiPlanner' }), {
    instanceOf: InvalidStateError,
  });
  t.throws(() => new SearchPlanner(discrete).setState({ planner: 'SearchPlanner', rng: 1 }), {
    instanceOf: InvalidStateError,
  });
});

test('the defaults are frozen and createPlanner builds each planner by name', (t) => {
  for (const defaults of [SHOOTING_DEFAULTS, CEM_DEFAULTS, MPPI_DEFAULTS, SEARCH_DEFAULTS])
    t.true(Object.isFrozen(defaults));
  const pendulum = make('Pendulum-v1');
  pendulum.reset({ seed: 0 });
  const model = TrueModel.copyOf(pendulum);
  t.true(createPlanner('shooting', model) instanceof ShootingPlanner);
  t.true(createPlanner('cem', model, { population: 8, elites: 2 }) instanceof CemPlanner);
  t.true(createPlanner('mppi', model) instanceof MppiPlanner);
  const grid = make('GridNav-Task-k10-v0');
  grid.reset({ seed: 0 });
  const search: Planner<EnvSnapshot> = createPlanner('search', TrueModel.copyOf(grid));
  t.true(search instanceof SearchPlanner);
  t.is(new CemPlanner(model).config.population, CEM_DEFAULTS.population);
});

/** Reward 1 per step; action 0 ends the episode with probability 0.3 (never past ½), action 1 never. */
class RiskyModel implements ImaginationModel<Float32Array, { n: number }> {
  readonly actionSpace = new Discrete(2);
  readonly members = 1;
  batch(states: readonly Float32Array[]): { n: number } {
    return { n: states.length };
  }
  size(batch: { n: number }): number {
    return batch.n;
  }
  select(_batch: { n: number }, rows: Int32Array): { n: number } {
    return { n: rows.length };
  }
  step(batch: { n: number }, actions: Float32Array): ImaginedStep<{ n: number }> {
    const n = batch.n;
    const doneProbabilities = new Float32Array(n);
    for (let r = 0; r < n; r++) doneProbabilities[r] = actions[r] === 0 ? 0.3 : 0;
    return {
      states: { n },
      rewards: new Float32Array(n).fill(1),
      dones: new Uint8Array(n),
      doneProbabilities,
      disagreement: new Float32Array(n),
    };
  }
  key(): string {
    return 's';
  }
}

test('rollout planners weigh rewards by the probability of still being alive', (t) => {
  for (const kind of ['shooting', 'cem'] as const) {
    const planner = createPlanner(kind, new RiskyModel(), { horizon: 10, seed: 3 });
    const picks = [0, 0];
    for (let i = 0; i < 20; i++) {
      planner.reset();
      picks[planner.plan(Float32Array.of(0)) as number]!++;
    }
    // Every return is the same without the weighting: the choice would be a coin flip.
    t.deepEqual(picks, [0, 20], kind);
  }
});
