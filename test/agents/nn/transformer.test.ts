import test from 'ava';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';
import { tf, initBackend } from '../../../agents/nn/backend.js';
import { Mlp } from '../../../agents/nn/mlp.js';
import { Adam } from '../../../agents/nn/optimizer.js';
import { ParameterSet, type ParameterTensors } from '../../../agents/nn/params.js';
import {
  Transformer,
  TransformerCache,
  type TransformerActivation,
  type TransformerOptions,
} from '../../../agents/nn/transformer.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxOf(a: ArrayLike<number>): number {
  return maxAbs(a, new Float32Array(a.length));
}

const SMALL: TransformerOptions = {
  name: 'tf',
  modelSize: 8,
  heads: 2,
  layers: 2,
  contextLength: 5,
};

function build(
  options: Partial<TransformerOptions> = {},
  seed = 1,
): { params: ParameterSet; block: Transformer } {
  const all = { ...SMALL, ...options };
  const params = new ParameterSet(all.name);
  const block = new Transformer(params, all, new Rng(seed));
  params.build();
  return { params, block };
}

/** One member's values of every piece of a set holding one ensemble (in storage order). */
function memberValues(params: ParameterSet, ensemble: number, member: number): Float32Array {
  const flat = params.read();
  const out = new Float32Array(params.size / ensemble);
  let at = 0;
  for (const piece of params.pieces) {
    const n = piece.size / ensemble;
    out.set(flat.subarray(piece.offset + member * n, piece.offset + (member + 1) * n), at);
    at += n;
  }
  return out;
}

/**
 * A plain reference for member `m`: a loop over heads and sequences with stock tfjs ops (autodiff
 * gradients, GELU written with `tanh`). `x` is `[B, T, d]`; the result is `[B, T, d]`.
 */
function reference(
  p: ParameterTensors,
  x: tf.Tensor3D,
  options: TransformerOptions,
  m: number,
  activation: TransformerActivation,
): tf.Tensor3D {
  const { name, modelSize: d, heads, layers } = options;
  const [batch, steps] = x.shape;
  const dh = d / heads;
  const member = (key: string): tf.Tensor => {
    const t = p[`${name}.${key}`]!;
    return t.rank === 1 ? t : tf.squeeze(tf.slice(t, [m], [1]), [0]);
  };
  const norm = (h: tf.Tensor2D, key: string): tf.Tensor2D => {
    const { mean, variance } = tf.moments(h, -1, true);
    const normed = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normed, member(`${key}.gain`)), member(`${key}.bias`));
  };
  const linear = (h: tf.Tensor2D, key: string): tf.Tensor2D =>
    tf.add(tf.matMul(h, member(`${key}.w`) as tf.Tensor2D), member(`${key}.b`));
  const mask = tf.sub(tf.linalg.bandPart(tf.ones([steps, steps]), -1, 0), 1);
  let h = tf.reshape<tf.Rank.R2>(tf.add(x, tf.slice(member('pos'), [0, 0], [steps, d])), [
    batch * steps,
    d,
  ]);
  for (let i = 0; i < layers; i++) {
    const qkv = linear(norm(h, `h${i}.ln1`), `h${i}.qkv`);
    const sequences: tf.Tensor[] = [];
    for (let s = 0; s < batch; s++) {
      const rows = tf.slice(qkv, [s * steps, 0], [steps, 3 * d]);
      const outs: tf.Tensor[] = [];
      for (let j = 0; j < heads; j++) {
        const q = tf.slice(rows, [0, j * dh], [steps, dh]);
        const k = tf.slice(rows, [0, d + j * dh], [steps, dh]);
        const v = tf.slice(rows, [0, 2 * d + j * dh], [steps, dh]);
        const scores = tf.add(
          tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)),
          tf.mul(mask, 1e9),
        );
        outs.push(tf.matMul(tf.softmax(scores), v));
      }
      sequences.push(tf.concat(outs, 1));
    }
    h = tf.add(h, linear(tf.concat(sequences, 0) as tf.Tensor2D, `h${i}.proj`));
    const f = linear(norm(h, `h${i}.ln2`), `h${i}.fc`);
    const act =
      activation === 'relu'
        ? tf.relu(f)
        : tf.mul(
            tf.mul(f, 0.5),
            tf.add(
              1,
              tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(f, tf.mul(0.044715, tf.pow(f, 3))))),
            ),
          );
    h = tf.add(h, linear(act as tf.Tensor2D, `h${i}.out`));
  }
  return tf.reshape(norm(h, 'lnf'), [batch, steps, d]);
}

