import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import '../../index.js';
import { spacesOf } from '../../agents/agent.js';
import { ReplayBuffer } from '../../agents/buffers/replay-buffer.js';
import { train, withoutWallTime } from '../../agents/loop.js';
import { initBackend } from '../../agents/nn/backend.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { Rng } from '../../envs/core/rng.js';
import { Box } from '../../envs/core/space.js';
import type { ImaginationModel, ImagineStepOptions } from '../../worldmodel/model.js';
import { WorldModelAgent, type WorldModelAgentOptions } from '../../worldmodel/agent.js';
import { Dyna } from '../../worldmodel/dyna.js';
import type { ModelBatch } from '../../worldmodel/world-model.js';
import { KillAt } from '../helpers/kill-at.js';
import { metricLines, tempRunDir } from '../helpers/run-dir.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const tempDir = (t: ExecutionContext): string => tempRunDir(t, 'wm-dyna');

function lines(runDir: string): Record<string, unknown>[] {
  return metricLines(runDir).map(withoutWallTime);
}

// ---- imagination on a known model ---------------------------------------------------------------

const toySpaces = {
  observationSpace: new Box({ low: -10, high: 10, shape: [2] }),
  actionSpace: new Box({ low: -1, high: 1, shape: [1] }),
};

/** next = s + (a, 0.5), reward = 10·s₀ + a, done when next₀ > 1.2; records every step call. */
class ToyModel implements ImaginationModel<Float32Array, ModelBatch> {
  readonly actionSpace = toySpaces.actionSpace;
  readonly members = 2;
  readonly calls: { rows: number; members: string | undefined }[] = [];

  batch(states: readonly Float32Array[]): ModelBatch {
    const out = new Float32Array(states.length * 2);
    states.forEach((s, i) => out.set(s, i * 2));
    return { states: out, n: states.length };
  }
  size(batch: ModelBatch): number {
    return batch.n;
  }
  select(batch: ModelBatch, rows: Int32Array): ModelBatch {
    const out = new Float32Array(rows.length * 2);
    rows.forEach((r, i) => out.set(batch.states.subarray(r * 2, r * 2 + 2), i * 2));
    return { states: out, n: rows.length };
  }
  step(batch: ModelBatch, actions: Float32Array, options?: ImagineStepOptions) {
    this.calls.push({ rows: batch.n, members: options?.members });
    const n = batch.n;
    const next = new Float32Array(n * 2);
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      next[r * 2] = batch.states[r * 2]! + actions[r]!;
      next[r * 2 + 1] = batch.states[r * 2 + 1]! + 0.5;
      rewards[r] = 10 * batch.states[r * 2]! + actions[r]!;
      dones[r] = next[r * 2]! > 1.2 ? 1 : 0;
    }
    return { states: { states: next, n }, rewards, dones, disagreement: new Float32Array(n) };
  }
  key(batch: ModelBatch, row: number): string {
    return Array.from(batch.states.subarray(row * 2, row * 2 + 2)).join(',');
  }
}

function realBuffer(n: number): ReplayBuffer {
  const buffer = new ReplayBuffer({ capacity: 100, observationSize: 2, actionSize: 1 });
  const rng = new Rng(5);
  for (let i = 0; i < n; i++) {
    const s = Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1));
    buffer.add({
      observation: s,
      action: Float32Array.of(0),
      reward: 0,
      nextObservation: s,
      terminated: false,
      truncated: false,
    });
  }
  return buffer;
}

