import test from 'ava';
import { tf, initBackend } from '../../../agents/nn/backend.js';
import { Mlp, dense } from '../../../agents/nn/mlp.js';
import { ParameterSet } from '../../../agents/nn/params.js';
import { Rng } from '../../../envs/core/rng.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const activation of ['relu', 'tanh', 'linear'] as const) {
  for (const ensemble of [1, 2]) {
    test(`a ${activation} dense layer (ensemble ${ensemble}) has the gradients of the same layer built from plain ops`, (t) => {
      const x = tf.randomNormal([1, 7, 5], 0, 1, 'float32', 1);
      const w = tf.randomNormal([ensemble, 5, 4], 0, 1, 'float32', 2);
      const b =
        ensemble === 1
          ? tf.randomNormal([4], 0, 1, 'float32', 3)
          : tf.randomNormal([ensemble, 1, 4], 0, 1, 'float32', 3);
      const weights = tf.randomNormal([ensemble, 7, 4], 0, 1, 'float32', 4);
      const ours = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(tf.mul(dense(xi, wi, bi, activation, true), weights)),
      )([x, w, b]);
      const plain = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
        const z = tf.add(tf.matMul(tf.tile(xi, [ensemble, 1, 1]), wi), bi);
        const y = activation === 'relu' ? tf.relu(z) : activation === 'tanh' ? tf.tanh(z) : z;
        return tf.sum(tf.mul(y, weights));
      })([x, w, b]);
      ours.forEach((g, i) => {
        t.deepEqual(g.shape, plain[i]!.shape);
        t.true(maxAbs(g.dataSync(), plain[i]!.dataSync()) < 1e-4, `gradient ${i}`);
      });
    });
  }
}

test('a layer without input or weight gradients returns zeros for them', (t) => {
  const x = tf.randomNormal([1, 3, 2], 0, 1, 'float32', 5);
  const w = tf.randomNormal([1, 2, 2], 0, 1, 'float32', 6);
  const b = tf.zeros([2]);
  const [dx, dw, db] = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
    tf.sum(dense(xi, wi, bi, 'linear', false, false)),
  )([x, w, b]);
  t.deepEqual(Array.from(dx!.dataSync()), new Array(6).fill(0));
  t.deepEqual(Array.from(dw!.dataSync()), new Array(4).fill(0));
  t.deepEqual(Array.from(db!.dataSync()), [0, 0]);
});

test('an MLP on a flat parameter set matches a hand-written forward pass', (t) => {
  const params = new ParameterSet('net');
  const mlp = new Mlp(
    params,
    {
      name: 'net',
      inputSize: 3,
      hiddenSizes: [4],
      outputSize: 2,
      activation: 'tanh',
      init: 'orthogonal',
    },
    new Rng(1),
  );
  params.build();
  const p = params.unpack();
  const x = [0.5, -1, 2];
  const out = tf.tidy(() => mlp.apply(p, tf.tensor2d([x])).dataSync());
  const [w0, b0, w1, b1] = ['net.w0', 'net.b0', 'net.w1', 'net.b1'].map((k) => p[k]!.dataSync());
  const h = [0, 1, 2, 3].map((j) =>
    Math.tanh(x.reduce((s, xi, i) => s + xi * w0![i * 4 + j]!, 0) + b0![j]!),
  );
  const y = [0, 1].map((k) => h.reduce((s, hj, j) => s + hj * w1![j * 2 + k]!, 0) + b1![k]!);
  t.true(maxAbs(out, y) < 1e-5);
  t.is(params.size, 3 * 4 + 4 + 4 * 2 + 2);
  t.deepEqual(
    params.pieces.map((piece) => piece.name),
    ['net.w0', 'net.b0', 'net.w1', 'net.b1'],
  );
});
