/**
 * The tensor backend: `@tensorflow/tfjs-node` when installed, else `@tensorflow/tfjs-backend-wasm`,
 * else the plain cpu backend; `WMGYM_BACKEND` overrides. {@link initBackend} is awaited once before
 * the first tensor op, prints the backend once (stderr) and returns what every run records.
 *
 * On wasm, tfjs 4.22's `BatchMatMul` / `_FusedMatMul` reach XNNPACK only for a single,
 * untransposed pair of matrices; a transposed operand (every backward pass has two) or a batch of
 * matrices falls to a naive loop about 10x slower, and even on the fast path XNNPACK first packs
 * the right operand on one thread (about 4 ns a value), which in training is new almost every time
 * (weights after each optimiser step, `dz` in `xᵀ·dz`). {@link installKernelFixes} re-registers
 * both kernels for 'wasm' so that every float32 product with a linear or relu activation runs on
 * wmgym's own kernels (./kernels.wat): `gemm` reads both operands as they are, its rows shared among
 * the backend's threads (./gemm-threads.ts); a transposed operand is first transposed (kept with a
 * right operand, so a weight used again reuses it); products with little arithmetic (weight
 * gradients of input and output layers, layers with fewer than 16 inputs) run on `atb`. Both are
 * bit-identical to XNNPACK (same float32 operations in the same order), which still runs products
 * with other activations. It also replaces kernels that copy far
 * more than they must: `Slice`/`SplitV` (the stock ones read the WHOLE input back to JavaScript
 * for every slice), `Identity` (a full copy, run for every tensor saved for backprop; tensors are
 * immutable, so it can share the data as the cpu backend does) and `Sum` over leading or middle
 * axes (a bias gradient: the stock kernel transposes first), and adds two fused kernels (Adam, the
 * relu gradient). `WMGYM_STOCK_KERNELS=1` (or `kernelFixes: false`) keeps tfjs's own kernels, to
 * measure "before".
 *
 * On wasm, the matrix products run on `WMGYM_THREADS` threads (default: the available cores, at
 * most 8) on tfjs's threaded SIMD build, which tfjs itself never starts in Node (see
 * ./wasm-threads.ts): wmgym's gemm threads, with XNNPACK's own pool kept at one thread (two pools
 * spinning on the same cores slow each other), or XNNPACK's pool with tfjs's kernels. 1 keeps the
 * single-threaded SIMD build.
 *
 * @example
 * const info = await initBackend(); // { name: 'wasm', kernelFixes: true, simd: true, threads: 2, ... }
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { startThreadedWasm } from './wasm-threads.js';
import { GemmThreads } from './gemm-threads.js';
import {
  isSharedMemory,
  kernelsLoad,
  kernelsModule,
  wasmKernels,
  type WasmKernels,
  type WasmMemory,
} from './wasm-kernels.js';

export { tf };

/** The tensor backends wmgym can run on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What a run records about its tensor backend. */
export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** TensorFlow.js version. */
  tfjsVersion: string;
  /** Whether wmgym's wasm kernels (matmul, slicing, identity) are registered (always false off wasm). */
  kernelFixes: boolean;
  /** Whether the wasm module runs with SIMD (undefined off wasm). */
  simd: boolean | undefined;
  /**
   * Threads of the wasm matrix products, the calling thread included: wmgym's gemm threads (tfjs's
   * XNNPACK pool then keeps one thread), or XNNPACK's pool with tfjs's kernels (undefined off wasm).
   */
  threads: number | undefined;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use. @defaultValue `WMGYM_BACKEND`, else the best installed */
  backend?: BackendName;
  /** Register wmgym's wasm kernels ({@link installKernelFixes}). @defaultValue true unless `WMGYM_STOCK_KERNELS=1` */
  kernelFixes?: boolean;
  /**
   * Threads for wasm matrix products (1 to 8; 1 is the single-threaded build). If the threaded
   * build cannot start, the single-threaded one runs and the backend line says why.
   * @defaultValue `WMGYM_THREADS`, else the available cores (at most 8)
   */
  threads?: number;
  /** Do not print the backend line. @defaultValue false */
  quiet?: boolean;
}

/** Most threads the wasm build can pool (tfjs starts eight pthread workers). */
const MAX_WASM_THREADS = 8;

const BACKEND_ALIASES: Readonly<Record<string, BackendName>> = {
  tensorflow: 'tensorflow',
  node: 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

let pending: Promise<BackendInfo> | undefined;
let current: BackendInfo | undefined;

/**
 * Chooses and initialises the tensor backend, once: later calls return the first call's result.
 *
 * @throws {@link InvalidOptionError} for an unknown `WMGYM_BACKEND` / `backend`, or a backend that
 * cannot start (e.g. `tensorflow` without `@tensorflow/tfjs-node` installed).
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  pending ??= chooseBackend(options).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

/** The backend chosen by {@link initBackend}, or undefined before it resolved. */
export function backendInfo(): BackendInfo | undefined {
  return current === undefined ? undefined : { ...current, kernelFixes: kernelFixesInstalled() };
}

/**
 * The backend a `WMGYM_BACKEND` value (or `backend` option) names: `tensorflow` (alias `node`,
 * `tfjs-node`), `wasm` or `cpu`, any case; empty or undefined means "choose".
 * @throws {@link InvalidOptionError} for anything else.
 */
export function parseBackendName(
  value: string | undefined,
  option = 'WMGYM_BACKEND',
): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  const name = typeof value === 'string' ? BACKEND_ALIASES[value.toLowerCase()] : undefined;
  if (name === undefined)
    throw new InvalidOptionError(option, value, '"tensorflow" (or "node"), "wasm" or "cpu"');
  return name;
}

