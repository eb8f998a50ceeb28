import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../../../agents/nn/backend.js';
import type { ParameterTensors } from '../../../agents/nn/params.js';
import { Tokenizer } from '../../../agents/llm/tokenizer.js';
import {
  WmgymLm,
  float16ToFloat32,
  float32ToFloat16,
  type WmgymLmOptions,
} from '../../../agents/llm/wmgym-lm.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  MalformedFileError,
} from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const TINY: WmgymLmOptions = {
  vocabSize: 40,
  modelSize: 16,
  heads: 2,
  layers: 2,
  contextLength: 12,
};

/** A tiny model with weights far from their initial scale (so that positions mix strongly). */
function tiny(seed = 1, options: Partial<WmgymLmOptions> = {}, tokenizer?: Tokenizer): WmgymLm {
  const model = WmgymLm.create({ ...TINY, ...options }, seed, tokenizer);
  const rng = new Rng(seed + 100);
  model.params.write(Float32Array.from({ length: model.params.size }, () => rng.normal(0, 0.3)));
  return model;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Log-probabilities `[T][V]` of one sequence from one full forward pass. */
function fullLogProbs(model: WmgymLm, tokens: readonly number[]): number[][] {
  return tf.tidy(() => tf.logSoftmax(model.logits(tokens, 1, tokens.length)).arraySync()[0]!);
}

/** Logits `[V]` after the last token of `tokens`, from one full forward pass. */
function lastLogits(model: WmgymLm, tokens: readonly number[]): Float32Array {
  return tf.tidy(() => {
    const all = model.logits(tokens, 1, tokens.length);
    return tf.slice(all, [0, tokens.length - 1, 0], [1, 1, model.config.vocabSize]).dataSync();
  }) as Float32Array;
}

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-lm-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the model is causal: a later token never changes an earlier logit', (t) => {
  const model = tiny(2);
  const tokens = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];
  const base = model.logits(tokens, 1, tokens.length).arraySync()[0]!;
  for (let changed = 0; changed < tokens.length; changed++) {
    const other = [...tokens];
    other[changed] = (other[changed]! + 17) % 40;
    const out = model.logits(other, 1, other.length).arraySync()[0]!;
    for (let p = 0; p < tokens.length; p++) {
      const diff = maxAbs(out[p]!, base[p]!);
      if (p < changed) t.is(diff, 0, `position ${p} before the change at ${changed}`);
      else t.true(diff > 1e-3, `position ${p} from the change at ${changed} on`);
    }
  }
  model.dispose();
});

test('KV-cache decoding gives the logits of a full forward pass at every step, across window restarts', (t) => {
  const model = tiny(3);
  const decoder = model.decoder([1, 2, 3]);
  const rng = new Rng(4);
  let restarts = 0;
  for (let step = 0; step < 25; step++) {
    const window = [...decoder.tokens];
    t.true(maxAbs(decoder.logits, lastLogits(model, window)) < 1e-4, `step ${step}`);
    const before = decoder.windowLength;
    decoder.push(rng.integer(40));
    if (decoder.windowLength < before) restarts++;
    t.true(decoder.windowLength <= 12);
  }
  // A full window of 12 restarts on its newest 9 tokens: 3 prompt tokens, 9 pushes fill it, then
  // every 4th push restarts it (pushes 10, 14, 18, 22).
  t.is(restarts, 4);
  decoder.dispose();
  t.throws(() => decoder.push(1), { instanceOf: InvalidStateError });
  model.dispose();
});

test('greedy generation takes the argmax of the full forward pass each step; a stop token ends it', (t) => {
  const model = tiny(5);
  const prompt = [7, 8, 9];
  const { tokens, reason, promptTokens } = model.generate(prompt, { maxTokens: 15 });
  t.is(reason, 'max-tokens');
  t.is(promptTokens, 3);
  // The window the model sees: at most 12 tokens, restarted on its newest 9 when full.
  let window = [...prompt];
  for (let i = 0; i < 15; i++) {
    const logits = lastLogits(model, window);
    const best = logits.indexOf(Math.max(...logits));
    t.is(tokens[i], best, `token ${i}`);
    window = window.length === 12 ? [...window.slice(-8), best] : [...window, best];
  }
  const stop = tokens[4]!;
  const cut = model.generate(prompt, { maxTokens: 15, stop: [stop] });
  t.is(cut.reason, 'stop-token');
  t.deepEqual(Array.from(cut.tokens), Array.from(tokens.subarray(0, tokens.indexOf(stop))));
  const called = model.generate(prompt, { maxTokens: 15, shouldStop: (g) => g.length === 2 });
  t.is(called.reason, 'should-stop');
  t.deepEqual(Array.from(called.tokens), Array.from(tokens.subarray(0, 2)));
  model.dispose();
});

