import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import test from 'ava';
import {
  tf,
  initBackend,
  backendInfo,
  countKernels,
  gemmHelpersReady,
  installKernelFixes,
  kernelFixesInstalled,
  parseBackendName,
  parseThreads,
  removeKernelFixes,
} from '../../../agents/nn/backend.js';
import { dense } from '../../../agents/nn/mlp.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';

// These tests compare wmgym's wasm kernels with tfjs's own, so they run on wasm whatever WMGYM_BACKEND says.
test.before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

/** Runs `f` once with the stock wasm kernels and once with wmgym's, returning both results' values. */
function bothKernels(f: () => tf.Tensor | tf.Tensor[]): {
  stock: Float32Array[];
  fixed: Float32Array[];
} {
  const read = (): Float32Array[] => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = list.map((x) => x.dataSync() as Float32Array);
    tf.dispose(list);
    return values;
  };
  removeKernelFixes();
  const stock = read();
  installKernelFixes();
  return { stock, fixed: read() };
}

function identical(
  t: { true(ok: boolean, message?: string): void },
  a: Float32Array[],
  b: Float32Array[],
  what: string,
): void {
  t.true(
    a.length === b.length &&
      a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => Object.is(v, b[i]![j]))),
    `${what}: not bit-identical`,
  );
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

const seeded = (shape: number[], seed: number): tf.Tensor =>
  tf.randomNormal(shape, 0, 1, 'float32', seed);

test.serial(
  'the backend is wasm with the kernel fixes installed, and the choice is recorded',
  (t) => {
    const info = backendInfo();
    t.is(info?.name, 'wasm');
    t.true(info?.kernelFixes);
    t.true(kernelFixesInstalled());
    t.is(info?.tfjsVersion, tf.version.tfjs);
  },
);

test.serial(
  'wasm runs its products on a pool of WMGYM_THREADS threads, by default the available cores',
  (t) => {
    const expected = parseThreads(process.env['WMGYM_THREADS']);
    t.is(backendInfo()?.threads, expected);
    if (process.env['WMGYM_THREADS'] === undefined)
      t.is(expected, Math.min(availableParallelism(), 8));
  },
);

test('WMGYM_THREADS values are checked: 1 to 8 threads, anything else is an InvalidOptionError', (t) => {
  t.is(parseThreads('1'), 1);
  t.is(parseThreads(' 4 '), 4);
  t.is(parseThreads(8), 8);
  t.is(parseThreads(''), Math.min(availableParallelism(), 8));
  for (const bad of ['0', '9', 'two', '1.5', '-2', '2e0']) {
    t.throws(() => parseThreads(bad), {
      instanceOf: InvalidOptionError,
      message: new RegExp(
        `WMGYM_THREADS: expected an integer from 1 to 8, received "${bad.replace('.', '\\.')}"`,
      ),
    });
  }
  t.throws(() => parseThreads(0, 'threads'), {
    instanceOf: InvalidOptionError,
    message: /threads/,
  });
});

test('a product and its gradients are bit-identical on one thread and on two', (t) => {
  const run = (threads: string): { threads: number; helpers: number; results: string[] } => {
    const child = spawnSync(process.execPath, ['--import=tsx', 'test/helpers/wasm-products.ts'], {
      encoding: 'utf8',
      env: { ...process.env, WMGYM_THREADS: threads },
      timeout: 60_000,
    });
    t.is(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as { threads: number; helpers: number; results: string[] };
  };
  const one = run('1');
  const two = run('2');
  t.is(one.threads, 1);
  t.is(two.threads, 2);
  t.is(one.helpers, 0);
  t.is(two.helpers, 1, 'one gemm helper thread beside the calling thread');
  t.is(two.results.length, 3);
  t.deepEqual(two.results, one.results);
});

test.serial('an NN product is bit-identical to the stock kernel', (t) => {
  const { stock, fixed } = bothKernels(() => tf.matMul(seeded([64, 48], 1), seeded([48, 32], 2)));
  identical(t, fixed, stock, 'NN');
});

for (const [name, ta, tb] of [
  ['NT', false, true],
  ['TN', true, false],
  ['TT', true, true],
] as const) {
  test.serial(
    `${name} products are bit-identical to the stock kernel on explicitly transposed operands`,
    (t) => {
      const a = ta ? seeded([70, 96], 3) : seeded([96, 70], 3);
      const b = tb ? seeded([50, 70], 4) : seeded([70, 50], 4);
      const { fixed } = bothKernels(() => tf.matMul(a, b, ta, tb));
      // The reference: tfjs's own kernels, with the transposes done by tfjs's Transpose first (XNNPACK path).
      const { stock: reference } = bothKernels(() =>
        tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b),
      );
      identical(t, fixed, reference, name);
      // And it agrees with the stock transposed kernel (a naive loop, summing in another order) to float32 rounding.
      const { stock: naive } = bothKernels(() => tf.matMul(a, b, ta, tb));
      t.true(maxRelativeError(fixed[0]!, naive[0]!) < 1e-5);
    },
  );
}

