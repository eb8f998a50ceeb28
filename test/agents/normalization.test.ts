import test from 'ava';
import { Normalizer } from '../../agents/normalization.js';
import { InvalidStateError } from '../../envs/core/errors.js';
import { RunningMeanStd } from '../../envs/core/wrappers/normalize.js';

const options = {
  size: 2,
  numEnvs: 2,
  observations: true,
  rewards: true,
  clipObservations: 10,
  clipRewards: 10,
  gamma: 0.9,
};

test('observations are standardised with the running mean and variance, then clipped', (t) => {
  const n = new Normalizer(options);
  const rows = Float32Array.of(1, 10, 3, 10, 5, 10);
  n.updateObservations(rows, 3);
  const x = Float32Array.of(5, 10, 1000, 10);
  n.normalizeObservations(x);
  // mean ≈ (3, 10), variance ≈ (8/3, 0): (5 − 3)/√(8/3) ≈ 1.2247; a constant feature maps to 0; outliers clip at 10.
  t.true(Math.abs(x[0]! - 2 / Math.sqrt(8 / 3)) < 1e-3);
  t.true(Math.abs(x[1]!) < 0.01); // a constant feature maps to about 0
  t.is(x[2], 10);
});

test('rewards are divided by the running std of each environment’s discounted return, reset at episode ends', (t) => {
  const n = new Normalizer(options);
  const reference = new RunningMeanStd([]);
  const expect = (ret: number, reward: number): number => {
    reference.update([ret], 1);
    return Math.min(Math.max(reward / Math.sqrt(reference.var[0]! + 1e-8), -10), 10);
  };
  t.is(n.normalizeReward(1, 0, false), expect(1, 1)); // return 1: one sample, tiny variance, clipped at 10
  t.is(n.normalizeReward(1, 0, true), expect(1.9, 1)); // return 0.9·1 + 1, then the episode ends
  t.is(n.normalizeReward(2, 1, false), expect(2, 2)); // env 1 has its own return
  t.is(n.normalizeReward(1, 0, false), expect(1, 1)); // env 0 starts again from 0
  t.deepEqual((n.toJSON() as { discounted: number[] }).discounted, [1, 2]);
});

test('disabled normalisation changes nothing', (t) => {
  const n = new Normalizer({ ...options, observations: false, rewards: false });
  const x = Float32Array.of(3, 4);
  n.updateObservations(x, 1);
  n.normalizeObservations(x);
  t.deepEqual(Array.from(x), [3, 4]);
  t.is(n.normalizeReward(5, 0, false), 5);
});

test('statistics round-trip through JSON and a mismatched state is refused', (t) => {
  const a = new Normalizer(options);
  a.updateObservations(Float32Array.of(1, 2, 3, 4), 2);
  a.normalizeReward(2, 1, false);
  const b = new Normalizer(options);
  b.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  t.deepEqual(b.toJSON(), a.toJSON());
  t.throws(() => new Normalizer({ ...options, size: 3 }).fromJSON(a.toJSON()), {
    instanceOf: InvalidStateError,
    message: /expected 3 values, received 2/,
  });
  t.throws(() => b.fromJSON({ discounted: [0] }), { instanceOf: InvalidStateError });
});
