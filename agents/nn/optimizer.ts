/**
 * Adam (PyTorch's update rule) on a flat {@link ParameterSet}, with global gradient-norm clipping
 * as one op on the whole (already concatenated) gradient. About 20 kernels per step whatever the
 * number of layers; its state (step, m, v) is saved with the agent. With `weightDecay` it is
 * AdamW (`torch.optim.AdamW`): decoupled weight decay, on every piece or on the pieces `decays`
 * picks (a language model decays its matrices, not its biases and LayerNorm gains).
 *
 * @see Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization" (AdamW).
 */
import { InvalidOptionError, InvalidStateError, formatValue } from '../../envs/core/errors.js';
import { FUSED_ADAM, fusedKernelsAvailable, tf, type FusedAdamAttrs } from './backend.js';
import type { ParameterPiece, ParameterSet } from './params.js';

/** Options of {@link Adam}. */
export interface AdamOptions {
  /** Learning rate. */
  learningRate: number;
  /** β₁. @defaultValue 0.9 */
  beta1?: number;
  /** β₂. @defaultValue 0.999 */
  beta2?: number;
  /** ε added to √v̂ (CleanRL's PPO uses 1e-5). @defaultValue 1e-8 */
  epsilon?: number;
  /** Clip the global gradient norm to this value; undefined for no clipping. */
  maxGradNorm?: number | undefined;
  /**
   * Decoupled weight decay λ: before each update `p ← p·(1 − lr·λ)` (AdamW, as
   * `torch.optim.AdamW`); 0 is plain Adam. @defaultValue 0
   */
  weightDecay?: number;
  /** The pieces that decay (with `weightDecay`). @defaultValue every piece */
  decays?: ((piece: ParameterPiece) => boolean) | undefined;
}

/** What one {@link Adam.step} reports (tensors the caller reads or disposes). */
export interface AdamStepResult {
  /** Global gradient norm before clipping (scalar tensor). */
  gradNorm: tf.Scalar;
}

/** A saved {@link Adam} state. */
export interface AdamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

/** Adam on one flat parameter vector: `p ← p − lr·m̂/(√v̂ + ε)`, as `torch.optim.Adam`. */
export class Adam {
  /** The parameters updated. */
  readonly params: ParameterSet;
  /** Current learning rate (change it for annealing). */
  learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly maxGradNorm: number | undefined;
  private readonly weightDecay: number;
  private readonly decays: ((piece: ParameterPiece) => boolean) | undefined;
  /** 1 where the parameter decays, 0 elsewhere (only when some pieces do not decay). */
  private decayMask: tf.Tensor1D | undefined;
  private m: tf.Variable | undefined;
  private v: tf.Variable | undefined;
  private steps = 0;
  private constants:
    | {
        beta1: tf.Scalar;
        oneMinusBeta1: tf.Scalar;
        beta2: tf.Scalar;
        oneMinusBeta2: tf.Scalar;
        epsilon: tf.Scalar;
        one: tf.Scalar;
      }
    | undefined;

  /** @throws {@link InvalidOptionError} for a weight decay that is not a finite number ≥ 0. */
  constructor(params: ParameterSet, options: AdamOptions) {
    this.params = params;
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.maxGradNorm = options.maxGradNorm;
    const weightDecay = options.weightDecay ?? 0;
    if (typeof weightDecay !== 'number' || !Number.isFinite(weightDecay) || weightDecay < 0)
      throw new InvalidOptionError(
        `Adam(${params.name}) weightDecay`,
        weightDecay,
        'a finite number ≥ 0',
      );
    this.weightDecay = weightDecay;
    this.decays = options.decays;
  }

  /** Optimiser steps taken. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * Applies one update from `gradient` (flat, the parameter set's size); clips it first when
   * `maxGradNorm` is set. The gradient is not disposed.
   */
  step(gradient: tf.Tensor): AdamStepResult {
    return { gradNorm: this.update(gradient, true)! };
  }

  /**
   * {@link Adam.step} without the norm report: when nothing is clipped, no pass over the gradient
   * to measure it (SAC logs no gradient norms).
   */
  stepWithoutNorm(gradient: tf.Tensor): void {
    this.update(gradient, false)?.dispose();
  }