test('a rollout imagines every branch with one model step per imagined step and stores what the model predicted', async (t) => {
  const model = new ToyModel();
  const dyna = Dyna.create(toySpaces, model, {
    rolloutLength: 3,
    rolloutBatch: 50,
    policyOptions: { hiddenSizes: [8], batchSize: 16 },
  });
  await dyna.ready();
  const stored = dyna.rollout(realBuffer(20));
  t.is(model.calls.length, 3, 'one step call per imagined step');
  t.true(model.calls.every((c) => c.members === 'ts'));
  t.is(model.calls[0]!.rows, 50, 'all branches in the first call');
  t.is(
    stored,
    model.calls.reduce((s, c) => s + c.rows, 0),
  );
  t.is(dyna.buffer.size, stored);
  const rows = dyna.buffer.gather(Int32Array.from({ length: stored }, (_, i) => i));
  let done = 0;
  let at = 0;
  for (const [h, call] of model.calls.entries()) {
    let ended = 0;
    for (let r = at; r < at + call.rows; r++) {
      const s0 = rows.observations[r * 2]!;
      const a = rows.actions[r]!;
      t.is(rows.rewards[r], Math.fround(10 * s0 + a), 'the reward is the model’s');
      t.is(rows.nextObservations[r * 2], Math.fround(s0 + a), 'the next state is the model’s');
      const terminated = rows.nextObservations[r * 2]! > 1.2;
      t.is(rows.terminated[r], terminated ? 1 : 0, 'the termination is the model’s');
      t.is(rows.truncated[r], 0);
      if (terminated) ended++;
    }
    at += call.rows;
    done += ended;
    // A branch the model ended is not imagined further.
    if (h + 1 < model.calls.length) t.is(model.calls[h + 1]!.rows, call.rows - ended);
  }
  t.true(done > 0 && done < 50, `${done} branches ended`);
  const metrics = dyna.metrics();
  t.is(metrics['worldmodel/policy_rollout_transitions'], stored);
  t.is(metrics['worldmodel/policy_rollout_done_fraction'], done / stored);
  dyna.dispose();
});

test('an update takes its gradient steps on batches of realRatio real and the rest imagined', async (t) => {
  const model = new ToyModel();
  const dyna = Dyna.create(toySpaces, model, {
    rolloutBatch: 40,
    realRatio: 0.25,
    policyOptions: { hiddenSizes: [8], batchSize: 16 },
  });
  await dyna.ready();
  const real = realBuffer(20);
  dyna.rollout(real);
  const drawn: [string, number][] = [];
  for (const [name, buffer] of [
    ['real', real],
    ['imagined', dyna.buffer],
  ] as const) {
    const sample = buffer.sample.bind(buffer);
    buffer.sample = (n, rng) => {
      drawn.push([name, n]);
      return sample(n, rng);
    };
  }
  dyna.metrics();
  await dyna.update(real, 3);
  t.deepEqual(drawn, [
    ['real', 4],
    ['imagined', 12],
    ['real', 4],
    ['imagined', 12],
    ['real', 4],
    ['imagined', 12],
  ]);
  const metrics = dyna.metrics();
  t.is(metrics['worldmodel/policy_updates'], 2, 'three gradient steps (the mean of 1, 2, 3)');
  t.true(Number.isFinite(metrics['worldmodel/policy_qf_loss']));
  dyna.dispose();
});

// ---- the world-model agent with a policy --------------------------------------------------------

/** A small, fast Pendulum configuration with a SAC policy. */
const tiny: WorldModelAgentOptions = {
  seed: 3,
  randomSteps: 40,
  trainEvery: 40,
  hiddenSize: 32,
  backboneSizes: [32],
  ensembleSize: 2,
  elites: 2,
  fitEpochs: 3,
  planner: 'mppi',
  plannerOptions: { samples: 20, elites: 4, iterations: 2, horizon: 4, policyFraction: 0.25 },
  policy: 'sac',
  rolloutLength: 2,
  rolloutBatch: 64,
  modelBufferSize: 1000,
  policyOptions: { hiddenSizes: [32], batchSize: 32 },
};

/** Counts the planner's calls of the policy's hooks. */
function spyHooks(agent: WorldModelAgent): { propose: number; value: number } {
  const dyna = agent.dyna!;
  const counts = { propose: 0, value: 0 };
  const propose = dyna.propose.bind(dyna);
  const value = dyna.value.bind(dyna);
  dyna.propose = (b, rng, masks) => {
    counts.propose++;
    return propose(b, rng, masks);
  };
  dyna.value = (b) => {
    counts.value++;
    return value(b);
  };
  return counts;
}

