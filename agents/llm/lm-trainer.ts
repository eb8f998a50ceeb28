/**
 * Training of {@link WmgymLm} on token streams, nanoGPT's recipe on the suite's tensors:
 *
 * - **Batches** are `batchSize` windows of `sequenceLength + 1` consecutive tokens of the training
 *   stream (documents joined by `<|endoftext|>`, see `Tokenizer.encodeDocuments`), their starts
 *   drawn uniformly with a seeded {@link Rng}; inputs are the first `sequenceLength` tokens,
 *   targets the same shifted by one.
 * - **AdamW** (`agents/nn/optimizer.ts` with decoupled weight decay on the matrices: token and
 *   position embeddings and dense weights; biases and LayerNorm gains do not decay), β₂ = 0.95,
 *   global gradient-norm clipping.
 * - **Learning rate**: linear warm-up `lr·(s + 1)/(warmup + 1)` for `warmupSteps` steps, then a
 *   cosine from `learningRate` down to `minLearningRate` at `totalSteps` (held there after).
 * - **Weights per token** (optional, `trainWeights`): the loss of a batch is the weighted mean of
 *   its positions' cross-entropy, each position weighted by the weight of the token it predicts —
 *   supervised fine-tuning's loss mask: answers weigh 1, the prompts before them less (a window
 *   whose weights are all 0 is drawn again).
 * - **Held-out loss** ({@link LmTrainer.evaluate}): mean next-token cross-entropy (nats) and its
 *   perplexity over non-overlapping windows from the start of the validation stream, every
 *   position counted; with `validationWeights`, also the weighted mean (for instance the loss on
 *   the answers only).
 * - **Determinism**: the same model seed, data and options give the same weights on one backend
 *   (and thread count). A checkpoint ({@link LmTrainer.saveCheckpoint}) holds everything a step
 *   depends on — float32 weights, the optimiser's moments and step, the batch generator's state
 *   — so {@link LmTrainer.resume} continues a killed run exactly where its last checkpoint was.
 *   Each checkpoint is written into a new `step-<n>/` folder, then `checkpoint.json` is replaced
 *   atomically to point at it, then older folders are removed: a run killed at any moment leaves
 *   a complete checkpoint behind.
 * - **Progress** goes to a callback after every step (loss, gradient norm, learning rate,
 *   tokens per second), for a progress bar; a loss or gradient that is not finite stops training
 *   with an error before it reaches the weights.
 *
 * @see Karpathy, nanoGPT (train.py): the schedule, AdamW settings and decay groups.
 * @example
 * const data = { train: tokenizer.encodeDocuments(trainTexts), validation: tokenizer.encodeDocuments(heldOut) };
 * const trainer = new LmTrainer(model, data, { totalSteps: 5000, batchSize: 16 });
 * await trainer.train({ onProgress: (p) => bar.update(p.step, p), checkpointDir: 'runs/lm/checkpoint' });
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic, writeJsonAtomic } from '../../envs/core/atomic.js';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
  formatValue,
} from '../../envs/core/errors.js';
import { Rng, isRngState, type RngState } from '../../envs/core/rng.js';
import { resolveConfig, type ConfigRules } from '../options.js';
import { tf } from '../nn/backend.js';
import { Adam } from '../nn/optimizer.js';
import { WmgymLm, type TokenBatch } from './wmgym-lm.js';

/** Options of {@link LmTrainer}. */
export interface LmTrainerOptions {
  /** Steps of the learning-rate schedule (the cosine ends there); {@link LmTrainer.train}'s default length. */
  totalSteps: number;
  /** Windows per step. @defaultValue 16 */
  batchSize?: number;
  /** Tokens per window (predicted positions). @defaultValue the model's contextLength */
  sequenceLength?: number;
  /** Peak learning rate. @defaultValue 1e-3 */
  learningRate?: number;
  /** Learning rate at the end of the cosine. @defaultValue learningRate / 10 */
  minLearningRate?: number;
  /** Linear warm-up steps. @defaultValue 100 */
  warmupSteps?: number;
  /** Decoupled weight decay of the matrices. @defaultValue 0.1 */
  weightDecay?: number;
  /** Adam β₁. @defaultValue 0.9 */
  beta1?: number;
  /** Adam β₂. @defaultValue 0.95 */
  beta2?: number;
  /** Adam ε. @defaultValue 1e-8 */
  epsilon?: number;
  /** Clip the global gradient norm to this. @defaultValue 1 */
  maxGradNorm?: number;
  /** Seed of the batch generator. @defaultValue 0 */
  seed?: number;
  /** Most held-out tokens {@link LmTrainer.evaluate} reads. @defaultValue 65536 */
  evalTokens?: number;
}

