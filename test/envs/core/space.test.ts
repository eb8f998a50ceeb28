import test from 'ava';
import {
  Box,
  Dict,
  Discrete,
  MultiBinary,
  MultiDiscrete,
  Text,
  Tuple,
  flatdim,
  flatten,
  flattenSpace,
  spaceFromJSON,
  unflatten,
  type AnySpace,
} from '../../../envs/core/space.js';
import { Rng } from '../../../envs/core/rng.js';
import {
  InvalidActionError,
  InvalidSpaceError,
  InvalidValueError,
} from '../../../envs/core/errors.js';

const spaces: [string, AnySpace][] = [
  ['Discrete', new Discrete(5, { start: -2 })],
  ['Box bounded', new Box({ low: [-2, 0], high: [2, 1] })],
  ['Box half-bounded', new Box({ low: [0, -Infinity], high: [Infinity, 3] })],
  ['Box unbounded', new Box({ low: -Infinity, high: Infinity, shape: [2, 2] })],
  ['MultiDiscrete', new MultiDiscrete([3, 2, 4], { start: [1, 0, -1] })],
  ['MultiBinary', new MultiBinary([2, 3])],
  ['Text', new Text(6, { minLength: 2, charset: 'abc ' })],
  ['Dict', new Dict({ position: new Box({ low: [-1], high: [1] }), door: new Discrete(3) })],
  ['Tuple', new Tuple([new Discrete(2), new MultiBinary(3)] as const)],
];

for (const [name, space] of spaces) {
  test(`${name}: samples are contained, and survive flatten/unflatten and JSON`, (t) => {
    const rng = new Rng(0);
    for (let i = 0; i < 200; i++) {
      const x: unknown = space.sample(rng);
      t.true(space.contains(x), `sample ${i}`);
      t.is(space.explain(x), '');
      const flat = flatten(space, x);
      t.is(flat.length, flatdim(space));
      t.true(flattenSpace(space).contains(flat));
      t.deepEqual(unflatten(space, flat), x);
    }
    const copy = spaceFromJSON(JSON.parse(JSON.stringify(space.toJSON())));
    t.true(copy.equals(space));
    t.is(String(copy), String(space));
  });

  test(`${name}: a seeded space samples the same sequence`, (t) => {
    space.seed(123);
    const a = [space.sample(), space.sample()];
    space.seed(123);
    t.deepEqual([space.sample(), space.sample()], a);
  });
}

test('Box.contains rejects NaN, out-of-bound values, wrong lengths and plain arrays', (t) => {
  const box = new Box({ low: [-2], high: [2] });
  t.true(box.contains(Float32Array.of(2)));
  t.false(box.contains(Float32Array.of(Number.NaN)));
  t.false(box.contains(Float32Array.of(2.5)));
  t.false(box.contains(Float32Array.of(0, 0)));
  t.false(box.contains([0]));
  t.false(box.contains(Float64Array.of(0)));
  t.regex(box.explain([0]), /Float32Array\.from/);
  t.regex(box.explain(Float32Array.of(Number.NaN)), /element 0 is NaN/);
});

test('check throws the error class asked for, naming the value, the space and the reason', (t) => {
  const box = new Box({ low: [-2], high: [2] });
  t.throws(() => box.check(Float32Array.of(3.5), 'action for Pendulum-v1', InvalidActionError), {
    instanceOf: InvalidActionError,
    message:
      'Invalid action for Pendulum-v1: expected Box(low=[-2], high=[2], shape=[1]), received Float32Array[3.5]. element 0 (3.5) is above high (2)',
  });
  t.throws(() => new Discrete(3).check(1.5), {
    instanceOf: InvalidValueError,
    message: /received 1\.5\. 1\.5 is not an integer/,
  });
  t.throws(() => new Dict({ a: new Discrete(2) }).check({ a: 2 }), {
    instanceOf: InvalidValueError,
    message: /at \.a: 2 is outside 0\.\.1/,
  });
});

test('Box samples the right distribution on each kind of bound', (t) => {
  const box = new Box({ low: [0, -Infinity, 5, -Infinity], high: [1, 0, Infinity, Infinity] });
  const rng = new Rng(4);
  const n = 5000;
  const mean = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const x = box.sample(rng);
    for (let j = 0; j < 4; j++) mean[j]! += x[j]! / n;
  }
  t.true(Math.abs(mean[0]! - 0.5) < 0.03); // uniform
  t.true(Math.abs(mean[1]! + 1) < 0.06); // high - Exp(1)
  t.true(Math.abs(mean[2]! - 6) < 0.06); // low + Exp(1)
  t.true(Math.abs(mean[3]!) < 0.06); // N(0, 1)
});

test('Discrete samples only the values a mask allows, and start when none is allowed', (t) => {
  const space = new Discrete(4, { start: 10 });
  const rng = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(space.sample(rng, Uint8Array.of(0, 1, 0, 1)));
  t.deepEqual([...seen].sort(), [11, 13]);
  t.is(space.sample(rng, new Uint8Array(4)), 10);
  t.throws(() => space.sample(rng, Uint8Array.of(1, 1)), {
    instanceOf: InvalidValueError,
    message: /Uint8Array of 4 values/,
  });
});

test('MultiBinary masks force 0 or 1 and let 2 sample', (t) => {
  const space = new MultiBinary(3);
  const rng = new Rng(2);
  for (let i = 0; i < 50; i++) {
    const x = space.sample(rng, Uint8Array.of(0, 1, 2));
    t.is(x[0], 0);
    t.is(x[1], 1);
  }
});

