import test from 'ava';
import '../../../envs/index.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { Tokenizer } from '../../../agents/llm/tokenizer.js';
import { corpusDocuments } from '../../../scripts/lm/corpus.js';
import { TRAIN_LM_DEFAULTS, encodeCorpus, parseTrainLmArgs } from '../../../scripts/lm/train.js';

const docs = [
  ...corpusDocuments({
    envs: [{ id: 'GridNav-Task-k5-v0' }, { id: 'TextWorld-Quest-k5-v0' }],
    seedStart: 1_000_200,
    episodesPerEnv: 1,
    maxSteps: 4,
  }),
];
const tokenizer = Tokenizer.train(
  docs.map((d) => d.text),
  { vocabSize: 600 },
);

test('the corpus stream is each request then its answer, encoded apart, weighted by part', (t) => {
  const weights = { prompt: 0.1, agent: 1, prior: 0.5 };
  const encoded = encodeCorpus(tokenizer, docs, 100_000, weights);
  t.is(encoded.tooLong, 0);
  t.is(encoded.tokens.length, encoded.weights.length);
  let at = 0;
  for (const d of docs) {
    const request = tokenizer.encode(d.text.slice(0, d.completionStart));
    const answer = tokenizer.encode(d.text.slice(d.completionStart));
    t.is(encoded.tokens[at], tokenizer.endOfText);
    at++;
    t.deepEqual(Array.from(encoded.tokens.subarray(at, at + request.length)), Array.from(request));
    t.true(
      encoded.weights.subarray(at, at + request.length).every((w) => Math.abs(w - 0.1) < 1e-7),
    );
    at += request.length;
    t.deepEqual(Array.from(encoded.tokens.subarray(at, at + answer.length)), Array.from(answer));
    const expected = d.format === 'agent' ? 1 : 0.5;
    t.true(encoded.weights.subarray(at, at + answer.length).every((w) => w === expected));
    at += answer.length;
    // The next document's end-of-text token is predicted with the answer's weight.
    if (at < encoded.weights.length) t.is(encoded.weights[at], expected);
  }
  t.is(at, encoded.tokens.length);
  // The answers decode back to the documents' answers.
  t.is(tokenizer.decode(encoded.tokens, { special: 'skip' }), docs.map((d) => d.text).join(''));
});

test('prior examples longer than the context are left out, agent examples never', (t) => {
  const context = 200;
  const encoded = encodeCorpus(tokenizer, docs, context, { prompt: 0, agent: 1, prior: 1 });
  const long = docs.filter((d) => 1 + tokenizer.encode(d.text).length > context);
  t.true(long.some((d) => d.format === 'agent') && long.some((d) => d.format === 'prior'));
  const kept = docs.filter(
    (d) =>
      d.format === 'agent' ||
      1 +
        tokenizer.encode(d.text.slice(0, d.completionStart)).length +
        tokenizer.encode(d.text.slice(d.completionStart)).length <=
        context,
  );
  t.is(encoded.tooLong, docs.length - kept.length);
  t.is(encoded.tokens.filter((id) => id === tokenizer.endOfText).length, kept.length);
});

test('train-lm flags: weights and counts parse, bad values name the flag', (t) => {
  const o = parseTrainLmArgs(['--prompt-weight', '0', '--prior-weight', '0.25', '--steps', '7']);
  t.is(o.promptWeight, 0);
  t.is(o.priorWeight, 0.25);
  t.is(o.steps, 7);
  t.is(parseTrainLmArgs([]).promptWeight, TRAIN_LM_DEFAULTS.promptWeight);
  for (const [argv, message] of [
    [['--prompt-weight', '1.5'], /--prompt-weight: expected a number from 0 to 1, received "1\.5"/],
    [['--prior-weight'], /--prior-weight: expected a number from 0 to 1/],
    [['--prompt-weight', 'x'], /--prompt-weight/],
    [['--steps', '0'], /--steps: expected a positive integer/],
    [['--lr', '1'], /one of --out, --run, --resume, --prompt-weight/],
  ] as const)
    t.throws(() => parseTrainLmArgs(argv), { instanceOf: InvalidOptionError, message });
});
