/**
 * The world-model agent: learn how the environment works from experience, act by imagining.
 *
 * Reads top to bottom: config → parts (replay buffer, {@link WorldModel}, {@link WorldModelTrainer},
 * a planner over the model) → act (uniformly random for the first `randomSteps` env steps, then
 * plan) → observe (every transition into the replay buffer; refit the model every `trainEvery`
 * env steps, the first time when the random phase ends). It runs through `train()` / `evaluate()`
 * like every other agent, and `save` / `load` hold the model, the buffer, the optimiser, the
 * planners' warm starts and every generator, so a resumed run ends where an uninterrupted one would.
 *
 * Planners: `cem` (PETS' cross-entropy method; categorical for discrete actions), `mppi`
 * (TD-MPC2's path integral), `shooting` (the study's policy-guided random shooting) and `search`
 * (best-first search over model states for sparse, long-horizon discrete tasks). Acting in
 * evaluation uses a second planner, so evaluation never disturbs the training planner's warm start.
 *
 * Policy: plain MPC (`policy: 'none'`), or MPC seeded by a policy trained in imagination
 * (`'sac'` or `'dqn'`, MBPO; see {@link Dyna}): after every refit, short branches imagined from
 * real start states fill a model buffer; every env step after the first refit the learner takes
 * `policyUpdates` gradient steps on real and imagined data (`realRatio` real). The planners get its
 * actor as their proposal policy (shooting, MPPI) and its critic as the value at the horizon
 * (shooting, CEM, MPPI).
 *
 * @example
 * const agent = WorldModelAgent.create(spacesOf(env), getPreset('wm', 'Pendulum-v1').options);
 * await train(agent, env, { steps: 2000, evalEvery: 200 });
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError, InvalidValueError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { Box, Discrete } from '../envs/core/space.js';
import type { ActOptions, Agent, EnvSpaces, Metrics, Transition } from '../agents/agent.js';
import { checkEnvIndex } from '../agents/agent.js';
import { ReplayBuffer } from '../agents/buffers/replay-buffer.js';
import { MetricAccumulator, readAgentFile, writeAgentFile } from '../agents/checkpoint.js';
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import { ObservationEncoder, checkMask } from '../agents/spaces.js';
import { KNOWN_REWARDS, knownReward, withKnownReward } from './known-rewards.js';
import { DYNA_DEFAULTS, DYNA_RULES, Dyna } from './dyna.js';
import { PLANNER_KINDS, createPlanner, type Planner, type PlannerKind } from './planner.js';
import { WorldModelTrainer } from './trainer.js';
import {
  WORLD_MODEL_RULES,
  WorldModel,
  type ModelBatch,
  type WorldModelConfig,
  type WorldModelOptions,
} from './world-model.js';
import type { StateKind } from './state-layout.js';

/** Config of {@link WorldModelAgent}; every field has a default ({@link WORLD_MODEL_AGENT_DEFAULTS}). */
export interface WorldModelAgentConfig {
  /** Seed of the model, the trainer, the planners and the random phase. @defaultValue 1 */
  seed: number;
  /** Replay capacity. @defaultValue 100000 */
  bufferSize: number;
  /** Env steps of uniformly random actions before the first fit. @defaultValue 200 */
  randomSteps: number;
  /** Env steps between refits of the model. @defaultValue 200 */
  trainEvery: number;
  /** Planner. @defaultValue 'cem' */
  planner: PlannerKind;
  /** Options of the planner (its own config; see the planner classes). @defaultValue {} */
  plannerOptions: Record<string, unknown>;
  /** Embedding size of the model. @defaultValue 200 */
  hiddenSize: number;
  /** Backbone hidden sizes. @defaultValue [200, 200] */
  backboneSizes: number[];
  /** The model's backbone (`mlp`, `grid`, `transformer`, `lm`; see {@link WorldModelConfig}). @defaultValue 'mlp' */
  backbone: WorldModelConfig['backbone'];
  /** The saved wmgym-lm of the `lm` backbone (`''`: the shipped one). @defaultValue '' */
  languageModel: string;
  /** What of the language model the `lm` backbone trains. @defaultValue 'top' */
  lmTuning: WorldModelConfig['lmTuning'];
  /** `[width, height, channels]` of the grid (`backbone: 'grid'`). @defaultValue [] */
  grid: number[];
  /** Neighbourhood radius of the grid backbone. @defaultValue 1 */
  gridRadius: number;
  /** Positions of the transformer backbone. @defaultValue 8 */
  contextLength: number;
  /** Attention heads of the transformer backbone. @defaultValue 4 */
  heads: number;
  /** Blocks of the transformer backbone. @defaultValue 2 */
  layers: number;
  /** Ensemble members. @defaultValue 5 */
  ensembleSize: number;
  /** Elites used for prediction. @defaultValue 5 */
  elites: number;
  /** Gaussian transition heads (continuous states). @defaultValue false */
  gaussian: boolean;
  /** How states are modelled. @defaultValue 'auto' */
  stateKind: StateKind;
  /**
   * The model's mask head: it learns each next state's allowed actions from the env's
   * `info.actionMask` (every transition must carry one), and the search planners expand only
   * those below their root ({@link WorldModelConfig.actionMasks}). @defaultValue false
   */
  actionMasks: boolean;
  /** Adam learning rate of the model. @defaultValue 0.001 */
  learningRate: number;
  /** Transitions per member per gradient step. @defaultValue 256 */
  batchSize: number;
  /** Epochs per fit at most. @defaultValue 50 */
  fitEpochs: number;
  /** Early-stopping patience (epochs). @defaultValue 5 */
  fitPatience: number;
  /** Gradient steps per fit at most (0 for no cap). @defaultValue 0 */
  fitMaxUpdates: number;
  /** Transitions per open-loop training window (1: the one-step loss; see `FitOptions.openLoopSteps`). @defaultValue 1 */
  fitOpenLoopSteps: number;
  /** Fraction of the data held out for early stopping and elites. @defaultValue 0.1 */
  holdoutFraction: number;
  /** Least share of rewarded or terminal transitions in every member's bootstrap (`FitOptions.eventFraction`; for sparse tasks). @defaultValue 0 */
  fitEventFraction: number;
  /** Rewards the planner sums: the model's (`learned`) or the env's known function (`known`, see `env`). @defaultValue 'learned' */
  rewardSource: 'learned' | 'known';
  /** The environment id, for `rewardSource: 'known'` ({@link KNOWN_REWARDS}). @defaultValue '' */
  env: string;
  /** Plain MPC (`none`), or MPC seeded by a policy trained in imagination: SAC (`sac`, any action space) or DQN (`dqn`, Discrete); see {@link Dyna}. @defaultValue 'none' */
  policy: 'none' | 'sac' | 'dqn';
  /** Imagined steps per branch of the policy's rollouts (MBPO's k). @defaultValue 1 */
  rolloutLength: number;
  /** Branches imagined after each refit (start states from the replay buffer). @defaultValue 1000 */
  rolloutBatch: number;
  /** Capacity of the buffer of imagined transitions. @defaultValue 20000 */
  modelBufferSize: number;
  /** Gradient steps of the policy per env step, from the first refit on. @defaultValue 1 */
  policyUpdates: number;
  /** Share of real transitions in the policy's batches (MBPO: 0.05). @defaultValue 0.05 */
  realRatio: number;
  /** Options of the policy learner ({@link SacOptions} or {@link DqnOptions}). @defaultValue {} */
  policyOptions: Record<string, unknown>;
}

