import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  FUSED_RELU_GRAD,
  fusedKernelsAvailable,
  initBackend,
  installKernelFixes,
  removeKernelFixes,
  sumMiddleAxis,
  tf,
} from '../../../agents/nn/backend.js';
import { WASM, wasmKernels } from '../../../agents/nn/wasm-kernels.js';
import { KERNELS_OUTPUT, kernelsModuleText } from '../../../scripts/build-kernels.js';

test.before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

interface WasmBackendView {
  wasm: { wasmMemory?: unknown; asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

const backend = (): WasmBackendView => tf.backend() as unknown as WasmBackendView;
const offset = (x: tf.Tensor): number => backend().dataIdMap.get(x.dataId).memoryOffset;

test('the embedded kernels are kernels.wat as it is (npm run build:kernels is up to date)', async (t) => {
  const committed = readFileSync(KERNELS_OUTPUT, 'utf8');
  t.is(committed, await kernelsModuleText());
});

test.serial(
  'the kernels load on the backend memory, and the transpose kernel matches tfjs exactly',
  (t) => {
    const kernels = wasmKernels(backend().wasm.wasmMemory ?? backend().wasm.asm?.memory);
    if (kernels === undefined) return t.fail('the kernels did not load on the wasm backend');
    for (const [batch, rows, cols] of [
      [1, 1, 1],
      [1, 7, 1],
      [3, 37, 19],
      [2, 8, 16],
      [1, 256, 3],
    ] as const) {
      const x = tf.randomNormal([batch, rows, cols], 0, 1, 'float32', rows * cols);
      const out = tf.zeros([batch, cols, rows]);
      kernels.transpose(offset(x), offset(out), batch, rows, cols);
      const expected = tf.transpose(x, [0, 2, 1]);
      t.deepEqual(out.dataSync(), expected.dataSync(), `${batch}x${rows}x${cols}`);
      tf.dispose([x, out, expected]);
    }
  },
);

test('anything but a WebAssembly.Memory gets no kernels (callers keep the stock ones)', (t) => {
  t.is(wasmKernels(undefined), undefined);
  t.is(wasmKernels({ buffer: new ArrayBuffer(8) }), undefined);
});

test('the column-sum kernel reproduces the JavaScript sum it replaces bit for bit', (t) => {
  const memory = new WASM.Memory({ initial: 8, maximum: 8, shared: true });
  const kernels = wasmKernels(memory);
  if (kernels === undefined) return t.fail('the kernels did not load on a shared memory');
  const heap = new Float32Array(memory.buffer);
  // [outer, reduce, inner]: rows in fours and left over, odd and even widths, one row, one column.
  for (const [outer, reduce, inner] of [
    [1, 256, 256],
    [2, 7, 5],
    [3, 1, 9],
    [1, 13, 1],
    [2, 4, 2],
  ] as const) {
    const size = outer * reduce * inner;
    // Values of very different sizes, so float64 and float32 partial sums would round differently.
    for (let i = 0; i < size; i++) heap[i] = Math.fround(Math.sin(i * 7.3) * 10 ** ((i % 9) - 4));
    const out = size;
    kernels.colsum(0, out * 4, outer, reduce, inner);
    const got = heap.slice(out, out + outer * inner);
    const reference = new Float32Array(size + outer * inner);
    reference.set(heap.subarray(0, size));
    sumMiddleAxis(reference, 0, size, outer, reduce, inner);
    const expected = reference.subarray(size);
    t.true(
      got.every((v, i) => Object.is(v, expected[i])),
      `${outer}x${reduce}x${inner}`,
    );
    // And a naive float32 loop would have differed somewhere (the test sees the rounding).
    if (reduce === 256) {
      let differs = false;
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let r = 0; r < reduce; r++) acc = Math.fround(acc + heap[r * inner + i]!);
        differs ||= !Object.is(acc, got[i]);
      }
      t.true(differs, 'float64 partial sums are not float32 sums');
    }
  }
});

test.serial(
  'the relu-gradient kernel equals dy · step(y) of the stock kernels, special values included',
  (t) => {
    const special = [0, -0, 1, -1, 1e-40, -1e-40, NaN, Infinity, -Infinity, 3.5];
    const y = tf.tensor1d(special.flatMap((a) => special.map(() => a)).concat([2, -2, 0.5]));
    const dy = tf.tensor1d(special.flatMap(() => special).concat([-1, 1, 7]));
    const fused = (): Float32Array =>
      tf.tidy(
        () =>
          tf.engine().runKernel<tf.Tensor>(FUSED_RELU_GRAD, { dy, y }).dataSync() as Float32Array,
      );
    t.true(fusedKernelsAvailable());
    const got = fused();
    removeKernelFixes();
    const expected = tf.tidy(() => tf.mul(dy, tf.step(y)).dataSync() as Float32Array);
    installKernelFixes();
    t.is(got.length, expected.length);
    t.true(got.every((v, i) => Object.is(v, expected[i])));
    const short = tf.zeros([3]);
    t.throws(() => tf.engine().runKernel<tf.Tensor>(FUSED_RELU_GRAD, { dy, y: short }), {
      message: /WmgymReluGrad input y/,
    });
    tf.dispose([y, dy, short]);
  },
);
