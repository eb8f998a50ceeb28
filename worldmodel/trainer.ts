/**
 * Training a {@link WorldModel} from transitions: minibatch steps with Adam (MSE for continuous
 * deltas and rewards as the study does; cross-entropy for discrete heads; NLL for Gaussian heads),
 * and `fit`, which trains on a replay buffer with a held-out split, per-member bootstraps and
 * early stopping (MBPO's rule: stop when no member improved its holdout loss by more than 1 % for
 * `patience` epochs, then restore each member's best weights and pick the elites on the holdout).
 *
 * Every member sees its own bootstrap of the data (sampled with replacement), so the members
 * differ by data as well as by initialisation; one batched step updates all of them.
 *
 * @example
 * const trainer = new WorldModelTrainer(model, { learningRate: 1e-3 });
 * const result = await trainer.fit(replay, { epochs: 100, holdoutFraction: 0.1, patience: 5 });
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import { Rng, type RngState } from '../envs/core/rng.js';
import { Discrete } from '../envs/core/space.js';
import type { ReplayBuffer } from '../agents/buffers/replay-buffer.js';
import { tf } from '../agents/nn/backend.js';
import { Adam, type AdamState } from '../agents/nn/optimizer.js';
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import type { WorldModel } from './world-model.js';

/** Config of {@link WorldModelTrainer}. */
export interface WorldModelTrainerConfig {
  /** Adam learning rate. @defaultValue 0.001 */
  learningRate: number;
  /** Transitions per member per step. @defaultValue 256 */
  batchSize: number;
  /** Clip the global gradient norm; 0 for none. @defaultValue 0 */
  maxGradNorm: number;
  /** Seed of bootstraps, splits and minibatches. @defaultValue 1 */
  seed: number;
}

/** Options of {@link WorldModelTrainer}: any subset of {@link WorldModelTrainerConfig}. */
export type WorldModelTrainerOptions = Partial<WorldModelTrainerConfig>;

/** Defaults of {@link WorldModelTrainerConfig}. */
export const WORLD_MODEL_TRAINER_DEFAULTS: Readonly<WorldModelTrainerConfig> = Object.freeze({
  learningRate: 1e-3,
  batchSize: 256,
  maxGradNorm: 0,
  seed: 1,
});

const RULES: ConfigRules<WorldModelTrainerConfig> = {
  learningRate: { kind: 'number', min: 0, exclusiveMin: true },
  batchSize: { kind: 'number', min: 1, integer: true },
  maxGradNorm: { kind: 'number', min: 0 },
  seed: { kind: 'seed' },
};

/** Transitions as flat rows (what {@link WorldModelTrainer.trainStep} and `fit` read). */
export interface TransitionData {
  /** Rows. */
  size: number;
  /** `[size × stateSize]`. */
  states: Float32Array;
  /** `[size × actionDim]` (Box, env units) or `[size]` (Discrete values). */
  actions: Float32Array;
  /** `[size × stateSize]`. */
  nextStates: Float32Array;
  /** `[size]`. */
  rewards: Float32Array;
  /** `[size]`, 1 where the MDP ended. */
  terminated: Float32Array;
  /** `[size × actions]`: the allowed actions of each next state (required by a model with `actionMasks`). */
  nextActionMasks?: Uint8Array | undefined;
}

/** Options of {@link WorldModelTrainer.fit}. */
export interface FitOptions {
  /** Passes over the training split at most. @defaultValue 100 */
  epochs?: number;
  /** Fraction of the data held out for early stopping and elites (0 for none). @defaultValue 0.1 */
  holdoutFraction?: number;
  /** Epochs without a 1 % holdout improvement of any member before stopping. @defaultValue 5 */
  patience?: number;
  /** Gradient steps at most (all epochs together); undefined for no cap. */
  maxUpdates?: number | undefined;
  /** At most this many held-out transitions (the most recent data is not favoured). @defaultValue 5000 */
  maxHoldout?: number;
  /**
   * Train on open-loop windows of this many consecutive transitions: every step after the
   * first starts from the model's own prediction, so the loss is the multi-step error the
   * planner meets (continuous states and the mlp backbone; early stopping and elites use the same
   * loss). @defaultValue 1 (one-step loss)
   */
  openLoopSteps?: number;
  /**
   * Rare events — transitions with a nonzero reward or a termination (for windows: one of
   * their transitions) — make up at least this share of every member's bootstrap when the
   * training split holds fewer: that many rows are drawn (with replacement) from its events and
   * the rest from all its rows. A sparse task's random exploration rewards a few transitions in
   * a thousand, and a bootstrap of the plain data teaches the reward and termination heads to
   * predict nothing; in a deterministic task, whose events follow from the state and action,
   * oversampling them does not move the best prediction of any row. 0: the plain bootstrap.
   * @defaultValue 0
   */
  eventFraction?: number;
}

