import test from 'ava';
import {
  tf,
  backendInfo,
  fusedKernelsAvailable,
  initBackend,
  installKernelFixes,
  removeKernelFixes,
} from '../../../agents/nn/backend.js';
import { Adam, ScalarAdam } from '../../../agents/nn/optimizer.js';
import { ParameterSet } from '../../../agents/nn/params.js';
import { InvalidOptionError, InvalidStateError } from '../../../envs/core/errors.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

function set(values: number[], name = 'p'): ParameterSet {
  const p = new ParameterSet(name);
  p.add('v', [values.length], Float32Array.from(values));
  p.build();
  return p;
}

/** torch.optim.Adam, in float64. */
function referenceAdam(p: number[], grads: number[][], lr: number, eps: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
      const mHat = m[i]! / (1 - 0.9 ** t);
      const vHat = v[i]! / (1 - 0.999 ** t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return p;
}

test('Adam follows the PyTorch update rule', (t) => {
  const params = set([1, -2, 0.5]);
  const adam = new Adam(params, { learningRate: 0.1, epsilon: 1e-5 });
  const grads = [
    [0.3, -1, 2],
    [0.1, 0.1, -0.5],
    [-0.2, 0.4, 0],
  ];
  for (const g of grads) tf.tidy(() => adam.step(tf.tensor1d(g)).gradNorm.dispose());
  const expected = referenceAdam([1, -2, 0.5], grads, 0.1, 1e-5);
  params
    .read()
    .forEach((v, i) => t.true(Math.abs(v - expected[i]!) < 1e-5, `p[${i}] ${v} vs ${expected[i]}`));
  t.is(adam.stepCount, 3);
});

test('global gradient clipping scales the whole gradient to the maximum norm and reports the norm before', (t) => {
  const params = set([0, 0]);
  // With one step, Adam moves each parameter by lr·sign(g): clipping is visible in m and v instead.
  const adam = new Adam(params, { learningRate: 1e-3, maxGradNorm: 1 });
  const norm = tf.tidy(() => adam.step(tf.tensor1d([3, 4])).gradNorm.dataSync()[0]!);
  t.true(Math.abs(norm - 5) < 1e-6);
  const state = adam.getState();
  // m = 0.1 · g · (1 / (5 + 1e-6))
  t.true(Math.abs(state.m[0]! - 0.1 * 0.6) < 1e-6 && Math.abs(state.m[1]! - 0.1 * 0.8) < 1e-6);
  const small = new Adam(set([0]), { learningRate: 1e-3, maxGradNorm: 10 });
  tf.tidy(() => void small.step(tf.tensor1d([2])));
  t.true(Math.abs(small.getState().m[0]! - 0.2) < 1e-6); // below the maximum: untouched
});

test('Adam state round-trips and a state of the wrong size is refused', (t) => {
  const a = new Adam(set([1, 2]), { learningRate: 0.01 });
  tf.tidy(() => void a.step(tf.tensor1d([1, -1])));
  const b = new Adam(set([1, 2]), { learningRate: 0.01 });
  b.setState(a.getState());
  t.deepEqual(b.getState(), a.getState());
  t.throws(() => b.setState({ step: 1, m: new Float32Array(3), v: new Float32Array(2) }), {
    instanceOf: InvalidStateError,
    message: /m and v of 2 values/,
  });
});

test('the scalar Adam matches the tensor Adam on a single parameter', (t) => {
  const tensor = new Adam(set([0.5]), { learningRate: 0.05 });
  const scalar = new ScalarAdam(0.5, { learningRate: 0.05 });
  for (const g of [1, -0.3, 0.7, 2]) {
    tf.tidy(() => void tensor.step(tf.tensor1d([g])));
    scalar.step(g);
  }
  t.true(Math.abs(tensor.params.read()[0]! - scalar.value) < 1e-6);
  const copy = new ScalarAdam(0, { learningRate: 0.05 });
  copy.fromJSON(JSON.parse(JSON.stringify(scalar.toJSON())));
  t.deepEqual(copy.toJSON(), scalar.toJSON());
  t.throws(() => copy.fromJSON({ value: 1 }), { instanceOf: InvalidStateError });
});

test.serial(
  "on wasm, Adam's one-pass kernel gives bit for bit the parameters and moments of the elementwise ops, clipped or not",
  (t) => {
    if (backendInfo()?.name !== 'wasm') {
      t.pass('the fused kernel exists on wasm only');
      return;
    }
    const run = (maxGradNorm: number | undefined, withoutNorm = false): Float32Array[] => {
      const params = new ParameterSet('p');
      params.add(
        'w',
        [1003],
        Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i)),
      );
      params.build();
      const adam = new Adam(params, {
        learningRate: 3e-4,
        epsilon: 1e-5,
        ...(maxGradNorm === undefined ? {} : { maxGradNorm }),
      });
      for (let step = 0; step < 5; step++) {
        const g = tf.randomNormal([1003], 0, 1 + step, 'float32', 70 + step);
        if (withoutNorm) adam.stepWithoutNorm(g);
        else adam.step(g).gradNorm.dispose();
        g.dispose();
      }
      const state = adam.getState();
      const out = [params.read(), state.m, state.v];
      adam.dispose();
      params.dispose();
      return out;
    };
    for (const clip of [undefined, 0.5]) {
      t.true(fusedKernelsAvailable());
      const fused = run(clip);
      // stepWithoutNorm skips only the report: the same parameters and moments.
      const quiet = run(clip, true);
      fused.forEach((x, i) => t.true(x.every((value, j) => Object.is(value, quiet[i]![j]))));
      removeKernelFixes();
      t.false(fusedKernelsAvailable());
      const ops = run(clip);
      installKernelFixes();
      fused.forEach((x, i) =>
        t.true(
          x.every((value, j) => Object.is(value, ops[i]![j])),
          `${['parameters', 'm', 'v'][i]!}, maxGradNorm ${clip}`,
        ),
      );
    }
  },
);

