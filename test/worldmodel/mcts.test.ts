import test from 'ava';
import '../../envs/index.js';
import { initBackend } from '../../agents/nn/backend.js';
import type { Env, JsonValue } from '../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { Discrete } from '../../envs/core/space.js';
import { collectTrajectories, transitionsOf } from '../../worldmodel/evaluate.js';
import { MCTS_DEFAULTS, MctsPlanner, type MctsOptions } from '../../worldmodel/mcts.js';
import type { ImaginationModel, ImaginedStep } from '../../worldmodel/model.js';
import { PLANNER_KINDS, createPlanner } from '../../worldmodel/planner.js';
import { WorldModelTrainer } from '../../worldmodel/trainer.js';
import { TrueModel, type EnvSnapshot, type TrueModelBatch } from '../../worldmodel/true-model.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { ChainEnv } from '../helpers/chain-env.js';
import { Counting } from './helpers.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

// ---- helpers ------------------------------------------------------------------------------------

/** Evaluation seeds: below 1,000,000 (the language model's corpus starts there). */
const SEEDS = [500_000, 500_001, 500_002, 500_003, 500_004, 500_005];

/** Plays `env` (already reset, with its first info) with `planner` until the episode ends or `limit` steps. */
function play(
  env: Env,
  planner: MctsPlanner<EnvSnapshot, TrueModelBatch>,
  info: Record<string, unknown>,
  limit: number,
): { steps: number; success: boolean } {
  for (let steps = 1; steps <= limit; steps++) {
    const mask = info['actionMask'] as Uint8Array;
    const action = planner.plan(TrueModel.snapshot(env), { actionMask: mask });
    if (mask[action] !== 1) throw new Error(`masked action ${action} returned`);
    const r = env.step(action);
    info = r.info;
    if (r.terminated || r.truncated) return { steps, success: r.info['success'] === true };
  }
  return { steps: limit, success: false };
}

interface CorridorBatch {
  /** Position per row. */
  position: Int32Array;
  /** 1 where the row's episode has ended. */
  ended: Uint8Array;
}

/**
 * Discrete(2) toy: action 0 ends the episode with reward 1, action 1 walks on with reward 0.
 * After the end it keeps "predicting" reward 5 and no termination, as a learned model may; a
 * planner must not count anything after a predicted termination. `nanAt` makes the reward of
 * walking on from that position NaN.
 */
class Corridor implements ImaginationModel<number, CorridorBatch> {
  readonly actionSpace = new Discrete(2);
  readonly members = 1;
  private readonly nanAt: number;

  constructor(nanAt = -1) {
    this.nanAt = nanAt;
  }

  batch(states: readonly number[]): CorridorBatch {
    return { position: Int32Array.from(states), ended: new Uint8Array(states.length) };
  }

  size(batch: CorridorBatch): number {
    return batch.position.length;
  }

  select(batch: CorridorBatch, rows: Int32Array): CorridorBatch {
    return {
      position: Int32Array.from(rows, (r) => batch.position[r]!),
      ended: Uint8Array.from(rows, (r) => batch.ended[r]!),
    };
  }

  step(batch: CorridorBatch, actions: Float32Array): ImaginedStep<CorridorBatch> {
    const n = batch.position.length;
    const out = this.select(
      batch,
      Int32Array.from({ length: n }, (_, i) => i),
    );
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      if (batch.ended[r] === 1) rewards[r] = 5;
      else if (actions[r] === 0) {
        rewards[r] = 1;
        dones[r] = 1;
        out.ended[r] = 1;
      } else {
        rewards[r] = batch.position[r] === this.nanAt ? NaN : 0;
        out.position[r]! += 1;
      }
    }
    return { states: out, rewards, dones, disagreement: new Float32Array(n) };
  }

  key(batch: CorridorBatch, row: number): string {
    return `${batch.position[row]}:${batch.ended[row]}`;
  }
}

// ---- solving ------------------------------------------------------------------------------------

test('with the true model MCTS solves GridNav Task-k5 levels within twice their optimal number of steps', (t) => {
  for (const seed of SEEDS) {
    const env = make('GridNav-Task-k5-v0');
    const { info } = env.reset({ seed });
    t.is(info['optimalSteps'], 5);
    const planner = new MctsPlanner(TrueModel.copyOf(env), { seed: 1 });
    const { steps, success } = play(env, planner, info, 10);
    t.true(success, `seed ${seed}: ${steps} steps`);
  }
});

test('and TextWorld Quest-k5 games, where a state offers many commands, within 10 commands', (t) => {
  let widest = 0;
  for (const seed of SEEDS) {
    const env = make('TextWorld-Quest-k5-v0');
    const { info } = env.reset({ seed });
    const planner = new MctsPlanner(TrueModel.copyOf(env), { seed: 1 });
    const { steps, success } = play(env, planner, info, 10);
    t.true(success, `seed ${seed}: ${steps} commands`);
    widest = Math.max(widest, planner.lastStats.nodes);
  }
  t.true(widest > 20, 'the trees are wide');
});

