/**
 * `npm run bench -- worldmodel <part> [options]`: the world model's figures (BENCHMARKS.md).
 *
 * - `learn`: env steps until the deterministic evaluation return reaches the threshold and stays
 *   there at the next evaluation (the `learn` benchmark's rule), for the world-model agent's
 *   presets — Pendulum-v1 with a learned and with the known reward, CartPole-v1 — and for SAC on
 *   Pendulum-v1 in the same run. Options: `--seeds 1,2,3`, `--case wm-pendulum|wm-pendulum-known|sac-pendulum|wm-cartpole`,
 *   `--options '{"policy":"sac"}'` (agent options over the case's, for every case run).
 * - `tasks`: success on held-out k-step tasks (seeds 500,000+, never trained on) with the search
 *   planner on the true dynamics ({@link TrueModel}), and on a world model trained on other seeds
 *   (GridNav, TextWorld) for a stated budget of env steps: the preset's agent explores at random
 *   for the whole budget (training seeds from 1 on), fits its model once (at most `--updates`
 *   gradient steps), then plans every held-out task. Each episode is cut at 2k steps. Options:
 *   `--tasks N` (default 100), `--true-only` / `--learned-only` (one kind of row), `--budget N`
 *   (training env steps of the learned row, default 20000), `--updates N` (default 3000; the
 *   preset's `fitEpochs` and early stopping may end the fit sooner, and the row reports the
 *   gradient steps taken), `--planner search|mcts` (the true-model rows' planner:
 *   the search planner, default, or `MctsPlanner` with `--simulations N`, default 1000, and its
 *   other defaults; the decision is replanned at every step), `--options '{"learningRate":3e-3}'`
 *   (agent options over the preset's, for the learned rows and for `planner`'s discrete rows),
 *   `--agents DIR` (keep the trained agents there, one folder per env id, and load them from
 *   there when present: the same options, budget and updates, or a typed error). The learned
 *   rows give the median and the longest decision (plan) time per action.
 *   `WMGYM_BENCH_PROGRESS=1` prints a line per task.
 * - `error`: the model-error table (1/5/10/20 steps, z-units, ratio to no-change, changed vs
 *   unchanged, exact match and F1 for discrete states) of a model fitted on random-policy data of
 *   training seeds (at most `--updates` gradient steps, default 3000) and measured on held-out
 *   seeds, per family and backbone.
 * - `planner`: per continuous preset, planning latency per action (median), imagined transitions
 *   per second, and the ensemble forward's GFLOP/s against a large dense product's on this
 *   machine; model fits as gradient updates per second. Per discrete task preset (or those of
 *   `--env`), the search's latency from the start of `--tasks` held-out tasks (default 10) with
 *   the preset's model fitted on `--budget` random transitions (default 2000, the preset's first
 *   fit) in at most `--updates` gradient steps (default 300).
 * Prints JSON on stdout.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../envs/index.js';
import '../../worldmodel/presets.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { writeFileAtomic } from '../../envs/core/atomic.js';
import { make } from '../../envs/core/registry.js';
import type { Env } from '../../envs/core/env.js';
import { spacesOf } from '../../agents/agent.js';
import { train } from '../../agents/loop.js';
import { initBackend, tf } from '../../agents/nn/backend.js';
import { dense } from '../../agents/nn/mlp.js';
import { getPreset, type Preset } from '../../agents/presets.js';
import { WorldModelAgent } from '../../worldmodel/agent.js';
import { collectTrajectories, evaluateModel, transitionsOf } from '../../worldmodel/evaluate.js';
import { createPlanner, SearchPlanner } from '../../worldmodel/planner.js';
import { MctsPlanner } from '../../worldmodel/mcts.js';
import { TrueModel } from '../../worldmodel/true-model.js';
import { WorldModelTrainer } from '../../worldmodel/trainer.js';
import { WorldModel, type ModelBatch } from '../../worldmodel/world-model.js';
import type { ImaginationModel } from '../../worldmodel/model.js';
import { ObservationEncoder } from '../../agents/spaces.js';
import { runSeed, type LearnCase } from './learn.js';
import { machineInfo, median } from './machine.js';

const LEARN_CASES: Record<string, LearnCase> = {
  'wm-pendulum': {
    algo: 'wm',
    env: 'Pendulum-v1',
    threshold: -200,
    evalEvery: 200,
    evalEpisodes: 5,
    budget: 3000,
    targetSteps: 1500,
  },
  'wm-pendulum-known': {
    algo: 'wm',
    env: 'Pendulum-v1',
    options: { rewardSource: 'known', env: 'Pendulum-v1' },
    threshold: -200,
    evalEvery: 200,
    evalEpisodes: 5,
    budget: 3000,
    targetSteps: 1500,
  },
  'sac-pendulum': {
    algo: 'sac',
    env: 'Pendulum-v1',
    threshold: -200,
    evalEvery: 500,
    budget: 20_000,
    targetSteps: 6000,
  },
  'wm-cartpole': {
    algo: 'wm',
    env: 'CartPole-v1',
    threshold: 475,
    evalEvery: 500,
    evalEpisodes: 5,
    budget: 5000,
    targetSteps: 3000,
  },
};

/** Runs a part with CLI arguments (after `worldmodel`). */
export async function main(argv: string[]): Promise<void> {
  const [part, ...rest] = argv;
  // The planner part fits each discrete preset only to time its searches: a smaller default.
  const args = parseArgs(rest, part === 'planner' ? { tasks: 10, budget: 2000, updates: 300 } : {});
  const backend = await initBackend({ quiet: true });
  let results: unknown;
  if (part === 'learn') results = await learn(args);
  else if (part === 'tasks') results = await tasks(args);
  else if (part === 'error') results = await errors(args);
  else if (part === 'planner') results = await planners(args);
  else
    throw new InvalidOptionError(
      'worldmodel benchmark part',
      part,
      '"learn", "tasks", "error" or "planner"',
    );
  process.stdout.write(
    `${JSON.stringify({ benchmark: `worldmodel ${part}`, backend, machine: machineInfo(), results }, null, 2)}\n`,
  );
}

