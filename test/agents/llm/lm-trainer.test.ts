import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../agents/nn/backend.js';
import { LmTrainer, type LmProgress } from '../../../agents/llm/lm-trainer.js';
import { Tokenizer } from '../../../agents/llm/tokenizer.js';
import { WmgymLm, type WmgymLmOptions } from '../../../agents/llm/wmgym-lm.js';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
} from '../../../envs/core/errors.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const TEXTS = [
  'You are in the cellar. Exits: north.',
  'You are in the kitchen. Exits: south, east.',
  'You take the coin. Score: 1.',
  'You are in the attic. There is a lamp here.',
];
const tokenizer = Tokenizer.train(TEXTS, { vocabSize: 300 });
const stream = tokenizer.encodeDocuments(Array.from({ length: 30 }, (_, i) => TEXTS[i % 4]!));
const heldOut = tokenizer.encodeDocuments(TEXTS);
const SIZES: WmgymLmOptions = {
  vocabSize: tokenizer.vocabSize,
  modelSize: 16,
  heads: 2,
  layers: 1,
  contextLength: 16,
};

function withDir(run: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-lm-train-'));
  return Promise.resolve(run(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the training loss and the held-out loss fall on a tiny corpus', async (t) => {
  const model = WmgymLm.create(SIZES, 1, tokenizer);
  const trainer = new LmTrainer(
    model,
    { train: stream, validation: heldOut },
    { totalSteps: 80, batchSize: 8, learningRate: 1e-2, warmupSteps: 5, seed: 3 },
  );
  const before = trainer.evaluate();
  t.true(Math.abs(before.loss - Math.log(SIZES.vocabSize)) < 0.5, `initial loss ${before.loss}`);
  t.is(before.perplexity, Math.exp(before.loss));
  const seen: LmProgress[] = [];
  const summary = await trainer.train({ onProgress: (p) => seen.push(p), evalEvery: 40 });
  const after = trainer.evaluate();
  t.log(
    `held-out loss ${before.loss.toFixed(3)} -> ${after.loss.toFixed(3)}, ${summary.tokensPerSecond.toFixed(0)} tokens/s`,
  );
  t.true(after.loss < 0.5 * before.loss, `held-out loss ${after.loss}`);
  t.is(summary.step, 80);
  t.is(seen.length, 80);
  t.deepEqual(
    seen.map((p) => p.step),
    Array.from({ length: 80 }, (_, i) => i + 1),
  );
  t.true(seen.every((p) => p.tokensPerSecond > 0 && p.targetStep === 80));
  t.deepEqual(
    seen.filter((p) => p.validation !== undefined).map((p) => p.step),
    [40, 80],
  );
  t.true(seen.slice(-5).every((p) => p.loss < seen[0]!.loss * 0.6));
  trainer.dispose();
  model.dispose();
});

test('the learning rate warms up linearly, then follows a cosine down to the minimum', (t) => {
  const model = WmgymLm.create(SIZES, 1);
  const trainer = new LmTrainer(
    model,
    { train: stream },
    { totalSteps: 110, learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 10 },
  );
  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;
  t.true(close(trainer.learningRateAt(0), 1e-3 / 11));
  t.true(close(trainer.learningRateAt(9), 1e-3 * (10 / 11)));
  t.true(close(trainer.learningRateAt(10), 1e-3));
  t.true(close(trainer.learningRateAt(60), 1e-4 + 0.5 * 9e-4));
  t.true(close(trainer.learningRateAt(110), 1e-4));
  t.true(close(trainer.learningRateAt(500), 1e-4));
  for (let s = 11; s < 110; s++) t.true(trainer.learningRateAt(s) < trainer.learningRateAt(s - 1));
  trainer.dispose();
  model.dispose();
});

test('training is deterministic: the same seeds give the same weights', async (t) => {
  const run = async (seed: number): Promise<Float32Array> => {
    const model = WmgymLm.create(SIZES, 4);
    const trainer = new LmTrainer(model, { train: stream }, { totalSteps: 5, batchSize: 4, seed });
    await trainer.train();
    const weights = model.params.read().slice();
    trainer.dispose();
    model.dispose();
    return weights;
  };
  const a = await run(1);
  t.deepEqual(await run(1), a);
  t.notDeepEqual(await run(2), a);
});

test('checkpoint then resume gives the weights of an uninterrupted run, bit for bit', async (t) => {
  const options = { totalSteps: 8, batchSize: 4, learningRate: 3e-3, warmupSteps: 2, seed: 5 };
  const straight = WmgymLm.create(SIZES, 6, tokenizer);
  const uninterrupted = new LmTrainer(straight, { train: stream }, options);
  await uninterrupted.train();
  await withDir(async (dir) => {
    const first = WmgymLm.create(SIZES, 6, tokenizer);
    const killed = new LmTrainer(first, { train: stream }, options);
    const summary = await killed.train({ untilStep: 3, checkpointDir: dir, checkpointEvery: 2 });
    t.is(summary.step, 3);
    t.deepEqual(readdirSync(dir).sort(), ['checkpoint.json', 'step-00000003']);
    // A new process: everything from the checkpoint.
    const resumed = LmTrainer.resume(dir, { train: stream });
    t.is(resumed.step, 3);
    t.deepEqual(resumed.config, killed.config);
    t.deepEqual(resumed.model.tokenizer?.toJSON(), tokenizer.toJSON());
    await resumed.train({ checkpointDir: dir });
    t.is(resumed.step, 8);
    t.deepEqual(resumed.model.params.read(), straight.params.read());
    t.deepEqual(readdirSync(dir).sort(), ['checkpoint.json', 'step-00000008']);
    // getState / setState carry the same.
    const state = resumed.getState();
    const other = new LmTrainer(WmgymLm.create(SIZES, 99), { train: stream }, options);
    other.setState(state);
    t.deepEqual(other.getState(), state);
    killed.dispose();
    first.dispose();
    resumed.dispose();
    resumed.model.dispose();
    other.dispose();
    other.model.dispose();
  });
  uninterrupted.dispose();
  straight.dispose();
});

test('an abort signal stops training after the current step and checkpoints', async (t) => {
  await withDir(async (dir) => {
    const model = WmgymLm.create(SIZES, 7);
    const trainer = new LmTrainer(model, { train: stream }, { totalSteps: 50, batchSize: 2 });
    const controller = new AbortController();
    const summary = await trainer.train({
      checkpointDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 2) controller.abort();
      },
    });
    t.true(summary.aborted);
    t.is(summary.step, 2);
    t.true(existsSync(join(dir, 'step-00000002', 'model', 'weights.bin')));
    trainer.dispose();
    model.dispose();
  });
});

