/**
 * `npm run bench -- learn`: sample efficiency and wall time to a return threshold. For each case
 * and seed, trains with the rl-baselines3-zoo preset and evaluates the deterministic policy every
 * `evalEvery` env steps on 10 episodes; a run reaches the threshold at the first evaluation whose
 * mean return is at least the threshold AND whose next evaluation is too. Reported: those env
 * steps and the training seconds up to them (evaluation time excluded), per seed and as medians.
 * Prints JSON to stdout (the tensor backend included).
 *
 * Options: `--seeds 1,2,3` (default 1-5), `--algo ppo|dqn|sac`, `--env <id>`, `--max-steps N` (cap
 * every budget, for a quick check).
 */
import '../../envs/index.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { makeVec } from '../../envs/core/vector.js';
import { spacesOf, type Agent } from '../../agents/agent.js';
import { DqnAgent } from '../../agents/dqn.js';
import { train, type Callback, type EvaluationContext } from '../../agents/loop.js';
import { initBackend } from '../../agents/nn/backend.js';
import { PpoAgent } from '../../agents/ppo.js';
import { getPreset, type PresetAlgorithm } from '../../agents/presets.js';
import { SacAgent } from '../../agents/sac.js';
import { WorldModelAgent } from '../../worldmodel/agent.js';
import '../../worldmodel/presets.js';
import { machineInfo, median } from './machine.js';

/** One benchmark case. */
export interface LearnCase {
  algo: PresetAlgorithm;
  /** Options over the preset's (the world-model agent's known-reward row). */
  options?: Record<string, unknown>;
  /** Evaluation episodes. @defaultValue 10 */
  evalEpisodes?: number;
  env: string;
  threshold: number;
  /** Env steps between evaluations. */
  evalEvery: number;
  /** Give up after this many env steps. */
  budget: number;
  /** The issue's target for the median env steps, if any. */
  targetSteps: number | undefined;
}

const CASES: readonly LearnCase[] = [
  {
    algo: 'ppo',
    env: 'CartPole-v1',
    threshold: 475,
    evalEvery: 1000,
    budget: 100_000,
    targetSteps: 25_000,
  },
  {
    algo: 'dqn',
    env: 'CartPole-v1',
    threshold: 475,
    evalEvery: 1000,
    budget: 100_000,
    targetSteps: 50_000,
  },
  {
    algo: 'sac',
    env: 'Pendulum-v1',
    threshold: -200,
    evalEvery: 500,
    budget: 20_000,
    targetSteps: 6_000,
  },
  {
    algo: 'ppo',
    env: 'Acrobot-v1',
    threshold: -100,
    evalEvery: 2000,
    budget: 200_000,
    targetSteps: undefined,
  },
];

/** One seed's outcome. */
export interface SeedResult {
  seed: number;
  /** True if the threshold was reached and confirmed within the budget. */
  reached: boolean;
  /** Env steps at the first confirmed evaluation (null if not reached). */
  envSteps: number | null;
  /** Training seconds (no evaluations) up to that evaluation. */
  trainSeconds: number | null;
  /** Env steps actually taken. */
  totalEnvSteps: number;
  /** Training seconds actually spent. */
  totalTrainSeconds: number;
  /** Every evaluation: [env steps, mean return]. */
  evaluations: [number, number][];
}

/** Stops when an evaluation reaches the threshold and the one after it does too. */
export class ConfirmedThreshold implements Callback {
  readonly name = 'confirmed-threshold';
  first: { envSteps: number; trainSeconds: number } | undefined;
  reached: { envSteps: number; trainSeconds: number } | undefined;
  private readonly threshold: number;

  constructor(threshold: number) {
    this.threshold = threshold;
  }

  onEvaluation({ evaluation, envSteps, trainSeconds }: EvaluationContext): boolean {
    if (process.env['WMGYM_BENCH_PROGRESS'] === '1')
      process.stderr.write(
        `  eval at ${envSteps} env steps: ${evaluation.meanReturn.toFixed(1)}\n`,
      );
    if (evaluation.meanReturn < this.threshold) {
      this.first = undefined;
      return true;
    }
    if (this.first !== undefined) {
      this.reached = this.first;
      return false;
    }
    this.first = { envSteps, trainSeconds };
    return true;
  }
}

