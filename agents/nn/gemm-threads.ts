/**
 * wmgym's `gemm` kernel (./kernels.wat) on several threads: helper threads (`worker_threads`)
 * instantiate the kernels on the tfjs wasm backend's shared memory and each computes a band of C's
 * rows while the calling thread computes the first band. It replaces XNNPACK for the products of
 * the networks: XNNPACK packs every new right operand on one thread before multiplying (~4 ns a
 * value, a third of a 256x256x256 product), and in training almost every right operand is new
 * (weights after each optimiser step, `dz` in `xᵀ·dz`). Measured on this machine (2 cores),
 * 256x256x256 with bias and relu: gemm on one thread ~850 µs; XNNPACK on two threads ~700 µs with
 * the operand already packed, ~900 µs with a new one.
 *
 * A helper spins for a moment after each band (products come in bursts within an update), then
 * sleeps on `Atomics.wait`. Until a helper has started, and for products too small to be worth a
 * wake-up, the calling thread computes everything. Results do not depend on the split: every
 * element is computed by the same sequence of operations whichever thread computes it.
 */
import { Worker } from 'node:worker_threads';
import { InvalidStateError } from '../../envs/core/errors.js';
import type { WasmKernels, WasmMemory } from './wasm-kernels.js';

/** Slots of a helper's control block (an Int32Array on a SharedArrayBuffer). */
const SEQ = 0; // job number, bumped by the caller
const DONE = 1; // job number the helper finished last
const READY = 2; // 1 once the helper runs
const STOP = 3; // 1 asks the helper to end
const FAILED = 4; // 1 if the kernel threw on the helper
const HELPER_SLEEPS = 5; // 1 while the helper sleeps on SEQ (only then does the caller notify)
const CALLER_SLEEPS = 6; // 1 while the caller sleeps on DONE
const ARGS = 7; // the ten gemm arguments
const SLOTS = ARGS + 10;

/** How long a helper keeps spinning for the next job before it sleeps. */
const SPIN_MS = 2;
/**
 * Products with fewer multiply-adds than this (about 100 µs of work) run on the calling thread alone:
 * with PPO's 64x64x64 products split, its minibatch ran 1.4x slower (a wake-up and a wait per product).
 */
