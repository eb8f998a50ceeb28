import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { Box, Discrete } from '../../envs/core/space.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import { spacesOf, type Transition } from '../../agents/agent.js';
import { ReplayBuffer } from '../../agents/buffers/replay-buffer.js';
import { evaluate, train } from '../../agents/loop.js';
import { SAC_DEFAULTS, SacAgent } from '../../agents/sac.js';
import { initBackend } from '../../agents/nn/backend.js';
import { ChainEnv } from '../helpers/chain-env.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

test('SAC improves on Pendulum within a tiny budget', async (t) => {
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  const agent = SacAgent.create(spacesOf(env), {
    seed: 1,
    learningStarts: 200,
    policyLr: 1e-3,
    qLr: 1e-3,
    hiddenSizes: [64, 64],
    batchSize: 64,
    policyFrequency: 1,
    bufferSize: 10_000,
  });
  const before = await evaluate(agent, make<Float32Array, Float32Array>('Pendulum-v1'), {
    episodes: 5,
    seed: 100,
  });
  await train(agent, env, { steps: 2000, seed: 1 });
  const after = await evaluate(agent, make<Float32Array, Float32Array>('Pendulum-v1'), {
    episodes: 5,
    seed: 100,
  });
  // From the same five starts: the untrained policy scores about -1550, two thousand steps in about -1040.
  t.true(
    after.meanReturn > before.meanReturn + 200,
    `before ${before.meanReturn.toFixed(0)}, after ${after.meanReturn.toFixed(0)}`,
  );
  t.true(agent.alpha < 1, 'the temperature was tuned down from its initial value');
});

test('SAC-Discrete learns a chain with masked actions and never takes a masked one', async (t) => {
  const env = new ChainEnv({ length: 6, masked: true, maxSteps: 30 });
  // γ = 0.9 and α from 0.2: while α·H per step (the entropy bonus of never ending) outweighs the
  // goal's reward of 1 over the horizon, the soft-optimal policy rightly walks away from the goal.
  const agent = SacAgent.create(spacesOf(env), {
    seed: 2,
    gamma: 0.9,
    initialAlpha: 0.2,
    learningStarts: 100,
    policyLr: 3e-3,
    qLr: 3e-3,
    hiddenSizes: [32],
    batchSize: 32,
    policyFrequency: 1,
    bufferSize: 2000,
    tau: 0.05,
  });
  await train(agent, env, { steps: 1000, seed: 2 }); // ChainEnv throws on a masked action
  const result = await evaluate(agent, new ChainEnv({ length: 6, masked: true, maxSteps: 30 }), {
    episodes: 2,
    seed: 3,
  });
  t.deepEqual(result.lengths, [5, 5]);
});

test('continuous actions are squashed into the action bounds', async (t) => {
  const spaces = {
    observationSpace: new Box({ low: -1, high: 1, shape: [2] }),
    actionSpace: new Box({ low: [0, -10], high: [1, 10] }),
  };
  const agent = SacAgent.create(spaces, { learningStarts: 0, hiddenSizes: [8] });
  for (let i = 0; i < 50; i++) {
    const a = (await agent.act(Float32Array.of(Math.sin(i), Math.cos(i)), {
      explore: true,
    })) as Float32Array;
    t.true(spaces.actionSpace.contains(a));
  }
});

test('save then load gives identical actions and identical updates afterwards', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-sac-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  const options = {
    seed: 3,
    learningStarts: 40,
    hiddenSizes: [16, 16],
    batchSize: 16,
    bufferSize: 500,
  };
  const a = SacAgent.create(spacesOf(env), options);
  await train(a, env, { steps: 80, seed: 3 });
  await a.save(dir);
  const b = SacAgent.create(spacesOf(env), options);
  await b.load(dir);
  const { observation } = env.reset({ seed: 5 });
  t.deepEqual(await b.act(observation), await a.act(observation));
  t.deepEqual(
    await b.act(observation, { explore: true }),
    await a.act(observation, { explore: true }),
  );
  const action = (await a.act(observation)) as Float32Array;
  const transition = {
    observation,
    action,
    reward: -1,
    nextObservation: observation,
    terminated: false,
    truncated: false,
    info: {},
    envIndex: 0,
  };
  await a.observe(transition);
  await b.observe(transition);
  t.deepEqual(b.metrics(), a.metrics());
  t.is(b.alpha, a.alpha);
});

