import test from 'ava';
import '../../../envs/index.js';
import { PendulumEnv, angleNormalize } from '../../../envs/classic/pendulum.js';
import type { RgbArray } from '../../../envs/core/env.js';
import {
  CommandParseError,
  InvalidActionError,
  InvalidOptionError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';

function at(theta: number, thetaDot: number, options = {}): PendulumEnv {
  const env = new PendulumEnv(options);
  env.setState({ rng: null, env: { theta, thetaDot, lastU: null } });
  return env;
}

test('reset with seed 42 gives Gymnasium’s start state and action [1] its reward to the last digit', (t) => {
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  const obs = env.reset({ seed: 42 }).observation;
  const expected = [-0.14995256, 0.9886932, -0.12224312];
  t.true(
    expected.every((e, i) => Math.abs(obs[i]! - e) < 1e-7),
    Array.from(obs).join(', '),
  );
  const r = env.step(Float32Array.of(1));
  t.is(r.reward, -2.965425241287541);
  t.false(r.terminated);
});

test('the reward comes from the state before the step, with the angle wrapped to [-π, π)', (t) => {
  const u = 0.5;
  const wrapped = at(0.3 + 4 * Math.PI, 1.5).step(Float32Array.of(u)).reward;
  const plain = at(0.3, 1.5).step(Float32Array.of(u)).reward;
  t.true(Math.abs(wrapped - plain) < 1e-12);
  const expectedCost = 0.3 * 0.3 + 0.1 * 1.5 * 1.5 + 0.001 * u * u;
  t.true(Math.abs(-expectedCost - plain) < 1e-9);
  t.is(angleNormalize(-Math.PI), -Math.PI);
  t.true(Math.abs(angleNormalize(Math.PI) + Math.PI) < 1e-15, 'π wraps to -π, as NumPy');
  t.true(Math.abs(angleNormalize(-7) - (-7 + 2 * Math.PI)) < 1e-12);
});

test('the angular speed is bounded at 8 rad/s (physics), the action never clipped', (t) => {
  const env = at(Math.PI / 2, 7.99);
  const obs = env.step(Float32Array.of(2)).observation;
  t.is(obs[2], 8);
  t.throws(() => env.step(Float32Array.of(2.0001)), {
    instanceOf: InvalidActionError,
    message: /above high/,
  });
  t.throws(() => env.step(Float32Array.of(Number.NaN)), {
    instanceOf: InvalidActionError,
    message: /NaN/,
  });
  t.throws(() => env.step([1] as never), {
    instanceOf: InvalidActionError,
    message: /Float32Array/,
  });
});

test('gravity g is an option and changes the swing', (t) => {
  const moon = at(Math.PI / 2, 0, { g: 1.62 }).step(Float32Array.of(0)).observation;
  const earth = at(Math.PI / 2, 0).step(Float32Array.of(0)).observation;
  t.true(Math.abs(earth[2]! - 15 * 0.05) < 1e-6, 'θ̇ gains 3g/2·sin θ·dt');
  t.true(Math.abs(moon[2]! - 1.5 * 1.62 * 0.05) < 1e-6);
  for (const g of [0, -9.8, Number.NaN, '10']) {
    t.throws(() => make('Pendulum-v1', { g }), {
      instanceOf: InvalidOptionError,
      message: /options\.g/,
    });
  }
});

test('reset options x_init and y_init bound the start state and are validated', (t) => {
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  for (let seed = 0; seed < 20; seed++) {
    const obs = env.reset({ seed, options: { x_init: 0.1, y_init: 0.2 } }).observation;
    t.true(obs[0]! >= Math.cos(0.1) - 1e-6);
    t.true(Math.abs(obs[2]!) <= 0.2 + 1e-7);
  }
  t.throws(() => env.reset({ options: { x_init: 'pi' } }), {
    instanceOf: InvalidOptionError,
    message: /x_init.*"pi"/,
  });
  t.throws(() => env.reset({ options: { low: 0 } }), {
    instanceOf: InvalidOptionError,
    message: /x_init and y_init/,
  });
});

test('parseCommand reads torques with units and directions, and refuses out-of-range torques', (t) => {
  const env = new PendulumEnv();
  t.deepEqual(env.commands(), ['torque <-2..2>']);
  const cases: [string, number][] = [
    ['torque 1.5', 1.5],
    ['Torque -0.5 N·m', -0.5],
    ['1.25', 1.25],
    ['apply torque of 2 Nm', 2],
    ['torque: +.5', 0.5],
    ['torque 1 newton metres', 1],
    ['clockwise 1', -1],
    ['counter-clockwise 0.75', 0.75],
    ['no torque', 0],
  ];
  for (const [text, value] of cases) {
    const action = env.parseCommand(text);
    t.true(action instanceof Float32Array && action.length === 1, text);
    t.is(action[0], Math.fround(value), text);
  }
  t.throws(() => env.parseCommand('torque 3'), {
    instanceOf: CommandParseError,
    message:
      /torque <u>.*\[-2, 2\].*received "torque 3".*3 N·m is outside \[-2, 2\]; nothing is clipped/,
  });
  t.throws(() => env.parseCommand('torque -2.5 N·m'), {
    instanceOf: CommandParseError,
    message: /-2\.5/,
  });
  t.throws(() => env.parseCommand('torque lots'), {
    instanceOf: CommandParseError,
    message: /received "torque lots"/,
  });
});

test('describe() gives the angle from upright, the turn rate and the last torque', (t) => {
  const env = at(Math.PI / 6, -1.2);
  t.regex(
    env.describe(),
    /30\.0° counter-clockwise \(left\) from upright, turning clockwise at 1\.20 rad\/s/,
  );
  t.regex(env.describe(), /no torque applied yet/);
  env.step(Float32Array.of(-0.75));
  t.regex(env.describe(), /last torque -0\.75 N·m/);
  t.regex(at(Math.PI, 0).describe(), /hangs straight down/);
});

test('the rgb frame draws the rod upward at θ = 0 and a torque arrow after a push', (t) => {
  const env = new PendulumEnv({ renderMode: 'rgb_array' });
  env.setState({ rng: null, env: { theta: 0, thetaDot: 0, lastU: null } });
  const still = env.render() as RgbArray;
  const px = (f: RgbArray, x: number, y: number) =>
    Array.from(f.data.subarray((y * 500 + x) * 4, (y * 500 + x) * 4 + 3));
  t.deepEqual(px(still, 250, 150), [204, 77, 77], 'rod above the axle');
  t.deepEqual(px(still, 250, 350), [255, 255, 255], 'nothing below');
  t.deepEqual(px(still, 250, 250), [0, 0, 0], 'axle');
  env.setState({ rng: null, env: { theta: 0, thetaDot: 0, lastU: 2 } });
  const pushed = env.render() as RgbArray;
  t.notDeepEqual(pushed.data, still.data);
});