test('Text samples respect a fixed length and a charset mask', (t) => {
  const space = new Text(5, { charset: 'abc' });
  const x = space.sample(new Rng(3), { length: 4, charset: Uint8Array.of(0, 1, 0) });
  t.is(x, 'bbbb');
  t.false(space.contains('abcd!'));
  t.false(space.contains(''));
});

test('Discrete flattens to a one-hot vector and back', (t) => {
  const space = new Discrete(3, { start: 1 });
  t.deepEqual(Array.from(flatten(space, 2)), [0, 1, 0]);
  t.is(unflatten(space, Float32Array.of(0, 0, 1)), 3);
  t.throws(() => unflatten(space, Float32Array.of(1, 1, 0)), {
    instanceOf: InvalidValueError,
    message: /exactly one 1/,
  });
});

test('unflatten refuses a MultiBinary entry that is not exactly 0 or 1 instead of truncating it', (t) => {
  const space = new MultiBinary(3);
  t.deepEqual(unflatten(space, Float32Array.of(1, 0, 1)), Uint8Array.of(1, 0, 1));
  t.throws(() => unflatten(space, Float32Array.of(1, 0.5, 1)), {
    instanceOf: InvalidValueError,
    message: /flat MultiBinary element 1: expected exactly 0 or 1, received 0\.5/,
  });
  t.throws(() => unflatten(new Tuple([new Discrete(2), space]), Float32Array.of(1, 0, 0, 1, 1.5)), {
    instanceOf: InvalidValueError,
    message: /received 1\.5/,
  });
});

test('the reason a value is refused names its type with the right article', (t) => {
  t.is(new Discrete(2).explain([0]), 'an Array is not an integer');
  t.is(new Discrete(2).explain(undefined), 'undefined is not an integer');
  t.is(new Box({ low: 0, high: 1, shape: [1] }).explain('x'), 'a string is not a Float32Array');
  t.is(
    new MultiBinary(2).explain(Int32Array.of(0, 1)),
    'a MultiBinary value must be a Uint8Array, received an Int32Array',
  );
});

test('MultiDiscrete refuses starts whose values would not fit in an Int32Array', (t) => {
  t.throws(() => new MultiDiscrete([2], { start: [2 ** 40] }), {
    instanceOf: InvalidSpaceError,
    message: /int32 range, received \[1099511627776\]/,
  });
  t.throws(() => new MultiDiscrete([3], { start: [0x7fffffff - 1] }), {
    instanceOf: InvalidSpaceError,
  });
  t.is(new MultiDiscrete([2], { start: [0x7fffffff - 1] }).sample(new Rng(0)).length, 1);
});

test('spaceFromJSON refuses a malformed description with InvalidSpaceError, not a TypeError', (t) => {
  t.throws(() => spaceFromJSON({ type: 'Box', low: 3, high: [1], shape: [1] }), {
    instanceOf: InvalidSpaceError,
    message: /expected low of a Box to be an array of numbers, received 3/,
  });
  t.throws(() => spaceFromJSON({ type: 'Dict' }), {
    instanceOf: InvalidSpaceError,
    message: /spaces of a Dict/,
  });
  t.throws(() => spaceFromJSON({ type: 'Tuple', spaces: [{ type: 'MultiBinary' }] }), {
    instanceOf: InvalidSpaceError,
    message: /shape of a MultiBinary/,
  });
  t.throws(() => spaceFromJSON({ type: 'Text', maxLength: 3, minLength: 1, charset: 7 }), {
    instanceOf: InvalidSpaceError,
    message: /charset of a Text to be a string, received 7/,
  });
});

test('Dict keys are kept sorted, so flattening is independent of insertion order', (t) => {
  const a = new Dict({ b: new Discrete(2), a: new Box({ low: [0], high: [1] }) });
  t.deepEqual(a.keys, ['a', 'b']);
  t.deepEqual(Array.from(flatten(a, { b: 1, a: Float32Array.of(0.5) })), [0.5, 0, 1]);
});

test('spaces built from inconsistent parameters throw InvalidSpaceError', (t) => {
  t.throws(() => new Discrete(0), {
    instanceOf: InvalidSpaceError,
    message: /positive integer, received 0/,
  });
  t.throws(() => new Box({ low: [1], high: [0] }), {
    instanceOf: InvalidSpaceError,
    message: /low <= high/,
  });
  t.throws(() => new Box({ low: 0, high: 1 }), {
    instanceOf: InvalidSpaceError,
    message: /expected shape/,
  });
  t.throws(() => new Box({ low: [Number.NaN], high: [1] }), {
    instanceOf: InvalidSpaceError,
    message: /NaN/,
  });
  t.throws(() => new MultiDiscrete([2, 0]), { instanceOf: InvalidSpaceError });
  t.throws(() => new Text(2, { minLength: 3 }), { instanceOf: InvalidSpaceError });
  t.throws(() => spaceFromJSON({ type: 'Sphere' }), {
    instanceOf: InvalidSpaceError,
    message: /received "Sphere"/,
  });
});

test('toString is short and readable', (t) => {
  t.is(String(new Box({ low: [-2], high: [2] })), 'Box(low=[-2], high=[2], shape=[1])');
  t.is(
    String(new Box({ low: 0, high: 255, shape: [7, 7, 3] })),
    'Box(low=0, high=255, shape=[7, 7, 3])',
  );
  t.is(String(new Discrete(3, { start: -1 })), 'Discrete(3, start=-1)');
  t.is(String(new MultiBinary(4)), 'MultiBinary(4)');
});