  /** One Adam update; returns the gradient norm when `report` (or when clipping measured it). */
  private update(gradient: tf.Tensor, report: boolean): tf.Scalar | undefined {
    this.ensureState();
    const c = this.constants!;
    this.steps++;
    const t = this.steps;
    const stepSize = this.learningRate / (1 - this.beta1 ** t);
    const denomScale = 1 / Math.sqrt(1 - this.beta2 ** t);
    const [newParams, newM, newV, gradNorm] = tf.tidy(
      (): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Scalar | undefined] => {
        // AdamW: the decay first, then the Adam step from the decayed parameters (torch's order).
        let current: tf.Tensor = this.params.variable;
        if (this.weightDecay > 0) {
          const rate = this.learningRate * this.weightDecay;
          current = tf.mul(
            current,
            this.decayMask === undefined
              ? tf.scalar(1 - rate)
              : tf.sub(c.one, tf.mul(this.decayMask, tf.scalar(rate))),
          );
        }
        const measure = report || this.maxGradNorm !== undefined;
        const norm = measure ? tf.sqrt(tf.sum<tf.Scalar>(tf.square(gradient))) : undefined;
        let g = gradient;
        if (norm !== undefined && this.maxGradNorm !== undefined) {
          // torch.nn.utils.clip_grad_norm_: g · min(1, max / (‖g‖ + 1e-6)).
          const coefficient = tf.minimum(
            c.one,
            tf.div(tf.scalar(this.maxGradNorm), tf.add(norm, tf.scalar(1e-6))),
          );
          g = tf.mul(g, coefficient);
        }
        if (fusedKernelsAvailable()) {
          const attrs: FusedAdamAttrs = {
            beta1: this.beta1,
            oneMinusBeta1: 1 - this.beta1,
            beta2: this.beta2,
            oneMinusBeta2: 1 - this.beta2,
            denomScale,
            stepSize,
            epsilon: this.epsilon,
          };
          const [p, m, v] = tf
            .engine()
            .runKernel<tf.Tensor[]>(
              FUSED_ADAM,
              { p: current, m: this.m!, v: this.v!, g },
              attrs as unknown as tf.NamedAttrMap,
            );
          return [p!, m!, v!, norm];
        }
        const m = tf.add(tf.mul(this.m!, c.beta1), tf.mul(g, c.oneMinusBeta1));
        const v = tf.add(tf.mul(this.v!, c.beta2), tf.mul(tf.square(g), c.oneMinusBeta2));
        const denom = tf.add(tf.mul(tf.sqrt(v), tf.scalar(denomScale)), c.epsilon);
        const update = tf.div(tf.mul(m, tf.scalar(stepSize)), denom);
        return [tf.sub(current, update), m, v, norm];
      },
    );
    this.m!.assign(newM);
    this.v!.assign(newV);
    this.params.assign(newParams);
    newM.dispose();
    newV.dispose();
    newParams.dispose();
    return gradNorm;
  }

  /** The state to save. */
  getState(): AdamState {
    this.ensureState();
    return {
      step: this.steps,
      m: this.m!.dataSync() as Float32Array,
      v: this.v!.dataSync() as Float32Array,
    };
  }

  /** Restores {@link Adam.getState}; throws `InvalidStateError` on a size mismatch. */
  setState(state: AdamState): void {
    const n = this.params.size;
    if (
      !Number.isSafeInteger(state.step) ||
      state.step < 0 ||
      state.m.length !== n ||
      state.v.length !== n
    ) {
      throw new InvalidStateError(
        `Adam(${this.params.name})`,
        `{step >= 0, m and v of ${n} values}`,
        formatValue({ step: state.step, m: state.m.length, v: state.v.length }),
      );
    }
    this.ensureState();
    const m = tf.tensor1d(state.m);
    const v = tf.tensor1d(state.v);
    this.m!.assign(m);
    this.v!.assign(v);
    m.dispose();
    v.dispose();
    this.steps = state.step;
  }

  /** Releases the moment buffers. */
  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    if (this.constants !== undefined) tf.dispose(Object.values(this.constants));
    this.decayMask?.dispose();
    this.m = undefined;
    this.v = undefined;
    this.constants = undefined;
    this.decayMask = undefined;
  }

  private ensureState(): void {
    if (this.m !== undefined) return;
    const n = this.params.size;
    this.m = tf.variable(tf.zeros([n]), false);
    this.v = tf.variable(tf.zeros([n]), false);
    this.constants = {
      beta1: tf.scalar(this.beta1),
      oneMinusBeta1: tf.scalar(1 - this.beta1),
      beta2: tf.scalar(this.beta2),
      oneMinusBeta2: tf.scalar(1 - this.beta2),
      epsilon: tf.scalar(this.epsilon),
      one: tf.scalar(1),
    };
    for (const s of Object.values(this.constants)) tf.keep(s);
    const decays = this.decays;
    if (this.weightDecay > 0 && decays !== undefined) {
      const pieces = this.params.pieces;
      if (!pieces.every((piece) => decays(piece))) {
        const mask = new Float32Array(n);
        for (const piece of pieces)
          if (decays(piece)) mask.fill(1, piece.offset, piece.offset + piece.size);
        this.decayMask = tf.keep(tf.tensor1d(mask));
      }
    }
  }
}

/** Adam on a single scalar in plain JavaScript (SAC's log-temperature): no kernels at all. */
export class ScalarAdam {
  /** The parameter value. */
  value: number;
  /** Learning rate. */
  learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private m = 0;
  private v = 0;
  private steps = 0;

  constructor(value: number, options: AdamOptions) {
    this.value = value;
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  /** One update with gradient `g` (float32 rounding as torch's float32 parameter). */
  step(g: number): void {
    this.steps++;
    this.m = Math.fround(this.beta1 * this.m + (1 - this.beta1) * g);
    this.v = Math.fround(this.beta2 * this.v + (1 - this.beta2) * g * g);
    const mHat = this.m / (1 - this.beta1 ** this.steps);
    const vHat = this.v / (1 - this.beta2 ** this.steps);
    this.value = Math.fround(
      this.value - (this.learningRate * mHat) / (Math.sqrt(vHat) + this.epsilon),
    );
  }

  /** Plain-JSON state. */
  toJSON(): { value: number; m: number; v: number; step: number } {
    return { value: this.value, m: this.m, v: this.v, step: this.steps };
  }

  /** Restores {@link ScalarAdam.toJSON}; throws `InvalidStateError` on a malformed state. */
  fromJSON(json: unknown): void {
    const j = json as { value?: unknown; m?: unknown; v?: unknown; step?: unknown } | null;
    if (
      typeof j !== 'object' ||
      j === null ||
      typeof j.value !== 'number' ||
      typeof j.m !== 'number' ||
      typeof j.v !== 'number' ||
      typeof j.step !== 'number'
    ) {
      throw new InvalidStateError('ScalarAdam', '{value, m, v, step} numbers', json);
    }
    this.value = j.value;
    this.m = j.m;
    this.v = j.v;
    this.steps = j.step;
  }
}