/** An {@link LmTrainer}'s resolved options. */
export type LmTrainerConfig = Readonly<Required<LmTrainerOptions>>;

/** Token streams to train and evaluate on. */
export interface LmTrainingData {
  /** The training stream (at least sequenceLength + 1 tokens). */
  train: Int32Array;
  /** A held-out stream for {@link LmTrainer.evaluate} (at least 2 tokens). */
  validation?: Int32Array | undefined;
  /**
   * The weight of predicting each token of `train` (same length; finite, ≥ 0; index 0, the first
   * token, is never predicted). @defaultValue every token weighs 1
   */
  trainWeights?: Float32Array | undefined;
  /** The weight of each token of `validation`, for {@link LmEvaluation.weighted}. */
  validationWeights?: Float32Array | undefined;
}

/** What one optimiser step reports. */
export interface LmStepResult {
  /** Steps taken, this one included. */
  step: number;
  /** Training loss of the batch (mean cross-entropy, nats). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate of this step. */
  learningRate: number;
}

/** A held-out evaluation. */
export interface LmEvaluation {
  /** Mean next-token cross-entropy, nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Positions evaluated. */
  tokens: number;
  /**
   * With `validationWeights`: the weighted mean cross-entropy over the same windows and the sum
   * of the weights counted (absent when the windows hold no weight).
   */
  weighted?: { loss: number; tokens: number };
}

/** What the progress callback of {@link LmTrainer.train} receives after every step. */
export interface LmProgress extends LmStepResult {
  /** The step {@link LmTrainer.train} runs to. */
  targetStep: number;
  /** Training tokens per second of this call so far. */
  tokensPerSecond: number;
  /** Wall time of this call so far, ms. */
  elapsedMs: number;
  /** The held-out evaluation, on the steps that ran one. */
  validation?: LmEvaluation;
}

/** Options of {@link LmTrainer.train}. */
export interface LmTrainOptions {
  /** Train until this many steps in all. @defaultValue config.totalSteps */
  untilStep?: number;
  /** Called after every step. */
  onProgress?: (progress: LmProgress) => void;
  /** Evaluate on the held-out stream every this many steps and at the end (0: never). @defaultValue 0 */
  evalEvery?: number;
  /** Write checkpoints into this folder (see {@link LmTrainer.saveCheckpoint}). */
  checkpointDir?: string;
  /** Checkpoint every this many steps and at the end (with `checkpointDir`). @defaultValue 500 */
  checkpointEvery?: number;
  /** Stops after the current step (then checkpoints, with `checkpointDir`). */
  signal?: AbortSignal;
}

/** What {@link LmTrainer.train} returns. */
export interface LmTrainSummary {
  /** Steps taken in all. */
  step: number;
  /** Steps this call took. */
  steps: number;
  /** Training loss of the last step (NaN when no step ran). */
  loss: number;
  /** Training tokens per second of this call. */
  tokensPerSecond: number;
  /** The last held-out evaluation of this call, if any. */
  validation?: LmEvaluation;
  /** Whether `signal` stopped it early. */
  aborted: boolean;
}

