import test from 'ava';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ReplayBuffer,
  bootstrapDiscounts,
  type StoredTransition,
} from '../../../agents/buffers/replay-buffer.js';
import {
  InvalidOptionError,
  InvalidValueError,
  MalformedFileError,
} from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';

function transition(
  i: number,
  flags: { terminated?: boolean; truncated?: boolean } = {},
): StoredTransition {
  return {
    observation: Float32Array.of(i, -i),
    action: i % 3,
    reward: i,
    nextObservation: Float32Array.of(i + 1, -i - 1),
    terminated: flags.terminated ?? false,
    truncated: flags.truncated ?? false,
  };
}

test('the ring overwrites the oldest transitions once full', (t) => {
  const buffer = new ReplayBuffer({ capacity: 5, observationSize: 2, actionSize: 1 });
  for (let i = 0; i < 7; i++) buffer.add(transition(i));
  t.is(buffer.size, 5);
  const all = buffer.gather(Int32Array.of(0, 1, 2, 3, 4));
  t.deepEqual(
    [...all.rewards].sort((a, b) => a - b),
    [2, 3, 4, 5, 6],
  );
  // The only window of 5 is the whole buffer in time order.
  const sequence = buffer.sampleSequences(1, 5, new Rng(1));
  t.deepEqual([...sequence.rewards], [2, 3, 4, 5, 6]);
  t.deepEqual([...sequence.observations.subarray(0, 2)], [2, -2]);
});

test('uniform sampling covers every stored slot evenly (chi-square)', (t) => {
  const n = 50;
  const buffer = new ReplayBuffer({ capacity: n, observationSize: 2, actionSize: 1 });
  for (let i = 0; i < 80; i++) buffer.add(transition(i));
  const counts = new Array<number>(n).fill(0);
  const rng = new Rng(7);
  const draws = 50_000;
  for (let k = 0; k < draws / 500; k++)
    for (const s of buffer.sample(500, rng).indices) counts[s]!++;
  const expected = draws / n;
  const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  // 49 degrees of freedom: P(chi2 > 85.35) = 0.001.
  t.true(chi2 < 85.35, `chi-square ${chi2.toFixed(1)}`);
  t.true(counts.every((c) => c > 0));
});

test('sampling draws from every environment column in proportion to what it holds', (t) => {
  const buffer = new ReplayBuffer({ capacity: 20, observationSize: 2, actionSize: 1, numEnvs: 2 });
  for (let i = 0; i < 6; i++) buffer.add(transition(i), 0);
  for (let i = 100; i < 102; i++) buffer.add(transition(i), 1);
  const batch = buffer.sample(8000, new Rng(3));
  const fromSecond = [...batch.rewards].filter((r) => r >= 100).length / 8000;
  t.true(Math.abs(fromSecond - 0.25) < 0.03, `fraction ${fromSecond}`);
});

test('terminated and truncated are stored apart and stay aligned with their transition', (t) => {
  const buffer = new ReplayBuffer({ capacity: 10, observationSize: 2, actionSize: 1 });
  buffer.add(transition(0));
  buffer.add(transition(1, { terminated: true }));
  buffer.add(transition(2, { truncated: true }));
  const batch = buffer.sample(300, new Rng(2));
  for (let i = 0; i < batch.size; i++) {
    const r = batch.rewards[i];
    t.is(batch.terminated[i], r === 1 ? 1 : 0);
    t.is(batch.truncated[i], r === 2 ? 1 : 0);
    t.is(batch.actions[i], r! % 3);
    t.is(batch.nextObservations[2 * i], r! + 1);
  }
});

test('sequences are consecutive in time and never cross the write position', (t) => {
  const buffer = new ReplayBuffer({ capacity: 10, observationSize: 2, actionSize: 1 });
  for (let i = 0; i < 13; i++) buffer.add(transition(i));
  const batch = buffer.sampleSequences(400, 3, new Rng(5));
  t.is(batch.length, 3);
  for (let s = 0; s < 400; s++) {
    const r = [...batch.rewards.subarray(s * 3, s * 3 + 3)];
    t.deepEqual(r, [r[0]!, r[0]! + 1, r[0]! + 2]);
    t.true(r[0]! >= 3 && r[0]! <= 10);
  }
  t.throws(() => buffer.sampleSequences(1, 11, new Rng(1)), {
    instanceOf: InvalidOptionError,
    message: /at most the longest stored column \(10 transitions\)/,
  });
});