test('sampling is seeded: the same seed gives the same tokens, another seed other tokens', (t) => {
  const model = tiny(6);
  const run = (seed: number): number[] =>
    Array.from(model.generate([1], { maxTokens: 30, temperature: 1.5, seed }).tokens);
  const a = run(1);
  t.deepEqual(run(1), a);
  t.notDeepEqual(run(2), a);
  t.true(new Set(a).size > 3, 'sampling at a high temperature visits several tokens');
  model.dispose();
});

test('score is the sum of the continuation tokens’ log-probabilities of a full forward pass, batched', (t) => {
  const model = tiny(7);
  const prompt = [5, 6, 7, 8];
  const continuations = [[9], [10, 11, 12], [], [13, 14], [9, 9, 9, 9, 9, 9, 9, 9]];
  const scores = model.score(prompt, continuations);
  continuations.forEach((c, i) => {
    t.is(scores[i]!.tokens, c.length);
    if (c.length === 0) {
      t.is(scores[i]!.logProb, 0);
      return;
    }
    // The longest continuation (8) leaves room for the last 12 − 8 + 1 = 5 prompt tokens: all 4.
    const lp = fullLogProbs(model, [...prompt, ...c]);
    let sum = 0;
    for (let j = 0; j < c.length; j++) sum += lp[prompt.length - 1 + j]![c[j]!]!;
    t.true(
      Math.abs(scores[i]!.logProb - sum) < 1e-4,
      `continuation ${i}: ${scores[i]!.logProb} vs ${sum}`,
    );
  });
  // A prompt that does not fit keeps its end.
  const long = Array.from({ length: 30 }, (_, i) => (i * 7) % 40);
  const [scored] = model.score(long, [[1, 2, 3]]);
  const kept = long.slice(-(12 - 3 + 1));
  const lp = fullLogProbs(model, [...kept, 1, 2]);
  const sum = lp[kept.length - 1]![1]! + lp[kept.length]![2]! + lp[kept.length + 1]![3]!;
  t.true(Math.abs(scored!.logProb - sum) < 1e-4);
  t.throws(() => model.score(prompt, [Array.from({ length: 13 }, () => 1)]), {
    instanceOf: InvalidValueError,
    message: /expected at most 12 tokens \(the context length\), received 13 tokens/,
  });
  t.throws(() => model.score([], [[1]]), {
    instanceOf: InvalidValueError,
    message: /at least one token/,
  });
  model.dispose();
});