test('the output is the final hidden states [E, B, T, d], for any T up to the context length', (t) => {
  const { params, block } = build({ ensemble: 3 });
  for (const steps of [1, 3, 5]) {
    const shared = tf.randomNormal([1, 4, steps, 8], 0, 1, 'float32', steps);
    const own = tf.randomNormal([3, 4, steps, 8], 0, 1, 'float32', steps);
    t.deepEqual(block.apply(params.views(), shared).shape, [3, 4, steps, 8]);
    t.deepEqual(block.apply(params.views(), own).shape, [3, 4, steps, 8]);
  }
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    block.apply(params.views(), tf.zeros([1, 2, 5, 8]));
  });
  t.is(tf.memory().numTensors, before, 'apply inside tidy leaves no tensor behind');
});

for (const activation of ['gelu', 'relu'] as const) {
  test(`a ${activation} transformer computes what a per-head, per-sequence reference computes, gradients included`, (t) => {
    const options = { ...SMALL, activation, ensemble: 2 };
    const { params, block } = build(options, 7);
    const x = tf.randomNormal([1, 3, 4, 8], 0, 1, 'float32', 11);
    const weights = tf.randomNormal([2, 3, 4, 8], 0, 1, 'float32', 12);
    const ours = block.apply(params.views(), x);
    const x3 = tf.squeeze<tf.Tensor3D>(x, [0]);
    for (let m = 0; m < 2; m++) {
      const theirs = reference(params.views(), x3, options, m, activation);
      const mine = tf.slice(ours, [m], [1]);
      t.true(maxAbs(mine.dataSync(), theirs.dataSync()) < 1e-5, `member ${m} output`);
    }
    const { grad, value } = params.valueAndGrad((p) => tf.sum(tf.mul(block.apply(p, x), weights)));
    const plain = tf.grad((flat: tf.Tensor) => {
      const p = params.unpack(flat);
      const outs = [0, 1].map((m) => reference(p, x3, options, m, activation));
      return tf.sum(tf.mul(tf.stack(outs), weights));
    })(params.variable);
    const scale = maxOf(plain.dataSync());
    t.true(maxAbs(grad.dataSync(), plain.dataSync()) < 1e-4 * scale, 'parameter gradient');
    // The gradient flows into the input embeddings too.
    const [dxOurs, dxPlain] = [
      tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(block.apply(params.views(), xi), weights)))(x),
      tf.grad((xi: tf.Tensor) => {
        const xs = tf.squeeze<tf.Tensor3D>(xi, [0]);
        const outs = [0, 1].map((m) => reference(params.views(), xs, options, m, activation));
        return tf.sum(tf.mul(tf.stack(outs), weights));
      })(x),
    ];
    t.true(maxAbs(dxOurs.dataSync(), dxPlain.dataSync()) < 1e-4 * maxOf(dxPlain.dataSync()));
    tf.dispose([grad, value]);
  });
}

test('attention is causal: changing position t changes no output before t and every output from t on', (t) => {
  const { params, block } = build({ ensemble: 2 }, 3);
  // Weights far from their initial scale, so that attention mixes positions strongly.
  params.write(tf.randomNormal([params.size], 0, 0.5, 'float32', 20).dataSync() as Float32Array);
  const steps = 5;
  const x = tf.randomNormal([1, 2, steps, 8], 0, 1, 'float32', 21);
  const base = block.apply(params.views(), x).arraySync();
  for (let changed = 0; changed < steps; changed++) {
    // Change sequence 0 at position `changed` only.
    const bump = tf.buffer([1, 2, steps, 8], 'float32');
    for (let c = 0; c < 8; c++) bump.set(c % 3 === 0 ? 1 : -0.5 * c, 0, 0, changed, c);
    const out = block.apply(params.views(), tf.add(x, bump.toTensor())).arraySync();
    for (let m = 0; m < 2; m++) {
      for (let s = 0; s < steps; s++) {
        const diff = maxAbs(out[m]![0]![s]!, base[m]![0]![s]!);
        if (s < changed) t.true(diff < 1e-6, `member ${m}, position ${s} < ${changed} unchanged`);
        else t.true(diff > 1e-3, `member ${m}, position ${s} >= ${changed} changed`);
        t.true(maxAbs(out[m]![1]![s]!, base[m]![1]![s]!) < 1e-6, 'the other sequence unchanged');
      }
    }
  }
});

