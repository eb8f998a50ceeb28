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
 * @example
 * const agent = WorldModelAgent.create(spacesOf(env), getPreset('wm', 'Pendulum-v1').options);
 * await train(agent, env, { steps: 2000, evalEvery: 200 });
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { Box, Discrete } from '../envs/core/space.js';
import type { ActOptions, Agent, EnvSpaces, Metrics, Transition } from '../agents/agent.js';
import { checkEnvIndex } from '../agents/agent.js';
import { ReplayBuffer } from '../agents/buffers/replay-buffer.js';
import { MetricAccumulator, readAgentFile, writeAgentFile } from '../agents/checkpoint.js';
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import { ObservationEncoder, checkMask } from '../agents/spaces.js';
import { KNOWN_REWARDS, knownReward, withKnownReward } from './known-rewards.js';
import { createPlanner, type Planner, type PlannerKind } from './planner.js';
import { WorldModelTrainer } from './trainer.js';
import { WorldModel, type WorldModelOptions } from './world-model.js';
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
  /** Ensemble members. @defaultValue 5 */
  ensembleSize: number;
  /** Elites used for prediction. @defaultValue 5 */
  elites: number;
  /** Gaussian transition heads (continuous states). @defaultValue false */
  gaussian: boolean;
  /** How states are modelled. @defaultValue 'auto' */
  stateKind: StateKind;
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
  /** Fraction of the data held out for early stopping and elites. @defaultValue 0.1 */
  holdoutFraction: number;
  /** Rewards the planner sums: the model's (`learned`) or the env's known function (`known`, see `env`). @defaultValue 'learned' */
  rewardSource: 'learned' | 'known';
  /** The environment id, for `rewardSource: 'known'` ({@link KNOWN_REWARDS}). @defaultValue '' */
  env: string;
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
  ensembleSize: 5,
  elites: 5,
  gaussian: false,
  stateKind: 'auto',
  learningRate: 1e-3,
  batchSize: 256,
  fitEpochs: 50,
  fitPatience: 5,
  fitMaxUpdates: 0,
  holdoutFraction: 0.1,
  rewardSource: 'learned',
  env: '',
});

const RULES: ConfigRules<WorldModelAgentConfig> = {
  seed: { kind: 'seed' },
  bufferSize: { kind: 'number', min: 1, integer: true },
  randomSteps: { kind: 'number', min: 1, integer: true },
  trainEvery: { kind: 'number', min: 1, integer: true },
  planner: { kind: 'choice', values: ['cem', 'mppi', 'shooting', 'search'] },
  plannerOptions: { kind: 'object' },
  hiddenSize: { kind: 'number', min: 1, integer: true },
  backboneSizes: { kind: 'sizes' },
  ensembleSize: { kind: 'number', min: 1, max: 64, integer: true },
  elites: { kind: 'number', min: 1, max: 64, integer: true },
  gaussian: { kind: 'boolean' },
  stateKind: { kind: 'choice', values: ['auto', 'continuous', 'discrete'] },
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  batchSize: { kind: 'number', min: 1, integer: true },
  fitEpochs: { kind: 'number', min: 1, integer: true },
  fitPatience: { kind: 'number', min: 1, integer: true },
  fitMaxUpdates: { kind: 'number', min: 0, integer: true },
  holdoutFraction: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  rewardSource: { kind: 'choice', values: ['learned', 'known'] },
  env: { kind: 'choice', values: ['', ...Object.keys(KNOWN_REWARDS)] },
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
    if (config.planner === 'search' && !(action instanceof Discrete))
      throw new InvalidOptionError(
        'WorldModelAgent.planner',
        'search',
        '"cem", "mppi" or "shooting" for a Box action space (search needs discrete actions)',
      );
    this.encoder = new ObservationEncoder(spaces.observationSpace);
    const modelOptions: WorldModelOptions = {
      seed: config.seed,
      hiddenSize: config.hiddenSize,
      backboneSizes: config.backboneSizes,
      ensembleSize: config.ensembleSize,
      elites: config.elites,
      gaussian: config.gaussian,
      stateKind: config.stateKind,
    };
    this.model = WorldModel.create(spaces, modelOptions);
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
    });
    const imagined =
      config.rewardSource === 'known'
        ? withKnownReward(this.model, knownReward(config.env, 'WorldModelAgent.env'))
        : this.model;
    this.trainPlanner = createPlanner(config.planner, imagined, {
      ...config.plannerOptions,
      seed: config.seed + 2,
    });
    this.evalPlanner = createPlanner(config.planner, imagined, {
      ...config.plannerOptions,
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
    this.replay.add(
      {
        observation: this.encoder.encode(t.observation),
        action: typeof t.action === 'number' ? t.action : t.action,
        reward: t.reward,
        nextObservation: this.encoder.encode(t.nextObservation, 'nextObservation'),
        terminated: t.terminated,
        truncated: t.truncated,
      },
      t.envIndex,
    );
    this.envSteps++;
    if (t.terminated || t.truncated) this.trainPlanner.reset();
    const c = this.config;
    if (this.envSteps >= c.randomSteps && (this.envSteps - c.randomSteps) % c.trainEvery === 0)
      await this.fit();
  }

  async observeBatch(
    transitions: readonly (Transition<O, WorldModelAction> | null)[],
  ): Promise<void> {
    for (const t of transitions) if (t !== null) await this.observe(t);
  }

  /** Refits the model on the whole replay buffer now. */
  async fit(): Promise<void> {
    const c = this.config;
    const started = performance.now();
    const result = await this.trainer.fit(this.replay, {
      epochs: c.fitEpochs,
      patience: c.fitPatience,
      holdoutFraction: this.replay.size >= 20 ? c.holdoutFraction : 0,
      maxUpdates: c.fitMaxUpdates > 0 ? c.fitMaxUpdates : undefined,
    });
    this.fits++;
    const metrics: Metrics = {
      'worldmodel/transition_loss': result.train.transition,
      'worldmodel/reward_loss': result.train.reward,
      'worldmodel/done_loss': result.train.done,
      'worldmodel/fit_epochs': result.epochs,
      'worldmodel/fit_updates': result.updates,
      'time/worldmodel_fit_seconds': (performance.now() - started) / 1000,
      'worldmodel/fits': this.fits,
    };
    if (result.holdout.length > 0) metrics['worldmodel/holdout_loss'] = Math.min(...result.holdout);
    this.accumulator.add(metrics);
  }

  metrics(): Metrics {
    return this.accumulator.drain();
  }

  async save(dir: string): Promise<void> {
    await this.model.ready();
    mkdirSync(dir, { recursive: true });
    this.replay.save(dir);
    await this.model.save(join(dir, 'model'));
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
    this.trainer.dispose();
    this.model.dispose();
  }
}
