/**
 * wmgym-lm: the small decoder-only language model the suite trains on its own games' text and
 * ships as the offline `local` provider (./providers/local.ts). GPT-2's layout, sized for a CPU:
 *
 * - token embeddings `lm.wte` `[V, d]` (N(0, 0.02²)), looked up with a hand-written gradient (a
 *   scatter-add, one kernel);
 * - the suite's one {@link Transformer} (learned position embeddings, causal pre-LayerNorm blocks,
 *   final LayerNorm), parameters `lm.*`;
 * - the output layer tied to the token embeddings: logits = hidden · wteᵀ.
 *
 * Training ({@link WmgymLm.loss}) is next-token cross-entropy over `[B, T]` batches, averaged over
 * the positions a mask counts (padding weighs 0), with a hand-written gradient
 * (`(softmax − onehot) · weight`, the one-hot part one scatter). Generation ({@link WmgymLm.generate}, {@link LmDecoder}) and
 * scoring ({@link WmgymLm.score}) run the transformer incrementally: the keys and values of past
 * positions stay in a {@link TransformerCache}, so each new token costs one position. The model
 * sees at most `contextLength` tokens: a longer prompt keeps its end, and when generation fills the
 * window it restarts on the newest three quarters of it (positions are learned, so a window cannot
 * slide token by token).
 *
 * Saved ({@link WmgymLm.save}) as a directory: `config.json` (format, sizes, weight file layout,
 * dtype, CRC-32, free-form metadata), `weights.bin` (the flat parameter vector, little-endian
 * float32 or float16) and, when the model holds one, `tokenizer.json`; every file is written
 * atomically and `config.json` last; it holds the weights' CRC-32, so files of two different saves
 * (a save killed half-way over an older one) are refused as corrupt, never loaded together.
 * (Training checkpoints are fully atomic: each goes to a new folder, see ./lm-trainer.ts.)
 * Float16 halves the file (rounded to nearest even; a weight beyond ±65504 is refused, never
 * clipped).
 *
 * @example
 * const model = WmgymLm.create({ vocabSize: tokenizer.vocabSize, modelSize: 256, heads: 8, layers: 4, contextLength: 256 }, 1, tokenizer);
 * const prompt = [tokenizer.endOfText, ...tokenizer.encode('You are in the cellar.')];
 * const { tokens } = model.generate(prompt, { maxTokens: 20, stop: [tokenizer.endOfText] });
 * model.save('models/wmgym-lm', { dtype: 'float16' });
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic, writeJsonAtomic } from '../../envs/core/atomic.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  MalformedFileError,
  formatValue,
} from '../../envs/core/errors.js';
import { Rng, checkSeed } from '../../envs/core/rng.js';
import { resolveConfig, type ConfigRules } from '../options.js';
import { tf } from '../nn/backend.js';
import { ParameterSet, type ParameterTensors } from '../nn/params.js';
import { Transformer, type TransformerCache, type TransformerDecoding } from '../nn/transformer.js';
import type { ScoredContinuation } from './language-model.js';
import { Tokenizer } from './tokenizer.js';

/** Options of {@link WmgymLm.create}. */
export interface WmgymLmOptions {
  /** Number of tokens V (the tokenizer's `vocabSize`). */
  vocabSize: number;
  /** Model (embedding) size d; a multiple of `heads`. */
  modelSize: number;
  /** Attention heads. */
  heads: number;
  /** Transformer layers. */
  layers: number;
  /** Most tokens the model sees at once. */
  contextLength: number;
  /** Hidden size of each layer's MLP. @defaultValue 4 · modelSize */
  mlpSize?: number;
}

/** A {@link WmgymLm}'s resolved sizes. */
export type WmgymLmConfig = Readonly<Required<WmgymLmOptions>>;

/** A batch of training or evaluation sequences, `[B, T]` row-major. */
export interface TokenBatch {
  /** Sequences B. */
  batch: number;
  /** Positions per sequence T (at most `contextLength`). */
  steps: number;
  /** Input tokens, B·T. */
  inputs: Int32Array;
  /** The token to predict at each position (usually the next input), B·T. */
  targets: Int32Array;
  /** Weight of each position (1 counts, 0 is padding), B·T. @defaultValue every position counts */
  mask?: Float32Array;
}

/** Total negative log-likelihood of a batch. */
export interface BatchLikelihood {
  /** Sum over counted positions of −log p(target), natural log, weighted by the mask. */
  total: number;
  /** Sum of the mask (the number of counted positions). */
  tokens: number;
}

/** Options of {@link WmgymLm.generate}. */
export interface GenerateOptions {
  /** Most tokens to generate. */
  maxTokens: number;
  /** Sampling temperature: 0 is greedy (ties: the smaller id). @defaultValue 0 */
  temperature?: number;
  /** Seed of the sampling generator (an {@link Rng}). @defaultValue 0 */
  seed?: number;
  /** Token ids that end the generation (not included in it), e.g. the end-of-text token. */
  stop?: readonly number[];
  /** Called after each generated token with all of them; true ends the generation there. */
  shouldStop?: (generated: readonly number[]) => boolean;
}

