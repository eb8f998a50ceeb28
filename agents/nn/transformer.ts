/**
 * The one transformer of the suite: a causal (decoder-only), pre-LayerNorm transformer in GPT-2's
 * layout, over sequences of embeddings, trained from scratch. The world model's `transformer`
 * backbone runs it over the last T (state, action) embeddings, wmgym-lm over token embeddings;
 * both bring their own input embedding and output head, so the block takes `[1 | E, B, T, d]`
 * embeddings and returns `[E, B, T, d]` hidden states (a language model's logits are then one
 * product with its token embeddings, transposed).
 *
 * Per layer: `h += proj(attention(LN₁(h)))`, `h += out(act(fc(LN₂(h))))`; then a final LayerNorm.
 * Attention is causal (position t attends to positions ≤ t), with `heads` heads of size d/heads,
 * computed as two batched products over `[E·B·heads, T, d/heads]`. Every linear layer is one
 * {@link dense} kernel; LayerNorm and GELU have hand-written gradients (fewer kernels than autodiff).
 *
 * An ensemble of E transformers is ONE batched network, as `Mlp`: weights `[E, in, out]`,
 * one product per layer for all members, each member initialised from its own draws.
 *
 * Incremental decoding ({@link Transformer.decode}): the keys and values of the positions seen so
 * far are kept per layer in a {@link TransformerCache}, so generating a token runs the new position
 * only (attending to the cached ones) instead of the whole sequence again; the hidden states equal
 * those of {@link Transformer.apply} over the whole sequence, up to float rounding.
 *
 * Parameters, in storage order (E = 1 stores gains and biases as `[n]`, else `[E, 1, n]`), with
 * their GPT-2 names:
 * - `<name>.pos` `[E, T, d]` (`wpe`; only with `positionEmbeddings`)
 * - per layer `i`: `<name>.h<i>.ln1.gain|bias` `[d]` (`ln_1`), `<name>.h<i>.qkv.w` `[E, d, 3d]`
 *   with columns `[q | k | v]`, each head-major, and `.qkv.b` (`attn.c_attn`), `<name>.h<i>.proj.w`
 *   `[E, d, d]`, `.proj.b` (`attn.c_proj`), `<name>.h<i>.ln2.gain|bias` (`ln_2`), `<name>.h<i>.fc.w`
 *   `[E, d, m]`, `.fc.b` (`mlp.c_fc`), `<name>.h<i>.out.w` `[E, m, d]`, `.out.b` (`mlp.c_proj`)
 * - `<name>.lnf.gain|bias` `[d]` (`ln_f`)
 *
 * Initialisation (GPT-2): weights and position embeddings N(0, 0.02²), the two residual
 * projections (`proj`, `out`) N(0, (0.02/√(2·layers))²), biases 0, gains 1. Member 0 of an
 * ensemble draws exactly what a single transformer given the same generator draws.
 *
 * @see Radford et al. 2019, "Language Models are Unsupervised Multitask Learners" (GPT-2).
 * @example
 * const params = new ParameterSet('lm');
 * const block = new Transformer(params, { name: 'lm', modelSize: 64, heads: 4, layers: 2, contextLength: 32 }, rng);
 * params.build();
 * const hidden = block.apply(params.views(), embeddings); // [1, B, T, 64] -> [1, B, T, 64]
 */
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../envs/core/errors.js';
import type { Rng } from '../../envs/core/rng.js';
import { resolveConfig, type ConfigRules } from '../options.js';
import { tf } from './backend.js';
import { dense } from './mlp.js';
import type { ParameterSet, ParameterTensors } from './params.js';

/** Activation of a transformer's MLP: GPT-2's GELU (tanh approximation) or ReLU (one fused kernel). */
export type TransformerActivation = 'gelu' | 'relu';

