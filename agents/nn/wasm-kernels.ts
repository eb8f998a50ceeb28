/**
 * wmgym's own wasm kernels (source: ./kernels.wat), instantiated on the tfjs wasm backend's memory
 * so they read and write tensors in place, for the products XNNPACK handles badly through tfjs:
 * every XNNPACK product first packs its right operand, and a transposed operand is first copied by
 * tfjs's `Transpose` kernel (about 2 ns per value). Measured on a 256x256 matrix (2 cores): the
 * transpose here takes ~33 µs instead of ~145; a weight gradient `xᵀ·dy` of an input layer
 * (4 x 256) ~34 µs instead of ~370, of an output layer (256 x 1) ~8 µs instead of ~370.
 *
 * The products are bit-identical to XNNPACK's on the transposed operand (the same float32 operations
 * in the same order: see kernels.wat).
 */
import { KERNELS_SHARED_MEMORY, KERNELS_UNSHARED_MEMORY } from './kernels-binary.js';

/** The kernels, on byte offsets into the backend's memory. */
export interface WasmKernels {
  /** `batch` float32 matrices `rows` x `cols` at `src` transposed into `dst`. */
  transpose(src: number, dst: number, batch: number, rows: number, cols: number): void;
  /** `C = Aᵀ·D`: A `k` x `m` at `a`, D `k` x `n` at `d`, C `m` x `n` at `c` (float32). */
  atb(a: number, d: number, c: number, k: number, m: number, n: number): void;
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
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** `globalThis.WebAssembly`, typed. */
export const WASM = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
/** A `WebAssembly.Memory`. */
export type WasmMemory = InstanceType<WebAssemblyApi['Memory']>;

const instances = new WeakMap<WasmMemory, WasmKernels>();

/**
 * The kernels on `memory` (a `WebAssembly.Memory`; one instance per memory), or undefined when it
 * is not one or this engine cannot instantiate them (no SIMD, say): callers then keep tfjs's kernels.
 */
export function wasmKernels(memory: unknown): WasmKernels | undefined {
  if (!(memory instanceof WASM.Memory)) return undefined;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const bytes = Buffer.from(shared ? KERNELS_SHARED_MEMORY : KERNELS_UNSHARED_MEMORY, 'base64');
    const instance = new WASM.Instance(new WASM.Module(bytes), { env: { memory } });
    const kernels = instance.exports as unknown as WasmKernels;
    instances.set(memory, kernels);
    return kernels;
  } catch {
    return undefined;
  }
}