interface Args {
  seeds: number[];
  cases: string[];
  tasks: number;
  budget: number;
  /** Only these environment ids (error, tasks); empty for all. */
  envs: string[];
  /** Skip the learned-model rows of `tasks`. */
  trueOnly: boolean;
  /** Skip the true-model rows of `tasks`. */
  learnedOnly: boolean;
  /** Gradient steps of the learned row's one fit at most (tasks). */
  updates: number;
  /** The true-model rows' planner (tasks). */
  planner: 'search' | 'mcts';
  /** MCTS simulations per decision (tasks, `--planner mcts`). */
  simulations: number;
  /** Agent options over each learn case's (`--options '{"policy":"sac"}'`). */
  options: Record<string, unknown>;
  /**
   * Where the trained agents of `tasks` and `planner` are kept (one folder per env id): a saved
   * agent there is loaded instead of trained, a trained one is saved there.
   */
  agents: string | undefined;
}

async function learn(args: Args): Promise<unknown> {
  const out = [];
  for (const name of args.cases) {
    const c = {
      ...LEARN_CASES[name]!,
      options: { ...LEARN_CASES[name]!.options, ...args.options },
    };
    const runs = [];
    for (const seed of args.seeds) {
      const run = await runSeed(c, seed, undefined);
      process.stderr.write(
        `${name} seed ${seed}: ${JSON.stringify({ reached: run.envSteps, seconds: run.trainSeconds })}\n`,
      );
      runs.push(run);
    }
    const steps = runs.filter((r) => r.reached).map((r) => r.envSteps!);
    out.push({
      case: name,
      env: c.env,
      threshold: c.threshold,
      evalEvery: c.evalEvery,
      evalEpisodes: c.evalEpisodes ?? 10,
      budget: c.budget,
      options: c.options,
      seeds: runs.length,
      reached: steps.length,
      medianEnvSteps: steps.length > 0 ? median(steps) : null,
      medianTrainSeconds:
        steps.length > 0 ? median(runs.filter((r) => r.reached).map((r) => r.trainSeconds!)) : null,
      targetSteps: c.targetSteps ?? null,
      runs,
    });
  }
  return out;
}