/** Options of {@link Transformer}. */
export interface TransformerOptions {
  /** Prefix of the parameter names in the set (and of option names in error messages). */
  name: string;
  /** Model (embedding) size d; a multiple of `heads`. */
  modelSize: number;
  /** Attention heads; each has size d/heads. */
  heads: number;
  /** Transformer layers (blocks). */
  layers: number;
  /** Longest sequence T the block takes (the number of learned positions). */
  contextLength: number;
  /** Hidden size of each layer's MLP. @defaultValue 4 · modelSize */
  mlpSize?: number;
  /** MLP activation. @defaultValue 'gelu' */
  activation?: TransformerActivation;
  /** Add learned position embeddings to the input (off when the caller adds its own). @defaultValue true */
  positionEmbeddings?: boolean;
  /** Independent transformers evaluated as one batched network. @defaultValue 1 */
  ensemble?: number;
  /**
   * End with the final LayerNorm (`ln_f`); off for the lower blocks of a transformer split in two
   * (the world model's `lm` backbone runs a pretrained model's frozen lower blocks, then its
   * trained top block and `ln_f`). @defaultValue true
   */
  finalNorm?: boolean;
}

/** A {@link Transformer}'s resolved options (every field set). */
export interface TransformerConfig {
  /** Prefix of the parameter names. */
  readonly name: string;
  /** Model size d. */
  readonly modelSize: number;
  /** Attention heads. */
  readonly heads: number;
  /** Layers. */
  readonly layers: number;
  /** Longest sequence. */
  readonly contextLength: number;
  /** MLP hidden size. */
  readonly mlpSize: number;
  /** MLP activation. */
  readonly activation: TransformerActivation;
  /** Whether learned position embeddings are added. */
  readonly positionEmbeddings: boolean;
  /** Ensemble size E. */
  readonly ensemble: number;
  /** Whether the final LayerNorm is applied (and has weights). */
  readonly finalNorm: boolean;
}

/** Options of {@link Transformer.apply}. */
export interface TransformerApplyOptions {
  /**
   * Compute the gradient with respect to the input (the caller's embeddings are usually trained).
   * False saves one product; use it only when nothing upstream of the input is trained, as the
   * gradient into the input is then incomplete. @defaultValue true
   */
  inputGradient?: boolean;
  /**
   * Compute the gradients of the dense weights and the LayerNorm gains and biases (false: zeros,
   * for a block that is not being trained; position embeddings still get theirs). @defaultValue true
   */
  weightGradient?: boolean;
}

/** Standard deviation of GPT-2's initial weights. */
const INIT_STD = 0.02;
/** LayerNorm's ε (GPT-2's). */
const LAYER_NORM_EPSILON = 1e-5;
/** Added to the scores of future positions: exp underflows to exactly 0, so they get no weight. */
const MASKED = -1e9;

type PieceInit = 'normal' | 'residual' | 'zeros' | 'ones';

interface PieceSpec {
  name: string;
  /** Shape of one member's piece. */
  shape: number[];
  /** Shape in the set (the ensemble dimension included). */
  stored: number[];
  init: PieceInit;
}

interface LayerNames {
  ln1: NormNames;
  qkv: DenseNames;
  proj: DenseNames;
  ln2: NormNames;
  fc: DenseNames;
  out: DenseNames;
}
interface NormNames {
  gain: string;
  bias: string;
}
interface DenseNames {
  w: string;
  b: string;
}

const RULES: ConfigRules<Omit<TransformerConfig, 'name'>> = {
  modelSize: { kind: 'number', integer: true, min: 1 },
  heads: { kind: 'number', integer: true, min: 1 },
  layers: { kind: 'number', integer: true, min: 1 },
  contextLength: { kind: 'number', integer: true, min: 1 },
  mlpSize: { kind: 'number', integer: true, min: 1 },
  activation: { kind: 'choice', values: ['gelu', 'relu'] },
  positionEmbeddings: { kind: 'boolean' },
  ensemble: { kind: 'number', integer: true, min: 1 },
  finalNorm: { kind: 'boolean' },
};