/** What {@link WmgymLm.generate} returns. */
export interface Generation {
  /** The generated tokens (without a stop token). */
  tokens: Int32Array;
  /** Why it ended: a stop token, `shouldStop`, or `maxTokens`. */
  reason: 'stop-token' | 'should-stop' | 'max-tokens';
  /** Tokens of the prompt the model saw (its end, if it was longer than the context). */
  promptTokens: number;
}

/** Options of {@link WmgymLm.save}. */
export interface WmgymLmSaveOptions {
  /** Storage of the weights: float32 (exact) or float16 (half the size). @defaultValue 'float32' */
  dtype?: 'float32' | 'float16';
  /** Free-form JSON stored in `config.json` (name, corpus, training run). */
  metadata?: Readonly<Record<string, unknown>>;
}

/** The JSON of a saved model's `config.json`. */
export interface WmgymLmFile {
  format: 'wmgym-lm';
  version: 1;
  config: WmgymLmConfig;
  weights: {
    file: 'weights.bin';
    dtype: 'float32' | 'float16';
    /** Number of values. */
    values: number;
    /** CRC-32 of the file. */
    crc32: number;
    /** Parameter pieces, in storage order (`name[shape]`). */
    layout: string;
  };
  /** `tokenizer.json`, or null when the model was saved without a tokenizer. */
  tokenizer: 'tokenizer.json' | null;
  metadata: Record<string, unknown>;
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'weights.bin';
const TOKENIZER_FILE = 'tokenizer.json';
/** Standard deviation of the initial token embeddings (GPT-2's). */
const INIT_STD = 0.02;
/** Rows (sequence positions) of one scoring batch, at most. */
const SCORE_ROWS = 4096;

const RULES: ConfigRules<Required<WmgymLmOptions>> = {
  vocabSize: { kind: 'number', integer: true, min: 2 },
  modelSize: { kind: 'number', integer: true, min: 1 },
  heads: { kind: 'number', integer: true, min: 1 },
  layers: { kind: 'number', integer: true, min: 1 },
  contextLength: { kind: 'number', integer: true, min: 1 },
  mlpSize: { kind: 'number', integer: true, min: 1 },
};

/** The language model; see the module comment. */
export class WmgymLm {
  /** The resolved sizes. */
  readonly config: WmgymLmConfig;
  /** All weights, one flat vector: `lm.wte`, then the transformer's. */
  readonly params: ParameterSet;
  /** The tokenizer the model was trained with, when it holds one. */
  readonly tokenizer: Tokenizer | undefined;
  private readonly block: Transformer;
  private readonly wte = 'lm.wte';

  private constructor(config: WmgymLmConfig, rng: Rng, tokenizer: Tokenizer | undefined) {
    this.config = config;
    this.tokenizer = tokenizer;
    const { vocabSize: v, modelSize: d } = config;
    this.params = new ParameterSet('wmgym-lm');
    const wte = new Float32Array(v * d);
    for (let i = 0; i < wte.length; i++) wte[i] = rng.normal(0, INIT_STD);
    this.params.add(this.wte, [v, d], wte);
    this.block = new Transformer(
      this.params,
      {
        name: 'lm',
        modelSize: d,
        heads: config.heads,
        layers: config.layers,
        contextLength: config.contextLength,
        mlpSize: config.mlpSize,
      },
      rng,
    );
    this.params.build();
  }

  /**
   * A new model, initialised from `seed` (GPT-2's scheme); needs the backend ready
   * (`await initBackend()`).
   * @throws {@link InvalidOptionError} for a missing or unknown size, a value that is not a
   * positive integer, `heads` not dividing `modelSize`, a bad seed, or a tokenizer whose
   * vocabulary differs from `vocabSize`.
   */
  static create(options: WmgymLmOptions, seed: number, tokenizer?: Tokenizer): WmgymLm {
    const config = resolveLmConfig(options);
    checkSeed(seed, 'WmgymLm.create seed');
    if (tokenizer !== undefined && tokenizer.vocabSize !== config.vocabSize)
      throw new InvalidOptionError(
        'WmgymLm.create tokenizer',
        `a tokenizer of ${tokenizer.vocabSize} tokens`,
        `a tokenizer of vocabSize (${config.vocabSize}) tokens`,
      );
    return new WmgymLm(config, new Rng(seed), tokenizer);
  }

