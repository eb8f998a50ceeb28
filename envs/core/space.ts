/**
 * Spaces: the sets observations and actions live in, as Gymnasium's `gymnasium.spaces`.
 * Each has `sample(rng?, mask?)`, `contains(x)` (a boolean), `check(x, what)` (throws a typed error
 * that names the value received and what is allowed), `shape`, `seed(n)` and `toJSON()`.
 *
 * Values: Discrete → number, Box → Float32Array, MultiDiscrete → Int32Array,
 * MultiBinary → Uint8Array, Text → string, Dict → object, Tuple → array.
 *
 * @example
 * const box = new Box({ low: [-2], high: [2] });
 * box.contains(Float32Array.of(3.5)); // false
 * box.check(Float32Array.of(3.5), 'action'); // InvalidValueError: Invalid action: expected Box(low=[-2], high=[2], shape=[1]), received Float32Array[3.5] ...
 */
import { formatValue, InvalidSpaceError, InvalidValueError } from './errors.js';
import { Rng } from './rng.js';

/** Plain-JSON description of a space, from {@link Space.toJSON}; {@link spaceFromJSON} reads it back. */
export type SpaceJSON =
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'Box'; low: JsonNumber[]; high: JsonNumber[]; shape: number[] }
  | { type: 'MultiDiscrete'; nvec: number[]; start: number[] }
  | { type: 'MultiBinary'; shape: number[] }
  | { type: 'Text'; minLength: number; maxLength: number; charset: string }
  | { type: 'Dict'; spaces: Record<string, SpaceJSON> }
  | { type: 'Tuple'; spaces: SpaceJSON[] };

/** A number as JSON can hold it: infinities are written as strings. */
export type JsonNumber = number | 'Infinity' | '-Infinity';

/** Error classes `check` can throw (InvalidValueError or a subclass such as InvalidActionError). */
export type ValueErrorClass = new (
  what: string,
  received: string,
  allowed: string,
  hint?: string,
) => InvalidValueError;

/** The value type of a space. */
export type SpaceValue<S> = S extends Space<infer T, unknown> ? T : never;

/** A set of values with sampling, membership and a JSON form. `M` is the type of a sampling mask. */
// M types the mask argument of `sample` in every subclass, which the rule does not see.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export abstract class Space<T, M = never> {
  /** The shape of a value (`[]` for scalars and composite spaces). */
  abstract readonly shape: readonly number[];
  private ownRng: Rng | undefined;

  /** Seeds the space's own generator (used by `sample()` without an rng); returns the seed used. */
  seed(seed?: number): number {
    this.ownRng = new Rng(seed);
    return this.ownRng.seed;
  }

  /** The space's own generator, created from OS entropy on first use unless {@link Space.seed} was called. */
  get rng(): Rng {
    this.ownRng ??= new Rng();
    return this.ownRng;
  }

  /** A random element; with a mask, only among the allowed values. */
  abstract sample(rng?: Rng, mask?: M): T;

  /** True if `x` is an element of this space. Never throws. */
  abstract contains(x: unknown): x is T;

  /**
   * Throws unless `x` is an element of this space; the message names what was received and what is
   * allowed, and why `x` is not an element.
   */
  check(
    x: unknown,
    what = 'value',
    ErrorClass: ValueErrorClass = InvalidValueError,
  ): asserts x is T {
    if (!this.contains(x))
      throw new ErrorClass(what, formatValue(x), this.toString(), this.explain(x));
  }

  /** Why `x` is not an element (empty when it is). */
  abstract explain(x: unknown): string;

  /** Plain-JSON description. */
  abstract toJSON(): SpaceJSON;

  /** Short text form used in error messages, e.g. `Box(low=[-2], high=[2], shape=[1])`. */
  abstract toString(): string;

  /** True if `other` describes the same set. */
  equals(other: Space<unknown, unknown>): boolean {
    return JSON.stringify(this.toJSON()) === JSON.stringify(other.toJSON());
  }
}

// ---------------------------------------------------------------------------------------------
// Discrete

/** Options of {@link Discrete}. */
export interface DiscreteOptions {
  /** The smallest element. @defaultValue 0 */
  start?: number;
}

/** The integers `start, start + 1, ..., start + n - 1`. A mask is a Uint8Array of length n (1 = allowed). */
export class Discrete extends Space<number, Uint8Array> {
  readonly shape: readonly number[] = [];
  /** Number of elements. */
  readonly n: number;
  /** Smallest element. */
  readonly start: number;

  constructor(n: number, options: DiscreteOptions = {}) {
    super();
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InvalidSpaceError(
        `Discrete: expected n a positive integer, received ${formatValue(n)}`,
      );
    const start = options.start ?? 0;
    if (!Number.isSafeInteger(start))
      throw new InvalidSpaceError(
        `Discrete: expected start an integer, received ${formatValue(start)}`,
      );
    this.n = n;
    this.start = start;
  }

