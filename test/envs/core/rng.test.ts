import test from 'ava';
import { Rng } from '../../../envs/core/rng.js';
import { Pcg64, SeedSequence } from '../../../envs/core/pcg64.js';
import { InvalidOptionError, InvalidStateError } from '../../../envs/core/errors.js';

test('the NumPy stream equals numpy.random.default_rng(seed).random()', (t) => {
  // numpy 1.24: default_rng(42).random() and default_rng(0).random()
  t.is(Rng.numpy(42).random(), 0.7739560485559633);
  t.is(Rng.numpy(0).random(), 0.6369616873214543);
});

test('SeedSequence expands a small seed into four pool words deterministically', (t) => {
  const a = new SeedSequence(42).generateState(4);
  const b = new SeedSequence(42).generateState(4);
  t.deepEqual(a, b);
  t.notDeepEqual(a, new SeedSequence(43).generateState(4));
  t.is(new SeedSequence(2n ** 70n).generateState(8).length, 8);
});

test('a PCG64 generator restored from its state continues the same stream', (t) => {
  const g = Pcg64.fromSeed(7);
  g.nextUint64();
  const saved = g.getState();
  const expected = [g.nextDouble(), g.nextDouble()];
  const restored = Pcg64.fromState(saved);
  t.deepEqual([restored.nextDouble(), restored.nextDouble()], expected);
});

test('the same seed gives the same stream, another seed another', (t) => {
  const draw = (rng: Rng) => [
    rng.random(),
    rng.uniform(-3, 3),
    rng.normal(),
    rng.integer(10),
    rng.choice(['a', 'b', 'c']),
  ];
  t.deepEqual(draw(new Rng(1)), draw(new Rng(1)));
  t.notDeepEqual(draw(new Rng(1)), draw(new Rng(2)));
});

test('getState/setState restore the exact stream, the cached normal included', (t) => {
  for (const rng of [new Rng(3), Rng.numpy(3)]) {
    rng.normal(); // leaves a spare normal cached
    const saved = JSON.parse(JSON.stringify(rng.getState())) as ReturnType<Rng['getState']>;
    const expected = [rng.normal(), rng.random(), rng.integer(5, 9)];
    const restored = Rng.fromState(saved);
    t.deepEqual([restored.normal(), restored.random(), restored.integer(5, 9)], expected);
    t.is(restored.seed, 3);
  }
});

test('a foreign state is refused with InvalidStateError', (t) => {
  t.throws(() => new Rng(1).setState({ kind: 'alea' } as never), { instanceOf: InvalidStateError });
  t.throws(() => new Rng(1).setState(Rng.numpy(1).getState()), {
    instanceOf: InvalidStateError,
    message: /alea/,
  });
});

test('integer(low, high) stays in [low, high) and covers it uniformly', (t) => {
  const rng = new Rng(11);
  const counts = new Array<number>(6).fill(0);
  const n = 60_000;
  for (let i = 0; i < n; i++) {
    const x = rng.integer(-3, 3);
    t.true(x >= -3 && x < 3);
    counts[x + 3]!++;
  }
  const chi2 = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0);
  t.true(chi2 < 20.5, `chi-square ${chi2} over 5 degrees of freedom`); // p ≈ 0.001
});

test('normal samples have the requested mean and spread', (t) => {
  const rng = new Rng(5);
  const xs = Array.from({ length: 20_000 }, () => rng.normal(2, 3));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  t.true(Math.abs(mean - 2) < 0.1);
  t.true(Math.abs(std - 3) < 0.1);
});

test('shuffle permutes in place and keeps every element', (t) => {
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  const shuffled = new Rng(9).shuffle([...items]);
  t.deepEqual(
    [...shuffled].sort((a, b) => a - b),
    items,
  );
  t.notDeepEqual(shuffled, items);
});

test('bad seeds and ranges are typed errors', (t) => {
  t.throws(() => new Rng(-1), {
    instanceOf: InvalidOptionError,
    message: /non-negative integer, received -1/,
  });
  t.throws(() => new Rng(1.5), { instanceOf: InvalidOptionError });
  t.throws(() => new Rng(1).integer(3, 3), { instanceOf: InvalidOptionError });
  t.throws(() => new Rng(1).choice([]), { instanceOf: InvalidOptionError });
});

test('an unseeded generator draws its seed from OS entropy', (t) => {
  t.not(new Rng().seed, new Rng().seed);
});
