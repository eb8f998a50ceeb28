import test from 'ava';
import { checkEnv } from '../../../../envs/core/check-env.js';
import { make } from '../../../../envs/core/registry.js';
import { Box, flatdim } from '../../../../envs/core/space.js';
import { FlattenObservation } from '../../../../envs/core/wrappers/flatten.js';
import { TOY_WALK_ID, ToyWalkEnv } from '../../../helpers/toy-env.js';

test('FlattenObservation turns a Dict observation into one Float32Array (sorted keys, one-hot Discrete)', (t) => {
  const inner = new ToyWalkEnv({ observation: 'dict', noise: 0, goal: 4 });
  const env = new FlattenObservation(inner);
  t.is(flatdim(inner.observationSpace), 4);
  // direction: Discrete(3) one-hot (keys sorted: direction before position), then position in [-4, 4].
  t.true(env.observationSpace.equals(new Box({ low: [0, 0, 0, -4], high: [1, 1, 1, 4] })));
  t.deepEqual(
    env.reset({ seed: 0, options: { start: 0.5 } }).observation,
    Float32Array.of(0, 1, 0, 0.5),
  );
  t.deepEqual(env.step(2).observation, Float32Array.of(0, 0, 1, 1.5));
  t.deepEqual(env.step(0).observation, Float32Array.of(1, 0, 0, 0.5));
});

test('FlattenObservation of a Box keeps the values and the bounds', (t) => {
  const env = new FlattenObservation(new ToyWalkEnv({ goal: 2 }));
  t.true(env.observationSpace.equals(new Box({ low: [-2, -4], high: [2, 4] })));
  const { observation } = env.reset({ seed: 1 });
  t.true(env.observationSpace.contains(observation));
});

test('FlattenObservation keeps the environment contract (checkEnv passes quietly)', (t) => {
  t.notThrows(() => checkEnv(new FlattenObservation(make(TOY_WALK_ID, { observation: 'dict' }))));
});