/**
 * The wasm thread count a `WMGYM_THREADS` value (or `threads` option) names: an integer from 1 to
 * 8; empty or undefined means "the available cores, at most 8".
 * @throws {@link InvalidOptionError} for anything else.
 */
export function parseThreads(value: string | number | undefined, option = 'WMGYM_THREADS'): number {
  if (value === undefined || value === '')
    return Math.min(availableParallelism(), MAX_WASM_THREADS);
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS)
    throw new InvalidOptionError(option, value, `an integer from 1 to ${MAX_WASM_THREADS}`);
  return n;
}

async function chooseBackend(options: InitBackendOptions): Promise<BackendInfo> {
  const requested =
    parseBackendName(options.backend, 'backend') ?? parseBackendName(process.env['WMGYM_BACKEND']);
  const order: BackendName[] =
    requested !== undefined ? [requested] : ['tensorflow', 'wasm', 'cpu'];
  const threads = parseThreads(
    options.threads ?? process.env['WMGYM_THREADS'],
    options.threads === undefined ? 'WMGYM_THREADS' : 'threads',
  );
  const wantFix = options.kernelFixes ?? process.env['WMGYM_STOCK_KERNELS'] !== '1';
  // With wmgym's kernels, products run on wmgym's gemm threads and XNNPACK keeps one thread (two
  // pools spinning on two cores would slow both); with tfjs's kernels, XNNPACK gets the threads.
  const ownPool = wantFix && kernelsLoad();
  const failures: string[] = [];
  for (const name of order) {
    const started = await tryBackend(name, threads, ownPool);
    const problem = started.problem;
    if (problem === undefined) {
      if (name === 'wasm' && wantFix) installKernelFixes();
      current = {
        name,
        tfjsVersion: tf.version.tfjs,
        kernelFixes: kernelFixesInstalled(),
        simd: name === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : undefined,
        threads: started.threads,
      };
      if (options.quiet !== true) {
        const single =
          started.threadProblem === undefined
            ? ''
            : ` (the threaded build did not start: ${started.threadProblem})`;
        const details =
          name === 'wasm'
            ? ` (SIMD ${current.simd ? 'on' : 'off'}, ${String(current.threads)} thread${current.threads === 1 ? '' : 's'}${single}, kernel fixes ${current.kernelFixes ? 'on' : 'off'})`
            : '';
        process.stderr.write(
          `[wmgym] tensor backend: ${name}${details}, tfjs ${current.tfjsVersion}\n`,
        );
      }
      return current;
    }
    failures.push(`${name}: ${problem}`);
  }
  throw new InvalidOptionError(
    requested !== undefined ? 'WMGYM_BACKEND' : 'backend',
    requested ?? 'auto',
    'a backend that starts on this machine',
    failures.join('; '),
  );
}

/** What starting one backend gave. */
interface Started {
  /** Why it cannot start; undefined on success. */
  problem?: string | undefined;
  /** Wasm only: the thread pool size. */
  threads?: number | undefined;
  /** Wasm only: why the threaded build did not start (the single-threaded one did). */
  threadProblem?: string | undefined;
}

/**
 * Starts one backend: wasm with `threads` threads when more than one (on the threaded build, for
 * wmgym's gemm threads when `ownPool`, with XNNPACK's pool at one thread; else XNNPACK's pool).
 */