// ---- batching -----------------------------------------------------------------------------------

test('each round is ONE model.step for every allowed action of all its leaves; rollouts advance together', (t) => {
  const env = make('TextWorld-Quest-k5-v0');
  const { info } = env.reset({ seed: SEEDS[0]! });
  const mask = info['actionMask'] as Uint8Array;
  const allowed = mask.reduce((s, m) => s + m, 0);
  const state = TrueModel.snapshot(env);

  const plain = new Counting(TrueModel.copyOf(env));
  const tree = new MctsPlanner(plain, { simulations: 64, parallel: 8, rolloutDepth: 0 });
  tree.plan(state, { actionMask: mask });
  const stats = tree.lastStats;
  t.is(plain.calls.length, stats.rounds, 'without rollouts: one call per round');
  t.is(stats.modelCalls, stats.rounds);
  t.is(plain.calls[0]!.rows, allowed, 'the root: its allowed actions, one row each');
  t.true(stats.expanded > stats.rounds, `${stats.expanded} leaves in ${stats.rounds} calls`);
  t.true(
    plain.calls.some((c, i) => i > 0 && c.rows > 8),
    'a call carries the actions of several leaves',
  );
  t.true(stats.nodes > plain.calls.length * 2, 'not one call per node');

  const rolled = new Counting(TrueModel.copyOf(env));
  const withRollouts = new MctsPlanner(rolled, { simulations: 64, parallel: 8, rolloutDepth: 3 });
  withRollouts.plan(state, { actionMask: mask });
  const r = withRollouts.lastStats;
  t.is(rolled.calls.length, r.modelCalls);
  t.true(r.modelCalls <= r.rounds * 4, 'an expansion and at most 3 rollout steps per round');
  t.true(r.modelCalls > r.rounds);
});

test('without masks, actions whose next state is the current one are pruned (as for a learned model)', (t) => {
  const env = make('GridNav-Empty-8x8-v0'); // top-left corner facing east
  env.reset({ seed: 0 });
  const model = new Counting(TrueModel.copyOf(env), { hideMasks: true });
  const planner = new MctsPlanner(model, { simulations: 8, parallel: 1, rolloutDepth: 0 });
  const action = planner.plan(TrueModel.snapshot(env));
  t.is(model.calls[0]!.rows, 8, 'all 8 actions tried at the root');
  // Turn left, turn right and forward change the state; pickup, drop, toggle and done do not
  // (and the "done" action does not end a MiniGrid episode).
  t.true([0, 1, 2].includes(action), `action ${action}`);
  t.true(planner.lastStats.pruned >= 5, `pruned ${planner.lastStats.pruned}`);
  t.is(model.calls[1]!.rows, 8, 'the next leaf: every action again (no masks below)');
});

test('the root mask is respected: a masked action is never returned', (t) => {
  const env = make('TextWorld-Quest-k5-v0');
  const { info } = env.reset({ seed: SEEDS[1]! });
  const full = info['actionMask'] as Uint8Array;
  const allowed = [...full.keys()].filter((a) => full[a] === 1);
  t.true(allowed.length >= 2);
  const planner = new MctsPlanner(TrueModel.copyOf(env), { simulations: 48, seed: 3 });
  const state = TrueModel.snapshot(env);
  for (const only of allowed) {
    const mask = new Uint8Array(full.length);
    mask[only] = 1;
    t.is(planner.plan(state, { actionMask: mask }), only);
  }
  for (const forbidden of allowed) {
    const mask = full.slice();
    mask[forbidden] = 0;
    const action = planner.plan(state, { actionMask: mask });
    t.is(mask[action], 1, `forbidden ${forbidden}, returned ${action}`);
  }
});

// ---- values and terminations --------------------------------------------------------------------

