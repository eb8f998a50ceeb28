/**
 * NumPy's `SeedSequence` and `PCG64` (XSL-RR 128/64), ported so that `reset({seed})` draws the same
 * start states as Gymnasium, whose `np_random(seed)` is `Generator(PCG64(SeedSequence(seed)))`.
 * Resets only: BigInt arithmetic is exact but slow, so hot paths use the seedrandom generator.
 *
 * @see https://numpy.org/doc/stable/reference/random/bit_generators/pcg64.html
 */

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;
const MASK128 = (1n << 128n) - 1n;
/** PCG_DEFAULT_MULTIPLIER_128 */
const PCG_MULTIPLIER = (2549297995355413924n << 64n) + 4865540595714422341n;

// SeedSequence constants (numpy/random/bit_generator.pyx).
const POOL_SIZE = 4;
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;

/** NumPy's `SeedSequence(entropy)` for a non-negative integer entropy and no spawn key. */
export class SeedSequence {
  private readonly pool = new Uint32Array(POOL_SIZE);

  constructor(entropy: number | bigint) {
    const words = intToUint32Words(BigInt(entropy));
    const hashConst = { value: INIT_A };
    for (let i = 0; i < POOL_SIZE; i++) {
      this.pool[i] = hashmix(i < words.length ? words[i]! : 0, hashConst);
    }
    for (let src = 0; src < POOL_SIZE; src++) {
      for (let dst = 0; dst < POOL_SIZE; dst++) {
        if (src !== dst) this.pool[dst] = mix(this.pool[dst]!, hashmix(this.pool[src]!, hashConst));
      }
    }
    for (let src = POOL_SIZE; src < words.length; src++) {
      for (let dst = 0; dst < POOL_SIZE; dst++) {
        this.pool[dst] = mix(this.pool[dst]!, hashmix(words[src]!, hashConst));
      }
    }
  }

  /** `generate_state(nWords, uint32)`. */
  generateState(nWords: number): Uint32Array {
    const out = new Uint32Array(nWords);
    let hashConst = INIT_B;
    for (let i = 0; i < nWords; i++) {
      let value = this.pool[i % POOL_SIZE]!;
      value = (value ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_B) >>> 0;
      value = Math.imul(value, hashConst) >>> 0;
      value = (value ^ (value >>> XSHIFT)) >>> 0;
      out[i] = value;
    }
    return out;
  }

  /** `generate_state(nWords, uint64)`: pairs of uint32 words, little end first. */
  generateState64(nWords: number): bigint[] {
    const words = this.generateState(nWords * 2);
    const out: bigint[] = [];
    for (let i = 0; i < nWords; i++) {
      out.push((BigInt(words[2 * i + 1]!) << 32n) | BigInt(words[2 * i]!));
    }
    return out;
  }
}

/** Serialisable state of a {@link Pcg64}: 128-bit state and increment as hex strings. */
export interface Pcg64State {
  /** The 128-bit LCG state, hex. */
  state: string;
  /** The 128-bit (odd) increment, hex. */
  inc: string;
}

/** NumPy's PCG64 bit generator (the XSL-RR output function, not PCG64DXSM). */
export class Pcg64 {
  private state = 0n;
  private inc = 1n;

  /** Seeds as `np.random.PCG64(SeedSequence(seed))` does. */
  static fromSeed(seed: number | bigint): Pcg64 {
    const [s0, s1, i0, i1] = new SeedSequence(seed).generateState64(4) as [
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    const generator = new Pcg64();
    generator.seedWith((s0 << 64n) | s1, (i0 << 64n) | i1);
    return generator;
  }

  /** Restores a generator from {@link Pcg64.getState}. */
  static fromState(saved: Pcg64State): Pcg64 {
    const generator = new Pcg64();
    generator.setState(saved);
    return generator;
  }

  /** Next raw 64-bit output. */
  nextUint64(): bigint {
    this.state = (this.state * PCG_MULTIPLIER + this.inc) & MASK128;
    const rot = Number(this.state >> 122n);
    const xored = ((this.state >> 64n) ^ this.state) & MASK64;
    return ((xored >> BigInt(rot)) | (xored << BigInt((64 - rot) & 63))) & MASK64;
  }

  /** `random()`: (next_u64 >> 11) * 2^-53, a double in [0, 1). */
  nextDouble(): number {
    return Number(this.nextUint64() >> 11n) * 2 ** -53;
  }

  /** The low half of a fresh 64-bit output (unlike NumPy's `next_uint32`, the high half is not kept for the next call). */
  nextUint32(): number {
    return Number(this.nextUint64() & MASK32);
  }

  /** The generator's state, as hex strings. */
  getState(): Pcg64State {
    return { state: this.state.toString(16), inc: this.inc.toString(16) };
  }

  /** Restores {@link Pcg64.getState}. */
  setState(saved: Pcg64State): void {
    this.state = BigInt(`0x${saved.state}`) & MASK128;
    this.inc = BigInt(`0x${saved.inc}`) & MASK128;
  }

  private seedWith(initState: bigint, initSeq: bigint): void {
    this.state = 0n;
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.nextUint64();
    this.state = (this.state + initState) & MASK128;
    this.nextUint64();
  }
}

function intToUint32Words(n: bigint): number[] {
  if (n === 0n) return [0];
  const words: number[] = [];
  while (n > 0n) {
    words.push(Number(n & MASK32));
    n >>= 32n;
  }
  return words;
}

function hashmix(value: number, hashConst: { value: number }): number {
  value = (value ^ hashConst.value) >>> 0;
  hashConst.value = Math.imul(hashConst.value, MULT_A) >>> 0;
  value = Math.imul(value, hashConst.value) >>> 0;
  return (value ^ (value >>> XSHIFT)) >>> 0;
}

function mix(x: number, y: number): number {
  let result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
  result = (result ^ (result >>> XSHIFT)) >>> 0;
  return result;
}