/** Options of {@link WorldModelAgent.create}: any subset of {@link WorldModelAgentConfig}. */
export type WorldModelAgentOptions = Partial<WorldModelAgentConfig>;

/** Defaults of {@link WorldModelAgentConfig}. */
export const WORLD_MODEL_AGENT_DEFAULTS: Readonly<WorldModelAgentConfig> = Object.freeze({
  seed: 1,
  bufferSize: 100_000,
  randomSteps: 200,
  trainEvery: 200,
  planner: 'cem',
  plannerOptions: {},
  hiddenSize: 200,
  backboneSizes: [200, 200],
  backbone: 'mlp',
  grid: [],
  gridRadius: 1,
  languageModel: '',
  lmTuning: 'top',
  contextLength: 8,
  heads: 4,
  layers: 2,
  ensembleSize: 5,
  elites: 5,
  gaussian: false,
  stateKind: 'auto',
  actionMasks: false,
  learningRate: 1e-3,
  batchSize: 256,
  fitEpochs: 50,
  fitPatience: 5,
  fitOpenLoopSteps: 1,
  fitMaxUpdates: 0,
  holdoutFraction: 0.1,
  fitEventFraction: 0,
  rewardSource: 'learned',
  env: '',
  policy: 'none',
  rolloutLength: DYNA_DEFAULTS.rolloutLength,
  rolloutBatch: DYNA_DEFAULTS.rolloutBatch,
  modelBufferSize: DYNA_DEFAULTS.modelBufferSize,
  policyUpdates: 1,
  realRatio: DYNA_DEFAULTS.realRatio,
  policyOptions: {},
});