/** The matrices of `x` (`[rows, cols]` or `[batch | 1, rows, cols]`), `count` of them (a batch of 1 broadcasts). */
function matrices(x: tf.Tensor, count: number): tf.Tensor[] {
  if (x.rank === 2) return new Array<tf.Tensor>(count).fill(x);
  const list = tf.unstack(x);
  return list.length === 1 ? new Array<tf.Tensor>(count).fill(list[0]!) : list;
}

test.serial(
  "small products (xᵀ·dy with few rows or columns, products over 1-3 terms; batched, broadcast) match XNNPACK's product of explicitly transposed operands bit for bit",
  (t) => {
    // [what, shape of a, shape of b, transposeA, transposeB]
    const cases: [string, number[], number[], boolean, boolean][] = [
      ['output layer dW, 1 column', [1, 96, 80], [1, 96, 1], true, false],
      ['2 columns', [96, 80], [96, 2], true, false],
      ['2 columns, dy transposed', [96, 80], [2, 96], true, true],
      ['batched, 7 columns', [2, 96, 80], [2, 96, 7], true, false],
      ['batched, 3 columns, dy transposed', [2, 96, 80], [2, 3, 96], true, true],
      ['input layer dW, 4 rows, x broadcast', [1, 96, 4], [2, 96, 70], true, false],
      ['3 rows', [96, 3], [96, 37], true, false],
      ['15 x 15', [50, 15], [50, 15], true, false],
      ['dy·Wᵀ over 1 term, batched', [2, 64, 1], [2, 70, 1], false, true],
      ['over 2 terms', [64, 2], [70, 2], false, true],
      ['over 3 terms, untransposed', [64, 3], [3, 70], false, false],
      ['over 2 terms, both transposed', [2, 64], [70, 2], true, true],
      ['over 1 term, W broadcast', [3, 20, 1], [1, 1, 33], false, false],
    ];
    cases.forEach(([what, aShape, bShape, ta, tb], i) => {
      const a = seeded(aShape, 60 + i);
      const b = seeded(bShape, 80 + i);
      const count = Math.max(
        aShape.length === 3 ? aShape[0]! : 1,
        bShape.length === 3 ? bShape[0]! : 1,
      );
      const { fixed } = bothKernels(() => tf.matMul(a, b, ta, tb));
      // Reference: tfjs's own kernels, each matrix transposed by tfjs first, then its XNNPACK product.
      const { stock: reference } = bothKernels(() => {
        const as = matrices(a, count);
        const bs = matrices(b, count);
        const products = as.map((ai, j) =>
          tf.matMul(ta ? tf.transpose(ai) : ai, tb ? tf.transpose(bs[j]!) : bs[j]!),
        );
        return aShape.length === 2 && bShape.length === 2 ? products[0]! : tf.stack(products);
      });
      t.deepEqual(fixed[0]!.length, reference[0]!.length, what);
      identical(t, fixed, reference, what);
    });
  },
);

