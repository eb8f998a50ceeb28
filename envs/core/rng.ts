/**
 * Seeded random generator. The default stream is seedrandom's Alea (fast, 53-bit doubles, state
 * saveable); `Rng.numpy(seed)` is NumPy's PCG64 for the start states that must equal Gymnasium's.
 *
 * @example const rng = new Rng(42); rng.uniform(-1, 1); const saved = rng.getState(); Rng.fromState(saved);
 */
import seedrandom from 'seedrandom';
import { InvalidOptionError, InvalidStateError } from './errors.js';
import { Pcg64, type Pcg64State } from './pcg64.js';

/** Internal state of seedrandom's Alea generator. */
export interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/** A saved {@link Rng}, plain JSON. */
export type RngState =
  | { kind: 'alea'; seed: number; alea: AleaState; spare: number | null }
  | { kind: 'pcg64'; seed: number; pcg64: Pcg64State; spare: number | null };

/** The generator families an {@link Rng} can run on. */
export type RngKind = RngState['kind'];

interface BitSource {
  double(): number;
  uint32(): number;
  save(): AleaState | Pcg64State;
}

/** Seeded generator with uniform/normal/integer/choice/shuffle, whose state can be saved and restored. */
export class Rng {
  /** The seed this generator was created from (drawn from OS entropy when none was given). */
  readonly seed: number;
  /** Which generator family produces the stream. */
  readonly kind: RngKind;
  private source: BitSource;
  private spare: number | null = null;

  /** A seedrandom (Alea) generator; without a seed, one is drawn from OS entropy. */
  constructor(seed?: number, kind: RngKind = 'alea') {
    this.seed = seed === undefined ? entropySeed() : checkSeed(seed, 'seed');
    this.kind = kind;
    this.source =
      kind === 'pcg64' ? pcgSource(Pcg64.fromSeed(this.seed)) : aleaSource(this.seed, undefined);
  }

  /** NumPy's `default_rng(seed)` stream: `random()` and `uniform()` draw what NumPy draws (other methods are wmgym's own). */
  static numpy(seed?: number): Rng {
    return new Rng(seed, 'pcg64');
  }

  /** Restores a generator saved with {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0, state.kind);
    rng.setState(state);
    return rng;
  }

  /** A double in [0, 1) with 53 random bits. */
  random(): number {
    return this.source.double();
  }

  /** A uniform uint32. */
  uint32(): number {
    return this.source.uint32();
  }

  /** A double in [low, high), computed as `low + (high - low) * random()` (NumPy's order). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.source.double();
  }

  /** A normal sample (Marsaglia polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.source.double() - 1;
      v = 2 * this.source.double() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * factor;
    return mean + std * u * factor;
  }

  /** An exponential sample with the given rate. */
  exponential(rate = 1): number {
    return -Math.log(1 - this.source.double()) / rate;
  }

  /** An integer in [low, high) (exclusive high, as NumPy's `integers`); `integer(n)` is [0, n). */
  integer(low: number, high?: number): number {
    if (high === undefined) {
      high = low;
      low = 0;
    }
    const span = high - low;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(span) || span <= 0) {
      throw new InvalidOptionError('integer(low, high)', [low, high], 'integers with low < high');
    }
    if (span <= 0x100000000) {
      // Rejection sampling on uint32: unbiased for every span up to 2^32.
      const limit = 0x100000000 - (0x100000000 % span);
      let x = this.source.uint32();
      while (x >= limit) x = this.source.uint32();
      return low + (x % span);
    }
    return low + Math.floor(this.source.double() * span);
  }

  /** A uniformly chosen element. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0)
      throw new InvalidOptionError('choice(items)', items, 'a non-empty array');
    return items[this.integer(items.length)]!;
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** A new independent generator seeded from this one's stream. */
  spawn(): Rng {
    return new Rng(this.source.uint32(), this.kind);
  }

  /** The generator's full state, plain JSON. */
  getState(): RngState {
    const saved = this.source.save();
    return this.kind === 'pcg64'
      ? { kind: 'pcg64', seed: this.seed, pcg64: saved as Pcg64State, spare: this.spare }
      : { kind: 'alea', seed: this.seed, alea: saved as AleaState, spare: this.spare };
  }

  /** Restores the state from {@link Rng.getState}; a malformed one throws `InvalidStateError`. */
  setState(state: RngState): void {
    if (!isRngState(state)) {
      throw new InvalidStateError(
        'Rng',
        '{kind: "alea" | "pcg64", ...} from Rng.getState()',
        state,
      );
    }
    if (state.kind !== this.kind) {
      throw new InvalidStateError('Rng', `a ${this.kind} state`, `a ${state.kind} state`);
    }
    (this as { seed: number }).seed = state.seed;
    this.source =
      state.kind === 'pcg64' ? pcgSource(Pcg64.fromState(state.pcg64)) : aleaSource(0, state.alea);
    this.spare = state.spare;
  }
}

/** True if `value` has the shape of an {@link RngState}. */
export function isRngState(value: unknown): value is RngState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as {
    kind?: unknown;
    seed?: unknown;
    spare?: unknown;
    alea?: unknown;
    pcg64?: unknown;
  };
  if (typeof v.seed !== 'number' || !(v.spare === null || typeof v.spare === 'number'))
    return false;
  if (v.kind === 'alea') {
    const a = v.alea as Partial<Record<keyof AleaState, unknown>> | null | undefined;
    return (
      typeof a === 'object' &&
      a !== null &&
      typeof a.c === 'number' &&
      typeof a.s0 === 'number' &&
      typeof a.s1 === 'number' &&
      typeof a.s2 === 'number'
    );
  }
  if (v.kind === 'pcg64') {
    const p = v.pcg64 as Partial<Record<keyof Pcg64State, unknown>> | null | undefined;
    return (
      typeof p === 'object' &&
      p !== null &&
      typeof p.state === 'string' &&
      typeof p.inc === 'string' &&
      /^[0-9a-f]+$/i.test(p.state) &&
      /^[0-9a-f]+$/i.test(p.inc)
    );
  }
  return false;
}

/** Throws `InvalidOptionError` unless `seed` is a non-negative safe integer (Gymnasium's rule). */
export function checkSeed(seed: unknown, option = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidOptionError(option, seed, 'a non-negative integer');
  }
  return seed;
}

/** A seed drawn from OS entropy (what Gymnasium does for `reset()` without a seed on a fresh env). */
export function entropySeed(): number {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return words[0]! * 0x200000 + (words[1]! >>> 11);
}

function aleaSource(seed: number, state: AleaState | undefined): BitSource {
  const prng = seedrandom.alea(String(seed), { state: state ?? true }) as seedrandom.PRNG & {
    state(): AleaState;
  };
  return {
    double: () => prng.double(),
    uint32: () => prng.int32() >>> 0,
    save: () => prng.state(),
  };
}

function pcgSource(generator: Pcg64): BitSource {
  return {
    double: () => generator.nextDouble(),
    uint32: () => generator.nextUint32(),
    save: () => generator.getState(),
  };
}