const RULES: ConfigRules<WorldModelAgentConfig> = {
  seed: { kind: 'seed' },
  bufferSize: { kind: 'number', min: 1, integer: true },
  randomSteps: { kind: 'number', min: 1, integer: true },
  trainEvery: { kind: 'number', min: 1, integer: true },
  planner: { kind: 'choice', values: PLANNER_KINDS },
  plannerOptions: { kind: 'object' },
  hiddenSize: { kind: 'number', min: 1, integer: true },
  backboneSizes: { kind: 'sizes' },
  backbone: WORLD_MODEL_RULES.backbone,
  grid: WORLD_MODEL_RULES.grid,
  gridRadius: WORLD_MODEL_RULES.gridRadius,
  languageModel: WORLD_MODEL_RULES.languageModel,
  lmTuning: WORLD_MODEL_RULES.lmTuning,
  contextLength: WORLD_MODEL_RULES.contextLength,
  heads: WORLD_MODEL_RULES.heads,
  layers: WORLD_MODEL_RULES.layers,
  ensembleSize: { kind: 'number', min: 1, max: 64, integer: true },
  elites: { kind: 'number', min: 1, max: 64, integer: true },
  gaussian: { kind: 'boolean' },
  stateKind: { kind: 'choice', values: ['auto', 'continuous', 'discrete'] },
  actionMasks: WORLD_MODEL_RULES.actionMasks,
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  batchSize: { kind: 'number', min: 1, integer: true },
  fitEpochs: { kind: 'number', min: 1, integer: true },
  fitPatience: { kind: 'number', min: 1, integer: true },
  fitOpenLoopSteps: { kind: 'number', min: 1, max: 64, integer: true },
  fitMaxUpdates: { kind: 'number', min: 0, integer: true },
  holdoutFraction: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  fitEventFraction: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  rewardSource: { kind: 'choice', values: ['learned', 'known'] },
  env: { kind: 'choice', values: ['', ...Object.keys(KNOWN_REWARDS)] },
  policy: { kind: 'choice', values: ['none', 'sac', 'dqn'] },
  rolloutLength: DYNA_RULES.rolloutLength,
  rolloutBatch: DYNA_RULES.rolloutBatch,
  modelBufferSize: DYNA_RULES.modelBufferSize,
  policyUpdates: { kind: 'number', min: 0, integer: true },
  realRatio: DYNA_RULES.realRatio,
  policyOptions: DYNA_RULES.policyOptions,
};

/** The planners that take the policy's hooks, and which hooks each takes. */
const POLICY_HOOKS: Readonly<Partial<Record<PlannerKind, readonly ('policy' | 'value')[]>>> = {
  shooting: ['policy', 'value'],
  cem: ['value'],
  mppi: ['policy', 'value'],
};

