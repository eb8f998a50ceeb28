/**
 * Soft Actor-Critic (Haarnoja et al. 2018) for continuous actions, and SAC-Discrete
 * (Christodoulou 2019) for discrete actions with masks, so SAC can be compared on every
 * environment of the suite. Defaults: CleanRL `sac_continuous_action.py`.
 *
 * Reads top to bottom: config → networks (actor; twin critics as ONE batched network; target
 * critics) → act → observe (replay, then per gradient step: critic, actor every
 * `policyFrequency` steps, temperature, targets). Targets bootstrap on truncation only:
 * `r + γ·(1 − terminated)·(min(Q₁', Q₂') − α·log π')`.
 *
 * Continuous actions are squashed with tanh into [-1, 1], stored in the replay buffer and fed to
 * the critics in that range (as SB3 does), and rescaled to the action bounds for the environment.
 *
 * @see https://arxiv.org/abs/1812.05905
 * @see https://arxiv.org/abs/1910.07207
 */
import { mkdirSync } from 'node:fs';
import { InvalidOptionError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import type { Agent, EnvSpaces, Metrics, Transition } from './agent.js';
import { checkEnvIndex } from './agent.js';
import { ReplayBuffer, bootstrapDiscounts, type ReplayBatch } from './buffers/replay-buffer.js';
import { Normalizer } from './normalization.js';
import {
  OffPolicyAgent,
  checkReplaySources,
  checkRows,
  sampleReplaySources,
  type ReplaySource,
  type RowActOptions,
} from './off-policy.js';
import { adamTensors, readAgentFile, restoreAdam, writeAgentFile } from './checkpoint.js';
import { initBackend, tf } from './nn/backend.js';
import {
  MASKED_LOGIT,
  argmaxRow,
  sampleCategorical,
  softmaxRow,
  tanhGaussianSample,
} from './nn/distributions.js';
import { Mlp } from './nn/mlp.js';
import { Adam, ScalarAdam } from './nn/optimizer.js';
import { ParameterSet, type ParameterTensors } from './nn/params.js';
import { polyakUpdate } from './nn/polyak.js';
import { resolveConfig, type ConfigRules } from './options.js';
import { ObservationEncoder, actionShape, checkMask, type ActionShape } from './spaces.js';

/** Config of {@link SacAgent}; every field has a default ({@link SAC_DEFAULTS}). */
export interface SacConfig {
  /** Seed of initialisation, action noise and replay sampling. @defaultValue 1 */
  seed: number;
  /** Replay capacity. @defaultValue 1000000 */
  bufferSize: number;
  /** Discount γ. @defaultValue 0.99 */
  gamma: number;
  /** Polyak τ for the target critics. @defaultValue 0.005 */
  tau: number;
  /** Transitions per update. @defaultValue 256 */
  batchSize: number;
  /** Env steps of uniformly random actions before learning. @defaultValue 5000 */
  learningStarts: number;
  /** Actor (and temperature) learning rate. @defaultValue 3e-4 */
  policyLr: number;
  /** Critic learning rate. @defaultValue 1e-3 */
  qLr: number;
  /** Update the actor every this many gradient steps, that many times (delayed, TD3-style). @defaultValue 2 */
  policyFrequency: number;
  /** Update the target critics every this many gradient steps. @defaultValue 1 */
  targetNetworkFrequency: number;
  /** Env steps between training phases. @defaultValue 1 */
  trainFrequency: number;
  /** Gradient steps per training phase. @defaultValue 1 */
  gradientSteps: number;
  /** Entropy temperature α (its start value when `autotune`). @defaultValue 0.2 */
  alpha: number;
  /** Tune α toward the target entropy (−|A| continuous; `targetEntropyScale`·log |allowed| discrete). @defaultValue true */
  autotune: boolean;
  /** Initial α when `autotune` (CleanRL and SB3 start at 1). @defaultValue 1 */
  initialAlpha: number;
  /** SAC-Discrete's target entropy as a fraction of the maximum entropy. @defaultValue 0.89 */
  targetEntropyScale: number;
  /** Hidden layer sizes of actor and critics. @defaultValue [256, 256] */
  hiddenSizes: number[];
  /** Lower log-std bound. @defaultValue -5 */
  logStdMin: number;
  /** Upper log-std bound. @defaultValue 2 */
  logStdMax: number;
  /** Bound the log-std by CleanRL's tanh rescaling or SB3's clip. @defaultValue 'tanh' */
  logStdBound: 'tanh' | 'clip';
  /** Adam ε. @defaultValue 1e-8 */
  adamEpsilon: number;
  /** Normalise observations with running statistics (SB3 VecNormalize), saved with the agent; the replay buffer keeps raw values. @defaultValue false */
  normalizeObservations: boolean;
  /** Scale rewards by the running std of the discounted return (SB3 VecNormalize), saved with the agent. @defaultValue false */
  normalizeRewards: boolean;
  /** Clip normalised observations to ±this. @defaultValue 10 */
  clipObservations: number;
  /** Clip normalised rewards to ±this. @defaultValue 10 */
  clipRewards: number;
}

/** Options of {@link SacAgent.create}: any subset of {@link SacConfig}. */
export type SacOptions = Partial<SacConfig>;

/** CleanRL `sac_continuous_action.py` defaults. */
export const SAC_DEFAULTS: Readonly<SacConfig> = Object.freeze({
  seed: 1,
  bufferSize: 1_000_000,
  gamma: 0.99,
  tau: 0.005,
  batchSize: 256,
  learningStarts: 5000,
  policyLr: 3e-4,
  qLr: 1e-3,
  policyFrequency: 2,
  targetNetworkFrequency: 1,
  trainFrequency: 1,
  gradientSteps: 1,
  alpha: 0.2,
  autotune: true,
  initialAlpha: 1,
  targetEntropyScale: 0.89,
  hiddenSizes: [256, 256],
  logStdMin: -5,
  logStdMax: 2,
  logStdBound: 'tanh',
  adamEpsilon: 1e-8,
  normalizeObservations: false,
  normalizeRewards: false,
  clipObservations: 10,
  clipRewards: 10,
});

const RULES: ConfigRules<SacConfig> = {
  seed: { kind: 'seed' },
  bufferSize: { kind: 'number', min: 1, integer: true },
  gamma: { kind: 'number', min: 0, max: 1 },
  tau: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  batchSize: { kind: 'number', min: 1, integer: true },
  learningStarts: { kind: 'number', min: 0, integer: true },
  policyLr: { kind: 'number', min: 0, exclusiveMin: true },
  qLr: { kind: 'number', min: 0, exclusiveMin: true },
  policyFrequency: { kind: 'number', min: 1, integer: true },
  targetNetworkFrequency: { kind: 'number', min: 1, integer: true },
  trainFrequency: { kind: 'number', min: 1, integer: true },
  gradientSteps: { kind: 'number', min: 1, integer: true },
  alpha: { kind: 'number', min: 0 },
  autotune: { kind: 'boolean' },
  initialAlpha: { kind: 'number', min: 0, exclusiveMin: true },
  targetEntropyScale: { kind: 'number', min: 0, max: 1 },
  hiddenSizes: { kind: 'sizes' },
  logStdMin: { kind: 'number' },
  logStdMax: { kind: 'number' },
  logStdBound: { kind: 'choice', values: ['tanh', 'clip'] },
  adamEpsilon: { kind: 'number', min: 0, exclusiveMin: true },
  normalizeObservations: { kind: 'boolean' },
  normalizeRewards: { kind: 'boolean' },
  clipObservations: { kind: 'number', min: 0, exclusiveMin: true },
  clipRewards: { kind: 'number', min: 0, exclusiveMin: true },
};

/** An action SAC takes: an index (SAC-Discrete) or a Float32Array (continuous). */
export type SacAction = number | Float32Array;

/** SAC (continuous) / SAC-Discrete (discrete with masks). */
export class SacAgent<O = unknown>
  extends OffPolicyAgent<O, SacAction>
  implements Agent<O, SacAction>
{
  readonly kind = 'sac';
  readonly config: Readonly<SacConfig>;
  private readonly spaces: EnvSpaces<O, SacAction>;
  private readonly encoder: ObservationEncoder;
  private readonly actions: ActionShape;
  /** Actor outputs: 2·|A| (mean, log-std) continuous, n logits discrete. */
  private readonly actionSize: number;
  private readonly actorParams: ParameterSet;
  private readonly criticParams: ParameterSet;
  private readonly targetParams: ParameterSet;
  private readonly actor: Mlp;
  private readonly critic: Mlp;
  private readonly actorOptimizer: Adam;
  private readonly criticOptimizer: Adam;
  private readonly logAlpha: ScalarAdam;
  private readonly replay: ReplayBuffer;
  private rng: Rng;
  private envSteps = 0;
  private gradientSteps = 0;
  protected readonly normalizer: Normalizer;
  private lastAlphaLoss = 0;

  private constructor(spaces: EnvSpaces<O, SacAction>, config: SacConfig) {
    super();
    if (config.logStdMin >= config.logStdMax)
      throw new InvalidOptionError(
        'SacAgent.logStdMin',
        config.logStdMin,
        `a number below logStdMax (${config.logStdMax})`,
      );
    this.config = Object.freeze(config);
    this.spaces = spaces;
    this.encoder = new ObservationEncoder(spaces.observationSpace);
    this.actions = actionShape(spaces, 'SacAgent', ['box', 'discrete']);
    if (this.actions.kind === 'box' && !this.actions.bounded) {
      throw new InvalidOptionError(
        'SacAgent spaces.actionSpace',
        String(spaces.actionSpace),
        'a Box bounded on both sides (SAC squashes actions into the bounds)',
      );
    }
    const discrete = this.actions.kind === 'discrete';
    this.actionSize = discrete
      ? (this.actions as { n: number }).n
      : (this.actions as { size: number }).size;
    const init = new Rng(config.seed);
    this.rng = init.spawn();
    const obs = this.encoder.size;
    this.actorParams = new ParameterSet('actor');
    this.actor = new Mlp(
      this.actorParams,
      {
        name: 'actor',
        inputSize: obs,
        hiddenSizes: config.hiddenSizes,
        outputSize: discrete ? this.actionSize : 2 * this.actionSize,
        activation: 'relu',
        init: 'fan-in-uniform',
      },
      init,
    );
    this.criticParams = new ParameterSet('critic');
    this.critic = new Mlp(
      this.criticParams,
      {
        name: 'critic',
        inputSize: discrete ? obs : obs + this.actionSize,
        hiddenSizes: config.hiddenSizes,
        outputSize: discrete ? this.actionSize : 1,
        activation: 'relu',
        init: 'fan-in-uniform',
        ensemble: 2,
      },
      init,
    );
    this.targetParams = new ParameterSet('critic-target');
    for (const piece of this.criticParams.pieces)
      this.targetParams.add(piece.name, piece.shape, new Float32Array(piece.size));
    this.actorOptimizer = new Adam(this.actorParams, {
      learningRate: config.policyLr,
      epsilon: config.adamEpsilon,
    });
    this.criticOptimizer = new Adam(this.criticParams, {
      learningRate: config.qLr,
      epsilon: config.adamEpsilon,
    });
    this.logAlpha = new ScalarAdam(
      Math.log(config.autotune ? config.initialAlpha : Math.max(config.alpha, Number.MIN_VALUE)),
      { learningRate: config.policyLr, epsilon: config.adamEpsilon },
    );
    this.normalizer = new Normalizer({
      size: obs,
      numEnvs: spaces.numEnvs ?? 1,
      observations: config.normalizeObservations,
      rewards: config.normalizeRewards,
      clipObservations: config.clipObservations,
      clipRewards: config.clipRewards,
      gamma: config.gamma,
    });
    this.replay = new ReplayBuffer({
      capacity: config.bufferSize,
      observationSize: obs,
      actionSize: discrete ? 1 : this.actionSize,
      numEnvs: spaces.numEnvs ?? 1,
      actionMaskSize: discrete ? this.actionSize : 0,
    });
  }

  /**
   * A SAC agent for `spaces`: Box actions bounded on both sides (SAC), or Discrete actions (SAC-Discrete).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range, or an unsupported action space.
   * @example const agent = SacAgent.create(spacesOf(make('Pendulum-v1')), { learningStarts: 100, policyLr: 1e-3, qLr: 1e-3 });
   */
  static create<O>(spaces: EnvSpaces<O>, options: SacOptions = {}): SacAgent<O> {
    return new SacAgent(
      spaces as EnvSpaces<O, SacAction>,
      resolveConfig('SacAgent', SAC_DEFAULTS, RULES, options),
    );
  }

  /** The current temperature α. */
  get alpha(): number {
    return this.config.autotune ? Math.exp(this.logAlpha.value) : this.config.alpha;
  }

  // ---- acting -----------------------------------------------------------------------------------

  protected async actRows(
    observations: readonly O[],
    explore: boolean,
    masks: readonly (Uint8Array | undefined)[],
  ): Promise<SacAction[]> {
    await this.ready();
    const n = observations.length;
    const shape = this.actions;
    const random = explore && this.envSteps < this.config.learningStarts;
    if (random) {
      // Uniform random actions before learning starts (the replay buffer's warm-up).
      return observations.map((_, i) => {
        if (shape.kind === 'discrete') {
          const mask = checkMask(masks[i], shape.n);
          const p = softmaxRow(new Float32Array(shape.n), 0, shape.n, mask);
          return sampleCategorical(p, this.rng) + shape.start;
        }
        const squashed = new Float32Array(shape.size);
        for (let j = 0; j < shape.size; j++) squashed[j] = this.rng.uniform(-1, 1);
        return this.toEnvAction(squashed);
      });
    }
    const rows = this.encoder.encodeBatch(observations);
    this.normalizer.normalizeObservations(rows);
    const head = tf.tidy(() =>
      this.actor.apply(this.actorParams.views(), tf.tensor2d(rows, [n, this.encoder.size])),
    );
    const data = head.dataSync();
    head.dispose();
    const out: SacAction[] = [];
    for (let i = 0; i < n; i++) {
      const mask = shape.kind === 'discrete' ? checkMask(masks[i], shape.n) : undefined;
      out.push(this.actionOfRow(data, i, explore, this.rng, mask));
    }
    return out;
  }

  /** The action of row `i` of the actor's output `data` (sampled with `rng` when exploring). */
  private actionOfRow(
    data: ArrayLike<number>,
    i: number,
    explore: boolean,
    rng: Rng,
    mask: Uint8Array | undefined,
  ): SacAction {
    const shape = this.actions;
    if (shape.kind === 'discrete') {
      const p = softmaxRow(data, i * shape.n, shape.n, mask);
      return (explore ? sampleCategorical(p, rng) : argmaxRow(p, 0, shape.n)) + shape.start;
    }
    const a = shape.size;
    const squashed = new Float32Array(a);
    for (let j = 0; j < a; j++) {
      const mean = data[i * 2 * a + j]!;
      const logStd = this.boundLogStdScalar(data[i * 2 * a + a + j]!);
      const u = explore ? mean + Math.exp(logStd) * rng.normal() : mean;
      squashed[j] = Math.tanh(u);
    }
    return this.toEnvAction(squashed);
  }

  // ---- row hooks (no environment) ---------------------------------------------------------------

  /**
   * Actions of the actor for observation rows, in env units (see {@link OffPolicyAgent.actOnRows}):
   * exploring, a tanh-Gaussian sample (continuous) or a categorical sample among the allowed
   * actions (discrete), drawn from `options.rng`; otherwise the squashed mean or the most probable
   * action. Unlike `act`, there is no random warm-up before `learningStarts`.
   */
  actOnRows(rows: Float32Array, options: RowActOptions): Float32Array {
    const shape = this.actions;
    const count = shape.kind === 'discrete' ? shape.n : 0;
    const n = checkRows(
      'SacAgent',
      this.actorParams.built,
      rows,
      this.encoder.size,
      options.masks,
      count,
    );
    const width = shape.kind === 'discrete' ? 1 : shape.size;
    const out = new Float32Array(n * width);
    if (n === 0) return out;
    const data = this.actorRows(rows, n);
    for (let i = 0; i < n; i++) {
      const mask =
        shape.kind === 'discrete' && options.masks !== undefined
          ? checkMask(options.masks.subarray(i * count, i * count + count), count)
          : undefined;
      const action = this.actionOfRow(data, i, options.explore, options.rng, mask);
      if (typeof action === 'number') out[i] = action;
      else out.set(action, i * width);
    }
    return out;
  }

  /**
   * State values of observation rows (see {@link OffPolicyAgent.valueRows}): continuous,
   * `min(Q₁, Q₂)(s, tanh(μ(s)))` at the actor's deterministic action; discrete,
   * `Σₐ π(a|s)·min(Q₁, Q₂)(s, a)` over the allowed actions.
   */
  valueRows(rows: Float32Array, masks?: Uint8Array): Float32Array {
    const shape = this.actions;
    const count = shape.kind === 'discrete' ? shape.n : 0;
    const n = checkRows('SacAgent', this.actorParams.built, rows, this.encoder.size, masks, count);
    if (n === 0) return new Float32Array(0);
    const normalized = rows.slice();
    this.normalizer.normalizeObservations(normalized);
    const obsSize = this.encoder.size;
    const a = this.actionSize;
    const penalty = new Float32Array(count > 0 ? n * count : 0);
    if (masks !== undefined) {
      for (let i = 0; i < n; i++) {
        const row = masks.subarray(i * count, i * count + count);
        if (!row.includes(1)) continue; // nothing allowed: unrestricted, as checkMask
        for (let j = 0; j < count; j++) if (row[j] !== 1) penalty[i * count + j] = MASKED_LOGIT;
      }
    }
    const values = tf.tidy(() => {
      const obs = tf.tensor3d(normalized, [1, n, obsSize]);
      const head = this.actor.apply(this.actorParams.views(), obs);
      if (shape.kind === 'discrete') {
        const probs = tf.softmax(tf.add(tf.reshape(head, [n, a]), tf.tensor2d(penalty, [n, a])));
        const minQ = tf.min(this.critic.apply(this.criticParams.views(), obs), 0);
        return tf.sum(tf.mul(probs, minQ), 1);
      }
      const mean = tf.slice(head, [0, 0, 0], [1, n, a]);
      const q = this.critic.apply(this.criticParams.views(), tf.concat([obs, tf.tanh(mean)], 2));
      return tf.reshape(tf.min(q, 0), [n]);
    });
    const out = Float32Array.from(values.dataSync());
    values.dispose();
    return out;
  }

  /**
   * `updates` gradient steps on batches drawn from `sources` (actions in env units), no env step;
   * see {@link OffPolicyAgent.trainFrom}. The agent's generator draws the batches and the noise.
   */
  async trainFrom(sources: readonly ReplaySource[], updates: number): Promise<void> {
    const discrete = this.actions.kind === 'discrete';
    checkReplaySources('SacAgent', sources, updates, {
      observationSize: this.encoder.size,
      actionSize: discrete ? 1 : this.actionSize,
      actionCount: discrete ? this.actionSize : 0,
    });
    await this.ready();
    for (let i = 0; i < updates; i++) {
      const batch = sampleReplaySources(
        sources,
        this.config.batchSize,
        this.rng,
        discrete ? this.actionSize : 0,
      );
      this.gradientStep(this.toAgentUnits(batch));
    }
  }

  /** The actor's raw output for `n` observation rows (normalised as the networks see them). */
  private actorRows(rows: Float32Array, n: number): Float32Array {
    const normalized = rows.slice();
    this.normalizer.normalizeObservations(normalized);
    const head = tf.tidy(() =>
      this.actor.apply(this.actorParams.views(), tf.tensor2d(normalized, [n, this.encoder.size])),
    );
    const data = head.dataSync() as Float32Array;
    head.dispose();
    return data;
  }

  /** A batch with env-unit actions → the replay buffer's units (squashed, or 0-based indices), in place. */
  private toAgentUnits(batch: ReplayBatch): ReplayBatch {
    const shape = this.actions;
    if (shape.kind === 'discrete') {
      for (let i = 0; i < batch.size; i++) batch.actions[i] = batch.actions[i]! - shape.start;
      return batch;
    }
    const a = shape.size;
    for (let i = 0; i < batch.size; i++)
      batch.actions.set(this.toSquashed(batch.actions.subarray(i * a, i * a + a)), i * a);
    return batch;
  }

  /** [-1, 1] → the action bounds. */
  private toEnvAction(squashed: Float32Array): Float32Array {
    const shape = this.actions as Extract<ActionShape, { kind: 'box' }>;
    const out = new Float32Array(shape.size);
    for (let j = 0; j < shape.size; j++) {
      const low = shape.low[j]!;
      const high = shape.high[j]!;
      out[j] = Math.min(Math.max(low + 0.5 * (squashed[j]! + 1) * (high - low), low), high);
    }
    return out;
  }

  /** The action bounds → [-1, 1] (for the replay buffer and critics). */
  private toSquashed(action: Float32Array): Float32Array {
    const shape = this.actions as Extract<ActionShape, { kind: 'box' }>;
    const out = new Float32Array(shape.size);
    for (let j = 0; j < shape.size; j++)
      out[j] = (2 * (action[j]! - shape.low[j]!)) / (shape.high[j]! - shape.low[j]!) - 1;
    return out;
  }

  private boundLogStdScalar(x: number): number {
    const { logStdMin: lo, logStdMax: hi, logStdBound } = this.config;
    return logStdBound === 'tanh'
      ? lo + 0.5 * (hi - lo) * (Math.tanh(x) + 1)
      : Math.min(Math.max(x, lo), hi);
  }

  private boundLogStd(x: tf.Tensor): tf.Tensor {
    const { logStdMin: lo, logStdMax: hi, logStdBound } = this.config;
    return logStdBound === 'tanh'
      ? tf.add(tf.mul(tf.tanh(x), 0.5 * (hi - lo)), lo + 0.5 * (hi - lo))
      : tf.clipByValue(x, lo, hi);
  }

  // ---- collecting -------------------------------------------------------------------------------

  protected store(t: Transition<O, SacAction>): void {
    checkEnvIndex('SacAgent', t.envIndex, this.replay.numEnvs);
    const shape = this.actions;
    let action: Float32Array | number;
    if (shape.kind === 'discrete') {
      action = (t.action as number) - shape.start;
    } else {
      (this.spaces.actionSpace as { check(x: unknown, what: string): void }).check(
        t.action,
        'transition action',
      );
      action = this.toSquashed(t.action as Float32Array);
    }
    const observation = this.encoder.encode(t.observation);
    this.normalizer.updateObservations(observation, 1);
    this.normalizer.trackReward(t.reward, t.envIndex, t.terminated || t.truncated);
    this.replay.add(
      {
        observation,
        action,
        reward: t.reward,
        nextObservation: this.encoder.encode(t.nextObservation, 'nextObservation'),
        terminated: t.terminated,
        truncated: t.truncated,
        actionMask: shape.kind === 'discrete' ? checkMask(t.actionMask, shape.n) : undefined,
        nextActionMask:
          shape.kind === 'discrete'
            ? checkMask(t.nextActionMask, shape.n, 'nextActionMask')
            : undefined,
      },
      t.envIndex,
    );
    this.envSteps++;
  }

  protected async afterStep(): Promise<void> {
    const c = this.config;
    if (this.envSteps <= c.learningStarts || this.envSteps % c.trainFrequency !== 0) return;
    await this.ready();
    for (let i = 0; i < c.gradientSteps; i++)
      this.gradientStep(this.replay.sample(c.batchSize, this.rng));
  }

  /** One gradient step on `batch` (replay units): critic, actor when due, targets when due. */
  private gradientStep(batch: ReplayBatch): void {
    const c = this.config;
    this.gradientSteps++;
    if (this.actions.kind === 'discrete') this.updateDiscrete(batch);
    else this.updateContinuous(batch);
    if (this.gradientSteps % c.targetNetworkFrequency === 0)
      polyakUpdate(this.targetParams, this.criticParams, c.tau);
  }

  // ---- SAC (continuous) -------------------------------------------------------------------------

  private updateContinuous(batch: ReplayBatch): void {
    const c = this.config;
    this.normalizeBatch(batch);
    const b = batch.size;
    const a = this.actionSize;
    const obsSize = this.encoder.size;
    const discount = bootstrapDiscounts(batch.terminated, c.gamma);
    const alpha = this.alpha;
    const updateActor = this.gradientSteps % c.policyFrequency === 0;
    const noise = (): tf.Tensor => tf.tensor3d(this.normals(b * a), [1, b, a]);

    const results = tf.tidy(() => {
      const obs = tf.tensor3d(batch.observations, [1, b, obsSize]);
      const nextObs = tf.tensor3d(batch.nextObservations, [1, b, obsSize]);
      // 1. Critic target: r + γ(1 − terminated)(min Q⁻(s', a') − α log π(a'|s')), a' ~ π(·|s').
      const next = this.policySample(this.actorParams.views(), nextObs, noise(), b);
      const qNext = this.critic.apply(
        this.targetParams.views(),
        tf.concat([nextObs, next.action], 2),
      );
      const minNext = tf.reshape(tf.min(qNext, 0), [b]);
      const y = tf.add(
        tf.tensor1d(batch.rewards),
        tf.mul(tf.tensor1d(discount), tf.sub(minNext, tf.mul(next.logProb, alpha))),
      );
      // 2. Critic loss: MSE of both critics (one batched network) against y.
      const criticInput = tf.concat([obs, tf.tensor3d(batch.actions, [1, b, a])], 2);
      const critic = this.criticParams.valueAndGrad((params) => {
        const q = tf.reshape(this.critic.apply(params, criticInput), [2, b]);
        return tf.mul<tf.Scalar>(tf.mean(tf.square(tf.sub(q, y))), 2); // = mse(Q1, y) + mse(Q2, y)
      });
      this.criticOptimizer.stepWithoutNorm(critic.grad);
      const out: tf.Tensor[] = [critic.value];
      // 3. Actor (delayed): minimise α log π(ã|s) − min Q(s, ã), repeated policyFrequency times.
      if (updateActor) {
        const criticViews = this.criticParams.views();
        for (let k = 0; k < c.policyFrequency; k++) {
          let logProbMean: tf.Tensor | undefined;
          const actor = this.actorParams.valueAndGrad((params) => {
            const pi = this.policySample(params, obs, noise(), b);
            const q = this.critic.apply(criticViews, tf.concat([obs, pi.action], 2), {
              inputGradient: true,
              weightGradient: false,
            });
            const minQ = tf.reshape(tf.min(q, 0), [b]);
            logProbMean = tf.keep(tf.mean(pi.logProb));
            return tf.mean<tf.Scalar>(tf.sub(tf.mul(pi.logProb, this.alpha), minQ));
          });
          this.actorOptimizer.stepWithoutNorm(actor.grad);
          out.push(actor.value);
          // 4. Temperature: the next pass (and the next update) sees the new α, as in CleanRL.
          this.stepTemperature(logProbMean!.dataSync()[0]! - a);
          logProbMean!.dispose();
        }
      }
      return out;
    });
    this.finishUpdate(results);
  }

  /** tanh-Gaussian sample of the actor at `obs` (`[1, B, obs]`) with the given noise; action `[1, B, A]`, log-prob `[B]`. */
  private policySample(
    params: ParameterTensors,
    obs: tf.Tensor,
    noise: tf.Tensor,
    b: number,
  ): { action: tf.Tensor; logProb: tf.Tensor1D } {
    const a = this.actionSize;
    const head = this.actor.apply(params, obs);
    const [mean, rawLogStd] = tf.split(head, [a, a], 2) as [tf.Tensor, tf.Tensor];
    const sample = tanhGaussianSample(mean, this.boundLogStd(rawLogStd), noise);
    return { action: sample.action, logProb: tf.reshape<tf.Rank.R1>(sample.logProb, [b]) };
  }

  // ---- SAC-Discrete -----------------------------------------------------------------------------

  private updateDiscrete(batch: ReplayBatch): void {
    const c = this.config;
    this.normalizeBatch(batch);
    const b = batch.size;
    const n = this.actionSize;
    const obsSize = this.encoder.size;
    const discount = bootstrapDiscounts(batch.terminated, c.gamma);
    const taken = new Float32Array(b * n);
    const penalty = new Float32Array(b * n);
    const nextPenalty = new Float32Array(b * n);
    const targetEntropy = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      taken[i * n + batch.actions[i]!] = 1;
      let allowed = 0;
      for (let j = 0; j < n; j++) {
        if (batch.actionMasks![i * n + j] === 0) penalty[i * n + j] = MASKED_LOGIT;
        else allowed++;
        if (batch.nextActionMasks![i * n + j] === 0) nextPenalty[i * n + j] = MASKED_LOGIT;
      }
      targetEntropy[i] = c.targetEntropyScale * Math.log(allowed);
    }
    const alpha = this.alpha;
    const updateActor = this.gradientSteps % c.policyFrequency === 0;
    const results = tf.tidy(() => {
      const obs = tf.tensor3d(batch.observations, [1, b, obsSize]);
      const nextObs = tf.tensor3d(batch.nextObservations, [1, b, obsSize]);
      // 1. Target: r + γ(1 − terminated) Σₐ π(a|s')(min Q⁻(s', a) − α log π(a|s')).
      const nextLogProbs = tf.logSoftmax(
        tf.add(
          tf.reshape(this.actor.apply(this.actorParams.views(), nextObs), [b, n]),
          tf.tensor2d(nextPenalty, [b, n]),
        ),
      );
      const qNext = tf.min(this.critic.apply(this.targetParams.views(), nextObs), 0);
      const softValue = tf.sum(
        tf.mul(tf.exp(nextLogProbs), tf.sub(qNext, tf.mul(nextLogProbs, alpha))),
        1,
      );
      const y = tf.add(tf.tensor1d(batch.rewards), tf.mul(tf.tensor1d(discount), softValue));
      // 2. Critics: MSE of Q(s, a) for the taken action.
      const takenOneHot = tf.tensor2d(taken, [b, n]);
      const critic = this.criticParams.valueAndGrad((params) => {
        const q = tf.sum(tf.mul(this.critic.apply(params, obs), takenOneHot), 2);
        return tf.mul<tf.Scalar>(tf.mean(tf.square(tf.sub(q, y))), 2);
      });
      this.criticOptimizer.stepWithoutNorm(critic.grad);
      const out: tf.Tensor[] = [critic.value];
      // 3. Actor: minimise Σₐ π(a|s)(α log π(a|s) − min Q(s, a)); temperature from −Σₐ π log π.
      if (updateActor) {
        const minQ = tf.min(this.critic.apply(this.criticParams.views(), obs), 0);
        const maskPenalty = tf.tensor2d(penalty, [b, n]);
        const targets = tf.tensor1d(targetEntropy);
        for (let k = 0; k < c.policyFrequency; k++) {
          let entropyGap: tf.Tensor | undefined;
          const actor = this.actorParams.valueAndGrad((params) => {
            const logProbs = tf.logSoftmax(
              tf.add(tf.reshape(this.actor.apply(params, obs), [b, n]), maskPenalty),
            );
            const probs = tf.exp(logProbs);
            // mean over the batch of Σ π log π + target entropy (the temperature's gradient factor)
            entropyGap = tf.keep(tf.mean(tf.add(tf.sum(tf.mul(probs, logProbs), 1), targets)));
            return tf.mean<tf.Scalar>(
              tf.sum(tf.mul(probs, tf.sub(tf.mul(logProbs, this.alpha), minQ)), 1),
            );
          });
          this.actorOptimizer.stepWithoutNorm(actor.grad);
          out.push(actor.value);
          this.stepTemperature(entropyGap!.dataSync()[0]!);
          entropyGap!.dispose();
        }
      }
      return out;
    });
    this.finishUpdate(results);
  }

  /**
   * One step of the temperature: `gap` is the batch mean of log π + H̄ (continuous) or of
   * Σₐ π log π + H̄ (discrete); the loss −α·gap has gradient −α·gap in log α.
   */
  private stepTemperature(gap: number): void {
    if (!this.config.autotune) return;
    const alpha = this.alpha;
    this.logAlpha.step(-alpha * gap);
    this.lastAlphaLoss = -alpha * gap;
  }

  /** Reads the update's losses (critic, then each actor pass) into the metrics. */
  private finishUpdate(results: tf.Tensor[]): void {
    const values = results.map((t) => t.dataSync()[0]!);
    tf.dispose(results);
    const metrics: Metrics = { 'losses/qf_loss': values[0]!, 'charts/updates': this.gradientSteps };
    if (values.length > 1) {
      metrics['losses/actor_loss'] = values[values.length - 1]!;
      if (this.config.autotune) metrics['losses/alpha_loss'] = this.lastAlphaLoss;
    }
    metrics['losses/alpha'] = this.alpha;
    this.accumulator.add(metrics);
  }

  private normals(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.rng.normal();
    return out;
  }

  // ---- persistence ------------------------------------------------------------------------------

  async save(dir: string): Promise<void> {
    await this.ready();
    mkdirSync(dir, { recursive: true });
    this.replay.save(dir);
    writeAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: {
        actor: this.actorParams.read(),
        critic: this.criticParams.read(),
        target: this.targetParams.read(),
        ...adamTensors(this.actorOptimizer, 'actorAdam'),
        ...adamTensors(this.criticOptimizer, 'criticAdam'),
      },
      state: {
        actorAdamStep: this.actorOptimizer.stepCount,
        criticAdamStep: this.criticOptimizer.stepCount,
        logAlpha: this.logAlpha.toJSON(),
        rng: this.rng.getState(),
        envSteps: this.envSteps,
        gradientSteps: this.gradientSteps,
        metrics: this.accumulator.toJSON(),
        normalizer: this.normalizer.toJSON(),
      },
    });
  }

  async load(dir: string): Promise<void> {
    await this.ready();
    const actor = this.actorParams.size;
    const critic = this.criticParams.size;
    const saved = readAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: {
        actor,
        critic,
        target: critic,
        'actorAdam.m': actor,
        'actorAdam.v': actor,
        'criticAdam.m': critic,
        'criticAdam.v': critic,
      },
    });
    const state = saved.state as {
      actorAdamStep: number;
      criticAdamStep: number;
      logAlpha: unknown;
      rng: unknown;
      envSteps: number;
      gradientSteps: number;
      metrics: unknown;
      normalizer: unknown;
    };
    this.replay.load(dir);
    this.actorParams.write(saved.tensors['actor']!);
    this.criticParams.write(saved.tensors['critic']!);
    this.targetParams.write(saved.tensors['target']!);
    restoreAdam(this.actorOptimizer, saved, 'actorAdam', state.actorAdamStep);
    restoreAdam(this.criticOptimizer, saved, 'criticAdam', state.criticAdamStep);
    this.logAlpha.fromJSON(state.logAlpha);
    this.rng = saved.rng(state.rng);
    this.envSteps = state.envSteps;
    this.gradientSteps = state.gradientSteps;
    this.accumulator.fromJSON(state.metrics);
    this.normalizer.fromJSON(state.normalizer, saved.file);
  }

  dispose(): void {
    for (const p of [this.actorParams, this.criticParams, this.targetParams]) p.dispose();
    this.actorOptimizer.dispose();
    this.criticOptimizer.dispose();
  }

  /** Builds the networks (and picks the tensor backend); the row hooks need it done. */
  async ready(): Promise<void> {
    if (this.actorParams.built) return;
    await initBackend();
    this.actorParams.build();
    this.criticParams.build();
    this.targetParams.build();
    polyakUpdate(this.targetParams, this.criticParams, 1);
  }
}