/** A causal pre-LayerNorm transformer (GPT-2 layout) whose weights live in a {@link ParameterSet}. */
export class Transformer {
  /** The resolved options. */
  readonly config: TransformerConfig;
  private readonly blocks: LayerNames[];
  private readonly final: NormNames | undefined;
  private readonly pos: string | undefined;
  private readonly masks = new Map<number, Float32Array>();

  /**
   * Adds this transformer's weights, initialised from `rng` (GPT-2's scheme), to `params`.
   * @throws {@link InvalidOptionError} for a missing or unknown option, a value that is not a
   * positive integer (sizes), an unknown activation, or `heads` not dividing `modelSize`.
   */
  constructor(params: ParameterSet, options: TransformerOptions, rng: Rng) {
    this.config = resolveTransformerConfig(options);
    const { name, modelSize: d, mlpSize: m, layers, contextLength, ensemble: e } = this.config;
    const vector = (n: number): number[] => (e === 1 ? [n] : [e, 1, n]);
    const specs: PieceSpec[] = [];
    const norm = (prefix: string): NormNames => {
      specs.push({ name: `${prefix}.gain`, shape: [d], stored: vector(d), init: 'ones' });
      specs.push({ name: `${prefix}.bias`, shape: [d], stored: vector(d), init: 'zeros' });
      return { gain: `${prefix}.gain`, bias: `${prefix}.bias` };
    };
    const linear = (prefix: string, n: number, k: number, residual: boolean): DenseNames => {
      const init = residual ? 'residual' : 'normal';
      specs.push({ name: `${prefix}.w`, shape: [n, k], stored: [e, n, k], init });
      specs.push({ name: `${prefix}.b`, shape: [k], stored: vector(k), init: 'zeros' });
      return { w: `${prefix}.w`, b: `${prefix}.b` };
    };
    if (this.config.positionEmbeddings) {
      this.pos = `${name}.pos`;
      specs.push({
        name: this.pos,
        shape: [contextLength, d],
        stored: [e, contextLength, d],
        init: 'normal',
      });
    }
    this.blocks = [];
    for (let i = 0; i < layers; i++) {
      const p = `${name}.h${i}`;
      this.blocks.push({
        ln1: norm(`${p}.ln1`),
        qkv: linear(`${p}.qkv`, d, 3 * d, false),
        proj: linear(`${p}.proj`, d, d, true),
        ln2: norm(`${p}.ln2`),
        fc: linear(`${p}.fc`, d, m, false),
        out: linear(`${p}.out`, m, d, true),
      });
    }
    this.final = this.config.finalNorm ? norm(`${name}.lnf`) : undefined;

    // Member-major draws: member 0 consumes the generator as a single transformer would.
    const residualStd = INIT_STD / Math.sqrt(2 * layers);
    const values = specs.map((s) => new Float32Array(e * size(s.shape)));
    for (let member = 0; member < e; member++) {
      specs.forEach((spec, j) => {
        const n = size(spec.shape);
        const target = values[j]!.subarray(member * n, (member + 1) * n);
        if (spec.init === 'ones') target.fill(1);
        else if (spec.init !== 'zeros') {
          const std = spec.init === 'residual' ? residualStd : INIT_STD;
          for (let k = 0; k < n; k++) target[k] = rng.normal(0, std);
        }
      });
    }
    specs.forEach((spec, j) => params.add(spec.name, spec.stored, values[j]!));
  }

  /** Ensemble size E. */
  get ensemble(): number {
    return this.config.ensemble;
  }

  /** Model size d. */
  get modelSize(): number {
    return this.config.modelSize;
  }

