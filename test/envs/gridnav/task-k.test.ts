import test from 'ava';
import { make } from '../../../envs/core/registry.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { ABSOLUTE_OPS, EGOCENTRIC_OPS } from '../../../envs/gridnav/gridnav-env.js';
import { solve } from '../../../envs/gridnav/solver.js';
import { TASK_K_MIN, TaskKEnv, taskKSize } from '../../../envs/gridnav/task-k.js';
import { OBJECT, typeOf } from '../../../envs/gridnav/world.js';
import { inner } from './helpers.js';

for (const k of [5, 10, 20]) {
  test(`Task-k${k}: over 200 seeds the breadth-first optimum is exactly ${k}, and the oracle plan reaches the goal in ${k}`, (t) => {
    const env = make(`GridNav-Task-k${k}-v0`);
    const grid = inner(env);
    for (let seed = 0; seed < 200; seed++) {
      const { info } = env.reset({ seed });
      if (info['optimalSteps'] !== k)
        t.fail(`seed ${seed}: optimalSteps ${String(info['optimalSteps'])}`);
      const world = grid.snapshotWorld();
      const independent = solve(world, ABSOLUTE_OPS);
      if (independent?.actions.length !== k)
        t.fail(`seed ${seed}: search found ${independent?.actions.length ?? 'no'} actions`);
      if (seed % 5 !== 0) continue;
      const plan = grid.optimalPlan()!;
      let last = env.step(plan[0]!);
      for (const action of plan.slice(1)) {
        t.false(last.terminated);
        last = env.step(action);
      }
      t.true(
        last.terminated && last.info['success'] === true,
        `seed ${seed}: the plan ends at the goal`,
      );
    }
  });
}

test('Task-k lengths hold for the egocentric action set too', (t) => {
  for (const k of [5, 10, 20]) {
    const env = make(`GridNav-Task-k${k}-v0`, { actions: 'egocentric', observation: 'egocentric' });
    for (let seed = 0; seed < 60; seed++) {
      const { info } = env.reset({ seed });
      t.is(info['optimalSteps'], k);
      t.is(solve(inner(env).snapshotWorld(), EGOCENTRIC_OPS)?.actions.length, k);
    }
  }
});

test('Task-k lengths agree with the exhaustive search without dominance rules', (t) => {
  const env = new TaskKEnv({ k: 10 });
  for (let seed = 0; seed < 25; seed++) {
    env.reset({ seed });
    t.is(solve(env.snapshotWorld(), ABSOLUTE_OPS, { prune: false })?.actions.length, 10);
  }
});

test('any k from 3 up can be asked for with the k option', (t) => {
  for (const k of [TASK_K_MIN, 4, 7, 13, 33]) {
    const env = make('GridNav-Task-k10-v0', { k });
    for (let seed = 0; seed < 8; seed++) t.is(env.reset({ seed }).info['optimalSteps'], k);
    t.is(inner(env).snapshotWorld().width, taskKSize(k));
  }
});

test('k below the minimum, fractional or not a number is an InvalidOptionError', (t) => {
  for (const k of [2, 0, -5, 7.5, Number.NaN, '10', 201]) {
    t.throws(() => new TaskKEnv({ k: k as number }), {
      instanceOf: InvalidOptionError,
      message: /options\.k of TaskKEnv: expected an integer in 3\.\.200/,
    });
  }
  t.throws(() => make('GridNav-Task-k5-v0', { k: 2 }), {
    instanceOf: InvalidOptionError,
    message: /received 2/,
  });
});

test('k counts keys, doors and lava, not just distance', (t) => {
  const env = make('GridNav-Task-k20-v0');
  let keys = 0;
  let doors = 0;
  let lava = 0;
  let longerThanDistance = 0;
  for (let seed = 0; seed < 200; seed++) {
    env.reset({ seed });
    const world = inner(env).snapshotWorld();
    const types = Array.from(world.grid, typeOf);
    if (types.includes(OBJECT.key)) keys++;
    if (types.includes(OBJECT.door)) doors++;
    if (types.includes(OBJECT.lava)) lava++;
    const goal = types.indexOf(OBJECT.goal);
    const gx = Math.floor(goal / world.height);
    const gy = goal % world.height;
    if (Math.abs(gx - world.agentX) + Math.abs(gy - world.agentY) < 20) longerThanDistance++;
  }
  t.true(keys >= 40, `levels with a key: ${keys}`);
  t.true(doors >= 100, `levels with a door: ${doors}`);
  t.true(lava >= 100, `levels with lava: ${lava}`);
  t.true(longerThanDistance >= 160, `levels where k exceeds the distance: ${longerThanDistance}`);
});

test('Task-k levels are fixed by the seed; unseeded resets continue the generator', (t) => {
  const a = make<Float32Array, number>('GridNav-Task-k10-v0');
  const b = make<Float32Array, number>('GridNav-Task-k10-v0');
  t.deepEqual(a.reset({ seed: 9 }).observation, b.reset({ seed: 9 }).observation);
  const next = a.reset().observation;
  t.deepEqual(next, b.reset().observation);
  t.notDeepEqual(next, a.reset({ seed: 9 }).observation);
});
