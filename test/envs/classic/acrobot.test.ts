import test from 'ava';
import '../../../envs/index.js';
import { AcrobotEnv } from '../../../envs/classic/acrobot.js';
import type { JsonValue } from '../../../envs/core/env.js';
import { CommandParseError, InvalidOptionError } from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';

interface AcrobotState {
  theta1: number;
  theta2: number;
  dtheta1: number;
  dtheta2: number;
}

function at(s: AcrobotState, options = {}): AcrobotEnv {
  const env = new AcrobotEnv(options);
  env.setState({ rng: null, env: { ...s } });
  return env;
}

function state(env: { getState(): JsonValue }): AcrobotState {
  return (env.getState() as unknown as { env: AcrobotState }).env;
}

test('the reset state is drawn in [-0.1, 0.1] and rounded to float32, as Gymnasium', (t) => {
  const env = make<Float32Array, number>('Acrobot-v1');
  env.reset({ seed: 0 });
  const s = state(env.unwrapped);
  for (const v of [s.theta1, s.theta2, s.dtheta1, s.dtheta2]) {
    t.is(v, Math.fround(v));
    t.true(Math.abs(v) <= 0.1);
  }
  t.is(s.theta1, Math.fround(0.02739233709871769));
});

test('every step costs -1 until the tip rises above the line, which ends the episode with 0', (t) => {
  const hanging = at({ theta1: 0, theta2: 0, dtheta1: 0, dtheta2: 0 });
  const r = hanging.step(1);
  t.is(r.reward, -1);
  t.false(r.terminated);
  const swinging = at({ theta1: 2.5, theta2: 1, dtheta1: -1, dtheta2: 2 });
  const end = swinging.step(0);
  t.true(end.terminated);
  t.is(end.reward, 0);
});

test('angles are wrapped to [-π, π] and speeds bounded at 4π and 9π', (t) => {
  const env = at({ theta1: 3.1, theta2: -3.1, dtheta1: 12.5, dtheta2: -28 });
  env.step(2);
  const s = state(env);
  t.true(s.theta1 >= -Math.PI && s.theta1 <= Math.PI);
  t.true(s.theta2 >= -Math.PI && s.theta2 <= Math.PI);
  t.true(Math.abs(s.dtheta1) <= 4 * Math.PI);
  t.true(Math.abs(s.dtheta2) <= 9 * Math.PI);
});

test('the torque of each action is -1, 0, +1 and the nips equations differ from the book ones', (t) => {
  const start = { theta1: 0.3, theta2: -0.2, dtheta1: 0.5, dtheta2: -0.4 };
  const results = [0, 1, 2].map((a) => Array.from(at(start).step(a).observation));
  t.notDeepEqual(results[0], results[1]);
  t.notDeepEqual(results[1], results[2]);
  const nips = Array.from(at(start, { bookOrNips: 'nips' }).step(1).observation);
  t.notDeepEqual(nips, results[1]);
  t.throws(() => new AcrobotEnv({ bookOrNips: 'paper' as never }), {
    instanceOf: InvalidOptionError,
    message: /bookOrNips.*"book" or "nips".*"paper"/,
  });
});

test('parseCommand maps torques to actions and refuses other torques', (t) => {
  const env = new AcrobotEnv();
  t.deepEqual(env.commands(), ['torque -1', 'torque 0', 'torque +1']);
  const cases: [string, number][] = [
    ['torque -1', 0],
    ['torque 0', 1],
    ['torque +1', 2],
    ['TORQUE 1 N·m', 2],
    ['-1', 0],
    ['+1', 2],
    ['action 1', 1],
    ['no torque', 1],
  ];
  for (const [text, action] of cases) t.is(env.parseCommand(text), action, text);
  t.throws(() => env.parseCommand('torque 0.5'), {
    instanceOf: CommandParseError,
    message: /received "torque 0\.5".*0\.5 N·m is not one of -1, 0, \+1/,
  });
  t.throws(() => env.parseCommand('action 3'), { instanceOf: CommandParseError });
});

test('describe() gives both angles, both turn rates and the height of the tip', (t) => {
  const text = at({ theta1: Math.PI / 2, theta2: 0, dtheta1: 0.5, dtheta2: -1 }).describe();
  t.regex(
    text,
    /Link 1 is 90\.0° counter-clockwise from hanging straight down, turning at 0\.500 rad\/s/,
  );
  t.regex(text, /link 2 is bent 0\.0° relative to link 1, turning at -1\.000 rad\/s/);
  t.regex(text, /free end is level with the pivot/);
  t.regex(
    at({ theta1: 0, theta2: 0, dtheta1: 0, dtheta2: 0 }).describe(),
    /2\.000 m below the pivot/,
  );
});