test('the loss is the masked mean next-token cross-entropy, and its hand-written gradients equal autodiff', (t) => {
  const model = tiny(8);
  const inputs = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 39]);
  const targets = Int32Array.from([2, 3, 4, 5, 6, 0, 8, 9, 10, 11, 12, 38]);
  const mask = Float32Array.from([1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1]);
  const batch = { batch: 2, steps: 6, inputs, targets, mask };
  const block = model.transformer;
  // tfjs's wasm OneHot writes int32 bits whatever the dtype asked: cast.
  const oneHot = (ids: Int32Array): tf.Tensor =>
    tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), 40), 'float32');
  const reference = (p: ParameterTensors): tf.Scalar => {
    const wte = p['lm.wte']!;
    const x = tf.matMul(oneHot(inputs), wte);
    const h = tf.reshape(block.apply(p, tf.reshape(x, [1, 2, 6, 16])), [12, 16]);
    const lp = tf.logSoftmax(tf.matMul(h, wte, false, true));
    const picked = tf.sum(tf.mul(lp, oneHot(targets)), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(mask)))), tf.sum(tf.tensor1d(mask)));
  };
  const { value, grad } = model.params.valueAndGrad((p) => model.loss(p, batch));
  const expected = tf.tidy(() => reference(model.params.views()).dataSync()[0]!);
  t.true(Math.abs(value.dataSync()[0]! - expected) < 1e-5, `${value.dataSync()[0]} vs ${expected}`);
  const plain = tf.grad((flat: tf.Tensor) => reference(model.params.unpack(flat)))(
    model.params.variable,
  );
  const scale = maxAbs(plain.dataSync(), new Float32Array(plain.size));
  t.true(maxAbs(grad.dataSync(), plain.dataSync()) < 1e-4 * scale);
  // The likelihood is the same sum, unnormalised.
  const { total, tokens } = model.likelihood(batch);
  t.is(tokens, 9);
  t.true(Math.abs(total / tokens - expected) < 1e-5);
  // A masked position's target does not count.
  const other = { ...batch, targets: Int32Array.from(targets, (x, i) => (i === 3 ? 0 : x)) };
  t.true(Math.abs(model.likelihood(other).total - total) < 1e-5);
  tf.dispose([value, grad, plain]);
  model.dispose();
});

test('nothing is left behind: generate, score, loss and likelihood free their tensors', (t) => {
  const model = tiny(9);
  const batch = {
    batch: 1,
    steps: 4,
    inputs: Int32Array.of(1, 2, 3, 4),
    targets: Int32Array.of(2, 3, 4, 5),
  };
  model.generate([1, 2], { maxTokens: 20 }); // warm: cached views, masks
  const before = tf.memory().numTensors;
  model.generate([1, 2], { maxTokens: 20 });
  model.score([1, 2], [[3], [4, 5]]);
  model.likelihood(batch);
  const { value, grad } = model.params.valueAndGrad((p) => model.loss(p, batch));
  tf.dispose([value, grad]);
  t.is(tf.memory().numTensors, before);
  model.dispose();
});

test('save then load gives identical logits and identical seeded generations (float32), with the tokenizer', (t) => {
  const tokenizer = Tokenizer.train(['go north. go south. take the coin.'], { vocabSize: 270 });
  const model = tiny(10, { vocabSize: tokenizer.vocabSize }, tokenizer);
  withDir((dir) => {
    model.save(dir, { metadata: { name: 'tiny-lm', corpus: 'test' } });
    const loaded = WmgymLm.load(dir);
    t.deepEqual(loaded.config, model.config);
    t.deepEqual(loaded.params.read(), model.params.read());
    const tokens = [1, 2, 3, 4, 5];
    t.deepEqual(loaded.logits(tokens, 1, 5).dataSync(), model.logits(tokens, 1, 5).dataSync());
    const options = { maxTokens: 20, temperature: 0.8, seed: 3 };
    t.deepEqual(loaded.generate(tokens, options).tokens, model.generate(tokens, options).tokens);
    t.deepEqual(loaded.tokenizer!.toJSON(), tokenizer.toJSON());
    t.deepEqual(WmgymLm.metadata(dir), { name: 'tiny-lm', corpus: 'test' });
    // Loading into a model of the same sizes replaces its weights.
    const other = tiny(11, { vocabSize: tokenizer.vocabSize });
    other.load(dir);
    t.deepEqual(other.params.read(), model.params.read());
    t.throws(() => tiny(12).load(dir), { instanceOf: InvalidStateError, message: /sizes/ });
    loaded.dispose();
    other.dispose();
  });
  model.dispose();
});