test('a corrupt or mismatched checkpoint throws a typed error', async (t) => {
  await withDir(async (dir) => {
    const model = WmgymLm.create(SIZES, 8, tokenizer);
    const trainer = new LmTrainer(model, { train: stream }, { totalSteps: 2, batchSize: 2 });
    await trainer.train({ checkpointDir: dir });
    t.throws(() => LmTrainer.resume(join(dir, 'missing'), { train: stream }), {
      instanceOf: MalformedFileError,
      message: /checkpoint\.json at \$: expected a file, received none/,
    });
    t.throws(() => LmTrainer.resume(dir, { train: stream.subarray(1) }), {
      instanceOf: InvalidStateError,
      message: /expected the stream it trained on \(\d+ tokens, CRC-32 \d+, no weights\), received/,
    });
    const optimizer = join(dir, 'step-00000002', 'optimizer.bin');
    const bytes = readFileSync(optimizer);
    const flipped = Buffer.from(bytes);
    flipped[7] = flipped[7]! ^ 1;
    writeFileSync(optimizer, flipped);
    t.throws(() => LmTrainer.resume(dir, { train: stream }), {
      instanceOf: MalformedFileError,
      message: /optimizer\.bin at \$: expected CRC-32 \d+ \(from trainer\.json\), received \d+/,
    });
    writeFileSync(optimizer, bytes.subarray(8));
    t.throws(() => LmTrainer.resume(dir, { train: stream }), {
      instanceOf: MalformedFileError,
      message: /expected \d+ bytes \(two moments/,
    });
    writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ format: 'x' }));
    t.throws(() => LmTrainer.resume(dir, { train: stream }), { instanceOf: MalformedFileError });
    trainer.dispose();
    model.dispose();
  });
});

