/**
 * Tuned hyperparameters per environment, selectable by name: the rl-baselines3-zoo values
 * (`hyperparams/{ppo,dqn,sac}.yml`), translated to our option names, with SB3's defaults spelled
 * out where the zoo relies on them (SB3's PPO value loss has no ½ factor, so `vfCoef` doubles;
 * SB3's DQN uses a Huber loss and clips gradients at 10; SB3's SAC updates the actor every step
 * and clips the log-std to [-20, 2]). gSDE (`use_sde`) is not implemented: presets that use it in
 * the zoo run with a plain Gaussian and say so in `notes`.
 *
 * @example
 * const preset = getPreset('ppo', 'CartPole-v1');
 * const agent = PpoAgent.create(spaces, preset.options); // preset.numEnvs sub-environments, preset.steps steps
 */
import { InvalidOptionError } from '../envs/core/errors.js';
import type { DqnOptions } from './dqn.js';
import type { PpoOptions } from './ppo.js';
import type { SacOptions } from './sac.js';

/**
 * Agent options per algorithm. Higher floors add their algorithms by module augmentation and
 * {@link registerPresets} (the world-model agent's `wm` presets live in `worldmodel/presets.ts`).
 */
export interface PresetOptions {
  ppo: PpoOptions;
  dqn: DqnOptions;
  sac: SacOptions;
}

/** Algorithms with presets. */
export type PresetAlgorithm = keyof PresetOptions;

/** One tuned configuration. */
export interface Preset<K extends PresetAlgorithm = PresetAlgorithm> {
  /** Algorithm. */
  algo: K;
  /** Environment id (also the preset's name). */
  env: string;
  /** Sub-environments (`n_envs`). */
  numEnvs: number;
  /** Training budget in env steps (`n_timesteps`). */
  steps: number;
  /** Agent options. */
  options: PresetOptions[K];
  /** Options of `make(env, envOptions)` the preset was made for (e.g. an observation mode). */
  envOptions?: Record<string, unknown>;
  /** Where the values come from and how they were translated. */
  notes: string;
}

const ZOO = 'rl-baselines3-zoo hyperparams';

const PPO_PRESETS: Preset<'ppo'>[] = [
  {
    algo: 'ppo',
    env: 'CartPole-v1',
    numEnvs: 8,
    steps: 100_000,
    options: {
      numSteps: 32,
      minibatchSize: 256,
      gaeLambda: 0.8,
      gamma: 0.98,
      updateEpochs: 20,
      entCoef: 0,
      learningRate: 1e-3,
      annealLearningRate: true,
      clipCoef: 0.2,
      annealClipCoef: true,
      clipValueLoss: false,
      vfCoef: 1,
      maxGradNorm: 0.5,
    },
    notes: `${ZOO}/ppo.yml CartPole-v1 (lin_0.001, lin_0.2); SB3 defaults: no value clipping, vf_coef 0.5 on an unhalved MSE`,
  },
  {
    algo: 'ppo',
    env: 'Acrobot-v1',
    numEnvs: 16,
    steps: 1_000_000,
    options: {
      normalizeObservations: true,
      normalizeRewards: true,
      numSteps: 256,
      gaeLambda: 0.94,
      gamma: 0.99,
      updateEpochs: 4,
      entCoef: 0,
      learningRate: 3e-4,
      annealLearningRate: false,
      minibatchSize: 64,
      clipCoef: 0.2,
      clipValueLoss: false,
      vfCoef: 1,
      maxGradNorm: 0.5,
    },
    notes: `${ZOO}/ppo.yml Acrobot-v1 (normalize: true); SB3 defaults for the rest`,
  },
  {
    algo: 'ppo',
    env: 'Pendulum-v1',
    numEnvs: 4,
    steps: 100_000,
    options: {
      numSteps: 1024,
      gaeLambda: 0.95,
      gamma: 0.9,
      updateEpochs: 10,
      entCoef: 0,
      learningRate: 1e-3,
      annealLearningRate: false,
      minibatchSize: 64,
      clipCoef: 0.2,
      clipValueLoss: false,
      vfCoef: 1,
      maxGradNorm: 0.5,
    },
    notes: `${ZOO}/ppo.yml Pendulum-v1 without gSDE (use_sde: True, sde_sample_freq: 4 are not implemented)`,
  },
  {
    algo: 'ppo',
    env: 'MountainCarContinuous-v0',
    numEnvs: 1,
    steps: 20_000,
    options: {
      normalizeObservations: true,
      normalizeRewards: true,
      minibatchSize: 256,
      numSteps: 8,
      gamma: 0.9999,
      learningRate: 7.77e-5,
      annealLearningRate: false,
      entCoef: 0.00429,
      clipCoef: 0.1,
      updateEpochs: 10,
      gaeLambda: 0.9,
      maxGradNorm: 5,
      vfCoef: 0.38,
      clipValueLoss: false,
      logStdInit: -3.29,
      orthoInit: false,
    },
    notes: `${ZOO}/ppo.yml MountainCarContinuous-v0 without gSDE (log_std_init and ortho_init kept)`,
  },
];

