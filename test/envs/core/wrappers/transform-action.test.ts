import test from 'ava';
import { checkEnv } from '../../../../envs/core/check-env.js';
import { InvalidActionError, InvalidOptionError } from '../../../../envs/core/errors.js';
import { make } from '../../../../envs/core/registry.js';
import { Box } from '../../../../envs/core/space.js';
import { ClipAction, RescaleAction } from '../../../../envs/core/wrappers/transform-action.js';
import { TOY_WALK_ID, ToyWalkEnv } from '../../../helpers/toy-env.js';

/** A noise-free walker with a Box action in [-maxMove, maxMove], placed at 0. */
function walker(maxMove = 1): ToyWalkEnv<Float32Array, Float32Array> {
  const env = new ToyWalkEnv<Float32Array, Float32Array>({
    actions: 'box',
    noise: 0,
    maxMove,
    goal: 10,
  });
  env.reset({ seed: 0, options: { start: 0 } });
  return env;
}

test('ClipAction widens the action space to Box(-Infinity, Infinity) of the same shape', (t) => {
  const env = new ClipAction(walker());
  t.true(env.actionSpace.equals(new Box({ low: -Infinity, high: Infinity, shape: [1] })));
  t.true(env.actionSpace.contains(Float32Array.of(1e30)));
});

test('ClipAction clips an action into the inner bounds before stepping', (t) => {
  const env = new ClipAction(walker());
  const { observation } = env.step(Float32Array.of(7.5));
  t.is(observation[0], 1, 'moved by the upper bound 1, not 7.5');
  t.deepEqual(env.action(Float32Array.of(-3)), Float32Array.of(-1));
  t.deepEqual(env.action(Float32Array.of(0.25)), Float32Array.of(0.25));
});

test('ClipAction still refuses NaN and a wrong length with InvalidActionError', (t) => {
  const env = new ClipAction(walker());
  t.throws(() => env.step(Float32Array.of(Number.NaN)), {
    instanceOf: InvalidActionError,
    message: /ClipAction.*element 0 is NaN/,
  });
  t.throws(() => env.step(Float32Array.of(0, 0)), {
    instanceOf: InvalidActionError,
    message: /length 2/,
  });
});

test('ClipAction and RescaleAction refuse an environment without a Box action space', (t) => {
  const discrete = new ToyWalkEnv({ actions: 'discrete' });
  t.throws(() => new ClipAction(discrete as never), {
    instanceOf: InvalidOptionError,
    message: /expected a Box action space, received "Discrete\(3\)"/,
  });
  t.throws(() => new RescaleAction(discrete as never, -1, 1), {
    instanceOf: InvalidOptionError,
    message: /Box action space/,
  });
});

test('RescaleAction maps [min, max] linearly onto the inner bounds', (t) => {
  const env = new RescaleAction(walker(2), 0, 1);
  t.true(env.actionSpace.equals(new Box({ low: [0], high: [1] })));
  t.deepEqual(env.action(Float32Array.of(0)), Float32Array.of(-2));
  t.deepEqual(env.action(Float32Array.of(1)), Float32Array.of(2));
  t.deepEqual(env.action(Float32Array.of(0.5)), Float32Array.of(0));
  t.deepEqual(env.action(Float32Array.of(0.75)), Float32Array.of(1));
  const { observation } = env.step(Float32Array.of(0.75));
  t.is(observation[0], 1, 'the walker moved by the inner action 1');
});

test('RescaleAction accepts per-element bounds as arrays', (t) => {
  const env = new RescaleAction(walker(2), [-4], [4]);
  t.deepEqual(Array.from(env.minAction), [-4]);
  t.deepEqual(env.action(Float32Array.of(-1)), Float32Array.of(-0.5));
});

test('RescaleAction refuses an action outside the rescaled space instead of passing it on', (t) => {
  const env = new RescaleAction(walker(), 0, 1);
  t.throws(() => env.step(Float32Array.of(1.5)), {
    instanceOf: InvalidActionError,
    message:
      /RescaleAction.*expected Box\(low=\[0\], high=\[1\], shape=\[1\]\), received Float32Array\[1\.5\]/,
  });
});

test('RescaleAction refuses bad bounds and an unbounded inner space with InvalidOptionError', (t) => {
  t.throws(() => new RescaleAction(walker(), 1, 1), {
    instanceOf: InvalidOptionError,
    message: /minAction < maxAction/,
  });
  t.throws(() => new RescaleAction(walker(), 2, -2), { instanceOf: InvalidOptionError });
  t.throws(() => new RescaleAction(walker(), Number.NaN, 1), {
    instanceOf: InvalidOptionError,
    message: /minAction of RescaleAction/,
  });
  t.throws(() => new RescaleAction(walker(), [0, 0], [1, 1]), {
    instanceOf: InvalidOptionError,
    message: /1 finite numbers/,
  });
  t.throws(() => new RescaleAction(new ClipAction(walker()), -1, 1), {
    instanceOf: InvalidOptionError,
    message: /finite low and high/,
  });
});

test('parseCommand through RescaleAction answers in the rescaled space', (t) => {
  const env = new RescaleAction(walker(2), -1, 1);
  t.deepEqual(env.parseCommand('move 1'), Float32Array.of(0.5));
  t.deepEqual(env.parseCommand('move -2'), Float32Array.of(-1));
  const action = env.parseCommand('move 0.5');
  t.true(env.actionSpace.contains(action));
  t.deepEqual(env.action(action), Float32Array.of(0.5), 'action(reverseAction(x)) is x');
});

test('both wrappers keep the environment contract (checkEnv passes quietly)', (t) => {
  t.notThrows(() => checkEnv(new ClipAction(make(TOY_WALK_ID, { actions: 'box' }))));
  t.notThrows(() =>
    checkEnv(new RescaleAction(make(TOY_WALK_ID, { actions: 'box', maxMove: 0.5 }), -1, 1)),
  );
});
