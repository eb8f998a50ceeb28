/**
 * Multi-threaded wasm (XNNPACK on a pthread pool) in Node. tfjs 4.22 ships the threaded SIMD
 * build but never uses it in Node (tensorflow/tfjs#3830): its feature test answers "no" there,
 * its pthread workers are `blob:` URLs that Node's `worker_threads` cannot start, and the wasm
 * side caps the pool at half the logical cores. {@link startThreadedWasm} bridges the three:
 *
 * - the flag `WASM_HAS_MULTITHREAD_SUPPORT` is set, so tfjs picks the threaded build;
 * - while the module starts, the global `Worker` it looks up is a `worker_threads` worker running
 *   {@link BOOTSTRAP}: it receives the blob's text (tfjs's own pthread worker code) and evaluates
 *   it with the CommonJS names the bundled code expects, then forwards messages to it in order;
 * - the core count the module reads once (`os.cpus()`) is doubled for that moment, so a pool of
 *   `threads` is not cut in half.
 *
 * Only matrix products and convolutions run on the pool (elementwise kernels stay on the calling
 * thread). Results of a product do not depend on the number of threads: XNNPACK splits the
 * output into tiles, and each output element is still one dot product in the same order. With
 * wmgym's kernels, agents/nn/backend.ts starts this build with a pool of one (its products run on
 * wmgym's gemm threads, ./gemm-threads.ts, which need the build's shared memory).
 */
import { resolveObjectURL } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/**
 * The pthread worker's entry (CommonJS, run with `eval: true`): defines the names the bundled
 * emscripten code refers to, evaluates tfjs's worker code from the blob, and delivers messages to
 * it in arrival order once it is loaded; the `load` message's main script (a Blob) is read first.
 */
const BOOTSTRAP = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const path = require('node:path');
const scripts = new Map();
let deliver;
let chain = Promise.resolve();
parentPort.on('message', (data) => {
  chain = chain.then(async () => {
    if (data && data.cmd === 'load' && data.urlOrBlob && typeof data.urlOrBlob === 'object') {
      const key = 'wmgym-script:' + scripts.size;
      scripts.set(key, await data.urlOrBlob.text());
      data.urlOrBlob = key;
    }
    deliver(data);
  });
});
chain = chain.then(async () => {
  const source = await workerData.worker.text();
  const names = { require, commonjsGlobal: globalThis, __filename: workerData.bundle, __dirname: path.dirname(workerData.bundle) };
  for (const [name, specifier] of workerData.modules) names[name] = require(specifier);
  Object.assign(globalThis, names);
  const on = parentPort.on;
  parentPort.on = function (event, listener) {
    if (event !== 'message') return on.call(parentPort, event, listener);
    deliver = (data) => listener(data);
    return parentPort;
  };
  (0, eval)(source);
  parentPort.on = on;
  const importFile = globalThis.importScripts;
  globalThis.importScripts = (file) => (scripts.has(file) ? (0, eval)(scripts.get(file)) : importFile(file));
});
`;

/** What the bundled tfjs-backend-wasm requires under rollup's names (`var require$$0 = require('fs')`). */
function bundledModules(bundle: string): [name: string, specifier: string][] {
  const head = readFileSync(bundle, 'utf8').slice(0, 4000);
  return [...head.matchAll(/var (require\$\$\d+) = require\('([^']+)'\);/g)].map((m) => [
    m[1]!,
    m[2]!,
  ]);
}

/**
 * Starts tfjs's wasm backend with its threaded SIMD build and a pool of `threads` (the calling
 * thread included). Must run before any other start of the wasm backend and without
 * `setWasmPaths` (tfjs loads the threaded build only from its own folder). Resolves to the pool
 * size on success, or to why it could not start (the flag is then cleared, so that the caller can
 * start the single-threaded build).
 */
export async function startThreadedWasm(
  threads: number,
): Promise<{ threads: number } | { problem: string }> {
  const require = createRequire(import.meta.url);
  const bundle = require.resolve('@tensorflow/tfjs-backend-wasm');
  const modules = bundledModules(bundle);
  if (modules.length === 0) return { problem: `no bundled module names found in ${bundle}` };
  const failures: string[] = [];
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL) {
      const worker = resolveObjectURL(String(url));
      super(BOOTSTRAP, { eval: true, workerData: { worker, bundle, modules } });
      this.on('error', (error: Error) => failures.push(error.message));
      this.unref();
    }

    /** Pool threads never keep the process alive: every product waits for them synchronously. */
    override ref(): void {
      // emscripten refs a worker while it runs a pthread, and a pool thread runs until exit
    }
  }
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => undefined, // emscripten assigns worker_threads' Worker; ours stays
  });
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]!);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  let problem: string | undefined;
  try {
    if (await tf.setBackend('wasm')) return { threads: getThreadsCount() };
    problem = `tf.setBackend("wasm") failed${failures.length > 0 ? `: ${failures.join('; ')}` : ''}`;
  } catch (error) {
    problem = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  } finally {
    os.cpus = cpus;
    if (previous === undefined) delete (globalThis as { Worker?: unknown }).Worker;
    else Object.defineProperty(globalThis, 'Worker', previous);
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  return { problem };
}