async function tryBackend(name: BackendName, threads: number, ownPool: boolean): Promise<Started> {
  try {
    if (name === 'tensorflow') {
      const specifier = '@tensorflow/tfjs-node'; // optional dependency: resolved at run time only
      await import(specifier);
      return (await tf.setBackend('tensorflow'))
        ? {}
        : { problem: 'tf.setBackend("tensorflow") failed' };
    }
    if (name === 'wasm') {
      let threadProblem: string | undefined;
      if (threads > 1) {
        const threaded = await startThreadedWasm(ownPool ? 1 : threads);
        if ('threads' in threaded) return { threads: ownPool ? threads : threaded.threads };
        threadProblem = threaded.problem;
      }
      const require = createRequire(import.meta.url);
      setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
      return (await tf.setBackend('wasm'))
        ? { threads: 1, threadProblem }
        : { problem: 'tf.setBackend("wasm") failed' };
    }
    return (await tf.setBackend('cpu')) ? {} : { problem: 'tf.setBackend("cpu") failed' };
  } catch (error) {
    return { problem: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// Kernel counting

/** Kernels dispatched by one call, from `tf.profile`. */
export interface KernelCount {
  /** Total kernels dispatched. */
  total: number;
  /** Kernels per name, most frequent first. */
  byName: Record<string, number>;
}

/** Counts the kernels `f` dispatches (with `tf.profile`); tensors `f` returns are disposed. */
export async function countKernels(f: () => unknown): Promise<KernelCount> {
  const info = await tf.profile(async () => ((await f()) ?? []) as tf.TensorContainer);
  tf.dispose(info.result);
  const counts = new Map<string, number>();
  for (const k of info.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
  const byName = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
  return { total: info.kernels.length, byName };
}

// ---------------------------------------------------------------------------------------------
// The wasm kernel fixes

/** The parts of tfjs's wasm backend the re-registered kernels use. */
interface WasmTensorData {
  memoryOffset: number;
  shape: number[];
}
interface WasmBackendLike {
  wasm: {
    HEAPU8: Uint8Array;
    tfjs: { disposeData(id: number): void };
    /** The module's memory: threaded build. */
    wasmMemory?: unknown;
    /** The module's exports (the memory among them): single-threaded builds. */
    asm?: { memory?: unknown };
  };
  dataIdMap: {
    get(dataId: object): WasmTensorData & { id: number };
    has(dataId: object): boolean;
    delete(dataId: object): void;
  };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}
interface MatMulInputs {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  bias?: tf.TensorInfo | null;
  preluActivationWeights?: tf.TensorInfo | null;
}
interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}
interface KernelArgs {
  inputs: MatMulInputs;
  backend: WasmBackendLike;
  attrs: MatMulAttrs;
}
type StockKernel = (args: {
  inputs: Record<string, tf.TensorInfo | null | undefined>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
}) => tf.TensorInfo;

const REPLACED = ['BatchMatMul', '_FusedMatMul', 'Slice', 'SplitV', 'Identity', 'Sum'] as const;

interface StockKernels {
  configs: tf.KernelConfig[];
  transpose: StockKernel;
}
let stock: StockKernels | undefined;

/** True while wmgym's wasm kernels are registered. */
export function kernelFixesInstalled(): boolean {
  return stock !== undefined;
}

/**
 * Re-registers six wasm kernels (see the module comment): `BatchMatMul` and `_FusedMatMul` so
 * every product reaches XNNPACK or wmgym's wasm kernels (transposed operands transposed first,
 * batched products one matrix at a time, a per-matrix bias `[batch, 1, n]` supported); `Slice` and
 * `SplitV` copying only the
 * slice, straight on the wasm heap; `Identity` sharing the data; `Sum` over leading or middle axes
 * (bias gradients) as one pass over the heap instead of a transpose and a reduction.
 * Returns false (and does nothing) when the wasm backend is not registered or the fixes are
 * already installed.
 */
export function installKernelFixes(): boolean {
  if (stock !== undefined) return false;
  const configs = REPLACED.map((name) => tf.getKernel(name, 'wasm') as tf.KernelConfig | undefined);
  const transpose = tf.getKernel('Transpose', 'wasm') as tf.KernelConfig | undefined;
  if (configs.some((c) => c === undefined) || transpose === undefined) return false;
  const [batchMatMul, fusedMatMul, slice, , , sum] = configs as tf.KernelConfig[];
  stock = {
    configs: configs as tf.KernelConfig[],
    transpose: transpose.kernelFunc as unknown as StockKernel,
  };
  const fused = fusedMatMul!.kernelFunc as unknown as StockKernel;
  const stockSlice = slice!.kernelFunc as unknown as StockKernel;
  for (const name of REPLACED) tf.unregisterKernel(name, 'wasm');
  const register = (kernelName: string, kernelFunc: (args: never) => unknown): void => {
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  };
  register('BatchMatMul', (args: KernelArgs) =>
    fastMatMul(args, fused, batchMatMul!.kernelFunc as unknown as StockKernel),
  );
  register('_FusedMatMul', (args: KernelArgs) => fastMatMul(args, fused, fused));
  register('Slice', (args: SliceArgs) => fastSlice(args, stockSlice));
  register('SplitV', (args: SplitArgs) => fastSplit(args, stockSlice));
  register('Sum', (args: SumArgs) => fastSum(args, sum!.kernelFunc as unknown as StockKernel));
  register(FUSED_ADAM, fusedAdam);
  register(FUSED_RELU_GRAD, fusedReluGrad);
  register('Identity', (args: { inputs: { x: tf.TensorInfo }; backend: WasmBackendLike }) => {
    const { x } = args.inputs;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  return true;
}

/** Puts tfjs's own wasm kernels back (to measure "before", or to compare results). */
export function removeKernelFixes(): void {
  if (stock === undefined) return;
  for (const name of REPLACED) tf.unregisterKernel(name, 'wasm');
  tf.unregisterKernel(FUSED_ADAM, 'wasm');
  tf.unregisterKernel(FUSED_RELU_GRAD, 'wasm');
  for (const config of stock.configs) tf.registerKernel(config);
  stock = undefined;
}

/** Name of wmgym's one-pass Adam kernel ({@link fusedKernelsAvailable}). */
export const FUSED_ADAM = 'WmgymAdam';

/**
 * Name of wmgym's relu-gradient kernel ({@link fusedKernelsAvailable}):
 * `tf.engine().runKernel(FUSED_RELU_GRAD, { dy, y })` is `dy · step(y)` in one pass, bit-identical
 * to `tf.mul(dy, tf.step(y))` (two kernels) for `dy` and `y` of the same shape.
 */
export const FUSED_RELU_GRAD = 'WmgymReluGrad';

/** Constants of one {@link FUSED_ADAM} step, each used as the float32 `tf.scalar` would hold. */
export interface FusedAdamAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  denomScale: number;
  stepSize: number;
  epsilon: number;
}

/**
 * Whether wmgym's fused kernels run here. {@link FUSED_ADAM}:
 * `tf.engine().runKernel(FUSED_ADAM, { p, m, v, g }, attrs)` returns `[p', m', v']` of one Adam
 * step in one pass over the values, bit-identical to the elementwise tfjs ops of
 * agents/nn/optimizer.ts (about ten kernels, each a pass over memory); {@link FUSED_RELU_GRAD}.
 */
export function fusedKernelsAvailable(): boolean {
  if (stock === undefined || tf.getBackend() !== 'wasm') return false;
  return kernelsOf(tf.backend() as unknown as WasmBackendLike) !== undefined;
}

/** Throws unless every input is float32 with `n` values and the kernels run (fused kernels' inputs). */
function checkFusedInputs(
  kernel: string,
  inputs: Record<string, tf.TensorInfo>,
  n: number,
  kernels: WasmKernels | undefined,
): asserts kernels is WasmKernels {
  for (const [name, x] of Object.entries(inputs)) {
    if (kernels === undefined || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) !== n)
      throw new InvalidOptionError(
        `${kernel} input ${name}`,
        `${x.dtype}[${x.shape.join(', ')}]${kernels === undefined ? ' (kernels unavailable)' : ''}`,
        `float32 values as many as the first input (${n}), with fusedKernelsAvailable()`,
      );
  }
}

function fusedReluGrad(args: {
  inputs: { dy: tf.TensorInfo; y: tf.TensorInfo };
  backend: WasmBackendLike;
}): tf.TensorInfo {
  const { inputs, backend } = args;
  const kernels = kernelsOf(backend);
  const n = tf.util.sizeFromShape(inputs.dy.shape);
  checkFusedInputs(FUSED_RELU_GRAD, inputs, n, kernels);
  const at = (x: tf.TensorInfo): number => backend.dataIdMap.get(x.dataId).memoryOffset;
  const out = backend.makeOutput([...inputs.dy.shape], 'float32');
  kernels.reluGrad(at(inputs.dy), at(inputs.y), at(out), n);
  return out;
}

function fusedAdam(args: {
  inputs: { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: FusedAdamAttrs;
}): tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const kernels = kernelsOf(backend);
  const n = tf.util.sizeFromShape(inputs.p.shape);
  checkFusedInputs(FUSED_ADAM, inputs, n, kernels);
  const at = (x: tf.TensorInfo): number => backend.dataIdMap.get(x.dataId).memoryOffset;
  const outs = [0, 1, 2].map(() => backend.makeOutput([...inputs.p.shape], 'float32'));
  const [p, m, v] = outs as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  kernels.adam(
    at(inputs.p),
    at(inputs.m),
    at(inputs.v),
    at(inputs.g),
    at(p),
    at(m),
    at(v),
    n,
    attrs.beta1,
    attrs.oneMinusBeta1,
    attrs.beta2,
    attrs.oneMinusBeta2,
    attrs.denomScale,
    attrs.stepSize,
    attrs.epsilon,
  );
  return outs;
}

interface SliceArgs {
  inputs: { x: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: { begin: number | number[]; size: number | number[] };
}
interface SplitArgs {
  inputs: { x: tf.TensorInfo };
  backend: WasmBackendLike;
  attrs: { numOrSizeSplits: number | number[]; axis: number | number[] };
}

interface SumArgs {
  inputs: { x: tf.TensorInfo };
  backend: WasmBackendLike & { wasm: { HEAPF32: Float32Array } };
  attrs: { axis: number | number[]; keepDims: boolean };
}

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * `Sum` of float32 over a contiguous block of axes that excludes the last one (a bias gradient
 * `Σ_batch dz`), summed in order on the heap; anything else goes to the stock kernel.
 */
function fastSum(args: SumArgs, stockSum: StockKernel): tf.TensorInfo {
  const { x } = args.inputs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  const last = axes[axes.length - 1];
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  if (
    x.dtype !== 'float32' ||
    first === undefined ||
    last === undefined ||
    !contiguous ||
    last === rank - 1
  ) {
    return stockSum(args);
  }
  const outer = x.shape.slice(0, first).reduce((a, b) => a * b, 1);
  const reduce = x.shape.slice(first, last + 1).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(last + 1).reduce((a, b) => a * b, 1);
  const shape = args.attrs.keepDims
    ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : x.shape.filter((_, i) => i < first || i > last);
  const backend = args.backend;
  const out = backend.makeOutput(shape, 'float32');
  const from = backend.dataIdMap.get(x.dataId).memoryOffset;
  const to = backend.dataIdMap.get(out.dataId).memoryOffset;
  const kernels = kernelsOf(backend);
  if (kernels !== undefined) kernels.colsum(from, to, outer, reduce, inner);
  else sumMiddleAxis(backend.wasm.HEAPF32, from / 4, to / 4, outer, reduce, inner);
  return out;
}

/**
 * Sums `outer` x `reduce` x `inner` float32 values at `heap[from]` over the middle axis into
 * `heap[to]`, in order: four rows at a time (a quarter of the loads and stores of the running
 * sum), then the rest. wmgym's `colsum` kernel does exactly this, faster; this is the reference it
 * is tested against and the path when the kernels cannot load.
 */
export function sumMiddleAxis(
  heap: Float32Array,
  from: number,
  to: number,
  outer: number,
  reduce: number,
  inner: number,
): void {
  const acc = new Float32Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let r = 0;
    for (; r + 4 <= reduce; r += 4) {
      const b0 = from + (o * reduce + r) * inner;
      const b1 = b0 + inner;
      const b2 = b1 + inner;
      const b3 = b2 + inner;
      for (let i = 0; i < inner; i++) {
        acc[i] = acc[i]! + (heap[b0 + i]! + heap[b1 + i]! + (heap[b2 + i]! + heap[b3 + i]!));
      }
    }
    for (; r < reduce; r++) {
      const base = from + (o * reduce + r) * inner;
      for (let i = 0; i < inner; i++) acc[i] = acc[i]! + heap[base + i]!;
    }
    heap.set(acc, to + o * inner);
  }
}

/** `Slice` as a strided copy on the heap (the stock kernel reads the whole input to JavaScript first). */
function fastSlice(args: SliceArgs, stockSlice: StockKernel): tf.TensorInfo {
  const { x } = args.inputs;
  const bytes = BYTES[x.dtype];
  if (bytes === undefined) return stockSlice(args);
  const [begin, size] = tf.slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size);
  return copySlice(args.backend, x, begin!, size!, bytes);
}

/** `SplitV` as strided copies on the heap. */
function fastSplit(args: SplitArgs, stockSlice: StockKernel): tf.TensorInfo[] {
  const { x } = args.inputs;
  const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const piece = fastSlice(
      { inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } },
      stockSlice,
    );
    begin[axis]! += s;
    return piece;
  });
}

