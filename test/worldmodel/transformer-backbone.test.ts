import test from 'ava';
import { initBackend } from '../../agents/nn/backend.js';
import { InvalidOptionError, InvalidValueError } from '../../envs/core/errors.js';
import { Box } from '../../envs/core/space.js';
import { WorldModelTrainer, contiguousWindows } from '../../worldmodel/trainer.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { velocityData } from '../helpers/velocity-data.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const spaces = {
  observationSpace: new Box({ low: -10, high: 10, shape: [1] }),
  actionSpace: new Box({ low: -1, high: 1, shape: [1] }),
};

const transformer = {
  backbone: 'transformer' as const,
  hiddenSize: 32,
  heads: 2,
  layers: 1,
  contextLength: 4,
  ensembleSize: 2,
  elites: 2,
};

test('contiguousWindows finds the windows of consecutive transitions within one episode', (t) => {
  const data = velocityData(3, 5, 1);
  // Three trajectories of 5: windows of 3 start at 0..2 of each (a window never spans two).
  t.deepEqual(Array.from(contiguousWindows(data, 3)), [0, 1, 2, 5, 6, 7, 10, 11, 12]);
  data.terminated[1] = 1; // the first episode ends at its second transition
  t.deepEqual(Array.from(contiguousWindows(data, 2)), [0, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13]);
  t.deepEqual(Array.from(contiguousWindows(data, 1)).length, 15);
});

test('the transformer backbone trains on windows and uses the imagined history it carries', async (t) => {
  const model = WorldModel.create(spaces, { ...transformer, seed: 3 });
  t.is(model.sequenceLength, 4);
  await model.ready();
  const fit = await new WorldModelTrainer(model, { batchSize: 128, learningRate: 3e-3 }).fit(
    velocityData(300, 10, 2),
    { epochs: 60, patience: 8 },
  );
  t.true(fit.updates > 0);
  // From x0 with no history the velocity is unknown; after one imagined step the model has
  // (x0, x1) in its context, and a constant-velocity rule gives x2 = 2·x1 − x0.
  const x0 = Float32Array.of(-0.5, 0, 0.4, 0.8);
  const actions = new Float32Array(4);
  const first = model.step(model.batch([...x0].map((x) => Float32Array.of(x))), actions);
  t.is(first.states.contextSteps, 1);
  const second = model.step(first.states, actions);
  t.is(second.states.contextSteps, 2);
  let error = 0;
  let noHistory = 0;
  const plain = model.predict(first.states.states, actions).nextStates;
  for (let r = 0; r < 4; r++) {
    const x1 = first.states.states[r]!;
    const expected = 2 * x1 - x0[r]!;
    error = Math.max(error, Math.abs(second.states.states[r]! - expected));
    noHistory = Math.max(noHistory, Math.abs(plain[r]! - expected));
  }
  t.true(error < 0.05, `with its imagined history: ${error} (${noHistory} without)`);
  // With a real history the velocity is known: x' = 2·x − x_prev, which x alone cannot tell.
  const prev = Float32Array.of(-0.2, 0.5, 0.1, -0.6);
  const now = Float32Array.of(0.05, 0.3, -0.15, -0.4);
  const real = model.historyBatch(now, { states: prev, actions, steps: 1 });
  t.is(real.contextSteps, 1);
  const withHistory = model.step(real, actions).states.states;
  const without = model.predict(now, actions).nextStates;
  let historyError = 0;
  let plainError = 0;
  for (let r = 0; r < 4; r++) {
    const expected = 2 * now[r]! - prev[r]!;
    historyError = Math.max(historyError, Math.abs(withHistory[r]! - expected));
    plainError = Math.max(plainError, Math.abs(without[r]! - expected));
  }
  t.log(
    `one step, max error: ${historyError.toFixed(4)} with the real history, ${plainError.toFixed(4)} without`,
  );
  t.true(historyError < 0.05, `with history ${historyError}`);
  t.true(plainError > 0.15, `without history ${plainError}`);
  // The context never grows past contextLength − 1 steps.
  let batch = second.states;
  for (let i = 0; i < 4; i++) batch = model.step(batch, actions).states;
  t.is(batch.contextSteps, 3);
  // select keeps each row's context.
  const picked = model.select(batch, Int32Array.of(2, 0));
  t.is(picked.contextSteps, 3);
  t.deepEqual(
    Array.from(model.step(picked, new Float32Array(2)).states.states),
    [2, 0].map((r) => model.step(batch, actions).states.states[r]!),
  );
});

test('transformer options and windows are checked', async (t) => {
  t.throws(() => WorldModel.create(spaces, { ...transformer, hiddenSize: 30, heads: 4 }), {
    instanceOf: InvalidOptionError,
    message: /multiple of heads/,
  });
  const model = WorldModel.create(spaces, { ...transformer, contextLength: 8 });
  await model.ready();
  // Trajectories of 5 transitions hold no window of 8.
  await t.throwsAsync(new WorldModelTrainer(model).fit(velocityData(10, 5, 1)), {
    instanceOf: InvalidValueError,
    message: /windows of 8 consecutive transitions/,
  });
  await t.throwsAsync(new WorldModelTrainer(model).trainStep(velocityData(2, 5, 1)), {
    instanceOf: InvalidValueError,
  });
});