  /**
   * The model saved in `dir` (with its tokenizer, if saved with one).
   * @throws {@link MalformedFileError} for a missing, unreadable, truncated or corrupt file, or
   * files that do not fit together (naming the file and the JSON path).
   */
  static load(dir: string): WmgymLm {
    const saved = readSaved(dir);
    const model = new WmgymLm(saved.config, new Rng(0), saved.tokenizer);
    try {
      writeSaved(model, saved);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /**
   * Replaces this model's weights by those saved in `dir` (a model of the same sizes).
   * @throws {@link MalformedFileError} as {@link WmgymLm.load}.
   * @throws {@link InvalidStateError} when the saved model has other sizes.
   */
  load(dir: string): void {
    const saved = readSaved(dir);
    if (JSON.stringify(saved.config) !== JSON.stringify(this.config))
      throw new InvalidStateError(
        `wmgym-lm in ${dir}`,
        `a model of sizes ${JSON.stringify(this.config)}`,
        JSON.stringify(saved.config),
      );
    writeSaved(this, saved);
  }

  /**
   * Writes the model to `dir` (created if missing): `weights.bin`, `tokenizer.json` (when the
   * model holds one), then `config.json`, each atomically.
   * @throws {@link InvalidStateError} when a weight is NaN or infinite (a diverged run), or beyond
   * ±65504 with `dtype: 'float16'`.
   * @throws {@link InvalidOptionError} for an unknown dtype or metadata that is not a JSON object.
   */
  save(dir: string, options: WmgymLmSaveOptions = {}): void {
    const dtype = options.dtype ?? 'float32';
    if ((dtype as string) !== 'float32' && (dtype as string) !== 'float16')
      throw new InvalidOptionError('WmgymLm.save dtype', dtype, '"float32" or "float16"');
    const metadata = options.metadata ?? {};
    if (typeof metadata !== 'object' || (metadata as unknown) === null || Array.isArray(metadata))
      throw new InvalidOptionError('WmgymLm.save metadata', metadata, 'a JSON object');
    const values = this.params.read();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!))
        throw new InvalidStateError(
          `weights of wmgym-lm (saving to ${dir})`,
          'finite values',
          `${values[i]} at index ${i} (${this.pieceAt(i)})`,
        );
    }
    let bytes: Uint8Array;
    if (dtype === 'float16') {
      const half = float32ToFloat16(values, (index, value) => {
        throw new InvalidStateError(
          `weights of wmgym-lm (saving to ${dir} as float16)`,
          'values within ±65504 (the float16 range)',
          `${value} at index ${index} (${this.pieceAt(index)}); save as float32`,
        );
      });
      bytes = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    } else {
      bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    }
    writeFileAtomic(join(dir, WEIGHTS_FILE), bytes);
    if (this.tokenizer !== undefined) this.tokenizer.save(join(dir, TOKENIZER_FILE));
    const file: WmgymLmFile = {
      format: 'wmgym-lm',
      version: 1,
      config: this.config,
      weights: {
        file: WEIGHTS_FILE,
        dtype,
        values: values.length,
        crc32: crc32(bytes),
        layout: this.params.describe(),
      },
      tokenizer: this.tokenizer === undefined ? null : TOKENIZER_FILE,
      metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>,
    };
    writeJsonAtomic(join(dir, CONFIG_FILE), file);
  }

  /**
   * The sizes of the model saved in `dir` (from its `config.json`, without loading the weights).
   * @throws {@link MalformedFileError} for a missing or damaged `config.json`.
   */
  static savedConfig(dir: string): WmgymLmConfig {
    return readConfigFile(dir).config;
  }

  /** The metadata saved with the model in `dir` (from its `config.json`). */
  static metadata(dir: string): Record<string, unknown> {
    return readConfigFile(dir).metadata;
  }

  /** Number of weights. */
  get parameterCount(): number {
    return this.params.size;
  }

  /**
   * Logits `[B, T, V]` of every position of `tokens` (B·T ids, row-major), from the current
   * weights. The caller disposes the result.
   * @throws {@link InvalidValueError} for an id outside the vocabulary or a shape that does not fit.
   */
  logits(tokens: ArrayLike<number>, batch: number, steps: number): tf.Tensor3D {
    this.checkShape(batch, steps, 'WmgymLm.logits');
    const ids = this.checkTokens(tokens, 'tokens', batch * steps);
    const { vocabSize: v, modelSize: d } = this.config;
    return tf.tidy(() => {
      const p = this.params.views();
      const x = tf.reshape(tf.gather(p[this.wte]!, tf.tensor1d(ids, 'int32')), [
        1,
        batch,
        steps,
        d,
      ]);
      const h = tf.reshape<tf.Rank.R2>(this.block.apply(p, x), [batch * steps, d]);
      return tf.reshape<tf.Rank.R3>(tf.matMul(h, p[this.wte]!, false, true), [batch, steps, v]);
    });
  }

  /**
   * The training loss of `batch` with parameters `params` (from `ParameterSet.valueAndGrad` or
   * `views()`): the mean over counted positions of −log p(target), a scalar tensor.
   * @throws {@link InvalidValueError} for an id outside the vocabulary, arrays of the wrong
   * length, a mask with a negative or non-finite weight, or a mask that counts nothing.
   */
  loss(params: ParameterTensors, batch: TokenBatch): tf.Scalar {
    const { weights, total } = this.checkBatch(batch, 'WmgymLm.loss batch');
    for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! / total;
    return this.weightedLoss(params, batch, weights);
  }

  /**
   * The total negative log-likelihood of `batch` and the number of positions counted (forward
   * only; held-out loss is `total / tokens`, perplexity `exp` of it).
   * @throws {@link InvalidValueError} as {@link WmgymLm.loss}.
   */
  likelihood(batch: TokenBatch): BatchLikelihood {
    const { weights, total } = this.checkBatch(batch, 'WmgymLm.likelihood batch');
    const value = tf.tidy(() => this.weightedLoss(this.params.views(), batch, weights));
    const sum = value.dataSync()[0]!;
    value.dispose();
    return { total: sum, tokens: total };
  }