  /**
   * Final (LayerNorm'ed) hidden states `[E, B, T, d]` of embeddings `x` `[1 | E, B, T, d]`
   * (1 feeds every member the same sequences), T from 1 to `contextLength`. Causal: the output at
   * position t depends on the inputs at positions ≤ t only. Position embeddings (when on) are
   * added to `x` first.
   * @throws {@link InvalidValueError} when `x` does not have that shape.
   */
  apply(
    params: ParameterTensors,
    x: tf.Tensor,
    options: TransformerApplyOptions = {},
  ): tf.Tensor4D {
    const { name, modelSize: d, heads, contextLength, ensemble: e } = this.config;
    const [members, batch, steps, width] = x.shape;
    if (
      x.rank !== 4 ||
      (members !== 1 && members !== e) ||
      steps === undefined ||
      steps > contextLength ||
      width !== d
    ) {
      throw new InvalidValueError(
        `input of transformer "${name}"`,
        `a tensor of shape [${x.shape.join(', ')}]`,
        `embeddings [${e === 1 ? '1' : `1 or ${e}`}, batch, T ≤ ${contextLength}, ${d}]`,
      );
    }
    const b = batch!;
    const inputGradient = options.inputGradient ?? true;
    const weightGradient = options.weightGradient ?? true;
    let h: tf.Tensor;
    if (this.pos !== undefined) {
      let pos = params[this.pos]!;
      if (steps < contextLength) pos = tf.slice(pos, [0, 0, 0], [e, steps, d]);
      h = tf.reshape(tf.add(x, tf.reshape(pos, [e, 1, steps, d])), [e, b * steps, d]);
    } else {
      h = tf.reshape(x, [members, b * steps, d]);
    }
    // The first product needs dx only when its input depends on something trained.
    const firstInputGradient = inputGradient || (this.pos !== undefined && weightGradient);
    const mask = tf.tensor2d(this.mask(steps), [steps, steps]);
    this.blocks.forEach((layer, i) => {
      const a = layerNorm(h, params[layer.ln1.gain]!, params[layer.ln1.bias]!, weightGradient);
      const qkv = dense(
        a,
        params[layer.qkv.w]!,
        params[layer.qkv.b]!,
        'linear',
        i > 0 || firstInputGradient,
        weightGradient,
      );
      const attended = causalAttention(qkv, e, b, steps, heads, mask);
      h = tf.add(
        h,
        dense(
          attended,
          params[layer.proj.w]!,
          params[layer.proj.b]!,
          'linear',
          true,
          weightGradient,
        ),
      );
      const n = layerNorm(h, params[layer.ln2.gain]!, params[layer.ln2.bias]!, weightGradient);
      const relu = this.config.activation === 'relu';
      let f = dense(
        n,
        params[layer.fc.w]!,
        params[layer.fc.b]!,
        relu ? 'relu' : 'linear',
        true,
        weightGradient,
      );
      if (!relu) f = gelu(f);
      h = tf.add(
        h,
        dense(f, params[layer.out.w]!, params[layer.out.b]!, 'linear', true, weightGradient),
      );
    });
    const y =
      this.final === undefined
        ? h
        : layerNorm(h, params[this.final.gain]!, params[this.final.bias]!, weightGradient);
    return tf.reshape(y, [e, b, steps, d]);
  }

