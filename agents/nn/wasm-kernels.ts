/**
 * wmgym's own wasm kernels (source: ./kernels.wat), instantiated on the tfjs wasm backend's memory
 * so they read and write tensors in place: `gemm` (a product read straight from both operands,
 * where XNNPACK first packs the right one on one thread: 256x256x256 with bias and relu ~850 µs on
 * one thread, against XNNPACK's ~700 µs on two with the operand already packed and ~900 µs with a
 * new one), `atb` (products with few rows, columns or terms), `transpose` (~33 µs for 256x256
 * against ~145 for tfjs's `Transpose`), `colsum` (bias gradients), `reluGrad` and `adam` (one pass
 * each instead of several elementwise kernels). Measured on this machine (2 cores).
 *
 * The products are bit-identical to XNNPACK's, the others to the kernels or code they replace (the
 * same float32 operations in the same order: see kernels.wat).
 */
import { KERNELS_SHARED_MEMORY, KERNELS_UNSHARED_MEMORY } from './kernels-binary.js';

/** The kernels, on byte offsets into the backend's memory. */
export interface WasmKernels {
  /** `batch` float32 matrices `rows` x `cols` at `src` transposed into `dst`. */
  transpose(src: number, dst: number, batch: number, rows: number, cols: number): void;
  /**
   * `C = A·B (+ bias) (relu)` for rows `row0` to `row1` of C: A `m` x `k` at `a`, B `k` x `n` at
   * `b`, C `m` x `n` at `c` (float32, row-major, unpacked); `bias`: `n` values when `hasBias` is 1;
   * `relu` 1 clamps C at 0. Bit-identical to XNNPACK's fused product (see kernels.wat).
   */
  gemm(
    a: number,
    b: number,
    c: number,
    k: number,
    n: number,
    row0: number,
    row1: number,
    bias: number,
    hasBias: number,
    relu: number,
  ): void;
  /**
   * `C = Aᵀ·D (+ bias) (relu)`: A `k` x `m` at `a`, D `k` x `n` at `d`, C `m` x `n` at `c`
   * (float32); `biasMode` 0: no bias, 1: `n` values at `bias` added to every row, 2: `m` values,
   * one per row; `relu` 1 clamps C at 0 (see kernels.wat).
   */
  atb(
    a: number,
    d: number,
    c: number,
    k: number,
    m: number,
    n: number,
    bias: number,
    biasMode: number,
    relu: number,
  ): void;
  /**
   * Sums `outer` x `reduce` x `inner` float32 values at `src` over the middle axis into `dst`
   * (`outer` x `inner`), exactly as `sumMiddleAxis` of agents/nn/backend.ts.
   */
  colsum(src: number, dst: number, outer: number, reduce: number, inner: number): void;
  /** `out = dy · step(y)` on `n` float32 values (the gradient through a relu; see kernels.wat). */
  reluGrad(dy: number, y: number, out: number, n: number): void;
  /** One Adam step on `n` values: reads p, m, v, g; writes p', m', v' (see kernels.wat). */
  adam(
    p: number,
    m: number,
    v: number,
    g: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    denomScale: number,
    stepSize: number,
    epsilon: number,
  ): void;
}

/** The parts of the WebAssembly JavaScript API used here (its types live in lib.dom, not loaded here). */
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => {
    readonly buffer: ArrayBufferLike;
  };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** `globalThis.WebAssembly`, typed. */
export const WASM = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
/** A `WebAssembly.Memory`. */
export type WasmMemory = InstanceType<WebAssemblyApi['Memory']>;

const instances = new WeakMap<WasmMemory, WasmKernels>();
const modules = new Map<boolean, object>();

/** Whether `memory` is a shared `WebAssembly.Memory` (tfjs's threaded build). */
export function isSharedMemory(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The compiled kernels for a shared or an unshared memory (compiled once; threads share it). */
export function kernelsModule(shared: boolean): object {
  let module = modules.get(shared);
  if (module === undefined) {
    const bytes = Buffer.from(shared ? KERNELS_SHARED_MEMORY : KERNELS_UNSHARED_MEMORY, 'base64');
    module = new WASM.Module(bytes);
    modules.set(shared, module);
  }
  return module;
}

/**
 * The kernels on `memory` (a `WebAssembly.Memory`; one instance per memory), or undefined when it
 * is not one or this engine cannot instantiate them (no SIMD, say): callers then keep tfjs's kernels.
 */
export function wasmKernels(memory: unknown): WasmKernels | undefined {
  if (!(memory instanceof WASM.Memory)) return undefined;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  try {
    const module = kernelsModule(isSharedMemory(memory));
    const instance = new WASM.Instance(module, { env: { memory } });
    const kernels = instance.exports as unknown as WasmKernels;
    instances.set(memory, kernels);
    return kernels;
  } catch {
    return undefined;
  }
}

/** Whether the kernels instantiate in this engine (tried on a small shared memory). */
export function kernelsLoad(): boolean {
  try {
    return wasmKernels(new WASM.Memory({ initial: 1, maximum: 1, shared: true })) !== undefined;
  } catch {
    return false;
  }
}