  /**
   * An incremental decoder fed with `prompt` (its last `contextLength` tokens if longer): the
   * next token's logits, then one token at a time. Dispose it when done.
   * @throws {@link InvalidValueError} for an empty prompt or an id outside the vocabulary.
   */
  decoder(prompt: ArrayLike<number>): LmDecoder {
    const ids = this.checkTokens(prompt, 'prompt');
    if (ids.length === 0)
      throw new InvalidValueError(
        'prompt of wmgym-lm',
        'no tokens',
        'at least one token (start prompts with the end-of-text token)',
      );
    return new LmDecoder(this, ids);
  }

  /**
   * Generates up to `maxTokens` tokens after `prompt`: greedy at temperature 0, otherwise sampled
   * from softmax(logits / temperature) with a seeded generator (the same seed, prompt and weights
   * give the same tokens).
   * @throws {@link InvalidOptionError} for a bad option.
   * @throws {@link InvalidValueError} for an empty prompt or an id outside the vocabulary.
   * @throws {@link InvalidStateError} when the model computes a NaN logit.
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions): Generation {
    const { maxTokens, temperature = 0, seed = 0, stop = [], shouldStop } = options;
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 1)
      throw new InvalidOptionError('generate maxTokens', maxTokens, 'a positive integer');
    if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)
      throw new InvalidOptionError('generate temperature', temperature, 'a finite number ≥ 0');
    checkSeed(seed, 'generate seed');
    const stopIds = new Set(this.checkTokens(stop, 'generate stop'));
    const rng = new Rng(seed);
    const decoder = this.decoder(prompt);
    const generated: number[] = [];
    const promptTokens = decoder.windowLength;
    let reason: Generation['reason'] = 'max-tokens';
    try {
      const scratch = new Float64Array(this.config.vocabSize);
      for (;;) {
        const logits = decoder.logits;
        const token =
          temperature === 0 ? argmax(logits) : sample(logits, temperature, rng, scratch);
        if (stopIds.has(token)) {
          reason = 'stop-token';
          break;
        }
        generated.push(token);
        if (shouldStop?.(generated) === true) {
          reason = 'should-stop';
          break;
        }
        if (generated.length >= maxTokens) break;
        decoder.push(token);
      }
    } finally {
      decoder.dispose();
    }
    return { tokens: Int32Array.from(generated), reason, promptTokens };
  }

  /**
   * Per continuation, the sum of its tokens' log-probabilities (natural log) after `prompt`, and
   * its number of tokens. The prompt runs once (its keys and values cached); then all
   * continuations run as one batch (in batches of at most 4096 positions). When the prompt and the
   * longest continuation do not fit in the context, the prompt keeps its end. An empty
   * continuation scores 0 with 0 tokens.
   * @throws {@link InvalidValueError} for an empty prompt, an id outside the vocabulary, or a
   * continuation longer than `contextLength`.
   */
  score(
    prompt: ArrayLike<number>,
    continuations: readonly ArrayLike<number>[],
  ): ScoredContinuation[] {
    const { contextLength: c, vocabSize: v, modelSize: d } = this.config;
    const promptIds = this.checkTokens(prompt, 'prompt');
    if (promptIds.length === 0)
      throw new InvalidValueError(
        'prompt of wmgym-lm',
        'no tokens',
        'at least one token (start prompts with the end-of-text token)',
      );
    const options = continuations.map((x, i) => this.checkTokens(x, `continuation ${i}`));
    const longest = options.reduce((m, x) => Math.max(m, x.length), 0);
    if (longest > c)
      throw new InvalidValueError(
        'continuation to score',
        `${longest} tokens`,
        `at most ${c} tokens (the context length)`,
      );
    const results: ScoredContinuation[] = options.map((x) => ({ logProb: 0, tokens: x.length }));
    if (longest === 0) return results;
    const kept = promptIds.subarray(Math.max(0, promptIds.length - (c - longest + 1)));
    const p = this.params.views();
    // The prompt once: its cache, and the log-probabilities of every first token.
    const prefill = this.decodeTokens(p, kept, 1, kept.length);
    try {
      const first = tf.tidy(() => {
        const last = tf.slice(prefill.hidden, [0, 0, kept.length - 1, 0], [1, 1, 1, d]);
        return tf.logSoftmax(
          tf.matMul(tf.reshape<tf.Rank.R2>(last, [1, d]), p[this.wte]!, false, true),
        );
      });
      const firstLogProbs = first.dataSync();
      first.dispose();
      options.forEach((x, i) => {
        if (x.length > 0) results[i]!.logProb = firstLogProbs[x[0]!]!;
      });
      prefill.hidden.dispose();
      // The rest: all continuations of two tokens or more in batches, the prompt cache repeated.
      const rest = options.map((_, i) => i).filter((i) => options[i]!.length > 1);
      const steps = longest - 1;
      const perBatch = Math.max(1, Math.floor(SCORE_ROWS / steps));
      for (let from = 0; from < rest.length; from += perBatch) {
        const group = rest.slice(from, from + perBatch);
        const b = group.length;
        const inputs = new Int32Array(b * steps);
        const picks = new Int32Array(b * steps);
        const counted = new Uint8Array(b * steps);
        group.forEach((index, row) => {
          const x = options[index]!;
          for (let j = 0; j + 1 < x.length; j++) {
            inputs[row * steps + j] = x[j]!;
            picks[row * steps + j] = (row * steps + j) * v + x[j + 1]!;
            counted[row * steps + j] = 1;
          }
        });
        const cache = prefill.cache.repeat(b);
        let decoded;
        try {
          decoded = this.decodeTokens(p, inputs, b, steps, cache);
        } finally {
          cache.dispose();
        }
        decoded.cache.dispose();
        const picked = tf.tidy(() => {
          const h = tf.reshape<tf.Rank.R2>(decoded.hidden, [b * steps, d]);
          const logProbs = tf.logSoftmax(tf.matMul(h, p[this.wte]!, false, true));
          return tf.gather(tf.reshape(logProbs, [b * steps * v]), tf.tensor1d(picks, 'int32'));
        });
        decoded.hidden.dispose();
        const values = picked.dataSync();
        picked.dispose();
        group.forEach((index, row) => {
          let sum = results[index]!.logProb;
          for (let j = 0; j < steps; j++)
            if (counted[row * steps + j] === 1) sum += values[row * steps + j]!;
          results[index]!.logProb = sum;
        });
      }
    } finally {
      prefill.cache.dispose();
      prefill.hidden.dispose();
    }
    return results;
  }