test('ensemble members differ, and member e computes what one transformer with its weights computes', (t) => {
  const e = 3;
  const { params, block } = build({ ensemble: e }, 5);
  const x = tf.randomNormal([e, 4, 5, 8], 0, 1, 'float32', 31);
  const out = block.apply(params.views(), x);
  const members = [0, 1, 2].map((m) => tf.slice(out, [m], [1]).dataSync());
  t.true(maxAbs(members[0]!, members[1]!) > 1e-2);
  t.true(maxAbs(members[1]!, members[2]!) > 1e-2);
  const single = build({ ensemble: 1 }, 99);
  for (let m = 0; m < e; m++) {
    single.params.write(memberValues(params, e, m));
    const alone = single.block.apply(single.params.views(), tf.slice(x, [m], [1]));
    t.true(maxAbs(alone.dataSync(), members[m]!) < 1e-5, `member ${m}`);
  }
  // Member 0 draws what a single transformer with the same generator draws.
  t.deepEqual(memberValues(params, e, 0), build({ ensemble: 1 }, 5).params.read());
});

test('the same seed gives the same weights; GPT-2 initialisation', (t) => {
  const options = { modelSize: 32, heads: 4, layers: 3, contextLength: 16, ensemble: 2 };
  const a = build(options, 42).params;
  t.deepEqual(a.read(), build(options, 42).params.read());
  t.notDeepEqual(a.read(), build(options, 43).params.read());
  const views = a.views();
  const std = (key: string): number => {
    const v = views[`tf.${key}`]!.dataSync();
    return Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) / v.length);
  };
  t.true(Math.abs(std('h0.qkv.w') - 0.02) < 0.002);
  t.true(Math.abs(std('h1.fc.w') - 0.02) < 0.002);
  t.true(Math.abs(std('pos') - 0.02) < 0.002);
  const residual = 0.02 / Math.sqrt(2 * 3);
  t.true(Math.abs(std('h2.proj.w') - residual) < 0.001);
  t.true(Math.abs(std('h0.out.w') - residual) < 0.001);
  t.is(std('h0.qkv.b'), 0);
  t.is(std('lnf.bias'), 0);
  t.deepEqual(Array.from(new Set(views['tf.h1.ln2.gain']!.dataSync())), [1]);
  t.deepEqual(views['tf.h0.qkv.w']!.shape, [2, 32, 96]);
  t.deepEqual(views['tf.h0.qkv.b']!.shape, [2, 1, 96]);
  t.deepEqual(views['tf.h0.fc.w']!.shape, [2, 32, 128]);
  t.deepEqual(views['tf.pos']!.shape, [2, 16, 32]);
  const perLayer = 12 * 32 * 32 + 13 * 32; // qkv, proj, fc, out and two LayerNorms
  t.is(a.size, 2 * (16 * 32 + 3 * perLayer + 2 * 32));
});

test('without position embeddings the block has no pos piece and is equivariant to shifting the sequence', (t) => {
  const { params, block } = build({ positionEmbeddings: false }, 2);
  t.false(params.pieces.some((p) => p.name === 'tf.pos'));
  // With no positions, a prefix's outputs do not depend on where the sequence is cut.
  const x = tf.randomNormal([1, 1, 5, 8], 0, 1, 'float32', 41);
  const full = block.apply(params.views(), x);
  const prefix = block.apply(params.views(), tf.slice(x, [0, 0, 0, 0], [1, 1, 3, 8]));
  t.true(maxAbs(tf.slice(full, [0, 0, 0, 0], [1, 1, 3, 8]).dataSync(), prefix.dataSync()) < 1e-5);
});

