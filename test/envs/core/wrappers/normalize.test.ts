import test from 'ava';
import type { JsonValue } from '../../../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../../../envs/core/errors.js';
import { make } from '../../../../envs/core/registry.js';
import { Rng } from '../../../../envs/core/rng.js';
import { Box } from '../../../../envs/core/space.js';
import { TimeLimit } from '../../../../envs/core/wrappers/common.js';
import {
  NormalizeObservation,
  NormalizeReward,
  RunningMeanStd,
} from '../../../../envs/core/wrappers/normalize.js';
import { TOY_WALK_ID, ToyWalkEnv } from '../../../helpers/toy-env.js';

const EPSILON_COUNT = 1e-4;

/**
 * Mean and population variance of every sample seen plus Gymnasium's prior (a pseudo-sample of
 * weight 1e-4 with mean 0 and variance 1), computed directly rather than incrementally.
 */
function direct(rows: number[][], k: number): { mean: number; variance: number } {
  const n = rows.length + EPSILON_COUNT;
  const mean = rows.reduce((s, r) => s + r[k]!, 0) / n;
  const squares = rows.reduce((s, r) => s + (r[k]! - mean) ** 2, 0);
  return { mean, variance: (EPSILON_COUNT * (1 + mean ** 2) + squares) / n };
}

