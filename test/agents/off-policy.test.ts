import test from 'ava';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import { ReplayBuffer } from '../../agents/buffers/replay-buffer.js';
import { checkReplaySources, sampleReplaySources } from '../../agents/off-policy.js';

/** A buffer of `n` transitions whose rewards are all `reward` and observations count up from `base`. */
function filled(n: number, reward: number, base: number, actionMaskSize = 0): ReplayBuffer {
  const buffer = new ReplayBuffer({
    capacity: 100,
    observationSize: 2,
    actionSize: 1,
    actionMaskSize,
  });
  for (let i = 0; i < n; i++) {
    buffer.add({
      observation: Float32Array.of(base + i, 0),
      action: 1,
      reward,
      nextObservation: Float32Array.of(base + i + 1, 0),
      terminated: false,
      truncated: false,
      actionMask: actionMaskSize > 0 ? Uint8Array.of(1, 0, 1) : undefined,
      nextActionMask: actionMaskSize > 0 ? Uint8Array.of(0, 1, 1) : undefined,
    });
  }
  return buffer;
}

test('a mixed batch takes each source its share of rows, in source order', (t) => {
  const real = filled(10, 1, 0, 3);
  const imagined = filled(30, 2, 100);
  const batch = sampleReplaySources(
    [
      { buffer: real, fraction: 0.25 },
      { buffer: imagined, fraction: 0.75 },
    ],
    20,
    new Rng(1),
    3,
  );
  t.is(batch.size, 20);
  t.deepEqual(Array.from(batch.rewards), [
    ...Array<number>(5).fill(1),
    ...Array<number>(15).fill(2),
  ]);
  for (let i = 0; i < 5; i++) t.true(batch.observations[i * 2]! < 10);
  for (let i = 5; i < 20; i++) t.true(batch.observations[i * 2]! >= 100);
  // The real rows keep their masks; the mask-less buffer's rows allow every action.
  t.deepEqual(Array.from(batch.actionMasks!.subarray(0, 3)), [1, 0, 1]);
  t.deepEqual(Array.from(batch.nextActionMasks!.subarray(0, 3)), [0, 1, 1]);
  t.true(batch.actionMasks!.subarray(15).every((m) => m === 1));
});

test('a source with no rows in the batch is not sampled: one full source draws as the buffer itself', (t) => {
  const empty = filled(0, 0, 0);
  const buffer = filled(10, 1, 0);
  const mixed = sampleReplaySources(
    [
      { buffer: empty, fraction: 0 },
      { buffer, fraction: 1 },
    ],
    8,
    new Rng(4),
    0,
  );
  t.deepEqual(mixed, buffer.sample(8, new Rng(4)));
  // Rounding by cumulative shares never asks a source for a negative count.
  const tiny = sampleReplaySources(
    [
      { buffer, fraction: 0.5 },
      { buffer, fraction: 0.5 },
      { buffer: empty, fraction: 0 },
    ],
    1,
    new Rng(2),
    0,
  );
  t.is(tiny.size, 1);
});

test('bad sources and update counts get InvalidOptionErrors naming what was received', (t) => {
  const layout = { observationSize: 2, actionSize: 1, actionCount: 3 };
  const buffer = filled(3, 1, 0);
  t.throws(() => checkReplaySources('SacAgent', [{ buffer, fraction: 0.5 }], 1, layout), {
    instanceOf: InvalidOptionError,
    message:
      /SacAgent\.trainFrom sources fractions: expected shares summing to 1, received \[0\.5\]/,
  });
  t.throws(() => checkReplaySources('SacAgent', [{ buffer, fraction: 1 }], -1, layout), {
    instanceOf: InvalidOptionError,
    message: /updates: expected an integer >= 0, received -1/,
  });
  t.throws(() => checkReplaySources('DqnAgent', [], 1, layout), {
    instanceOf: InvalidOptionError,
    message: /DqnAgent\.trainFrom sources/,
  });
  const wide = new ReplayBuffer({ capacity: 4, observationSize: 5, actionSize: 1 });
  t.throws(() => checkReplaySources('DqnAgent', [{ buffer: wide, fraction: 1 }], 1, layout), {
    instanceOf: InvalidOptionError,
    message:
      /sources\[0\]\.buffer: expected observationSize 2, actionSize 1, actionMaskSize 0 or 3, received "observationSize 5/,
  });
  t.throws(() => checkReplaySources('DqnAgent', [{ buffer, fraction: Number.NaN }], 1, layout), {
    instanceOf: InvalidOptionError,
    message: /sources\[0\]\.fraction/,
  });
});
