import test from 'ava';
import { initBackend, tf } from '../../agents/nn/backend.js';
import { ReplayBuffer } from '../../agents/buffers/replay-buffer.js';
import { InvalidOptionError, InvalidValueError } from '../../envs/core/errors.js';
import { transitionsOf } from '../../worldmodel/evaluate.js';
import {
  WorldModelTrainer,
  contiguousWindows,
  replayData,
  type TransitionData,
} from '../../worldmodel/trainer.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { linearData, linearSpaces, linearTrajectories } from './helpers.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const small = { hiddenSize: 32, backboneSizes: [32, 32] };

test('trainStep lowers the losses of a batch it is repeated on', async (t) => {
  const model = WorldModel.create(linearSpaces, small);
  await model.ready();
  const data = linearData(256, 1);
  model.fitStatistics(data.states, data.nextStates, data.rewards, data.size);
  const trainer = new WorldModelTrainer(model, { learningRate: 3e-3 });
  const first = await trainer.trainStep(data);
  let last = first;
  for (let i = 0; i < 60; i++) last = await trainer.trainStep(data);
  t.true(last.transition < 0.3 * first.transition, `${first.transition} -> ${last.transition}`);
  t.true(last.reward < first.reward);
});

test('every part of the network trains: the encoders move, not only the backbone and heads', async (t) => {
  const model = WorldModel.create(linearSpaces, small);
  await model.ready();
  const data = linearData(256, 3);
  model.fitStatistics(data.states, data.nextStates, data.rewards, data.size);
  const before = model.params.read();
  const trainer = new WorldModelTrainer(model, { learningRate: 3e-3 });
  for (let i = 0; i < 5; i++) await trainer.trainStep(data);
  const after = model.params.read();
  for (const piece of model.params.pieces) {
    let moved = 0;
    for (let j = piece.offset; j < piece.offset + piece.size; j++)
      moved = Math.max(moved, Math.abs(after[j]! - before[j]!));
    t.true(moved > 1e-5, `${piece.name} did not change (max |Δ| ${moved})`);
  }
});

test('fit stops early on the holdout, respects maxUpdates and picks the elites with the lowest holdout loss', async (t) => {
  const model = WorldModel.create(linearSpaces, { ...small, ensembleSize: 4, elites: 2 });
  await model.ready();
  const data = linearData(600, 2);
  const trainer = new WorldModelTrainer(model, { batchSize: 64 });
  const capped = await trainer.fit(data, { epochs: 100, maxUpdates: 7 });
  t.is(capped.updates, 7);
  const result = await trainer.fit(data, { epochs: 400, patience: 2 });
  t.true(result.epochs < 400, `stopped after ${result.epochs} epochs`);
  t.is(result.holdout.length, 4);
  const sorted = [...result.holdout].map((l, m) => ({ l, m })).sort((a, b) => a.l - b.l);
  t.deepEqual(result.elites, [sorted[0]!.m, sorted[1]!.m]);
  t.deepEqual(Array.from(model.elites), result.elites);
  t.is(result.trainSize, 540);
  t.is(model.stats.count, 540);
});

test('eventFraction oversamples rare rewarded and terminal transitions, so the heads predict them', async (t) => {
  // 1.25 % of the transitions (state[0] > 1.9 and state[1] > 0) give reward 1 and end the episode.
  const sparse = (seed: number): { data: TransitionData; events: number[]; others: number[] } => {
    const data = linearData(4000, seed);
    const events: number[] = [];
    const others: number[] = [];
    for (let i = 0; i < data.size; i++) {
      const event = data.states[i * 3]! > 1.9 && data.states[i * 3 + 1]! > 0;
      data.rewards[i] = event ? 1 : 0;
      data.terminated[i] = event ? 1 : 0;
      (event ? events : others).push(i);
    }
    return { data, events, others };
  };
  const train = sparse(3);
  const heldOut = sparse(9);
  const mean = (rows: number[], of: Float32Array): number =>
    rows.reduce((sum, i) => sum + of[i]!, 0) / rows.length;
  const fitted = async (eventFraction: number) => {
    const model = WorldModel.create(linearSpaces, { ...small, ensembleSize: 2, elites: 2 });
    await model.ready();
    const trainer = new WorldModelTrainer(model, { batchSize: 64 });
    const result = await trainer.fit(train.data, { maxUpdates: 300, eventFraction });
    const p = model.predict(heldOut.data.states, heldOut.data.actions);
    return {
      result,
      eventReward: mean(heldOut.events, p.rewards),
      eventDone: mean(heldOut.events, p.doneProbabilities),
      otherDone: mean(heldOut.others, p.doneProbabilities),
    };
  };
  const plain = await fitted(0);
  const balanced = await fitted(0.25);
  // Events of the training split (the holdout takes 10 % of the rows).
  t.true(balanced.result.events > 0 && balanced.result.events <= train.events.length);
  t.is(plain.result.events, balanced.result.events);
  t.true(
    balanced.eventReward > 0.6,
    `reward predicted at held-out events: ${balanced.eventReward}`,
  );
  t.true(balanced.eventDone > 0.5, `termination probability at events: ${balanced.eventDone}`);
  t.true(balanced.otherDone < 0.2, `termination probability elsewhere: ${balanced.otherDone}`);
  t.true(
    balanced.eventReward > plain.eventReward + 0.3,
    `plain bootstrap ${plain.eventReward}, balanced ${balanced.eventReward}`,
  );
  await t.throwsAsync(
    () =>
      new WorldModelTrainer(WorldModel.create(linearSpaces, small)).fit(train.data, {
        eventFraction: 1,
      }),
    {
      instanceOf: InvalidOptionError,
      message: /eventFraction.*1/,
    },
  );
});

