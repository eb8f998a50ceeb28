import test from 'ava';
import { ObservationEncoder, actionShape, checkMask } from '../../agents/spaces.js';
import { Box, Dict, Discrete, MultiDiscrete } from '../../envs/core/space.js';
import { InvalidOptionError, InvalidValueError } from '../../envs/core/errors.js';

test('observations are flattened: discrete parts one-hot, boxes as values', (t) => {
  const encoder = new ObservationEncoder(
    new Dict({ cell: new Discrete(3), pos: new Box({ low: -1, high: 1, shape: [2] }) }),
  );
  t.is(encoder.size, 5);
  t.deepEqual(
    Array.from(encoder.encode({ cell: 2, pos: Float32Array.of(0.5, -0.5) })),
    [0, 0, 1, 0.5, -0.5],
  );
  const batch = encoder.encodeBatch([
    { cell: 0, pos: Float32Array.of(0, 0) },
    { cell: 1, pos: Float32Array.of(1, 1) },
  ]);
  t.deepEqual(Array.from(batch), [1, 0, 0, 0, 0, 0, 1, 0, 1, 1]);
  t.throws(() => encoder.encode({ cell: 3, pos: Float32Array.of(0, 0) }), {
    instanceOf: InvalidValueError,
    message: /Invalid observation: expected Dict/,
  });
});

test('action spaces are described or refused with what the agent supports', (t) => {
  const observationSpace = new Box({ low: 0, high: 1, shape: [1] });
  t.deepEqual(
    actionShape({ observationSpace, actionSpace: new Discrete(4, { start: 1 }) }, 'X', [
      'discrete',
    ]),
    { kind: 'discrete', n: 4, start: 1 },
  );
  const box = actionShape(
    { observationSpace, actionSpace: new Box({ low: -1, high: 1, shape: [2] }) },
    'X',
    ['box'],
  );
  t.true(box.kind === 'box' && box.size === 2 && box.bounded);
  t.throws(
    () =>
      actionShape({ observationSpace, actionSpace: new MultiDiscrete([2, 2]) }, 'PpoAgent', [
        'discrete',
        'box',
      ]),
    {
      instanceOf: InvalidOptionError,
      message:
        /PpoAgent spaces\.actionSpace: expected a Discrete or Box action space, received "MultiDiscrete/,
    },
  );
});

test('masks are checked; a mask allowing nothing (an ended episode) restricts nothing', (t) => {
  t.deepEqual(checkMask(Uint8Array.of(1, 0), 2), Uint8Array.of(1, 0));
  t.is(checkMask(Uint8Array.of(0, 0), 2), undefined);
  t.is(checkMask(undefined, 2), undefined);
  t.throws(() => checkMask(Uint8Array.of(1, 2), 2), {
    instanceOf: InvalidValueError,
    message: /expected a Uint8Array of 2 values in \{0, 1\}, received Uint8Array\[1, 2\]/,
  });
  t.throws(() => checkMask([1, 0] as unknown as Uint8Array, 2), { instanceOf: InvalidValueError });
});