test('bad SAC options and unbounded action spaces are InvalidOptionErrors', (t) => {
  const observationSpace = new Box({ low: 0, high: 1, shape: [2] });
  const actionSpace = new Box({ low: -1, high: 1, shape: [1] });
  t.throws(() => SacAgent.create({ observationSpace, actionSpace }, { batchSize: 0 }), {
    instanceOf: InvalidOptionError,
    message: /SacAgent\.batchSize: expected an integer >= 1, received 0/,
  });
  t.throws(() => SacAgent.create({ observationSpace, actionSpace }, { logStdMin: 3 }), {
    instanceOf: InvalidOptionError,
    message: /logStdMin: expected a number below logStdMax \(2\), received 3/,
  });
  t.throws(
    () =>
      SacAgent.create({
        observationSpace,
        actionSpace: new Box({ low: -Infinity, high: Infinity, shape: [1] }),
      }),
    { instanceOf: InvalidOptionError, message: /bounded on both sides/ },
  );
  t.notThrows(() => SacAgent.create({ observationSpace, actionSpace: new Discrete(3) }));
  t.is(SacAgent.create({ observationSpace, actionSpace }).config.tau, SAC_DEFAULTS.tau);
});

// ---- hooks for training without an environment ------------------------------------------------

/** Transitions with actions in env units, from a seeded generator (every 7th terminates). */
function transitions(
  count: number,
  actionSpace: Box | Discrete,
  seed: number,
): Transition<Float32Array, number | Float32Array>[] {
  const rng = new Rng(seed);
  const out: Transition<Float32Array, number | Float32Array>[] = [];
  for (let i = 0; i < count; i++) {
    const observation = Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1));
    const action = actionSpace.sample(rng);
    out.push({
      observation,
      action,
      reward: rng.uniform(-1, 1),
      nextObservation: Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
      terminated: i % 7 === 6,
      truncated: false,
      info: {},
      envIndex: 0,
    });
  }
  return out;
}

const boxSpaces = {
  observationSpace: new Box({ low: -1, high: 1, shape: [2] }),
  actionSpace: new Box({ low: [0, -1], high: [10, 3] }),
};
const discreteSpaces = {
  observationSpace: new Box({ low: -1, high: 1, shape: [2] }),
  actionSpace: new Discrete(3, { start: 1 }),
};
const rowSpaces = [
  { name: 'Box', ...boxSpaces },
  { name: 'Discrete with start 1', ...discreteSpaces },
];

for (const { name, ...spaces } of rowSpaces) {
  test(`trainFrom on a buffer of env-unit actions trains exactly as observe() on the same transitions (${name})`, async (t) => {
    const options = {
      seed: 4,
      learningStarts: 10,
      hiddenSizes: [16],
      batchSize: 8,
      bufferSize: 100,
      policyFrequency: 1,
    };
    const online = SacAgent.create(spaces, options);
    const offline = SacAgent.create(spaces, options);
    const discrete = spaces.actionSpace instanceof Discrete;
    const buffer = new ReplayBuffer({
      capacity: 100,
      observationSize: 2,
      actionSize: discrete ? 1 : 2,
    });
    for (const [i, tr] of transitions(30, spaces.actionSpace, 9).entries()) {
      await online.observe(tr);
      buffer.add(tr);
      if (i + 1 > options.learningStarts) await offline.trainFrom([{ buffer, fraction: 1 }], 1);
    }
    const metrics = offline.metrics();
    t.is(metrics['charts/updates'], 10.5, 'twenty updates (the mean of their counts 1..20)');
    t.deepEqual(metrics, online.metrics());
    t.is(offline.alpha, online.alpha);
    const rows = Float32Array.of(0.1, -0.5, 0.9, 0.3, -0.7, -0.2);
    const greedy = { explore: false, rng: new Rng(0) };
    t.deepEqual(offline.actOnRows(rows, greedy), online.actOnRows(rows, greedy));
    t.deepEqual(offline.valueRows(rows), online.valueRows(rows));
    // Zero updates change nothing.
    await offline.trainFrom([{ buffer, fraction: 1 }], 0);
    t.deepEqual(offline.metrics(), {});
  });
}