  /** Frees the weights. */
  dispose(): void {
    this.params.dispose();
  }

  // ---- internals shared with LmDecoder ----------------------------------------------------------

  /**
   * Incremental decoding of B·T checked ids `[B, T]` after the positions `cache` holds: the final
   * hidden states `[1, B, T, d]` and the extended cache (see {@link Transformer.decode}).
   */
  decodeTokens(
    p: ParameterTensors,
    ids: Int32Array,
    batch: number,
    steps: number,
    cache?: TransformerCache,
  ): TransformerDecoding {
    const x = tf.tidy(() =>
      tf.reshape(tf.gather(p[this.wte]!, tf.tensor1d(ids, 'int32')), [
        1,
        batch,
        steps,
        this.config.modelSize,
      ]),
    );
    try {
      return this.block.decode(p, x, cache);
    } finally {
      x.dispose();
    }
  }

  /** The next-token logits `[1, V]` at the last position of hidden states `[1, 1, T, d]`. */
  lastLogits(p: ParameterTensors, hidden: tf.Tensor4D): tf.Tensor2D {
    const d = this.config.modelSize;
    const steps = hidden.shape[2];
    const last = tf.reshape<tf.Rank.R2>(tf.slice(hidden, [0, 0, steps - 1, 0], [1, 1, 1, d]), [
      1,
      d,
    ]);
    return tf.matMul(last, p[this.wte]!, false, true);
  }

  /** The transformer block. */
  get transformer(): Transformer {
    return this.block;
  }

  /** Ids as an `Int32Array`, each checked against the vocabulary (and the count, when given). */
  checkTokens(ids: ArrayLike<number>, what: string, count?: number): Int32Array {
    const v = this.config.vocabSize;
    if (typeof ids !== 'object' || (ids as unknown) === null || typeof ids.length !== 'number')
      throw new InvalidValueError(what, formatValue(ids), 'an array of token ids');
    if (count !== undefined && ids.length !== count)
      throw new InvalidValueError(what, `${ids.length} token ids`, `${count} token ids`);
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= v)
        throw new InvalidValueError(
          `${what} at index ${i}`,
          formatValue(id),
          `a token id from 0 to ${v - 1}`,
        );
      out[i] = id;
    }
    return out;
  }

  private checkShape(batch: number, steps: number, what: string): void {
    const c = this.config.contextLength;
    if (
      !Number.isSafeInteger(batch) ||
      batch < 1 ||
      !Number.isSafeInteger(steps) ||
      steps < 1 ||
      steps > c
    )
      throw new InvalidValueError(
        `${what} shape`,
        formatValue([batch, steps]),
        `[batch ≥ 1, steps from 1 to ${c} (the context length)]`,
      );
  }

  /** Checks a batch; returns its weights (a copy, or ones) and their sum. */
  private checkBatch(batch: TokenBatch, what: string): { weights: Float32Array; total: number } {
    if (typeof batch !== 'object' || (batch as unknown) === null)
      throw new InvalidValueError(what, formatValue(batch), 'a TokenBatch');
    this.checkShape(batch.batch, batch.steps, what);
    const n = batch.batch * batch.steps;
    this.checkTokens(batch.inputs, `${what}.inputs`, n);
    this.checkTokens(batch.targets, `${what}.targets`, n);
    let weights: Float32Array;
    if (batch.mask === undefined) weights = new Float32Array(n).fill(1);
    else {
      if (!(batch.mask instanceof Float32Array) || batch.mask.length !== n)
        throw new InvalidValueError(
          `${what}.mask`,
          formatValue(batch.mask),
          `a Float32Array of ${n} weights`,
        );
      weights = batch.mask.slice();
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!Number.isFinite(w) || w < 0)
        throw new InvalidValueError(`${what}.mask at index ${i}`, formatValue(w), 'a weight ≥ 0');
      total += w;
    }
    if (total <= 0)
      throw new InvalidValueError(
        `${what}.mask`,
        'weights that sum to 0',
        'at least one counted position',
      );
    return { weights, total };
  }

  /** Σᵢ wᵢ·(−log p(targetᵢ)), a scalar. */
  private weightedLoss(
    params: ParameterTensors,
    batch: TokenBatch,
    weights: Float32Array,
  ): tf.Scalar {
    const { vocabSize: v, modelSize: d } = this.config;
    const n = batch.batch * batch.steps;
    const ids = tf.tensor1d(batch.inputs, 'int32');
    const x = tf.reshape(embedding(params[this.wte]!, ids), [1, batch.batch, batch.steps, d]);
    const h = tf.reshape<tf.Rank.R2>(this.block.apply(params, x), [n, d]);
    const logits = tf.matMul<tf.Tensor2D>(h, params[this.wte]!, false, true);
    const picks = new Int32Array(n);
    for (let i = 0; i < n; i++) picks[i] = i * v + batch.targets[i]!;
    return crossEntropy(logits, tf.tensor1d(picks, 'int32'), tf.tensor1d(weights));
  }

  /** The name of the parameter piece holding flat index `index`. */
  private pieceAt(index: number): string {
    const piece = this.params.pieces.find((p) => index >= p.offset && index < p.offset + p.size);
    return piece === undefined ? '?' : piece.name;
  }
}

