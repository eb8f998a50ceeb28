import test from 'ava';
import '../../../envs/index.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { spacesOf } from '../../../agents/agent.js';
import { LlmAgent } from '../../../agents/llm/llm-agent.js';
import { PRIOR_SYSTEM, parsePriorAnswer, stateTextCodec } from '../../../agents/llm/prior.js';
import { evaluate } from '../../../agents/loop.js';
import { initBackend } from '../../../agents/nn/backend.js';
import {
  CORPUS_SEED_MIN,
  checkCorpusSeeds,
  corpusDocuments,
  type CorpusDocument,
} from '../../../scripts/lm/corpus.js';
import { ScriptedModel } from '../../agents/llm/fake-model.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const docsOf = (
  id: string,
  seedStart: number,
  epsilons: number[],
  maxSteps = 40,
): CorpusDocument[] => [
  ...corpusDocuments({ envs: [{ id }], episodesPerEnv: 1, seedStart, epsilons, maxSteps }),
];

test('the corpus builder refuses evaluation seeds (below 1,000,000) and bad seeds', (t) => {
  for (const seed of [0, 1, 500_000, 999_999, -1_000_000, 1_000_000.5, Number.NaN])
    t.throws(() => corpusDocuments({ seedStart: seed }).next(), {
      instanceOf: InvalidOptionError,
      message: /seedStart.*>= 1000000.*evaluation/s,
    });
  t.throws(() => checkCorpusSeeds('1000000'), { instanceOf: InvalidOptionError });
  t.throws(() => checkCorpusSeeds(999_999), { instanceOf: InvalidOptionError });
  t.notThrows(() => checkCorpusSeeds(CORPUS_SEED_MIN, 100));
  // Every document's seed is a corpus seed.
  const docs = [...corpusDocuments({ seedStart: CORPUS_SEED_MIN, episodesPerEnv: 1, maxSteps: 3 })];
  t.true(docs.length > 0);
  t.true(docs.every((d) => d.seed >= CORPUS_SEED_MIN));
});

test('bad corpus options are typed errors', (t) => {
  const bad = [
    { episodesPerEnv: 0 },
    { maxSteps: 1.5 },
    { epsilons: [] },
    { epsilons: [1.2] },
    { formats: ['chat' as 'agent'] },
    { envs: [{ id: 'CartPole-v1', weight: 0 }] },
  ];
  for (const options of bad)
    t.throws(() => corpusDocuments({ seedStart: CORPUS_SEED_MIN, ...options }).next(), {
      instanceOf: InvalidOptionError,
    });
});

test('the same options give the same corpus, with both formats from every family', (t) => {
  const envs = [
    { id: 'CartPole-v1' },
    { id: 'GridNav-Task-k5-v0' },
    { id: 'TextWorld-Quest-k5-v0' },
  ];
  const build = () => [
    ...corpusDocuments({ envs, seedStart: 1_234_567, episodesPerEnv: 2, maxSteps: 6 }),
  ];
  const a = build();
  t.deepEqual(build(), a);
  for (const { id } of envs)
    for (const format of ['agent', 'prior'])
      t.true(
        a.some((d) => d.envId === id && d.format === format),
        `${id} ${format}`,
      );
  for (const d of a.filter((d) => d.format === 'prior'))
    t.true(d.text.startsWith(`${PRIOR_SYSTEM}\nState:\n`));
});

test("agent examples are byte for byte the LlmAgent's prompts, labelled with the oracle's command", async (t) => {
  for (const id of ['GridNav-Task-k5-v0', 'TextWorld-Quest-k5-v0']) {
    const seed = 1_000_017;
    const docs = docsOf(id, seed, [0]).filter((d) => d.format === 'agent');
    t.true(docs.length >= 5, id);
    const cut = (d: CorpusDocument): number =>
      d.text.lastIndexOf('\nAction: ') + '\nAction:'.length;
    const prompts = docs.map((d) => d.text.slice(0, cut(d)));
    const answers = docs.map((d) => d.text.slice(cut(d) + 1, -1));
    // The agent replies what the corpus labelled; its prompts must be the corpus's prompts.
    let i = 0;
    const model = new ScriptedModel('corpus-check', {
      reply: () => `Action: ${answers[i++] ?? 'look'}`,
    });
    const env = make(id, id.startsWith('TextWorld') ? { observation: 'slots' } : {});
    const agent = LlmAgent.create(spacesOf(env), { model, mode: 'generate' });
    const result = await evaluate(agent, env, { episodes: 1, seed });
    t.is(result.successRate, 1, `${id}: the oracle's commands win`);
    const asked = model.requests.map((r) => r.messages[0]!.content);
    t.is(asked.length, prompts.length, id);
    t.deepEqual(asked, prompts, id);
    env.close();
  }
});

test('prior examples decode to the states the environment went through', (t) => {
  const id = 'GridNav-Task-k10-v0';
  const seed = 1_000_003;
  const docs = docsOf(id, seed, [0.5], 12).filter((d) => d.format === 'prior');
  const env = make<Float32Array, number>(id);
  const { observation } = env.reset({ seed });
  const codec = stateTextCodec(env);
  let state = observation;
  for (const d of docs) {
    const [question, answer] = d.text.split('\nNext state:');
    const command = /\nCommand: (.*)$/.exec(question!)![1]!;
    t.is(
      question!.slice(question!.indexOf('State:\n') + 7, question!.indexOf('\nCommand:')),
      codec.encode(state),
    );
    const step = env.step(env.parseCommand(command));
    const last = parsePriorAnswer(answer!, codec, state);
    t.deepEqual(Array.from(last.nextState), Array.from(step.observation));
    t.is(last.reward, Number(step.reward.toFixed(4)));
    t.is(last.done, step.terminated);
    state = step.observation;
  }
  t.true(docs.length > 0);
  env.close();
});

test('every document splits at completionStart into the request a provider sends and the answer', (t) => {
  const envs = [
    { id: 'GridNav-Task-k5-v0' },
    { id: 'TextWorld-Quest-k5-v0' },
    { id: 'Pendulum-v1' },
  ];
  const docs = [...corpusDocuments({ envs, seedStart: 1_000_101, episodesPerEnv: 2, maxSteps: 5 })];
  t.true(docs.length > 0);
  for (const d of docs) {
    const request = d.text.slice(0, d.completionStart);
    const answer = d.text.slice(d.completionStart);
    if (d.format === 'agent') {
      // The prompt ends with the action cue; the answer is the command on the rest of the line.
      t.true(request.endsWith('\nAction:'), d.envId);
      t.regex(answer, /^ \S[^\n]*\n$/, d.envId);
    } else {
      // The prior's request is its two messages joined by a newline, the answer starts the next line.
      t.true(request.startsWith(`${PRIOR_SYSTEM}\nState:\n`), d.envId);
      t.true(request.endsWith('\nNext state:'), d.envId);
      t.regex(answer, /^\n[\s\S]*\nReward: [^\n]+\nDone: (yes|no)$/, d.envId);
    }
  }
});
