/**
 * Deep Q-Network (Mnih et al. 2015) with double-DQN targets (van Hasselt et al. 2016), a target
 * network, a linear ε schedule and action masks. Defaults: CleanRL `dqn.py` (+ double DQN).
 *
 * Reads top to bottom: config → Q-network → act (ε-greedy among allowed actions) → observe
 * (replay, then every `trainFrequency` steps `gradientSteps` updates; target network every
 * `targetUpdateInterval` steps). Targets: `r + γ·(1 − terminated)·Q⁻(s', argmaxₐ Q(s', a))` —
 * a truncated step still bootstraps from its final observation.
 *
 * @see https://www.nature.com/articles/nature14236
 */
import { mkdirSync } from 'node:fs';
import { InvalidStateError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import type { Agent, EnvSpaces, TrainContext, Transition } from './agent.js';
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
import { MASKED_LOGIT, argmaxRow } from './nn/distributions.js';
import { Mlp } from './nn/mlp.js';
import { Adam } from './nn/optimizer.js';
import { ParameterSet } from './nn/params.js';
import { polyakUpdate } from './nn/polyak.js';
import { resolveConfig, type ConfigRules } from './options.js';
import { ObservationEncoder, actionShape, checkMask } from './spaces.js';

/** Config of {@link DqnAgent}; every field has a default ({@link DQN_DEFAULTS}). */
export interface DqnConfig {
  /** Seed of initialisation, exploration and replay sampling. @defaultValue 1 */
  seed: number;
  /** Adam learning rate. @defaultValue 2.5e-4 */
  learningRate: number;
  /** Replay capacity. @defaultValue 10000 */
  bufferSize: number;
  /** Discount γ. @defaultValue 0.99 */
  gamma: number;
  /** Target-network Polyak τ (1 = hard copy). @defaultValue 1 */
  tau: number;
  /** Env steps between target-network updates. @defaultValue 500 */
  targetUpdateInterval: number;
  /** Transitions per update. @defaultValue 128 */
  batchSize: number;
  /** ε at the start. @defaultValue 1 */
  explorationInitialEps: number;
  /** ε at the end of the schedule. @defaultValue 0.05 */
  explorationFinalEps: number;
  /** Fraction of the run over which ε decays linearly. @defaultValue 0.5 */
  explorationFraction: number;
  /** Env steps of uniformly random actions before learning. @defaultValue 10000 */
  learningStarts: number;
  /** Env steps between training phases. @defaultValue 10 */
  trainFrequency: number;
  /** Gradient steps per training phase. @defaultValue 1 */
  gradientSteps: number;
  /** Double-DQN targets (online argmax, target value). @defaultValue true */
  double: boolean;
  /** TD loss: CleanRL's mean squared error or SB3's Huber (smooth L1). @defaultValue 'mse' */
  loss: 'mse' | 'huber';
  /** Global gradient-norm clip (SB3 uses 10); undefined for none. @defaultValue undefined */
  maxGradNorm: number | undefined;
  /** Hidden layer sizes (CleanRL's QNetwork: 120, 84). @defaultValue [120, 84] */
  hiddenSizes: number[];
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
  /** Steps over which ε decays; undefined: the `steps` given to train(). @defaultValue undefined */
  totalSteps: number | undefined;
}

/** Options of {@link DqnAgent.create}: any subset of {@link DqnConfig}. */
export type DqnOptions = Partial<DqnConfig>;

/** CleanRL `dqn.py` defaults, with double DQN on. */
export const DQN_DEFAULTS: Readonly<DqnConfig> = Object.freeze({
  seed: 1,
  learningRate: 2.5e-4,
  bufferSize: 10_000,
  gamma: 0.99,
  tau: 1,
  targetUpdateInterval: 500,
  batchSize: 128,
  explorationInitialEps: 1,
  explorationFinalEps: 0.05,
  explorationFraction: 0.5,
  learningStarts: 10_000,
  trainFrequency: 10,
  gradientSteps: 1,
  double: true,
  loss: 'mse',
  maxGradNorm: undefined,
  hiddenSizes: [120, 84],
  adamEpsilon: 1e-8,
  normalizeObservations: false,
  normalizeRewards: false,
  clipObservations: 10,
  clipRewards: 10,
  totalSteps: undefined,
});

const RULES: ConfigRules<DqnConfig> = {
  seed: { kind: 'seed' },
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  bufferSize: { kind: 'number', min: 1, integer: true },
  gamma: { kind: 'number', min: 0, max: 1 },
  tau: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  targetUpdateInterval: { kind: 'number', min: 1, integer: true },
  batchSize: { kind: 'number', min: 1, integer: true },
  explorationInitialEps: { kind: 'number', min: 0, max: 1 },
  explorationFinalEps: { kind: 'number', min: 0, max: 1 },
  explorationFraction: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  learningStarts: { kind: 'number', min: 0, integer: true },
  trainFrequency: { kind: 'number', min: 1, integer: true },
  gradientSteps: { kind: 'number', min: 1, integer: true },
  double: { kind: 'boolean' },
  loss: { kind: 'choice', values: ['mse', 'huber'] },
  maxGradNorm: { kind: 'number', min: 0, exclusiveMin: true, optional: true },
  hiddenSizes: { kind: 'sizes' },
  adamEpsilon: { kind: 'number', min: 0, exclusiveMin: true },
  normalizeObservations: { kind: 'boolean' },
  normalizeRewards: { kind: 'boolean' },
  clipObservations: { kind: 'number', min: 0, exclusiveMin: true },
  clipRewards: { kind: 'number', min: 0, exclusiveMin: true },
  totalSteps: { kind: 'number', min: 1, integer: true, optional: true },
};

/** DQN over a Discrete action space; the Q-network and its target each are one flat parameter vector. */
export class DqnAgent<O = unknown> extends OffPolicyAgent<O, number> implements Agent<O, number> {
  readonly kind = 'dqn';
  readonly config: Readonly<DqnConfig>;
  private readonly spaces: EnvSpaces<O, number>;
  private readonly encoder: ObservationEncoder;
  private readonly n: number;
  private readonly start: number;
  private readonly online: ParameterSet;
  private readonly target: ParameterSet;
  private readonly q: Mlp;
  private readonly optimizer: Adam;
  private readonly replay: ReplayBuffer;
  private rng: Rng;
  private envSteps = 0;
  private updates = 0;
  private totalSteps: number | null = null;
  protected readonly normalizer: Normalizer;

  private constructor(spaces: EnvSpaces<O, number>, config: DqnConfig) {
    super();
    this.config = Object.freeze(config);
    this.spaces = spaces;
    this.encoder = new ObservationEncoder(spaces.observationSpace);
    const shape = actionShape(spaces, 'DqnAgent', ['discrete']);
    if (shape.kind !== 'discrete')
      throw new InvalidStateError(
        'DqnAgent',
        'a Discrete action space',
        String(spaces.actionSpace),
      );
    this.n = shape.n;
    this.start = shape.start;
    const init = new Rng(config.seed);
    this.rng = init.spawn();
    this.online = new ParameterSet('q');
    this.q = new Mlp(
      this.online,
      {
        name: 'q',
        inputSize: this.encoder.size,
        hiddenSizes: config.hiddenSizes,
        outputSize: this.n,
        activation: 'relu',
        init: 'fan-in-uniform',
      },
      init,
    );
    this.target = new ParameterSet('q-target');
    // Same layout: the target starts as a copy (filled when built).
    for (const piece of this.online.pieces)
      this.target.add(piece.name, piece.shape, new Float32Array(piece.size));
    this.optimizer = new Adam(this.online, {
      learningRate: config.learningRate,
      epsilon: config.adamEpsilon,
      maxGradNorm: config.maxGradNorm,
    });
    this.normalizer = new Normalizer({
      size: this.encoder.size,
      numEnvs: spaces.numEnvs ?? 1,
      observations: config.normalizeObservations,
      rewards: config.normalizeRewards,
      clipObservations: config.clipObservations,
      clipRewards: config.clipRewards,
      gamma: config.gamma,
    });
    this.replay = new ReplayBuffer({
      capacity: config.bufferSize,
      observationSize: this.encoder.size,
      actionSize: 1,
      numEnvs: spaces.numEnvs ?? 1,
      actionMaskSize: this.n,
    });
  }

  /**
   * A DQN agent for `spaces` (Discrete actions).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range, or a non-Discrete action space.
   * @example const agent = DqnAgent.create(spacesOf(env), { learningStarts: 1000 });
   */
  static create<O>(spaces: EnvSpaces<O>, options: DqnOptions = {}): DqnAgent<O> {
    return new DqnAgent(
      spaces as EnvSpaces<O, number>,
      resolveConfig('DqnAgent', DQN_DEFAULTS, RULES, options),
    );
  }

  onTrainStart(context: TrainContext): void {
    this.totalSteps = this.config.totalSteps ?? context.totalSteps;
  }

  /** ε at the current step (linear from the initial to the final value over `explorationFraction` of the run). */
  get epsilon(): number {
    const c = this.config;
    const duration = c.explorationFraction * (this.totalSteps ?? c.totalSteps ?? Infinity);
    const slope = (c.explorationFinalEps - c.explorationInitialEps) / duration;
    return Math.max(slope * this.envSteps + c.explorationInitialEps, c.explorationFinalEps);
  }

  protected async actRows(
    observations: readonly O[],
    explore: boolean,
    masks: readonly (Uint8Array | undefined)[],
  ): Promise<number[]> {
    await this.ready();
    const n = observations.length;
    const out = new Array<number>(n);
    const greedy: number[] = [];
    const epsilon = this.envSteps < this.config.learningStarts ? 1 : this.epsilon;
    const checked = observations.map((_, i) => checkMask(masks[i], this.n));
    for (let i = 0; i < n; i++) {
      if (explore && this.rng.random() < epsilon) out[i] = this.randomAction(checked[i]);
      else greedy.push(i);
    }
    if (greedy.length > 0) {
      const rows = this.encoder.encodeBatch(greedy.map((i) => observations[i]));
      this.normalizer.normalizeObservations(rows);
      const q = tf.tidy(() =>
        this.q.apply(this.online.views(), tf.tensor2d(rows, [greedy.length, this.encoder.size])),
      );
      const values = q.dataSync();
      q.dispose();
      greedy.forEach((i, k) => (out[i] = argmaxRow(values, k * this.n, this.n, checked[i])));
    }
    return out.map((a) => a + this.start);
  }

  private randomAction(mask: Uint8Array | undefined, rng: Rng = this.rng): number {
    if (mask === undefined) return rng.integer(this.n);
    const allowed: number[] = [];
    for (let i = 0; i < this.n; i++) if (mask[i] === 1) allowed.push(i);
    return allowed[rng.integer(allowed.length)]!;
  }

  // ---- row hooks (no environment) ---------------------------------------------------------------

  /**
   * ε-greedy actions for observation rows, as action values (see {@link OffPolicyAgent.actOnRows}):
   * exploring, each row is a uniform allowed action with probability {@link DqnAgent.epsilon}
   * (drawn from `options.rng`), otherwise the allowed action of highest Q. Unlike `act`, there is
   * no random warm-up before `learningStarts`: ε follows the schedule at the agent's env step.
   */
  actOnRows(rows: Float32Array, options: RowActOptions): Float32Array {
    const n = checkRows(
      'DqnAgent',
      this.online.built,
      rows,
      this.encoder.size,
      options.masks,
      this.n,
    );
    const out = new Float32Array(n);
    if (n === 0) return out;
    const q = this.qRows(rows, n);
    const epsilon = this.epsilon;
    for (let i = 0; i < n; i++) {
      const mask = this.rowMask(options.masks, i);
      const a =
        options.explore && options.rng.random() < epsilon
          ? this.randomAction(mask, options.rng)
          : argmaxRow(q, i * this.n, this.n, mask);
      out[i] = a + this.start;
    }
    return out;
  }

  /** `maxₐ Q(s, a)` of the online network over the allowed actions, per row (see {@link OffPolicyAgent.valueRows}). */
  valueRows(rows: Float32Array, masks?: Uint8Array): Float32Array {
    const n = checkRows('DqnAgent', this.online.built, rows, this.encoder.size, masks, this.n);
    const q = this.qRows(rows, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const best = argmaxRow(q, i * this.n, this.n, this.rowMask(masks, i));
      out[i] = q[i * this.n + best]!;
    }
    return out;
  }

  /**
   * `updates` gradient steps on batches drawn from `sources` (action values including `start`), no
   * env step; see {@link OffPolicyAgent.trainFrom}. Without env steps to count, the target network
   * follows every `targetUpdateInterval` gradient steps (counted over all of the agent's updates).
   */
  async trainFrom(sources: readonly ReplaySource[], updates: number): Promise<void> {
    const c = this.config;
    checkReplaySources('DqnAgent', sources, updates, {
      observationSize: this.encoder.size,
      actionSize: 1,
      actionCount: this.n,
    });
    await this.ready();
    for (let i = 0; i < updates; i++) {
      const batch = sampleReplaySources(sources, c.batchSize, this.rng, this.n);
      for (let r = 0; r < batch.size; r++) batch.actions[r] = batch.actions[r]! - this.start;
      this.update(batch);
      if (this.updates % c.targetUpdateInterval === 0)
        polyakUpdate(this.target, this.online, c.tau);
    }
  }

  /** Q-values `[n × actions]` of the online network for `n` observation rows. */
  private qRows(rows: Float32Array, n: number): Float32Array {
    if (n === 0) return new Float32Array(0);
    const normalized = rows.slice();
    this.normalizer.normalizeObservations(normalized);
    const q = tf.tidy(() =>
      this.q.apply(this.online.views(), tf.tensor2d(normalized, [n, this.encoder.size])),
    );
    const values = q.dataSync() as Float32Array;
    q.dispose();
    return values;
  }

  /** Row `i` of `[n × actions]` masks (undefined: no masks, or a row allowing nothing). */
  private rowMask(masks: Uint8Array | undefined, i: number): Uint8Array | undefined {
    return masks === undefined
      ? undefined
      : checkMask(masks.subarray(i * this.n, i * this.n + this.n), this.n);
  }

  protected store(t: Transition<O, number>): void {
    checkEnvIndex('DqnAgent', t.envIndex, this.replay.numEnvs);
    const observation = this.encoder.encode(t.observation);
    this.normalizer.updateObservations(observation, 1);
    this.normalizer.trackReward(t.reward, t.envIndex, t.terminated || t.truncated);
    this.replay.add(
      {
        observation,
        action: t.action - this.start,
        reward: t.reward,
        nextObservation: this.encoder.encode(t.nextObservation, 'nextObservation'),
        terminated: t.terminated,
        truncated: t.truncated,
        actionMask: checkMask(t.actionMask, this.n),
        nextActionMask: checkMask(t.nextActionMask, this.n, 'nextActionMask'),
      },
      t.envIndex,
    );
    this.envSteps++;
  }

  protected async afterStep(): Promise<void> {
    const c = this.config;
    if (this.envSteps > c.learningStarts && this.envSteps % c.trainFrequency === 0) {
      await this.ready();
      for (let i = 0; i < c.gradientSteps; i++)
        this.update(this.replay.sample(c.batchSize, this.rng));
    }
    if (this.envSteps % c.targetUpdateInterval === 0 && this.target.built)
      polyakUpdate(this.target, this.online, c.tau);
  }

  /** One gradient step on a replay batch (0-based action indices, masks present). */
  private update(batch: ReplayBatch): void {
    const c = this.config;
    this.normalizeBatch(batch);
    const b = batch.size;
    const obsSize = this.encoder.size;
    const actionsOneHot = new Float32Array(b * this.n);
    const discount = bootstrapDiscounts(batch.terminated, c.gamma);
    const nextPenalty = new Float32Array(b * this.n);
    for (let i = 0; i < b; i++) {
      actionsOneHot[i * this.n + batch.actions[i]!] = 1;
      for (let j = 0; j < this.n; j++)
        if (batch.nextActionMasks![i * this.n + j] === 0)
          nextPenalty[i * this.n + j] = MASKED_LOGIT;
    }
    const [tdLoss, qMean, gradNorm] = tf.tidy((): tf.Tensor[] => {
      const nextObs = tf.tensor2d(batch.nextObservations, [b, obsSize]);
      const penalty = tf.tensor2d(nextPenalty, [b, this.n]);
      // 1. Target: r + γ(1 − terminated)·Q⁻(s', a*), a* = argmax over allowed actions (online net for double DQN).
      const qTargetNext = tf.reshape(this.q.apply(this.target.views(), nextObs), [b, this.n]);
      const chooser = c.double
        ? tf.reshape(this.q.apply(this.online.views(), nextObs), [b, this.n])
        : qTargetNext;
      const best = tf.oneHot(tf.argMax(tf.add(chooser, penalty), 1), this.n);
      const nextValue = tf.sum(tf.mul(qTargetNext, best), 1);
      const y = tf.add(tf.tensor1d(batch.rewards), tf.mul(tf.tensor1d(discount), nextValue));
      // 2. TD loss on Q(s, a).
      const obs = tf.tensor3d(batch.observations, [1, b, obsSize]);
      const taken = tf.tensor2d(actionsOneHot, [b, this.n]);
      let qTaken: tf.Tensor | undefined;
      const { value, grad } = this.online.valueAndGrad((params) => {
        const q = tf.reshape(this.q.apply(params, obs), [b, this.n]);
        qTaken = tf.keep(tf.sum(tf.mul(q, taken), 1));
        const error = tf.sub(qTaken, y);
        return c.loss === 'mse' ? tf.mean(tf.square(error)) : tf.losses.huberLoss(y, qTaken);
      });
      const { gradNorm: norm } = this.optimizer.step(grad);
      return [value, tf.mean(qTaken!), norm];
    });
    const [lossValue, q, norm] = [tdLoss!, qMean!, gradNorm!].map((x) => x.dataSync()[0]!);
    tf.dispose([tdLoss!, qMean!, gradNorm!]);
    this.updates++;
    this.accumulator.add({
      'losses/td_loss': lossValue!,
      'losses/q_values': q!,
      'losses/grad_norm': norm!,
      'charts/epsilon': this.epsilon,
      'charts/updates': this.updates,
    });
  }

  async save(dir: string): Promise<void> {
    await this.ready();
    mkdirSync(dir, { recursive: true });
    this.replay.save(dir);
    writeAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: {
        online: this.online.read(),
        target: this.target.read(),
        ...adamTensors(this.optimizer, 'adam'),
      },
      state: {
        adamStep: this.optimizer.stepCount,
        rng: this.rng.getState(),
        envSteps: this.envSteps,
        updates: this.updates,
        totalSteps: this.totalSteps,
        metrics: this.accumulator.toJSON(),
        normalizer: this.normalizer.toJSON(),
      },
    });
  }

  async load(dir: string): Promise<void> {
    await this.ready();
    const size = this.online.size;
    const saved = readAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: { online: size, target: size, 'adam.m': size, 'adam.v': size },
    });
    const state = saved.state as {
      adamStep: number;
      rng: unknown;
      envSteps: number;
      updates: number;
      totalSteps: number | null;
      metrics: unknown;
      normalizer: unknown;
    };
    this.replay.load(dir);
    this.online.write(saved.tensors['online']!);
    this.target.write(saved.tensors['target']!);
    restoreAdam(this.optimizer, saved, 'adam', state.adamStep);
    this.rng = saved.rng(state.rng);
    this.envSteps = state.envSteps;
    this.updates = state.updates;
    this.totalSteps = state.totalSteps;
    this.accumulator.fromJSON(state.metrics);
    this.normalizer.fromJSON(state.normalizer, saved.file);
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.optimizer.dispose();
  }

  /** Builds the networks (and picks the tensor backend); the row hooks need it done. */
  async ready(): Promise<void> {
    if (this.online.built) return;
    await initBackend();
    this.online.build();
    this.target.build();
    polyakUpdate(this.target, this.online, 1);
  }
}