/**
 * Incremental decoding of one sequence ({@link WmgymLm.decoder}): {@link LmDecoder.logits} are the
 * next token's, {@link LmDecoder.push} feeds one token. The window holds at most `contextLength`
 * tokens; pushing into a full window restarts it on its newest three quarters (re-run at once),
 * then continues incrementally.
 */
export class LmDecoder {
  private readonly model: WmgymLm;
  private readonly window: number[];
  private cache: TransformerCache | undefined;
  private next: Float32Array;

  /** (Made by {@link WmgymLm.decoder}, with checked ids.) */
  constructor(model: WmgymLm, prompt: Int32Array) {
    this.model = model;
    const c = model.config.contextLength;
    this.window = Array.from(prompt.subarray(Math.max(0, prompt.length - c)));
    this.next = this.prefill();
  }

  /** Logits `[V]` of the next token (a fresh array after each push; the caller may keep it). */
  get logits(): Float32Array {
    return this.next;
  }

  /** Tokens the window holds. */
  get windowLength(): number {
    return this.window.length;
  }

  /** The tokens the window holds, oldest first. */
  get tokens(): readonly number[] {
    return this.window;
  }

  /**
   * Feeds `token`; afterwards {@link LmDecoder.logits} are those of the token after it.
   * @throws {@link InvalidValueError} for an id outside the vocabulary.
   * @throws {@link InvalidStateError} after {@link LmDecoder.dispose}.
   */
  push(token: number): void {
    if (this.cache === undefined)
      throw new InvalidStateError('LmDecoder.push', 'a live decoder', 'a disposed one');
    const [id] = this.model.checkTokens([token], 'token');
    const c = this.model.config.contextLength;
    if (this.window.length >= c) {
      const keep = Math.max(1, c - Math.floor(c / 4));
      this.window.splice(0, this.window.length - (keep - 1));
      this.window.push(id!);
      this.cache.dispose();
      this.next = this.prefill();
      return;
    }
    this.window.push(id!);
    const model = this.model;
    const p = model.params.views();
    const { hidden, cache } = model.decodeTokens(p, Int32Array.of(id!), 1, 1, this.cache);
    this.cache.dispose();
    this.cache = cache;
    this.next = this.read(p, hidden);
  }

  /** Frees the cache (a second call does nothing). */
  dispose(): void {
    this.cache?.dispose();
    this.cache = undefined;
  }

  /** Runs the whole window afresh; returns the next token's logits. */
  private prefill(): Float32Array {
    const model = this.model;
    const p = model.params.views();
    const ids = Int32Array.from(this.window);
    const { hidden, cache } = model.decodeTokens(p, ids, 1, ids.length);
    this.cache = cache;
    return this.read(p, hidden);
  }

  private read(p: ParameterTensors, hidden: tf.Tensor4D): Float32Array {
    const logits = tf.tidy(() => this.model.lastLogits(p, hidden));
    hidden.dispose();
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    return values;
  }
}

/**
 * Resolves {@link WmgymLmOptions} into a {@link WmgymLmConfig}.
 * @throws {@link InvalidOptionError} as {@link WmgymLm.create}.
 */
export function resolveLmConfig(options: WmgymLmOptions): WmgymLmConfig {
  if (typeof options !== 'object' || (options as unknown) === null)
    throw new InvalidOptionError('WmgymLm options', options, 'an object of sizes');
  const required = undefined as unknown as number;
  const defaults: Required<WmgymLmOptions> = {
    vocabSize: required,
    modelSize: required,
    heads: required,
    layers: required,
    contextLength: required,
    mlpSize: 4 * options.modelSize,
  };
  const config = resolveConfig('WmgymLm', defaults, RULES, options);
  if (config.modelSize % config.heads !== 0)
    throw new InvalidOptionError(
      'WmgymLm.heads',
      config.heads,
      `a divisor of modelSize (${config.modelSize})`,
      'Each head has modelSize / heads dimensions',
    );
  return Object.freeze({ ...config });
}