test('with policy "sac" the agent learns its policy on schedule and plans with its actor and critic', async (t) => {
  const env = make('Pendulum-v1');
  const agent = WorldModelAgent.create(spacesOf(env), { ...tiny, policyUpdates: 2 });
  const counts = spyHooks(agent);
  const dyna = agent.dyna!;
  const rollouts: number[] = [];
  const rollout = dyna.rollout.bind(dyna);
  dyna.rollout = (real) => {
    rollouts.push(agent.steps);
    return rollout(real);
  };
  const updates: [number, number][] = [];
  const trainFrom = dyna.learner.trainFrom.bind(dyna.learner);
  dyna.learner.trainFrom = (sources, n) => {
    updates.push([agent.steps, n]);
    return trainFrom(sources, n);
  };
  const runDir = tempDir(t);
  await train(agent, env, { steps: 200, seed: 1, logEvery: 1000, runDir });
  t.deepEqual(rollouts, [40, 80, 120, 160, 200], 'branches imagined after every refit');
  t.is(updates.length, 161, 'every env step from the first refit on');
  t.true(updates.every(([, n]) => n === 2));
  t.deepEqual(updates[0], [40, 2]);
  const last = lines(runDir).find((l) => l['kind'] === 'train');
  t.is(last!['worldmodel/policy_updates'], (1 + 322) / 2, '322 gradient steps of the learner');
  for (const [key, value] of Object.entries(last!))
    if (typeof value === 'number') t.true(Number.isFinite(value), key);
  t.true(typeof last!['worldmodel/policy_qf_loss'] === 'number');
  t.true(typeof last!['worldmodel/policy_rollout_reward'] === 'number');
  // Every plan after the first refit: the policy seeds MPPI, the critic values the horizon.
  t.true(counts.propose >= 4 * 160, `policy called ${counts.propose} times`);
  t.true(counts.value >= 2 * 160, `value called ${counts.value} times`);
  const a = (await agent.act(Float32Array.of(0.6, 0.8, -1.2))) as Float32Array;
  t.true(env.actionSpace.contains(a));
  agent.dispose();
});

test('CEM takes the critic and shooting both hooks; DQN seeds a discrete planner', async (t) => {
  for (const planner of ['cem', 'shooting'] as const) {
    const env = make('Pendulum-v1');
    const agent = WorldModelAgent.create(spacesOf(env), {
      ...tiny,
      planner,
      plannerOptions:
        planner === 'cem'
          ? { population: 16, elites: 4, iterations: 2, horizon: 4 }
          : { candidates: 16, horizon: 4 },
    });
    const counts = spyHooks(agent);
    await train(agent, env, { steps: 60, seed: 2 });
    t.true(counts.value >= 20, `${planner}: value called ${counts.value} times`);
    if (planner === 'cem') t.is(counts.propose, 0, 'CEM has no proposal policy');
    else t.true(counts.propose >= 20 * 4, `shooting: policy called ${counts.propose} times`);
    agent.dispose();
  }
  const cartpole = make('CartPole-v1');
  const agent = WorldModelAgent.create(spacesOf(cartpole), {
    ...tiny,
    planner: 'shooting',
    plannerOptions: { candidates: 8, horizon: 4 },
    policy: 'dqn',
    policyOptions: { hiddenSizes: [16], batchSize: 16 },
  });
  const counts = spyHooks(agent);
  await train(agent, cartpole, { steps: 60, seed: 3 });
  t.true(counts.propose > 0 && counts.value > 0);
  t.true(agent.dyna!.learner.kind === 'dqn');
  t.true(agent.dyna!.buffer.size > 0);
  agent.dispose();
});

test('a killed run with a policy resumes from its checkpoint and ends as an uninterrupted one', async (t) => {
  const options = {
    steps: 120,
    seed: 4,
    evalEvery: 60,
    evalEpisodes: 1,
    evalEnv: () => make('Pendulum-v1'),
    checkpointEvery: 60,
    logEvery: 30,
  };
  const spaces = spacesOf(make('Pendulum-v1'));
  const whole = tempDir(t);
  await train(WorldModelAgent.create(spaces, tiny), make('Pendulum-v1'), {
    ...options,
    runDir: whole,
  });
  const killed = tempDir(t);
  await t.throwsAsync(
    train(WorldModelAgent.create(spaces, tiny), make('Pendulum-v1'), {
      ...options,
      runDir: killed,
      callbacks: [new KillAt(90)],
    }),
    { message: /killed at 90/ },
  );
  await train(WorldModelAgent.create(spaces, tiny), make('Pendulum-v1'), {
    ...options,
    runDir: killed,
    resume: true,
  });
  const resumed = lines(killed);
  t.deepEqual(resumed, lines(whole));
  t.true(resumed.some((l) => typeof l['worldmodel/policy_qf_loss'] === 'number'));
});

