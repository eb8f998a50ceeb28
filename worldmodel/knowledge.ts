/**
 * Knowledge and experience: the study's `KnowledgeableExperienceLearning`. A prior (what is known
 * before any experience: "nothing changes", hand-written rules, or — with the language-model
 * issue — a language model's guess) and the learned {@link WorldModel} (experience) are blended
 * per prediction by a confidence weight c:
 *
 *   combined = c · model + (1 − c) · prior
 *
 * for next states (continuous), rewards and termination probabilities; discrete states are
 * blended as per-entry value probabilities and then snapped to a valid state.
 *
 * How c is derived (`confidence: 'calibrated'`, the default): at each refit a calibration split
 * of the experience (never trained on) is held out. For each of its transitions the weight c* in
 * [0, 1] that would have made the blend closest to the truth is computed in closed form
 * (c* = ⟨p − y, p − m⟩ / ‖p − m‖², clipped, with m the model's and p the prior's prediction and y
 * the truth — in z-units of the deltas for continuous states, as probability vectors for discrete
 * ones). A linear map from two features of the prediction to c* is fitted by least squares:
 * the model's ensemble disagreement (log) and the distance from the state to the experience
 * (log of the mean distance to its 5 nearest stored states, in z-units; Hamming distance per entry
 * for discrete states). At prediction time c is that map, clipped to [0, 1]: high where the
 * members agree and the state is near what was seen, low elsewhere. Before the first fit c = 0
 * (the prior alone). A fixed `confidence` number (the ablations 0, 0.5, 1) replaces the map.
 */
import { lusolve } from 'mathjs';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  formatValue,
} from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { Discrete } from '../envs/core/space.js';
import { ReplayBuffer } from '../agents/buffers/replay-buffer.js';
import type { ImaginationModel, ImaginedStep } from './model.js';
import {
  WorldModelTrainer,
  replayData,
  subset,
  type FitOptions,
  type FitResult,
} from './trainer.js';
import type { ModelBatch, WorldModel } from './world-model.js';

/** What a {@link Prior} predicts for N rows. */
export interface PriorPrediction {
  /** Next states `[N × stateSize]` (for discrete states: valid values). */
  nextStates: Float32Array;
  /** Rewards `[N]`. */
  rewards: Float32Array;
  /** Termination probabilities `[N]`. */
  doneProbabilities: Float32Array;
  /**
   * Discrete states: per-entry value probabilities in the model layout's order
   * ({@link StateLayout.probabilityOffset}); when absent, all mass on `nextStates`.
   */
  probabilities?: Float32Array | undefined;
}

/** Prior knowledge of an environment's dynamics, asked for batches. */
export interface Prior {
  /** Name recorded in reports. */
  readonly name: string;
  /** Predictions for N rows (`states` `[N × stateSize]`, actions as the model takes them). */
  predict(states: Float32Array, actions: Float32Array): PriorPrediction | Promise<PriorPrediction>;
}

/** The prior that nothing changes: next = state, reward 0, no termination. */
export class NoChangePrior implements Prior {
  readonly name = 'no-change';
  private readonly stateSize: number;

  /** @throws {@link InvalidOptionError} unless `stateSize` is a positive integer. */
  constructor(stateSize: number) {
    if (!Number.isSafeInteger(stateSize) || stateSize < 1)
      throw new InvalidOptionError('NoChangePrior stateSize', stateSize, 'a positive integer');
    this.stateSize = stateSize;
  }

  predict(states: Float32Array): PriorPrediction {
    if (!(states instanceof Float32Array) || states.length % this.stateSize !== 0)
      throw new InvalidValueError(
        'states for NoChangePrior',
        formatValue(states),
        `a Float32Array of N × ${this.stateSize} values`,
      );
    const n = states.length / this.stateSize;
    return {
      nextStates: states.slice(),
      rewards: new Float32Array(n),
      doneProbabilities: new Float32Array(n),
    };
  }
}

/** A hand-written rule applied row by row. */
export type PriorRule = (
  state: Float32Array,
  action: Float32Array,
) => { next: ArrayLike<number>; reward: number; done?: number };

/** A prior from a hand-written rule applied row by row: `(state, action) → {next, reward, done}`. */
export class RulePrior implements Prior {
  readonly name: string;
  private readonly stateSize: number;
  private readonly actionSize: number;
  private readonly rule: PriorRule;