test('a predicted termination ends its branch: no reward or value is counted after it', (t) => {
  const value =
    (v: number) =>
    (b: CorridorBatch): Float32Array =>
      Float32Array.from(b.position, () => v);
  // Ending now is worth 1; walking on 0 + 0.9 · 2 = 1.8. A critic counted after the end would make
  // ending worth 1 + 0.9 · 2 = 2.8.
  const critic = new MctsPlanner(new Corridor(), { gamma: 0.9, rolloutDepth: 0, value: value(2) });
  t.is(critic.plan(0), 1);
  // Rollouts: walking on and ending within the rollout is worth at most 0.9 · 1, and the critic
  // (0.5) at a living end less; counting the toy's 5 after the end, or the critic at the end of a
  // rollout that ended, would make walking on look best as soon as a rollout ends early.
  for (let seed = 0; seed < 12; seed++) {
    for (const hook of [undefined, value(0.5)]) {
      const planner = new MctsPlanner(new Corridor(), {
        gamma: 0.9,
        rolloutDepth: 4,
        simulations: 3,
        seed,
        value: hook,
      });
      t.is(planner.plan(0), 0, `seed ${seed}, ${hook === undefined ? 'no critic' : 'critic'}`);
    }
  }
  t.is(new MctsPlanner(new Corridor(), { gamma: 0.5, decision: 'visits' }).plan(0), 0);
  // A living rollout's end gets the critic, discounted. The critic values positions from 2 on
  // (2), so walking on once is worth 0 + 0.9 · 0 as a leaf, but 0 + 0.9 · (0 + 0.9 · 2) = 1.62 > 1
  // after a rollout that walks on again. One simulation evaluates one root child: over seeds,
  // some evaluate walking on with such a rollout (without the critic at its end: 0).
  const far = (b: CorridorBatch): Float32Array =>
    Float32Array.from(b.position, (p) => (p >= 2 ? 2 : 0));
  const walked = SEEDS.map((seed) =>
    new MctsPlanner(new Corridor(), {
      gamma: 0.9,
      rolloutDepth: 1,
      simulations: 1,
      seed,
      value: far,
    }).plan(0),
  );
  t.true(walked.includes(1), walked.join(' '));
});

test('maxDepth bounds the tree; a non-finite prediction throws InvalidValueError', (t) => {
  const shallow = new MctsPlanner(new Corridor(), { maxDepth: 2, rolloutDepth: 0 });
  shallow.plan(0);
  // Depth 0 and 1 expanded (2 children each), depth 2 not: 1 + 2 + 2 nodes.
  t.is(shallow.lastStats.nodes, 5);
  t.throws(() => new MctsPlanner(new Corridor(1), { rolloutDepth: 0 }).plan(0), {
    instanceOf: InvalidValueError,
    message: /predicted reward at row \d+, step 1.*NaN/,
  });
  const badValue = (b: CorridorBatch): Float32Array => Float32Array.from(b.position, () => NaN);
  t.throws(() => new MctsPlanner(new Corridor(), { value: badValue }).plan(0), {
    instanceOf: InvalidValueError,
    message: /predicted value/,
  });
  const short = (): Float32Array => new Float32Array(1);
  t.throws(() => new MctsPlanner(new Corridor(), { value: short }).plan(0), {
    instanceOf: InvalidValueError,
    message: /values of the planner critic: expected one value per row \(2\), received 1 values/,
  });
});

// ---- determinism and state ----------------------------------------------------------------------

test('the same seed gives the same plans, and getState/setState restores the planner exactly', (t) => {
  const env = make('TextWorld-Quest-k5-v0');
  let { info } = env.reset({ seed: SEEDS[2]! });
  const model = TrueModel.copyOf(env);
  const options: MctsOptions<TrueModelBatch> = { simulations: 48, seed: 7 };
  const a = new MctsPlanner(model, options);
  const b = new MctsPlanner(TrueModel.copyOf(env), options);
  for (let i = 0; i < 2; i++) {
    const mask = info['actionMask'] as Uint8Array;
    const state = TrueModel.snapshot(env);
    const action = a.plan(state, { actionMask: mask });
    t.is(b.plan(state, { actionMask: mask }), action);
    t.deepEqual(b.lastStats, a.lastStats);
    info = env.step(action).info;
  }
  const saved = JSON.parse(JSON.stringify(a.getState())) as JsonValue;
  const restored = new MctsPlanner(TrueModel.copyOf(env), { ...options, seed: 99 });
  restored.setState(saved);
  const mask = info['actionMask'] as Uint8Array;
  const state = TrueModel.snapshot(env);
  for (let i = 0; i < 3; i++) {
    t.is(restored.plan(state, { actionMask: mask }), a.plan(state, { actionMask: mask }));
    t.deepEqual(restored.lastStats, a.lastStats);
    t.deepEqual(restored.getState(), a.getState());
  }
  a.reset();
  t.deepEqual(a.getState(), restored.getState(), 'reset keeps the generator');
  t.throws(() => restored.setState({ planner: 'SearchPlanner', rng: null }), {
    instanceOf: InvalidStateError,
    message: /MctsPlanner: expected \{planner: "MctsPlanner", rng\}/,
  });
});

// ---- a learned model ----------------------------------------------------------------------------