/** What {@link WorldModelTrainer.fit} did. */
export interface FitResult {
  /** Epochs run. */
  epochs: number;
  /** Gradient steps taken. */
  updates: number;
  /** Mean training losses of the last epoch (sum over members of each member's mean). */
  train: Losses;
  /** Each member's total holdout loss after restoring its best weights (empty without a holdout). */
  holdout: number[];
  /** The elites chosen, best first. */
  elites: number[];
  /** Transitions trained on (after the holdout split). */
  trainSize: number;
  /** Training rows that hold an event (a nonzero reward or a termination; see `eventFraction`). */
  events: number;
}

/** Mean losses of training steps (the mask head's is 0 without `actionMasks`). */
export interface Losses {
  transition: number;
  reward: number;
  done: number;
  mask: number;
}

/** A saved trainer (for agent checkpoints). */
export interface WorldModelTrainerState {
  adam: AdamState;
  rng: RngState;
}

/** Trains one {@link WorldModel}; see the module comment. */
export class WorldModelTrainer {
  /** The model trained. */
  readonly model: WorldModel;
  /** The resolved config. */
  readonly config: Readonly<WorldModelTrainerConfig>;
  private readonly optimizer: Adam;
  private rng: Rng;

  /** @throws {@link InvalidOptionError} for an unknown option or a value out of range. */
  constructor(model: WorldModel, options: WorldModelTrainerOptions = {}) {
    this.model = model;
    this.config = Object.freeze(
      resolveConfig('WorldModelTrainer', WORLD_MODEL_TRAINER_DEFAULTS, RULES, options),
    );
    this.optimizer = new Adam(model.params, {
      learningRate: this.config.learningRate,
      maxGradNorm: this.config.maxGradNorm > 0 ? this.config.maxGradNorm : undefined,
    });
    this.rng = new Rng(this.config.seed);
  }

  /**
   * One gradient step on `batch`: each member trains on its own bootstrap of the batch rows.
   * Returns the losses (sum over members of each member's mean). Statistics must have been set
   * (`fit` does it; `model.fitStatistics` otherwise).
   */
  async trainStep(batch: TransitionData): Promise<Losses> {
    await this.model.ready();
    checkData(batch, this.model);
    const e = this.model.ensembleSize;
    const steps = this.model.sequenceLength;
    if (steps > 1) {
      // A sequence backbone trains on windows: every `steps` consecutive rows are one.
      const windows = batch.size / steps;
      const starts = contiguousWindows(batch, steps);
      const aligned = starts.filter((i) => i % steps === 0).length;
      if (!Number.isSafeInteger(windows) || windows < 1 || aligned !== windows)
        throw new InvalidValueError(
          'batch for WorldModelTrainer.trainStep',
          `${batch.size} transitions (${aligned} whole windows)`,
          `windows of ${steps} consecutive transitions of one episode each (the model's sequenceLength)`,
        );
      const rows = new Int32Array(e * windows);
      for (let k = 0; k < rows.length; k++) rows[k] = this.rng.integer(windows) * steps;
      return this.step(batch, rows, windows);
    }
    const rows = new Int32Array(e * batch.size);
    for (let k = 0; k < rows.length; k++) rows[k] = this.rng.integer(batch.size);
    return this.step(batch, rows, batch.size);
  }

  /** One step on the given per-member rows. */
  private step(
    data: TransitionData,
    rows: Int32Array,
    perMember: number,
    openLoopSteps = 1,
  ): Losses {
    const encoded = this.model.encodeTraining(data, rows, perMember, openLoopSteps);
    const parts = tf.tidy(() => {
      let losses:
        { transition: tf.Scalar; reward: tf.Scalar; done: tf.Scalar; mask: tf.Scalar } | undefined;
      const { value, grad } = this.model.params.valueAndGrad((params) => {
        const l = this.model.loss(params, encoded);
        losses = {
          transition: tf.keep(l.transition),
          reward: tf.keep(l.reward),
          done: tf.keep(l.done),
          mask: tf.keep(l.mask),
        };
        return l.total;
      });
      if (this.config.maxGradNorm > 0) this.optimizer.step(grad);
      else this.optimizer.stepWithoutNorm(grad);
      value.dispose();
      return tf.stack([losses!.transition, losses!.reward, losses!.done, losses!.mask]);
    });
    const v = parts.dataSync();
    parts.dispose();
    return { transition: v[0]!, reward: v[1]!, done: v[2]!, mask: v[3]! };
  }

