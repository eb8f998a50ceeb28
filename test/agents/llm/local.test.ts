import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../../agents/nn/backend.js';
import {
  createLanguageModel,
  languageModelProviders,
  MalformedAnswerError,
  type ChatMessage,
} from '../../../agents/llm/language-model.js';
import { LmTrainer } from '../../../agents/llm/lm-trainer.js';
import { LocalLanguageModel, renderLocalPrompt } from '../../../agents/llm/providers/local.js';
import { Tokenizer } from '../../../agents/llm/tokenizer.js';
import { WmgymLm } from '../../../agents/llm/wmgym-lm.js';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
} from '../../../envs/core/errors.js';

/** Two requests (an agent-like prompt, and a system + user pair like the prior's) and their answers. */
const WHERE: ChatMessage[] = [{ role: 'user', content: 'Where are you?\nAnswer:' }];
const HOLD: ChatMessage[] = [
  { role: 'system', content: 'You play a text game.' },
  { role: 'user', content: 'What do you hold?\nAnswer:' },
];
const EXAMPLES: [ChatMessage[], string][] = [
  [WHERE, ' in the cellar\n'],
  [HOLD, ' a brass key\n'],
];

let dir = '';

/** A tiny wmgym-lm that has learnt the two examples by heart, saved to a temp folder. */
test.before(async () => {
  await initBackend({ quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'wmgym-local-'));
  const texts = EXAMPLES.map(([messages, answer]) => renderLocalPrompt(messages) + answer);
  const documents = Array.from({ length: 20 }, (_, i) => texts[i % 2]!);
  const tokenizer = Tokenizer.train(documents, { vocabSize: 300 });
  const model = WmgymLm.create(
    { vocabSize: tokenizer.vocabSize, modelSize: 32, heads: 2, layers: 2, contextLength: 32 },
    1,
    tokenizer,
  );
  const stream = tokenizer.encodeDocuments(documents);
  const trainer = new LmTrainer(
    model,
    { train: stream },
    { totalSteps: 150, batchSize: 8, learningRate: 1e-2, warmupSteps: 10 },
  );
  await trainer.train();
  model.save(dir, { metadata: { name: 'wmgym-lm-test' } });
  trainer.dispose();
  model.dispose();
});