  /** `actionSize`: values per action row (1 for a Discrete action). */
  constructor(name: string, stateSize: number, actionSize: number, rule: PriorRule) {
    this.name = name;
    this.stateSize = stateSize;
    this.actionSize = actionSize;
    this.rule = rule;
  }

  predict(states: Float32Array, actions: Float32Array): PriorPrediction {
    const d = this.stateSize;
    const n = states.length / d;
    if (!Number.isInteger(n) || actions.length !== n * this.actionSize)
      throw new InvalidValueError(
        `rows for ${this.name}`,
        `${states.length} state and ${actions.length} action values`,
        `N × ${d} and N × ${this.actionSize}`,
      );
    const nextStates = new Float32Array(n * d);
    const rewards = new Float32Array(n);
    const doneProbabilities = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const out = this.rule(
        states.subarray(r * d, r * d + d),
        actions.subarray(r * this.actionSize, (r + 1) * this.actionSize),
      );
      if (out.next.length !== d)
        throw new InvalidValueError(
          `next state from ${this.name}`,
          formatValue(out.next),
          `${d} values`,
        );
      nextStates.set(out.next, r * d);
      rewards[r] = out.reward;
      doneProbabilities[r] = out.done ?? 0;
    }
    return { nextStates, rewards, doneProbabilities };
  }
}

/** Options of {@link KnowledgeableExperienceLearning}. */
export interface KnowledgeOptions {
  /** `calibrated` (see the module comment) or a fixed weight in [0, 1]. @defaultValue 'calibrated' */
  confidence?: 'calibrated' | number;
  /** Refit after this many new transitions. @defaultValue 250 */
  refitEvery?: number;
  /** Experience kept. @defaultValue 100000 */
  bufferSize?: number;
  /** Fraction of the experience held out to calibrate c. @defaultValue 0.1 */
  calibrationFraction?: number;
  /** Options of each fit. @defaultValue { epochs: 50 } */
  fit?: FitOptions;
  /** Seed of the calibration split and the reference sample. @defaultValue 1 */
  seed?: number;
}

/** One transition of experience (flat state rows; an action as the model takes it). */
export interface Experience {
  state: Float32Array;
  /** A Float32Array (Box) or a Discrete value. */
  action: Float32Array | number;
  reward: number;
  nextState: Float32Array;
  terminated: boolean;
}

/** A blended prediction. */
export interface CombinedPrediction {
  /** `[N × stateSize]`. */
  nextStates: Float32Array;
  /** `[N]`. */
  rewards: Float32Array;
  /** 1 where a termination is more likely than not. */
  dones: Uint8Array;
  /** Termination probabilities. */
  doneProbabilities: Float32Array;
  /** The weight c of the model in each row. */
  confidence: Float32Array;
  /** The model's ensemble disagreement per row. */
  disagreement: Float32Array;
  /** The model's allowed actions of each next state (a model with `actionMasks`; priors predict none). */
  actionMasks?: Uint8Array | undefined;
}

const REFERENCE_SIZE = 256;
const NEIGHBOURS = 5;
const FEATURE_EPSILON = 1e-6;

/** The study's prior/experience fusion; see the module comment. */
export class KnowledgeableExperienceLearning {
  /** The learned model. */
  readonly model: WorldModel;
  /** The prior. */
  readonly prior: Prior;
  /** The model's trainer. */
  readonly trainer: WorldModelTrainer;
  /** The experience. */
  readonly replay: ReplayBuffer;
  private readonly confidenceMode: 'calibrated' | number;
  private readonly refitEvery: number;
  private readonly calibrationFraction: number;
  private readonly fitOptions: FitOptions;
  private rng: Rng;
  private sinceFit = 0;
  private fitted = false;
  /** Least-squares weights of [1, log u, log ρ] → c. */
  private weights: number[] = [0, 0, 0];
  private reference: Float32Array = new Float32Array(0);
  private referenceRows = 0;