  /**
   * Incremental decoding: the final hidden states `[E, B, T, d]` of embeddings `x`
   * `[1 | E, B, T, d]` at positions `past … past + T − 1`, where `past` is the number of positions
   * `cache` holds (0 without a cache), and a new cache holding `past + T` positions. Equal, up to
   * float rounding, to the last T positions of {@link Transformer.apply} over all `past + T`
   * embeddings, at the cost of the T new positions only. Forward only (for generation and
   * scoring: nothing is recorded for a gradient). `cache` is left intact: dispose it (and, when
   * done, the new one) with {@link TransformerCache.dispose}.
   * @throws {@link InvalidValueError} when `x` does not have that shape, or `past + T` exceeds
   * `contextLength`.
   * @throws {@link InvalidStateError} for a disposed cache, or one of another transformer or batch.
   */
  decode(params: ParameterTensors, x: tf.Tensor, cache?: TransformerCache): TransformerDecoding {
    const { name, modelSize: d, heads, layers, contextLength, ensemble: e } = this.config;
    const past = cache?.length ?? 0;
    const [members, batch, steps, width] = x.shape;
    if (
      x.rank !== 4 ||
      (members !== 1 && members !== e) ||
      steps === undefined ||
      steps < 1 ||
      width !== d
    ) {
      throw new InvalidValueError(
        `input of transformer "${name}" to decode`,
        `a tensor of shape [${x.shape.join(', ')}]`,
        `embeddings [${e === 1 ? '1' : `1 or ${e}`}, batch, T ≥ 1, ${d}]`,
      );
    }
    if (past + steps > contextLength)
      throw new InvalidValueError(
        `input of transformer "${name}" to decode`,
        `${steps} new positions after ${past} cached ones`,
        `at most ${contextLength} positions in all (the context length)`,
      );
    const b = batch!;
    if (cache !== undefined) {
      if (cache.disposed)
        throw new InvalidStateError(
          `cache of transformer "${name}"`,
          'a live cache',
          'a disposed one',
        );
      if (
        cache.layers !== layers ||
        cache.ensemble !== e ||
        cache.heads !== heads ||
        cache.batch !== b
      )
        throw new InvalidStateError(
          `cache of transformer "${name}"`,
          `a cache of ${layers} layers, ${heads} heads, ensemble ${e} and batch ${b}`,
          `one of ${cache.layers} layers, ${cache.heads} heads, ensemble ${cache.ensemble} and batch ${cache.batch}`,
        );
    }
    const result = tf.tidy(() => {
      let h: tf.Tensor;
      if (this.pos !== undefined) {
        const pos = tf.slice(params[this.pos]!, [0, past, 0], [e, steps, d]);
        h = tf.reshape(tf.add(x, tf.reshape(pos, [e, 1, steps, d])), [e, b * steps, d]);
      } else {
        h = tf.reshape(x, [members, b * steps, d]);
      }
      // One new position attends to every cached one: no mask.
      const mask =
        steps === 1
          ? undefined
          : tf.tensor2d(past === 0 ? this.mask(steps) : decodeMask(steps, past), [
              steps,
              past + steps,
            ]);
      const keys: tf.Tensor3D[] = [];
      const values: tf.Tensor3D[] = [];
      this.blocks.forEach((layer, i) => {
        const a = layerNorm(h, params[layer.ln1.gain]!, params[layer.ln1.bias]!, false);
        const qkv = dense(a, params[layer.qkv.w]!, params[layer.qkv.b]!, 'linear', false, false);
        const [q, k, v] = splitHeads(qkv, e, b, steps, heads);
        const allKeys = cache === undefined ? k : tf.concat([cache.keys[i]!, k], 1);
        const allValues = cache === undefined ? v : tf.concat([cache.values[i]!, v], 1);
        keys.push(allKeys);
        values.push(allValues);
        const attended = mergeHeads(attend(q, allKeys, allValues, mask), e, b, steps, heads);
        h = tf.add(
          h,
          dense(attended, params[layer.proj.w]!, params[layer.proj.b]!, 'linear', false, false),
        );
        const n = layerNorm(h, params[layer.ln2.gain]!, params[layer.ln2.bias]!, false);
        const relu = this.config.activation === 'relu';
        let f = dense(
          n,
          params[layer.fc.w]!,
          params[layer.fc.b]!,
          relu ? 'relu' : 'linear',
          false,
          false,
        );
        if (!relu) f = gelu(f);
        h = tf.add(h, dense(f, params[layer.out.w]!, params[layer.out.b]!, 'linear', false, false));
      });
      const y =
        this.final === undefined
          ? h
          : layerNorm(h, params[this.final.gain]!, params[this.final.bias]!, false);
      return { hidden: tf.reshape<tf.Rank.R4>(y, [e, b, steps, d]), keys, values };
    });
    return {
      hidden: result.hidden,
      cache: new TransformerCache(
        { layers, heads, ensemble: e, batch: b, length: past + steps },
        result.keys,
        result.values,
      ),
    };
  }

