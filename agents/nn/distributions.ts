/**
 * Action distributions, in two halves: tensor functions used inside updates (log-probabilities,
 * entropies, reparameterised samples) and plain-JavaScript samplers used when acting, which draw
 * from the agent's seeded {@link Rng} so a run is reproducible and its generator can be saved.
 *
 * - Categorical over logits, with action masks (masked logits set to {@link MASKED_LOGIT}).
 * - Diagonal Gaussian with a state-independent log-std (PPO, continuous actions).
 * - Tanh-squashed Gaussian with the change-of-variables correction (SAC).
 */
import type { Rng } from '../../envs/core/rng.js';
import { tf } from './backend.js';

/** The logit given to masked-out actions (CleanRL's invalid-action masking uses -1e8). */
export const MASKED_LOGIT = -1e8;

const LOG_2PI = Math.log(2 * Math.PI);
const LOG_2 = Math.log(2);

// ---------------------------------------------------------------------------------------------
// Categorical

/** Logits with masked-out actions (`mask` 0) replaced by {@link MASKED_LOGIT}; `mask` is a float 0/1 tensor of the logits' shape. */
export function maskLogits(logits: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor {
  if (mask === undefined) return logits;
  return tf.where(tf.cast(mask, 'bool'), logits, tf.fill(logits.shape, MASKED_LOGIT));
}

/** Log-probabilities of all actions: `log_softmax(logits)` over the last axis. */
export function categoricalLogProbs(logits: tf.Tensor): tf.Tensor {
  return tf.logSoftmax(logits);
}

/** Log-probability of the actions given as one-hot rows (`[B, n]`), from `categoricalLogProbs`. */
export function categoricalLogProb(logProbs: tf.Tensor, actionsOneHot: tf.Tensor): tf.Tensor1D {
  return tf.sum<tf.Tensor1D>(tf.mul(logProbs, actionsOneHot), -1);
}

/** Entropy `−Σ p·log p` per row; masked actions (p = 0) contribute 0. */
export function categoricalEntropy(logProbs: tf.Tensor): tf.Tensor1D {
  return tf.neg(tf.sum<tf.Tensor1D>(tf.mul(tf.exp(logProbs), logProbs), -1));
}

/** Softmax of one row of logits in JavaScript (float64), masked actions at probability 0. */
export function softmaxRow(
  logits: ArrayLike<number>,
  offset: number,
  n: number,
  mask?: Uint8Array,
): Float64Array {
  const p = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++)
    if (mask === undefined || mask[i] === 1) max = Math.max(max, logits[offset + i]!);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = mask === undefined || mask[i] === 1 ? Math.exp(logits[offset + i]! - max) : 0;
    p[i] = e;
    total += e;
  }
  for (let i = 0; i < n; i++) p[i] = p[i]! / total;
  return p;
}

/** Draws an index from probabilities `p` (summing to 1) with `rng` (inverse CDF). */
export function sampleCategorical(p: Float64Array, rng: Rng): number {
  const u = rng.random();
  let c = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! <= 0) continue;
    c += p[i]!;
    last = i;
    if (u < c) return i;
  }
  return last; // rounding: u above the float sum of p
}

/** The most probable allowed action of one row (ties: the first). */
export function argmaxRow(
  values: ArrayLike<number>,
  offset: number,
  n: number,
  mask?: Uint8Array,
): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] !== 1) continue;
    const v = values[offset + i]!;
    if (best < 0 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best < 0 ? 0 : best;
}

// ---------------------------------------------------------------------------------------------
// Diagonal Gaussian

/** Log-density of `x` under N(mean, exp(logStd)²), summed over the last axis. */
export function gaussianLogProb(x: tf.Tensor, mean: tf.Tensor, logStd: tf.Tensor): tf.Tensor1D {
  const z = tf.mul(tf.sub(x, mean), tf.exp(tf.neg(logStd)));
  const perDim = tf.sub(tf.mul(tf.square(z), -0.5), tf.add(logStd, 0.5 * LOG_2PI));
  return tf.sum<tf.Tensor1D>(perDim, -1);
}

/** Entropy of N(·, exp(logStd)²) summed over dimensions: Σ (½ + ½ log 2π + log σ). */
export function gaussianEntropy(logStd: tf.Tensor): tf.Scalar {
  return tf.sum<tf.Scalar>(tf.add(logStd, 0.5 + 0.5 * LOG_2PI));
}

// ---------------------------------------------------------------------------------------------
// Tanh-squashed Gaussian

/**
 * A reparameterised sample `a = tanh(u)`, `u = mean + exp(logStd)·noise`, and its log-density:
 * `log N(u) − Σ log(1 − tanh²u)`, with `log(1 − tanh²u) = 2(log 2 − u − softplus(−2u))`
 * (exact and stable, where SB3/CleanRL use `log(1 − a² + 1e-6)`).
 */
export function tanhGaussianSample(
  mean: tf.Tensor,
  logStd: tf.Tensor,
  noise: tf.Tensor,
): { action: tf.Tensor; logProb: tf.Tensor1D } {
  const std = tf.exp(logStd);
  const u = tf.add(mean, tf.mul(std, noise));
  const action = tf.tanh(u);
  // log N(u; mean, std) per dim with z = noise: −½ noise² − log σ − ½ log 2π
  const gaussian = tf.sub(tf.mul(tf.square(noise), -0.5), tf.add(logStd, 0.5 * LOG_2PI));
  const logDetJacobian = tf.mul(tf.sub(tf.sub(LOG_2, u), tf.softplus(tf.mul(u, -2))), 2);
  const logProb = tf.sum<tf.Tensor1D>(tf.sub(gaussian, logDetJacobian), -1);
  return { action, logProb };
}

/** Log-density of squashed actions `a = tanh(u)` given the pre-squash `u` (for tests and analysis). */
export function tanhGaussianLogProb(u: tf.Tensor, mean: tf.Tensor, logStd: tf.Tensor): tf.Tensor1D {
  const logDetJacobian = tf.mul(tf.sub(tf.sub(LOG_2, u), tf.softplus(tf.mul(u, -2))), 2);
  return tf.sub<tf.Tensor1D>(gaussianLogProb(u, mean, logStd), tf.sum(logDetJacobian, -1));
}