/** The discrete task sets (tasks, planner). */
const TASK_IDS = [
  'GridNav-Task-k5-v0',
  'GridNav-Task-k10-v0',
  'GridNav-Task-k20-v0',
  'TextWorld-Quest-k5-v0',
  'TextWorld-Quest-k10-v0',
  'TextWorld-Quest-k20-v0',
];

/**
 * The task sets of `--env` (all without it), in TASK_IDS order.
 * @throws {@link InvalidOptionError} for an id that is not a task set.
 */
function chosenTasks(args: Args): string[] {
  for (const id of args.envs)
    if (!TASK_IDS.includes(id))
      throw new InvalidOptionError('--env', id, `task sets among ${TASK_IDS.join(', ')}`);
  return TASK_IDS.filter((i) => args.envs.length === 0 || args.envs.includes(i));
}

/** Held-out task seeds: far from training seeds, below the language model's 1,000,000. */
const HELD_OUT = 500_000;

/** With `WMGYM_BENCH_PROGRESS=1`, one line per task on stderr. */
function progress(
  id: string,
  model: string,
  i: number,
  tasks: number,
  won: boolean,
  started: number,
  solved: number,
): void {
  if (process.env['WMGYM_BENCH_PROGRESS'] === '1')
    process.stderr.write(
      `  ${id} ${model}, task ${i + 1}/${tasks} (seed ${HELD_OUT + i}): ${won ? 'solved' : 'failed'} in ${round((performance.now() - started) / 1000)} s; ${solved} solved so far\n`,
    );
}

async function tasks(args: Args): Promise<unknown> {
  const out = [];
  const chosen = chosenTasks(args);
  if (args.trueOnly && args.learnedOnly)
    throw new InvalidOptionError(
      '--learned-only',
      true,
      'at most one of --true-only and --learned-only',
    );
  for (const id of chosen.filter(() => !args.learnedOnly)) {
    const k = Number(/k(\d+)/.exec(id)![1]);
    const env = make(id);
    const model = TrueModel.copyOf(env);
    const planner =
      args.planner === 'mcts'
        ? new MctsPlanner(model, { maxDepth: 2 * k, simulations: args.simulations })
        : new SearchPlanner(model, { maxDepth: 2 * k, maxNodes: 200_000 });
    const started = performance.now();
    let successes = 0;
    for (let i = 0; i < args.tasks; i++) {
      const taskStarted = performance.now();
      const won = await episodeSucceeds(
        env,
        k,
        (info) => planner.plan(TrueModel.snapshot(env), maskOption(info)),
        HELD_OUT + i,
      );
      if (won) successes++;
      planner.reset();
      progress(id, `true/${args.planner}`, i, args.tasks, won, taskStarted, successes);
    }
    out.push({
      env: id,
      model: 'true',
      planner: args.planner,
      ...(args.planner === 'mcts' ? { simulations: args.simulations } : {}),
      tasks: args.tasks,
      successRate: successes / args.tasks,
      seconds: round((performance.now() - started) / 1000),
    });
    process.stderr.write(`${id} true/${args.planner}: ${successes}/${args.tasks}\n`);
  }
  for (const id of chosen.filter(() => !args.trueOnly)) {
    const k = Number(/k(\d+)/.exec(id)![1]);
    const { agent, make_, trainSeconds, fit } = await exploredAgent(id, args);
    const env = make_();
    const planStarted = performance.now();
    const decisions: number[] = [];
    let successes = 0;
    for (let i = 0; i < args.tasks; i++) {
      agent.onEpisodeStart();
      const taskStarted = performance.now();
      const won = await episodeSucceeds(
        env,
        k,
        async (info, obs) => {
          const t0 = performance.now();
          const action = await agent.act(obs, maskOption(info));
          decisions.push(performance.now() - t0);
          return action;
        },
        HELD_OUT + i,
      );
      if (won) successes++;
      progress(id, 'learned', i, args.tasks, won, taskStarted, successes);
    }
    out.push({
      env: id,
      model: 'learned',
      trainSteps: args.budget,
      trainSeeds: 'reset seed 1 then continued',
      fitMaxUpdates: args.updates,
      options: args.options,
      tasks: args.tasks,
      successRate: successes / args.tasks,
      fit,
      trainSeconds: trainSeconds === undefined ? 'loaded' : round(trainSeconds),
      planSeconds: round((performance.now() - planStarted) / 1000),
      decisions: decisions.length,
      decisionMsMedian: round(median(decisions)),
      decisionMsMax: round(Math.max(...decisions)),
    });
    process.stderr.write(`${id} learned: ${successes}/${args.tasks}\n`);
    agent.dispose();
  }
  return out;
}

