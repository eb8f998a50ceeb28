/**
 * The shipped wmgym-lm (models/wmgym-lm): it loads offline as the default language model, stays
 * within its size, generates deterministically, scores, and its card states a corpus of seeds
 * the evaluations never use.
 */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import '../../../envs/index.js';
import { make } from '../../../envs/core/registry.js';
import { spacesOf } from '../../../agents/agent.js';
import { initBackend } from '../../../agents/nn/backend.js';
import { createLanguageModel, type LanguageModel } from '../../../agents/llm/language-model.js';
import '../../../agents/llm/providers/index.js';
import { WmgymLm } from '../../../agents/llm/wmgym-lm.js';
import { LlmAgent } from '../../../agents/llm/llm-agent.js';
import { evaluate } from '../../../agents/loop.js';

const DIR = new URL('../../../models/wmgym-lm/', import.meta.url);

let lm: LanguageModel;

test.before(async () => {
  await initBackend({ quiet: true });
  const saved = process.env['WMGYM_LLM_BASE_URL'];
  delete process.env['WMGYM_LLM_BASE_URL'];
  try {
    lm = await createLanguageModel();
  } finally {
    if (saved !== undefined) process.env['WMGYM_LLM_BASE_URL'] = saved;
  }
});

test('without options the language model is the shipped wmgym-lm, run locally', (t) => {
  t.is(lm.provider, 'local');
  t.true(lm.capabilities.score);
  const meta = WmgymLm.metadata(DIR.pathname);
  t.is(meta['name'], 'wmgym-lm');
  const size = ['weights.bin', 'tokenizer.json', 'config.json'].reduce(
    (sum, f) => sum + statSync(new URL(f, DIR)).size,
    0,
  );
  t.true(size <= 20 * 1024 * 1024, `${size} bytes`);
});

test('the model card states a corpus of seeds at or above 1,000,000 and the held-out perplexity', (t) => {
  const card = readFileSync(new URL('MODEL_CARD.md', DIR), 'utf8');
  const meta = WmgymLm.metadata(DIR.pathname);
  const [first, last] = meta['corpusSeeds'] as [number, number];
  t.true(first >= 1_000_000 && last >= first);
  t.true(((meta['heldOutSeeds'] as number[])[0] ?? 0) >= 1_000_000);
  t.true(card.includes('not a general-purpose language model'));
  t.regex(card, /perplexity \*\*\d+\.\d+\*\*/);
});

test('greedy and seeded generation are deterministic; scores are log-probabilities', async (t) => {
  const messages = [
    {
      role: 'user' as const,
      content: 'Environment: GridNav-Task-k5-v0\nObservation:\nYou are facing north.\nAction:',
    },
  ];
  const a = await lm.complete({ messages, maxTokens: 12, temperature: 0 });
  const b = await lm.complete({ messages, maxTokens: 12, temperature: 0 });
  t.is(a.text, b.text);
  t.true(a.text.length > 0);
  const c = await lm.complete({ messages, maxTokens: 12, temperature: 1, seed: 7 });
  const d = await lm.complete({ messages, maxTokens: 12, temperature: 1, seed: 7 });
  t.is(c.text, d.text);
  const scores = await lm.score(messages[0]!.content, [' go north', ' face south']);
  t.is(scores.length, 2);
  for (const s of scores) t.true(Number.isFinite(s.logProb) && s.logProb <= 0 && s.tokens > 0);
});

test('the LlmAgent plays a held-out GridNav task with it in both modes, the same way twice', async (t) => {
  const env = make('GridNav-Task-k5-v0');
  const play = async (mode: 'rank' | 'generate') => {
    const agent = LlmAgent.create(spacesOf(env), { model: lm, mode });
    return evaluate(agent, env, { episodes: 1, seed: 77, maxEpisodeSteps: 10 });
  };
  for (const mode of ['rank', 'generate'] as const) {
    const first = await play(mode);
    const second = await play(mode);
    t.deepEqual(second.returns, first.returns, mode);
    t.deepEqual(second.lengths, first.lengths, mode);
  }
  env.close();
});