test.serial(
  'what a product derives from its right operand (transpose, matrices, bias copies) is reused while the operand lives and freed with it',
  (t) => {
    const x = seeded([1, 30, 48], 21);
    const dz = seeded([2, 30, 40], 22);
    const backend = tf.backend();
    const baseline = backend.numDataIds();
    const w = seeded([2, 48, 40], 23);
    const bias = seeded([2, 1, 40], 24);
    const run = (): Float32Array[] => {
      const out = tf.tidy(() => [
        tf
          .engine()
          .runKernel<tf.Tensor>(
            '_FusedMatMul',
            { a: x, b: w, bias },
            { transposeA: false, transposeB: false, activation: 'relu', leakyreluAlpha: 0 },
          ),
        tf.matMul(dz, w, false, true),
      ]);
      const values = out.map((o) => o.dataSync() as Float32Array);
      tf.dispose(out);
      return values;
    };
    const first = run();
    const whileAlive = backend.numDataIds();
    t.true(whileAlive > baseline + 2, 'the derived tensors are kept while w and bias live');
    const second = run();
    t.is(backend.numDataIds(), whileAlive, 'a second use makes nothing new');
    identical(t, second, first, 'second use');
    // The same products on fresh copies of w and bias (nothing cached) agree bit for bit.
    const freshOut = tf.tidy(() => {
      const w2 = tf.add(w, 0);
      const bias2 = tf.add(bias, 0);
      return [
        tf
          .engine()
          .runKernel<tf.Tensor>(
            '_FusedMatMul',
            { a: x, b: w2, bias: bias2 },
            { transposeA: false, transposeB: false, activation: 'relu', leakyreluAlpha: 0 },
          ),
        tf.matMul(dz, w2, false, true),
      ];
    });
    const fresh = freshOut.map((o) => o.dataSync() as Float32Array);
    tf.dispose(freshOut);
    identical(t, fresh, first, 'fresh operands');
    tf.dispose([w, bias]);
    t.is(
      backend.numDataIds(),
      baseline,
      'disposing w and bias frees all that was derived from them',
    );
    tf.dispose([x, dz]);
  },
);

test.serial(
  'batched and broadcast products are bit-identical to the stock kernel matrix by matrix',
  (t) => {
    const a = seeded([3, 20, 16], 5);
    const b = seeded([3, 16, 12], 6);
    const shared = seeded([1, 20, 16], 7);
    const { fixed } = bothKernels(() => [
      tf.matMul(a, b),
      tf.matMul(shared, b),
      tf.matMul(a, b, false, false),
    ]);
    const { stock: perMatrix } = bothKernels(() => {
      const slices = (x: tf.Tensor, n: number): tf.Tensor[] =>
        tf.split(x, n, 0).map((m) => tf.reshape(m, m.shape.slice(1)));
      const [as, bs] = [slices(a, 3), slices(b, 3)];
      const sharedMatrix = tf.reshape(shared, [20, 16]);
      return [
        tf.stack(as.map((m, i) => tf.matMul(m, bs[i]!))),
        tf.stack(bs.map((m) => tf.matMul(sharedMatrix, m))),
        tf.stack(as.map((m, i) => tf.matMul(m, bs[i]!))),
      ];
    });
    identical(t, fixed, perMatrix, 'batched');
  },
);

test.serial(
  'a fused product with a per-matrix bias and relu equals the stock kernel matrix by matrix',
  (t) => {
    const x = seeded([1, 30, 8], 8);
    const w = seeded([2, 8, 6], 9);
    const bias = seeded([2, 1, 6], 10);
    const fused = (): tf.Tensor =>
      tf
        .engine()
        .runKernel<tf.Tensor>(
          '_FusedMatMul',
          { a: x, b: w, bias },
          { transposeA: false, transposeB: false, activation: 'relu', leakyreluAlpha: 0 },
        );
    installKernelFixes();
    const fixed = tf.tidy(() => fused().dataSync());
    removeKernelFixes();
    // The stock kernel refuses a rank-3 bias...
    t.throws(() => tf.tidy(fused), { message: /rank-1 bias/ });
    // ...so the reference runs it one matrix at a time with rank-1 biases.
    const biasValues = bias.dataSync();
    const reference = tf.tidy(() => {
      const xs = tf.reshape(x, [1, 30, 8]);
      // A bias created rank-1 (the stock kernel checks the stored rank, so a reshape would not do).
      const rank1 = (i: number): tf.Tensor => tf.tensor1d(biasValues.slice(i * 6, i * 6 + 6));
      return tf
        .concat(
          [0, 1].map((i) =>
            tf
              .engine()
              .runKernel<tf.Tensor>(
                '_FusedMatMul',
                { a: xs, b: tf.slice(w, [i, 0, 0], [1, 8, 6]), bias: rank1(i) },
                { transposeA: false, transposeB: false, activation: 'relu', leakyreluAlpha: 0 },
              ),
          ),
          0,
        )
        .dataSync();
    });
    installKernelFixes();
    identical(t, [fixed as Float32Array], [reference as Float32Array], 'fused bias');
  },
);

