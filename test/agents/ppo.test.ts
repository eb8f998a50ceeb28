import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { makeVec } from '../../envs/core/vector.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { InvalidOptionError, InvalidStateError } from '../../envs/core/errors.js';
import { spacesOf } from '../../agents/agent.js';
import { evaluate, train } from '../../agents/loop.js';
import { PPO_DEFAULTS, PpoAgent } from '../../agents/ppo.js';
import { initBackend } from '../../agents/nn/backend.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'wmgym-ppo-'));

/** The `train` lines of a run's metrics.jsonl. */
function trainLines(runDir: string): Record<string, number>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, number> & { kind: string })
    .filter((line) => (line as { kind: string }).kind === 'train');
}

test('PPO learns to reach the goal of GridNav-Empty-5x5 in a few thousand steps', async (t) => {
  const id = 'GridNav-Empty-5x5-v0';
  const env = makeVec(id, 4);
  const agent = PpoAgent.create(spacesOf(env), { seed: 1, numSteps: 64, learningRate: 1e-3 });
  const before = await evaluate(agent, make(id), { episodes: 3, seed: 5 });
  await train(agent, env, { steps: 4000, seed: 1 });
  const after = await evaluate(agent, make(id), { episodes: 3, seed: 5 });
  t.is(before.successRate, 0);
  t.is(after.successRate, 1);
  // A random walk also gets there eventually (return ≈ 0.8); the learned path is near the shortest (0.96).
  t.true(after.meanReturn > 0.9, `mean return ${after.meanReturn}`);
});

test('continuous PPO acts inside the bounds and learns from a Gaussian policy with a state-independent log-std', async (t) => {
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  const runDir = tempDir();
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const agent = PpoAgent.create(spacesOf(env), {
    seed: 2,
    numSteps: 256,
    numMinibatches: 4,
    learningRate: 1e-3,
  });
  await train(agent, env, { steps: 512, seed: 2, runDir, logEvery: 256 });
  const lines = trainLines(runDir);
  t.is(lines.length, 2);
  for (const key of [
    'losses/policy_loss',
    'losses/value_loss',
    'losses/entropy',
    'losses/approx_kl',
    'losses/clipfrac',
    'losses/explained_variance',
    'charts/learning_rate',
  ]) {
    t.true(Number.isFinite(lines[1]![key]), key);
  }
  // The value function learns: its loss falls from the first update to the second.
  t.true(lines[1]!['losses/value_loss']! < lines[0]!['losses/value_loss']!);
  const { observation } = env.reset({ seed: 3 });
  for (let i = 0; i < 50; i++) {
    const action = (await agent.act(observation, { explore: true, envIndex: 0 })) as Float32Array;
    t.true(env.actionSpace.contains(action));
  }
});

test('save then load gives identical actions, exploring ones included', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = make<Float32Array, number>('CartPole-v1');
  const a = PpoAgent.create(spacesOf(env), { seed: 3, numSteps: 32 });
  await train(a, env, { steps: 100, seed: 3 });
  await a.save(dir);
  const b = PpoAgent.create(spacesOf(env), { seed: 3, numSteps: 32 });
  await b.load(dir);
  const { observation } = env.reset({ seed: 4 });
  for (const explore of [false, true]) {
    for (let i = 0; i < 20; i++)
      t.is(await b.act(observation, { explore }), await a.act(observation, { explore }));
  }
});

test('observation and reward normalisation statistics are saved with the agent', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = make<Float32Array, Float32Array>('Pendulum-v1');
  const options = { seed: 4, numSteps: 64, normalizeObservations: true, normalizeRewards: true };
  const a = PpoAgent.create(spacesOf(env), options);
  await train(a, env, { steps: 300, seed: 4 });
  await a.save(dir);
  const saved = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as {
    state: {
      normalizer: { observations: { count: number; mean: number[] }; returns: { count: number } };
    };
  };
  // One observation per explored step (the running count starts at 1e-4) and one discounted return per reward.
  t.true(Math.abs(saved.state.normalizer.observations.count - 300) < 0.01);
  t.true(Math.abs(saved.state.normalizer.returns.count - 300) < 0.01);
  t.is(saved.state.normalizer.observations.mean.length, 3);
  const loaded = PpoAgent.create(spacesOf(env), options);
  await loaded.load(dir);
  const { observation } = env.reset({ seed: 9 });
  t.deepEqual(await loaded.act(observation), await a.act(observation));
});

