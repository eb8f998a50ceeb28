import test from 'ava';
import { InvalidOptionError, InvalidValueError } from '../../envs/core/errors.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { evaluateModel, type Trajectory } from '../../worldmodel/evaluate.js';
import type { ImaginationModel } from '../../worldmodel/model.js';
import type { ModelBatch } from '../../worldmodel/world-model.js';
import { linearStep, linearTrajectories } from './helpers.js';

/** A model over flat rows from a row function (the truth, or a deliberately wrong rule). */
function rowModel(
  d: number,
  actionSpace: Box | Discrete,
  f: (s: Float32Array, a: Float32Array) => { next: ArrayLike<number>; reward: number },
  layout?: { kind: string },
): ImaginationModel<Float32Array, ModelBatch> & { layout?: { kind: string } } {
  const per = actionSpace instanceof Discrete ? 1 : actionSpace.size;
  return {
    actionSpace,
    members: 1,
    ...(layout === undefined ? {} : { layout }),
    batch: (states) => {
      const out = new Float32Array(states.length * d);
      states.forEach((s, i) => out.set(s, i * d));
      return { states: out, n: states.length };
    },
    size: (b) => b.n,
    select: (b) => b,
    key: (b, r) => b.states.subarray(r * d, r * d + d).join(','),
    step: (b, actions) => {
      const next = new Float32Array(b.n * d);
      const rewards = new Float32Array(b.n);
      for (let r = 0; r < b.n; r++) {
        const o = f(b.states.subarray(r * d, r * d + d), actions.subarray(r * per, r * per + per));
        next.set(o.next, r * d);
        rewards[r] = o.reward;
      }
      return {
        states: { states: next, n: b.n },
        rewards,
        dones: new Uint8Array(b.n),
        disagreement: new Float32Array(b.n),
      };
    },
  };
}

const box = new Box({ low: -1, high: 1, shape: [1] });

test('the true dynamics have zero error and the no-change model a ratio of exactly 1 at every horizon', (t) => {
  const trajectories = linearTrajectories(5, 25, 1);
  const truth = evaluateModel(
    rowModel(3, box, (s, a) => linearStep(s, a[0]!)),
    trajectories,
  );
  t.deepEqual(
    truth.map((h) => h.horizon),
    [1, 5, 10, 20],
  );
  for (const h of truth) {
    t.true(h.mse < 1e-10);
    t.true(h.rewardMse < 1e-8);
    t.is(h.count, 5 * (25 - h.horizon + 1));
    t.is(h.exactMatch, undefined);
  }
  const still = evaluateModel(
    rowModel(3, box, (s) => ({ next: s, reward: 0 })),
    trajectories,
  );
  for (const h of still) t.true(Math.abs(h.ratio - 1) < 1e-9);
});

test('errors are in z-units of the evaluation data and split into changed and unchanged starts', (t) => {
  // One entry, states 0,0,2,2 (σ = 1): a model that predicts +1 each step.
  const trajectories: Trajectory[] = [
    {
      states: Float32Array.of(0, 0, 2, 2),
      actions: Float32Array.of(0, 0, 0),
      rewards: new Float32Array(3),
      terminated: false,
    },
  ];
  const plusOne = rowModel(1, box, (s) => ({ next: [s[0]! + 1], reward: 0 }));
  const [h1] = evaluateModel(plusOne, trajectories, { horizons: [1] });
  // starts: 0→0 (unchanged, error 1), 0→2 (changed, error 1), 2→2 (unchanged, error 1)
  t.is(h1!.count, 3);
  t.is(h1!.unchanged.count, 2);
  t.is(h1!.changed.count, 1);
  t.true(Math.abs(h1!.mse - 1) < 1e-12);
  t.true(Math.abs(h1!.changed.noChangeMse - 4) < 1e-12);
  t.true(Math.abs(h1!.changed.ratio - 0.25) < 1e-12);
  t.true(Number.isNaN(h1!.unchanged.ratio));
});

test('discrete states get exact match and F1 over changed entries, counted as documented', (t) => {
  const d = new Discrete(2);
  // two entries; truth: entry 0 flips every step, entry 1 stays
  const trajectories: Trajectory[] = [
    {
      states: Float32Array.of(0, 0, 1, 0, 0, 0),
      actions: Float32Array.of(0, 1),
      rewards: new Float32Array(2),
      terminated: false,
    },
  ];
  // the model flips entry 1 instead of entry 0: every changed entry missed, one false change each step
  const wrong = rowModel(2, d, (s) => ({ next: [s[0]!, 1 - s[1]!], reward: 0 }), {
    kind: 'discrete',
  });
  const [h] = evaluateModel(wrong, trajectories, { horizons: [1] });
  t.is(h!.exactMatch, 0);
  t.is(h!.changedF1, 0);
  const right = rowModel(2, d, (s) => ({ next: [1 - s[0]!, s[1]!], reward: 0 }), {
    kind: 'discrete',
  });
  const [g] = evaluateModel(right, trajectories, { horizons: [1] });
  t.is(g!.exactMatch, 1);
  t.is(g!.changedF1, 1);
});

test('evaluateModel rejects malformed trajectories and horizons', (t) => {
  const m = rowModel(3, box, (s) => ({ next: s, reward: 0 }));
  t.throws(() => evaluateModel(m, []), {
    instanceOf: InvalidValueError,
    message: /at least one trajectory/,
  });
  t.throws(() => evaluateModel(m, linearTrajectories(1, 5, 1), { horizons: [0] }), {
    instanceOf: InvalidOptionError,
    message: /horizons/,
  });
  const tr = linearTrajectories(2, 5, 1);
  tr[1] = { ...tr[1]!, actions: new Float32Array(3) };
  t.throws(() => evaluateModel(m, tr), { instanceOf: InvalidValueError, message: /trajectory 1/ });
});