/** Everything a training step depends on besides the data and the config. */
export interface LmTrainerState {
  /** Steps taken. */
  step: number;
  /** The batch generator's state. */
  rng: RngState;
  /** The flat float32 weights. */
  weights: Float32Array;
  /** The optimiser's step count and moments. */
  optimizer: { step: number; m: Float32Array; v: Float32Array };
}

const RULES: ConfigRules<Required<LmTrainerOptions>> = {
  totalSteps: { kind: 'number', integer: true, min: 1 },
  batchSize: { kind: 'number', integer: true, min: 1 },
  sequenceLength: { kind: 'number', integer: true, min: 1 },
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  minLearningRate: { kind: 'number', min: 0 },
  warmupSteps: { kind: 'number', integer: true, min: 0 },
  weightDecay: { kind: 'number', min: 0 },
  beta1: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  beta2: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  epsilon: { kind: 'number', min: 0, exclusiveMin: true },
  maxGradNorm: { kind: 'number', min: 0, exclusiveMin: true },
  seed: { kind: 'seed' },
  evalTokens: { kind: 'number', integer: true, min: 1 },
};

const CHECKPOINT_FILE = 'checkpoint.json';
const TRAINER_FILE = 'trainer.json';
const OPTIMIZER_FILE = 'optimizer.bin';
const MODEL_DIR = 'model';

interface TrainerJson {
  format: 'wmgym-lm-trainer';
  version: 1;
  config: LmTrainerConfig;
  step: number;
  rng: RngState;
  optimizer: { step: number; values: number; crc32: number };
  /** `weightsCrc32`: the training weights' checksum, when the run has weights. */
  data: { tokens: number; crc32: number; weightsCrc32?: number };
}

/** Trains a {@link WmgymLm}; see the module comment. */
export class LmTrainer {
  /** The model trained (its weights change in place). */
  readonly model: WmgymLm;
  /** The resolved options. */
  readonly config: LmTrainerConfig;
  private readonly trainTokens: Int32Array;
  private readonly validationTokens: Int32Array | undefined;
  private readonly trainWeights: Float32Array | undefined;
  private readonly validationWeights: Float32Array | undefined;
  private readonly optimizer: Adam;
  private readonly fingerprint: TrainerJson['data'];
  private rng: Rng;
  private steps = 0;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly mask: Float32Array;

  /**
   * @throws {@link InvalidOptionError} for a bad option, a sequence longer than the model's
   * context, or data too short or holding ids outside the model's vocabulary.
   */
  constructor(model: WmgymLm, data: LmTrainingData, options: LmTrainerOptions) {
    this.model = model;
    const defaults: Required<LmTrainerOptions> = {
      totalSteps: undefined as unknown as number,
      batchSize: 16,
      sequenceLength: model.config.contextLength,
      learningRate: 1e-3,
      minLearningRate: (options.learningRate ?? 1e-3) / 10,
      warmupSteps: 100,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.95,
      epsilon: 1e-8,
      maxGradNorm: 1,
      seed: 0,
      evalTokens: 65536,
    };
    this.config = Object.freeze(resolveConfig('LmTrainer', defaults, RULES, options));
    const { sequenceLength: t, batchSize: b } = this.config;
    if (t > model.config.contextLength)
      throw new InvalidOptionError(
        'LmTrainer.sequenceLength',
        t,
        `at most the model's contextLength (${model.config.contextLength})`,
      );
    if (this.config.minLearningRate > this.config.learningRate)
      throw new InvalidOptionError(
        'LmTrainer.minLearningRate',
        this.config.minLearningRate,
        `at most learningRate (${this.config.learningRate})`,
      );
    if (typeof data !== 'object' || (data as unknown) === null)
      throw new InvalidOptionError('LmTrainer data', data, '{ train: Int32Array, validation? }');
    this.trainTokens = checkStream(
      data.train,
      'LmTrainer data.train',
      t + 1,
      model.config.vocabSize,
    );
    this.validationTokens =
      data.validation === undefined
        ? undefined
        : checkStream(data.validation, 'LmTrainer data.validation', 2, model.config.vocabSize);
    this.trainWeights = checkWeights(
      data.trainWeights,
      this.trainTokens,
      'LmTrainer data.trainWeights',
    );
    if (data.validationWeights !== undefined && this.validationTokens === undefined)
      throw new InvalidOptionError(
        'LmTrainer data.validationWeights',
        `${formatValue(data.validationWeights)} without data.validation`,
        'weights of a validation stream (give data.validation too)',
      );
    this.validationWeights =
      this.validationTokens === undefined
        ? undefined
        : checkWeights(
            data.validationWeights,
            this.validationTokens,
            'LmTrainer data.validationWeights',
          );
    this.fingerprint = { tokens: this.trainTokens.length, crc32: streamCrc(this.trainTokens) };
    if (this.trainWeights !== undefined)
      this.fingerprint.weightsCrc32 = streamCrc(this.trainWeights);
    this.optimizer = new Adam(model.params, {
      learningRate: this.config.learningRate,
      beta1: this.config.beta1,
      beta2: this.config.beta2,
      epsilon: this.config.epsilon,
      maxGradNorm: this.config.maxGradNorm,
      weightDecay: this.config.weightDecay,
      decays: (piece) => piece.shape.length >= 2,
    });
    this.rng = new Rng(this.config.seed);
    this.inputs = new Int32Array(b * t);
    this.targets = new Int32Array(b * t);
    this.mask = new Float32Array(b * t);
  }

