import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MetricAccumulator,
  readAgentConfig,
  readAgentFile,
  writeAgentFile,
} from '../../agents/checkpoint.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { InvalidStateError, MalformedFileError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';

const spaces = {
  observationSpace: new Box({ low: 0, high: 1, shape: [2] }),
  actionSpace: new Discrete(3),
};

function saved(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-agentfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeAgentFile(dir, {
    kind: 'demo',
    config: { lr: 0.1, sizes: [4] },
    spaces,
    tensors: { w: Float32Array.of(1, 2, 3), m: Float32Array.of(4) },
    state: { rng: new Rng(5).getState(), steps: 7 },
  });
  return dir;
}

test('an agent file round-trips tensors, state and the generator', (t) => {
  const dir = saved(t);
  const file = readAgentFile(dir, {
    kind: 'demo',
    config: { lr: 0.1, sizes: [4] },
    spaces,
    tensors: { w: 3, m: 1 },
  });
  t.deepEqual(Array.from(file.tensors['w']!), [1, 2, 3]);
  t.deepEqual(Array.from(file.tensors['m']!), [4]);
  t.is(file.state['steps'], 7);
  t.is(file.rng(file.state['rng']).random(), new Rng(5).random());
  t.deepEqual(readAgentConfig(dir), { kind: 'demo', config: { lr: 0.1, sizes: [4] } });
});

test('loading into a different agent names what differs', (t) => {
  const dir = saved(t);
  const expect = { kind: 'demo', config: { lr: 0.1, sizes: [4] }, spaces, tensors: { w: 3, m: 1 } };
  t.throws(() => readAgentFile(dir, { ...expect, kind: 'other' }), {
    instanceOf: InvalidStateError,
    message: /expected a saved other agent, received "a demo agent"/,
  });
  t.throws(() => readAgentFile(dir, { ...expect, config: { lr: 0.2, sizes: [4] } }), {
    instanceOf: InvalidStateError,
    message: /lr=0\.2.*received "lr=0\.1"/,
  });
  t.throws(
    () => readAgentFile(dir, { ...expect, spaces: { ...spaces, actionSpace: new Discrete(4) } }),
    { instanceOf: InvalidStateError, message: /actionSpace/ },
  );
  t.throws(() => readAgentFile(dir, { ...expect, tensors: { w: 5, m: 1 } }), {
    instanceOf: InvalidStateError,
    message: /tensor w .*expected 5 values, received 3/,
  });
  t.throws(() => readAgentFile(dir, { ...expect, tensors: { w: 3, m: 1, v: 1 } }), {
    instanceOf: MalformedFileError,
    message: /\$\.tensors\.v/,
  });
});

test('missing, corrupt or truncated files are MalformedFileErrors', (t) => {
  const dir = saved(t);
  const expect = { kind: 'demo', config: { lr: 0.1, sizes: [4] }, spaces, tensors: { w: 3, m: 1 } };
  writeFileSync(join(dir, 'agent.bin'), readFileSync(join(dir, 'agent.bin')).subarray(0, 8));
  t.throws(() => readAgentFile(dir, expect), {
    instanceOf: MalformedFileError,
    message: /agent\.bin/,
  });
  writeFileSync(join(dir, 'agent.json'), '{"format": "something-else"}');
  t.throws(() => readAgentFile(dir, expect), {
    instanceOf: MalformedFileError,
    message: /\$\.format: expected "wmgym-agent" version 1/,
  });
  writeFileSync(join(dir, 'agent.json'), '{not json');
  t.throws(() => readAgentFile(dir, expect), {
    instanceOf: MalformedFileError,
    message: /not valid JSON/,
  });
  t.throws(() => readAgentFile(join(dir, 'nope'), expect), {
    instanceOf: MalformedFileError,
    message: /no file/,
  });
});

test('metric accumulators average since the last drain and skip non-finite values', (t) => {
  const m = new MetricAccumulator();
  m.add({ 'losses/a': 1, 'losses/b': Number.NaN });
  m.add({ 'losses/a': 3 });
  t.deepEqual(m.drain(), { 'losses/a': 2 });
  t.deepEqual(m.drain(), {});
  m.add({ x: 5 });
  const copy = new MetricAccumulator();
  copy.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  t.deepEqual(copy.drain(), { x: 5 });
});