/** torch.optim.AdamW, in float64: p ← p·(1 − lr·λ) (where it decays), then the Adam step. */
function referenceAdamW(
  p: number[],
  grads: number[][],
  lr: number,
  lambda: number,
  decays: boolean[],
): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      if (decays[i]) p[i] = p[i]! * (1 - lr * lambda);
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
      const mHat = m[i]! / (1 - 0.9 ** t);
      const vHat = v[i]! / (1 - 0.999 ** t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  });
  return p;
}

test('with weightDecay, Adam is AdamW: decoupled decay on every piece, or on the pieces decays picks', (t) => {
  const grads = [
    [0.3, -1, 2, 0.5],
    [0.1, 0.1, -0.5, 0],
    [-0.2, 0.4, 0, 1],
  ];
  const make = (): ParameterSet => {
    const p = new ParameterSet('p');
    p.add('w', [1, 2], Float32Array.of(1, -2)); // a matrix
    p.add('b', [2], Float32Array.of(0.5, 3)); // a bias
    p.build();
    return p;
  };
  for (const [decays, mask] of [
    [undefined, [true, true, true, true]],
    [(piece: { shape: readonly number[] }) => piece.shape.length >= 2, [true, true, false, false]],
  ] as const) {
    const params = make();
    const adam = new Adam(params, { learningRate: 0.1, weightDecay: 0.5, decays });
    for (const g of grads) tf.tidy(() => adam.step(tf.tensor1d(g)).gradNorm.dispose());
    const expected = referenceAdamW([1, -2, 0.5, 3], grads, 0.1, 0.5, [...mask]);
    params
      .read()
      .forEach((v, i) =>
        t.true(Math.abs(v - expected[i]!) < 1e-5, `p[${i}] ${v} vs ${expected[i]}`),
      );
  }
  // A decay that differs from plain Adam only where it decays.
  const plain = make();
  const plainAdam = new Adam(plain, { learningRate: 0.1 });
  const partial = make();
  const partialAdam = new Adam(partial, {
    learningRate: 0.1,
    weightDecay: 0.5,
    decays: (piece) => piece.name === 'w',
  });
  for (const g of grads) {
    tf.tidy(() => plainAdam.stepWithoutNorm(tf.tensor1d(g)));
    tf.tidy(() => partialAdam.stepWithoutNorm(tf.tensor1d(g)));
  }
  const [a, b] = [plain.read(), partial.read()];
  t.true(Math.abs(a[0]! - b[0]!) > 1e-3 && Math.abs(a[1]! - b[1]!) > 1e-3, 'w decays');
  t.is(a[2], b[2]);
  t.is(a[3], b[3]);
});

test('a negative or non-finite weight decay is refused', (t) => {
  for (const weightDecay of [-0.1, NaN, Infinity])
    t.throws(() => new Adam(set([1]), { learningRate: 0.1, weightDecay }), {
      instanceOf: InvalidOptionError,
      message: /weightDecay: expected a finite number ≥ 0/,
    });
});
