import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
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
