import test from 'ava';
import { initBackend } from '../../../agents/nn/backend.js';
import { ParameterSet } from '../../../agents/nn/params.js';
import { polyakUpdate } from '../../../agents/nn/polyak.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

function set(values: number[], name = 'p'): ParameterSet {
  const p = new ParameterSet(name);
  p.add('v', [values.length], Float32Array.from(values));
  p.build();
  return p;
}

test('Polyak averaging moves the target by tau toward the online values, and tau = 1 copies', (t) => {
  const online = set([1, 2], 'online');
  const target = set([0, 0], 'target');
  polyakUpdate(target, online, 0.25);
  t.deepEqual(Array.from(target.read()), [0.25, 0.5]);
  polyakUpdate(target, online, 1);
  t.deepEqual(Array.from(target.read()), [1, 2]);
  // The copy is independent of later changes to the online values.
  online.write(Float32Array.of(5, 5));
  t.deepEqual(Array.from(target.read()), [1, 2]);
  t.throws(() => polyakUpdate(target, online, 0), {
    instanceOf: InvalidOptionError,
    message: /tau: expected a number in \(0, 1\], received 0/,
  });
  t.throws(() => polyakUpdate(target, set([1, 2, 3]), 0.5), { instanceOf: InvalidOptionError });
});