/** An action of the agent: a Discrete value or a Box vector. */
export type WorldModelAction = number | Float32Array;

/** The world-model agent; see the module comment. */
export class WorldModelAgent<O = unknown> implements Agent<O, WorldModelAction> {
  readonly kind = 'wm';
  readonly config: Readonly<WorldModelAgentConfig>;
  /** The learned model. */
  readonly model: WorldModel;
  /** Its trainer. */
  readonly trainer: WorldModelTrainer;
  /** The policy trained in imagination (undefined for `policy: 'none'`). */
  readonly dyna: Dyna | undefined;
  private readonly spaces: EnvSpaces<O, WorldModelAction>;
  private readonly encoder: ObservationEncoder;
  private readonly replay: ReplayBuffer;
  private readonly trainPlanner: Planner<Float32Array, WorldModelAction>;
  private readonly evalPlanner: Planner<Float32Array, WorldModelAction>;
  private readonly accumulator = new MetricAccumulator();
  private rng: Rng;
  private envSteps = 0;
  private fits = 0;

  private constructor(spaces: EnvSpaces<O, WorldModelAction>, config: WorldModelAgentConfig) {
    this.config = Object.freeze(config);
    this.spaces = spaces;
    const action = spaces.actionSpace as unknown;
    if (!(action instanceof Discrete) && !(action instanceof Box && action.isBounded()))
      throw new InvalidOptionError(
        'WorldModelAgent spaces.actionSpace',
        String(action),
        'a Discrete action space or a Box bounded on both sides (planners sample inside the bounds)',
      );
    if ((config.planner === 'search' || config.planner === 'mcts') && !(action instanceof Discrete))
      throw new InvalidOptionError(
        'WorldModelAgent.planner',
        config.planner,
        `"cem", "mppi" or "shooting" for a Box action space (${config.planner} needs discrete actions)`,
      );
    this.encoder = new ObservationEncoder(spaces.observationSpace);
    const modelOptions: WorldModelOptions = {
      seed: config.seed,
      hiddenSize: config.hiddenSize,
      backboneSizes: config.backboneSizes,
      backbone: config.backbone,
      grid: config.grid,
      gridRadius: config.gridRadius,
      languageModel: config.languageModel,
      lmTuning: config.lmTuning,
      contextLength: config.contextLength,
      heads: config.heads,
      layers: config.layers,
      ensembleSize: config.ensembleSize,
      elites: config.elites,
      gaussian: config.gaussian,
      stateKind: config.stateKind,
      actionMasks: config.actionMasks,
    };
    this.model = WorldModel.create(spaces, modelOptions);
    this.model.checkOpenLoop(config.fitOpenLoopSteps);
    this.trainer = new WorldModelTrainer(this.model, {
      learningRate: config.learningRate,
      batchSize: config.batchSize,
      seed: config.seed + 1,
    });
    this.replay = new ReplayBuffer({
      capacity: config.bufferSize,
      observationSize: this.encoder.size,
      actionSize: action instanceof Discrete ? 1 : action.size,
      numEnvs: spaces.numEnvs ?? 1,
      actionMaskSize: config.actionMasks ? this.model.actionSize : 0,
    });
    const imagined =
      config.rewardSource === 'known'
        ? withKnownReward(this.model, knownReward(config.env, 'WorldModelAgent.env'))
        : this.model;
    const hooks: { policy?: unknown; value?: unknown } = {};
    if (config.policy !== 'none') {
      const takes = POLICY_HOOKS[config.planner];
      if (takes === undefined)
        throw new InvalidOptionError(
          'WorldModelAgent.policy',
          config.policy,
          `"none" with planner "${config.planner}" (the policy seeds ${Object.keys(POLICY_HOOKS).join(', ')})`,
        );
      if (config.policy === 'dqn' && !(action instanceof Discrete))
        throw new InvalidOptionError(
          'WorldModelAgent.policy',
          'dqn',
          '"sac" or "none" for a Box action space (DQN needs discrete actions)',
        );
      const dyna = Dyna.create(spaces, imagined, {
        policy: config.policy,
        seed: config.seed + 5,
        rolloutLength: config.rolloutLength,
        rolloutBatch: config.rolloutBatch,
        modelBufferSize: config.modelBufferSize,
        realRatio: config.realRatio,
        policyOptions: config.policyOptions,
      });
      this.dyna = dyna;
      if (takes.includes('policy'))
        hooks.policy = (b: ModelBatch, rng: Rng, masks?: Uint8Array) => dyna.propose(b, rng, masks);
      hooks.value = (b: ModelBatch) => dyna.value(b);
    }
    this.trainPlanner = createPlanner(config.planner, imagined, {
      ...config.plannerOptions,
      ...hooks,
      seed: config.seed + 2,
    });
    this.evalPlanner = createPlanner(config.planner, imagined, {
      ...config.plannerOptions,
      ...hooks,
      seed: config.seed + 3,
    });
    this.rng = new Rng(config.seed + 4);
  }