function close(
  t: { true(v: boolean, m?: string): void },
  actual: number,
  expected: number,
  what: string,
): void {
  t.true(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

test('RunningMeanStd over random batches equals the direct mean and variance of all samples', (t) => {
  const rng = new Rng(7);
  const rms = new RunningMeanStd([3]);
  const seen: number[][] = [];
  for (let b = 0; b < 25; b++) {
    const rows = 1 + rng.integer(9);
    const batch = new Float32Array(rows * 3);
    for (let i = 0; i < batch.length; i++) batch[i] = rng.normal(b % 3 === 0 ? 5 : -2, 1 + (i % 3));
    for (let r = 0; r < rows; r++) seen.push(Array.from(batch.subarray(r * 3, r * 3 + 3)));
    rms.update(batch);
    for (let k = 0; k < 3; k++) {
      const { mean, variance } = direct(seen, k);
      close(t, rms.mean[k]!, mean, `mean[${k}] after batch ${b}`);
      close(t, rms.var[k]!, variance, `var[${k}] after batch ${b}`);
    }
  }
  close(t, rms.count, seen.length + EPSILON_COUNT, 'count');
});

test('RunningMeanStd.update with rows reads only the first rows of a longer buffer', (t) => {
  const a = new RunningMeanStd([2]);
  const b = new RunningMeanStd([2]);
  a.update(Float32Array.of(1, 2, 3, 4, 99, 99), 2);
  b.update(Float32Array.of(1, 2, 3, 4));
  t.deepEqual(a.toJSON(), b.toJSON());
  t.throws(() => a.update(Float32Array.of(1, 2), 2), {
    instanceOf: InvalidValueError,
    message: /rows=2/,
  });
  t.throws(() => a.update(Float32Array.of(1, 2), 0), { instanceOf: InvalidValueError });
});

test('RunningMeanStd refuses NaN and a batch of the wrong length instead of propagating them', (t) => {
  const rms = new RunningMeanStd([2]);
  t.throws(() => rms.update([1, Number.NaN]), {
    instanceOf: InvalidValueError,
    message: /element 1 is NaN/,
  });
  t.throws(() => rms.update([1, 2, 3]), {
    instanceOf: InvalidValueError,
    message: /multiple of 2/,
  });
  t.throws(() => rms.update([]), { instanceOf: InvalidValueError });
  t.deepEqual(Array.from(rms.mean), [0, 0], 'nothing changed');
  t.throws(() => new RunningMeanStd([0]), { instanceOf: InvalidOptionError });
});

test('RunningMeanStd survives a JSON round trip and refuses a foreign value', (t) => {
  const rms = new RunningMeanStd([2]);
  rms.update([1, 2, 3, 5, -4, 0.5]);
  const copy = RunningMeanStd.fromJSON(JSON.parse(JSON.stringify(rms.toJSON())));
  t.deepEqual(copy.toJSON(), rms.toJSON());
  t.throws(() => RunningMeanStd.fromJSON({ shape: [2], mean: [0], var: [1, 1], count: 1 }), {
    instanceOf: InvalidStateError,
  });
  t.throws(() => RunningMeanStd.fromJSON({ shape: [1], mean: [0], var: [-1], count: 1 }), {
    instanceOf: InvalidStateError,
  });
});

test('NormalizeObservation returns (obs - mean) / sqrt(var + 1e-8) with statistics updated first', (t) => {
  const raw = new ToyWalkEnv({ noise: 0.3 });
  const env = new NormalizeObservation(new ToyWalkEnv({ noise: 0.3 }));
  t.true(env.observationSpace.equals(new Box({ low: -Infinity, high: Infinity, shape: [2] })));
  const seen: number[][] = [];
  const check = (rawObs: Float32Array, normalized: Float32Array): void => {
    seen.push(Array.from(rawObs));
    for (let k = 0; k < 2; k++) {
      const { mean, variance } = direct(seen, k);
      const expected = Math.fround((rawObs[k]! - mean) / Math.sqrt(variance + 1e-8));
      t.true(
        Math.abs(normalized[k]! - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
        `step ${seen.length}, element ${k}`,
      );
    }
  };
  check(raw.reset({ seed: 3 }).observation, env.reset({ seed: 3 }).observation);
  for (let i = 0; i < 12; i++) {
    const a = raw.step(i % 3);
    const b = env.step(i % 3);
    check(a.observation, b.observation);
    if (a.terminated) {
      check(raw.reset().observation, env.reset().observation);
    }
  }
});

test('NormalizeObservation freezes its statistics when updateRunningMean is false', (t) => {
  const env = new NormalizeObservation(new ToyWalkEnv());
  env.reset({ seed: 1 });
  env.step(2);
  env.updateRunningMean = false;
  const frozen = env.getStatistics();
  env.step(0);
  env.reset();
  t.deepEqual(env.getStatistics(), frozen);
  t.throws(() => (env.updateRunningMean = 'no' as unknown as boolean), {
    instanceOf: InvalidOptionError,
  });
});

test('NormalizeObservation statistics can be read, set, and travel in snapshots', (t) => {
  const env = new NormalizeObservation(new ToyWalkEnv());
  env.reset({ seed: 2 });
  env.step(2);
  const snapshot = JSON.parse(JSON.stringify(env.getState())) as JsonValue;
  const statistics = env.getStatistics();
  const next = env.step(1).observation;
  env.setStatistics({ mean: Float64Array.of(10, 10), var: Float64Array.of(4, 4), count: 3 });
  t.deepEqual(Array.from(env.getStatistics().mean), [10, 10]);
  env.setState(snapshot);
  t.deepEqual(env.getStatistics(), statistics);
  t.deepEqual(env.step(1).observation, next);
  t.throws(
    () => env.setStatistics({ mean: Float64Array.of(0), var: Float64Array.of(1), count: 1 }),
    { instanceOf: InvalidStateError },
  );
});

test('NormalizeObservation refuses a non-Box observation space', (t) => {
  t.throws(() => new NormalizeObservation(new ToyWalkEnv({ observation: 'dict' }) as never), {
    instanceOf: InvalidOptionError,
    message: /expected a Box observation space, received "Dict/,
  });
});

test('NormalizeReward matches a hand computation of r / sqrt(var(G) + 1e-8), G restarting on termination', (t) => {
  const gamma = 0.9;
  // Noise-free walker from 0 with goal 3: right, right, right terminates (rewards 1/3, 2/3, 1).
  const raw = new ToyWalkEnv({ noise: 0, goal: 3 });
  const env = new NormalizeReward(new ToyWalkEnv({ noise: 0, goal: 3 }), { gamma });
  const actions = [2, 2, 2, 0, 1, 0, 0, 2];
  raw.reset({ seed: 0, options: { start: 0 } });
  env.reset({ seed: 0, options: { start: 0 } });
  const returns: number[][] = [];
  let g = 0;
  for (const action of actions) {
    const a = raw.step(action);
    const b = env.step(action);
    g = g * gamma * (a.terminated ? 0 : 1) + a.reward;
    returns.push([g]);
    const { variance } = direct(returns, 0);
    close(
      t,
      b.reward,
      a.reward / Math.sqrt(variance + 1e-8),
      `reward after ${returns.length} steps`,
    );
    close(t, env.discountedReward, g, 'running return');
    if (a.terminated) {
      t.is(env.discountedReward, a.reward, 'the terminating step keeps only its own reward');
      raw.reset({ options: { start: 0 } });
      env.reset({ options: { start: 0 } });
    }
  }
});

test('NormalizeReward carries the return across a truncation, as Gymnasium 1.0 does', (t) => {
  const env = new NormalizeReward(new TimeLimit(new ToyWalkEnv({ noise: 0, goal: 10 }), 2), {
    gamma: 0.5,
  });
  env.reset({ seed: 0, options: { start: 0 } });
  env.step(2); // x = 1, r = 0.1
  const end = env.step(2); // x = 2, r = 0.2, truncated
  t.true(end.truncated);
  close(t, env.discountedReward, 0.1 * 0.5 + 0.2, 'return at truncation');
  env.reset({ options: { start: 0 } });
  env.step(2);
  close(
    t,
    env.discountedReward,
    (0.1 * 0.5 + 0.2) * 0.5 + 0.1,
    'return carried into the next episode',
  );
});

test('NormalizeReward snapshots restore the return and statistics; options are checked', (t) => {
  const env = new NormalizeReward(make(TOY_WALK_ID));
  env.reset({ seed: 4 });
  env.step(2);
  const snapshot = env.getState();
  const expected = env.step(0).reward;
  env.step(2);
  env.setState(snapshot);
  t.is(env.step(0).reward, expected);
  env.updateRunningMean = false;
  const frozen = env.getStatistics();
  env.step(2);
  t.deepEqual(env.getStatistics(), frozen);
  t.throws(() => new NormalizeReward(new ToyWalkEnv(), { gamma: 1.5 }), {
    instanceOf: InvalidOptionError,
    message: /gamma/,
  });
  t.throws(() => new NormalizeReward(new ToyWalkEnv(), { epsilon: 0 }), {
    instanceOf: InvalidOptionError,
    message: /epsilon/,
  });
  t.throws(() => env.setState({ env: null, wrapper: { rms: null, discountedReturn: 0 } }), {
    instanceOf: InvalidStateError,
  });
});