  /**
   * Fits the model on every transition of `replay` (or on `data`): sets the normalisation
   * statistics from the training split, trains epoch by epoch on per-member bootstraps, stops
   * early on the holdout, restores each member's best weights and sets the elites.
   * @throws {@link InvalidOptionError} for bad options.
   * @throws {@link InvalidValueError} when there is nothing to train on.
   */
  async fit(source: ReplayBuffer | TransitionData, options: FitOptions = {}): Promise<FitResult> {
    const epochs = option(options.epochs, 100, 'epochs', 1);
    const patience = option(options.patience, 5, 'patience', 1);
    const maxHoldout = option(options.maxHoldout, 5000, 'maxHoldout', 0);
    const holdoutFraction = options.holdoutFraction ?? 0.1;
    if (typeof holdoutFraction !== 'number' || !(holdoutFraction >= 0 && holdoutFraction < 1))
      throw new InvalidOptionError('fit holdoutFraction', holdoutFraction, 'a number in [0, 1)');
    const openLoopSteps = option(options.openLoopSteps, 1, 'openLoopSteps', 1);
    this.model.checkOpenLoop(openLoopSteps);
    const eventFraction = options.eventFraction ?? 0;
    if (typeof eventFraction !== 'number' || !(eventFraction >= 0 && eventFraction < 1))
      throw new InvalidOptionError('fit eventFraction', eventFraction, 'a number in [0, 1)');
    const maxUpdates = options.maxUpdates;
    if (maxUpdates !== undefined && (!Number.isSafeInteger(maxUpdates) || maxUpdates < 1))
      throw new InvalidOptionError('fit maxUpdates', maxUpdates, 'a positive integer or undefined');
    await this.model.ready();
    const data = 'gather' in source ? replayData(source) : source;
    checkData(data, this.model);
    if (data.size < 2)
      throw new InvalidValueError(
        'data for WorldModelTrainer.fit',
        `${data.size} transitions`,
        'at least 2 transitions',
      );
    const model = this.model;
    const e = model.ensembleSize;
    // Rows are transitions, or the starts of windows (sequence backbone, open-loop loss).
    const windowSteps = Math.max(model.sequenceLength, openLoopSteps);
    const { holdout, train, covered } =
      windowSteps > 1
        ? this.splitWindows(data, windowSteps, holdoutFraction, maxHoldout)
        : this.splitRows(data.size, holdoutFraction, maxHoldout);
    const holdoutSize = holdout.length;
    const trainData = subset(data, covered);
    model.fitStatistics(trainData.states, trainData.nextStates, trainData.rewards, trainData.size);
    const n = train.length;
    const events = eventRows(data, train, windowSteps);
    // Rows of each bootstrap drawn from the events (when they are rarer than eventFraction).
    const fromEvents =
      events.length > 0 && events.length < eventFraction * n ? Math.round(eventFraction * n) : 0;
    // Per-member bootstraps of the training split (indices into the full data).
    const bootstraps: Int32Array[] = [];
    for (let m = 0; m < e; m++) {
      const b = new Int32Array(n);
      for (let i = 0; i < fromEvents; i++) b[i] = events[this.rng.integer(events.length)]!;
      for (let i = fromEvents; i < n; i++) b[i] = train[this.rng.integer(n)]!;
      bootstraps.push(b);
    }
    // Rows per member per step (windows for a sequence backbone: about batchSize transitions).
    const batchSize = Math.min(Math.max(1, Math.floor(this.config.batchSize / windowSteps)), n);
    const stepsPerEpoch = Math.ceil(n / batchSize);
    const best = new Float64Array(e).fill(Infinity);
    const bestWeights = holdoutSize > 0 ? model.params.read().slice() : undefined;
    let sinceImprovement = 0;
    let updates = 0;
    let epoch = 0;
    let last: Losses = { transition: 0, reward: 0, done: 0, mask: 0 };
    const rows = new Int32Array(e * batchSize);
    while (epoch < epochs) {
      epoch++;
      for (const b of bootstraps) shuffleInPlace(b, this.rng);
      const sums: Losses = { transition: 0, reward: 0, done: 0, mask: 0 };
      let steps = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (maxUpdates !== undefined && updates >= maxUpdates) break;
        for (let m = 0; m < e; m++) {
          const b = bootstraps[m]!;
          for (let i = 0; i < batchSize; i++) rows[m * batchSize + i] = b[(s * batchSize + i) % n]!;
        }
        const l = this.step(data, rows, batchSize, openLoopSteps);
        sums.transition += l.transition;
        sums.reward += l.reward;
        sums.done += l.done;
        sums.mask += l.mask;
        steps++;
        updates++;
      }
      if (steps > 0)
        last = {
          transition: sums.transition / steps,
          reward: sums.reward / steps,
          done: sums.done / steps,
          mask: sums.mask / steps,
        };
      if (holdoutSize > 0) {
        const losses = this.holdoutLosses(data, holdout, openLoopSteps);
        let improved = false;
        const weights = model.params.read();
        for (let m = 0; m < e; m++) {
          const l = losses[m]!;
          if (best[m] === Infinity || (best[m]! - l) / Math.abs(best[m]!) > 0.01) {
            best[m] = l;
            improved = true;
            copyMember(model, weights, bestWeights!, m);
          } else if (l < best[m]!) {
            best[m] = l;
            copyMember(model, weights, bestWeights!, m);
          }
        }
        sinceImprovement = improved ? 0 : sinceImprovement + 1;
        if (sinceImprovement >= patience) break;
      }
      if (maxUpdates !== undefined && updates >= maxUpdates) break;
    }
    let holdoutLosses: number[] = [];
    let elites = Array.from({ length: model.config.elites }, (_, i) => i);
    if (holdoutSize > 0) {
      model.params.write(bestWeights!);
      holdoutLosses = [...this.holdoutLosses(data, holdout, openLoopSteps)];
      elites = holdoutLosses
        .map((l, m) => ({ l, m }))
        .sort((a, b) => a.l - b.l || a.m - b.m)
        .slice(0, model.config.elites)
        .map((x) => x.m);
    }
    model.setElites(elites);
    return {
      epochs: epoch,
      updates,
      train: last,
      holdout: holdoutLosses,
      elites,
      trainSize: covered.length,
      events: events.length,
    };
  }

  /** A random holdout of at most `maxHoldout` rows; the rest trains. */
  private splitRows(
    size: number,
    fraction: number,
    maxHoldout: number,
  ): { holdout: Int32Array; train: Int32Array; covered: Int32Array } {
    const order = permutation(size, this.rng);
    const holdoutSize = Math.min(Math.floor(size * fraction), maxHoldout);
    const train = order.slice(holdoutSize);
    return { holdout: order.slice(0, holdoutSize), train, covered: train };
  }

  /**
   * Windows of `steps` consecutive transitions, split without overlap: the data is cut into
   * blocks of 4·steps transitions, a random `fraction` of the blocks is held out, and a window
   * trains (or is held out) only when both its ends lie in training (held-out) blocks, so no
   * transition is in both splits. `covered` lists the transitions of the training blocks.
   */
  private splitWindows(
    data: TransitionData,
    steps: number,
    fraction: number,
    maxHoldout: number,
  ): { holdout: Int32Array; train: Int32Array; covered: Int32Array } {
    const starts = contiguousWindows(data, steps);
    if (starts.length < 2)
      throw new InvalidValueError(
        'data for WorldModelTrainer.fit',
        `${starts.length} windows of ${steps} consecutive transitions`,
        `at least 2 (the transformer backbone and the open-loop loss train on windows of ${steps})`,
      );
    const blockSize = 4 * steps;
    const blocks = Math.ceil(data.size / blockSize);
    const held = new Uint8Array(blocks);
    const order = permutation(blocks, this.rng);
    const heldBlocks = Math.floor(blocks * fraction);
    for (let i = 0; i < heldBlocks; i++) held[order[i]!] = 1;
    const holdout: number[] = [];
    const train: number[] = [];
    for (const s of starts) {
      const a = held[Math.floor(s / blockSize)]!;
      const b = held[Math.floor((s + steps - 1) / blockSize)]!;
      if (a === 1 && b === 1) holdout.push(s);
      else if (a === 0 && b === 0) train.push(s);
    }
    const shuffled = permutation(holdout.length, this.rng);
    const kept = Int32Array.from(shuffled.slice(0, maxHoldout), (i) => holdout[i]!).sort();
    const covered: number[] = [];
    for (let k = 0; k < data.size; k++) if (held[Math.floor(k / blockSize)] === 0) covered.push(k);
    if (train.length === 0)
      throw new InvalidValueError(
        'data for WorldModelTrainer.fit',
        `${starts.length} windows of ${steps} transitions, none left for training`,
        'a smaller holdoutFraction or more data',
      );
    return { holdout: kept, train: Int32Array.from(train), covered: Int32Array.from(covered) };
  }

  /** Each member's total loss on the held-out rows (every member sees all of them). */
  private holdoutLosses(
    data: TransitionData,
    holdout: Int32Array,
    openLoopSteps: number,
  ): Float64Array {
    const e = this.model.ensembleSize;
    const steps = Math.max(this.model.sequenceLength, openLoopSteps);
    const chunk = Math.max(1, Math.floor(Math.min(1024, this.model.rowsPerPass) / steps));
    const sums = new Float64Array(e);
    for (let start = 0; start < holdout.length; start += chunk) {
      const size = Math.min(chunk, holdout.length - start);
      const rows = new Int32Array(e * size);
      for (let m = 0; m < e; m++) rows.set(holdout.subarray(start, start + size), m * size);
      const encoded = this.model.encodeTraining(data, rows, size, openLoopSteps);
      const t = tf.tidy(() => this.model.memberLosses(this.model.params.views(), encoded).total);
      const v = t.dataSync();
      t.dispose();
      for (let m = 0; m < e; m++) sums[m] = sums[m]! + v[m]! * size;
    }
    for (let m = 0; m < e; m++) sums[m] = sums[m]! / holdout.length;
    return sums;
  }

  /** Optimiser and generator state (the parameters are the model's). */
  getState(): WorldModelTrainerState {
    return { adam: this.optimizer.getState(), rng: this.rng.getState() };
  }

  /** Restores {@link WorldModelTrainer.getState}. */
  setState(state: WorldModelTrainerState): void {
    this.optimizer.setState(state.adam);
    this.rng = Rng.fromState(state.rng);
  }

  /** Releases the optimiser's tensors. */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Every transition stored in `replay`, as flat rows. */