  /** The additive causal mask `[T, T]`: 0 where key ≤ query, `MASKED` above the diagonal. */
  private mask(steps: number): Float32Array {
    let mask = this.masks.get(steps);
    if (mask === undefined) {
      mask = new Float32Array(steps * steps);
      for (let q = 0; q < steps; q++)
        for (let k = q + 1; k < steps; k++) mask[q * steps + k] = MASKED;
      this.masks.set(steps, mask);
    }
    return mask;
  }
}

/**
 * Resolves {@link TransformerOptions} into a {@link TransformerConfig}.
 * @throws {@link InvalidOptionError} as the {@link Transformer} constructor.
 */
export function resolveTransformerConfig(options: TransformerOptions): TransformerConfig {
  if (typeof options !== 'object' || (options as unknown) === null)
    throw new InvalidOptionError('Transformer options', options, 'an object of options');
  const { name, ...rest } = options;
  if (typeof name !== 'string' || name === '')
    throw new InvalidOptionError('Transformer.name', name, 'a non-empty string');
  // The four sizes have no default: left out, they are reported as "received undefined".
  const required = undefined as unknown as number;
  const defaults: Omit<TransformerConfig, 'name'> = {
    modelSize: required,
    heads: required,
    layers: required,
    contextLength: required,
    mlpSize: 4 * rest.modelSize,
    activation: 'gelu',
    positionEmbeddings: true,
    ensemble: 1,
    finalNorm: true,
  };
  const config = resolveConfig(name, defaults, RULES, rest);
  if (config.modelSize % config.heads !== 0)
    throw new InvalidOptionError(
      `${name}.heads`,
      config.heads,
      `a divisor of modelSize (${config.modelSize})`,
      'Each head has modelSize / heads dimensions',
    );
  return Object.freeze({ name, ...config });
}

/**
 * Causal multi-head self-attention of `qkv` `[E, B·T, 3d]` (columns `[q | k | v]`, head-major),
 * the heads concatenated: `[E, B·T, d]`. Two batched products over `[E·B·heads, T, d/heads]`.
 */
function causalAttention(
  qkv: tf.Tensor,
  e: number,
  b: number,
  steps: number,
  heads: number,
  mask: tf.Tensor2D,
): tf.Tensor {
  const [q, k, v] = splitHeads(qkv, e, b, steps, heads);
  return mergeHeads(attend(q, k, v, mask), e, b, steps, heads);
}

/** Splits `qkv` `[E, B·T, 3d]` into q, k and v, each `[E·B·heads, T, d/heads]`. */
function splitHeads(
  qkv: tf.Tensor,
  e: number,
  b: number,
  steps: number,
  heads: number,
): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  const d = qkv.shape[2]! / 3;
  const dh = d / heads;
  const n = e * b * heads;
  // [E·B, T, 3·H, dh] -> [E·B, 3·H, T, dh] (a rank-4 transpose: tfjs's wasm kernel for rank 5 is
  // about 30x slower; with T = 1 the layouts are the same), then q, k and v are the three thirds
  // of axis 1.
  const grouped = tf.reshape(qkv, [e * b, steps, 3 * heads, dh]);
  const split = steps === 1 ? grouped : tf.transpose(grouped, [0, 2, 1, 3]);
  return tf
    .split(tf.reshape(split, [e * b, 3, heads * steps * dh]), 3, 1)
    .map((t) => tf.reshape<tf.Rank.R3>(t, [n, steps, dh])) as [
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
  ];
}

/**
 * Attention of queries `q` `[N, Tq, dh]` over keys and values `[N, Tk, dh]`, `softmax(q·kᵀ/√dh +
 * mask)·v` with an additive `mask` `[Tq, Tk]` (none: every key visible): `[N, Tq, dh]`.
 */
function attend(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  mask: tf.Tensor2D | undefined,
): tf.Tensor3D {
  const dh = q.shape[2];
  let scores: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh));
  if (mask !== undefined) scores = tf.add(scores, mask);
  return tf.matMul(tf.softmax(scores), v);
}