  /**
   * A world-model agent for `spaces` (Box or MultiBinary observations; Discrete or bounded Box actions).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range or unsupported spaces.
   */
  static create<O>(spaces: EnvSpaces<O>, options: WorldModelAgentOptions = {}): WorldModelAgent<O> {
    return new WorldModelAgent(
      spaces as EnvSpaces<O, WorldModelAction>,
      resolveConfig('WorldModelAgent', WORLD_MODEL_AGENT_DEFAULTS, RULES, options),
    );
  }

  /** Env steps observed. */
  get steps(): number {
    return this.envSteps;
  }

  async act(observation: O, options: ActOptions = {}): Promise<WorldModelAction> {
    await this.model.ready();
    if (this.dyna !== undefined) await this.dyna.ready();
    const explore = options.explore ?? false;
    const action = this.spaces.actionSpace as unknown as Discrete | Box;
    const mask = action instanceof Discrete ? checkMask(options.actionMask, action.n) : undefined;
    const state = this.encoder.encode(observation);
    if (this.fits === 0 || (explore && this.envSteps < this.config.randomSteps)) {
      return action instanceof Discrete ? action.sample(this.rng, mask) : action.sample(this.rng);
    }
    const planner = explore ? this.trainPlanner : this.evalPlanner;
    return planner.plan(state, mask === undefined ? {} : { actionMask: mask });
  }

  onEpisodeStart(): void {
    this.evalPlanner.reset();
  }

  async observe(t: Transition<O, WorldModelAction>): Promise<void> {
    checkEnvIndex('WorldModelAgent', t.envIndex, this.replay.numEnvs);
    const action = this.spaces.actionSpace as unknown as Discrete | Box;
    action.check(t.action, 'transition action');
    if (this.config.actionMasks && t.nextActionMask === undefined)
      throw new InvalidValueError(
        'nextActionMask of a WorldModelAgent transition',
        'undefined',
        `a Uint8Array of ${this.model.actionSize} allowed actions (actionMasks: the model learns the env's info.actionMask; this env gives none, so set actionMasks false)`,
      );
    this.replay.add(
      {
        observation: this.encoder.encode(t.observation),
        action: typeof t.action === 'number' ? t.action : t.action,
        reward: t.reward,
        nextObservation: this.encoder.encode(t.nextObservation, 'nextObservation'),
        terminated: t.terminated,
        truncated: t.truncated,
        actionMask: t.actionMask,
        nextActionMask: t.nextActionMask,
      },
      t.envIndex,
    );
    this.envSteps++;
    if (t.terminated || t.truncated) this.trainPlanner.reset();
    const c = this.config;
    if (this.envSteps >= c.randomSteps && (this.envSteps - c.randomSteps) % c.trainEvery === 0)
      await this.fit();
    if (this.dyna !== undefined && this.fits > 0 && c.policyUpdates > 0)
      await this.dyna.update(this.replay, c.policyUpdates);
  }