test('a loss that is not finite stops training before it reaches the weights', (t) => {
  const model = WmgymLm.create(SIZES, 9);
  const trainer = new LmTrainer(model, { train: stream }, { totalSteps: 5, batchSize: 2 });
  const weights = model.params.read();
  weights.fill(NaN, 0, 16); // a broken embedding row
  model.params.write(weights);
  const before = Buffer.from(model.params.read().buffer).toString('hex');
  t.throws(() => trainer.trainStep(), {
    instanceOf: InvalidStateError,
    message: /expected a finite loss and gradient, received "loss NaN/,
  });
  t.is(Buffer.from(model.params.read().buffer).toString('hex'), before);
  t.is(trainer.step, 0);
  trainer.dispose();
  model.dispose();
});

test('bad options and data throw InvalidOptionError naming what was received', (t) => {
  const model = WmgymLm.create(SIZES, 10);
  const make = (options: Record<string, unknown>, train = stream): LmTrainer =>
    new LmTrainer(model, { train }, { totalSteps: 10, ...options });
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { sequenceLength: 17 },
      /sequenceLength: expected at most the model's contextLength \(16\), received 17/,
    ],
    [{ batchSize: 0 }, /LmTrainer\.batchSize/],
    [{ learningRate: 0 }, /LmTrainer\.learningRate/],
    [{ minLearningRate: 1 }, /minLearningRate: expected at most learningRate/],
    [{ beta2: 1 }, /LmTrainer\.beta2/],
    [{ dropout: 0.1 }, /LmTrainer\.dropout: .*Unknown option/],
  ];
  for (const [options, message] of cases)
    t.throws(() => make(options), { instanceOf: InvalidOptionError, message });
  t.throws(() => make({}, Int32Array.of(1, 2, 3)), {
    instanceOf: InvalidOptionError,
    message: /data\.train: expected at least 17 tokens, received "3 tokens"/,
  });
  const bad = stream.slice();
  bad[20] = SIZES.vocabSize;
  t.throws(() => make({}, bad), {
    instanceOf: InvalidOptionError,
    message: new RegExp(
      `data\\.train\\[20\\]: expected a token id from 0 to ${SIZES.vocabSize - 1} \\(the model's vocabulary\\), received ${SIZES.vocabSize}`,
    ),
  });
  const trainer = make({});
  t.throws(() => trainer.evaluate(), { instanceOf: InvalidStateError });
  return trainer
    .train({ evalEvery: 5 })
    .then(() => t.fail('evalEvery without validation data'))
    .catch((error: unknown) => {
      t.true(error instanceof InvalidOptionError);
      trainer.dispose();
      model.dispose();
    });
});