  /** Uniform over the elements, or over those the mask allows; an all-zero mask gives `start` (as Gymnasium). */
  sample(rng: Rng = this.rng, mask?: Uint8Array): number {
    if (mask === undefined) return this.start + rng.integer(this.n);
    return sampleMasked(rng, this.n, this.start, mask, 'Discrete mask');
  }

  contains(x: unknown): x is number {
    return (
      typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n
    );
  }

  explain(x: unknown): string {
    if (typeof x !== 'number') return `${aTypeName(x)} is not an integer`;
    if (!Number.isInteger(x)) return `${formatValue(x)} is not an integer`;
    if (this.contains(x)) return '';
    return `${String(x)} is outside ${this.start}..${this.start + this.n - 1}`;
  }

  toJSON(): SpaceJSON {
    return { type: 'Discrete', n: this.n, start: this.start };
  }

  override toString(): string {
    return this.start === 0 ? `Discrete(${this.n})` : `Discrete(${this.n}, start=${this.start})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Box

/** Options of {@link Box}: bounds as scalars (with `shape`) or arrays. */
export interface BoxOptions {
  /** Lower bounds (inclusive); `-Infinity` for unbounded. */
  low: number | ArrayLike<number>;
  /** Upper bounds (inclusive); `Infinity` for unbounded. */
  high: number | ArrayLike<number>;
  /** Shape of a value; required when both bounds are scalars. @defaultValue the bounds' length */
  shape?: readonly number[];
}

/**
 * A box in R^n of float32 values, `low[i] <= x[i] <= high[i]`; values are Float32Array in row-major
 * order. Sampling: uniform where bounded on both sides, shifted exponential on one side, normal on none.
 */
export class Box extends Space<Float32Array> {
  readonly shape: readonly number[];
  /** Lower bounds, flattened, as float32. */
  readonly low: Float32Array;
  /** Upper bounds, flattened, as float32. */
  readonly high: Float32Array;
  /** Number of values (product of the shape). */
  readonly size: number;

  constructor(options: BoxOptions) {
    super();
    const lowLength = typeof options.low === 'number' ? undefined : options.low.length;
    const highLength = typeof options.high === 'number' ? undefined : options.high.length;
    const shape =
      options.shape ??
      (lowLength !== undefined ? [lowLength] : highLength !== undefined ? [highLength] : undefined);
    if (shape === undefined)
      throw new InvalidSpaceError(
        'Box: expected shape when low and high are both scalars, received no shape',
      );
    if (!shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new InvalidSpaceError(
        `Box: expected shape of positive integers, received ${formatValue(shape)}`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.low = boundArray(options.low, size, 'low');
    this.high = boundArray(options.high, size, 'high');
    for (let i = 0; i < size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      if (lo === Infinity || hi === -Infinity || lo > hi) {
        throw new InvalidSpaceError(
          `Box: expected low <= high with finite-side bounds, received low[${i}]=${formatValue(lo)}, high[${i}]=${formatValue(hi)}`,
        );
      }
    }
  }

  /** True where both bounds are finite, for every dimension. */
  isBounded(): boolean {
    for (let i = 0; i < this.size; i++) {
      if (!Number.isFinite(this.low[i]!) || !Number.isFinite(this.high[i]!)) return false;
    }
    return true;
  }

  sample(rng: Rng = this.rng): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      const loFinite = Number.isFinite(lo);
      const hiFinite = Number.isFinite(hi);
      if (loFinite && hiFinite) out[i] = rng.uniform(lo, hi);
      else if (loFinite) out[i] = lo + rng.exponential();
      else if (hiFinite) out[i] = hi - rng.exponential();
      else out[i] = rng.normal();
    }
    return out;
  }

  contains(x: unknown): x is Float32Array {
    if (!(x instanceof Float32Array) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (!(v >= this.low[i]! && v <= this.high[i]!)) return false; // NaN fails both
    }
    return true;
  }

  explain(x: unknown): string {
    if (!(x instanceof Float32Array)) {
      return ArrayBuffer.isView(x) || Array.isArray(x)
        ? `a Box value must be a Float32Array; convert with Float32Array.from(value)`
        : `${aTypeName(x)} is not a Float32Array`;
    }
    if (x.length !== this.size)
      return `length ${x.length} does not match shape [${this.shape.join(', ')}] (${this.size} values)`;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (Number.isNaN(v)) return `element ${i} is NaN`;
      if (v < this.low[i]!) return `element ${i} (${v}) is below low (${this.low[i]})`;
      if (v > this.high[i]!) return `element ${i} (${v}) is above high (${this.high[i]})`;
    }
    return '';
  }

  toJSON(): SpaceJSON {
    return {
      type: 'Box',
      low: Array.from(this.low, toJsonNumber),
      high: Array.from(this.high, toJsonNumber),
      shape: [...this.shape],
    };
  }

  override toString(): string {
    return `Box(low=${formatBound(this.low)}, high=${formatBound(this.high)}, shape=[${this.shape.join(', ')}])`;
  }
}

// ---------------------------------------------------------------------------------------------
// MultiDiscrete

/** Options of {@link MultiDiscrete}. */
export interface MultiDiscreteOptions {
  /** Smallest element of each dimension. @defaultValue all 0 */
  start?: ArrayLike<number>;
}

/**
 * A vector of independent discrete values, `start[i] <= x[i] < start[i] + nvec[i]`, as Int32Array.
 * A mask is one Uint8Array per dimension.
 */
export class MultiDiscrete extends Space<Int32Array, readonly Uint8Array[]> {
  readonly shape: readonly number[];
  /** Number of values of each dimension. */
  readonly nvec: Int32Array;
  /** Smallest value of each dimension. */
  readonly start: Int32Array;

  constructor(nvec: ArrayLike<number>, options: MultiDiscreteOptions = {}) {
    super();
    if (nvec.length === 0)
      throw new InvalidSpaceError(
        'MultiDiscrete: expected at least one dimension, received nvec=[]',
      );
    for (let i = 0; i < nvec.length; i++) {
      const n = nvec[i]!;
      if (!Number.isSafeInteger(n) || n < 1 || n > 0x7fffffff) {
        throw new InvalidSpaceError(
          `MultiDiscrete: expected nvec of positive integers, received nvec[${i}]=${formatValue(n)}`,
        );
      }
    }
    const start = options.start ?? new Int32Array(nvec.length);
    // Values are Int32Array elements: every start..start+n-1 must fit, or Int32Array.from would wrap it.
    const fits = (s: number, i: number): boolean =>
      Number.isSafeInteger(s) && s >= -0x80000000 && s + nvec[i]! - 1 <= 0x7fffffff;
    if (start.length !== nvec.length || !Array.from(start).every(fits)) {
      throw new InvalidSpaceError(
        `MultiDiscrete: expected start of ${nvec.length} integers with start[i]..start[i]+nvec[i]-1 in the int32 range, received ${formatValue(start)}`,
      );
    }
    this.nvec = Int32Array.from(nvec);
    this.start = Int32Array.from(start);
    this.shape = Object.freeze([nvec.length]);
  }

  sample(rng: Rng = this.rng, mask?: readonly Uint8Array[]): Int32Array {
    const out = new Int32Array(this.nvec.length);
    if (mask !== undefined && mask.length !== this.nvec.length) {
      throw new InvalidValueError(
        'MultiDiscrete mask',
        formatValue(mask),
        `${this.nvec.length} Uint8Arrays`,
      );
    }
    for (let i = 0; i < out.length; i++) {
      const dimMask = mask?.[i];
      out[i] =
        dimMask === undefined
          ? this.start[i]! + rng.integer(this.nvec[i]!)
          : sampleMasked(rng, this.nvec[i]!, this.start[i]!, dimMask, `MultiDiscrete mask[${i}]`);
    }
    return out;
  }

  contains(x: unknown): x is Int32Array {
    if (!(x instanceof Int32Array) || x.length !== this.nvec.length) return false;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]! - this.start[i]!;
      if (v < 0 || v >= this.nvec[i]!) return false;
    }
    return true;
  }

  explain(x: unknown): string {
    if (!(x instanceof Int32Array))
      return `a MultiDiscrete value must be an Int32Array, received ${aTypeName(x)}`;
    if (x.length !== this.nvec.length) return `length ${x.length} is not ${this.nvec.length}`;
    for (let i = 0; i < x.length; i++) {
      const lo = this.start[i]!;
      const hi = lo + this.nvec[i]! - 1;
      if (x[i]! < lo || x[i]! > hi) return `element ${i} (${x[i]}) is outside ${lo}..${hi}`;
    }
    return '';
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiDiscrete', nvec: Array.from(this.nvec), start: Array.from(this.start) };
  }

  override toString(): string {
    const starts = this.start.some((s) => s !== 0) ? `, start=[${this.start.join(', ')}]` : '';
    return `MultiDiscrete([${this.nvec.join(', ')}]${starts})`;
  }
}

// ---------------------------------------------------------------------------------------------
// MultiBinary

/**
 * Binary vectors (Uint8Array of 0/1) of a given shape. A mask has one entry per element:
 * 0 forces 0, 1 forces 1, 2 samples (as Gymnasium's MultiBinary mask).
 */
export class MultiBinary extends Space<Uint8Array, Uint8Array> {
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;

  constructor(n: number | readonly number[]) {
    super();
    const shape = typeof n === 'number' ? [n] : [...n];
    if (shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new InvalidSpaceError(
        `MultiBinary: expected n a positive integer or a shape of them, received ${formatValue(n)}`,
      );
    }
    this.shape = Object.freeze(shape);
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  sample(rng: Rng = this.rng, mask?: Uint8Array): Uint8Array {
    if (mask !== undefined) {
      if (!(mask instanceof Uint8Array) || mask.length !== this.size || mask.some((m) => m > 2)) {
        throw new InvalidValueError(
          'MultiBinary mask',
          formatValue(mask),
          `a Uint8Array of ${this.size} values in {0, 1, 2}`,
        );
      }
    }
    const out = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const m = mask?.[i] ?? 2;
      out[i] = m === 2 ? rng.uint32() & 1 : m;
    }
    return out;
  }

  contains(x: unknown): x is Uint8Array {
    if (!(x instanceof Uint8Array) || x.length !== this.size) return false;
    for (const v of x) if (v > 1) return false;
    return true;
  }

  explain(x: unknown): string {
    if (!(x instanceof Uint8Array))
      return `a MultiBinary value must be a Uint8Array, received ${aTypeName(x)}`;
    if (x.length !== this.size) return `length ${x.length} is not ${this.size}`;
    const bad = x.findIndex((v) => v > 1);
    return bad < 0 ? '' : `element ${bad} (${x[bad]}) is not 0 or 1`;
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiBinary', shape: [...this.shape] };
  }

  override toString(): string {
    return this.shape.length === 1
      ? `MultiBinary(${this.size})`
      : `MultiBinary([${this.shape.join(', ')}])`;
  }
}

// ---------------------------------------------------------------------------------------------
// Text

/** The default character set of {@link Text}: ASCII letters and digits (Gymnasium's `alphanumeric`). */
export const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Options of {@link Text}. */
export interface TextOptions {
  /** Fewest characters. @defaultValue 1 */
  minLength?: number;
  /** Characters allowed. @defaultValue {@link ALPHANUMERIC} */
  charset?: string;
}

/** A mask for {@link Text.sample}: a fixed length and/or the allowed characters (one flag per charset entry). */
export interface TextMask {
  /** The exact length of the sample, in minLength..maxLength. */
  length?: number;
  /** One flag per charset entry, 1 where the character may be drawn. */
  charset?: Uint8Array;
}

/** Strings of `minLength..maxLength` characters from a character set. */
export class Text extends Space<string, TextMask> {
  readonly shape: readonly number[] = [];
  /** Fewest characters. */
  readonly minLength: number;
  /** Most characters. */
  readonly maxLength: number;
  /** The allowed characters, in order (flatten maps a character to its index here). */
  readonly characters: readonly string[];
  private readonly index: ReadonlyMap<string, number>;

  constructor(maxLength: number, options: TextOptions = {}) {
    super();
    const minLength = options.minLength ?? 1;
    if (
      !Number.isSafeInteger(maxLength) ||
      maxLength < 0 ||
      !Number.isSafeInteger(minLength) ||
      minLength < 0 ||
      minLength > maxLength
    ) {
      throw new InvalidSpaceError(
        `Text: expected integers 0 <= minLength <= maxLength, received minLength=${formatValue(minLength)}, maxLength=${formatValue(maxLength)}`,
      );
    }
    const characters = [...new Set(Array.from(options.charset ?? ALPHANUMERIC))];
    if (characters.length === 0)
      throw new InvalidSpaceError('Text: expected a non-empty charset, received ""');
    this.minLength = minLength;
    this.maxLength = maxLength;
    this.characters = Object.freeze(characters);
    this.index = new Map(characters.map((c, i) => [c, i]));
  }

  /** The character set as one string. */
  get charset(): string {
    return this.characters.join('');
  }

  /** The index of a character in the charset, or -1. */
  indexOf(character: string): number {
    return this.index.get(character) ?? -1;
  }

  sample(rng: Rng = this.rng, mask: TextMask = {}): string {
    const length = mask.length ?? this.minLength + rng.integer(this.maxLength - this.minLength + 1);
    if (!Number.isSafeInteger(length) || length < this.minLength || length > this.maxLength) {
      throw new InvalidValueError(
        'Text mask length',
        formatValue(length),
        `an integer in ${this.minLength}..${this.maxLength}`,
      );
    }
    let allowed = this.characters;
    if (mask.charset !== undefined) {
      checkMask(mask.charset, this.characters.length, 'Text charset mask');
      allowed = this.characters.filter((_, i) => mask.charset![i] === 1);
      if (allowed.length === 0 && length > 0) {
        throw new InvalidValueError(
          'Text charset mask',
          formatValue(mask.charset),
          'at least one allowed character when length > 0',
        );
      }
    }
    let out = '';
    for (let i = 0; i < length; i++) out += rng.choice(allowed);
    return out;
  }

  contains(x: unknown): x is string {
    if (typeof x !== 'string') return false;
    const chars = Array.from(x);
    return (
      chars.length >= this.minLength &&
      chars.length <= this.maxLength &&
      chars.every((c) => this.index.has(c))
    );
  }

  explain(x: unknown): string {
    if (typeof x !== 'string') return `${aTypeName(x)} is not a string`;
    const chars = Array.from(x);
    if (chars.length < this.minLength || chars.length > this.maxLength)
      return `length ${chars.length} is outside ${this.minLength}..${this.maxLength}`;
    const bad = chars.find((c) => !this.index.has(c));
    return bad === undefined ? '' : `character ${JSON.stringify(bad)} is not in the charset`;
  }

  toJSON(): SpaceJSON {
    return {
      type: 'Text',
      minLength: this.minLength,
      maxLength: this.maxLength,
      charset: this.charset,
    };
  }

  override toString(): string {
    const charset =
      this.charset === ALPHANUMERIC
        ? ''
        : `, charset=${JSON.stringify(this.charset.length > 40 ? `${this.charset.slice(0, 40)}…` : this.charset)}`;
    return `Text(${this.minLength}..${this.maxLength}${charset})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Dict and Tuple

/** Any space, whatever its value and mask types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpace = Space<any, any>;

/** The mask type of a space. */
export type MaskOf<S> = S extends Space<unknown, infer M> ? M : never;

/** A dictionary of named subspaces; keys are kept sorted (as Gymnasium does for a plain dict). */
export class Dict<S extends Record<string, AnySpace> = Record<string, AnySpace>> extends Space<
  { [K in keyof S]: SpaceValue<S[K]> },
  { [K in keyof S]?: MaskOf<S[K]> }
> {
  readonly shape: readonly number[] = [];
  /** The subspaces, keys sorted. */
  readonly spaces: Readonly<S>;
  /** The keys, sorted. */
  readonly keys: readonly (keyof S & string)[];

  /** The subspace under `key`, typed loosely (for code that walks any Dict). */
  subspace(key: string): AnySpace {
    return (this.spaces as Record<string, AnySpace>)[key]!;
  }

  constructor(spaces: S) {
    super();
    const keys = Object.keys(spaces).sort();
    for (const key of keys) {
      if (!(spaces[key] instanceof Space))
        throw new InvalidSpaceError(
          `Dict: expected spaces.${key} to be a Space, received ${formatValue(spaces[key])}`,
        );
    }
    this.keys = Object.freeze(keys);
    this.spaces = Object.freeze(Object.fromEntries(keys.map((k) => [k, spaces[k]]))) as Readonly<S>;
  }

  /** Seeds this space and every subspace from one seed (subspace i gets a seed drawn from it). */
  override seed(seed?: number): number {
    const used = super.seed(seed);
    for (const key of this.keys) this.spaces[key].seed(this.rng.uint32());
    return used;
  }

  sample(
    rng?: Rng,
    mask?: { [K in keyof S]?: MaskOf<S[K]> },
  ): { [K in keyof S]: SpaceValue<S[K]> } {
    const out: Record<string, unknown> = {};
    for (const key of this.keys) {
      const space = this.spaces[key];
      out[key] = space.sample(rng ?? space.rng, mask?.[key]);
    }
    return out as { [K in keyof S]: SpaceValue<S[K]> };
  }

  contains(x: unknown): x is { [K in keyof S]: SpaceValue<S[K]> } {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
    const record = x as Record<string, unknown>;
    if (Object.keys(record).length !== this.keys.length) return false;
    return this.keys.every((key) => key in record && this.spaces[key].contains(record[key]));
  }

  explain(x: unknown): string {
    if (typeof x !== 'object' || x === null || Array.isArray(x))
      return `${aTypeName(x)} is not an object`;
    const record = x as Record<string, unknown>;
    const extra = Object.keys(record).filter((k) => !this.keys.includes(k));
    if (extra.length > 0) return `unexpected key ${JSON.stringify(extra[0])}`;
    for (const key of this.keys) {
      if (!(key in record)) return `missing key ${JSON.stringify(key)}`;
      const why = this.spaces[key].explain(record[key]);
      if (why !== '') return `at .${key}: ${why}`;
    }
    return '';
  }

  toJSON(): SpaceJSON {
    return {
      type: 'Dict',
      spaces: Object.fromEntries(this.keys.map((k) => [k, this.spaces[k].toJSON()])),
    };
  }

  override toString(): string {
    return `Dict(${this.keys.map((k) => `${k}: ${String(this.spaces[k])}`).join(', ')})`;
  }
}

/** A fixed-length sequence of subspaces. */
export class Tuple<S extends readonly AnySpace[] = readonly AnySpace[]> extends Space<
  { [K in keyof S]: SpaceValue<S[K]> },
  { [K in keyof S]?: MaskOf<S[K]> }
> {
  readonly shape: readonly number[] = [];
  /** The subspaces, in order. */
  readonly spaces: S;

  /** The subspaces, typed loosely (for code that walks any Tuple). */
  get subspaces(): readonly AnySpace[] {
    return this.spaces;
  }

  constructor(spaces: S) {
    super();
    spaces.forEach((s, i) => {
      if (!(s instanceof Space))
        throw new InvalidSpaceError(
          `Tuple: expected spaces[${i}] to be a Space, received ${formatValue(s)}`,
        );
    });
    this.spaces = Object.freeze([...spaces]) as unknown as S;
  }

  override seed(seed?: number): number {
    const used = super.seed(seed);
    for (const space of this.spaces) space.seed(this.rng.uint32());
    return used;
  }

  sample(
    rng?: Rng,
    mask?: { [K in keyof S]?: MaskOf<S[K]> },
  ): { [K in keyof S]: SpaceValue<S[K]> } {
    const masks = mask as readonly unknown[] | undefined;
    return this.subspaces.map(
      (space, i) => space.sample(rng ?? space.rng, masks?.[i]) as unknown,
    ) as {
      [K in keyof S]: SpaceValue<S[K]>;
    };
  }

  contains(x: unknown): x is { [K in keyof S]: SpaceValue<S[K]> } {
    return (
      Array.isArray(x) &&
      x.length === this.spaces.length &&
      this.spaces.every((s, i) => s.contains(x[i]))
    );
  }

  explain(x: unknown): string {
    if (!Array.isArray(x)) return `${aTypeName(x)} is not an array`;
    if (x.length !== this.spaces.length) return `length ${x.length} is not ${this.spaces.length}`;
    for (let i = 0; i < x.length; i++) {
      const why = this.spaces[i]!.explain(x[i]);
      if (why !== '') return `at [${i}]: ${why}`;
    }
    return '';
  }

  toJSON(): SpaceJSON {
    return { type: 'Tuple', spaces: this.spaces.map((s) => s.toJSON()) };
  }

  override toString(): string {
    return `Tuple(${this.spaces.map(String).join(', ')})`;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON and flattening

/** Reads a space back from {@link Space.toJSON}; a malformed description throws `InvalidSpaceError`. */
export function spaceFromJSON(json: unknown): AnySpace {
  const j = json as SpaceJSON | null;
  if (typeof j !== 'object' || j === null || typeof (j as { type?: unknown }).type !== 'string') {
    throw new InvalidSpaceError(
      `spaceFromJSON: expected {type: "Discrete" | "Box" | ...}, received ${formatValue(json)}`,
    );
  }
  const field = (key: string, ok: (v: unknown) => boolean, allowed: string): void => {
    const v = (j as unknown as Record<string, unknown>)[key];
    if (!ok(v)) {
      throw new InvalidSpaceError(
        `spaceFromJSON: expected ${key} of a ${j.type} to be ${allowed}, received ${formatValue(v)}`,
      );
    }
  };
  const numbers = (v: unknown): boolean =>
    Array.isArray(v) && v.every((x) => typeof x === 'number');
  const jsonNumbers = (v: unknown): boolean =>
    Array.isArray(v) &&
    v.every((x) => typeof x === 'number' || x === 'Infinity' || x === '-Infinity');
  const isObject = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  switch (j.type) {
    case 'Discrete':
      field('n', (v) => typeof v === 'number', 'a number');
      field('start', (v) => v === undefined || typeof v === 'number', 'a number');
      return new Discrete(j.n, { start: j.start });
    case 'Box':
      field('low', jsonNumbers, 'an array of numbers');
      field('high', jsonNumbers, 'an array of numbers');
      field('shape', numbers, 'an array of numbers');
      return new Box({
        low: j.low.map(fromJsonNumber),
        high: j.high.map(fromJsonNumber),
        shape: j.shape,
      });
    case 'MultiDiscrete':
      field('nvec', numbers, 'an array of numbers');
      field('start', (v) => v === undefined || numbers(v), 'an array of numbers');
      return new MultiDiscrete(j.nvec, { start: j.start });
    case 'MultiBinary':
      field('shape', numbers, 'an array of numbers');
      return new MultiBinary(j.shape);
    case 'Text':
      field('maxLength', (v) => typeof v === 'number', 'a number');
      field('minLength', (v) => typeof v === 'number', 'a number');
      field('charset', (v) => typeof v === 'string', 'a string');
      return new Text(j.maxLength, { minLength: j.minLength, charset: j.charset });
    case 'Dict':
      field('spaces', isObject, 'an object of space descriptions');
      return new Dict(
        Object.fromEntries(Object.entries(j.spaces).map(([k, s]) => [k, spaceFromJSON(s)])),
      );
    case 'Tuple':
      field('spaces', Array.isArray, 'an array of space descriptions');
      return new Tuple(j.spaces.map(spaceFromJSON));
    default:
      throw new InvalidSpaceError(
        `spaceFromJSON: expected type Discrete, Box, MultiDiscrete, MultiBinary, Text, Dict or Tuple, received ${formatValue((j as { type: unknown }).type)}`,
      );
  }
}

/** Length of the flat float vector {@link flatten} makes for an element of `space`. */
export function flatdim(space: AnySpace): number {
  if (space instanceof Discrete) return space.n;
  if (space instanceof Box) return space.size;
  if (space instanceof MultiDiscrete) return space.nvec.reduce((a, b) => a + b, 0);
  if (space instanceof MultiBinary) return space.size;
  if (space instanceof Text) return space.maxLength;
  if (space instanceof Dict)
    return space.keys.reduce((sum, k) => sum + flatdim(space.subspace(k)), 0);
  if (space instanceof Tuple) return space.subspaces.reduce((sum, s) => sum + flatdim(s), 0);
  throw new InvalidSpaceError(`flatdim: expected a wmgym space, received ${String(space)}`);
}

/**
 * An element as a flat Float32Array: Discrete and MultiDiscrete one-hot, Box and MultiBinary as
 * values, Text as charset indices padded with `charset.length`, Dict (sorted keys) and Tuple concatenated.
 * Throws `InvalidValueError` if `x` is not in the space.
 */
export function flatten<T>(space: Space<T, unknown>, x: T): Float32Array {
  space.check(x, 'value to flatten');
  const out = new Float32Array(flatdim(space));
  flattenInto(space, x, out, 0);
  return out;
}

/** Writes the flat form of `x` into `out` at `offset` (no check, no allocation); returns the next offset. */
export function flattenInto(
  space: AnySpace,
  x: unknown,
  out: Float32Array,
  offset: number,
): number {
  if (space instanceof Discrete) {
    out.fill(0, offset, offset + space.n);
    out[offset + (x as number) - space.start] = 1;
    return offset + space.n;
  }
  if (space instanceof Box || space instanceof MultiBinary) {
    out.set(x as Float32Array | Uint8Array, offset);
    return offset + space.size;
  }
  if (space instanceof MultiDiscrete) {
    const v = x as Int32Array;
    for (let i = 0; i < v.length; i++) {
      const n = space.nvec[i]!;
      out.fill(0, offset, offset + n);
      out[offset + v[i]! - space.start[i]!] = 1;
      offset += n;
    }
    return offset;
  }
  if (space instanceof Text) {
    const chars = Array.from(x as string);
    for (let i = 0; i < space.maxLength; i++) {
      out[offset + i] = i < chars.length ? space.indexOf(chars[i]!) : space.characters.length;
    }
    return offset + space.maxLength;
  }
  if (space instanceof Dict) {
    for (const key of space.keys)
      offset = flattenInto(space.subspace(key), (x as Record<string, unknown>)[key], out, offset);
    return offset;
  }
  if (space instanceof Tuple) {
    space.subspaces.forEach((s, i) => (offset = flattenInto(s, (x as unknown[])[i], out, offset)));
    return offset;
  }
  throw new InvalidSpaceError(`flatten: expected a wmgym space, received ${String(space)}`);
}

/** Inverse of {@link flatten}; throws `InvalidValueError` if `flat` is not the flat form of an element. */
export function unflatten<T>(space: Space<T, unknown>, flat: Float32Array): T {
  const dim = flatdim(space);
  if (!(flat instanceof Float32Array) || flat.length !== dim) {
    throw new InvalidValueError(
      `flat vector for ${String(space)}`,
      formatValue(flat),
      `a Float32Array of length ${dim}`,
    );
  }
  const [value] = unflattenAt(space, flat, 0);
  space.check(value, `unflattened value for ${String(space)}`);
  return value;
}

function unflattenAt(space: AnySpace, flat: Float32Array, offset: number): [unknown, number] {
  if (space instanceof Discrete)
    return [space.start + oneHotIndex(flat, offset, space.n), offset + space.n];
  if (space instanceof Box) return [flat.slice(offset, offset + space.size), offset + space.size];
  if (space instanceof MultiBinary) {
    const part = flat.subarray(offset, offset + space.size);
    const bad = part.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) {
      // Uint8Array.from would truncate 0.5 to 0 (and wrap -1 to 255) without a word.
      throw new InvalidValueError(
        `flat MultiBinary element ${bad}`,
        formatValue(part[bad]),
        'exactly 0 or 1',
      );
    }
    return [Uint8Array.from(part), offset + space.size];
  }
  if (space instanceof MultiDiscrete) {
    const out = new Int32Array(space.nvec.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = space.start[i]! + oneHotIndex(flat, offset, space.nvec[i]!);
      offset += space.nvec[i]!;
    }
    return [out, offset];
  }
  if (space instanceof Text) {
    let text = '';
    for (let i = 0; i < space.maxLength; i++) {
      const k = flat[offset + i]!;
      if (k === space.characters.length) continue;
      const c = Number.isInteger(k) ? space.characters[k] : undefined;
      if (c === undefined)
        throw new InvalidValueError(
          `flat Text element ${i}`,
          formatValue(k),
          `an integer in 0..${space.characters.length}`,
        );
      text += c;
    }
    return [text, offset + space.maxLength];
  }
  if (space instanceof Dict) {
    const out: Record<string, unknown> = {};
    for (const key of space.keys)
      [out[key], offset] = unflattenAt(space.subspace(key), flat, offset);
    return [out, offset];
  }
  if (space instanceof Tuple) {
    const out: unknown[] = [];
    for (const s of space.subspaces) {
      const [v, next] = unflattenAt(s, flat, offset);
      out.push(v);
      offset = next;
    }
    return [out, offset];
  }
  throw new InvalidSpaceError(`unflatten: expected a wmgym space, received ${String(space)}`);
}

/** The Box that {@link flatten} maps a space into. */
export function flattenSpace(space: AnySpace): Box {
  const dim = flatdim(space);
  const low = new Float32Array(dim);
  const high = new Float32Array(dim);
  fillFlatBounds(space, low, high, 0);
  return new Box({ low, high });
}

function fillFlatBounds(
  space: AnySpace,
  low: Float32Array,
  high: Float32Array,
  offset: number,
): number {
  if (space instanceof Box) {
    low.set(space.low, offset);
    high.set(space.high, offset);
    return offset + space.size;
  }
  if (space instanceof Text) {
    high.fill(space.characters.length, offset, offset + space.maxLength);
    return offset + space.maxLength;
  }
  if (space instanceof Dict) {
    for (const key of space.keys) offset = fillFlatBounds(space.subspace(key), low, high, offset);
    return offset;
  }
  if (space instanceof Tuple) {
    for (const s of space.subspaces) offset = fillFlatBounds(s, low, high, offset);
    return offset;
  }
  const dim = flatdim(space); // one-hot and binary parts: [0, 1]
  high.fill(1, offset, offset + dim);
  return offset + dim;
}

function oneHotIndex(flat: Float32Array, offset: number, n: number): number {
  let index = -1;
  for (let i = 0; i < n; i++) {
    const v = flat[offset + i]!;
    if (v === 1 && index < 0) index = i;
    else if (v !== 0) index = -2;
  }
  if (index < 0) {
    throw new InvalidValueError(
      'one-hot block',
      formatValue(flat.subarray(offset, offset + n)),
      `exactly one 1 among ${n} values, the rest 0`,
    );
  }
  return index;
}

/** Uniform over the allowed values of `start..start+n-1`; `start` when the mask allows none (Gymnasium). */
function sampleMasked(rng: Rng, n: number, start: number, mask: Uint8Array, what: string): number {
  checkMask(mask, n, what);
  let count = 0;
  for (let i = 0; i < n; i++) if (mask[i] === 1) count++;
  if (count === 0) return start;
  let k = rng.integer(count);
  for (let i = 0; i < n; i++) {
    if (mask[i] === 1 && k-- === 0) return start + i;
  }
  return start; // unreachable: k < count
}

function checkMask(mask: unknown, n: number, what: string): asserts mask is Uint8Array {
  if (!(mask instanceof Uint8Array) || mask.length !== n || mask.some((m) => m > 1)) {
    throw new InvalidValueError(what, formatValue(mask), `a Uint8Array of ${n} values in {0, 1}`);
  }
}

function boundArray(bound: number | ArrayLike<number>, size: number, name: string): Float32Array {
  if (typeof bound === 'number') {
    if (Number.isNaN(bound))
      throw new InvalidSpaceError(`Box: expected ${name} a number, received NaN`);
    return new Float32Array(size).fill(bound);
  }
  if (bound.length !== size)
    throw new InvalidSpaceError(
      `Box: expected ${name} of length ${size}, received length ${bound.length}`,
    );
  const out = Float32Array.from(bound);
  const nan = out.findIndex((v) => Number.isNaN(v));
  if (nan >= 0)
    throw new InvalidSpaceError(
      `Box: expected ${name} without NaN, received NaN at ${name}[${nan}]`,
    );
  return out;
}

function formatBound(values: Float32Array): string {
  const first = values[0]!;
  if (values.every((v) => v === first) && values.length > 1) return formatValue(first);
  return `[${Array.from(values, (v) => formatValue(v)).join(', ')}]`;
}

function toJsonNumber(x: number): JsonNumber {
  return x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x;
}

function fromJsonNumber(x: JsonNumber): number {
  return x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x;
}

/** The type of `x` with its article ("an Array", "a string"); plain `undefined` and `null`. */
function aTypeName(x: unknown): string {
  if (x === undefined || x === null) return String(x);
  const name = typeName(x);
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'Array';
  if (typeof x === 'object') return x.constructor.name;
  return typeof x;
}