// ---- ops with hand-written gradients ------------------------------------------------------------

/**
 * Rows `ids` of `table` `[V, d]`; the gradient is a scatter-add of the rows' gradients
 * (`ScatterNd` sums repeated ids) — tfjs's own `gather` gradient needs `UnsortedSegmentSum`, which
 * the wasm backend lacks.
 */
function embedding(table: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((...args: unknown[]) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    // Tensors the gradient reads are saved: the forward pass's scope disposes the others.
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [rows] = saved as [tf.Tensor1D];
        return [tf.scatterND(tf.reshape(rows, [rows.shape[0], 1]), dy as tf.Tensor, t.shape)];
      },
    };
  });
  return op(table);
}

/**
 * Σᵢ wᵢ·(logsumexp(zᵢ) − zᵢ[tᵢ]) of logits `z` `[N, V]`, with the targets' flat indices
 * `picks` (`i·V + tᵢ`) and weights `w`; the gradient is `softmax(zᵢ)·wᵢ − wᵢ·onehot(tᵢ)`, the
 * one-hot part a scatter (tfjs's wasm `OneHot` writes int32 bits even when asked for float32).
 */
function crossEntropy(logits: tf.Tensor2D, picks: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  const [n, v] = logits.shape;
  const op = tf.customGrad((...args: unknown[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    // Tensors the gradient reads are saved: the forward pass's scope disposes the others.
    save([z, picks, weights]);
    const picked = tf.gather(tf.reshape(z, [n * v]), picks);
    return {
      value: tf.sum(tf.mul(tf.sub(tf.logSumExp(z, 1), picked), weights)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [zs, at, w] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const scale = tf.mul(w, dy as tf.Tensor);
        const targets = tf.reshape(tf.scatterND(tf.reshape(at, [n, 1]), scale, [n * v]), [n, v]);
        return [tf.sub(tf.mul(tf.softmax(zs), tf.reshape(scale, [n, 1])), targets)];
      },
    };
  });
  return op(logits) as tf.Scalar;
}

// ---- sampling -----------------------------------------------------------------------------------

/** The index of the largest logit (the smaller index on ties). */
function argmax(logits: Float32Array): number {
  let best = 0;
  let value = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    if (Number.isNaN(z)) throw nanLogit(i);
    if (z > value) {
      value = z;
      best = i;
    }
  }
  return best;
}

/** A draw from softmax(logits / temperature), in float64. */
function sample(
  logits: Float32Array,
  temperature: number,
  rng: Rng,
  scratch: Float64Array,
): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    if (Number.isNaN(z)) throw nanLogit(i);
    if (z > max) max = z;
  }
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i]! - max) / temperature);
    scratch[i] = w;
    total += w;
  }
  let u = rng.random() * total;
  for (let i = 0; i < logits.length; i++) {
    u -= scratch[i]!;
    if (u < 0) return i;
  }
  // Rounding left u ≥ 0 after the last subtraction: the last token with any weight.
  for (let i = logits.length - 1; i >= 0; i--) if (scratch[i]! > 0) return i;
  return 0;
}

function nanLogit(index: number): InvalidStateError {
  return new InvalidStateError(
    'wmgym-lm logits',
    'finite logits',
    `NaN for token ${index} (the weights are broken: reload or retrain the model)`,
  );
}

// ---- files --------------------------------------------------------------------------------------

/**
 * Float16 bits of `values` (round to nearest, ties to even); `overflow(index, value)` is called
 * for a value whose rounding exceeds ±65504 (it should throw).
 */
export function float32ToFloat16(
  values: Float32Array,
  overflow: (index: number, value: number) => void,
): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    const e = exponent - 112; // float16 exponent field
    let half: number;
    if (exponent === 0xff || e >= 31) {
      overflow(i, values[i]!);
      half = 0x7c00;
    } else if (e <= 0) {
      if (e < -10) half = 0;
      else {
        const m = mantissa | 0x800000;
        const shift = 14 - e;
        half = m >>> shift;
        const rest = m & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
      }
    } else {
      half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
      if (half >= 0x7c00) overflow(i, values[i]!);
    }
    out[i] = sign | half;
  }
  return out;
}

let halfTable: Float32Array | undefined;

/** Float32 values of float16 bits (NaN for the non-finite codes, which a caller should refuse). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const exponent = (h >> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      const magnitude =
        exponent === 0
          ? mantissa * 2 ** -24
          : exponent === 31
            ? NaN
            : (1 + mantissa / 1024) * 2 ** (exponent - 15);
      halfTable[h] = h & 0x8000 ? -magnitude : magnitude;
    }
  }
  const table = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

interface SavedModel {
  config: WmgymLmConfig;
  weights: Float32Array;
  tokenizer: Tokenizer | undefined;
  /** The config.json path (for messages). */
  path: string;
  /** The saved parameter layout. */
  layout: string;
}

