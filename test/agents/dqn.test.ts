import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { spacesOf } from '../../agents/agent.js';
import { evaluate, train } from '../../agents/loop.js';
import { DQN_DEFAULTS, DqnAgent } from '../../agents/dqn.js';
import { ReplayBuffer } from '../../agents/buffers/replay-buffer.js';
import { initBackend } from '../../agents/nn/backend.js';
import { ChainEnv } from '../helpers/chain-env.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

test('DQN learns to reach the goal of GridNav-Empty-5x5 in a few thousand steps', async (t) => {
  const id = 'GridNav-Empty-5x5-v0';
  const env = make(id);
  const agent = DqnAgent.create(spacesOf(env), {
    seed: 1,
    learningStarts: 500,
    trainFrequency: 2,
    learningRate: 2.5e-4,
    gamma: 0.95,
    bufferSize: 10_000,
    targetUpdateInterval: 500,
    explorationFraction: 0.4,
    batchSize: 64,
    hiddenSizes: [64, 64],
  });
  const before = await evaluate(agent, make(id), { episodes: 3, seed: 5 });
  await train(agent, env, { steps: 3000, seed: 1 });
  const after = await evaluate(agent, make(id), { episodes: 3, seed: 5 });
  t.is(before.successRate, 0);
  t.is(after.successRate, 1);
  t.true(after.meanReturn > 0.9, `mean return ${after.meanReturn}`);
});

test('ε decays linearly over the exploration fraction of the run, then stays at its final value', async (t) => {
  const agent = DqnAgent.create(
    { observationSpace: new Box({ low: 0, high: 1, shape: [2] }), actionSpace: new Discrete(2) },
    { explorationFraction: 0.5, explorationFinalEps: 0.1, totalSteps: 100, learningStarts: 1000 },
  );
  const o = Float32Array.of(0, 1);
  const observe = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++)
      await agent.observe({
        observation: o,
        action: 0,
        reward: 0,
        nextObservation: o,
        terminated: false,
        truncated: false,
        info: {},
        envIndex: 0,
      });
  };
  t.is(agent.epsilon, 1);
  await observe(25); // halfway through the 50-step decay
  t.true(Math.abs(agent.epsilon - 0.55) < 1e-12);
  await observe(35);
  t.is(agent.epsilon, 0.1);
  t.true(agent.config.double);
});

test('exploration and greedy actions never pick a masked action', async (t) => {
  const env = new ChainEnv({ masked: true, length: 4 });
  const agent = DqnAgent.create(spacesOf(env), {
    learningStarts: 20,
    trainFrequency: 1,
    batchSize: 8,
    bufferSize: 100,
    hiddenSizes: [16],
  });
  const result = await train(agent, env, { steps: 200, seed: 2 }); // the env throws on a masked action
  t.is(result.envSteps, 200);
  const { observation, info } = env.reset({ seed: 1 });
  for (let i = 0; i < 30; i++)
    t.not(
      await agent.act(observation, {
        explore: i % 2 === 0,
        actionMask: info['actionMask'] as Uint8Array,
      }),
      2,
    );
});

test('save then load gives identical actions and continues training identically', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-dqn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const options = {
    seed: 3,
    learningStarts: 50,
    trainFrequency: 1,
    batchSize: 16,
    bufferSize: 500,
    hiddenSizes: [32],
    totalSteps: 1000,
  };
  const env = new ChainEnv();
  const a = DqnAgent.create(spacesOf(env), options);
  await train(a, env, { steps: 120, seed: 3 });
  await a.save(dir);
  const b = DqnAgent.create(spacesOf(env), options);
  await b.load(dir);
  const { observation } = env.reset({ seed: 4 });
  for (let i = 0; i < 10; i++)
    t.is(await b.act(observation, { explore: true }), await a.act(observation, { explore: true }));
  // The replay buffer, optimiser and generator came along: the same transition leads to the same update.
  const transition = {
    observation,
    action: 1,
    reward: 1,
    nextObservation: observation,
    terminated: false,
    truncated: true,
    info: {},
    envIndex: 0,
  };
  await a.observe(transition);
  await b.observe(transition);
  t.deepEqual(b.metrics(), a.metrics());
  t.is(await b.act(observation), await a.act(observation));
});

test('bad DQN options and action spaces are InvalidOptionErrors', (t) => {
  const observationSpace = new Box({ low: 0, high: 1, shape: [2] });
  t.throws(() => DqnAgent.create({ observationSpace, actionSpace: new Discrete(2) }, { tau: 0 }), {
    instanceOf: InvalidOptionError,
    message: /DqnAgent\.tau: expected a finite number > 0 and <= 1, received 0/,
  });
  t.throws(
    () =>
      DqnAgent.create({ observationSpace, actionSpace: new Discrete(2) }, { loss: 'l1' as 'mse' }),
    {
      instanceOf: InvalidOptionError,
      message: /loss: expected one of "mse", "huber", received "l1"/,
    },
  );
  t.throws(
    () =>
      DqnAgent.create({ observationSpace, actionSpace: new Box({ low: -1, high: 1, shape: [1] }) }),
    {
      instanceOf: InvalidOptionError,
      message: /DqnAgent spaces\.actionSpace: expected a Discrete action space, received "Box/,
    },
  );
  t.is(
    DqnAgent.create({ observationSpace, actionSpace: new Discrete(2) }).config.batchSize,
    DQN_DEFAULTS.batchSize,
  );
});