export function replayData(replay: ReplayBuffer): TransitionData {
  const slots: number[] = [];
  for (let env = 0; env < replay.numEnvs; env++) {
    const size = replay.sizeOf(env);
    for (let i = 0; i < size; i++) slots.push(env * replay.capacityPerEnv + i);
  }
  const b = replay.gather(Int32Array.from(slots));
  return {
    size: b.size,
    states: b.observations,
    actions: b.actions,
    nextStates: b.nextObservations,
    rewards: b.rewards,
    terminated: b.terminated,
    nextActionMasks: b.nextActionMasks,
  };
}

/** The rows of `rows` whose window of `steps` transitions holds a nonzero reward or a termination. */
function eventRows(data: TransitionData, rows: Int32Array, steps: number): Int32Array {
  const out: number[] = [];
  for (const r of rows) {
    for (let j = r; j < Math.min(r + steps, data.size); j++) {
      if (data.rewards[j] !== 0 || data.terminated[j] === 1) {
        out.push(r);
        break;
      }
    }
  }
  return Int32Array.from(out);
}

/**
 * The rows `i` of `data` that start a window of `steps` transitions of one episode: for every
 * `j` in `i … i + steps − 2`, transition `j` did not end the episode and its next state is
 * exactly the state of transition `j + 1` (as in data gathered in time order, such as
 * {@link replayData}'s columns).
 */
