import { KillAt } from '../helpers/kill-at.js';
import test from 'ava';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { makeVec } from '../../envs/core/vector.js';
import { InvalidOptionError, MalformedFileError } from '../../envs/core/errors.js';
import { spacesOf } from '../../agents/agent.js';
import {
  CheckpointCallback,
  SaveBestModel,
  StopTrainingOnNoModelImprovement,
  StopTrainingOnRewardThreshold,
  WALL_TIME_PREFIX,
  evaluate,
  train,
  withoutWallTime,
  type Callback,
} from '../../agents/loop.js';
import { DqnAgent } from '../../agents/dqn.js';
import { PpoAgent } from '../../agents/ppo.js';
import { RandomAgent } from '../../agents/random.js';
import { initBackend } from '../../agents/nn/backend.js';
import { ChainEnv } from '../helpers/chain-env.js';
import { metricLines, tempRunDir } from '../helpers/run-dir.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const tempDir = (t: { teardown(f: () => void): void }): string => tempRunDir(t, 'loop');

function lines(runDir: string): Record<string, unknown>[] {
  return metricLines(runDir);
}

const dqnOptions = {
  seed: 4,
  learningStarts: 60,
  trainFrequency: 2,
  batchSize: 16,
  bufferSize: 400,
  hiddenSizes: [16],
  targetUpdateInterval: 50,
};

/** Stops a run by throwing at a given step, as a killed process would stop it. */

test('a run on disk has config.json, namespaced metrics with env steps on every line, and a checkpoint', async (t) => {
  const runDir = tempDir(t);
  const env = make('CartPole-v1');
  const agent = PpoAgent.create(spacesOf(env), { seed: 1, numSteps: 64 });
  const result = await train(agent, env, {
    steps: 300,
    seed: 1,
    evalEvery: 150,
    evalEpisodes: 2,
    logEvery: 100,
    runDir,
    extra: { preset: 'none' },
  });
  t.is(result.envSteps, 300);
  t.is(result.evaluations.length, 2);
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  t.is(config['agent']!['kind'], 'ppo');
  t.is((config['agent']!['config'] as { numSteps: number }).numSteps, 64);
  t.is(config['env']!['id'], 'CartPole-v1');
  t.is(config['train']!['seed'], 1);
  t.is(config['backend']!['name'], result.backend.name);
  t.deepEqual(config['extra'], { preset: 'none' });
  const all = lines(runDir);
  t.true(all.every((l) => typeof l['env_steps'] === 'number' && typeof l['kind'] === 'string'));
  t.true(
    all.every((l) =>
      Object.keys(l).every(
        (k) =>
          k === 'kind' || k === 'env_steps' || k === 'env_index' || /^[a-z]+\/[a-z_]+$/.test(k),
      ),
    ),
  );
  const episodes = all.filter((l) => l['kind'] === 'episode');
  t.is(episodes.length, result.episodes);
  t.true(
    episodes.every(
      (l) =>
        typeof l['charts/episodic_return'] === 'number' &&
        typeof l['charts/episodic_length'] === 'number',
    ),
  );
  const evals = all.filter((l) => l['kind'] === 'eval');
  t.deepEqual(
    evals.map((l) => l['env_steps']),
    [150, 300],
  );
  t.is((evals[0]!['eval/returns'] as number[]).length, 2);
  t.true(all.some((l) => l['kind'] === 'train' && typeof l['losses/value_loss'] === 'number'));
  t.true(all.every((l) => typeof l[`${WALL_TIME_PREFIX}wall_seconds`] === 'number'));
  for (const file of ['loop.json', 'agent/agent.json', 'agent/agent.bin'])
    t.true(existsSync(join(runDir, 'checkpoint', file)), file);
});

test('the same seed, config and backend give identical metrics apart from wall-clock fields', async (t) => {
  const run = async (): Promise<Record<string, unknown>[]> => {
    const runDir = tempDir(t);
    const env = make('CartPole-v1');
    await train(PpoAgent.create(spacesOf(env), { seed: 2, numSteps: 64 }), env, {
      steps: 400,
      seed: 2,
      evalEvery: 200,
      evalEpisodes: 2,
      logEvery: 64,
      runDir,
    });
    return lines(runDir).map(withoutWallTime);
  };
  const [a, b] = [await run(), await run()];
  t.true(a.length > 10);
  t.deepEqual(a, b);
  t.false(Object.keys(a[0]!).some((k) => k.startsWith(WALL_TIME_PREFIX)));
});