test('with normalisation on, the statistics are saved with the agent and the replay buffer keeps raw values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-dqn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const options = {
    seed: 5,
    learningStarts: 30,
    trainFrequency: 1,
    batchSize: 8,
    bufferSize: 200,
    hiddenSizes: [8],
    normalizeObservations: true,
    normalizeRewards: true,
  };
  const env = new ChainEnv({ randomStart: true });
  const a = DqnAgent.create(spacesOf(env), options);
  await train(a, env, { steps: 60, seed: 5 });
  await a.save(dir);
  const saved = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as {
    state: { normalizer: { observations: { count: number }; returns: { count: number } } };
  };
  t.true(Math.abs(saved.state.normalizer.observations.count - 60) < 0.01);
  t.true(Math.abs(saved.state.normalizer.returns.count - 60) < 0.01);
  const replay = new ReplayBuffer({
    capacity: 200,
    observationSize: 5,
    actionSize: 1,
    actionMaskSize: 3,
  });
  replay.load(dir);
  const stored = replay.gather(Int32Array.from({ length: 60 }, (_, i) => i));
  t.true(stored.observations.every((v) => v === 0 || v === 1)); // the one-hot cells, not normalised values
  t.true(stored.rewards.every((r) => r === 1 || r === Math.fround(-0.01)));
  const b = DqnAgent.create(spacesOf(env), options);
  await b.load(dir);
  for (let cell = 0; cell < 5; cell++) {
    const observation = new Float32Array(5);
    observation[cell] = 1;
    t.is(await b.act(observation), await a.act(observation));
  }
});

// ---- hooks for training without an environment ------------------------------------------------

const rowSpaces = {
  observationSpace: new Box({ low: -1, high: 1, shape: [2] }),
  actionSpace: new Discrete(3, { start: 1 }),
};

test('trainFrom on a buffer of action values trains exactly as observe() on the same transitions', async (t) => {
  const options = {
    seed: 4,
    learningStarts: 10,
    trainFrequency: 1,
    batchSize: 8,
    bufferSize: 100,
    hiddenSizes: [16],
    targetUpdateInterval: 1000,
  };
  const online = DqnAgent.create(rowSpaces, options);
  const offline = DqnAgent.create(rowSpaces, options);
  const buffer = new ReplayBuffer({
    capacity: 100,
    observationSize: 2,
    actionSize: 1,
    actionMaskSize: 3,
  });
  const rng = new Rng(9);
  for (let i = 0; i < 30; i++) {
    const mask = Uint8Array.of(1, rng.random() < 0.5 ? 1 : 0, 1);
    const transition = {
      observation: Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
      action: rowSpaces.actionSpace.sample(rng),
      reward: rng.uniform(-1, 1),
      nextObservation: Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
      terminated: i % 7 === 6,
      truncated: false,
      info: {},
      actionMask: Uint8Array.of(1, 1, 1),
      nextActionMask: mask,
      envIndex: 0,
    };
    await online.observe(transition);
    buffer.add(transition);
    if (i + 1 > options.learningStarts) await offline.trainFrom([{ buffer, fraction: 1 }], 1);
  }
  const drop = (m: Record<string, number>): Record<string, number> => {
    const { 'charts/epsilon': _epsilon, ...rest } = m; // ε counts env steps, which trainFrom has none of
    return rest;
  };
  const metrics = offline.metrics();
  t.is(metrics['charts/updates'], 10.5, 'twenty updates (the mean of their counts 1..20)');
  t.deepEqual(drop(metrics), drop(online.metrics()));
  const rows = Float32Array.of(0.1, -0.5, 0.9, 0.3);
  t.deepEqual(offline.valueRows(rows), online.valueRows(rows));
});

test('actOnRows is ε-greedy from the given generator; valueRows is the best allowed Q', async (t) => {
  const agent = DqnAgent.create(rowSpaces, {
    seed: 2,
    hiddenSizes: [8],
    explorationInitialEps: 0.5,
    explorationFinalEps: 0.5,
  });
  t.throws(() => agent.valueRows(new Float32Array(2)), {
    instanceOf: InvalidStateError,
    message: /await agent\.ready\(\) first/,
  });
  await agent.ready();
  const observations = [Float32Array.of(0.2, -0.4), Float32Array.of(-0.9, 0.6)];
  const rows = Float32Array.of(0.2, -0.4, -0.9, 0.6);
  const greedy = agent.actOnRows(rows, { explore: false, rng: new Rng(1) });
  for (const [i, o] of observations.entries()) t.is(await agent.act(o), greedy[i]!);
  const many = new Float32Array(400 * 2);
  for (let i = 0; i < 400; i++) many.set(observations[0]!, i * 2);
  const explored = agent.actOnRows(many, { explore: true, rng: new Rng(3) });
  const off = explored.filter((a) => a !== greedy[0]).length;
  // ε = 0.5 and a uniform draw among 3 actions: about a third of the rows leave the greedy action.
  t.true(off > 100 && off < 170, `${off} of 400`);
  t.deepEqual(agent.actOnRows(many, { explore: true, rng: new Rng(3) }), explored);
  const masks = new Uint8Array(400 * 3);
  for (let i = 0; i < 400; i++) masks.set([0, 1, 1], i * 3);
  const allowed = agent.actOnRows(many, { explore: true, rng: new Rng(4), masks });
  t.true(allowed.every((a) => a !== 1)); // action value 1 is index 0, masked everywhere
  const all = agent.valueRows(rows);
  const single = [0, 1, 2].map((k) => {
    const m = new Uint8Array(6);
    m[k] = 1;
    m[3 + k] = 1;
    return agent.valueRows(rows, m);
  });
  for (let i = 0; i < 2; i++) t.is(all[i], Math.max(...single.map((v) => v[i]!)));
  t.throws(() => agent.valueRows(rows, new Uint8Array(5)), {
    instanceOf: InvalidValueError,
    message: /action masks for DqnAgent: expected a Uint8Array of 2 × 3 values/,
  });
});
