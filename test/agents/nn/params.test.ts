import test from 'ava';
import { tf, initBackend } from '../../../agents/nn/backend.js';
import { Mlp } from '../../../agents/nn/mlp.js';
import { ParameterSet, fanInUniform, orthogonal } from '../../../agents/nn/params.js';
import { InvalidOptionError, InvalidStateError } from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

test('unpacking splits the flat vector into shaped pieces and the gradient comes back flat', (t) => {
  const params = new ParameterSet('p');
  params.add(
    'w',
    [1, 2, 3],
    Float32Array.from({ length: 6 }, (_, i) => i),
  );
  params.add('b', [3], Float32Array.of(10, 20, 30));
  params.build();
  const views = params.views();
  t.deepEqual(views['w']!.shape, [1, 2, 3]);
  t.deepEqual(Array.from(views['b']!.dataSync()), [10, 20, 30]);
  t.is(params.views(), views); // cached until the values change
  const { grads } = tf.variableGrads(() => {
    const p = params.unpack();
    return tf.add(tf.sum(tf.mul(p['w']!, 2)), tf.sum(p['b']!));
  }, [params.variable]);
  t.deepEqual(Array.from(grads[params.variable.name]!.dataSync()), [2, 2, 2, 2, 2, 2, 1, 1, 1]);
  params.write(Float32Array.of(0, 0, 0, 0, 0, 0, 1, 2, 3));
  t.not(params.views(), views);
  t.deepEqual(Array.from(params.views()['b']!.dataSync()), [1, 2, 3]);
});

test('valueAndGrad gives the loss and flat gradient of variableGrads through unpack, bit for bit, on the cached views', (t) => {
  const params = new ParameterSet('net');
  const rng = new Rng(5);
  const mlp = new Mlp(
    params,
    {
      name: 'q',
      inputSize: 6,
      hiddenSizes: [32, 32],
      outputSize: 3,
      activation: 'relu',
      init: 'fan-in-uniform',
      ensemble: 2,
    },
    rng,
  );
  params.add('unused', [4], Float32Array.of(1, 2, 3, 4));
  params.build();
  const x = tf.randomNormal([1, 40, 6], 0, 1, 'float32', 9);
  const loss = (p: Record<string, tf.Tensor>): tf.Scalar => tf.mean(tf.square(mlp.apply(p, x)));
  const reference = tf.variableGrads(() => loss(params.unpack()), [params.variable]);
  const views = params.views();
  const seen: tf.Tensor[] = [];
  const { value, grad } = params.valueAndGrad((p) => {
    seen.push(p['q.w1']!);
    return loss(p);
  });
  t.is(seen[0], views['q.w1']); // the cached view itself, not a fresh slice
  t.is(value.dataSync()[0], reference.value.dataSync()[0]);
  const expected = reference.grads[params.variable.name]!.dataSync();
  const actual = grad.dataSync();
  t.is(actual.length, params.size);
  t.true(actual.every((v, i) => Object.is(v, expected[i])));
  t.deepEqual(Array.from(actual.slice(params.size - 4)), [0, 0, 0, 0]); // the unused piece
  tf.dispose([value, grad, reference.value, x]);
  tf.dispose(Object.values(reference.grads));
});

test('orthogonal initialisation gives orthonormal rows or columns scaled by the gain', (t) => {
  for (const [rows, cols] of [
    [6, 4],
    [4, 6],
    [5, 5],
  ] as const) {
    const w = orthogonal(rows, cols, 2, new Rng(3));
    const small = Math.min(rows, cols);
    for (let a = 0; a < small; a++) {
      for (let b = 0; b < small; b++) {
        let dot = 0;
        for (let k = 0; k < Math.max(rows, cols); k++)
          dot +=
            rows >= cols
              ? w[k * cols + a]! * w[k * cols + b]!
              : w[a * cols + k]! * w[b * cols + k]!;
        t.true(Math.abs(dot - (a === b ? 4 : 0)) < 1e-4, `${rows}x${cols} (${a},${b}) = ${dot}`);
      }
    }
  }
});

test('initialisation is fixed by the seed and differs between seeds', (t) => {
  const init = (seed: number): Float32Array => {
    const params = new ParameterSet('n');
    new Mlp(
      params,
      {
        name: 'n',
        inputSize: 4,
        hiddenSizes: [8, 8],
        outputSize: 3,
        activation: 'relu',
        init: 'fan-in-uniform',
      },
      new Rng(seed),
    );
    params.build();
    const v = params.read();
    params.dispose();
    return v;
  };
  t.deepEqual(init(5), init(5));
  t.notDeepEqual(init(5), init(6));
  const u = fanInUniform(1000, 16, new Rng(1));
  t.true(u.every((v) => Math.abs(v) <= 0.25));
});

test('parameter sets reject bad layouts and values of the wrong length', (t) => {
  const params = new ParameterSet('p');
  t.throws(() => params.add('w', [2, 2], new Float32Array(3)), {
    instanceOf: InvalidStateError,
    message: /4 initial values/,
  });
  params.add('w', [2], Float32Array.of(1, 2));
  params.build();
  t.throws(() => params.write(new Float32Array(5)), {
    instanceOf: InvalidStateError,
    message: /expected 2 float32 values, received 5/,
  });
  t.throws(
    () =>
      new Mlp(
        new ParameterSet('q'),
        {
          name: 'q',
          inputSize: 0,
          hiddenSizes: [2],
          outputSize: 1,
          activation: 'relu',
          init: 'orthogonal',
        },
        new Rng(1),
      ),
    { instanceOf: InvalidOptionError },
  );
});
