import test from 'ava';
import '../../../envs/index.js';
import { MountainCarContinuousEnv } from '../../../envs/classic/mountain-car-continuous.js';
import type { JsonValue } from '../../../envs/core/env.js';
import {
  CommandParseError,
  InvalidActionError,
  InvalidOptionError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';

function at(position: number, velocity: number, options = {}): MountainCarContinuousEnv {
  const env = new MountainCarContinuousEnv(options);
  env.setState({ rng: null, env: { position, velocity } });
  return env;
}

function state(env: { getState(): JsonValue }): { position: number; velocity: number } {
  return (env.getState() as { env: { position: number; velocity: number } }).env;
}

test('reset with a seed draws Gymnasium’s start position, velocity 0', (t) => {
  const env = make<Float32Array, Float32Array>('MountainCarContinuous-v0');
  const obs = env.reset({ seed: 0 }).observation;
  t.true(Math.abs(obs[0]! - -0.47260767) < 1e-7);
  t.is(obs[1], 0);
  const { position } = state(env.unwrapped);
  t.is(position, -0.4726076625357092, 'kept in float64 until the first step, as Gymnasium');
});

test('the state is stored as float32 after every step', (t) => {
  const env = at(-0.5, 0);
  env.step(Float32Array.of(0.7));
  const { position, velocity } = state(env);
  t.is(position, Math.fround(position));
  t.is(velocity, Math.fround(velocity));
  const expectedVelocity = Math.fround(0.7) * 0.0015 - 0.0025 * Math.cos(3 * -0.5);
  t.is(velocity, Math.fround(expectedVelocity));
  t.is(position, Math.fround(-0.5 + expectedVelocity));
});

test('the reward is -0.1·a² per step plus 100 on reaching the flag with enough speed', (t) => {
  const a = Float32Array.of(-0.6);
  t.is(at(-0.5, 0).step(a).reward, -(a[0]! * a[0]!) * 0.1);
  const goal = at(0.449, 0.02).step(Float32Array.of(1));
  t.true(goal.terminated);
  t.is(goal.reward, 100 - 0.1);
  const strict = at(0.449, 0.02, { goalVelocity: 0.05 }).step(Float32Array.of(1));
  t.false(strict.terminated, 'goalVelocity raises the bar');
  t.throws(() => new MountainCarContinuousEnv({ goalVelocity: Number.POSITIVE_INFINITY }), {
    instanceOf: InvalidOptionError,
    message: /goalVelocity.*Infinity/,
  });
});

test('the left wall stops the car; speed is bounded at 0.07', (t) => {
  const wall = at(-1.19, -0.05);
  const obs = wall.step(Float32Array.of(-1)).observation;
  t.is(obs[0], Math.fround(-1.2));
  t.is(obs[1], 0);
  const fast = at(-0.5, 0.0699).step(Float32Array.of(1)).observation;
  t.is(fast[1], Math.fround(0.07));
});

test('actions outside [-1, 1] are refused, never clipped', (t) => {
  const env = at(-0.5, 0);
  t.throws(() => env.step(Float32Array.of(1.5)), {
    instanceOf: InvalidActionError,
    message: /received Float32Array\[1\.5\]/,
  });
  t.is(state(env).position, -0.5, 'the state is untouched');
});

test('reset options low/high move the start position', (t) => {
  const env = make<Float32Array, Float32Array>('MountainCarContinuous-v0');
  const obs = env.reset({ seed: 4, options: { low: 0.1, high: 0.2 } }).observation;
  t.true(obs[0]! >= 0.1 - 1e-7 && obs[0]! <= 0.2 + 1e-7);
  t.throws(() => env.reset({ options: { low: 1, high: 0 } }), { instanceOf: InvalidOptionError });
});

test('parseCommand reads forces and pushes, and refuses out-of-range forces', (t) => {
  const env = new MountainCarContinuousEnv();
  t.deepEqual(env.commands(), ['force <-1..1>', 'push left', 'push right', 'coast']);
  const cases: [string, number][] = [
    ['force 0.5', 0.5],
    ['Force: -1', -1],
    ['-0.25', -0.25],
    ['push left', -1],
    ['push right', 1],
    ['push right 0.3', 0.3],
    ['push to the left at 0.5', -0.5],
    ['coast', 0],
  ];
  for (const [text, value] of cases) t.is(env.parseCommand(text)[0], Math.fround(value), text);
  t.throws(() => env.parseCommand('force 2'), {
    instanceOf: CommandParseError,
    message: /received "force 2".*force of 2 is outside \[-1, 1\]/,
  });
  t.throws(() => env.parseCommand('push right 4'), {
    instanceOf: CommandParseError,
    message: /outside/,
  });
  t.throws(() => env.parseCommand('fly'), {
    instanceOf: CommandParseError,
    message: /received "fly"/,
  });
});

test('describe() gives the position, the distance to the flag and the speed', (t) => {
  const text = at(-0.5, 0.012).describe();
  t.regex(text, /position -0\.500 m \(0\.950 m left of the flag at 0\.45 m\)/);
  t.regex(text, /moving right at 0\.0120 m\/s/);
  t.regex(at(-0.52, 0).describe(), /at rest, near the bottom of the valley/);
});

test('the ansi picture shows the car and the flag on the valley', (t) => {
  const env = new MountainCarContinuousEnv({ renderMode: 'ansi' });
  env.setState({ rng: null, env: { position: -0.5, velocity: 0 } });
  const text = env.render() as string;
  t.regex(text, /C/);
  t.regex(text, /F/);
  t.regex(text, /position=-0\.500 m/);
});