/**
 * The preset's agent for `id` after random exploration of `--budget` env steps from reset seed 1
 * (then the env's own continuing seeds) and one fit at the end (at most `--updates` steps).
 */
async function exploredAgent(
  id: string,
  args: Args,
): Promise<{
  agent: WorldModelAgent;
  make_: () => Env;
  preset: Preset<'wm'>;
  /** Undefined when the agent was loaded from `--agents`. */
  trainSeconds: number | undefined;
  /** The fit's figures ({@link lastFit}). */
  fit: Record<string, unknown>;
}> {
  const preset = getPreset('wm', id);
  const make_ = (): Env => make(id, preset.envOptions);
  const agent = WorldModelAgent.create(spacesOf(make_()), {
    ...preset.options,
    ...args.options,
    seed: 1,
    randomSteps: args.budget,
    trainEvery: args.budget,
    fitMaxUpdates: args.updates,
  });
  const dir = args.agents === undefined ? undefined : join(args.agents, id);
  if (dir !== undefined && existsSync(join(dir, 'agent.json'))) {
    await agent.load(dir);
    process.stderr.write(`${id}: loaded the trained agent of ${dir}\n`);
    const fit = JSON.parse(readFileSync(join(dir, FIT_FILE), 'utf8')) as Record<string, unknown>;
    return { agent, make_, preset, trainSeconds: undefined, fit };
  }
  const runDir = mkdtempSync(join(tmpdir(), 'wmgym-bench-'));
  const started = performance.now();
  await train(agent, make_(), { steps: args.budget, seed: 1, runDir });
  const trainSeconds = (performance.now() - started) / 1000;
  const fit = lastFit(join(runDir, 'metrics.jsonl'));
  rmSync(runDir, { recursive: true, force: true });
  if (dir !== undefined) {
    // The fit's figures first: agent.json, written last by save, marks a complete folder.
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, FIT_FILE), JSON.stringify({ ...fit, trainSeconds }));
    await agent.save(dir);
  }
  return { agent, make_, preset, trainSeconds, fit };
}

/** Beside a saved agent of `--agents`: its fit's figures ({@link lastFit}) and training seconds. */
const FIT_FILE = 'bench-fit.json';

/** The `worldmodel/` figures (fit updates, epochs, losses) of a run's last metrics line that has them. */
function lastFit(metricsFile: string): Record<string, unknown> {
  const lines = readFileSync(metricsFile, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    const m = JSON.parse(line) as Record<string, unknown>;
    if ('worldmodel/fit_updates' in m)
      return Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('worldmodel/')));
  }
  throw new Error(`no world-model fit in ${metricsFile}`);
}

function maskOption(info: Record<string, unknown>): { actionMask?: Uint8Array } {
  const m = info['actionMask'];
  return m instanceof Uint8Array ? { actionMask: m } : {};
}