  async observeBatch(
    transitions: readonly (Transition<O, WorldModelAction> | null)[],
  ): Promise<void> {
    for (const t of transitions) if (t !== null) await this.observe(t);
  }

  /** Refits the model on the whole replay buffer now (then, with a policy, imagines its next branches). */
  async fit(): Promise<void> {
    const c = this.config;
    const started = performance.now();
    const result = await this.trainer.fit(this.replay, {
      epochs: c.fitEpochs,
      patience: c.fitPatience,
      holdoutFraction: this.replay.size >= 20 ? c.holdoutFraction : 0,
      maxUpdates: c.fitMaxUpdates > 0 ? c.fitMaxUpdates : undefined,
      openLoopSteps: c.fitOpenLoopSteps,
      eventFraction: c.fitEventFraction,
    });
    this.fits++;
    const metrics: Metrics = {
      'worldmodel/transition_loss': result.train.transition,
      'worldmodel/reward_loss': result.train.reward,
      'worldmodel/done_loss': result.train.done,
      ...(c.actionMasks ? { 'worldmodel/mask_loss': result.train.mask } : {}),
      'worldmodel/fit_epochs': result.epochs,
      'worldmodel/fit_updates': result.updates,
      'worldmodel/fit_events': result.events,
      'time/worldmodel_fit_seconds': (performance.now() - started) / 1000,
      'worldmodel/fits': this.fits,
    };
    if (result.holdout.length > 0) metrics['worldmodel/holdout_loss'] = Math.min(...result.holdout);
    this.accumulator.add(metrics);
    if (this.dyna !== undefined) {
      await this.dyna.ready();
      this.dyna.rollout(this.replay);
    }
  }

  metrics(): Metrics {
    const metrics = this.accumulator.drain();
    return this.dyna === undefined ? metrics : { ...metrics, ...this.dyna.metrics() };
  }

  async save(dir: string): Promise<void> {
    await this.model.ready();
    mkdirSync(dir, { recursive: true });
    this.replay.save(dir);
    await this.model.save(join(dir, 'model'));
    if (this.dyna !== undefined) await this.dyna.save(join(dir, 'policy'));
    const trainer = this.trainer.getState();
    writeAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: { 'trainerAdam.m': trainer.adam.m, 'trainerAdam.v': trainer.adam.v },
      state: {
        trainerAdamStep: trainer.adam.step,
        trainerRng: trainer.rng,
        trainPlanner: this.trainPlanner.getState(),
        evalPlanner: this.evalPlanner.getState(),
        rng: this.rng.getState(),
        envSteps: this.envSteps,
        fits: this.fits,
        metrics: this.accumulator.toJSON(),
      },
    });
  }

  async load(dir: string): Promise<void> {
    await this.model.ready();
    const size = this.model.params.size;
    const saved = readAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: { 'trainerAdam.m': size, 'trainerAdam.v': size },
    });
    const s = saved.state as {
      trainerAdamStep: number;
      trainerRng: unknown;
      trainPlanner: unknown;
      evalPlanner: unknown;
      rng: unknown;
      envSteps: number;
      fits: number;
      metrics: unknown;
    };
    this.replay.load(dir);
    await this.model.load(join(dir, 'model'));
    if (this.dyna !== undefined) await this.dyna.load(join(dir, 'policy'));
    this.trainer.setState({
      adam: {
        step: s.trainerAdamStep,
        m: saved.tensors['trainerAdam.m']!,
        v: saved.tensors['trainerAdam.v']!,
      },
      rng: saved.rng(s.trainerRng).getState(),
    });
    this.trainPlanner.setState(s.trainPlanner as never);
    this.evalPlanner.setState(s.evalPlanner as never);
    this.rng = saved.rng(s.rng);
    this.envSteps = s.envSteps;
    this.fits = s.fits;
    this.accumulator.fromJSON(s.metrics);
  }

  dispose(): void {
    this.dyna?.dispose();
    this.trainer.dispose();
    this.model.dispose();
  }
}