  /**
   * Resumes the run checkpointed in `dir`: the model (with its tokenizer), the options, the
   * optimiser and the generator as they were, on the same training data.
   * @throws {@link MalformedFileError} for a missing or corrupt checkpoint.
   * @throws {@link InvalidStateError} when `data.train` is not the stream the run trained on.
   */
  static resume(dir: string, data: LmTrainingData): LmTrainer {
    const pointer = join(dir, CHECKPOINT_FILE);
    const json = readJson(pointer) as { format?: unknown; path?: unknown };
    if (json.format !== 'wmgym-lm-checkpoint' || typeof json.path !== 'string')
      throw new MalformedFileError(
        pointer,
        '$',
        `expected {format: "wmgym-lm-checkpoint", path}, received ${formatValue(json)}`,
      );
    if (!/^step-\d+$/.test(json.path))
      throw new MalformedFileError(
        pointer,
        '$.path',
        `expected a step-<n> folder, received ${formatValue(json.path)}`,
      );
    const folder = join(dir, json.path);
    const saved = readTrainerJson(join(folder, TRAINER_FILE));
    const model = WmgymLm.load(join(folder, MODEL_DIR));
    let trainer: LmTrainer;
    try {
      trainer = new LmTrainer(model, data, saved.config);
    } catch (error) {
      model.dispose();
      throw error;
    }
    try {
      trainer.checkData(saved, join(folder, TRAINER_FILE));
      const moments = readOptimizerFile(join(folder, OPTIMIZER_FILE), saved, model.params.size);
      trainer.optimizer.setState({ step: saved.optimizer.step, ...moments });
      trainer.rng = Rng.fromState(saved.rng);
      trainer.steps = saved.step;
    } catch (error) {
      trainer.dispose();
      model.dispose();
      throw error;
    }
    return trainer;
  }

  /** Steps taken. */
  get step(): number {
    return this.steps;
  }

  /** Training tokens per step (batchSize · sequenceLength). */
  get tokensPerStep(): number {
    return this.config.batchSize * this.config.sequenceLength;
  }

  /** The learning rate of step `step` (0-based): warm-up, then the cosine. */
  learningRateAt(step: number): number {
    const { learningRate: peak, minLearningRate: low, warmupSteps: warm, totalSteps } = this.config;
    if (step < warm) return (peak * (step + 1)) / (warm + 1);
    const progress = Math.min(1, (step - warm) / Math.max(1, totalSteps - warm));
    return low + 0.5 * (peak - low) * (1 + Math.cos(Math.PI * progress));
  }