test.serial(
  "fused products (bias shared or per matrix, relu or linear; any remainders, split across threads) match XNNPACK's bit for bit",
  async (t) => {
    await gemmHelpersReady();
    // [what, x shape, w shape, bias per matrix, activation]
    const cases: [string, number[], number[], boolean, 'relu' | 'linear'][] = [
      ['256-wide layer, split across threads', [256, 256], [256, 256], false, 'relu'],
      ['rows and columns left over', [130, 70], [70, 45], false, 'relu'],
      ['odd everything, linear', [37, 21], [21, 19], false, 'linear'],
      ['twin networks, per-matrix bias', [2, 66, 40], [2, 40, 36], true, 'relu'],
      ['one input row (acting)', [1, 64], [64, 64], false, 'relu'],
      ['one output (a critic head)', [2, 90, 64], [2, 64, 1], true, 'linear'],
      ['three inputs, few columns', [50, 3], [3, 20], false, 'relu'],
      ['four inputs, x broadcast', [1, 40, 4], [2, 4, 70], true, 'relu'],
      ['two inputs, one output', [33, 2], [2, 1], false, 'linear'],
    ];
    cases.forEach(([what, xShape, wShape, perMatrix, activation], i) => {
      const x = seeded(xShape, 200 + i);
      const w = seeded(wShape, 300 + i);
      const count = Math.max(
        xShape.length === 3 ? xShape[0]! : 1,
        wShape.length === 3 ? wShape[0]! : 1,
      );
      const n = wShape[wShape.length - 1]!;
      const bias = perMatrix ? seeded([count, 1, n], 400 + i) : seeded([n], 400 + i);
      const attrs = { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0 };
      installKernelFixes();
      const fixed = tf.tidy(
        () =>
          tf
            .engine()
            .runKernel<tf.Tensor>('_FusedMatMul', { a: x, b: w, bias }, attrs)
            .dataSync() as Float32Array,
      );
      // Reference: tfjs's own kernel, one matrix at a time, each with a bias created rank-1.
      const biasValues = bias.dataSync();
      removeKernelFixes();
      const reference = tf.tidy(() => {
        const xs = matrices(x, count);
        const ws = matrices(w, count);
        const products = xs.map((xi, j) =>
          tf.engine().runKernel<tf.Tensor>(
            '_FusedMatMul',
            {
              a: tf.reshape(xi, [1, ...xi.shape]),
              b: tf.reshape(ws[j]!, [1, ...ws[j]!.shape]),
              bias: tf.tensor1d(
                biasValues.slice(perMatrix ? j * n : 0, (perMatrix ? j * n : 0) + n),
              ),
            },
            attrs,
          ),
        );
        return tf.concat(products).dataSync() as Float32Array;
      });
      installKernelFixes();
      t.is(fixed.length, reference.length, what);
      identical(t, [fixed], [reference], what);
    });
  },
);

test.serial(
  'the gradients of a fused dense layer are bit-identical to stock kernels on explicit transposes',
  (t) => {
    const x = seeded([1, 40, 12], 11);
    const w = seeded([1, 12, 20], 12);
    const b = seeded([20], 13);
    const upstream = seeded([1, 40, 20], 14);
    installKernelFixes();
    const [dx, dw, db] = tf.tidy(() =>
      tf
        .grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
          tf.sum(tf.mul(dense(xi, wi, bi, 'relu', true), upstream)),
        )([x, w, b])
        .map((g) => g.dataSync() as Float32Array),
    );
    // By hand with stock kernels: dz = upstream · step(y), dx = dz·Wᵀ, dW = xᵀ·dz, db = Σ dz.
    removeKernelFixes();
    const [rdx, rdw] = tf.tidy(() => {
      const y = tf.relu(tf.add(tf.matMul(tf.reshape(x, [40, 12]), tf.reshape(w, [12, 20])), b));
      const dz = tf.mul(tf.reshape(upstream, [40, 20]), tf.step(y));
      return [
        tf.matMul(dz, tf.transpose(tf.reshape(w, [12, 20]))).dataSync() as Float32Array,
        tf.matMul(tf.transpose(tf.reshape(x, [40, 12])), dz).dataSync() as Float32Array,
      ];
    });
    installKernelFixes();
    identical(t, [dx!, dw!], [rdx, rdw], 'fused gradient');
    const rdb = tf.tidy(
      () =>
        tf
          .sum(
            tf.mul(
              tf.reshape(upstream, [40, 20]),
              tf.step(
                tf.relu(tf.add(tf.matMul(tf.reshape(x, [40, 12]), tf.reshape(w, [12, 20])), b)),
              ),
            ),
            0,
          )
          .dataSync() as Float32Array,
    );
    t.true(maxRelativeError(db!, rdb) < 1e-5);
  },
);