export function contiguousWindows(data: TransitionData, steps: number): Int32Array {
  const n = data.size;
  const d = data.states.length / Math.max(n, 1);
  // follows[j] = 1 when transition j + 1 continues transition j.
  const follows = new Uint8Array(Math.max(n - 1, 0));
  for (let j = 0; j + 1 < n; j++) {
    if (data.terminated[j] !== 0) continue;
    let same = true;
    for (let k = 0; k < d && same; k++)
      if (data.nextStates[j * d + k] !== data.states[(j + 1) * d + k]) same = false;
    follows[j] = same ? 1 : 0;
  }
  const out: number[] = [];
  let run = 0; // how many `follows` in a row start at i + 1
  for (let i = n - 1; i >= 0; i--) {
    run = i < n - 1 && follows[i] === 1 ? run + 1 : 0;
    if (i + steps <= n && run >= steps - 1) out.push(i);
  }
  return Int32Array.from(out.reverse());
}

/** `n` zeroed transitions of states of `stateSize` and actions of `actionSize` values. */
export function emptyTransitions(
  n: number,
  stateSize: number,
  actionSize: number,
  maskSize = 0,
): TransitionData {
  return {
    size: n,
    states: new Float32Array(n * stateSize),
    actions: new Float32Array(n * actionSize),
    nextStates: new Float32Array(n * stateSize),
    rewards: new Float32Array(n),
    terminated: new Float32Array(n),
    ...(maskSize > 0 ? { nextActionMasks: new Uint8Array(n * maskSize) } : {}),
  };
}

