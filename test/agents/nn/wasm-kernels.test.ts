import { readFileSync } from 'node:fs';
import test from 'ava';
import { tf, initBackend } from '../../../agents/nn/backend.js';
import { wasmKernels } from '../../../agents/nn/wasm-kernels.js';
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
