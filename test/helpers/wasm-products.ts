/**
 * Prints the SHA-256 of the float32 bytes of a few seeded products computed on the wasm backend with the
 * thread count of `WMGYM_THREADS` (the rows of each product shared among that many threads): a fused dense layer and both gradients of its backward pass.
 * test/agents/nn/backend.test.ts runs it under two thread counts and compares the bytes.
 */
import { createHash } from 'node:crypto';
import { backendInfo, gemmHelpersReady, initBackend, tf } from '../../agents/nn/backend.js';
import { dense } from '../../agents/nn/mlp.js';

await initBackend({ backend: 'wasm', quiet: true });
// Products split across threads only once the helpers run: wait for them, so both modes are tested.
const helpers = await gemmHelpersReady();
const x = tf.randomNormal([1, 256, 256], 0, 1, 'float32', 31);
const w = tf.randomNormal([1, 256, 256], 0, 1, 'float32', 32);
const b = tf.randomNormal([256], 0, 1, 'float32', 33);
const forward = dense(x, w, b, 'relu', true);
const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(dense(xi, wi, b, 'relu', true)))([
  x,
  w,
]);
const bytes = (t: tf.Tensor): string =>
  createHash('sha256')
    .update(new Uint8Array((t.dataSync() as Float32Array).buffer))
    .digest('hex');
process.stdout.write(
  JSON.stringify({
    threads: backendInfo()?.threads,
    helpers,
    results: [forward, ...grads].map(bytes),
  }),
);