/** The heads `[E·B·heads, T, dh]` concatenated per position: `[E, B·T, heads·dh]`. */
function mergeHeads(
  attended: tf.Tensor3D,
  e: number,
  b: number,
  steps: number,
  heads: number,
): tf.Tensor {
  const dh = attended.shape[2];
  if (steps === 1) return tf.reshape(attended, [e, b, heads * dh]); // the same layout
  const merged = tf.transpose(tf.reshape(attended, [e * b, heads, steps, dh]), [0, 2, 1, 3]);
  return tf.reshape(merged, [e, b * steps, heads * dh]);
}

/**
 * The additive mask `[T, past + T]` of T new positions after `past` cached ones: query q (position
 * past + q) sees keys ≤ past + q.
 */
function decodeMask(steps: number, past: number): Float32Array {
  const width = past + steps;
  const mask = new Float32Array(steps * width);
  for (let q = 0; q < steps; q++)
    for (let k = past + q + 1; k < width; k++) mask[q * width + k] = MASKED;
  return mask;
}

/** What {@link Transformer.decode} returns. */
export interface TransformerDecoding {
  /** Final hidden states of the new positions, `[E, B, T, d]`. */
  hidden: tf.Tensor4D;
  /** The cache holding the past and the new positions. */
  cache: TransformerCache;
}

/** Sizes a {@link TransformerCache} was made for. */
export interface TransformerCacheShape {
  /** Layers. */
  layers: number;
  /** Attention heads. */
  heads: number;
  /** Ensemble size E. */
  ensemble: number;
  /** Sequences per member B. */
  batch: number;
  /** Positions held. */
  length: number;
}

/**
 * The keys and values of the positions a {@link Transformer} has decoded, per layer, each
 * `[E·B·heads, length, d/heads]`. It owns its tensors (they survive the caller's `tf.tidy`):
 * free them with {@link TransformerCache.dispose}.
 */
export class TransformerCache {
  /** Layers. */
  readonly layers: number;
  /** Attention heads. */
  readonly heads: number;
  /** Ensemble size E. */
  readonly ensemble: number;
  /** Sequences per member B. */
  readonly batch: number;
  /** Positions held. */
  readonly length: number;
  private readonly layerKeys: readonly tf.Tensor3D[];
  private readonly layerValues: readonly tf.Tensor3D[];
  private released = false;

  /** (Made by {@link Transformer.decode} and {@link TransformerCache.repeat}.) */
  constructor(
    shape: TransformerCacheShape,
    keys: readonly tf.Tensor3D[],
    values: readonly tf.Tensor3D[],
  ) {
    this.layers = shape.layers;
    this.heads = shape.heads;
    this.ensemble = shape.ensemble;
    this.batch = shape.batch;
    this.length = shape.length;
    this.layerKeys = keys;
    this.layerValues = values;
    for (const t of keys) tf.keep(t);
    for (const t of values) tf.keep(t);
  }

  /** Per layer, the keys `[E·B·heads, length, d/heads]`. */
  get keys(): readonly tf.Tensor3D[] {
    return this.layerKeys;
  }

  /** Per layer, the values `[E·B·heads, length, d/heads]`. */
  get values(): readonly tf.Tensor3D[] {
    return this.layerValues;
  }

  /** True after {@link TransformerCache.dispose}. */
  get disposed(): boolean {
    return this.released;
  }