const DQN_PRESETS: Preset<'dqn'>[] = [
  {
    algo: 'dqn',
    env: 'CartPole-v1',
    numEnvs: 1,
    steps: 50_000,
    options: {
      learningRate: 2.3e-3,
      batchSize: 64,
      bufferSize: 100_000,
      learningStarts: 1000,
      gamma: 0.99,
      targetUpdateInterval: 10,
      trainFrequency: 256,
      gradientSteps: 128,
      explorationFraction: 0.16,
      explorationFinalEps: 0.04,
      hiddenSizes: [256, 256],
      tau: 1,
      loss: 'huber',
      maxGradNorm: 10,
    },
    notes: `${ZOO}/dqn.yml CartPole-v1; SB3 defaults: Huber loss, max_grad_norm 10; double DQN kept on`,
  },
  {
    algo: 'dqn',
    env: 'Acrobot-v1',
    numEnvs: 1,
    steps: 100_000,
    options: {
      learningRate: 6.3e-4,
      batchSize: 128,
      bufferSize: 50_000,
      learningStarts: 0,
      gamma: 0.99,
      targetUpdateInterval: 250,
      trainFrequency: 4,
      gradientSteps: 4,
      explorationFraction: 0.12,
      explorationFinalEps: 0.1,
      hiddenSizes: [256, 256],
      tau: 1,
      loss: 'huber',
      maxGradNorm: 10,
    },
    notes: `${ZOO}/dqn.yml Acrobot-v1 (gradient_steps: -1 = as many as env steps per phase); SB3 defaults: Huber loss, max_grad_norm 10`,
  },
];

const SAC_PRESETS: Preset<'sac'>[] = [
  {
    algo: 'sac',
    env: 'Pendulum-v1',
    numEnvs: 1,
    steps: 20_000,
    options: {
      policyLr: 1e-3,
      qLr: 1e-3,
      learningStarts: 100,
      batchSize: 256,
      tau: 0.005,
      gamma: 0.99,
      bufferSize: 1_000_000,
      trainFrequency: 1,
      gradientSteps: 1,
      policyFrequency: 1,
      targetNetworkFrequency: 1,
      autotune: true,
      initialAlpha: 1,
      hiddenSizes: [256, 256],
      logStdBound: 'clip',
      logStdMin: -20,
      logStdMax: 2,
    },
    notes: `${ZOO}/sac.yml Pendulum-v1 (learning_rate 1e-3); SB3 defaults: learning_starts 100, actor every step, log-std clipped to [-20, 2]`,
  },
  {
    algo: 'sac',
    env: 'MountainCarContinuous-v0',
    numEnvs: 1,
    steps: 50_000,
    options: {
      policyLr: 3e-4,
      qLr: 3e-4,
      bufferSize: 50_000,
      batchSize: 512,
      autotune: false,
      alpha: 0.1,
      trainFrequency: 32,
      gradientSteps: 32,
      gamma: 0.9999,
      tau: 0.01,
      learningStarts: 0,
      policyFrequency: 1,
      hiddenSizes: [64, 64],
      logStdBound: 'clip',
      logStdMin: -20,
      logStdMax: 2,
    },
    notes: `${ZOO}/sac.yml MountainCarContinuous-v0 without gSDE (use_sde and log_std_init -3.67 are not implemented)`,
  },
];

const ALL_PRESETS: Preset[] = [...PPO_PRESETS, ...DQN_PRESETS, ...SAC_PRESETS];

/** Every preset (those registered by higher floors included, once their module is loaded). */
export const PRESETS: readonly Preset[] = ALL_PRESETS;

/**
 * Adds presets of an algorithm defined on a higher floor.
 * @throws {@link InvalidOptionError} when a preset for the same algorithm and env exists.
 */
export function registerPresets(presets: readonly Preset[]): void {
  for (const p of presets) {
    if (ALL_PRESETS.some((q) => q.algo === p.algo && q.env === p.env))
      throw new InvalidOptionError('preset', `${p.algo} ${p.env}`, 'a new (algorithm, env) pair');
  }
  ALL_PRESETS.push(...presets.map((p) => Object.freeze({ ...p })));
}

/** Presets of one algorithm (or all). */
export function listPresets(algo?: PresetAlgorithm): Preset[] {
  return PRESETS.filter((p) => algo === undefined || p.algo === algo);
}

/**
 * The preset of `algo` for environment `env`.
 * @throws {@link InvalidOptionError} naming the presets that exist.
 */
export function getPreset<K extends PresetAlgorithm>(algo: K, env: string): Preset<K> {
  const algorithms = [...new Set(PRESETS.map((p) => p.algo))];
  if (!algorithms.includes(algo))
    throw new InvalidOptionError(
      'preset algorithm',
      algo,
      `one of ${algorithms.map((a) => `"${a}"`).join(', ')}`,
    );
  const found = PRESETS.find((p) => p.algo === algo && p.env === env);
  if (found === undefined) {
    throw new InvalidOptionError(
      `${algo} preset`,
      env,
      `one of ${listPresets(algo)
        .map((p) => `"${p.env}"`)
        .join(', ')}`,
    );
  }
  return { ...found, options: { ...found.options } } as Preset<K>;
}