test('float16 halves the weights file, stays within float16 rounding, and reloads to the same values', (t) => {
  const model = tiny(13);
  withDir((dir) => {
    model.save(join(dir, 'f32'));
    model.save(join(dir, 'f16'), { dtype: 'float16' });
    const size = (d: string): number => statSync(join(dir, d, 'weights.bin')).size;
    t.is(size('f32'), 4 * model.parameterCount);
    t.is(size('f16'), 2 * model.parameterCount);
    const half = WmgymLm.load(join(dir, 'f16'));
    const exact = model.params.read();
    const rounded = half.params.read();
    for (let i = 0; i < exact.length; i++)
      t.true(Math.abs(rounded[i]! - exact[i]!) <= Math.abs(exact[i]!) * 2 ** -11 + 2 ** -25);
    const tokens = [1, 2, 3];
    t.true(
      maxAbs(half.logits(tokens, 1, 3).dataSync(), model.logits(tokens, 1, 3).dataSync()) < 0.05,
    );
    // Saving the reloaded model again gives the same bytes.
    half.save(join(dir, 'again'), { dtype: 'float16' });
    t.deepEqual(
      readFileSync(join(dir, 'again', 'weights.bin')),
      readFileSync(join(dir, 'f16', 'weights.bin')),
    );
    half.dispose();
  });
  model.dispose();
});

test('float16 conversion rounds to nearest even and refuses values beyond its range', (t) => {
  const values = Float32Array.of(
    0,
    -0,
    1,
    -2,
    65504,
    2 ** -24,
    2 ** -14,
    0.1,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    2 ** -25,
    3 * 2 ** -26,
  );
  const bits = float32ToFloat16(values, () => t.fail('no value overflows'));
  t.deepEqual(
    Array.from(bits),
    [
      0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x2e66, 0x3c00, 0x3c02, 0x0000,
      0x0001,
    ],
  );
  t.deepEqual(Array.from(float16ToFloat32(Uint16Array.of(0x3c00, 0x7bff, 0x0001, 0xc000))), [
    1,
    65504,
    2 ** -24,
    -2,
  ]);
  const overflowed: number[] = [];
  float32ToFloat16(Float32Array.of(65519, 65520, -1e6, Infinity, NaN), (i) => overflowed.push(i));
  t.deepEqual(overflowed, [1, 2, 3, 4]);
  const model = tiny(14);
  const w = model.params.read();
  w[5] = 70000;
  model.params.write(w);
  withDir((dir) => {
    t.throws(() => model.save(dir, { dtype: 'float16' }), {
      instanceOf: InvalidStateError,
      message:
        /within ±65504 \(the float16 range\), received "70000 at index 5 \(lm\.wte\); save as float32"/,
    });
    w[5] = NaN;
    model.params.write(w);
    t.throws(() => model.save(dir), {
      instanceOf: InvalidStateError,
      message: /finite values, received "NaN at index 5 \(lm\.wte\)"/,
    });
  });
  t.throws(() => model.generate([1], { maxTokens: 3 }), {
    instanceOf: InvalidStateError,
    message: /NaN/,
  });
  model.dispose();
});

