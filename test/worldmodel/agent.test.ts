import { KillAt } from '../helpers/kill-at.js';
import test, { type ExecutionContext } from 'ava';
import '../../index.js';
import { spacesOf } from '../../agents/agent.js';
import { evaluate, train, withoutWallTime } from '../../agents/loop.js';
import { initBackend } from '../../agents/nn/backend.js';
import { getPreset, listPresets } from '../../agents/presets.js';
import { InvalidOptionError, InvalidValueError } from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { Box } from '../../envs/core/space.js';
import { PendulumEnv } from '../../envs/classic/pendulum.js';
import { WorldModelAgent, type WorldModelAgentOptions } from '../../worldmodel/agent.js';
import { KNOWN_REWARDS } from '../../worldmodel/known-rewards.js';
import { metricLines, tempRunDir } from '../helpers/run-dir.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const tempDir = (t: ExecutionContext): string => tempRunDir(t, 'wm-agent');

/** A small, fast configuration for Pendulum. */
const tiny: WorldModelAgentOptions = {
  seed: 3,
  randomSteps: 60,
  trainEvery: 60,
  hiddenSize: 32,
  backboneSizes: [32],
  ensembleSize: 2,
  elites: 2,
  fitEpochs: 5,
  planner: 'cem',
  plannerOptions: { population: 16, elites: 4, iterations: 2, horizon: 5 },
};

function lines(runDir: string): Record<string, unknown>[] {
  return metricLines(runDir).map(withoutWallTime);
}

test('the world-model agent trains through train(): random steps, refits on schedule, then planned actions inside the bounds', async (t) => {
  const env = make('Pendulum-v1');
  const agent = WorldModelAgent.create(spacesOf(env), tiny);
  const runDir = tempDir(t);
  const result = await train(agent, env, { steps: 130, seed: 1, logEvery: 60, runDir });
  t.is(result.envSteps, 130);
  t.is(agent.steps, 130);
  const metrics = lines(runDir).filter((l) => typeof l['worldmodel/transition_loss'] === 'number');
  t.true(metrics.length >= 1, 'model losses are logged');
  t.true(metrics.every((l) => (l['worldmodel/fits'] as number) >= 1));
  const space = new Box({ low: -2, high: 2, shape: [1] });
  for (const obs of [
    Float32Array.of(1, 0, 0.5),
    Float32Array.of(-1, 0, 0),
    Float32Array.of(0, 1, -7),
  ]) {
    const a = (await agent.act(obs)) as Float32Array;
    t.true(space.contains(a), `action ${a[0]}`);
  }
  agent.dispose();
});

test('save -> load gives identical plans', async (t) => {
  const env = make('Pendulum-v1');
  const agent = WorldModelAgent.create(spacesOf(env), tiny);
  await train(agent, env, { steps: 70, seed: 2 });
  const dir = tempDir(t);
  await agent.save(dir);
  const copy = WorldModelAgent.create(spacesOf(env), tiny);
  await copy.load(dir);
  const obs = Float32Array.of(0.6, 0.8, -1.2);
  for (let i = 0; i < 3; i++) {
    t.deepEqual(await copy.act(obs, { explore: true }), await agent.act(obs, { explore: true }));
    t.deepEqual(await copy.act(obs), await agent.act(obs));
  }
  const other = WorldModelAgent.create(spacesOf(env), { ...tiny, hiddenSize: 16 });
  await t.throwsAsync(() => other.load(dir), { message: /hiddenSize/ });
});

test('a killed world-model run resumes from its checkpoint and ends as an uninterrupted one', async (t) => {
  const options = {
    steps: 160,
    seed: 4,
    evalEvery: 80,
    evalEpisodes: 1,
    evalEnv: () => make('Pendulum-v1'),
    checkpointEvery: 80,
    logEvery: 40,
  };
  const whole = tempDir(t);
  const env = make('Pendulum-v1');
  await train(WorldModelAgent.create(spacesOf(env), tiny), make('Pendulum-v1'), {
    ...options,
    runDir: whole,
  });
  const killed = tempDir(t);
  await t.throwsAsync(
    train(WorldModelAgent.create(spacesOf(env), tiny), make('Pendulum-v1'), {
      ...options,
      runDir: killed,
      callbacks: [new KillAt(120)],
    }),
    { message: /killed at 120/ },
  );
  await train(WorldModelAgent.create(spacesOf(env), tiny), make('Pendulum-v1'), {
    ...options,
    runDir: killed,
    resume: true,
  });
  t.deepEqual(lines(killed), lines(whole));
});