test('it learns a copy task: next-token loss falls well below chance within 300 Adam steps', (t) => {
  // Sequences of 8 tokens from 6 symbols whose second half repeats the first; the loss is scored
  // on the 4 predictions of the second half, which need attention 3 positions back.
  const vocabulary = 6;
  const steps = 8;
  const batch = 32;
  const rng = new Rng(2024);
  const params = new ParameterSet('lm');
  const embed = new Mlp(
    params,
    {
      name: 'lm.embed',
      inputSize: vocabulary,
      hiddenSizes: [],
      outputSize: 32,
      activation: 'relu',
      init: 'fan-in-uniform',
    },
    rng,
  );
  const block = new Transformer(
    params,
    { name: 'lm', modelSize: 32, heads: 2, layers: 2, contextLength: steps },
    rng,
  );
  const head = new Mlp(
    params,
    {
      name: 'lm.head',
      inputSize: 32,
      hiddenSizes: [],
      outputSize: vocabulary,
      activation: 'relu',
      init: 'fan-in-uniform',
    },
    rng,
  );
  params.build();
  const optimizer = new Adam(params, { learningRate: 3e-3 });
  const makeBatch = (): { inputs: tf.Tensor; targets: tf.Tensor } => {
    const inputs = new Float32Array(batch * steps * vocabulary);
    const targets = new Float32Array(batch * steps * vocabulary);
    for (let s = 0; s < batch; s++) {
      const half = Array.from({ length: steps / 2 }, () => rng.integer(vocabulary));
      const tokens = [...half, ...half];
      tokens.forEach((token, p) => {
        inputs[(s * steps + p) * vocabulary + token] = 1;
        // Position p predicts token p + 1; score the second half's predictions only.
        if (p >= steps / 2 - 1 && p + 1 < steps)
          targets[(s * steps + p) * vocabulary + tokens[p + 1]!] = 1;
      });
    }
    return {
      inputs: tf.tensor3d(inputs, [1, batch * steps, vocabulary]),
      targets: tf.tensor3d(targets, [1, batch * steps, vocabulary]),
    };
  };
  const scored = batch * (steps / 2);
  const lossOf = (p: ParameterTensors, inputs: tf.Tensor, targets: tf.Tensor): tf.Scalar => {
    const x = tf.reshape(embed.apply(p, inputs), [1, batch, steps, 32]);
    const h = tf.reshape(block.apply(p, x), [1, batch * steps, 32]);
    const logits = head.apply(p, h, { inputGradient: true });
    return tf.div(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))), scored);
  };
  const losses: number[] = [];
  for (let i = 0; i < 300; i++) {
    const { inputs, targets } = makeBatch();
    const { value, grad } = params.valueAndGrad((p) => lossOf(p, inputs, targets));
    optimizer.stepWithoutNorm(grad);
    losses.push(value.dataSync()[0]!);
    tf.dispose([value, grad, inputs, targets]);
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  t.log(
    `copy-task loss ${first.toFixed(3)} -> ${last.toFixed(3)} (chance ${Math.log(vocabulary).toFixed(3)})`,
  );
  t.true(first > 0.9 * Math.log(vocabulary));
  t.true(last < 0.3, `final loss ${last}`);
});

test('bad options throw InvalidOptionError naming the option and the value', (t) => {
  const make = (options: Partial<TransformerOptions> & Record<string, unknown>): Transformer =>
    new Transformer(new ParameterSet('x'), { ...SMALL, name: 'lm', ...options }, new Rng(0));
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { modelSize: 30, heads: 4 },
      /Invalid option lm\.heads: expected a divisor of modelSize \(30\), received 4/,
    ],
    [{ layers: 0 }, /lm\.layers: expected an integer >= 1, received 0/],
    [{ modelSize: 2.5 }, /lm\.modelSize: expected an integer >= 1, received 2\.5/],
    [
      { contextLength: undefined },
      /lm\.contextLength: expected an integer >= 1, received undefined/,
    ],
    [{ mlpSize: -3 }, /lm\.mlpSize: .*received -3/],
    [{ ensemble: 0 }, /lm\.ensemble: .*received 0/],
    [{ activation: 'swish' }, /lm\.activation: expected one of "gelu", "relu", received "swish"/],
    [
      { positionEmbeddings: 'yes' },
      /lm\.positionEmbeddings: expected true or false, received "yes"/,
    ],
    [{ dropout: 0.1 }, /lm\.dropout: .*received 0\.1/],
    [{ name: '' }, /Transformer\.name: expected a non-empty string, received ""/],
  ];
  for (const [options, message] of cases)
    t.throws(() => make(options), { instanceOf: InvalidOptionError, message });
});

