/**
 * Proximal Policy Optimization (Schulman et al. 2017), discrete actions (with action masks) and
 * continuous actions (diagonal Gaussian, state-independent log-std). Defaults: CleanRL `ppo.py`;
 * the implementation details of "The 37 Implementation Details of PPO" (Huang et al. 2022):
 * vectorised environments, orthogonal init, Adam ε = 1e-5, learning-rate annealing, GAE,
 * shuffled minibatches, per-minibatch advantage normalisation, clipped surrogate, clipped value
 * loss, entropy bonus, global gradient clipping, approx-KL / clip fraction / explained variance
 * logged, separate actor and critic networks.
 *
 * Reads top to bottom: config → networks → act → observe (rollout) → update (GAE, epochs of
 * minibatches). Episode ends bootstrap as SB3 does: a truncated step uses V(final observation).
 *
 * @see https://arxiv.org/abs/1707.06347
 */
import { mkdirSync } from 'node:fs';
import { InvalidStateError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { checkEnvIndex } from './agent.js';
import type {
  ActBatchOptions,
  ActOptions,
  Agent,
  EnvSpaces,
  Metrics,
  TrainContext,
  Transition,
} from './agent.js';
import { RolloutBuffer } from './buffers/rollout-buffer.js';
import {
  MetricAccumulator,
  adamTensors,
  readAgentFile,
  restoreAdam,
  writeAgentFile,
} from './checkpoint.js';
import { initBackend, tf } from './nn/backend.js';
import {
  argmaxRow,
  categoricalEntropy,
  categoricalLogProb,
  gaussianEntropy,
  gaussianLogProb,
  sampleCategorical,
  softmaxRow,
} from './nn/distributions.js';
import { Mlp, type Activation } from './nn/mlp.js';
import { Adam } from './nn/optimizer.js';
import { ParameterSet } from './nn/params.js';
import { Normalizer } from './normalization.js';
import { resolveConfig, type ConfigRules } from './options.js';
import { ObservationEncoder, actionShape, checkMask, type ActionShape } from './spaces.js';

/** Config of {@link PpoAgent}; every field has a default ({@link PPO_DEFAULTS}). */
export interface PpoConfig {
  /** Seed of initialisation, action sampling and minibatch shuffling. @defaultValue 1 */
  seed: number;
  /** Adam learning rate (start value when annealed). @defaultValue 2.5e-4 */
  learningRate: number;
  /** Anneal the learning rate linearly to 0 over the run. @defaultValue true */
  annealLearningRate: boolean;
  /** Steps per environment per rollout. @defaultValue 128 */
  numSteps: number;
  /** Minibatches per epoch (ignored when `minibatchSize` is set). @defaultValue 4 */
  numMinibatches: number;
  /** Samples per minibatch (SB3's `batch_size`); undefined: rollout size / `numMinibatches`. @defaultValue undefined */
  minibatchSize: number | undefined;
  /** Epochs over each rollout. @defaultValue 4 */
  updateEpochs: number;
  /** Discount γ. @defaultValue 0.99 */
  gamma: number;
  /** GAE λ. @defaultValue 0.95 */
  gaeLambda: number;
  /** Normalise advantages per minibatch. @defaultValue true */
  normalizeAdvantages: boolean;
  /** Surrogate clipping coefficient ε. @defaultValue 0.2 */
  clipCoef: number;
  /** Anneal `clipCoef` linearly to 0 (rl-zoo `lin_0.2`). @defaultValue false */
  annealClipCoef: boolean;
  /** Clip the value loss around the old values with `clipCoef`. @defaultValue true */
  clipValueLoss: boolean;
  /** Entropy bonus coefficient. @defaultValue 0.01 */
  entCoef: number;
  /** Value loss coefficient. @defaultValue 0.5 */
  vfCoef: number;
  /** Global gradient-norm clip. @defaultValue 0.5 */
  maxGradNorm: number;
  /** Stop an update's epochs early when approx-KL exceeds this; undefined for never. @defaultValue undefined */
  targetKl: number | undefined;
  /** Hidden layer sizes of actor and critic. @defaultValue [64, 64] */
  hiddenSizes: number[];
  /** Hidden activation. @defaultValue 'tanh' */
  activation: Activation;
  /** Orthogonal initialisation (√2 hidden, 0.01 policy head, 1 value head); false: PyTorch default. @defaultValue true */
  orthoInit: boolean;
  /** Initial log-std of the Gaussian policy (continuous actions). @defaultValue 0 */
  logStdInit: number;
  /** Adam ε. @defaultValue 1e-5 */
  adamEpsilon: number;
  /** Normalise observations with running statistics (SB3 VecNormalize), saved with the agent. @defaultValue false */
  normalizeObservations: boolean;
  /** Scale rewards by the running std of the discounted return (SB3 VecNormalize). @defaultValue false */
  normalizeRewards: boolean;
  /** Clip normalised observations to ±this. @defaultValue 10 */
  clipObservations: number;
  /** Clip normalised rewards to ±this. @defaultValue 10 */
  clipRewards: number;
  /** Steps over which schedules anneal; undefined: the `steps` given to train(). @defaultValue undefined */
  totalSteps: number | undefined;
}

/** Options of {@link PpoAgent.create}: any subset of {@link PpoConfig}. */
export type PpoOptions = Partial<PpoConfig>;

/** CleanRL `ppo.py` defaults. */
export const PPO_DEFAULTS: Readonly<PpoConfig> = Object.freeze({
  seed: 1,
  learningRate: 2.5e-4,
  annealLearningRate: true,
  numSteps: 128,
  numMinibatches: 4,
  minibatchSize: undefined,
  updateEpochs: 4,
  gamma: 0.99,
  gaeLambda: 0.95,
  normalizeAdvantages: true,
  clipCoef: 0.2,
  annealClipCoef: false,
  clipValueLoss: true,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: undefined,
  hiddenSizes: [64, 64],
  activation: 'tanh',
  orthoInit: true,
  logStdInit: 0,
  adamEpsilon: 1e-5,
  normalizeObservations: false,
  normalizeRewards: false,
  clipObservations: 10,
  clipRewards: 10,
  totalSteps: undefined,
});

const RULES: ConfigRules<PpoConfig> = {
  seed: { kind: 'seed' },
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  annealLearningRate: { kind: 'boolean' },
  numSteps: { kind: 'number', min: 1, integer: true },
  numMinibatches: { kind: 'number', min: 1, integer: true },
  minibatchSize: { kind: 'number', min: 1, integer: true, optional: true },
  updateEpochs: { kind: 'number', min: 1, integer: true },
  gamma: { kind: 'number', min: 0, max: 1 },
  gaeLambda: { kind: 'number', min: 0, max: 1 },
  normalizeAdvantages: { kind: 'boolean' },
  clipCoef: { kind: 'number', min: 0, exclusiveMin: true },
  annealClipCoef: { kind: 'boolean' },
  clipValueLoss: { kind: 'boolean' },
  entCoef: { kind: 'number', min: 0 },
  vfCoef: { kind: 'number', min: 0 },
  maxGradNorm: { kind: 'number', min: 0, exclusiveMin: true },
  targetKl: { kind: 'number', min: 0, exclusiveMin: true, optional: true },
  hiddenSizes: { kind: 'sizes' },
  activation: { kind: 'choice', values: ['tanh', 'relu'] },
  orthoInit: { kind: 'boolean' },
  logStdInit: { kind: 'number' },
  adamEpsilon: { kind: 'number', min: 0, exclusiveMin: true },
  normalizeObservations: { kind: 'boolean' },
  normalizeRewards: { kind: 'boolean' },
  clipObservations: { kind: 'number', min: 0, exclusiveMin: true },
  clipRewards: { kind: 'number', min: 0, exclusiveMin: true },
  totalSteps: { kind: 'number', min: 1, integer: true, optional: true },
};

/** What act() remembers per sub-environment until observe(). */
interface Pending {
  observation: Float32Array;
  rawAction: Float32Array;
  logProb: number;
  value: number;
  mask: Uint8Array | undefined;
}

/** Saved counters. */
interface PpoCounters {
  updates: number;
  envSteps: number;
  totalSteps: number | null;
}

/** PPO with separate actor and critic MLPs in one flat parameter vector and one Adam. */
export class PpoAgent<O = unknown> implements Agent<O, number | Float32Array> {
  readonly kind = 'ppo';
  readonly config: Readonly<PpoConfig>;
  private readonly spaces: EnvSpaces<O, number | Float32Array>;
  private readonly numEnvs: number;
  private readonly encoder: ObservationEncoder;
  private readonly actions: ActionShape;
  private readonly actionWidth: number;
  private readonly params: ParameterSet;
  private readonly actor: Mlp;
  private readonly critic: Mlp;
  private readonly optimizer: Adam;
  private readonly rollout: RolloutBuffer;
  private readonly normalizer: Normalizer;
  private rng: Rng;
  private pending: (Pending | undefined)[];
  private counters: PpoCounters = { updates: 0, envSteps: 0, totalSteps: null };
  private readonly accumulator = new MetricAccumulator();
  private logStdCache: Float32Array | undefined;

  private constructor(spaces: EnvSpaces<O, number | Float32Array>, config: PpoConfig) {
    this.config = Object.freeze(config);
    this.spaces = spaces;
    this.numEnvs = spaces.numEnvs ?? 1;
    this.encoder = new ObservationEncoder(spaces.observationSpace);
    this.actions = actionShape(spaces, 'PpoAgent', ['discrete', 'box']);
    this.actionWidth = this.actions.kind === 'discrete' ? this.actions.n : this.actions.size;
    const init = new Rng(config.seed);
    this.rng = init.spawn();
    this.params = new ParameterSet('ppo');
    const common = {
      inputSize: this.encoder.size,
      hiddenSizes: config.hiddenSizes,
      activation: config.activation,
      init: config.orthoInit ? ('orthogonal' as const) : ('fan-in-uniform' as const),
    };
    this.actor = new Mlp(
      this.params,
      { ...common, name: 'actor', outputSize: this.actionWidth, outputGain: 0.01 },
      init,
    );
    this.critic = new Mlp(
      this.params,
      { ...common, name: 'critic', outputSize: 1, outputGain: 1 },
      init,
    );
    if (this.actions.kind === 'box')
      this.params.add(
        'actor.logstd',
        [this.actions.size],
        new Float32Array(this.actions.size).fill(config.logStdInit),
      );
    this.optimizer = new Adam(this.params, {
      learningRate: config.learningRate,
      epsilon: config.adamEpsilon,
      maxGradNorm: config.maxGradNorm,
    });
    this.rollout = new RolloutBuffer({
      numSteps: config.numSteps,
      numEnvs: this.numEnvs,
      observationSize: this.encoder.size,
      actionSize: this.actions.kind === 'discrete' ? 1 : this.actions.size,
      actionMaskSize: this.actions.kind === 'discrete' ? this.actions.n : 0,
    });
    this.normalizer = new Normalizer({
      size: this.encoder.size,
      numEnvs: this.numEnvs,
      observations: config.normalizeObservations,
      rewards: config.normalizeRewards,
      clipObservations: config.clipObservations,
      clipRewards: config.clipRewards,
      gamma: config.gamma,
    });
    this.pending = new Array<Pending | undefined>(this.numEnvs).fill(undefined);
  }

  /**
   * A PPO agent for `spaces` (Discrete or Box actions).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range, or an unsupported action space.
   * @example const agent = PpoAgent.create(spacesOf(env), { learningRate: 1e-3, numSteps: 32 });
   */
  static create<O>(spaces: EnvSpaces<O>, options: PpoOptions = {}): PpoAgent<O> {
    return new PpoAgent(
      spaces as EnvSpaces<O, number | Float32Array>,
      resolveConfig('PpoAgent', PPO_DEFAULTS, RULES, options),
    );
  }

  onTrainStart(context: TrainContext): void {
    this.counters.totalSteps = this.config.totalSteps ?? context.totalSteps;
  }

  async act(observation: O, options: ActOptions = {}): Promise<number | Float32Array> {
    const envIndex = options.envIndex ?? 0;
    const [action] = await this.actRows(
      [observation],
      options.explore ?? false,
      [options.actionMask],
      envIndex,
    );
    return action!;
  }

  async actBatch(
    observations: readonly O[],
    options: ActBatchOptions = {},
  ): Promise<(number | Float32Array)[]> {
    return this.actRows(observations, options.explore ?? false, options.actionMasks ?? [], 0);
  }

  async observe(transition: Transition<O, number | Float32Array>): Promise<void> {
    this.store(transition);
    if (this.rollout.full) await this.update();
  }

  async observeBatch(
    transitions: readonly (Transition<O, number | Float32Array> | null)[],
  ): Promise<void> {
    for (const t of transitions) if (t !== null) this.store(t);
    if (this.rollout.full) await this.update();
  }

  metrics(): Metrics {
    return this.accumulator.drain();
  }

  // ---- acting -----------------------------------------------------------------------------------

  private async actRows(
    observations: readonly O[],
    explore: boolean,
    masks: readonly (Uint8Array | undefined)[],
    firstEnv: number,
  ): Promise<(number | Float32Array)[]> {
    await this.ready();
    const n = observations.length;
    const rows = this.encoder.encodeBatch(observations);
    if (explore) this.normalizer.updateObservations(rows, n);
    this.normalizer.normalizeObservations(rows);
    const p = this.params.views();
    const [head, values] = tf.tidy(() => {
      const x = tf.tensor2d(rows, [n, this.encoder.size]);
      return [this.actor.apply(p, x), this.critic.apply(p, x)];
    });
    const headData = head.dataSync();
    const valueData = values.dataSync();
    tf.dispose([head, values]);
    const out: (number | Float32Array)[] = [];
    for (let i = 0; i < n; i++) {
      const obsRow = rows.slice(i * this.encoder.size, (i + 1) * this.encoder.size);
      if (this.actions.kind === 'discrete') {
        const mask = checkMask(masks[i], this.actions.n);
        const probs = softmaxRow(headData, i * this.actions.n, this.actions.n, mask);
        const a = explore
          ? sampleCategorical(probs, this.rng)
          : argmaxRow(probs, 0, this.actions.n);
        if (explore)
          this.pending[firstEnv + i] = {
            observation: obsRow,
            rawAction: Float32Array.of(a),
            logProb: Math.log(probs[a]!),
            value: valueData[i]!,
            mask,
          };
        out.push(a + this.actions.start);
      } else {
        const size = this.actions.size;
        const logStd = this.logStd();
        const raw = new Float32Array(size);
        let logProb = 0;
        for (let j = 0; j < size; j++) {
          const mean = headData[i * size + j]!;
          const std = Math.exp(logStd[j]!);
          const noise = explore ? this.rng.normal() : 0;
          raw[j] = mean + std * noise;
          logProb += -0.5 * noise * noise - logStd[j]! - 0.5 * Math.log(2 * Math.PI);
        }
        if (explore)
          this.pending[firstEnv + i] = {
            observation: obsRow,
            rawAction: raw,
            logProb,
            value: valueData[i]!,
            mask: undefined,
          };
        // The environment gets the sample clipped to the action bounds (SB3); the buffer keeps the raw sample.
        const clipped = new Float32Array(size);
        for (let j = 0; j < size; j++)
          clipped[j] = Math.min(Math.max(raw[j]!, this.actions.low[j]!), this.actions.high[j]!);
        out.push(clipped);
      }
    }
    return out;
  }

  private logStd(): Float32Array {
    this.logStdCache ??= this.params.views()['actor.logstd']!.dataSync() as Float32Array;
    return this.logStdCache;
  }

  // ---- collecting -------------------------------------------------------------------------------

  private store(t: Transition<O, number | Float32Array>): void {
    checkEnvIndex('PpoAgent', t.envIndex, this.numEnvs);
    const pending = this.pending[t.envIndex];
    if (pending === undefined) {
      throw new InvalidStateError(
        'PpoAgent.observe()',
        `a transition whose action came from act(…, {explore: true}) for envIndex ${t.envIndex}`,
        'a transition without a pending action',
      );
    }
    this.pending[t.envIndex] = undefined;
    const next = this.encoder.encode(t.nextObservation, 'nextObservation');
    this.normalizer.normalizeObservations(next);
    const reward = this.normalizer.normalizeReward(
      t.reward,
      t.envIndex,
      t.terminated || t.truncated,
    );
    this.rollout.add(
      {
        observation: pending.observation,
        nextObservation: next,
        action: pending.rawAction,
        logProb: pending.logProb,
        value: pending.value,
        reward,
        terminated: t.terminated,
        truncated: t.truncated,
        actionMask: pending.mask,
      },
      t.envIndex,
    );
    this.counters.envSteps++;
  }

  // ---- learning ---------------------------------------------------------------------------------

  private async update(): Promise<void> {
    await this.ready();
    const cfg = this.config;
    const buffer = this.rollout;
    const obsSize = this.encoder.size;
    // 1. Bootstrap values: V(final observation) after truncations, V(next observation) at each column's end.
    const bootstrapRows = buffer.rowsNeedingBootstrap();
    if (bootstrapRows.length > 0) {
      const x = new Float32Array(bootstrapRows.length * obsSize);
      bootstrapRows.forEach((r, i) =>
        x.set(buffer.nextObservations.subarray(r * obsSize, (r + 1) * obsSize), i * obsSize),
      );
      const v = tf.tidy(() =>
        this.critic.apply(this.params.views(), tf.tensor2d(x, [bootstrapRows.length, obsSize])),
      );
      const values = v.dataSync();
      v.dispose();
      bootstrapRows.forEach((r, i) => (buffer.bootstrapValues[r] = values[i]!));
    }
    // 2. GAE.
    buffer.computeAdvantages(cfg.gamma, cfg.gaeLambda);
    // 3. Schedules (CleanRL: frac = 1 − (update − 1) / num_updates).
    const batch = buffer.size;
    const total = this.counters.totalSteps;
    const stepsBefore = this.counters.envSteps - batch;
    const frac = total === null ? 1 : Math.max(0, 1 - stepsBefore / total);
    this.optimizer.learningRate = cfg.annealLearningRate
      ? frac * cfg.learningRate
      : cfg.learningRate;
    const clipCoef = cfg.annealClipCoef ? frac * cfg.clipCoef : cfg.clipCoef;
    // 4. Epochs of shuffled minibatches.
    const rows = buffer.storedRows();
    const minibatchSize = cfg.minibatchSize ?? Math.max(1, Math.floor(batch / cfg.numMinibatches));
    let last: tf.Tensor[] = [];
    let stoppedEarly = false;
    for (let epoch = 0; epoch < cfg.updateEpochs && !stoppedEarly; epoch++) {
      const order = this.rng.shuffle(Array.from(rows));
      for (let start = 0; start < order.length; start += minibatchSize) {
        const mb = order.slice(start, Math.min(start + minibatchSize, order.length));
        tf.dispose(last);
        last = this.minibatchStep(mb, clipCoef);
      }
      if (cfg.targetKl !== undefined && last[1]!.dataSync()[0]! > cfg.targetKl) stoppedEarly = true;
    }
    // 5. Metrics (the last minibatch's, as CleanRL logs them).
    const [pgLoss, approxKl, oldApproxKl, clipFrac, vLoss, entropy, gradNorm] = last.map(
      (t) => t.dataSync()[0]!,
    );
    tf.dispose(last);
    let varReturns = 0;
    let varResidual = 0;
    let meanReturns = 0;
    let meanResidual = 0;
    for (const r of rows) {
      meanReturns += buffer.returns[r]!;
      meanResidual += buffer.returns[r]! - buffer.values[r]!;
    }
    meanReturns /= rows.length;
    meanResidual /= rows.length;
    for (const r of rows) {
      varReturns += (buffer.returns[r]! - meanReturns) ** 2;
      varResidual += (buffer.returns[r]! - buffer.values[r]! - meanResidual) ** 2;
    }
    this.accumulator.add({
      'losses/policy_loss': pgLoss!,
      'losses/value_loss': vLoss!,
      'losses/entropy': entropy!,
      'losses/approx_kl': approxKl!,
      'losses/old_approx_kl': oldApproxKl!,
      'losses/clipfrac': clipFrac!,
      'losses/grad_norm': gradNorm!,
      'losses/explained_variance': varReturns === 0 ? Number.NaN : 1 - varResidual / varReturns,
      'charts/learning_rate': this.optimizer.learningRate,
      'charts/updates': this.counters.updates + 1,
    });
    this.counters.updates++;
    buffer.reset();
    this.logStdCache = undefined;
  }

  /** One gradient step on the rollout rows `mb`; returns metric scalars [pg, kl, oldKl, clipfrac, v, entropy, gradNorm]. */
  private minibatchStep(mb: number[], clipCoef: number): tf.Tensor[] {
    const cfg = this.config;
    const buffer = this.rollout;
    const b = mb.length;
    const obsSize = this.encoder.size;
    const width = this.actionWidth;
    const discrete = this.actions.kind === 'discrete';
    const obs = new Float32Array(b * obsSize);
    const actions = new Float32Array(b * width);
    const penalty = discrete && buffer.actionMaskSize > 0 ? new Float32Array(b * width) : undefined;
    const oldLogProb = new Float32Array(b);
    const advantages = new Float32Array(b);
    const returns = new Float32Array(b);
    const oldValues = new Float32Array(b);
    let hasMask = false;
    mb.forEach((r, i) => {
      obs.set(buffer.observations.subarray(r * obsSize, (r + 1) * obsSize), i * obsSize);
      if (discrete) {
        actions[i * width + buffer.actions[r]!] = 1;
        for (let j = 0; j < width; j++) {
          if (buffer.actionMasks[r * width + j] === 0) {
            penalty![i * width + j] = -1e8;
            hasMask = true;
          }
        }
      } else {
        actions.set(buffer.actions.subarray(r * width, (r + 1) * width), i * width);
      }
      oldLogProb[i] = buffer.logProbs[r]!;
      advantages[i] = buffer.advantages[r]!;
      returns[i] = buffer.returns[r]!;
      oldValues[i] = buffer.values[r]!;
    });
    if (cfg.normalizeAdvantages && b > 1) {
      let mean = 0;
      for (const a of advantages) mean += a;
      mean /= b;
      let variance = 0;
      for (const a of advantages) variance += (a - mean) ** 2;
      const std = Math.sqrt(variance / (b - 1)); // torch.std is unbiased
      for (let i = 0; i < b; i++) advantages[i] = (advantages[i]! - mean) / (std + 1e-8);
    }
    return tf.tidy(() => {
      const x = tf.tensor3d(obs, [1, b, obsSize]);
      const act = tf.tensor2d(actions, [b, width]);
      const maskPenalty = hasMask ? tf.tensor2d(penalty!, [b, width]) : undefined;
      const oldLp = tf.tensor1d(oldLogProb);
      const adv = tf.tensor1d(advantages);
      const ret = tf.tensor1d(returns);
      const oldV = tf.tensor1d(oldValues);
      let metrics: tf.Tensor[] = [];
      const { value: loss, grad } = this.params.valueAndGrad((p) => {
        const head = tf.reshape(this.actor.apply(p, x), [b, width]);
        let newLogProb: tf.Tensor1D;
        let entropy: tf.Scalar;
        if (discrete) {
          const logits = maskPenalty === undefined ? head : tf.add(head, maskPenalty);
          const logProbs = tf.logSoftmax(logits);
          newLogProb = categoricalLogProb(logProbs, act);
          entropy = tf.mean(categoricalEntropy(logProbs));
        } else {
          const logStd = p['actor.logstd']!;
          newLogProb = gaussianLogProb(act, head, logStd);
          entropy = gaussianEntropy(logStd);
        }
        const logRatio = tf.sub(newLogProb, oldLp);
        const ratio = tf.exp(logRatio);
        const pgLoss = tf.mean(
          tf.maximum(
            tf.mul(tf.neg(adv), ratio),
            tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef)),
          ),
        );
        const newValue = tf.reshape(this.critic.apply(p, x), [b]);
        let vLoss: tf.Scalar;
        if (cfg.clipValueLoss) {
          const unclipped = tf.square(tf.sub(newValue, ret));
          const clipped = tf.square(
            tf.sub(tf.add(oldV, tf.clipByValue(tf.sub(newValue, oldV), -clipCoef, clipCoef)), ret),
          );
          vLoss = tf.mul(tf.mean(tf.maximum(unclipped, clipped)), 0.5);
        } else {
          vLoss = tf.mul(tf.mean(tf.square(tf.sub(newValue, ret))), 0.5);
        }
        metrics = [
          pgLoss,
          tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)),
          tf.mean(tf.neg(logRatio)),
          tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipCoef), 'float32')),
          vLoss,
          entropy,
        ].map((t) => tf.keep(t));
        return tf.add<tf.Scalar>(
          tf.sub(pgLoss, tf.mul(entropy, cfg.entCoef)),
          tf.mul(vLoss, cfg.vfCoef),
        );
      });
      loss.dispose();
      const { gradNorm } = this.optimizer.step(grad);
      grad.dispose();
      return [...metrics, gradNorm];
    });
  }

  // ---- persistence ------------------------------------------------------------------------------

  async save(dir: string): Promise<void> {
    await this.ready();
    mkdirSync(dir, { recursive: true });
    writeAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: { params: this.params.read(), ...adamTensors(this.optimizer, 'adam') },
      state: {
        adamStep: this.optimizer.stepCount,
        metrics: this.accumulator.toJSON(),
        rng: this.rng.getState(),
        counters: this.counters,
        normalizer: this.normalizer.toJSON(),
        rollout: this.rollout.toJSON(),
        pending: this.pending.map((p) =>
          p === undefined
            ? null
            : {
                observation: Array.from(p.observation),
                rawAction: Array.from(p.rawAction),
                logProb: p.logProb,
                value: p.value,
                mask: p.mask === undefined ? null : Array.from(p.mask),
              },
        ),
      },
    });
  }

  async load(dir: string): Promise<void> {
    await this.ready();
    const saved = readAgentFile(dir, {
      kind: this.kind,
      config: this.config,
      spaces: this.spaces,
      tensors: { params: this.params.size, 'adam.m': this.params.size, 'adam.v': this.params.size },
    });
    const state = saved.state as {
      adamStep: number;
      metrics: unknown;
      rng: unknown;
      counters: PpoCounters;
      normalizer: unknown;
      rollout: { counts: number[]; data: Record<string, number[]> };
      pending: ({
        observation: number[];
        rawAction: number[];
        logProb: number;
        value: number;
        mask: number[] | null;
      } | null)[];
    };
    this.params.write(saved.tensors['params']!);
    restoreAdam(this.optimizer, saved, 'adam', state.adamStep);
    this.accumulator.fromJSON(state.metrics);
    this.rng = saved.rng(state.rng);
    this.counters = { ...state.counters };
    this.normalizer.fromJSON(state.normalizer, saved.file);
    this.rollout.fromJSON(state.rollout);
    this.pending = state.pending.map((p) =>
      p === null
        ? undefined
        : {
            observation: Float32Array.from(p.observation),
            rawAction: Float32Array.from(p.rawAction),
            logProb: p.logProb,
            value: p.value,
            mask: p.mask === null ? undefined : Uint8Array.from(p.mask),
          },
    );
    this.logStdCache = undefined;
  }

  dispose(): void {
    this.params.dispose();
    this.optimizer.dispose();
  }

  private async ready(): Promise<void> {
    if (this.params.built) return;
    await initBackend();
    this.params.build();
  }
}