  /** @throws {@link InvalidOptionError} for bad options. */
  constructor(
    model: WorldModel,
    prior: Prior,
    options: KnowledgeOptions = {},
    trainer?: WorldModelTrainer,
  ) {
    this.model = model;
    this.prior = prior;
    const confidence = options.confidence ?? 'calibrated';
    if (
      confidence !== 'calibrated' &&
      !(typeof confidence === 'number' && confidence >= 0 && confidence <= 1)
    )
      throw new InvalidOptionError(
        'KnowledgeableExperienceLearning.confidence',
        confidence,
        '"calibrated" or a number in [0, 1]',
      );
    this.confidenceMode = confidence;
    this.refitEvery = positive(options.refitEvery ?? 250, 'refitEvery');
    const fraction = options.calibrationFraction ?? 0.1;
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))
      throw new InvalidOptionError(
        'KnowledgeableExperienceLearning.calibrationFraction',
        fraction,
        'a number in (0, 1)',
      );
    this.calibrationFraction = fraction;
    this.fitOptions = options.fit ?? { epochs: 50 };
    this.rng = new Rng(options.seed ?? 1);
    this.trainer = trainer ?? new WorldModelTrainer(model);
    this.replay = new ReplayBuffer({
      capacity: positive(options.bufferSize ?? 100_000, 'bufferSize'),
      observationSize: model.stateSize,
      actionSize: model.actionSpace instanceof Discrete ? 1 : model.actionSize,
    });
  }

  /** The study's `update_world_model`: stores the transition and refits every `refitEvery` of them. */
  async updateWorldModel(experience: Experience): Promise<FitResult | undefined> {
    this.replay.add({
      observation: experience.state,
      action: experience.action,
      reward: experience.reward,
      nextObservation: experience.nextState,
      terminated: experience.terminated,
      truncated: false,
    });
    this.sinceFit++;
    if (this.sinceFit < this.refitEvery) return undefined;
    return this.fit();
  }

  /** Refits the model on the experience (minus a calibration split) and recalibrates c. */
  async fit(): Promise<FitResult> {
    this.sinceFit = 0;
    const data = replayData(this.replay);
    if (data.size < 20)
      throw new InvalidStateError(
        'KnowledgeableExperienceLearning.fit',
        'at least 20 transitions of experience',
        data.size,
      );
    const order = Int32Array.from({ length: data.size }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.integer(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const held = Math.max(10, Math.floor(data.size * this.calibrationFraction));
    const calibration = subset(data, order.slice(0, held));
    const training = subset(data, order.slice(held));
    const result = await this.trainer.fit(training, this.fitOptions);
    this.setReference(training.states, training.size);
    this.fitted = true;
    if (this.confidenceMode === 'calibrated') await this.calibrate(calibration);
    return result;
  }

  /** The study's `combine_prediction`: the model and the prior blended by c, per row. */
  async combinePrediction(
    states: Float32Array,
    actions: Float32Array,
  ): Promise<CombinedPrediction> {
    await this.model.ready();
    const prior = await this.prior.predict(states, actions);
    return this.blend(states, actions, prior);
  }

  /** The weight c of the model for each row (see the module comment). */
  confidence(states: Float32Array, disagreement: Float32Array): Float32Array {
    const n = disagreement.length;
    const c = new Float32Array(n);
    if (typeof this.confidenceMode === 'number') return c.fill(this.confidenceMode);
    if (!this.fitted) return c;
    const rho = this.distances(states, n);
    const [w0, w1, w2] = this.weights as [number, number, number];
    for (let r = 0; r < n; r++) {
      const v =
        w0 +
        w1 * Math.log(disagreement[r]! + FEATURE_EPSILON) +
        w2 * Math.log(rho[r]! + FEATURE_EPSILON);
      c[r] = Math.min(1, Math.max(0, v));
    }
    return c;
  }

  /** The fused dynamics as an {@link ImaginationModel} (needs a prior that answers synchronously). */
  asModel(): ImaginationModel<Float32Array, ModelBatch> {
    const step = (batch: ModelBatch, actions: Float32Array): ImaginedStep<ModelBatch> => {
      const prior = this.prior.predict(batch.states, actions);
      if (prior instanceof Promise)
        throw new InvalidStateError(
          'KnowledgeableExperienceLearning.asModel',
          'a prior that predicts synchronously',
          `the asynchronous prior ${this.prior.name}`,
        );
      const p = this.blend(batch.states, actions, prior);
      return {
        states: { states: p.nextStates, n: batch.n },
        rewards: p.rewards,
        dones: p.dones,
        doneProbabilities: p.doneProbabilities,
        disagreement: p.disagreement,
        actionMasks: p.actionMasks,
      };
    };
    const m = this.model;
    return {
      actionSpace: m.actionSpace,
      members: 1,
      batch: (states) => m.batch(states),
      size: (b) => m.size(b),
      select: (b, rows) => m.select(b, rows),
      key: (b, row) => m.key(b, row),
      step,
    };
  }

  private blend(
    states: Float32Array,
    actions: Float32Array,
    prior: PriorPrediction,
  ): CombinedPrediction {
    const m = this.model;
    const d = m.stateSize;
    const n = states.length / d;
    checkPrior(prior, n, d, this.prior.name);
    const model = m.predict(states, actions);
    const c = this.confidence(states, model.disagreement);
    const rewards = new Float32Array(n);
    const doneProbabilities = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      rewards[r] = c[r]! * model.rewards[r]! + (1 - c[r]!) * prior.rewards[r]!;
      doneProbabilities[r] =
        c[r]! * model.doneProbabilities[r]! + (1 - c[r]!) * prior.doneProbabilities[r]!;
    }
    let nextStates: Float32Array;
    if (m.layout.kind === 'continuous') {
      nextStates = new Float32Array(n * d);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < d; j++)
          nextStates[r * d + j] =
            c[r]! * model.nextStates[r * d + j]! + (1 - c[r]!) * prior.nextStates[r * d + j]!;
    } else {
      const layout = m.layout;
      const p = layout.probabilitySize;
      const modelP = m.predictProbabilities(states, actions).probabilities;
      const priorP = this.priorProbabilities(prior, n);
      const blended = new Float32Array(n * p);
      for (let r = 0; r < n; r++)
        for (let k = 0; k < p; k++)
          blended[r * p + k] = c[r]! * modelP[r * p + k]! + (1 - c[r]!) * priorP[r * p + k]!;
      nextStates = new Float32Array(n * d);
      layout.snap(blended, n, nextStates);
    }
    const dones = new Uint8Array(n);
    for (let r = 0; r < n; r++) dones[r] = doneProbabilities[r]! > 0.5 ? 1 : 0;
    return {
      nextStates,
      rewards,
      dones,
      doneProbabilities,
      confidence: c,
      disagreement: model.disagreement,
      actionMasks: model.actionMasks,
    };
  }

  private priorProbabilities(prior: PriorPrediction, n: number): Float32Array {
    const layout = this.model.layout;
    if (prior.probabilities !== undefined) {
      if (prior.probabilities.length !== n * layout.probabilitySize)
        throw new InvalidValueError(
          `probabilities from the prior ${this.prior.name}`,
          `${prior.probabilities.length} values`,
          `${n} × ${layout.probabilitySize}`,
        );
      return prior.probabilities;
    }
    layout.checkStates(prior.nextStates, n, `next state from the prior ${this.prior.name}`);
    const out = new Float32Array(n * layout.probabilitySize);
    for (let r = 0; r < n; r++) layout.oneHot(prior.nextStates, r, out, r);
    return out;
  }

  /** Fits the map [1, log u, log ρ] → c* on the calibration rows. */
  private async calibrate(data: ReturnType<typeof subset>): Promise<void> {
    const m = this.model;
    const d = m.stateSize;
    const n = data.size;
    const prior = await this.prior.predict(data.states, data.actions);
    checkPrior(prior, n, d, this.prior.name);
    const model = m.predict(data.states, data.actions);
    const rho = this.distances(data.states, n);
    const rows: number[][] = [];
    const targets: number[] = [];
    let mp: Float32Array;
    let pp: Float32Array;
    let yp: Float32Array;
    let width: number;
    if (m.layout.kind === 'continuous') {
      // z-units of the deltas
      const std = m.stats.deltaStd;
      width = d;
      mp = new Float32Array(n * d);
      pp = new Float32Array(n * d);
      yp = new Float32Array(n * d);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < d; j++) {
          mp[r * d + j] = model.nextStates[r * d + j]! / std[j]!;
          pp[r * d + j] = prior.nextStates[r * d + j]! / std[j]!;
          yp[r * d + j] = data.nextStates[r * d + j]! / std[j]!;
        }
    } else {
      const layout = m.layout;
      width = layout.probabilitySize;
      mp = m.predictProbabilities(data.states, data.actions).probabilities;
      pp = this.priorProbabilities(prior, n);
      yp = new Float32Array(n * width);
      for (let r = 0; r < n; r++) layout.oneHot(data.nextStates, r, yp, r);
    }
    for (let r = 0; r < n; r++) {
      let num = 0;
      let den = 0;
      for (let k = 0; k < width; k++) {
        const p = pp[r * width + k]!;
        const diff = p - mp[r * width + k]!;
        num += (p - yp[r * width + k]!) * diff;
        den += diff * diff;
      }
      if (den < 1e-12) continue; // model and prior agree: c does not matter here
      rows.push([
        1,
        Math.log(model.disagreement[r]! + FEATURE_EPSILON),
        Math.log(rho[r]! + FEATURE_EPSILON),
      ]);
      targets.push(Math.min(1, Math.max(0, num / den)));
    }
    if (rows.length < 3) {
      const mean = targets.length === 0 ? 1 : targets.reduce((a, b) => a + b, 0) / targets.length;
      this.weights = [mean, 0, 0];
      return;
    }
    // Ridge-regularised normal equations (a tiny λ keeps them solvable when a feature is constant).
    const xtx = [0, 1, 2].map((i) =>
      [0, 1, 2].map(
        (j) => rows.reduce((s, x) => s + x[i]! * x[j]!, 0) + (i === j ? 1e-6 * rows.length : 0),
      ),
    );
    const xty = [0, 1, 2].map((i) => rows.reduce((s, x, k) => s + x[i]! * targets[k]!, 0));
    const solution = lusolve(xtx, xty) as number[][];
    this.weights = solution.map((v) => Number(v[0]));
  }

  private setReference(states: Float32Array, count: number): void {
    const d = this.model.stateSize;
    const k = Math.min(REFERENCE_SIZE, count);
    const out = new Float32Array(k * d);
    for (let i = 0; i < k; i++) {
      const r = this.rng.integer(count);
      out.set(states.subarray(r * d, r * d + d), i * d);
    }
    this.reference = out;
    this.referenceRows = k;
  }

  /** Mean distance from each row to its nearest reference states (z-units, or Hamming per entry). */
  private distances(states: Float32Array, n: number): Float64Array {
    const d = this.model.stateSize;
    const k = Math.min(NEIGHBOURS, this.referenceRows);
    const out = new Float64Array(n);
    if (k === 0) return out.fill(Infinity);
    const discrete = this.model.layout.kind === 'discrete';
    const std = this.model.stats.stateStd;
    const nearest = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      nearest.fill(Infinity);
      for (let q = 0; q < this.referenceRows; q++) {
        let dist = 0;
        for (let j = 0; j < d; j++) {
          const a = states[r * d + j]!;
          const b = this.reference[q * d + j]!;
          dist += discrete ? (a === b ? 0 : 1) : ((a - b) / std[j]!) ** 2;
        }
        dist = discrete ? dist / d : Math.sqrt(dist);
        if (dist < nearest[k - 1]!) {
          let i = k - 1;
          while (i > 0 && nearest[i - 1]! > dist) {
            nearest[i] = nearest[i - 1]!;
            i--;
          }
          nearest[i] = dist;
        }
      }
      let s = 0;
      for (let i = 0; i < k; i++) s += nearest[i]!;
      out[r] = s / k;
    }
    return out;
  }

  /** The calibration (weights and reference sample) and counters as JSON, for checkpoints. */
  getState(): Record<string, unknown> {
    return {
      weights: this.weights,
      reference: Array.from(this.reference),
      referenceRows: this.referenceRows,
      fitted: this.fitted,
      sinceFit: this.sinceFit,
      rng: this.rng.getState(),
    };
  }

  /** Restores {@link KnowledgeableExperienceLearning.getState}. */
  setState(state: Record<string, unknown>): void {
    this.weights = (state['weights'] as number[]).slice();
    this.reference = Float32Array.from(state['reference'] as number[]);
    this.referenceRows = state['referenceRows'] as number;
    this.fitted = state['fitted'] as boolean;
    this.sinceFit = state['sinceFit'] as number;
    this.rng = Rng.fromState(state['rng'] as Parameters<typeof Rng.fromState>[0]);
  }
}

function positive(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new InvalidOptionError(
      `KnowledgeableExperienceLearning.${name}`,
      v,
      'a positive integer',
    );
  return v;
}

function checkPrior(p: PriorPrediction, n: number, d: number, name: string): void {
  if (p.nextStates.length !== n * d || p.rewards.length !== n || p.doneProbabilities.length !== n)
    throw new InvalidValueError(
      `prediction of the prior ${name}`,
      `${p.nextStates.length} state, ${p.rewards.length} reward and ${p.doneProbabilities.length} termination values`,
      `${n} × ${d}, ${n} and ${n}`,
    );
  for (const v of p.nextStates)
    if (!Number.isFinite(v))
      throw new InvalidValueError(
        `next state from the prior ${name}`,
        formatValue(v),
        'finite numbers',
      );
}