test('fit reads every transition of a replay buffer, from every environment column', async (t) => {
  const replay = new ReplayBuffer({ capacity: 40, observationSize: 3, actionSize: 1, numEnvs: 2 });
  const data = linearData(30, 3);
  for (let i = 0; i < 30; i++) {
    replay.add(
      {
        observation: data.states.slice(i * 3, i * 3 + 3),
        action: data.actions.slice(i, i + 1),
        reward: data.rewards[i]!,
        nextObservation: data.nextStates.slice(i * 3, i * 3 + 3),
        terminated: false,
        truncated: false,
      },
      i % 2,
    );
  }
  const all = replayData(replay);
  t.is(all.size, 30);
  const model = WorldModel.create(linearSpaces, small);
  const result = await new WorldModelTrainer(model).fit(replay, { epochs: 2, holdoutFraction: 0 });
  t.is(result.trainSize, 30);
  t.deepEqual(result.holdout, []);
});

test('the trainer rejects bad options and malformed data with typed errors', async (t) => {
  const model = WorldModel.create(linearSpaces, small);
  t.throws(() => new WorldModelTrainer(model, { learningRate: -1 }), {
    instanceOf: InvalidOptionError,
    message: /learningRate/,
  });
  const trainer = new WorldModelTrainer(model);
  const data = linearData(10, 1);
  await t.throwsAsync(() => trainer.fit(data, { holdoutFraction: 1 }), {
    instanceOf: InvalidOptionError,
    message: /holdoutFraction/,
  });
  await t.throwsAsync(() => trainer.fit(data, { epochs: 0 }), {
    instanceOf: InvalidOptionError,
    message: /epochs/,
  });
  const bad = { ...data, rewards: data.rewards.slice(0, 5) };
  await t.throwsAsync(() => trainer.fit(bad), {
    instanceOf: InvalidValueError,
    message: /5 rewards|rewards 5/,
  });
  const nan = { ...data, rewards: data.rewards.slice() };
  nan.rewards[3] = NaN;
  await t.throwsAsync(() => trainer.fit(nan), {
    instanceOf: InvalidValueError,
    message: /reward of transition 3/,
  });
});

test('the open-loop loss trains on windows from the model own predictions, and is refused where it does not apply', async (t) => {
  const data = transitionsOf(linearTrajectories(60, 12, 4));
  const model = WorldModel.create(linearSpaces, { ...small, ensembleSize: 2, elites: 2, seed: 9 });
  await model.ready();
  const trainer = new WorldModelTrainer(model, { batchSize: 64, learningRate: 3e-3 });
  const result = await trainer.fit(data, {
    epochs: 40,
    patience: 40,
    openLoopSteps: 4,
    maxUpdates: 150,
  });
  t.is(result.updates, 150);
  // Windows of 4 consecutive transitions, the later steps from the model's own predictions.
  const windows = contiguousWindows(data, 4).subarray(0, 32);
  const rows = new Int32Array(2 * windows.length);
  rows.set(windows, 0);
  rows.set(windows, windows.length);
  const first = model.encodeTraining(data, rows, windows.length);
  const open = model.encodeTraining(data, rows, windows.length, 4);
  t.is(open.rows, windows.length * 4);
  const loss = (batch: typeof first): number =>
    tf.tidy(() => model.memberLosses(model.params.views(), batch).transition.dataSync()[0]!);
  const one = loss(first);
  const multi = loss(open);
  // A window of one step is the one-step loss exactly.
  t.true(Math.abs(loss({ ...first, openLoop: true }) - one) < 1e-5 * Math.max(1, one));
  t.true(Number.isFinite(multi) && multi > 0, `open-loop loss ${multi}`);
  t.true(multi < 0.5, `the fitted model's 4-step error ${multi} (one-step ${one})`);
  // Discrete states and Gaussian heads have no open-loop loss.
  const gaussian = WorldModel.create(linearSpaces, { ...small, gaussian: true });
  await gaussian.ready();
  await t.throwsAsync(new WorldModelTrainer(gaussian).fit(data, { openLoopSteps: 3 }), {
    instanceOf: InvalidOptionError,
    message: /open-loop loss needs continuous states, MSE heads/,
  });
  await t.throwsAsync(new WorldModelTrainer(model).fit(data, { openLoopSteps: 0 }), {
    instanceOf: InvalidOptionError,
  });
});