test('the checkpoint holds the policy learner and the model buffer; plain MPC writes neither', async (t) => {
  const env = make('Pendulum-v1');
  const agent = WorldModelAgent.create(spacesOf(env), tiny);
  await train(agent, env, { steps: 45, seed: 5 });
  const dir = tempDir(t);
  await agent.save(dir);
  t.true(existsSync(join(dir, 'policy', 'replay-buffer.bin')));
  t.true(existsSync(join(dir, 'policy', 'learner', 'agent.json')));
  const copy = WorldModelAgent.create(spacesOf(env), tiny);
  await copy.load(dir);
  const obs = Float32Array.of(0.6, 0.8, -1.2);
  t.deepEqual(await copy.act(obs, { explore: true }), await agent.act(obs, { explore: true }));
  t.is(copy.dyna!.buffer.size, agent.dyna!.buffer.size);
  const other = WorldModelAgent.create(spacesOf(env), { ...tiny, rolloutLength: 3 });
  await t.throwsAsync(() => other.load(dir), { message: /rolloutLength/ });
  const plain = WorldModelAgent.create(spacesOf(env), { ...tiny, policy: 'none' });
  t.is(plain.dyna, undefined);
  const plainDir = tempDir(t);
  await plain.save(plainDir);
  t.false(existsSync(join(plainDir, 'policy')));
  for (const a of [agent, copy, plain]) a.dispose();
});

test('bad policy options get typed errors naming the option, the value and what is allowed', (t) => {
  const pendulum = spacesOf(make('Pendulum-v1'));
  t.throws(() => WorldModelAgent.create(pendulum, { policy: 'dqn' }), {
    instanceOf: InvalidOptionError,
    message:
      /WorldModelAgent\.policy: expected "sac" or "none" for a Box action space \(DQN needs discrete actions\), received "dqn"/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { policy: 'ppo' as 'sac' }), {
    instanceOf: InvalidOptionError,
    message: /WorldModelAgent\.policy: expected one of "none", "sac", "dqn", received "ppo"/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { policy: 'sac', rolloutLength: 0 }), {
    instanceOf: InvalidOptionError,
    message: /WorldModelAgent\.rolloutLength: expected an integer >= 1 and <= 1000, received 0/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { policy: 'sac', realRatio: 1.5 }), {
    instanceOf: InvalidOptionError,
    message: /WorldModelAgent\.realRatio: expected a finite number >= 0 and <= 1, received 1\.5/,
  });
  t.throws(() => WorldModelAgent.create(pendulum, { policyUpdates: -1 }), {
    instanceOf: InvalidOptionError,
    message: /WorldModelAgent\.policyUpdates/,
  });
  t.throws(
    () => WorldModelAgent.create(pendulum, { policy: 'sac', policyOptions: { hiddenSize: 3 } }),
    { instanceOf: InvalidOptionError, message: /SacAgent\.hiddenSize/ },
  );
  t.throws(
    () =>
      WorldModelAgent.create(pendulum, {
        policy: 'sac',
        policyOptions: { normalizeObservations: true },
      }),
    { instanceOf: InvalidOptionError, message: /Dyna\.policyOptions\.normalizeObservations/ },
  );
  const grid = spacesOf(make('GridNav-Task-k5-v0'));
  t.throws(
    () =>
      WorldModelAgent.create(grid, {
        policy: 'dqn',
        planner: 'search',
        stateKind: 'discrete',
      }),
    {
      instanceOf: InvalidOptionError,
      message: /WorldModelAgent\.policy: expected "none" with planner "search"/,
    },
  );
});