  /**
   * A new cache of batch `B·times` in which each sequence is repeated `times` times in a row
   * (sequence s becomes s·times … s·times + times − 1): a shared prompt decoded once, then
   * continued in `times` ways. This cache is left intact.
   * @throws {@link InvalidOptionError} unless `times` is a positive integer.
   * @throws {@link InvalidStateError} for a disposed cache.
   */
  repeat(times: number): TransformerCache {
    if (!Number.isSafeInteger(times) || times < 1)
      throw new InvalidOptionError('TransformerCache.repeat times', times, 'a positive integer');
    if (this.released)
      throw new InvalidStateError('TransformerCache.repeat', 'a live cache', 'a disposed one');
    const rows = this.ensemble * this.batch;
    const tile = (t: tf.Tensor3D): tf.Tensor3D =>
      tf.tidy(() => {
        const [, length, dh] = t.shape;
        const flat = tf.reshape(t, [rows, 1, this.heads * length * dh]);
        return tf.reshape<tf.Rank.R3>(tf.tile(flat, [1, times, 1]), [
          rows * times * this.heads,
          length,
          dh,
        ]);
      });
    return new TransformerCache(
      {
        layers: this.layers,
        heads: this.heads,
        ensemble: this.ensemble,
        batch: this.batch * times,
        length: this.length,
      },
      this.layerKeys.map(tile),
      this.layerValues.map(tile),
    );
  }

  /** Frees the tensors (a second call does nothing). */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    tf.dispose([...this.layerKeys, ...this.layerValues]);
  }
}

const layerNormOps = new Map<boolean, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/**
 * LayerNorm over the last axis with a learned gain and bias, `(x − μ)/√(σ² + 1e-5)·g + b`, with a
 * hand-written gradient. Shapes: `x` `[1 | E, N, d]`, `g` and `b` `[d]` or `[E, 1, d]`; the result
 * is `[E, N, d]`. Without `weightGradient`, the gain and bias get zero gradients.
 */
export function layerNorm(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor,
  weightGradient = true,
): tf.Tensor {
  let op = layerNormOps.get(weightGradient);
  if (op === undefined) {
    op = makeLayerNorm(weightGradient);
    layerNormOps.set(weightGradient, op);
  }
  return op(x, gain, bias);
}

function makeLayerNorm(
  weightGradient: boolean,
): (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: unknown[]) => {
    const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const inverse = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), LAYER_NORM_EPSILON));
    const normed = tf.mul(centred, inverse);
    save([normed, inverse, g]);
    return {
      value: tf.add(tf.mul(normed, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xh, inv, gs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const grad = dy as tf.Tensor;
        // dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / σ with ĝ = dy·g.
        const gy = tf.mul(grad, gs);
        let dx = tf.mul(
          tf.sub(tf.sub(gy, tf.mean(gy, -1, true)), tf.mul(xh, tf.mean(tf.mul(gy, xh), -1, true))),
          inv,
        );
        if (xh.shape[0] === 1 && dx.shape[0] > 1) dx = tf.sum(dx, 0, true);
        if (!weightGradient) return [dx, tf.zerosLike(gs), tf.zerosLike(gs)];
        const reduce = (t: tf.Tensor): tf.Tensor =>
          gs.rank === 1 ? tf.sum(t, [0, 1]) : tf.sum(t, 1, true);
        return [dx, reduce(tf.mul(grad, xh)), reduce(grad)];
      },
    };
  });
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GELU, tanh approximation (GPT-2's): `0.5·x·(1 + tanh(u))` with `u = √(2/π)·(x + 0.044715·x³)`,
 * computed as the equal `x·σ(2u)` (tfjs's wasm `Tanh` is about 6x slower than `Sigmoid`), with a
 * hand-written gradient.
 */
export const gelu: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: unknown[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), 2 * GELU_C * GELU_A), 2 * GELU_C)));
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, ss] = saved as [tf.Tensor, tf.Tensor];
      // d/dx x·σ(2u) = σ + x·σ·(1 − σ)·2u', 2u' = 2√(2/π)·(1 + 3·0.044715·x²)
      const du = tf.add(tf.mul(tf.square(xs), 6 * GELU_C * GELU_A), 2 * GELU_C);
      const slope = tf.add(ss, tf.mul(tf.mul(xs, du), tf.mul(ss, tf.sub(1, ss))));
      return [tf.mul(dy as tf.Tensor, slope)];
    },
  };
});

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