test('PPO runs on a vector environment with next-step autoreset and masks', async (t) => {
  const runDir = tempDir();
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const env = makeVec('GridNav-Empty-5x5-v0', 3);
  const agent = PpoAgent.create(spacesOf(env), { seed: 5, numSteps: 40 });
  const result = await train(agent, env, { steps: 400, seed: 5, runDir, logEvery: 120 });
  t.true(result.envSteps >= 400 && result.envSteps < 403);
  t.true(trainLines(runDir).at(-1)!['charts/updates']! >= 3);
});

test('a bad config option is an InvalidOptionError naming the option, the value and what is allowed', (t) => {
  const spaces = {
    observationSpace: new Box({ low: -1, high: 1, shape: [2] }),
    actionSpace: new Discrete(2),
  };
  t.throws(() => PpoAgent.create(spaces, { clipCoef: -0.1 }), {
    instanceOf: InvalidOptionError,
    message: /Invalid option PpoAgent\.clipCoef: expected a finite number > 0, received -0\.1/,
  });
  t.throws(() => PpoAgent.create(spaces, { activation: 'gelu' as 'relu' }), {
    instanceOf: InvalidOptionError,
    message: /PpoAgent\.activation: expected one of "tanh", "relu", received "gelu"/,
  });
  t.throws(() => PpoAgent.create(spaces, { numSteps: 2.5 }), {
    instanceOf: InvalidOptionError,
    message: /numSteps: expected an integer >= 1, received 2\.5/,
  });
  t.throws(() => PpoAgent.create(spaces, { learningrate: 1 } as never), {
    instanceOf: InvalidOptionError,
    message: /PpoAgent\.learningrate: expected one of the known options \(seed, learningRate/,
  });
  t.throws(() => PpoAgent.create(spaces, { hiddenSizes: [] }), {
    instanceOf: InvalidOptionError,
    message: /hiddenSizes: expected a non-empty array of positive integers/,
  });
  const text = {
    observationSpace: spaces.observationSpace,
    actionSpace: new Box({ low: 0, high: 1, shape: [2, 2] }),
  };
  t.notThrows(() => PpoAgent.create(text));
  t.is(PpoAgent.create(spaces).config.learningRate, PPO_DEFAULTS.learningRate);
});

test('observe() without a pending action from act() is refused', async (t) => {
  const env = make<Float32Array, number>('CartPole-v1');
  const agent = PpoAgent.create(spacesOf(env));
  const { observation } = env.reset({ seed: 1 });
  await t.throwsAsync(
    agent.observe({
      observation,
      action: 0,
      reward: 1,
      nextObservation: observation,
      terminated: false,
      truncated: false,
      info: {},
      envIndex: 0,
    }),
    { instanceOf: InvalidStateError, message: /pending action/ },
  );
});

test('loading an agent saved with another config is refused with the differing fields', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = make<Float32Array, number>('CartPole-v1');
  await PpoAgent.create(spacesOf(env), { numSteps: 32 }).save(dir);
  await t.throwsAsync(PpoAgent.create(spacesOf(env), { numSteps: 64 }).load(dir), {
    instanceOf: InvalidStateError,
    message: /numSteps=64.*received "numSteps=32"/,
  });
});

test('an agent created for one environment refuses transitions from a vector environment of four', async (t) => {
  const env = makeVec('CartPole-v1', 4);
  const agent = PpoAgent.create({
    observationSpace: env.singleObservationSpace,
    actionSpace: env.singleActionSpace,
  });
  await t.throwsAsync(train(agent, env, { steps: 8 }), {
    instanceOf: InvalidOptionError,
    message:
      /PpoAgent transition\.envIndex: expected an integer in 0\.\.0 \(the agent was created for numEnvs = 1; create it with spacesOf\(env\)/,
  });
});