test('an input of the wrong shape throws InvalidValueError with the shape received and expected', (t) => {
  const { params, block } = build({ ensemble: 2 });
  for (const shape of [
    [2, 4, 8],
    [3, 4, 5, 8],
    [2, 4, 6, 8],
    [2, 4, 5, 7],
  ]) {
    t.throws(() => block.apply(params.views(), tf.zeros(shape)), {
      instanceOf: InvalidValueError,
      message: new RegExp(
        `input of transformer "tf": expected embeddings \\[1 or 2, batch, T ≤ 5, 8\\], received a tensor of shape \\[${shape.join(', ')}\\]`,
      ),
    });
  }
});

// ---- incremental decoding -------------------------------------------------------------------------

for (const activation of ['gelu', 'relu'] as const) {
  test(`${activation}: decoding position by position, or in chunks, gives the hidden states of one full pass`, (t) => {
    const { params, block } = build({ ensemble: 2, activation }, 13);
    // Weights far from their initial scale, so that attention mixes positions strongly.
    params.write(tf.randomNormal([params.size], 0, 0.4, 'float32', 14).dataSync() as Float32Array);
    const x = tf.randomNormal([1, 3, 5, 8], 0, 1, 'float32', 15);
    const full = block.apply(params.views(), x).arraySync();
    const check = (hidden: tf.Tensor4D, from: number, label: string): void => {
      const got = hidden.arraySync();
      for (let m = 0; m < 2; m++)
        for (let s = 0; s < 3; s++)
          for (let p = 0; p < hidden.shape[2]; p++)
            t.true(
              maxAbs(got[m]![s]![p]!, full[m]![s]![from + p]!) < 1e-5,
              `${label}: member ${m}, sequence ${s}, position ${from + p}`,
            );
    };
    // One position at a time.
    let cache: TransformerCache | undefined;
    for (let p = 0; p < 5; p++) {
      const step = block.decode(params.views(), tf.slice(x, [0, 0, p, 0], [1, 3, 1, 8]), cache);
      check(step.hidden, p, 'one at a time');
      t.is(step.cache.length, p + 1);
      cache?.dispose();
      cache = step.cache;
    }
    cache!.dispose();
    // A prefix of 2, then 3 at once.
    const first = block.decode(params.views(), tf.slice(x, [0, 0, 0, 0], [1, 3, 2, 8]));
    check(first.hidden, 0, 'prefix');
    const rest = block.decode(params.views(), tf.slice(x, [0, 0, 2, 0], [1, 3, 3, 8]), first.cache);
    check(rest.hidden, 2, 'chunk after the prefix');
    t.false(first.cache.disposed, 'decode leaves the cache it extends intact');
    first.cache.dispose();
    rest.cache.dispose();
  });
}

test('a repeated cache continues each sequence in several ways, as full passes over the joined sequences', (t) => {
  const { params, block } = build({}, 17);
  params.write(tf.randomNormal([params.size], 0, 0.4, 'float32', 18).dataSync() as Float32Array);
  const prompts = tf.randomNormal([1, 2, 3, 8], 0, 1, 'float32', 19);
  const continuations = tf.randomNormal([1, 6, 2, 8], 0, 1, 'float32', 20); // 3 per prompt
  const prefill = block.decode(params.views(), prompts);
  const repeated = prefill.cache.repeat(3);
  t.is(repeated.batch, 6);
  const out = block.decode(params.views(), continuations, repeated);
  for (let row = 0; row < 6; row++) {
    const joined = tf.concat(
      [
        tf.slice(prompts, [0, Math.floor(row / 3), 0, 0], [1, 1, 3, 8]),
        tf.slice(continuations, [0, row, 0, 0], [1, 1, 2, 8]),
      ],
      2,
    );
    const full = tf.slice(block.apply(params.views(), joined), [0, 0, 3, 0], [1, 1, 2, 8]);
    const mine = tf.slice(out.hidden, [0, row, 0, 0], [1, 1, 2, 8]);
    t.true(maxAbs(mine.dataSync(), full.dataSync()) < 1e-5, `continuation ${row}`);
  }
  [prefill.cache, repeated, out.cache].forEach((c) => c.dispose());
});