/** Copies the box `[begin, begin + size)` of `x` into a new tensor, one contiguous run at a time. */
function copySlice(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  bytes: number,
): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const strides = tf.util.computeStrides(x.shape);
  const rank = x.shape.length;
  // Merge trailing dimensions taken whole into one contiguous run.
  let inner = rank - 1;
  let run = rank === 0 ? 1 : size[rank - 1]!;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner]!;
  }
  const from = backend.dataIdMap.get(x.dataId).memoryOffset;
  const to = backend.dataIdMap.get(out.dataId).memoryOffset;
  const heap = backend.wasm.HEAPU8;
  const index = new Array<number>(inner).fill(0);
  const runs = total / run;
  for (let r = 0; r < runs; r++) {
    let offset = rank === 0 ? 0 : begin[inner]! * (strides[inner] ?? 1);
    for (let d = 0; d < inner; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
    heap.copyWithin(to + r * run * bytes, from + offset * bytes, from + (offset + run) * bytes);
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

const FLOAT_BYTES = 4;

/**
 * One product `a·b (+ bias, activation)` with every matrix product on XNNPACK. `fallback` is the
 * stock kernel used for inputs this path does not cover (non-float32, unusual bias or PReLU shapes).
 */
function fastMatMul(args: KernelArgs, fused: StockKernel, fallback: StockKernel): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const bias = inputs.bias ?? null;
  const prelu = inputs.preluActivationWeights ?? null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return fallback(args as unknown as Parameters<StockKernel>[0]);
  }
  const transposeA = attrs.transposeA;
  const transposeB = attrs.transposeB;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const outBatchDims = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (outBatchDims === undefined || k !== kb)
    return fallback(args as unknown as Parameters<StockKernel>[0]);
  const batch = size(outBatchDims);
  const biasSize = bias === null ? 0 : size(bias.shape);
  const perMatrixBias =
    bias !== null && batch > 1 && biasSize === batch * n && bias.shape[bias.shape.length - 1] === n;
  const sharedBias = bias === null || biasSize === n;
  if (
    (batchA !== 1 && batchA !== batch) ||
    (batchB !== 1 && batchB !== batch) ||
    (!sharedBias && !perMatrixBias) ||
    (prelu !== null && batch > 1)
  ) {
    return fallback(args as unknown as Parameters<StockKernel>[0]);
  }

  const activation = attrs.activation ?? 'linear';
  const kernels = kernelsOf(backend);
  // wmgym's kernels take float32 products with a linear or relu activation; XNNPACK the rest.
  const own =
    kernels !== undefined &&
    prelu === null &&
    (activation === 'linear' || activation === 'relu') &&
    (bias === null || bias.dtype === 'float32');
  if (own && (k < SMALL_INNER || (transposeA && Math.min(m, n) < SMALL)))
    return smallProduct(args, kernels, batch, batchA, batchB, outBatchDims, m, k, n, perMatrixBias);

  const temporaries: tf.TensorInfo[] = [];
  const a3 = transposeA
    ? transposeLast(backend, a, batchA, k, m, temporaries)
    : as3d(a, batchA, m, k);
  if (own) {
    // wmgym's gemm reads B as it is (nothing packed): only a transposed B is copied, and kept.
    const b3 = transposeB
      ? derived(backend, b, 'T', false, () => transposeLast(backend, b, batchB, n, k, []))
      : b;
    const out = backend.makeOutput([...outBatchDims, m, n], 'float32');
    const offset = (x: tf.TensorInfo): number => backend.dataIdMap.get(x.dataId).memoryOffset;
    const [aBase, bBase, cBase] = [offset(a3), offset(b3), offset(out)];
    const biasBase = bias === null ? 0 : offset(bias);
    const threads = gemmThreadsOf(backend, kernels);
    for (let i = 0; i < batch; i++) {
      threads.gemm(
        aBase + (batchA === 1 ? 0 : i * m * k * FLOAT_BYTES),
        bBase + (batchB === 1 ? 0 : i * k * n * FLOAT_BYTES),
        cBase + i * m * n * FLOAT_BYTES,
        m,
        k,
        n,
        biasBase + (perMatrixBias ? i * n * FLOAT_BYTES : 0),
        bias === null ? 0 : 1,
        activation === 'relu' ? 1 : 0,
      );
    }
    for (const t of temporaries) backend.disposeData(t.dataId);
    return out;
  }
  // The right operand is what XNNPACK packs (about 4 ns a value): it and everything made from it
  // (its transpose, its matrices, a bias's per-matrix copies) are kept with it, so a weight used
  // again (the next act, a second pass through the same critic) finds its packed operator cached.
  const b3 = transposeB
    ? derived(backend, b, 'T', false, () => transposeLast(backend, b, batchB, n, k, []))
    : as3d(b, batchB, k, n);
  let bias1: tf.TensorInfo | null = null;
  if (bias !== null && sharedBias)
    bias1 = derived(backend, bias, 'rank1', false, () => rank1(backend, bias, 0, n, null));
  const fusedAttrs = {
    transposeA: false,
    transposeB: false,
    activation,
    leakyreluAlpha: attrs.leakyreluAlpha ?? 0,
  };

  let out: tf.TensorInfo;
  if (batch === 1) {
    out = fused({
      inputs: { a: a3, b: b3, bias: bias1, preluActivationWeights: prelu },
      backend,
      attrs: fusedAttrs,
    });
  } else {
    out = backend.makeOutput([batch, m, n], 'float32');
    const outOffset = backend.dataIdMap.get(out.dataId).memoryOffset;
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? a3 : matrixView(backend, a3, i, m, k);
      const bi =
        batchB === 1
          ? b3
          : derived(backend, b3, `${i}:${k}x${n}`, true, () => matrixView(backend, b3, i, k, n));
      const biasI = perMatrixBias
        ? derived(backend, bias, `${i}:${n}`, false, () => rank1(backend, bias, i * n, n, null))
        : bias1;
      const product = fused({
        inputs: { a: ai, b: bi, bias: biasI, preluActivationWeights: null },
        backend,
        attrs: fusedAttrs,
      });
      const from = backend.dataIdMap.get(product.dataId).memoryOffset;
      const heap = backend.wasm.HEAPU8;
      heap.copyWithin(outOffset + i * m * n * FLOAT_BYTES, from, from + m * n * FLOAT_BYTES);
      backend.disposeData(product.dataId);
      if (ai !== a3) releaseView(backend, ai);
    }
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return { dataId: out.dataId, shape: [...outBatchDims, m, n], dtype: 'float32' };
}