test('missing, truncated, corrupt or mismatched files throw MalformedFileError naming the file', (t) => {
  const tokenizer = Tokenizer.train(['abc abc abd'], { vocabSize: 262 });
  const model = tiny(15, { vocabSize: tokenizer.vocabSize }, tokenizer);
  withDir((dir) => {
    t.throws(() => WmgymLm.load(join(dir, 'none')), {
      instanceOf: MalformedFileError,
      message: /config\.json at \$: expected a wmgym-lm config\.json, received no file/,
    });
    model.save(dir);
    const config = join(dir, 'config.json');
    const weights = join(dir, 'weights.bin');
    const good = readFileSync(config, 'utf8');
    const bytes = readFileSync(weights);
    const expectFile = (message: RegExp): void => {
      t.throws(() => WmgymLm.load(dir), { instanceOf: MalformedFileError, message });
    };
    writeFileSync(weights, bytes.subarray(0, bytes.length - 4));
    expectFile(/weights\.bin at \$: expected \d+ bytes .*received \d+/);
    const flipped = Buffer.from(bytes);
    flipped[100] = flipped[100]! ^ 0x40;
    writeFileSync(weights, flipped);
    expectFile(/weights\.bin at \$: expected CRC-32 \d+ .*received \d+: the file is corrupt/);
    writeFileSync(weights, bytes);
    writeFileSync(config, good.slice(0, 50));
    expectFile(/config\.json at \$: expected JSON/);
    const edit = (
      change: (j: Record<string, Record<string, unknown>>) => void,
      message: RegExp,
    ): void => {
      const copy = JSON.parse(good) as Record<string, Record<string, unknown>>;
      change(copy);
      writeFileSync(config, JSON.stringify(copy));
      expectFile(message);
    };
    edit(
      (j) => (j['format'] = 'gguf' as never),
      /at \$\.format: expected "wmgym-lm", received "gguf"/,
    );
    edit(
      (j) => (j['config']!['heads'] = 3),
      /at \$\.config: .*heads: expected a divisor of modelSize \(16\), received 3/,
    );
    edit(
      (j) => (j['config']!['layers'] = 3),
      /at \$\.weights\.layout: expected \d+ values laid out as/,
    );
    edit((j) => (j['weights']!['dtype'] = 'bfloat16'), /at \$\.weights\.dtype/);
    edit((j) => (j['metadata'] = [] as never), /at \$\.metadata: expected an object/);
    writeFileSync(config, good);
    writeFileSync(
      join(dir, 'tokenizer.json'),
      JSON.stringify({ ...tokenizer.toJSON(), merges: [], vocabSize: 258 }),
    );
    expectFile(/tokenizer\.json at \$\.vocabSize: expected \d+ tokens \(the model's vocabSize/);
    writeFileSync(join(dir, 'tokenizer.json'), '{');
    expectFile(/tokenizer\.json at \$: expected JSON/);
  });
  model.dispose();
});

test('bad sizes, ids and options throw typed errors saying what was received', (t) => {
  t.throws(() => WmgymLm.create({ ...TINY, heads: 3 }, 0), {
    instanceOf: InvalidOptionError,
    message: /WmgymLm\.heads: expected a divisor of modelSize \(16\), received 3/,
  });
  t.throws(() => WmgymLm.create({ ...TINY, vocabSize: 0 }, 0), { instanceOf: InvalidOptionError });
  t.throws(() => WmgymLm.create({ ...TINY, dropout: 0.1 } as WmgymLmOptions, 0), {
    instanceOf: InvalidOptionError,
    message: /WmgymLm\.dropout/,
  });
  t.throws(() => WmgymLm.create(TINY, -1), { instanceOf: InvalidOptionError, message: /seed/ });
  const tokenizer = Tokenizer.train(['a b'], { vocabSize: 300 });
  t.throws(() => WmgymLm.create(TINY, 0, tokenizer), {
    instanceOf: InvalidOptionError,
    message:
      /expected a tokenizer of vocabSize \(40\) tokens, received "a tokenizer of 258 tokens"/,
  });
  const model = tiny(16);
  t.throws(() => model.generate([1, 40], { maxTokens: 3 }), {
    instanceOf: InvalidValueError,
    message: /prompt at index 1: expected a token id from 0 to 39, received 40/,
  });
  t.throws(() => model.generate([1], { maxTokens: 0 }), { instanceOf: InvalidOptionError });
  t.throws(() => model.generate([1], { maxTokens: 2, temperature: -1 }), {
    instanceOf: InvalidOptionError,
  });
  t.throws(() => model.generate([], { maxTokens: 2 }), {
    instanceOf: InvalidValueError,
    message: /at least one token/,
  });
  t.throws(() => model.logits([1, 2], 1, 13), {
    instanceOf: InvalidValueError,
    message: /steps from 1 to 12/,
  });
  const batch = { batch: 1, steps: 2, inputs: Int32Array.of(1, 2), targets: Int32Array.of(2, 3) };
  t.throws(() => model.likelihood({ ...batch, mask: Float32Array.of(0, 0) }), {
    instanceOf: InvalidValueError,
    message: /at least one counted position/,
  });
  t.throws(() => model.likelihood({ ...batch, mask: Float32Array.of(1, NaN) }), {
    instanceOf: InvalidValueError,
    message: /mask at index 1: expected a weight ≥ 0, received NaN/,
  });
  t.throws(() => model.likelihood({ ...batch, targets: Int32Array.of(2) }), {
    instanceOf: InvalidValueError,
    message: /targets: expected 2 token ids, received 1 token ids/,
  });
  withDir((dir) =>
    t.throws(() => model.save(dir, { dtype: 'bfloat16' as 'float16' }), {
      instanceOf: InvalidOptionError,
    }),
  );
  model.dispose();
});