test('a cache owns its tensors: they outlive the tidy that made them and dispose() frees them', (t) => {
  const { params, block } = build({}, 21);
  params.views(); // cached weight views, kept until the weights change
  const before = tf.memory().numTensors;
  let made: TransformerCache | undefined;
  tf.tidy(() => {
    made = block.decode(params.views(), tf.ones([1, 2, 3, 8])).cache;
  });
  const cache = made!;
  t.is(cache.keys.length, 2);
  t.deepEqual(cache.keys[0]!.shape, [2 * 2, 3, 4]);
  t.true(tf.memory().numTensors > before);
  t.notThrows(() => cache.keys[1]!.dataSync());
  cache.dispose();
  cache.dispose();
  t.is(tf.memory().numTensors, before);
});

test('decoding past the context, with a disposed cache or with another batch throws a typed error', (t) => {
  const { params, block } = build({}, 23);
  const full = block.decode(params.views(), tf.zeros([1, 2, 5, 8]));
  t.throws(() => block.decode(params.views(), tf.zeros([1, 2, 1, 8]), full.cache), {
    instanceOf: InvalidValueError,
    message:
      /expected at most 5 positions in all \(the context length\), received 1 new positions after 5 cached ones/,
  });
  const short = block.decode(params.views(), tf.zeros([1, 2, 2, 8]));
  t.throws(() => block.decode(params.views(), tf.zeros([1, 3, 1, 8]), short.cache), {
    instanceOf: InvalidStateError,
    message:
      /batch 2.*received one of .*batch 3|expected a cache of 2 layers, 2 heads, ensemble 1 and batch 3/,
  });
  t.throws(() => block.decode(params.views(), tf.zeros([1, 2, 0, 8])), {
    instanceOf: InvalidValueError,
    message: /T ≥ 1/,
  });
  short.cache.dispose();
  t.throws(() => block.decode(params.views(), tf.zeros([1, 2, 1, 8]), short.cache), {
    instanceOf: InvalidStateError,
    message: /received "a disposed one"/,
  });
  t.throws(() => full.cache.repeat(0), { instanceOf: InvalidOptionError });
  full.cache.dispose();
});

test('finalNorm: false leaves out ln_f: the same blocks then give the hidden states ln_f normalises', (t) => {
  const withNorm = build({}, 4);
  const without = build({ finalNorm: false }, 4);
  t.true(withNorm.params.pieces.some((p) => p.name === 'tf.lnf.gain'));
  t.false(without.params.pieces.some((p) => p.name.includes('.lnf.')));
  // Same draws up to ln_f (it comes last), so the blocks are the same weights.
  t.deepEqual(
    Array.from(without.params.read()),
    Array.from(withNorm.params.read().subarray(0, without.params.size)),
  );
  const x = tf.tensor4d(
    Float32Array.from({ length: 3 * 4 * 8 }, (_, i) => Math.sin(i)),
    [1, 3, 4, 8],
  );
  const raw = without.block.apply(without.params.views(), x);
  const normed = withNorm.block.apply(withNorm.params.views(), x);
  const mean = tf.mean(raw, -1, true);
  const std = tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(raw, mean)), -1, true), 1e-5));
  const expected = tf.div(tf.sub(raw, mean), std);
  t.true(maxAbs(normed.dataSync(), expected.dataSync()) < 1e-4);
  // The un-normalised states are not unit-scaled.
  t.true(maxAbs(raw.dataSync(), expected.dataSync()) > 1e-2);
  tf.dispose([x, raw, normed, mean, std, expected]);
});