/** Runs the benchmark with CLI arguments (after `learn`). */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const backend = await initBackend({ quiet: true });
  const cases = CASES.filter(
    (c) =>
      (args.algo === undefined || c.algo === args.algo) &&
      (args.env === undefined || c.env === args.env),
  );
  if (cases.length === 0) {
    throw new InvalidOptionError(
      '--algo/--env',
      `${args.algo ?? '*'} on ${args.env ?? '*'}`,
      `one of ${CASES.map((c) => `${c.algo} on ${c.env}`).join(', ')}`,
    );
  }
  const results = [];
  for (const c of cases) {
    const runs: SeedResult[] = [];
    for (const seed of args.seeds) runs.push(await runSeed(c, seed, args.maxSteps));
    const reached = runs.filter((r) => r.reached);
    const steps = reached.map((r) => r.envSteps!);
    const seconds = reached.map((r) => r.trainSeconds!);
    results.push({
      algo: c.algo,
      env: c.env,
      threshold: c.threshold,
      evalEvery: c.evalEvery,
      evalEpisodes: c.evalEpisodes ?? 10,
      budget: Math.min(c.budget, args.maxSteps ?? Infinity),
      preset: getPreset(c.algo, c.env).notes,
      seeds: runs.length,
      reached: reached.length,
      medianEnvSteps: steps.length > 0 ? median(steps) : null,
      minEnvSteps: steps.length > 0 ? Math.min(...steps) : null,
      maxEnvSteps: steps.length > 0 ? Math.max(...steps) : null,
      medianTrainSeconds: seconds.length > 0 ? round(median(seconds)) : null,
      targetSteps: c.targetSteps ?? null,
      runs,
    });
  }
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'learn', backend, machine: machineInfo(), results }, null, 2)}\n`,
  );
}

/** Trains one seed of one case until the threshold is reached and confirmed, or the budget ends. */
export async function runSeed(
  c: LearnCase,
  seed: number,
  maxSteps: number | undefined,
): Promise<SeedResult> {
  const preset = getPreset(c.algo, c.env);
  const budget = Math.min(c.budget, maxSteps ?? Infinity);
  // Same-step autoreset, as SB3's VecEnv: no step is spent on resets.
  const env =
    preset.numEnvs > 1
      ? makeVec(c.env, preset.numEnvs, { autoresetMode: 'same-step' })
      : make(c.env);
  const spaces = spacesOf(env);
  let agent: Agent;
  if (c.algo === 'ppo')
    agent = PpoAgent.create(spaces, {
      ...getPreset('ppo', c.env).options,
      seed,
      totalSteps: preset.steps,
    });
  else if (c.algo === 'dqn')
    agent = DqnAgent.create(spaces, {
      ...getPreset('dqn', c.env).options,
      seed,
      totalSteps: preset.steps,
    });
  else if (c.algo === 'sac')
    agent = SacAgent.create(spaces, { ...getPreset('sac', c.env).options, seed });
  else
    agent = WorldModelAgent.create(spaces, {
      ...getPreset('wm', c.env).options,
      ...c.options,
      seed,
    });
  const stop = new ConfirmedThreshold(c.threshold);
  const result = await train(agent, env as never, {
    steps: budget,
    seed,
    evalEvery: c.evalEvery,
    evalEpisodes: c.evalEpisodes ?? 10,
    evalSeed: 10_000 + seed,
    evalEnv: () => make(c.env),
    callbacks: [stop],
  });
  agent.dispose?.();
  if ('close' in env) env.close();
  return {
    seed,
    reached: stop.reached !== undefined,
    envSteps: stop.reached?.envSteps ?? null,
    trainSeconds: stop.reached === undefined ? null : round(stop.reached.trainSeconds),
    totalEnvSteps: result.envSteps,
    totalTrainSeconds: round(result.trainSeconds),
    evaluations: result.evaluations.map((e) => [e.envSteps, round(e.result.meanReturn)]),
  };
}

function parseArgs(argv: string[]): {
  seeds: number[];
  algo: PresetAlgorithm | undefined;
  env: string | undefined;
  maxSteps: number | undefined;
} {
  let seeds = [1, 2, 3, 4, 5];
  let algo: PresetAlgorithm | undefined;
  let env: string | undefined;
  let maxSteps: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if (arg === '--seeds') {
      seeds = (value ?? '').split(',').map(Number);
      if (seeds.length === 0 || !seeds.every((s) => Number.isSafeInteger(s) && s >= 0))
        throw new InvalidOptionError(
          '--seeds',
          value,
          'a comma-separated list of non-negative integers, e.g. 1,2,3',
        );
      i++;
    } else if (arg === '--algo') {
      if (value !== 'ppo' && value !== 'dqn' && value !== 'sac')
        throw new InvalidOptionError('--algo', value, '"ppo", "dqn" or "sac"');
      algo = value;
      i++;
    } else if (arg === '--env') {
      if (value === undefined) throw new InvalidOptionError('--env', value, 'an environment id');
      env = value;
      i++;
    } else if (arg === '--max-steps') {
      maxSteps = Number(value);
      if (!Number.isSafeInteger(maxSteps) || maxSteps < 1)
        throw new InvalidOptionError('--max-steps', value, 'a positive integer');
      i++;
    } else {
      throw new InvalidOptionError(
        'learn benchmark argument',
        arg,
        '--seeds 1,2,3, --algo ppo|dqn|sac, --env <id>, --max-steps N',
      );
    }
  }
  return { seeds, algo, env, maxSteps };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