test.after.always(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('the template: the messages’ contents joined by newlines, roles unwritten', (t) => {
  t.is(renderLocalPrompt(HOLD), 'You play a text game.\nWhat do you hold?\nAnswer:');
  t.is(renderLocalPrompt([{ role: 'user', content: '' }]), '');
});

test('the local provider completes from a saved model: the reply as generated, to end-of-text or a stop string, with token usage', async (t) => {
  t.true(languageModelProviders().includes('local'));
  const lm = await createLanguageModel({ provider: 'local', path: dir });
  t.is(lm.provider, 'local');
  t.is(lm.model, 'wmgym-lm-test');
  t.true(lm.capabilities.score);
  // Without a stop string, the reply runs to the end-of-text token.
  const where = await lm.complete({ messages: WHERE, maxTokens: 20 });
  t.is(where.text, ' in the cellar\n');
  t.is((await lm.complete({ messages: HOLD, maxTokens: 20, stop: ['\n'] })).text, ' a brass key');
  const tokenizer = Tokenizer.load(join(dir, 'tokenizer.json'));
  t.is(where.usage.promptTokens, 1 + tokenizer.encode(renderLocalPrompt(WHERE)).length);
  t.is(where.usage.completionTokens, tokenizer.encode(' in the cellar\n').length);
  t.true(where.latencyMs >= 0);
  t.is(where.provider, 'local');
  t.is(where.model, 'wmgym-lm-test');
  // The first of several stop strings ends the reply before it; maxTokens bounds it.
  t.is((await lm.complete({ messages: WHERE, stop: ['\n', ' cellar'] })).text, ' in the');
  const short = await lm.complete({ messages: WHERE, maxTokens: 1 });
  t.is(short.usage.completionTokens, 1);
  t.true(' in the cellar'.startsWith(short.text));
  // Seeded sampling repeats itself.
  for (const seed of [4, -4]) {
    const sampled = { messages: WHERE, temperature: 1, seed, maxTokens: 10 };
    t.is((await lm.complete(sampled)).text, (await lm.complete(sampled)).text);
  }
  await lm.close();
});

test('an empty reply is a MalformedAnswerError, never an empty string', async (t) => {
  const lm = await LocalLanguageModel.open({ path: dir });
  await t.throwsAsync(lm.complete({ messages: WHERE, stop: ['in'] }), {
    instanceOf: MalformedAnswerError,
    message: /wmgym-lm-test \(local at .*\): the reply was empty: generated \d+ tokens/,
  });
  await lm.close();
});

test('score gives the log-probability of each continuation after the prompt, as the model scores its tokens', async (t) => {
  const lm = await LocalLanguageModel.open({ path: dir });
  const model = WmgymLm.load(dir);
  const tokenizer = model.tokenizer!;
  const prompt = renderLocalPrompt(WHERE);
  const continuations = [' in the cellar', ' a brass key'];
  const scores = await lm.score(prompt, continuations);
  const direct = model.score(
    [tokenizer.endOfText, ...tokenizer.encode(prompt)],
    continuations.map((c) => tokenizer.encode(c)),
  );
  scores.forEach((s, i) => {
    t.true(Math.abs(s.logProb - direct[i]!.logProb) < 1e-6);
    t.is(s.tokens, tokenizer.encode(continuations[i]!).length);
  });
  t.true(scores[0]!.logProb > scores[1]!.logProb + 1, 'the learnt answer is the likelier one');
  t.true(scores[0]!.logProb > -1);
  model.dispose();
  await lm.close();
});

test('a prompt longer than the context keeps its end', async (t) => {
  const lm = await LocalLanguageModel.open({ path: dir });
  const history = `${renderLocalPrompt(HOLD)} a brass key\n`.repeat(3);
  const long: ChatMessage[] = [{ role: 'system', content: history.slice(0, -1) }, ...WHERE];
  const reply = await lm.complete({ messages: long, maxTokens: 20, stop: ['\n'] });
  t.is(reply.usage.promptTokens, 32);
  // What the model generates after the last 32 tokens of the prompt.
  const model = WmgymLm.load(dir);
  const tokenizer = model.tokenizer!;
  const ids = [tokenizer.endOfText, ...tokenizer.encode(renderLocalPrompt(long))];
  t.true(ids.length > 32);
  const direct = model.generate(ids.slice(-32), { maxTokens: 20, stop: [tokenizer.endOfText] });
  t.true(tokenizer.decode(direct.tokens).startsWith(reply.text));
  t.is(reply.text, ' in the cellar');
  model.dispose();
  await lm.close();
});

test('bad requests, bad options, a closed model and a missing model give typed errors', async (t) => {
  const lm = await LocalLanguageModel.open({ path: dir });
  await t.throwsAsync(lm.complete({ messages: [] }), {
    instanceOf: InvalidOptionError,
    message: /complete request\.messages: expected a non-empty array of messages/,
  });
  await t.throwsAsync(lm.complete({ messages: [{ role: 'robot' as 'user', content: 'hi' }] }), {
    instanceOf: InvalidOptionError,
    message:
      /complete request\.messages\[0\]\.role: expected one of system, user, assistant, received "robot"/,
  });
  await t.throwsAsync(lm.complete({ messages: WHERE, temperature: -1 }), {
    instanceOf: InvalidOptionError,
  });
  await t.throwsAsync(lm.complete({ messages: WHERE, maxTokens: 0 }), {
    instanceOf: InvalidOptionError,
  });
  await t.throwsAsync(lm.complete({ messages: WHERE, stop: [''] }), {
    instanceOf: InvalidOptionError,
  });
  await t.throwsAsync(lm.score(3 as unknown as string, [' a']), { instanceOf: InvalidOptionError });
  await t.throwsAsync(lm.score('Where?', ['']), {
    instanceOf: InvalidOptionError,
    message: /score continuations\[0\]: expected a non-empty string/,
  });
  await t.throwsAsync(lm.complete({ messages: WHERE, top_p: 1 } as never), {
    instanceOf: InvalidOptionError,
    message: /complete request\.top_p/,
  });
  await lm.close();
  await t.throwsAsync(lm.complete({ messages: WHERE }), {
    instanceOf: InvalidStateError,
    message: /expected an open model, received "a closed one"/,
  });
  await t.throwsAsync(createLanguageModel({ provider: 'local', path: dir, temp: 1 } as never), {
    instanceOf: InvalidOptionError,
    message: /local provider option temp: .*Unknown option/,
  });
  await t.throwsAsync(LocalLanguageModel.open({ path: join(dir, 'nothing') }), {
    instanceOf: MalformedFileError,
    message: /expected a saved wmgym-lm model in .*nothing, received no config\.json/,
  });
});

test('the default path is models/wmgym-lm of the package, found from the module', async (t) => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const expected = join(root, 'models', 'wmgym-lm');
  const opened = await LocalLanguageModel.open().catch((error: unknown) => error);
  if (opened instanceof LocalLanguageModel) {
    t.is(opened.path, expected);
    await opened.close();
  } else {
    t.true(opened instanceof MalformedFileError);
    t.true((opened as Error).message.includes(`in ${expected}, received no config.json`));
  }
});