test('actOnRows is act() on rows: the same greedy actions, exploration from the given generator only', async (t) => {
  const spaces = boxSpaces;
  const agent = SacAgent.create(spaces, { seed: 6, learningStarts: 0, hiddenSizes: [8] });
  const twin = SacAgent.create(spaces, { seed: 6, learningStarts: 0, hiddenSizes: [8] });
  t.throws(() => agent.actOnRows(new Float32Array(2), { explore: false, rng: new Rng(1) }), {
    instanceOf: InvalidStateError,
    message: /await agent\.ready\(\) first/,
  });
  await agent.ready();
  const observations = [Float32Array.of(0.2, -0.4), Float32Array.of(-0.9, 0.6)];
  const rows = Float32Array.of(0.2, -0.4, -0.9, 0.6);
  const greedy = agent.actOnRows(rows, { explore: false, rng: new Rng(1) });
  for (const [i, o] of observations.entries())
    t.deepEqual(
      Array.from((await agent.act(o)) as Float32Array),
      Array.from(greedy.subarray(i * 2, i * 2 + 2)),
    );
  const sampled = agent.actOnRows(rows, { explore: true, rng: new Rng(7) });
  t.deepEqual(agent.actOnRows(rows, { explore: true, rng: new Rng(7) }), sampled);
  t.notDeepEqual(sampled, greedy);
  for (let i = 0; i < 4; i++)
    t.true(
      sampled[i]! >= spaces.actionSpace.low[i % 2]! &&
        sampled[i]! <= spaces.actionSpace.high[i % 2]!,
    );
  // The agent's own generator did not move: its exploring act() equals its twin's.
  t.deepEqual(
    await agent.act(observations[0]!, { explore: true }),
    await twin.act(observations[0]!, { explore: true }),
  );
  t.throws(() => agent.valueRows(new Float32Array(3)), {
    instanceOf: InvalidValueError,
    message: /observation rows for SacAgent: expected a Float32Array of n × 2 values/,
  });
});

test("SAC-Discrete values rows as the policy-weighted critic: between the single allowed actions' values", async (t) => {
  const spaces = discreteSpaces;
  const agent = SacAgent.create(spaces, { seed: 8, hiddenSizes: [8] });
  await agent.ready();
  const rows = Float32Array.of(0.3, -0.1, -0.8, 0.5);
  const all = agent.valueRows(rows);
  const single = [0, 1, 2].map((k) => {
    const masks = new Uint8Array(6);
    masks[k] = 1;
    masks[3 + k] = 1;
    return agent.valueRows(rows, masks);
  });
  for (let i = 0; i < 2; i++) {
    const vs = single.map((v) => v[i]!);
    t.true(all[i]! >= Math.min(...vs) - 1e-6 && all[i]! <= Math.max(...vs) + 1e-6);
  }
  // A masked row never proposes a forbidden action.
  const masks = Uint8Array.of(0, 1, 0, 1, 0, 0);
  for (let s = 0; s < 20; s++) {
    const a = agent.actOnRows(rows, { explore: true, rng: new Rng(s), masks });
    t.deepEqual(Array.from(a), [2, 1]);
  }
});