test('a killed run resumes from its last checkpoint and ends exactly as an uninterrupted one', async (t) => {
  const options = {
    steps: 300,
    seed: 5,
    evalEvery: 100,
    evalEpisodes: 2,
    evalEnv: () => new ChainEnv(),
    checkpointEvery: 100,
    logEvery: 50,
  };
  const whole = tempDir(t);
  await train(DqnAgent.create(spacesOf(new ChainEnv()), dqnOptions), new ChainEnv(), {
    ...options,
    runDir: whole,
  });

  const killed = tempDir(t);
  await t.throwsAsync(
    train(DqnAgent.create(spacesOf(new ChainEnv()), dqnOptions), new ChainEnv(), {
      ...options,
      runDir: killed,
      callbacks: [new KillAt(250)],
    }),
    { message: /killed at 250/ },
  );
  // The last checkpoint is at 200 steps; metrics went on to 250 and are cut back on resume.
  const loop = JSON.parse(readFileSync(join(killed, 'checkpoint', 'loop.json'), 'utf8')) as {
    state: { envSteps: number };
  };
  t.is(loop.state.envSteps, 200);
  t.true(existsSync(join(killed, 'checkpoint', 'agent', 'replay-buffer.bin')));
  const result = await train(
    DqnAgent.create(spacesOf(new ChainEnv()), dqnOptions),
    new ChainEnv(),
    { ...options, runDir: killed, resume: true },
  );
  t.is(result.envSteps, 300);
  t.deepEqual(lines(killed).map(withoutWallTime), lines(whole).map(withoutWallTime));
});

test('a run killed between the two renames of a checkpoint resumes from the previous one', async (t) => {
  const runDir = tempDir(t);
  const options = { steps: 120, seed: 6, checkpointEvery: 40, runDir };
  await t.throwsAsync(
    train(RandomAgent.create(spacesOf(new ChainEnv())), new ChainEnv(), {
      ...options,
      callbacks: [new KillAt(100)],
    }),
  );
  // Simulate the kill: the new checkpoint half-written, the old one moved aside.
  renameSync(join(runDir, 'checkpoint'), join(runDir, 'checkpoint.old'));
  mkdirSync(join(runDir, 'checkpoint.tmp'));
  writeFileSync(join(runDir, 'checkpoint.tmp', 'loop.json'), '{"trunc');
  const result = await train(RandomAgent.create(spacesOf(new ChainEnv())), new ChainEnv(), {
    ...options,
    resume: true,
  });
  t.is(result.envSteps, 120);
  t.deepEqual(
    readdirSync(runDir)
      .filter((f) => f.startsWith('checkpoint'))
      .sort(),
    ['checkpoint'],
  );
});

test('resuming with other options or another agent config is refused', async (t) => {
  const runDir = tempDir(t);
  await train(RandomAgent.create(spacesOf(new ChainEnv())), new ChainEnv(), {
    steps: 30,
    seed: 1,
    runDir,
  });
  await t.throwsAsync(
    train(RandomAgent.create(spacesOf(new ChainEnv())), new ChainEnv(), {
      steps: 60,
      seed: 1,
      runDir,
      resume: true,
    }),
    { instanceOf: InvalidOptionError, message: /resume: expected the train settings of the run/ },
  );
  await t.throwsAsync(
    train(RandomAgent.create(spacesOf(new ChainEnv()), { seed: 2 }), new ChainEnv(), {
      steps: 30,
      seed: 1,
      runDir,
      resume: true,
    }),
    { instanceOf: InvalidOptionError, message: /agent settings/ },
  );
  await t.throwsAsync(
    train(RandomAgent.create(spacesOf(new ChainEnv())), new ChainEnv(), {
      steps: 30,
      seed: 1,
      runDir,
    }),
    {
      instanceOf: InvalidOptionError,
      message: /Invalid option runDir: expected a new or empty directory.*pass resume: true/,
    },
  );
});

test('bad train options are InvalidOptionErrors naming the option', async (t) => {
  const agent = RandomAgent.create(spacesOf(new ChainEnv()));
  await t.throwsAsync(train(agent, new ChainEnv(), { steps: 0 }), {
    instanceOf: InvalidOptionError,
    message: /Invalid option steps: expected a positive integer, received 0/,
  });
  await t.throwsAsync(train(agent, new ChainEnv(), { steps: 10, checkpointEvery: 5 }), {
    instanceOf: InvalidOptionError,
    message: /checkpointEvery: expected 0 when no runDir is given/,
  });
  await t.throwsAsync(train(agent, new ChainEnv(), { steps: 10, stopAt: 1 }), {
    instanceOf: InvalidOptionError,
    message: /stopAt/,
  });
  await t.throwsAsync(train(agent, new ChainEnv(), { steps: 10, evalEvery: 5 }), {
    instanceOf: InvalidOptionError,
    message: /evalEnv: expected an environment or a factory/,
  });
  await t.throwsAsync(evaluate(agent, new ChainEnv(), { episodes: -1 }), {
    instanceOf: InvalidOptionError,
    message: /episodes/,
  });
});