test('MCTS plans over a learned WorldModel of a tiny chain (no masks below the root)', async (t) => {
  const env = new ChainEnv({ length: 5, maxSteps: 12 });
  const data = transitionsOf(collectTrajectories(env, { episodes: 20, seed: 3, maxSteps: 12 }));
  const model = WorldModel.create(
    { observationSpace: env.observationSpace, actionSpace: env.actionSpace },
    { hiddenSize: 16, backboneSizes: [16], ensembleSize: 2, elites: 2, seed: 4 },
  );
  await model.ready();
  await new WorldModelTrainer(model, { seed: 5 }).fit(data, { epochs: 5 });
  const counted = new Counting(model);
  const planner = new MctsPlanner(counted, { simulations: 24, parallel: 4, rolloutDepth: 3 });
  const { observation } = env.reset({ seed: 0 });
  const rootMask = Uint8Array.of(1, 1, 0);
  const action = planner.plan(observation, { actionMask: rootMask });
  t.true(action === 0 || action === 1, `action ${action}`);
  const stats = planner.lastStats;
  t.is(counted.calls.length, stats.modelCalls);
  t.true(counted.calls[0]!.rows <= 2, 'the root mask limits the first expansion');
  t.true(
    counted.calls.every((c) => c.actions.every((a) => Number.isInteger(a) && a >= 0 && a < 3)),
    'every imagined action is in the space',
  );
  const built = createPlanner('mcts', model, { simulations: 4 });
  t.true(built instanceof MctsPlanner);
  t.true(new Discrete(3).contains(built.plan(observation)), 'no mask: any action of the space');
});

// ---- options ------------------------------------------------------------------------------------

test('bad options give InvalidOptionError naming the option, the value and what is allowed', (t) => {
  const grid = make('GridNav-Task-k5-v0');
  grid.reset({ seed: SEEDS[0]! });
  const discrete = TrueModel.copyOf(grid);
  const pendulum = make('Pendulum-v1');
  pendulum.reset({ seed: 0 });
  const box = TrueModel.copyOf(pendulum);
  const cases: [() => unknown, RegExp][] = [
    [
      () => new MctsPlanner(discrete, { simulations: 0 }),
      /MctsPlanner\.simulations: expected an integer >= 1 .*received 0/,
    ],
    [
      () => new MctsPlanner(discrete, { parallel: 1.5 }),
      /MctsPlanner\.parallel: expected an integer .*received 1\.5/,
    ],
    [
      () => new MctsPlanner(discrete, { exploration: -1 }),
      /MctsPlanner\.exploration: expected a finite number >= 0, received -1/,
    ],
    [
      () => new MctsPlanner(discrete, { gamma: 1.5 }),
      /MctsPlanner\.gamma: expected a finite number >= 0 and <= 1, received 1\.5/,
    ],
    [
      () => new MctsPlanner(discrete, { rolloutDepth: -1 }),
      /MctsPlanner\.rolloutDepth: expected an integer >= 0 .*received -1/,
    ],
    [
      () => new MctsPlanner(discrete, { maxDepth: 0 }),
      /MctsPlanner\.maxDepth: expected an integer >= 1 .*received 0/,
    ],
    [
      () => new MctsPlanner(discrete, { decision: 'max' as never }),
      /MctsPlanner\.decision: expected one of "best", "visits", received "max"/,
    ],
    [
      () => new MctsPlanner(discrete, { seed: -1 }),
      /MctsPlanner\.seed: expected a non-negative integer, received -1/,
    ],
    [
      () => new MctsPlanner(discrete, { simulation: 10 } as never),
      /MctsPlanner\.simulation: expected one of the known options \(.*simulations.*value\), received 10/,
    ],
    [
      () => new MctsPlanner(discrete, { value: 3 } as never),
      /MctsPlanner\.value: expected a function \(batch\) => values, received 3/,
    ],
    [
      () => new MctsPlanner(box),
      /model of MctsPlanner: expected a model with a Discrete action space.*received "Box/,
    ],
    [() => new MctsPlanner({} as never), /model of MctsPlanner: expected an ImaginationModel/],
    [() => createPlanner('mcts', discrete, { parallel: 0 }), /MctsPlanner\.parallel: .*received 0/],
    [
      () =>
        new MctsPlanner(discrete).plan(TrueModel.snapshot(grid), {
          actionMask: new Uint8Array(8),
        }),
      /actionMask of MctsPlanner\.plan: expected a Uint8Array of 8 values with at least one 1, received Uint8Array\[0, 0/,
    ],
  ];
  for (const [build, message] of cases)
    t.throws(build, { instanceOf: InvalidOptionError, message });
});

test('the defaults are frozen and "mcts" is a planner kind createPlanner builds', (t) => {
  t.true(Object.isFrozen(MCTS_DEFAULTS));
  t.true(PLANNER_KINDS.includes('mcts'));
  const grid = make('GridNav-Task-k5-v0');
  grid.reset({ seed: SEEDS[0]! });
  const planner = createPlanner('mcts', TrueModel.copyOf(grid), { simulations: 16 });
  t.true(planner instanceof MctsPlanner);
  t.is(planner instanceof MctsPlanner ? planner.config.parallel : 0, MCTS_DEFAULTS.parallel);
});