test('a token whose weight is 0 teaches nothing; weighted tokens do, and resume checks the weights', async (t) => {
  // The stream's last token is only ever a target; two streams that differ there alone train
  // to the same weights when it weighs 0, and to different ones when it weighs 1.
  const short = stream.subarray(0, 24);
  const other = short.slice();
  other[23] = (other[23]! + 1) % SIZES.vocabSize;
  const run = async (train: Int32Array, last: number): Promise<string> => {
    const weights = new Float32Array(train.length).fill(1);
    weights[23] = last;
    const model = WmgymLm.create(SIZES, 11, tokenizer);
    const trainer = new LmTrainer(
      model,
      { train, trainWeights: weights },
      { totalSteps: 12, batchSize: 4, learningRate: 1e-2, seed: 2 },
    );
    await trainer.train();
    const hex = Buffer.from(model.params.read().buffer).toString('hex');
    trainer.dispose();
    model.dispose();
    return hex;
  };
  t.is(await run(short, 0), await run(other, 0));
  t.not(await run(short, 1), await run(other, 1));

  // Only the answers weigh: their held-out loss falls, and the weighted evaluation is their mean.
  const answer = tokenizer.encode(' Score: 1.');
  const weights = new Float32Array(stream.length);
  for (let i = 0; i + answer.length <= stream.length; i++)
    if (answer.every((id, j) => stream[i + j] === id)) weights.fill(1, i, i + answer.length);
  t.true(weights.some((w) => w > 0));
  const validationWeights = new Float32Array(heldOut.length);
  for (let i = 0; i + answer.length <= heldOut.length; i++)
    if (answer.every((id, j) => heldOut[i + j] === id))
      validationWeights.fill(1, i, i + answer.length);
  const model = WmgymLm.create(SIZES, 12, tokenizer);
  const trainer = new LmTrainer(
    model,
    { train: stream, trainWeights: weights, validation: heldOut, validationWeights },
    { totalSteps: 40, batchSize: 8, learningRate: 1e-2, warmupSteps: 2, seed: 4 },
  );
  const before = trainer.evaluate();
  // The weighted loss is the mean over the weighted positions of the evaluation's windows.
  const steps = SIZES.contextLength;
  let total = 0;
  let counted = 0;
  for (let at = 0; at + steps < heldOut.length; at += steps) {
    const mask = validationWeights.subarray(at + 1, at + steps + 1);
    if (!mask.some((w) => w > 0)) continue;
    const part = model.likelihood({
      batch: 1,
      steps,
      inputs: heldOut.subarray(at, at + steps),
      targets: heldOut.subarray(at + 1, at + steps + 1),
      mask,
    });
    total += part.total;
    counted += part.tokens;
  }
  t.is(before.weighted?.tokens, counted);
  t.true(Math.abs(before.weighted!.loss - total / counted) < 1e-4);
  await withDir(async (dir) => {
    await trainer.train({ checkpointDir: dir });
    const after = trainer.evaluate();
    t.true(
      after.weighted!.loss < 0.5 * before.weighted!.loss,
      `${before.weighted!.loss} -> ${after.weighted!.loss}`,
    );
    const changed = weights.slice();
    changed[5] = changed[5]! + 1;
    t.throws(() => LmTrainer.resume(dir, { train: stream, trainWeights: changed }), {
      instanceOf: InvalidStateError,
      message: /weights CRC-32 \d+\), received .*weights CRC-32/,
    });
    t.throws(() => LmTrainer.resume(dir, { train: stream }), {
      instanceOf: InvalidStateError,
      message: /received "\d+ tokens, CRC-32 \d+, no weights"/,
    });
    const resumed = LmTrainer.resume(dir, { train: stream, trainWeights: weights });
    t.is(resumed.step, 40);
    resumed.dispose();
    resumed.model.dispose();
  });
  trainer.dispose();
  model.dispose();
});

test('bad loss weights are typed errors naming what was received', (t) => {
  const model = WmgymLm.create(SIZES, 13);
  const make = (data: Record<string, unknown>): LmTrainer =>
    new LmTrainer(model, { train: stream, ...data }, { totalSteps: 10 });
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const negative = ones(stream.length);
  negative[4] = -1;
  const nan = ones(stream.length);
  nan[6] = Number.NaN;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ trainWeights: [1, 2] }, /trainWeights: expected a Float32Array/],
    [
      { trainWeights: ones(3) },
      /expected one weight per token of the stream \(\d+\), received "3 weights"/,
    ],
    [{ trainWeights: negative }, /trainWeights\[4\]: expected a finite weight ≥ 0, received -1/],
    [{ trainWeights: nan }, /trainWeights\[6\]: expected a finite weight ≥ 0, received NaN/],
    [{ trainWeights: new Float32Array(stream.length) }, /some token with a weight > 0/],
    [{ validationWeights: ones(4) }, /validationWeights: .*give data\.validation too/],
  ];
  for (const [data, message] of cases)
    t.throws(() => make(data), { instanceOf: InvalidOptionError, message });
  model.dispose();
});
