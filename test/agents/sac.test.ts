import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { spacesOf } from '../../agents/agent.js';
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
