import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Box, Discrete } from '../../envs/core/space.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../envs/core/errors.js';
import { RandomAgent } from '../../agents/random.js';

const spaces = {
  observationSpace: new Box({ low: 0, high: 1, shape: [1] }),
  actionSpace: new Discrete(4),
};

test('the random agent draws every allowed action and never a masked one', async (t) => {
  const agent = RandomAgent.create(spaces, { seed: 1 });
  const counts = [0, 0, 0, 0];
  const mask = Uint8Array.of(1, 0, 1, 1);
  for (let i = 0; i < 3000; i++)
    counts[await agent.act(Float32Array.of(0), { actionMask: mask })]!++;
  t.is(counts[1], 0);
  for (const k of [0, 2, 3]) t.true(Math.abs(counts[k]! / 3000 - 1 / 3) < 0.04);
  const batch = await agent.actBatch([Float32Array.of(0), Float32Array.of(0)], {
    actionMasks: [Uint8Array.of(0, 0, 0, 1), undefined],
  });
  t.is(batch[0], 3);
});

test('the same seed gives the same actions, and save/load continues the stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-random-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = RandomAgent.create(
    {
      observationSpace: spaces.observationSpace,
      actionSpace: new Box({ low: -2, high: 2, shape: [2] }),
    },
    { seed: 7 },
  );
  const b = RandomAgent.create(
    {
      observationSpace: spaces.observationSpace,
      actionSpace: new Box({ low: -2, high: 2, shape: [2] }),
    },
    { seed: 7 },
  );
  t.deepEqual(await a.act(Float32Array.of(0)), await b.act(Float32Array.of(0)));
  await a.save(dir);
  const c = RandomAgent.create(
    {
      observationSpace: spaces.observationSpace,
      actionSpace: new Box({ low: -2, high: 2, shape: [2] }),
    },
    { seed: 99 },
  );
  await c.load(dir);
  for (let i = 0; i < 5; i++)
    t.deepEqual(await c.act(Float32Array.of(0)), await a.act(Float32Array.of(0)));
  await t.throwsAsync(RandomAgent.create(spaces).load(dir), {
    instanceOf: InvalidStateError,
    message: /action space Discrete\(4\)/,
  });
});

test('bad options and masks get typed errors', async (t) => {
  t.throws(() => RandomAgent.create(spaces, { seed: -1 }), {
    instanceOf: InvalidOptionError,
    message: /RandomAgent\.seed: expected a non-negative integer, received -1/,
  });
  t.throws(() => RandomAgent.create(spaces, { sed: 1 } as never), {
    instanceOf: InvalidOptionError,
    message: /RandomAgent\.sed/,
  });
  await t.throwsAsync(
    RandomAgent.create(spaces).act(Float32Array.of(0), { actionMask: Uint8Array.of(1, 1) }),
    { instanceOf: InvalidValueError, message: /expected a Uint8Array of 4 values in \{0, 1\}/ },
  );
});
