import test from 'ava';
import { RolloutBuffer, type RolloutStep } from '../../../agents/buffers/rollout-buffer.js';
import { InvalidOptionError, InvalidValueError } from '../../../envs/core/errors.js';

function step(
  reward: number,
  value: number,
  flags: Partial<Pick<RolloutStep, 'terminated' | 'truncated'>> = {},
): RolloutStep {
  return {
    observation: Float32Array.of(reward),
    nextObservation: Float32Array.of(reward + 1),
    action: Float32Array.of(0),
    logProb: -0.5,
    value,
    reward,
    terminated: flags.terminated ?? false,
    truncated: flags.truncated ?? false,
  };
}

test('GAE matches a hand-computed case with a termination, a truncation and a cut-off column', (t) => {
  const buffer = new RolloutBuffer({ numSteps: 4, numEnvs: 2, observationSize: 1, actionSize: 1 });
  // Column 0: r = 1..4, V = 0.5..2; the episode terminates at t=1 and is truncated at t=3.
  buffer.add(step(1, 0.5), 0);
  buffer.add(step(2, 1.0, { terminated: true }), 0);
  buffer.add(step(3, 1.5), 0);
  buffer.add(step(4, 2.0, { truncated: true }), 0);
  // Column 1: two steps, the episode goes on past the rollout.
  buffer.add(step(1, 0), 1);
  buffer.add(step(1, 0), 1);
  t.deepEqual(buffer.rowsNeedingBootstrap(), [3, 5]);
  buffer.bootstrapValues[3] = 10; // V(final observation) of the truncated step
  buffer.bootstrapValues[5] = 5; // V(next observation) after column 1's last step
  buffer.computeAdvantages(0.9, 0.8);
  // By hand: δ3 = 4 + .9·10 − 2 = 11; δ2 = 3 + .9·2 − 1.5 = 3.3, A2 = 3.3 + .72·11 = 11.22;
  // δ1 = 2 − 1 = 1 (terminated: no future); δ0 = 1 + .9·1 − .5 = 1.4, A0 = 1.4 + .72·1 = 2.12.
  const expected = [2.12, 1, 11.22, 11];
  expected.forEach((a, r) =>
    t.true(
      Math.abs(buffer.advantages[r]! - a) < 1e-5,
      `A[${r}] = ${buffer.advantages[r]}, expected ${a}`,
    ),
  );
  [2.62, 2, 12.72, 13].forEach((ret, r) =>
    t.true(Math.abs(buffer.returns[r]! - ret) < 1e-5, `return[${r}]`),
  );
  // Column 1: δ1 = 1 + .9·5 = 5.5; δ0 = 1, A0 = 1 + .72·5.5 = 4.96.
  t.true(Math.abs(buffer.advantages[5]! - 5.5) < 1e-5);
  t.true(Math.abs(buffer.advantages[4]! - 4.96) < 1e-5);
});

test('λ = 1 gives discounted returns minus values and λ = 0 gives one-step TD errors', (t) => {
  const make = (): RolloutBuffer => {
    const b = new RolloutBuffer({ numSteps: 3, numEnvs: 1, observationSize: 1, actionSize: 1 });
    b.add(step(1, 0.2), 0);
    b.add(step(1, 0.4), 0);
    b.add(step(1, 0.6, { terminated: true }), 0);
    return b;
  };
  const mc = make();
  mc.computeAdvantages(0.5, 1);
  t.true(Math.abs(mc.returns[0]! - (1 + 0.5 + 0.25)) < 1e-6);
  const td = make();
  td.computeAdvantages(0.5, 0);
  t.true(Math.abs(td.advantages[0]! - (1 + 0.5 * 0.4 - 0.2)) < 1e-6);
  t.true(Math.abs(td.advantages[2]! - (1 - 0.6)) < 1e-6);
});

test('a full column signals the update, reset empties it, and a step into a full column is refused', (t) => {
  const buffer = new RolloutBuffer({ numSteps: 2, numEnvs: 2, observationSize: 1, actionSize: 1 });
  buffer.add(step(0, 0), 0);
  t.false(buffer.full);
  buffer.add(step(0, 0), 0);
  t.true(buffer.full);
  t.is(buffer.size, 2);
  t.throws(() => buffer.add(step(0, 0), 0), {
    instanceOf: InvalidOptionError,
    message: /full column/,
  });
  buffer.reset();
  t.is(buffer.size, 0);
  t.false(buffer.full);
});

test('bad steps get typed errors naming what was received', (t) => {
  const buffer = new RolloutBuffer({ numSteps: 2, numEnvs: 1, observationSize: 2, actionSize: 1 });
  t.throws(() => buffer.add(step(0, 0), 0), {
    instanceOf: InvalidValueError,
    message: /observation for the rollout buffer: expected a Float32Array of 2 values/,
  });
  t.throws(
    () =>
      buffer.add(
        {
          ...step(0, 0),
          observation: new Float32Array(2),
          nextObservation: new Float32Array(2),
          reward: Number.NaN,
        },
        0,
      ),
    { instanceOf: InvalidValueError, message: /received NaN/ },
  );
  t.throws(
    () =>
      buffer.add(
        { ...step(0, 0), observation: new Float32Array(2), nextObservation: new Float32Array(2) },
        3,
      ),
    { instanceOf: InvalidOptionError, message: /env: expected an integer in 0\.\.0, received 3/ },
  );
  t.throws(
    () => new RolloutBuffer({ numSteps: 0, numEnvs: 1, observationSize: 1, actionSize: 1 }),
    { instanceOf: InvalidOptionError, message: /numSteps/ },
  );
});

test('the stored steps survive toJSON and fromJSON', (t) => {
  const a = new RolloutBuffer({
    numSteps: 3,
    numEnvs: 2,
    observationSize: 1,
    actionSize: 1,
    actionMaskSize: 2,
  });
  a.add({ ...step(1, 0.5), actionMask: Uint8Array.of(1, 0) }, 0);
  a.add(step(2, 0.5, { truncated: true }), 1);
  const b = new RolloutBuffer({
    numSteps: 3,
    numEnvs: 2,
    observationSize: 1,
    actionSize: 1,
    actionMaskSize: 2,
  });
  b.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<RolloutBuffer['toJSON']>);
  t.deepEqual(b.toJSON(), a.toJSON());
  t.is(b.countOf(0), 1);
  t.is(b.truncated[b.row(1, 0)], 1);
  t.throws(() => b.fromJSON({ counts: [4, 0], data: {} }), { instanceOf: InvalidValueError });
});