test('on a discrete grid the agent models the symbolic state and plans by search; evaluate() reports success', async (t) => {
  const env = make('GridNav-Task-k5-v0');
  const agent = WorldModelAgent.create(spacesOf(env), {
    seed: 1,
    randomSteps: 300,
    trainEvery: 300,
    stateKind: 'discrete',
    hiddenSize: 64,
    backboneSizes: [64],
    ensembleSize: 1,
    elites: 1,
    fitEpochs: 5,
    planner: 'search',
    plannerOptions: { maxDepth: 8, maxNodes: 2000 },
  });
  await train(agent, env, { steps: 300, seed: 7 });
  t.is(agent.model.layout.kind, 'discrete');
  const result = await evaluate(agent, make('GridNav-Task-k5-v0'), { episodes: 2, seed: 11 });
  t.is(result.successes.length, 2);
  t.not(result.successRate, null);
});

test('with actionMasks the agent trains its model on the env masks, and an env without masks is a typed error', async (t) => {
  const options: WorldModelAgentOptions = {
    seed: 1,
    randomSteps: 120,
    trainEvery: 120,
    stateKind: 'discrete',
    hiddenSize: 32,
    backboneSizes: [32],
    ensembleSize: 1,
    elites: 1,
    fitEpochs: 2,
    actionMasks: true,
    planner: 'search',
    plannerOptions: { maxDepth: 4, maxNodes: 200 },
  };
  const env = make('GridNav-Task-k5-v0');
  const agent = WorldModelAgent.create(spacesOf(env), options);
  const dir = tempDir(t);
  await train(agent, env, { steps: 120, seed: 7, runDir: dir, logEvery: 120 });
  const fitted = lines(dir).find((l) => 'worldmodel/mask_loss' in l);
  t.truthy(fitted, 'the fit logs the mask head loss');
  t.true((fitted!['worldmodel/mask_loss'] as number) > 0);
  // The imagined steps the search planner expands carry the model's masks of the next states.
  const reset = env.reset({ seed: 3 });
  const state = Float32Array.from(reset.observation as Float32Array);
  const step = agent.model.step(agent.model.batch([state, state]), Float32Array.of(0, 2));
  t.is(step.actionMasks?.length, 2 * 8);
  const cartPole = make('CartPole-v1');
  const plain = WorldModelAgent.create(spacesOf(cartPole), {
    ...tiny,
    planner: 'cem',
    actionMasks: true,
  });
  const error = await t.throwsAsync(() => train(plain, cartPole, { steps: 5, seed: 1 }), {
    instanceOf: InvalidValueError,
  });
  t.regex(error.message, /nextActionMask.*set actionMasks false/);
  t.throws(
    () => WorldModelAgent.create(spacesOf(make('Pendulum-v1')), { ...tiny, actionMasks: true }),
    {
      instanceOf: InvalidOptionError,
      message: /actionMasks/,
    },
  );
});

test('every wm preset creates an agent on its environment', (t) => {
  const presets = listPresets('wm');
  t.true(presets.length >= 8);
  for (const p of presets) {
    const agent = WorldModelAgent.create(spacesOf(make(p.env, p.envOptions)), p.options);
    for (const [key, value] of Object.entries(p.options))
      t.deepEqual(
        (agent.config as unknown as Record<string, unknown>)[key],
        value,
        `${p.env} ${key}`,
      );
  }
  t.is(getPreset('wm', 'Pendulum-v1').options.planner, 'cem');
});

test('the known Pendulum reward is the environment reward', (t) => {
  const env = new PendulumEnv();
  let { observation } = env.reset({ seed: 5 });
  const out = new Float32Array(1);
  for (let i = 0; i < 20; i++) {
    const action = Float32Array.of(Math.sin(i) * 2);
    const step = env.step(action);
    KNOWN_REWARDS['Pendulum-v1']!(observation, action, step.observation, 1, out);
    t.true(Math.abs(out[0]! - step.reward) < 1e-4, `${out[0]} vs ${step.reward}`);
    observation = step.observation;
  }
});

test('bad world-model agent options get typed errors', (t) => {
  const pendulum = spacesOf(make('Pendulum-v1'));
  t.throws(() => WorldModelAgent.create(pendulum, { planner: 'search' }), {
    instanceOf: InvalidOptionError,
    message: /search needs discrete actions/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { rewardSource: 'known' }), {
    instanceOf: InvalidOptionError,
    message: /known reward/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { plannerOptions: { populaton: 3 } }), {
    instanceOf: InvalidOptionError,
    message: /populaton/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { planner: 'mcts' as 'cem' }), {
    instanceOf: InvalidOptionError,
    message: /planner/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { env: 'Pendulum-v0' }), {
    instanceOf: InvalidOptionError,
    message: /Pendulum-v0/,
  });
});