test('action masks are stored for both observations', (t) => {
  const buffer = new ReplayBuffer({
    capacity: 4,
    observationSize: 2,
    actionSize: 1,
    actionMaskSize: 3,
  });
  buffer.add({
    ...transition(0),
    actionMask: Uint8Array.of(1, 0, 1),
    nextActionMask: Uint8Array.of(0, 1, 1),
  });
  buffer.add(transition(1)); // no mask: every action allowed
  const batch = buffer.gather(Int32Array.of(0, 1));
  t.deepEqual([...batch.actionMasks!], [1, 0, 1, 1, 1, 1]);
  t.deepEqual([...batch.nextActionMasks!], [0, 1, 1, 1, 1, 1]);
});

test('save then load restores the same contents, positions and sampling', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-replay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const options = { capacity: 6, observationSize: 2, actionSize: 1, numEnvs: 2, actionMaskSize: 3 };
  const a = new ReplayBuffer(options);
  for (let i = 0; i < 5; i++)
    a.add(
      { ...transition(i, { truncated: i === 2 }), actionMask: Uint8Array.of(1, i % 2, 1) },
      i % 2,
    );
  a.save(dir);
  const b = new ReplayBuffer(options);
  b.load(dir);
  t.is(b.size, a.size);
  t.deepEqual(b.sample(32, new Rng(9)), a.sample(32, new Rng(9)));
  // Writing continues at the same position.
  a.add(transition(50), 0);
  b.add(transition(50), 0);
  t.deepEqual(b.sampleSequences(4, 2, new Rng(4)), a.sampleSequences(4, 2, new Rng(4)));
});

test('loading a foreign or damaged buffer file gets a MalformedFileError with the JSON path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-replay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = new ReplayBuffer({ capacity: 4, observationSize: 2, actionSize: 1 });
  a.add(transition(1));
  a.save(dir);
  const other = new ReplayBuffer({ capacity: 4, observationSize: 3, actionSize: 1 });
  t.throws(() => other.load(dir), {
    instanceOf: MalformedFileError,
    message: /\$\.observationSize: expected 3 \(this buffer's layout\), received 2/,
  });
  const bin = join(dir, 'replay-buffer.bin');
  writeFileSync(bin, readFileSync(bin).subarray(0, 7));
  t.throws(() => new ReplayBuffer({ capacity: 4, observationSize: 2, actionSize: 1 }).load(dir), {
    instanceOf: MalformedFileError,
    message: /bytes/,
  });
  t.throws(() => a.load(join(dir, 'missing')), { instanceOf: MalformedFileError });
});

test('bad input gets typed errors instead of being stored', (t) => {
  const buffer = new ReplayBuffer({ capacity: 4, observationSize: 2, actionSize: 1 });
  t.throws(() => buffer.add({ ...transition(0), observation: Float32Array.of(1) }), {
    instanceOf: InvalidValueError,
    message:
      /observation for the replay buffer: expected a Float32Array of 2 values, received Float32Array\[1\]/,
  });
  t.throws(() => buffer.add({ ...transition(0), reward: Number.NaN }), {
    instanceOf: InvalidValueError,
    message: /received NaN/,
  });
  t.throws(() => buffer.add(transition(0), 1), { instanceOf: InvalidOptionError, message: /env/ });
  t.throws(() => buffer.sample(1, new Rng(1)), {
    instanceOf: InvalidOptionError,
    message: /empty buffer/,
  });
  t.throws(() => new ReplayBuffer({ capacity: 0, observationSize: 2, actionSize: 1 }), {
    instanceOf: InvalidOptionError,
    message: /capacity: expected a positive integer, received 0/,
  });
  t.is(buffer.size, 0);
});

test('one-step targets bootstrap after a truncation and not after a termination', (t) => {
  const buffer = new ReplayBuffer({ capacity: 4, observationSize: 2, actionSize: 1 });
  buffer.add(transition(0, { terminated: true }));
  buffer.add(transition(1, { truncated: true }));
  buffer.add(transition(2));
  const batch = buffer.gather(Int32Array.of(0, 1, 2));
  t.deepEqual(Array.from(bootstrapDiscounts(batch.terminated, 0.5)), [0, 0.5, 0.5]);
  t.deepEqual(Array.from(batch.truncated), [0, 1, 0]);
});
