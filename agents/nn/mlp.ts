/**
 * Multi-layer perceptrons on a {@link ParameterSet}, written for few kernels per update:
 * each layer is ONE fused matmul+bias+activation kernel forward and, backward, one kernel per
 * needed gradient (`dz·Wᵀ`, `xᵀ·dz`, the bias sum) plus the activation's derivative. tfjs's own
 * `tf.fused.matMul` un-fuses inside a gradient scope; {@link dense} does not.
 *
 * An MLP may be an ensemble: `ensemble` independent networks evaluated as one batched network
 * (weights `[E, in, out]`), which is how SAC's twin critics run.
 */
import { InvalidOptionError } from '../../envs/core/errors.js';
import type { Rng } from '../../envs/core/rng.js';
import {
  backendInfo,
  FUSED_RELU_GRAD,
  fusedKernelsAvailable,
  kernelFixesInstalled,
  tf,
} from './backend.js';
import { fanInUniform, orthogonal, type ParameterSet, type ParameterTensors } from './params.js';

/** Hidden-layer activations. */
export type Activation = 'relu' | 'tanh';

/** Weight initialisers: CleanRL's `layer_init` (orthogonal, zero bias) or PyTorch's `nn.Linear` default. */
export type Initializer = 'orthogonal' | 'fan-in-uniform';

/** Options of {@link Mlp}. */
export interface MlpOptions {
  /** Prefix of the parameter names in the set. */
  name: string;
  /** Input size. */
  inputSize: number;
  /** Hidden layer sizes. */
  hiddenSizes: readonly number[];
  /** Output size. */
  outputSize: number;
  /** Hidden activation. */
  activation: Activation;
  /** Independent copies evaluated as one batched network. @defaultValue 1 */
  ensemble?: number;
  /** Initialiser. */
  init: Initializer;
  /** Orthogonal gain of hidden layers. @defaultValue √2 */
  hiddenGain?: number;
  /** Orthogonal gain of the output layer. @defaultValue 1 */
  outputGain?: number;
}

interface Layer {
  w: string;
  b: string;
  inputSize: number;
  outputSize: number;
}

/** A multi-layer perceptron whose weights live in a {@link ParameterSet}. */
export class Mlp {
  /** Prefix of this network's parameter names. */
  readonly name: string;
  /** Input size. */
  readonly inputSize: number;
  /** Output size. */
  readonly outputSize: number;
  /** Ensemble size (1 for a plain network). */
  readonly ensemble: number;
  /** Hidden activation. */
  readonly activation: Activation;
  private readonly layers: Layer[];

  /** Adds this network's weights, initialised with `rng`, to `params`. */
  constructor(params: ParameterSet, options: MlpOptions, rng: Rng) {
    this.name = options.name;
    this.inputSize = options.inputSize;
    this.outputSize = options.outputSize;
    this.ensemble = options.ensemble ?? 1;
    this.activation = options.activation;
    const sizes = [options.inputSize, ...options.hiddenSizes, options.outputSize];
    for (const s of sizes) {
      if (!Number.isSafeInteger(s) || s < 1)
        throw new InvalidOptionError(`${options.name} layer sizes`, sizes, 'positive integers');
    }
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const inputSize = sizes[i]!;
      const outputSize = sizes[i + 1]!;
      const last = i + 2 === sizes.length;
      const gain = last ? (options.outputGain ?? 1) : (options.hiddenGain ?? Math.SQRT2);
      const e = this.ensemble;
      const w = new Float32Array(e * inputSize * outputSize);
      const b = new Float32Array(e * outputSize);
      for (let m = 0; m < e; m++) {
        if (options.init === 'orthogonal') {
          // torch stores Linear weights as [out, in]; we store [in, out]: initialise as torch, then transpose.
          const torchLayout = orthogonal(outputSize, inputSize, gain, rng);
          for (let r = 0; r < outputSize; r++) {
            for (let c = 0; c < inputSize; c++)
              w[m * inputSize * outputSize + c * outputSize + r] = torchLayout[r * inputSize + c]!;
          }
        } else {
          const torchLayout = fanInUniform(outputSize * inputSize, inputSize, rng);
          for (let r = 0; r < outputSize; r++) {
            for (let c = 0; c < inputSize; c++)
              w[m * inputSize * outputSize + c * outputSize + r] = torchLayout[r * inputSize + c]!;
          }
          b.set(fanInUniform(outputSize, inputSize, rng), m * outputSize);
        }
      }
      const layer: Layer = {
        w: `${this.name}.w${i}`,
        b: `${this.name}.b${i}`,
        inputSize,
        outputSize,
      };
      params.add(layer.w, [e, inputSize, outputSize], w);
      params.add(layer.b, e === 1 ? [outputSize] : [e, 1, outputSize], b);
      this.layers.push(layer);
    }
  }

  /**
   * Evaluates the network: `x` is `[batch, in]` or `[1 | E, batch, in]`; the result is
   * `[E, batch, out]`. Inside a gradient scope, `inputGradient` lets a gradient flow into `x`
   * (SAC's actor loss through the critic; otherwise the first layer skips it) and
   * `weightGradient: false` skips the weight gradients of a network that is not being trained.
   */
  apply(params: ParameterTensors, x: tf.Tensor, options: ApplyOptions = {}): tf.Tensor3D {
    const inputGradient = options.inputGradient ?? false;
    const weightGradient = options.weightGradient ?? true;
    let h = x.rank === 2 ? tf.reshape(x, [1, x.shape[0], x.shape[1]!]) : x;
    this.layers.forEach((layer, i) => {
      const last = i + 1 === this.layers.length;
      h = dense(
        h,
        params[layer.w]!,
        params[layer.b]!,
        last ? 'linear' : this.activation,
        i > 0 || inputGradient,
        weightGradient,
      );
    });
    return h as tf.Tensor3D;
  }
}