/** The given rows of `data`. */
export function subset(data: TransitionData, rows: Int32Array): TransitionData {
  const d = data.states.length / Math.max(data.size, 1);
  const a = data.actions.length / Math.max(data.size, 1);
  const n = rows.length;
  const masks = data.nextActionMasks;
  const m = masks === undefined ? 0 : masks.length / Math.max(data.size, 1);
  const out = emptyTransitions(n, d, a, m);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (m > 0) out.nextActionMasks!.set(masks!.subarray(r * m, r * m + m), i * m);
    out.states.set(data.states.subarray(r * d, r * d + d), i * d);
    out.nextStates.set(data.nextStates.subarray(r * d, r * d + d), i * d);
    out.actions.set(data.actions.subarray(r * a, r * a + a), i * a);
    out.rewards[i] = data.rewards[r]!;
    out.terminated[i] = data.terminated[r]!;
  }
  return out;
}

function checkData(data: TransitionData, model: WorldModel): void {
  const n = data.size;
  const perAction = model.actionSpace instanceof Discrete ? 1 : model.actionSize;
  const ok =
    Number.isSafeInteger(n) &&
    n >= 0 &&
    data.states instanceof Float32Array &&
    data.states.length === n * model.stateSize &&
    data.nextStates instanceof Float32Array &&
    data.nextStates.length === n * model.stateSize &&
    data.actions instanceof Float32Array &&
    data.actions.length === n * perAction &&
    data.rewards instanceof Float32Array &&
    data.rewards.length === n &&
    data.terminated instanceof Float32Array &&
    data.terminated.length === n;
  if (!ok)
    throw new InvalidValueError(
      'transitions for the world model',
      `size ${formatValue(n)} with states ${data.states.length}, actions ${data.actions.length}, nextStates ${data.nextStates.length}, rewards ${data.rewards.length}, terminated ${data.terminated.length} values`,
      `size N with N × ${model.stateSize} states and next states, N × ${perAction} actions, N rewards and N terminated flags`,
    );
  if (model.config.actionMasks) {
    const m = model.actionSize;
    const masks = data.nextActionMasks;
    if (!(masks instanceof Uint8Array) || masks.length !== n * m || masks.some((v) => v > 1))
      throw new InvalidValueError(
        'nextActionMasks of the transitions',
        formatValue(masks),
        `a Uint8Array of ${n} × ${m} values 0 or 1 (a model with actionMasks learns each next state's allowed actions)`,
      );
  }
  model.layout.checkStates(data.states, n, 'state of a transition');
  model.layout.checkStates(data.nextStates, n, 'next state of a transition');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(data.rewards[i]!))
      throw new InvalidValueError(
        `reward of transition ${i}`,
        formatValue(data.rewards[i]),
        'a finite number',
      );
  }
}

function option(value: number | undefined, fallback: number, name: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min)
    throw new InvalidOptionError(`fit ${name}`, value, `an integer >= ${min}`);
  return v;
}

function permutation(n: number, rng: Rng): Int32Array {
  const out = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(out, rng);
  return out;
}

function shuffleInPlace(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Copies member m's values of every piece from `from` into `to` (pieces are `[members, ...]`). */
function copyMember(model: WorldModel, from: Float32Array, to: Float32Array, m: number): void {
  for (const piece of model.params.pieces) {
    const per = piece.size / model.ensembleSize;
    const start = piece.offset + m * per;
    to.set(from.subarray(start, start + per), start);
  }
}
