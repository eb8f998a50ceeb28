import test from 'ava';
import { checkEnv } from '../../../../envs/core/check-env.js';
import { InvalidOptionError, InvalidStateError } from '../../../../envs/core/errors.js';
import { make } from '../../../../envs/core/registry.js';
import { Box, Dict, Discrete, MultiDiscrete, Text, Tuple } from '../../../../envs/core/space.js';
import { FrameStack, zeroValue } from '../../../../envs/core/wrappers/frame-stack.js';
import { TOY_WALK_ID, ToyWalkEnv, type ToyWalkDict } from '../../../helpers/toy-env.js';

function walker(): ToyWalkEnv {
  return new ToyWalkEnv({ noise: 0, goal: 10 });
}

test('FrameStack stacks Box observations on a new leading axis', (t) => {
  const env = new FrameStack(walker(), 3);
  t.deepEqual(env.observationSpace.shape, [3, 2]);
  t.true(
    env.observationSpace.equals(
      new Box({
        low: [-10, -20, -10, -20, -10, -20],
        high: [10, 20, 10, 20, 10, 20],
        shape: [3, 2],
      }),
    ),
  );
});

test('FrameStack pads with the reset observation, then keeps the last frames oldest first', (t) => {
  const env = new FrameStack(walker(), 3);
  t.deepEqual(
    env.reset({ seed: 0, options: { start: 1 } }).observation,
    Float32Array.of(1, 0, 1, 0, 1, 0),
  );
  t.deepEqual(env.step(2).observation, Float32Array.of(1, 0, 1, 0, 2, 1));
  t.deepEqual(env.step(2).observation, Float32Array.of(1, 0, 2, 1, 3, 1));
  t.deepEqual(env.step(0).observation, Float32Array.of(2, 1, 3, 1, 2, -1));
  t.deepEqual(
    env.reset({ options: { start: -1 } }).observation,
    Float32Array.of(-1, 0, -1, 0, -1, 0),
    'a reset forgets the old frames',
  );
});

test('FrameStack with zero padding fills the older slots with the space zero', (t) => {
  const env = new FrameStack(walker(), 2, { padding: 'zero' });
  t.deepEqual(
    env.reset({ seed: 0, options: { start: 5 } }).observation,
    Float32Array.of(0, 0, 5, 0),
  );
  t.deepEqual(
    zeroValue(new Box({ low: [1, -3, -1], high: [2, -1, 1] })),
    Float32Array.of(1, -1, 0),
  );
  t.is(zeroValue(new Discrete(4, { start: 2 })), 2);
  t.deepEqual(zeroValue(new MultiDiscrete([3, 3], { start: [1, -1] })), Int32Array.of(1, -1));
  t.is(zeroValue(new Text(5, { minLength: 2, charset: 'xy' })), 'xx');
});

test('FrameStack returns a fresh stack the caller owns', (t) => {
  const env = new FrameStack(walker(), 2);
  const first = env.reset({ seed: 0, options: { start: 0 } }).observation;
  first.fill(99);
  t.deepEqual(env.step(2).observation, Float32Array.of(0, 0, 1, 1));
});

test('FrameStack of Dict observations is a Tuple of dicts', (t) => {
  const env = new FrameStack(new ToyWalkEnv<ToyWalkDict>({ observation: 'dict', noise: 0 }), 2);
  t.true(env.observationSpace instanceof Tuple);
  t.true((env.observationSpace as unknown as Tuple).spaces[0] instanceof Dict);
  env.reset({ seed: 0, options: { start: 0 } });
  const { observation } = env.step(2);
  t.deepEqual(observation, [
    { direction: 1, position: Float32Array.of(0) },
    { direction: 2, position: Float32Array.of(1) },
  ]);
  t.true(env.observationSpace.contains(observation));
});

test('FrameStack snapshots include the frames', (t) => {
  const env = new FrameStack(walker(), 3);
  env.reset({ seed: 0, options: { start: 0 } });
  env.step(2);
  const snapshot = JSON.parse(JSON.stringify(env.getState())) as ReturnType<typeof env.getState>;
  const expected = env.step(2).observation;
  env.reset({ options: { start: -3 } });
  env.setState(snapshot);
  t.deepEqual(env.step(2).observation, expected);
  t.throws(
    () =>
      env.setState({
        env: null,
        wrapper: {
          frames: [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
          ],
        },
      }),
    { instanceOf: InvalidStateError },
  );
  t.throws(() => env.setState({ env: null, wrapper: { frames: [[0, 'x']] } }), {
    instanceOf: InvalidStateError,
  });
});

test('FrameStack refuses a bad stack size or padding', (t) => {
  t.throws(() => new FrameStack(walker(), 0), {
    instanceOf: InvalidOptionError,
    message: /stackSize of FrameStack: expected a positive integer, received 0/,
  });
  t.throws(() => new FrameStack(walker(), 2.5), { instanceOf: InvalidOptionError });
  t.throws(() => new FrameStack(walker(), 2, { padding: 'same' as never }), {
    instanceOf: InvalidOptionError,
    message: /"reset" or "zero"/,
  });
});

test('FrameStack keeps the environment contract (checkEnv passes quietly)', (t) => {
  t.notThrows(() => checkEnv(new FrameStack(make(TOY_WALK_ID), 4)));
  t.notThrows(() =>
    checkEnv(new FrameStack(make(TOY_WALK_ID, { observation: 'dict' }), 2, { padding: 'zero' })),
  );
});