/** Options of {@link Mlp.apply}. */
export interface ApplyOptions {
  /** Compute the gradient with respect to the input. @defaultValue false */
  inputGradient?: boolean;
  /** Compute the gradients with respect to weights and biases. @defaultValue true */
  weightGradient?: boolean;
}

/** Activation of a dense layer, `linear` for none. */
export type DenseActivation = Activation | 'linear';

const denseOps = new Map<string, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/**
 * One dense layer `activation(x·W + b)` as a single custom op: forward is one `_FusedMatMul`
 * kernel (plus `Tanh` for tanh); backward computes `dz` (activation derivative), `dW = xᵀ·dz`,
 * `db = Σ dz` (zeros when `weightGradient` is false) and, only when `inputGradient`, `dx = dz·Wᵀ`. Shapes: `x` `[1 | E, B, in]`,
 * `W` `[E, in, out]`, `b` `[out]` (E = 1) or `[E, 1, out]`.
 */
export function dense(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  activation: DenseActivation,
  inputGradient: boolean,
  weightGradient = true,
): tf.Tensor {
  const key = `${activation}:${inputGradient}:${weightGradient}`;
  let op = denseOps.get(key);
  if (op === undefined) {
    op = makeDense(activation, inputGradient, weightGradient);
    denseOps.set(key, op);
  }
  return op(x, w, b);
}

function makeDense(
  activation: DenseActivation,
  inputGradient: boolean,
  weightGradient: boolean,
): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const fusedActivation = activation === 'relu' ? 'relu' : 'linear';
  return tf.customGrad((...args: unknown[]) => {
    const [x, w, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    let y: tf.Tensor;
    if (b.rank === 3 && b.shape[0] > 1 && !batchedBiasSupported()) {
      // tfjs's stock wasm kernel takes only a rank-1 bias: add a per-network bias separately.
      const z = tf
        .engine()
        .runKernel<tf.Tensor>(
          'BatchMatMul',
          { a: x, b: w },
          { transposeA: false, transposeB: false },
        );
      const zb = tf.add(z, b);
      y = fusedActivation === 'relu' ? tf.relu(zb) : zb;
    } else {
      y = tf
        .engine()
        .runKernel<tf.Tensor>(
          '_FusedMatMul',
          { a: x, b: w, bias: b },
          { transposeA: false, transposeB: false, activation: fusedActivation, leakyreluAlpha: 0 },
        );
    }
    if (activation === 'tanh') y = tf.tanh(y);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ws, ys] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor;
        let dz: tf.Tensor;
        if (activation === 'relu')
          dz = fusedKernelsAvailable()
            ? tf.engine().runKernel<tf.Tensor>(FUSED_RELU_GRAD, { dy: g, y: ys })
            : tf.mul(g, tf.step(ys));
        else if (activation === 'tanh') dz = tf.mul(g, tf.sub(1, tf.square(ys)));
        else dz = g;
        let dw: tf.Tensor;
        let db: tf.Tensor;
        if (weightGradient) {
          dw = tf
            .engine()
            .runKernel<tf.Tensor>(
              'BatchMatMul',
              { a: xs, b: dz },
              { transposeA: true, transposeB: false },
            );
          db = b.rank === 1 ? tf.sum(dz, [0, 1]) : tf.sum(dz, 1, true);
        } else {
          dw = tf.zerosLike(ws);
          db = tf.zerosLike(b);
        }
        let dx: tf.Tensor;
        if (inputGradient) {
          dx = tf
            .engine()
            .runKernel<tf.Tensor>(
              'BatchMatMul',
              { a: dz, b: ws },
              { transposeA: false, transposeB: true },
            );
          if (xs.shape[0] === 1 && dx.shape[0] > 1) dx = tf.sum(dx, 0, true);
        } else {
          dx = tf.zerosLike(xs);
        }
        return [dx, dw, db];
      },
    };
  });
}

/** Whether `_FusedMatMul` on this backend accepts a `[E, 1, out]` bias. */
function batchedBiasSupported(): boolean {
  return backendInfo()?.name !== 'wasm' || kernelFixesInstalled();
}