test('callbacks see every step, episode end and evaluation, and can stop training', async (t) => {
  const seen = { steps: 0, episodes: 0, returns: [] as number[], evaluations: 0 };
  const spy: Callback = {
    name: 'spy',
    onStep: () => {
      seen.steps++;
    },
    onEpisodeEnd: (c) => {
      seen.episodes++;
      seen.returns.push(c.episodeReturn);
    },
    onEvaluation: () => {
      seen.evaluations++;
    },
  };
  const env = new ChainEnv();
  const result = await train(RandomAgent.create(spacesOf(env), { seed: 3 }), env, {
    steps: 200,
    seed: 3,
    evalEvery: 50,
    evalEnv: () => new ChainEnv(),
    callbacks: [spy],
  });
  t.is(seen.steps, 200);
  t.is(seen.episodes, result.episodes);
  t.is(seen.evaluations, 4);
  t.true(seen.returns.every((r) => r <= 1));
  // A random walk on a 5-chain reaches the end now and then: a threshold below that stops at the first evaluation.
  const stopped = await train(RandomAgent.create(spacesOf(env), { seed: 3 }), new ChainEnv(), {
    steps: 1000,
    seed: 3,
    evalEvery: 50,
    evalEnv: new ChainEnv(),
    evalEpisodes: 2,
    stopAt: -1,
  });
  t.true(stopped.stopped);
  t.is(stopped.envSteps, 50);
  const patience = await train(RandomAgent.create(spacesOf(env), { seed: 3 }), new ChainEnv(), {
    steps: 1000,
    seed: 3,
    evalEvery: 20,
    evalEnv: new ChainEnv(),
    evalEpisodes: 1,
    callbacks: [new StopTrainingOnNoModelImprovement(2), new StopTrainingOnRewardThreshold(5)],
  });
  t.true(patience.stopped && patience.envSteps < 1000);
});

test('CheckpointCallback and SaveBestModel save loadable agents', async (t) => {
  const dir = tempDir(t);
  const env = new ChainEnv();
  await train(DqnAgent.create(spacesOf(env), dqnOptions), env, {
    steps: 100,
    seed: 7,
    evalEvery: 50,
    evalEnv: () => new ChainEnv(),
    callbacks: [
      new CheckpointCallback({ every: 40, dir: join(dir, 'snapshots') }),
      new SaveBestModel(join(dir, 'best')),
    ],
  });
  t.deepEqual(readdirSync(join(dir, 'snapshots')).sort(), ['agent_40_steps', 'agent_80_steps']);
  const loaded = DqnAgent.create(spacesOf(env), dqnOptions);
  await loaded.load(join(dir, 'best'));
  await loaded.load(join(dir, 'snapshots', 'agent_80_steps'));
  await t.throwsAsync(loaded.load(join(dir, 'nothing')), { instanceOf: MalformedFileError });
});

test('training on vector environments counts real transitions in both autoreset modes', async (t) => {
  for (const autoresetMode of ['next-step', 'same-step'] as const) {
    const env = makeVec('CartPole-v1', 3, { autoresetMode });
    const result = await train(PpoAgent.create(spacesOf(env), { seed: 8, numSteps: 32 }), env, {
      steps: 600,
      seed: 8,
      evalEvery: 300,
      evalEpisodes: 1,
    });
    t.true(result.envSteps >= 600 && result.envSteps < 603, `${autoresetMode}: ${result.envSteps}`);
    t.true(result.episodes > 10);
    t.is(result.evaluations.length, 2);
  }
});

test('evaluate plays deterministic episodes: same seed, same returns; success comes from info.success', async (t) => {
  const agent = RandomAgent.create(spacesOf(make('GridNav-Empty-5x5-v0')), { seed: 1 });
  const a = await evaluate(agent, make('GridNav-Empty-5x5-v0'), {
    episodes: 3,
    seed: 4,
    explore: true,
  });
  t.is(a.returns.length, 3);
  t.is(a.successRate, 1);
  t.true(a.successes.every((s) => s === true));
  const ppo = PpoAgent.create(spacesOf(make('CartPole-v1')), { seed: 1 });
  const b = await evaluate(ppo, make('CartPole-v1'), { episodes: 2, seed: 9 });
  const c = await evaluate(ppo, make('CartPole-v1'), { episodes: 2, seed: 9 });
  t.deepEqual(b, c);
  t.is(b.successRate, null);
  t.is(b.meanLength, (b.lengths[0]! + b.lengths[1]!) / 2);
});
