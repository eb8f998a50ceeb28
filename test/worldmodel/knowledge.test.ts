import test from 'ava';
import { initBackend } from '../../agents/nn/backend.js';
import { InvalidOptionError, InvalidStateError } from '../../envs/core/errors.js';
import { Discrete, MultiBinary } from '../../envs/core/space.js';
import {
  KnowledgeableExperienceLearning,
  NoChangePrior,
  RulePrior,
} from '../../worldmodel/knowledge.js';
import { WorldModelTrainer } from '../../worldmodel/trainer.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { linearData, linearSpaces, linearStep } from './helpers.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const small = { hiddenSize: 32, backboneSizes: [32, 32] };

async function trained(seed = 1): Promise<WorldModel> {
  const model = WorldModel.create(linearSpaces, { ...small, seed });
  await model.ready();
  await new WorldModelTrainer(model).fit(linearData(600, seed), { epochs: 10 });
  return model;
}

function experience(
  n: number,
  seed: number,
): {
  state: Float32Array;
  action: Float32Array;
  reward: number;
  nextState: Float32Array;
  terminated: boolean;
}[] {
  const d = linearData(n, seed);
  return Array.from({ length: n }, (_, i) => ({
    state: d.states.slice(i * 3, i * 3 + 3),
    action: d.actions.slice(i, i + 1),
    reward: d.rewards[i]!,
    nextState: d.nextStates.slice(i * 3, i * 3 + 3),
    terminated: false,
  }));
}

test('fusion with c = 1 equals the model and with c = 0 equals the prior', async (t) => {
  const model = await trained();
  const probe = linearData(20, 5);
  const prior = new NoChangePrior(3);
  const one = await new KnowledgeableExperienceLearning(model, prior, {
    confidence: 1,
  }).combinePrediction(probe.states, probe.actions);
  const m = model.predict(probe.states, probe.actions);
  t.deepEqual(one.nextStates, m.nextStates);
  t.deepEqual(one.rewards, m.rewards);
  const zero = await new KnowledgeableExperienceLearning(model, prior, {
    confidence: 0,
  }).combinePrediction(probe.states, probe.actions);
  t.deepEqual(zero.nextStates, probe.states);
  t.deepEqual(zero.rewards, new Float32Array(20));
  const half = await new KnowledgeableExperienceLearning(model, prior, {
    confidence: 0.5,
  }).combinePrediction(probe.states, probe.actions);
  for (let i = 0; i < 60; i++)
    t.true(Math.abs(half.nextStates[i]! - 0.5 * (m.nextStates[i]! + probe.states[i]!)) < 1e-5);
});

test('a calibrated confidence trusts a good model over a useless prior, and a perfect prior over an untrained model', async (t) => {
  const model = WorldModel.create(linearSpaces, { ...small, seed: 3 });
  const kel = new KnowledgeableExperienceLearning(model, new NoChangePrior(3), {
    refitEvery: 800,
    fit: { epochs: 30 },
  });
  const probe = linearData(50, 77);
  const before = await kel.combinePrediction(probe.states, probe.actions);
  t.true(
    before.confidence.every((c) => c === 0),
    'before any experience: the prior alone',
  );
  let fitted = false;
  for (const e of experience(800, 4))
    fitted = (await kel.updateWorldModel(e)) !== undefined || fitted;
  t.true(fitted, 'refit after refitEvery transitions');
  const after = await kel.combinePrediction(probe.states, probe.actions);
  const mean = (x: Float32Array): number => x.reduce((s, v) => s + v, 0) / x.length;
  t.true(mean(after.confidence) > 0.7, `confidence ${mean(after.confidence)}`);
  // a prior that knows the dynamics exactly, and a model that saw 30 transitions
  const exact = new RulePrior('linear', 3, 1, (s, a) => linearStep(s, a[0]!));
  const weak = WorldModel.create(linearSpaces, { ...small, seed: 4 });
  const kel2 = new KnowledgeableExperienceLearning(weak, exact, {
    refitEvery: 30,
    fit: { epochs: 2 },
  });
  for (const e of experience(30, 9)) await kel2.updateWorldModel(e);
  const c2 = await kel2.combinePrediction(probe.states, probe.actions);
  t.true(mean(c2.confidence) < 0.3, `confidence ${mean(c2.confidence)}`);
});

test('discrete states are blended as probabilities and snapped to valid facts', async (t) => {
  const spaces = { observationSpace: new MultiBinary(3), actionSpace: new Discrete(2) };
  const model = WorldModel.create(spaces, small);
  await model.ready();
  const flipFirst = new RulePrior('flip', 3, 1, (s) => ({
    next: [1 - s[0]!, s[1]!, s[2]!],
    reward: 1,
  }));
  const kel = new KnowledgeableExperienceLearning(model, flipFirst, { confidence: 0 });
  const out = await kel.combinePrediction(Float32Array.of(0, 1, 0, 1, 1, 1), Float32Array.of(0, 1));
  t.deepEqual(Array.from(out.nextStates), [1, 1, 0, 0, 1, 1]);
  t.deepEqual(Array.from(out.rewards), [1, 1]);
  const fused = kel.asModel();
  const step = fused.step(fused.batch([Float32Array.of(0, 0, 0)]), Float32Array.of(1));
  t.deepEqual(Array.from(step.states.states), [1, 0, 0]);
});

test('bad fusion options get typed errors', (t) => {
  const model = WorldModel.create(linearSpaces, small);
  const prior = new NoChangePrior(3);
  t.throws(() => new KnowledgeableExperienceLearning(model, prior, { confidence: 2 }), {
    instanceOf: InvalidOptionError,
    message: /confidence/,
  });
  t.throws(() => new KnowledgeableExperienceLearning(model, prior, { refitEvery: 0 }), {
    instanceOf: InvalidOptionError,
    message: /refitEvery/,
  });
  t.throws(() => new NoChangePrior(0), { instanceOf: InvalidOptionError });
  const asyncPrior = {
    name: 'remote',
    predict: () => Promise.resolve(prior.predict(new Float32Array(3))),
  };
  const fused = new KnowledgeableExperienceLearning(model, asyncPrior).asModel();
  t.throws(() => fused.step({ states: new Float32Array(3), n: 1 }, Float32Array.of(0)), {
    instanceOf: InvalidStateError,
    message: /synchronously/,
  });
});