  /**
   * One optimiser step on a fresh batch.
   * @throws {@link InvalidStateError} when the loss or the gradient is not finite (the weights
   * are left as they were).
   */
  trainStep(): LmStepResult {
    const learningRate = this.learningRateAt(this.steps);
    const batch = this.drawBatch();
    const params = this.model.params;
    const { value, grad } = params.valueAndGrad((p) => this.model.loss(p, batch));
    try {
      const read = tf.tidy(() => tf.stack([value, tf.sqrt(tf.sum(tf.square(grad)))]));
      const [loss, gradNorm] = read.dataSync() as unknown as [number, number];
      read.dispose();
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
        throw new InvalidStateError(
          `wmgym-lm training at step ${this.steps + 1}`,
          'a finite loss and gradient',
          `loss ${loss}, gradient norm ${gradNorm} (lower the learning rate, or resume from the last checkpoint)`,
        );
      this.optimizer.learningRate = learningRate;
      this.optimizer.stepWithoutNorm(grad);
      this.steps++;
      return { step: this.steps, loss, gradNorm, learningRate };
    } finally {
      value.dispose();
      grad.dispose();
    }
  }

  /**
   * Trains until `untilStep` steps in all, reporting every step; evaluates and checkpoints as
   * asked. Yields to the event loop between steps (so a signal handler can abort it).
   * @throws {@link InvalidOptionError} for a bad option.
   * @throws {@link InvalidStateError} as {@link LmTrainer.trainStep}.
   */
  async train(options: LmTrainOptions = {}): Promise<LmTrainSummary> {
    const untilStep = options.untilStep ?? this.config.totalSteps;
    const evalEvery = options.evalEvery ?? 0;
    const checkpointEvery = options.checkpointEvery ?? 500;
    checkCount(untilStep, 'LmTrainer.train untilStep', 0);
    checkCount(evalEvery, 'LmTrainer.train evalEvery', 0);
    checkCount(checkpointEvery, 'LmTrainer.train checkpointEvery', 1);
    if (evalEvery > 0 && this.validationTokens === undefined)
      throw new InvalidOptionError(
        'LmTrainer.train evalEvery',
        evalEvery,
        '0 (the trainer has no validation data)',
      );
    const start = performance.now();
    const firstStep = this.steps;
    let last: LmStepResult | undefined;
    let validation: LmEvaluation | undefined;
    let aborted = false;
    while (this.steps < untilStep) {
      if (options.signal?.aborted === true) {
        aborted = true;
        break;
      }
      last = this.trainStep();
      const elapsedMs = performance.now() - start;
      const progress: LmProgress = {
        ...last,
        targetStep: untilStep,
        elapsedMs,
        tokensPerSecond: ((this.steps - firstStep) * this.tokensPerStep * 1000) / elapsedMs,
      };
      if (evalEvery > 0 && (this.steps % evalEvery === 0 || this.steps === untilStep)) {
        validation = this.evaluate();
        progress.validation = validation;
      }
      options.onProgress?.(progress);
      if (
        options.checkpointDir !== undefined &&
        this.steps % checkpointEvery === 0 &&
        this.steps !== untilStep
      )
        this.saveCheckpoint(options.checkpointDir);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (options.checkpointDir !== undefined && this.steps > firstStep)
      this.saveCheckpoint(options.checkpointDir);
    const elapsedMs = performance.now() - start;
    const steps = this.steps - firstStep;
    const summary: LmTrainSummary = {
      step: this.steps,
      steps,
      loss: last?.loss ?? NaN,
      tokensPerSecond: steps === 0 ? 0 : (steps * this.tokensPerStep * 1000) / elapsedMs,
      aborted,
    };
    if (validation !== undefined) summary.validation = validation;
    return summary;
  }

  /**
   * The held-out loss and perplexity over non-overlapping windows of `sequenceLength + 1` tokens
   * from the start of the validation stream, at most `evalTokens` predicted positions.
   * @throws {@link InvalidStateError} without validation data.
   */
  evaluate(): LmEvaluation {
    const data = this.validationTokens;
    if (data === undefined)
      throw new InvalidStateError('LmTrainer.evaluate', 'validation data', 'none');
    const t = Math.min(this.config.sequenceLength, data.length - 1);
    const windows = Math.max(
      1,
      Math.min(Math.floor((data.length - 1) / t), Math.floor(this.config.evalTokens / t)),
    );
    const weights = this.validationWeights;
    let total = 0;
    let tokens = 0;
    let weightedTotal = 0;
    let weightSum = 0;
    for (let w = 0; w < windows; w += this.config.batchSize) {
      const b = Math.min(this.config.batchSize, windows - w);
      const inputs = new Int32Array(b * t);
      const targets = new Int32Array(b * t);
      const mask = weights === undefined ? undefined : new Float32Array(b * t);
      let counted = 0;
      for (let r = 0; r < b; r++) {
        const at = (w + r) * t;
        inputs.set(data.subarray(at, at + t), r * t);
        targets.set(data.subarray(at + 1, at + t + 1), r * t);
        if (mask !== undefined) {
          const row = weights!.subarray(at + 1, at + t + 1);
          mask.set(row, r * t);
          for (let i = 0; i < t; i++) counted += row[i]!;
        }
      }
      const result = this.model.likelihood({ batch: b, steps: t, inputs, targets });
      total += result.total;
      tokens += result.tokens;
      if (mask !== undefined && counted > 0) {
        const part = this.model.likelihood({ batch: b, steps: t, inputs, targets, mask });
        weightedTotal += part.total;
        weightSum += part.tokens;
      }
    }
    const loss = total / tokens;
    const evaluation: LmEvaluation = { loss, perplexity: Math.exp(loss), tokens };
    if (weightSum > 0) evaluation.weighted = { loss: weightedTotal / weightSum, tokens: weightSum };
    return evaluation;
  }

  /** The state a step depends on (copies). */
  getState(): LmTrainerState {
    const optimizer = this.optimizer.getState();
    return {
      step: this.steps,
      rng: this.rng.getState(),
      weights: this.model.params.read().slice(),
      optimizer: { step: optimizer.step, m: optimizer.m.slice(), v: optimizer.v.slice() },
    };
  }

  /**
   * Restores {@link LmTrainer.getState}.
   * @throws {@link InvalidStateError} for a state of another model size or a malformed one.
   */
  setState(state: LmTrainerState): void {
    if (
      typeof state !== 'object' ||
      (state as unknown) === null ||
      !Number.isSafeInteger(state.step) ||
      state.step < 0 ||
      !isRngState(state.rng) ||
      !(state.weights instanceof Float32Array)
    )
      throw new InvalidStateError(
        'LmTrainer',
        '{step, rng, weights, optimizer} from LmTrainer.getState()',
        state,
      );
    this.model.params.write(state.weights);
    this.optimizer.setState(state.optimizer);
    this.rng = Rng.fromState(state.rng);
    this.steps = state.step;
  }

  /**
   * Writes a checkpoint into `dir`: `step-<n>/` (the model in float32 with its tokenizer,
   * `optimizer.bin`, `trainer.json`), then `checkpoint.json` pointing at it (atomically), then
   * removes older `step-*` folders.
   */
  saveCheckpoint(dir: string): void {
    const name = `step-${String(this.steps).padStart(8, '0')}`;
    const folder = join(dir, name);
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    this.model.save(join(folder, MODEL_DIR), {
      dtype: 'float32',
      metadata: { checkpoint: { step: this.steps } },
    });
    const optimizer = this.optimizer.getState();
    const bytes = new Uint8Array(2 * optimizer.m.byteLength);
    bytes.set(new Uint8Array(optimizer.m.buffer, optimizer.m.byteOffset, optimizer.m.byteLength));
    bytes.set(
      new Uint8Array(optimizer.v.buffer, optimizer.v.byteOffset, optimizer.v.byteLength),
      optimizer.m.byteLength,
    );
    writeFileAtomic(join(folder, OPTIMIZER_FILE), bytes);
    const json: TrainerJson = {
      format: 'wmgym-lm-trainer',
      version: 1,
      config: this.config,
      step: this.steps,
      rng: this.rng.getState(),
      optimizer: { step: optimizer.step, values: optimizer.m.length, crc32: crc32(bytes) },
      data: this.fingerprint,
    };
    writeJsonAtomic(join(folder, TRAINER_FILE), json);
    writeJsonAtomic(join(dir, CHECKPOINT_FILE), {
      format: 'wmgym-lm-checkpoint',
      version: 1,
      step: this.steps,
      path: name,
    });
    for (const entry of readdirSync(dir))
      if (/^step-\d+$/.test(entry) && entry !== name)
        rmSync(join(dir, entry), { recursive: true, force: true });
  }

  /** Frees the optimiser's moments (not the model). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /**
   * A batch of windows with seeded starts (reuses its buffers); with training weights, a window
   * whose weights are all 0 is drawn again.
   * @throws {@link InvalidStateError} when 1,000 draws in a row find no weight.
   */
  private drawBatch(): TokenBatch {
    const { batchSize: b, sequenceLength: t } = this.config;
    const data = this.trainTokens;
    const weights = this.trainWeights;
    for (let r = 0; r < b; r++) {
      let at = this.rng.integer(0, data.length - t);
      if (weights !== undefined) {
        for (let attempt = 1; sum(weights, at + 1, at + t + 1) === 0; attempt++) {
          if (attempt === 1000)
            throw new InvalidStateError(
              'LmTrainer batch',
              'windows with some weight',
              `1,000 windows of ${t} tokens in a row whose trainWeights are all 0`,
            );
          at = this.rng.integer(0, data.length - t);
        }
        this.mask.set(weights.subarray(at + 1, at + t + 1), r * t);
      }
      this.inputs.set(data.subarray(at, at + t), r * t);
      this.targets.set(data.subarray(at + 1, at + t + 1), r * t);
    }
    const batch: TokenBatch = { batch: b, steps: t, inputs: this.inputs, targets: this.targets };
    if (weights !== undefined) batch.mask = this.mask;
    return batch;
  }

  private checkData(saved: TrainerJson, file: string): void {
    const weights = (d: TrainerJson['data']): string =>
      d.weightsCrc32 === undefined ? 'no weights' : `weights CRC-32 ${d.weightsCrc32}`;
    if (
      saved.data.tokens !== this.fingerprint.tokens ||
      saved.data.crc32 !== this.fingerprint.crc32 ||
      saved.data.weightsCrc32 !== this.fingerprint.weightsCrc32
    )
      throw new InvalidStateError(
        `training data of the checkpoint ${file}`,
        `the stream it trained on (${saved.data.tokens} tokens, CRC-32 ${saved.data.crc32}, ${weights(saved.data)})`,
        `${this.fingerprint.tokens} tokens, CRC-32 ${this.fingerprint.crc32}, ${weights(this.fingerprint)}`,
      );
  }
}

function checkStream(stream: unknown, what: string, least: number, vocabSize: number): Int32Array {
  if (!(stream instanceof Int32Array))
    throw new InvalidOptionError(what, stream, 'an Int32Array of token ids');
  if (stream.length < least)
    throw new InvalidOptionError(what, `${stream.length} tokens`, `at least ${least} tokens`);
  for (let i = 0; i < stream.length; i++) {
    const id = stream[i]!;
    if (id < 0 || id >= vocabSize)
      throw new InvalidOptionError(
        `${what}[${i}]`,
        id,
        `a token id from 0 to ${vocabSize - 1} (the model's vocabulary)`,
      );
  }
  return stream;
}

function checkWeights(
  weights: unknown,
  stream: Int32Array,
  what: string,
): Float32Array | undefined {
  if (weights === undefined) return undefined;
  if (!(weights instanceof Float32Array))
    throw new InvalidOptionError(
      what,
      formatValue(weights),
      'a Float32Array, one weight per token',
    );
  if (weights.length !== stream.length)
    throw new InvalidOptionError(
      what,
      `${weights.length} weights`,
      `one weight per token of the stream (${stream.length})`,
    );
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w))
      throw new InvalidOptionError(`${what}[${i}]`, w, 'a finite weight ≥ 0');
    if (i > 0) total += w;
  }
  if (total === 0)
    throw new InvalidOptionError(what, 'weights that are all 0', 'some token with a weight > 0');
  return weights;
}