/** A derived tensor: a view on its parent's memory (released, not freed) or a copy (freed). */
interface Derived {
  tensor: tf.TensorInfo;
  view: boolean;
}

/** Tensors derived from a tensor's data (by its dataId), freed with it. */
const derivedTensors = new Map<object, Map<string, Derived>>();
const watchedBackends = new WeakSet<WasmBackendLike>();

/**
 * The tensor derived from `parent` under `key` (made by `make` the first time), kept until the
 * parent's data is freed. Tensors are immutable, so a derived tensor stays valid as long as its
 * parent; XNNPACK caches a packed right operand by tensor id, so reusing the derived tensor
 * reuses the packing. `view`: it lies in the parent's memory (released, not freed, with it).
 */
function derived(
  backend: WasmBackendLike,
  parent: tf.TensorInfo,
  key: string,
  view: boolean,
  make: () => tf.TensorInfo,
): tf.TensorInfo {
  watchDisposal(backend);
  let entries = derivedTensors.get(parent.dataId);
  const known = entries?.get(key);
  if (known !== undefined) return known.tensor;
  const tensor = make();
  if (tensor.dataId === parent.dataId) return tensor; // the parent itself, as it is
  if (entries === undefined) {
    entries = new Map();
    derivedTensors.set(parent.dataId, entries);
  }
  entries.set(key, { tensor, view });
  return tensor;
}

