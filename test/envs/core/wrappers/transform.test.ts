import test from 'ava';
import { InvalidOptionError, InvalidValueError } from '../../../../envs/core/errors.js';
import { make } from '../../../../envs/core/registry.js';
import { Box, Discrete } from '../../../../envs/core/space.js';
import { TransformObservation, TransformReward } from '../../../../envs/core/wrappers/transform.js';
import { TOY_WALK_ID, ToyWalkEnv } from '../../../helpers/toy-env.js';

test('TransformObservation applies the function to reset and step observations and declares the new space', (t) => {
  const space = new Box({ low: [-1], high: [1] });
  const env = new TransformObservation(
    new ToyWalkEnv({ noise: 0, goal: 4 }),
    (o) => Float32Array.of(o[0]! / 4),
    space,
  );
  t.is(env.observationSpace, space);
  t.deepEqual(env.reset({ seed: 0, options: { start: 2 } }).observation, Float32Array.of(0.5));
  t.deepEqual(env.step(0).observation, Float32Array.of(0.25));
});

test('TransformObservation refuses a result outside the declared space', (t) => {
  const env = new TransformObservation(make(TOY_WALK_ID), () => 7, new Discrete(3));
  t.throws(() => env.reset({ seed: 0 }), {
    instanceOf: InvalidValueError,
    message:
      /observation from TransformObservation\(wmgym-test\/ToyWalk-v0\): expected Discrete\(3\), received 7/,
  });
});

test('TransformObservation refuses a missing function or space', (t) => {
  t.throws(() => new TransformObservation(new ToyWalkEnv(), 'x' as never, new Discrete(2)), {
    instanceOf: InvalidOptionError,
    message: /fn of TransformObservation/,
  });
  t.throws(() => new TransformObservation(new ToyWalkEnv(), (o) => o, {} as never), {
    instanceOf: InvalidOptionError,
    message: /a wmgym Space/,
  });
});

test('TransformReward maps every reward through the function', (t) => {
  const raw = new ToyWalkEnv({ noise: 0 });
  const env = new TransformReward(new ToyWalkEnv({ noise: 0 }), (r) => 10 * r - 1);
  raw.reset({ seed: 0, options: { start: 0 } });
  env.reset({ seed: 0, options: { start: 0 } });
  for (const action of [2, 2, 0]) t.is(env.step(action).reward, 10 * raw.step(action).reward - 1);
});

test('TransformReward refuses a reward that is not a finite number', (t) => {
  for (const bad of [Number.NaN, Infinity, '1']) {
    const env = new TransformReward(new ToyWalkEnv(), () => bad as number);
    env.reset({ seed: 0 });
    t.throws(() => env.step(1), {
      instanceOf: InvalidValueError,
      message: /reward from TransformReward\(ToyWalkEnv\): expected a finite number/,
    });
  }
  t.throws(() => new TransformReward(new ToyWalkEnv(), undefined as never), {
    instanceOf: InvalidOptionError,
  });
});