function readConfigFile(dir: string): WmgymLmFile & { path: string } {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path))
    throw new MalformedFileError(path, '$', 'expected a wmgym-lm config.json, received no file');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MalformedFileError(path, '$', `expected JSON, received ${String(error)}`, {
      cause: error,
    });
  }
  const fail = (at: string, problem: string): never => {
    throw new MalformedFileError(path, at, problem);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('$', `expected an object, received ${formatValue(json)}`);
  const j = json as Partial<Record<keyof WmgymLmFile, unknown>>;
  if (j.format !== 'wmgym-lm')
    fail('$.format', `expected "wmgym-lm", received ${formatValue(j.format)}`);
  if (j.version !== 1) fail('$.version', `expected 1, received ${formatValue(j.version)}`);
  let config: WmgymLmConfig;
  try {
    config = resolveLmConfig(j.config as WmgymLmOptions);
  } catch (error) {
    if (error instanceof InvalidOptionError)
      throw new MalformedFileError(path, `$.config`, error.message, { cause: error });
    throw error;
  }
  const w = j.weights as Partial<Record<keyof WmgymLmFile['weights'], unknown>> | null | undefined;
  if (typeof w !== 'object' || w === null)
    fail('$.weights', `expected the weight file's description, received ${formatValue(w)}`);
  const weights = w!;
  if (weights.file !== WEIGHTS_FILE)
    fail('$.weights.file', `expected "${WEIGHTS_FILE}", received ${formatValue(weights.file)}`);
  if (weights.dtype !== 'float32' && weights.dtype !== 'float16')
    fail(
      '$.weights.dtype',
      `expected "float32" or "float16", received ${formatValue(weights.dtype)}`,
    );
  if (typeof weights.values !== 'number' || !Number.isSafeInteger(weights.values))
    fail('$.weights.values', `expected a count of values, received ${formatValue(weights.values)}`);
  if (typeof weights.crc32 !== 'number' || !Number.isSafeInteger(weights.crc32))
    fail('$.weights.crc32', `expected a CRC-32, received ${formatValue(weights.crc32)}`);
  if (typeof weights.layout !== 'string')
    fail(
      '$.weights.layout',
      `expected the parameter layout, received ${formatValue(weights.layout)}`,
    );
  if (j.tokenizer !== null && j.tokenizer !== TOKENIZER_FILE)
    fail(
      '$.tokenizer',
      `expected "${TOKENIZER_FILE}" or null, received ${formatValue(j.tokenizer)}`,
    );
  const metadata = j.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    fail('$.metadata', `expected an object, received ${formatValue(metadata)}`);
  return {
    path,
    format: 'wmgym-lm',
    version: 1,
    config: config!,
    weights: weights as WmgymLmFile['weights'],
    tokenizer: j.tokenizer as WmgymLmFile['tokenizer'],
    metadata: metadata as Record<string, unknown>,
  };
}

/** Reads and checks a saved model's files. */
function readSaved(dir: string): SavedModel {
  const file = readConfigFile(dir);
  const { config, path } = file;
  const binPath = join(dir, WEIGHTS_FILE);
  if (!existsSync(binPath))
    throw new MalformedFileError(binPath, '$', 'expected the weights file, received no file');
  const bytes = readFileSync(binPath);
  const width = file.weights.dtype === 'float16' ? 2 : 4;
  if (bytes.byteLength !== file.weights.values * width)
    throw new MalformedFileError(
      binPath,
      '$',
      `expected ${file.weights.values * width} bytes (${file.weights.values} ${file.weights.dtype} values, from ${path}), received ${bytes.byteLength}`,
    );
  const checksum = crc32(bytes);
  if (checksum !== file.weights.crc32)
    throw new MalformedFileError(
      binPath,
      '$',
      `expected CRC-32 ${file.weights.crc32} (from ${path}), received ${checksum}: the file is corrupt or from another save`,
    );
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const weights =
    width === 2
      ? float16ToFloat32(new Uint16Array(aligned.buffer))
      : new Float32Array(aligned.buffer);
  for (let i = 0; i < weights.length; i++)
    if (!Number.isFinite(weights[i]!))
      throw new MalformedFileError(
        binPath,
        '$',
        `expected finite weights, received ${weights[i]} at value ${i}`,
      );
  let tokenizer: Tokenizer | undefined;
  if (file.tokenizer !== null) {
    tokenizer = Tokenizer.load(join(dir, TOKENIZER_FILE));
    if (tokenizer.vocabSize !== config.vocabSize)
      throw new MalformedFileError(
        join(dir, TOKENIZER_FILE),
        '$.vocabSize',
        `expected ${config.vocabSize} tokens (the model's vocabSize in ${path}), received ${tokenizer.vocabSize}`,
      );
  }
  return { config, weights, tokenizer, path, layout: file.weights.layout };
}

/**
 * Writes saved weights into `model` after checking that the saved layout is the model's.
 * @throws {@link MalformedFileError} otherwise.
 */
function writeSaved(model: WmgymLm, saved: SavedModel): void {
  const expected = model.params.describe();
  if (saved.layout !== expected || saved.weights.length !== model.params.size)
    throw new MalformedFileError(
      saved.path,
      '$.weights.layout',
      `expected ${model.params.size} values laid out as ${expected}, received ${saved.weights.length} values laid out as ${saved.layout}`,
    );
  model.params.write(saved.weights);
}
