import test from 'ava';
import '../../envs/index.js';
import { initBackend } from '../../agents/nn/backend.js';
import { LanguagePrior, stateTextCodec } from '../../agents/llm/prior.js';
import { make } from '../../envs/core/registry.js';
import type { Rng } from '../../envs/core/rng.js';
import { KnowledgeableExperienceLearning, type Prior } from '../../worldmodel/knowledge.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { TruthModel } from '../agents/llm/prior-helpers.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const small = { hiddenSize: 16, backboneSizes: [16], ensembleSize: 2, elites: 2 };

for (const { id, options, stateKind } of [
  { id: 'Pendulum-v1', options: {}, stateKind: 'continuous' },
  { id: 'GridNav-DoorKey-5x5-v0', options: {}, stateKind: 'discrete' },
  { id: 'TextWorld-Quest-k5-v0', options: { observation: 'slots' }, stateKind: 'auto' },
] as const) {
  test(`a LanguagePrior plugs into combinePrediction: with c = 0 the blend is the prior (${id})`, async (t) => {
    const env = make<ArrayLike<number>, unknown>(id, options);
    const codec = stateTextCodec(env);
    const n = (env.actionSpace as { n?: number }).n;
    const commands =
      n === undefined ? [] : Array.from({ length: n }, (_, a) => codec.commandText(a));
    const truth = new TruthModel(
      env,
      codec,
      id.startsWith('TextWorld') ? (c) => commands.indexOf(c) : undefined,
    );
    const rows = 12;
    const states = new Float32Array(rows * codec.size);
    const actions = new Float32Array(rows); // one value per action: a torque, or a Discrete index
    let { observation, info } = env.reset({ seed: 21 });
    for (let r = 0; r < rows; r++) {
      truth.remember(observation);
      states.set(Float32Array.from(observation), r * codec.size);
      const mask = info['actionMask'] as Uint8Array | undefined; // admissible actions change something
      const space = env.actionSpace as unknown as { sample(rng?: Rng, mask?: Uint8Array): unknown };
      const action = space.sample(undefined, mask);
      actions[r] = typeof action === 'number' ? action : (action as Float32Array)[0]!;
      const step = env.step(action);
      ({ observation, info } = step.terminated || step.truncated ? env.reset() : step);
    }
    const prior: Prior = LanguagePrior.create({ model: truth, codec });
    const expected = await prior.predict(states, actions);
    const model = WorldModel.create(
      { observationSpace: env.observationSpace, actionSpace: env.actionSpace },
      { ...small, stateKind, seed: 3 },
    );
    const zero = await new KnowledgeableExperienceLearning(model, prior, {
      confidence: 0,
    }).combinePrediction(states, actions);
    t.deepEqual(zero.nextStates, expected.nextStates);
    t.deepEqual(zero.rewards, expected.rewards);
    t.deepEqual(zero.doneProbabilities, expected.doneProbabilities);
    t.false(
      zero.nextStates.every((v, i) => v === states[i]),
      'the prior predicted changes, so the test tells it from "no change"',
    );
  });
}