test.serial('slices and splits copy exactly what the stock kernels copy', (t) => {
  const x = seeded([4, 5, 6], 15);
  const flat = seeded([100], 16);
  const { stock, fixed } = bothKernels(() => [
    tf.slice(x, [1, 2, 0], [2, 3, 6]),
    tf.slice(x, [0, 1, 2], [4, 2, 3]),
    ...tf.split(flat, [10, 30, 60]),
    ...tf.split(x, [2, 4], 2),
  ]);
  identical(t, fixed, stock, 'slice');
});

test.serial('sums over leading or middle axes match the stock kernel', (t) => {
  const ints = tf.tensor3d(
    Array.from({ length: 2 * 7 * 5 }, (_, i) => (i * 37) % 11),
    [2, 7, 5],
  );
  const real = seeded([2, 64, 33], 17);
  const exact = bothKernels(() => [
    tf.sum(ints, 1, true),
    tf.sum(ints, [0, 1]),
    tf.sum(ints, 0),
    tf.sum(ints, 2),
    tf.sum(ints),
  ]);
  identical(t, exact.fixed, exact.stock, 'integer sums');
  const rounded = bothKernels(() => tf.sum(real, 1));
  t.true(maxRelativeError(rounded.fixed[0]!, rounded.stock[0]!) < 1e-5);
});

test.serial('an identity shares the data safely: the copy outlives the original', (t) => {
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  t.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  y.dispose();
});

test.serial(
  'with the fixes, a 256x256 backward pass still takes two matmuls and matches stock',
  async (t) => {
    // What the fixes change is which code runs, not how many kernels: the speed-up itself is a
    // benchmark figure (`npm run bench -- updates` against `--stock-kernels`), not a timed test.
    const x = seeded([1, 256, 256], 18);
    const w = seeded([1, 256, 256], 19);
    const b = seeded([256], 20);
    const step = (): tf.Tensor[] =>
      tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(dense(xi, wi, b, 'relu', true)))([x, w]);
    const grads = bothKernels(() => step());
    for (let i = 0; i < 2; i++) {
      t.true(maxRelativeError(grads.fixed[i]!, grads.stock[i]!) < 1e-4);
    }
    installKernelFixes();
    const counts = await countKernels(step);
    t.true(
      counts.total > 0 && (counts.byName['BatchMatMul'] ?? 0) === 2,
      JSON.stringify(counts.byName),
    );
  },
);

test.serial(
  'WMGYM_BACKEND values are checked: a typo is an InvalidOptionError naming the allowed backends',
  (t) => {
    t.is(parseBackendName('WASM'), 'wasm');
    t.is(parseBackendName('node'), 'tensorflow');
    t.is(parseBackendName(''), undefined);
    t.throws(() => parseBackendName('wsam'), {
      instanceOf: InvalidOptionError,
      message:
        /Invalid option WMGYM_BACKEND: expected "tensorflow" \(or "node"\), "wasm" or "cpu", received "wsam"/,
    });
  },
);

test.serial(
  'a NaN reaching a fused relu stays NaN, as with tf.relu (XNNPACK would clamp it to 0)',
  (t) => {
    const x = tf.tensor2d([
      [NaN, 1],
      [1, 1],
      [-1, -1],
    ]);
    const w = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const bias = tf.tensor1d([0, 0]);
    installKernelFixes();
    const fused = tf.tidy(() =>
      Array.from(tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }).dataSync()),
    );
    const unfused = tf.tidy(() => Array.from(tf.relu(tf.add(tf.matMul(x, w), bias)).dataSync()));
    t.deepEqual(fused, [NaN, NaN, 4, 6, 0, 0]);
    t.deepEqual(fused, unfused);
    tf.dispose([x, w, bias]);
  },
);