async function episodeSucceeds(
  env: Env,
  k: number,
  act: (info: Record<string, unknown>, observation: unknown) => unknown,
  seed: number,
): Promise<boolean> {
  let { observation, info } = env.reset({ seed });
  for (let t = 0; t < 2 * k; t++) {
    const r = env.step(await act(info, observation));
    observation = r.observation;
    info = r.info;
    if (r.terminated || r.truncated) return r.info['success'] === true;
  }
  return false;
}

async function errors(args: Args): Promise<unknown> {
  const families: {
    id: string;
    episodes: number;
    heldOut: number;
    steps: number;
    options: Record<string, unknown>;
    envOptions?: Record<string, unknown>;
    /** Transitions per member per gradient step. @defaultValue 256 */
    batchSize?: number;
  }[] = [
    { id: 'Pendulum-v1', episodes: 10, heldOut: 5, steps: 200, options: {} },
    { id: 'CartPole-v1', episodes: 100, heldOut: 30, steps: 500, options: {} },
    {
      id: 'GridNav-Task-k10-v0',
      episodes: 300,
      heldOut: 50,
      steps: 40,
      options: { stateKind: 'discrete' },
    },
    {
      id: 'GridNav-Task-k10-v0',
      episodes: 300,
      heldOut: 50,
      steps: 40,
      options: {
        stateKind: 'discrete',
        backbone: 'grid',
        grid: [10, 10, 3],
        hiddenSize: 64,
        backboneSizes: [64, 64],
      },
      batchSize: 64,
    },
    {
      id: 'TextWorld-Quest-k10-v0',
      episodes: 300,
      heldOut: 50,
      steps: 40,
      options: {},
      envOptions: { observation: 'slots' },
    },
  ];
  const out = [];
  for (const f of families.filter((x) => args.envs.length === 0 || args.envs.includes(x.id))) {
    const env = make(f.id, f.envOptions);
    const train = collectTrajectories(env, { episodes: f.episodes, seed: 1, maxSteps: f.steps });
    const held = collectTrajectories(make(f.id, f.envOptions), {
      episodes: f.heldOut,
      seed: HELD_OUT,
      maxSteps: f.steps,
    });
    const model = WorldModel.create(spacesOf(env), {
      hiddenSize: 200,
      backboneSizes: [200, 200],
      ...f.options,
    });
    await model.ready();
    const data = transitionsOf(train);
    const started = performance.now();
    const fit = await new WorldModelTrainer(model, { batchSize: f.batchSize ?? 256 }).fit(data, {
      epochs: 100,
      patience: 5,
      maxUpdates: args.updates,
    });
    const fitSeconds = (performance.now() - started) / 1000;
    const table = evaluateModel(model, held);
    out.push({
      env: f.id,
      model: model.config.backbone,
      trainTransitions: data.size,
      heldOutTrajectories: held.length,
      fit: {
        epochs: fit.epochs,
        updates: fit.updates,
        updatesPerSecond: round(fit.updates / fitSeconds),
      },
      table,
    });
    process.stderr.write(
      `${f.id} ${model.config.backbone}: ${table.map((h) => `${h.horizon}:${h.ratio.toFixed(3)}`).join(' ')}\n`,
    );
    model.dispose();
  }
  return out;
}

