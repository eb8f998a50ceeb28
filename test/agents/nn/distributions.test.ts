import test from 'ava';
import { tf, initBackend } from '../../../agents/nn/backend.js';
import {
  MASKED_LOGIT,
  argmaxRow,
  categoricalEntropy,
  categoricalLogProb,
  categoricalLogProbs,
  gaussianEntropy,
  gaussianLogProb,
  maskLogits,
  sampleCategorical,
  softmaxRow,
  tanhGaussianLogProb,
  tanhGaussianSample,
} from '../../../agents/nn/distributions.js';
import { Rng } from '../../../envs/core/rng.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const close = (a: number, b: number, tol = 1e-5): boolean =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('categorical log-probabilities and entropy match the closed forms, masked actions excluded', (t) => {
  const logits = [0.3, -1.2, 2.0, 0.0];
  const mask = [1, 0, 1, 1];
  const [lp, lpm, entropy, entropyMasked] = tf.tidy(() => {
    const l = tf.tensor2d([logits]);
    const all = categoricalLogProbs(l);
    const masked = categoricalLogProbs(maskLogits(l, tf.tensor2d([mask])));
    return [
      all.dataSync(),
      masked.dataSync(),
      categoricalEntropy(all).dataSync()[0]!,
      categoricalEntropy(masked).dataSync()[0]!,
    ];
  });
  const z = logits.reduce((s, x) => s + Math.exp(x), 0);
  const p = logits.map((x) => Math.exp(x) / z);
  p.forEach((pi, i) => t.true(close(lp[i]!, Math.log(pi)), `log p[${i}]`));
  t.true(close(entropy, -p.reduce((s, pi) => s + pi * Math.log(pi), 0)));
  const zm = logits.reduce((s, x, i) => s + (mask[i] ? Math.exp(x) : 0), 0);
  const pm = logits.map((x, i) => (mask[i] ? Math.exp(x) / zm : 0));
  pm.forEach((pi, i) =>
    mask[i] ? t.true(close(lpm[i]!, Math.log(pi)), `masked log p[${i}]`) : t.true(lpm[i]! < -1e7),
  );
  t.true(close(entropyMasked, -pm.reduce((s, pi) => s + (pi > 0 ? pi * Math.log(pi) : 0), 0)));
  const picked = tf.tidy(
    () =>
      categoricalLogProb(
        categoricalLogProbs(tf.tensor2d([logits])),
        tf.tensor2d([[0, 0, 1, 0]]),
      ).dataSync()[0]!,
  );
  t.true(close(picked, Math.log(p[2]!)));
});

test('the JavaScript sampler draws in proportion to the probabilities and never a masked action', (t) => {
  const logits = Float32Array.of(0, Math.log(3), 5, Math.log(6));
  const mask = Uint8Array.of(1, 1, 0, 1);
  const p = softmaxRow(logits, 0, 4, mask);
  t.deepEqual(
    Array.from(p, (x) => Math.round(x * 10)),
    [1, 3, 0, 6],
  );
  const counts = [0, 0, 0, 0];
  const rng = new Rng(11);
  for (let i = 0; i < 20_000; i++) counts[sampleCategorical(p, rng)]!++;
  t.is(counts[2], 0);
  t.true(Math.abs(counts[3]! / 20_000 - 0.6) < 0.015);
  t.true(Math.abs(counts[0]! / 20_000 - 0.1) < 0.01);
  t.is(argmaxRow(logits, 0, 4, mask), 3);
  t.is(argmaxRow(logits, 0, 4), 2);
  t.is(MASKED_LOGIT, -1e8);
});

test('diagonal Gaussian log-density and entropy match the closed forms', (t) => {
  const x = [0.5, -1.0];
  const mean = [0.1, 0.3];
  const logStd = [-0.2, 0.4];
  const [lp, h] = tf.tidy(() => [
    gaussianLogProb(tf.tensor2d([x]), tf.tensor2d([mean]), tf.tensor1d(logStd)).dataSync()[0]!,
    gaussianEntropy(tf.tensor1d(logStd)).dataSync()[0]!,
  ]);
  let expected = 0;
  let entropy = 0;
  for (let i = 0; i < 2; i++) {
    const s = Math.exp(logStd[i]!);
    expected +=
      -((x[i]! - mean[i]!) ** 2) / (2 * s * s) - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    entropy += 0.5 + 0.5 * Math.log(2 * Math.PI) + logStd[i]!;
  }
  t.true(close(lp, expected));
  t.true(close(h, entropy));
});

test('the tanh correction equals the change of variables measured by finite differences', (t) => {
  const us = [-3.1, -0.7, 0, 0.4, 2.5];
  const mean = 0.2;
  const logStd = -0.3;
  const values = tf.tidy(() =>
    tanhGaussianLogProb(
      tf.tensor2d(us, [5, 1]),
      tf.fill([5, 1], mean),
      tf.tensor1d([logStd]),
    ).dataSync(),
  );
  us.forEach((u, i) => {
    const h = 1e-5;
    const jacobian = (Math.tanh(u + h) - Math.tanh(u - h)) / (2 * h); // da/du
    const s = Math.exp(logStd);
    const gaussian = -((u - mean) ** 2) / (2 * s * s) - logStd - 0.5 * Math.log(2 * Math.PI);
    const expected = gaussian - Math.log(jacobian); // log p_a(tanh u) = log p_u(u) − log |da/du|
    t.true(Math.abs(values[i]! - expected) < 2e-4, `u=${u}: ${values[i]} vs ${expected}`);
  });
});

test('a reparameterised tanh-Gaussian sample is tanh(mean + std·noise) with the matching log-density', (t) => {
  const [a, lp, lpDirect] = tf.tidy(() => {
    const mean = tf.tensor2d([[0.3, -0.5]]);
    const logStd = tf.tensor2d([[-1, 0.2]]);
    const noise = tf.tensor2d([[0.7, -1.3]]);
    const sample = tanhGaussianSample(mean, logStd, noise);
    const u = tf.add(mean, tf.mul(tf.exp(logStd), noise));
    return [
      sample.action.dataSync(),
      sample.logProb.dataSync()[0]!,
      tanhGaussianLogProb(u, mean, logStd).dataSync()[0]!,
    ];
  });
  t.true(close(a[0]!, Math.tanh(0.3 + Math.exp(-1) * 0.7)));
  t.true(close(a[1]!, Math.tanh(-0.5 + Math.exp(0.2) * -1.3)));
  t.true(close(lp, lpDirect, 1e-4));
});