/** Makes `backend.disposeData` also free what was derived from data it frees. */
function watchDisposal(backend: WasmBackendLike): void {
  if (watchedBackends.has(backend)) return;
  watchedBackends.add(backend);
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const result = dispose(dataId, force);
    const entries = derivedTensors.get(dataId);
    if (entries !== undefined && !backend.dataIdMap.has(dataId)) {
      derivedTensors.delete(dataId);
      for (const { tensor, view } of entries.values()) {
        if (view) releaseView(backend, tensor);
        else backend.disposeData(tensor.dataId);
      }
    }
    return result;
  };
}

/** Products `Aᵀ·op(B)` with fewer rows or columns than this run on {@link WasmKernels.atb}. */
const SMALL = 16;
/** Products over fewer than this many terms run on {@link WasmKernels.atb}. */
const SMALL_INNER = 16;

/**
 * `C = op(A)·op(B) (+ bias) (relu)` with too little arithmetic for XNNPACK's fixed costs (all of
 * `op(B)` packed, about 4 ns a value, before every product with a fresh right operand; a transposed
 * `A` copied) on wmgym's `atb` kernel: products with few rows or few columns (a layer with few
 * outputs, acting on one observation, the weight gradient `xᵀ·dy` of an input or an output layer)
 * and products over few terms (a layer with few inputs, `dy·Wᵀ` of an output layer). `atb` takes
 * `op(A)ᵀ` and `op(B)`; with one term both are the stored data, else `A` (or `B`) is transposed
 * first where needed. It vectorises over C's wider side: with fewer columns than rows it computes
 * `Cᵀ = op(B)ᵀ·op(A)ᵀ` (the bias then runs down its rows) and transposes that small result.
 * Bit-identical to XNNPACK's fused product (tests compare them).
 */