async function planners(args: Args): Promise<unknown> {
  const tasks = chosenTasks(args); // checked before the continuous presets run
  const out = [];
  // The reference: one large dense product (relu, bias) through the same kernel path.
  const peak = tf.tidy(() => {
    const x = tf.randomNormal([1, 1024, 256]);
    const w = tf.randomNormal([1, 256, 256]);
    const b = tf.zeros([256]);
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      dense(x, w, b, 'relu', false).dataSync();
      times.push(performance.now() - t0);
    }
    return (2 * 1024 * 256 * 256) / (median(times) / 1000) / 1e9;
  });
  for (const id of ['Pendulum-v1', 'CartPole-v1']) {
    const preset = getPreset('wm', id);
    const env = make(id);
    const o = preset.options;
    const model = WorldModel.create(spacesOf(env), {
      hiddenSize: o.hiddenSize!,
      backboneSizes: o.backboneSizes!,
      ensembleSize: o.ensembleSize!,
      elites: o.elites!,
    });
    await model.ready();
    const tr = collectTrajectories(env, { episodes: 5, seed: 1, maxSteps: 200 });
    const data = transitionsOf(tr);
    const trainer = new WorldModelTrainer(model);
    const fitStarted = performance.now();
    const fit = await trainer.fit(data, { epochs: 20, holdoutFraction: 0 });
    const updatesPerSecond = fit.updates / ((performance.now() - fitStarted) / 1000);
    const counting = countingModel(model);
    const planner = createPlanner(o.planner!, counting, o.plannerOptions ?? {});
    const state = tr[0]!.states.slice(0, model.stateSize);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) planner.plan(state); // warm-up
    counting.imagined = 0;
    for (let i = 0; i < 25; i++) {
      const t0 = performance.now();
      planner.plan(state);
      times.push(performance.now() - t0);
    }
    const total = times.reduce((s, v) => s + v, 0) / 1000;
    // The network alone on one planning batch: flops of encoder + backbone + heads per row.
    const imagined = counting.imagined;
    const rows =
      (imagined /
        25 /
        (o.plannerOptions?.['iterations'] as number) /
        (o.plannerOptions?.['horizon'] as number)) |
      0;
    const sizes = [model.inputSize, o.hiddenSize!, ...o.backboneSizes!, model.outputSize];
    let macs = 0;
    for (let i = 0; i + 1 < sizes.length; i++) macs += sizes[i]! * sizes[i + 1]!;
    const flopsPerPass = 2 * macs * rows;
    const states = new Float32Array(rows * model.stateSize);
    for (let r = 0; r < rows; r++) states.set(state, r * model.stateSize);
    const actions = new Float32Array(
      rows * (model.actionSpace.shape.length === 0 ? 1 : model.actionSize),
    );
    const passTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      model.predict(states, actions, { members: 'ts' });
      passTimes.push(performance.now() - t0);
    }
    const ensembleGflops = flopsPerPass / (median(passTimes) / 1000) / 1e9;
    out.push({
      preset: id,
      planner: o.planner,
      plannerOptions: o.plannerOptions,
      planMsMedian: round(median(times)),
      imaginedTransitionsPerSecond: Math.round(imagined / total),
      rowsPerModelCall: rows,
      modelCallMsMedian: round(median(passTimes)),
      ensembleForwardGflops: round(ensembleGflops),
      denseKernelGflops: round(peak),
      ratioToKernel: round(ensembleGflops / peak),
      fitUpdatesPerSecond: round(updatesPerSecond),
    });
    model.dispose();
  }
  for (const id of tasks) out.push(await searchLatency(id, args));
  return out;
}

/** A model whose `step` counts the rows it imagines (`imagined`). */
function countingModel(
  model: WorldModel,
): ImaginationModel<Float32Array, ModelBatch> & { imagined: number } {
  const counting = {
    imagined: 0,
    actionSpace: model.actionSpace,
    members: model.members,
    batch: model.batch.bind(model),
    size: model.size.bind(model),
    select: model.select.bind(model),
    key: model.key.bind(model),
    step: (b: ModelBatch, a: Float32Array, opt?: { members?: 'mean' | 'ts' }) => {
      counting.imagined += b.n;
      return model.step(b, a, opt);
    },
  };
  return counting;
}

/**
 * Planning latency of a discrete task preset: the preset's model fitted on `--budget` random
 * transitions of training seeds (at most `--updates` gradient steps), then one search (the
 * preset's planner options, no cached plan) from the start of each of `--tasks` held-out tasks.
 */