function sum(values: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i]!;
  return s;
}

function checkCount(value: number, option: string, least: number): void {
  if (!Number.isSafeInteger(value) || value < least)
    throw new InvalidOptionError(option, value, `an integer ≥ ${least}`);
}

function streamCrc(stream: Int32Array | Float32Array): number {
  return crc32(new Uint8Array(stream.buffer, stream.byteOffset, stream.byteLength));
}

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new MalformedFileError(path, '$', 'expected a file, received none');
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MalformedFileError(path, '$', `expected JSON, received ${String(error)}`, {
      cause: error,
    });
  }
}

function readTrainerJson(path: string): TrainerJson {
  const json = readJson(path) as Partial<Record<keyof TrainerJson, unknown>> | null;
  const fail = (at: string, problem: string): never => {
    throw new MalformedFileError(path, at, problem);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return fail('$', `expected a wmgym-lm-trainer object, received ${formatValue(json)}`);
  if (json.format !== 'wmgym-lm-trainer' || json.version !== 1)
    fail('$.format', `expected "wmgym-lm-trainer" version 1, received ${formatValue(json.format)}`);
  if (typeof json.config !== 'object' || json.config === null)
    fail('$.config', `expected the trainer's options, received ${formatValue(json.config)}`);
  if (typeof json.step !== 'number' || !Number.isSafeInteger(json.step) || json.step < 0)
    fail('$.step', `expected a step count, received ${formatValue(json.step)}`);
  if (!isRngState(json.rng))
    fail('$.rng', `expected a generator state, received ${formatValue(json.rng)}`);
  const o = json.optimizer as Partial<Record<'step' | 'values' | 'crc32', unknown>> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.step !== 'number' ||
    !Number.isSafeInteger(o.step) ||
    typeof o.values !== 'number' ||
    typeof o.crc32 !== 'number'
  )
    fail('$.optimizer', `expected {step, values, crc32}, received ${formatValue(o)}`);
  const d = json.data as Partial<Record<'tokens' | 'crc32' | 'weightsCrc32', unknown>> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.tokens !== 'number' ||
    typeof d.crc32 !== 'number' ||
    (d.weightsCrc32 !== undefined && typeof d.weightsCrc32 !== 'number')
  )
    fail('$.data', `expected {tokens, crc32, weightsCrc32?}, received ${formatValue(d)}`);
  return json as TrainerJson;
}

function readOptimizerFile(
  path: string,
  saved: TrainerJson,
  size: number,
): { m: Float32Array; v: Float32Array } {
  if (!existsSync(path)) throw new MalformedFileError(path, '$', 'expected a file, received none');
  const bytes = readFileSync(path);
  if (saved.optimizer.values !== size || bytes.byteLength !== 8 * size)
    throw new MalformedFileError(
      path,
      '$',
      `expected ${8 * size} bytes (two moments of ${size} float32 values), received ${bytes.byteLength}`,
    );
  const checksum = crc32(bytes);
  if (checksum !== saved.optimizer.crc32)
    throw new MalformedFileError(
      path,
      '$',
      `expected CRC-32 ${saved.optimizer.crc32} (from trainer.json), received ${checksum}: the file is corrupt`,
    );
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const all = new Float32Array(copy.buffer);
  return { m: all.slice(0, size), v: all.slice(size) };
}