function smallProduct(
  args: KernelArgs,
  kernels: WasmKernels,
  batch: number,
  batchA: number,
  batchB: number,
  outBatchDims: number[],
  m: number,
  k: number,
  n: number,
  perMatrixBias: boolean,
): tf.TensorInfo {
  const { backend } = args;
  const { a, b } = args.inputs;
  const bias = args.inputs.bias ?? null;
  const { transposeA, transposeB } = args.attrs;
  const relu = args.attrs.activation === 'relu' ? 1 : 0;
  const temporaries: tf.TensorInfo[] = [];
  // op(A)ᵀ as k x m and op(B) as k x n (a k = 1 matrix and its transpose share a layout).
  const at = transposeA || k === 1 ? a : transposeLast(backend, a, batchA, m, k, temporaries);
  const d = !transposeB || k === 1 ? b : transposeLast(backend, b, batchB, n, k, temporaries);
  const out = backend.makeOutput([...outBatchDims, m, n], 'float32');
  const offset = (x: tf.TensorInfo): number => backend.dataIdMap.get(x.dataId).memoryOffset;
  const [aBase, dBase, cBase] = [offset(at), offset(d), offset(out)];
  const biasBase = bias === null ? 0 : offset(bias);
  const swap = n < m;
  // Where the bias runs: along C's rows (mode 1), or down the rows of Cᵀ (mode 2).
  const biasMode = bias === null ? 0 : swap ? 2 : 1;
  const scratch = swap && n > 1 ? backend.makeOutput([n, m], 'float32') : undefined;
  if (scratch !== undefined) temporaries.push(scratch);
  for (let i = 0; i < batch; i++) {
    const ai = aBase + (batchA === 1 ? 0 : i * k * m * FLOAT_BYTES);
    const di = dBase + (batchB === 1 ? 0 : i * k * n * FLOAT_BYTES);
    const ci = cBase + i * m * n * FLOAT_BYTES;
    const bi = biasBase + (perMatrixBias ? i * n * FLOAT_BYTES : 0);
    if (!swap) kernels.atb(ai, di, ci, k, m, n, bi, biasMode, relu);
    else if (scratch === undefined)
      kernels.atb(di, ai, ci, k, n, m, bi, biasMode, relu); // Cᵀ (1 x m) is laid out as C
    else {
      kernels.atb(di, ai, offset(scratch), k, n, m, bi, biasMode, relu);
      kernels.transpose(offset(scratch), ci, 1, n, m);
    }
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return out;
}

/** wmgym's wasm kernels on the backend's memory, or undefined if they cannot run there. */
function kernelsOf(backend: WasmBackendLike): WasmKernels | undefined {
  return wasmKernels(backend.wasm.wasmMemory ?? backend.wasm.asm?.memory);
}

let gemmThreads: { kernels: WasmKernels; threads: GemmThreads } | undefined;

/**
 * Resolves to the number of gemm helper threads running (the backend's threads less the calling
 * one; 0 off the threaded build or without wmgym's kernels) once they all run or after `timeoutMs`.
 * Products never wait for helpers: until one runs, the calling thread computes its rows.
 */
export async function gemmHelpersReady(timeoutMs = 10_000): Promise<number> {
  const backend = tf.backend() as unknown as WasmBackendLike;
  const kernels =
    kernelFixesInstalled() && tf.getBackend() === 'wasm' ? kernelsOf(backend) : undefined;
  return kernels === undefined ? 0 : gemmThreadsOf(backend, kernels).ready(timeoutMs);
}

/**
 * The gemm thread pool for these kernels: as many threads as the backend's (helpers only on a
 * shared memory, i.e. tfjs's threaded build), started on first use.
 */
function gemmThreadsOf(backend: WasmBackendLike, kernels: WasmKernels): GemmThreads {
  if (gemmThreads?.kernels !== kernels) {
    gemmThreads?.threads.dispose();
    const memory = (backend.wasm.wasmMemory ?? backend.wasm.asm?.memory) as WasmMemory;
    const shared = isSharedMemory(memory);
    const helpers = shared ? Math.max(0, (current?.threads ?? 1) - 1) : 0;
    gemmThreads = {
      kernels,
      threads: new GemmThreads(kernels, kernelsModule(shared), memory, helpers),
    };
  }
  return gemmThreads.threads;
}

/** `x` seen as `[batch, rows, cols]` (same data). */
function as3d(x: tf.TensorInfo, batch: number, rows: number, cols: number): tf.TensorInfo {
  return { dataId: x.dataId, shape: [batch, rows, cols], dtype: x.dtype };
}

/** A new `[batch, cols, rows]` tensor holding each matrix of `x` (`[batch, rows, cols]`) transposed. */
function transposeLast(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  batch: number,
  rows: number,
  cols: number,
  temporaries: tf.TensorInfo[],
): tf.TensorInfo {
  const kernels = kernelsOf(backend);
  let out: tf.TensorInfo;
  if (kernels === undefined) {
    const xs = as3d(x, batch, rows, cols);
    out = stock!.transpose({ inputs: { x: xs }, backend, attrs: { perm: [0, 2, 1] } });
  } else {
    out = backend.makeOutput([batch, cols, rows], 'float32');
    kernels.transpose(
      backend.dataIdMap.get(x.dataId).memoryOffset,
      backend.dataIdMap.get(out.dataId).memoryOffset,
      batch,
      rows,
      cols,
    );
  }
  temporaries.push(out);
  return { dataId: out.dataId, shape: [batch, cols, rows], dtype: 'float32' };
}

/**
 * Matrix `i` of `x` (`[batch, rows, cols]`) as a `[1, rows, cols]` tensor registered on the same
 * memory (no copy); give it back with {@link releaseView}, never `disposeData` (which would free
 * memory it does not own).
 */
function matrixView(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  i: number,
  rows: number,
  cols: number,
): tf.TensorInfo {
  const offset = backend.dataIdMap.get(x.dataId).memoryOffset + i * rows * cols * FLOAT_BYTES;
  return backend.makeOutput([1, rows, cols], 'float32', offset);
}

/** Unregisters a view from {@link matrixView} without freeing its memory. */
function releaseView(backend: WasmBackendLike, view: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

/**
 * `count` values of `x` from `offset` as a rank-1 tensor (the stock kernel checks the stored rank):
 * `x` itself when it already is one, else a copy (pushed to `temporaries` when given).
 */
function rank1(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  offset: number,
  count: number,
  temporaries: tf.TensorInfo[] | null,
): tf.TensorInfo {
  const stored = backend.dataIdMap.get(x.dataId);
  if (offset === 0 && stored.shape.length === 1 && stored.shape[0] === count)
    return { dataId: x.dataId, shape: [count], dtype: 'float32' };
  const out = backend.makeOutput([count], 'float32');
  const from = backend.dataIdMap.get(x.dataId).memoryOffset + offset * FLOAT_BYTES;
  const to = backend.dataIdMap.get(out.dataId).memoryOffset;
  backend.wasm.HEAPU8.copyWithin(to, from, from + count * FLOAT_BYTES);
  temporaries?.push(out);
  return out;
}

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** NumPy broadcasting of two batch shapes; undefined when they do not broadcast. */
function broadcastShapes(x: readonly number[], y: readonly number[]): number[] | undefined {
  const rank = Math.max(x.length, y.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dx = x[x.length - rank + i] ?? 1;
    const dy = y[y.length - rank + i] ?? 1;
    if (dx !== dy && dx !== 1 && dy !== 1) return undefined;
    out.push(Math.max(dx, dy));
  }
  return out;
}