async function searchLatency(id: string, args: Args): Promise<unknown> {
  const { agent, make_, preset } = await exploredAgent(id, args);
  const counting = countingModel(agent.model);
  const planner = new SearchPlanner(counting, preset.options.plannerOptions ?? {});
  const env = make_();
  const encoder = new ObservationEncoder(env.observationSpace);
  const times: number[] = [];
  const expanded: number[] = [];
  let found = 0;
  for (let i = 0; i < args.tasks; i++) {
    const { observation, info } = env.reset({ seed: HELD_OUT + i });
    planner.reset();
    const t0 = performance.now();
    planner.plan(encoder.encode(observation), maskOption(info));
    times.push(performance.now() - t0);
    expanded.push(planner.lastExpanded);
    if (planner.lastPlanLength > 0) found++;
  }
  const seconds = times.reduce((a, b) => a + b, 0) / 1000;
  agent.dispose();
  return {
    preset: id,
    planner: 'search',
    plannerOptions: preset.options.plannerOptions,
    trainSteps: args.budget,
    fitMaxUpdates: args.updates,
    searches: args.tasks,
    planMsMedian: round(median(times)),
    planMsMax: round(Math.max(...times)),
    expandedMedian: median(expanded),
    searchesThatFoundAPlan: found,
    imaginedTransitionsPerSecond: Math.round(counting.imagined / seconds),
  };
}

function parseArgs(argv: string[], defaults: Partial<Args>): Args {
  const args: Args = {
    seeds: [1, 2, 3, 4, 5],
    cases: Object.keys(LEARN_CASES),
    tasks: 100,
    budget: 20_000,
    envs: [],
    trueOnly: false,
    learnedOnly: false,
    updates: 3000,
    planner: 'search',
    simulations: 1000,
    options: {},
    agents: undefined,
    ...defaults,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if (arg === '--seeds') {
      args.seeds = (value ?? '').split(',').map(Number);
      if (!args.seeds.every((s) => Number.isSafeInteger(s) && s >= 0 && s < 1_000_000))
        throw new InvalidOptionError('--seeds', value, 'comma-separated integers in [0, 1000000)');
    } else if (arg === '--case') {
      args.cases = (value ?? '').split(',');
      for (const c of args.cases)
        if (!(c in LEARN_CASES))
          throw new InvalidOptionError(
            '--case',
            c,
            `one of ${Object.keys(LEARN_CASES).join(', ')}`,
          );
    } else if (arg === '--options') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value ?? '');
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new InvalidOptionError('--options', value, 'a JSON object of agent options');
      args.options = parsed as Record<string, unknown>;
    } else if (arg === '--true-only') {
      args.trueOnly = true;
      continue;
    } else if (arg === '--learned-only') {
      args.learnedOnly = true;
      continue;
    } else if (arg === '--agents') {
      if (value === undefined || value.length === 0 || value.startsWith('--'))
        throw new InvalidOptionError('--agents', value, 'a folder for the trained agents');
      args.agents = value;
    } else if (arg === '--env') {
      args.envs = (value ?? '').split(',').filter((e) => e.length > 0);
    } else if (arg === '--planner') {
      if (value !== 'search' && value !== 'mcts')
        throw new InvalidOptionError('--planner', value, '"search" or "mcts"');
      args.planner = value;
    } else if (
      arg === '--tasks' ||
      arg === '--budget' ||
      arg === '--updates' ||
      arg === '--simulations'
    ) {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new InvalidOptionError(arg, value, 'a positive integer');
      if (arg === '--tasks') args.tasks = n;
      else if (arg === '--budget') args.budget = n;
      else if (arg === '--simulations') args.simulations = n;
      else args.updates = n;
    } else {
      throw new InvalidOptionError(
        'worldmodel benchmark argument',
        arg,
        '--seeds, --case, --options, --tasks, --budget, --updates, --env, --true-only, --learned-only, --planner, --simulations or --agents',
      );
    }
    i++;
  }
  return args;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