const MIN_SPLIT_TERMS = 1 << 20;
/** A helper that has not answered after this long is reported (InvalidStateError). */
const ANSWER_TIMEOUT_MS = 60_000;

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const ctl = new Int32Array(control);
Atomics.store(ctl, ${READY}, 1);
let seen = 0;
for (;;) {
  let spins = 0;
  let since = performance.now();
  while (Atomics.load(ctl, ${SEQ}) === seen) {
    if ((++spins & 1023) === 0 && performance.now() - since > ${SPIN_MS}) {
      Atomics.store(ctl, ${HELPER_SLEEPS}, 1);
      Atomics.wait(ctl, ${SEQ}, seen);
      Atomics.store(ctl, ${HELPER_SLEEPS}, 0);
      since = performance.now();
    }
  }
  seen = Atomics.load(ctl, ${SEQ});
  if (Atomics.load(ctl, ${STOP}) === 1) break;
  try {
    gemm(${Array.from({ length: 10 }, (_, i) => `ctl[${ARGS + i}]`).join(', ')});
  } catch {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${DONE}, seen);
  if (Atomics.load(ctl, ${CALLER_SLEEPS}) === 1) Atomics.notify(ctl, ${DONE});
}
`;

interface Helper {
  worker: Worker;
  control: Int32Array;
}

/** `gemm` split over the calling thread and `helpers` threads on one shared wasm memory. */
export class GemmThreads {
  private readonly kernels: WasmKernels;
  private readonly helpers: Helper[];
  /** Indices of the helpers running for the current product (preallocated: nothing allocated per product). */
  private readonly busy: Int32Array;

  /**
   * Starts `helpers` threads on `memory` (a shared `WebAssembly.Memory`), running `module` (the
   * compiled kernels). With 0 helpers, everything runs on the calling thread.
   */
  constructor(kernels: WasmKernels, module: object, memory: WasmMemory, helpers: number) {
    this.kernels = kernels;
    this.helpers = Array.from({ length: helpers }, () => {
      const control = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
      const worker = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: control.buffer },
      });
      worker.unref();
      worker.on('error', () => Atomics.store(control, READY, 0));
      return { worker, control };
    });
    this.busy = new Int32Array(helpers);
  }

  /**
   * `C = A·B (+ bias) (relu)` for an `m` x `k` A, `k` x `n` B and `m` x `n` C (byte offsets; see
   * {@link WasmKernels.gemm}), its rows shared among the ready helpers and the calling thread.
   */
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    k: number,
    n: number,
    bias: number,
    hasBias: number,
    relu: number,
  ): void {
    const helpers = this.helpers;
    // The helpers running now, read once (one may start meanwhile: it joins the next product).
    let ready = 0;
    if (m * k * n >= MIN_SPLIT_TERMS)
      for (let i = 0; i < helpers.length; i++)
        if (Atomics.load(helpers[i]!.control, READY) === 1) this.busy[ready++] = i;
    // Bands of whole 4-row blocks (the kernel's block height), the first for the calling thread.
    const band = Math.ceil(m / (ready + 1) / 4) * 4;
    let started = 0;
    for (let row0 = band; started < ready && row0 < m; row0 += band) {
      const ctl = helpers[this.busy[started++]!]!.control;
      ctl[ARGS] = a;
      ctl[ARGS + 1] = b;
      ctl[ARGS + 2] = c;
      ctl[ARGS + 3] = k;
      ctl[ARGS + 4] = n;
      ctl[ARGS + 5] = row0;
      ctl[ARGS + 6] = Math.min(m, row0 + band);
      ctl[ARGS + 7] = bias;
      ctl[ARGS + 8] = hasBias;
      ctl[ARGS + 9] = relu;
      Atomics.add(ctl, SEQ, 1);
      if (Atomics.load(ctl, HELPER_SLEEPS) === 1) Atomics.notify(ctl, SEQ);
    }
    this.kernels.gemm(a, b, c, k, n, 0, Math.min(m, band), bias, hasBias, relu);
    for (let j = 0; j < started; j++) this.await(helpers[this.busy[j]!]!);
  }

  /** Resolves to the number of helpers running, once all are or after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<number> {
    const count = (): number =>
      this.helpers.filter((h) => Atomics.load(h.control, READY) === 1).length;
    const start = performance.now();
    while (count() < this.helpers.length && performance.now() - start < timeoutMs)
      await new Promise((resolve) => setTimeout(resolve, 5));
    return count();
  }

  /** Asks the helpers to end (they are unref'd: a process does not wait for them anyway). */
  dispose(): void {
    for (const h of this.helpers) {
      Atomics.store(h.control, STOP, 1);
      Atomics.add(h.control, SEQ, 1);
      Atomics.notify(h.control, SEQ);
    }
    this.helpers.length = 0;
  }

  /** Waits for `helper` to finish its last job (spinning first: it usually ends within microseconds). */
  private await(helper: Helper): void {
    const ctl = helper.control;
    const seq = Atomics.load(ctl, SEQ);
    const start = performance.now();
    let spins = 0;
    while (Atomics.load(ctl, DONE) !== seq) {
      if ((++spins & 1023) !== 0) continue;
      const waited = performance.now() - start;
      if (waited > ANSWER_TIMEOUT_MS)
        throw new InvalidStateError(
          'gemm helper thread',
          `an answer within ${ANSWER_TIMEOUT_MS} ms`,
          `no answer to job ${seq} after ${Math.round(waited)} ms`,
        );
      if (waited > SPIN_MS) {
        Atomics.store(ctl, CALLER_SLEEPS, 1);
        const done = Atomics.load(ctl, DONE);
        if (done !== seq) Atomics.wait(ctl, DONE, done, SPIN_MS);
        Atomics.store(ctl, CALLER_SLEEPS, 0);
      }
    }
    if (Atomics.load(ctl, FAILED) === 1)
      throw new InvalidStateError('gemm helper thread', 'a computed band', 'the kernel threw');
  }
}
