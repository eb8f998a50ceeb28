/**
 * FrameStack: the last `stackSize` observations as one, as Gymnasium 1.0's
 * `FrameStackObservation`. Box observations are stacked on a new leading axis (a Float32Array of
 * `stackSize × size`, oldest first); other spaces as {@link batchSpace} batches them.
 *
 * @example
 * const env = new FrameStack(make('CartPole-v1'), 4);
 * env.observationSpace; // Box of shape [4, 4]
 */
import { InvalidOptionError, InvalidStateError } from '../errors.js';
import {
  ObservationWrapper,
  type Env,
  type JsonValue,
  type ResetArgs,
  type ResetResult,
} from '../env.js';
import {
  Box,
  Dict,
  Discrete,
  MultiBinary,
  MultiDiscrete,
  Text,
  Tuple,
  type AnySpace,
  type Space,
} from '../space.js';
import { batchCodec, batchSpace, type Batched, type BatchCodec } from '../vector.js';

/** Options of {@link FrameStack}. */
export interface FrameStackOptions {
  /**
   * What fills the stack after a reset: `reset` repeats the first observation, `zero` uses the
   * space's zero (0 clipped into a Box's bounds, `start` of a Discrete, …). @defaultValue 'reset'
   */
  padding?: 'reset' | 'zero';
}

/**
 * Stacks the last `stackSize` observations, oldest first; after a reset the older slots hold the
 * padding. The returned stack is a fresh value. Snapshots include the frames.
 */
export class FrameStack<O, A> extends ObservationWrapper<Batched<O>, A, O> {
  /** Number of observations stacked. */
  readonly stackSize: number;
  /** What fills the stack after a reset. */
  readonly padding: 'reset' | 'zero';
  private readonly outerSpace: Space<Batched<O>, unknown>;
  private readonly codec: BatchCodec;
  private frames: O[] = [];

  /** @throws {@link InvalidOptionError} for a stackSize that is not a positive integer or an unknown padding. */
  constructor(env: Env<O, A>, stackSize: number, options: FrameStackOptions = {}) {
    super(env);
    if (!Number.isSafeInteger(stackSize) || stackSize < 1) {
      throw new InvalidOptionError('stackSize of FrameStack', stackSize, 'a positive integer');
    }
    const padding: unknown = options.padding ?? 'reset';
    if (padding !== 'reset' && padding !== 'zero') {
      throw new InvalidOptionError('options.padding of FrameStack', padding, '"reset" or "zero"');
    }
    this.stackSize = stackSize;
    this.padding = padding;
    this.outerSpace = batchSpace(env.observationSpace, stackSize) as Space<Batched<O>, unknown>;
    this.codec = batchCodec(env.observationSpace);
  }

  override get observationSpace(): Space<Batched<O>, unknown> {
    return this.outerSpace;
  }

  override reset(args?: ResetArgs): ResetResult<Batched<O>> {
    const { observation, info } = this.env.reset(args);
    const pad =
      this.padding === 'reset' ? observation : (zeroValue(this.env.observationSpace) as O);
    this.frames = new Array<O>(this.stackSize - 1).fill(pad);
    return { observation: this.observation(observation), info };
  }

  /** Pushes the observation (dropping the oldest) and returns the stack. */
  observation(observation: O): Batched<O> {
    this.frames.push(observation);
    if (this.frames.length > this.stackSize) this.frames.shift();
    const stack = this.codec.create(this.stackSize);
    // Before the first reset (a raw env stepped directly), the missing older frames are the padding.
    const missing = this.stackSize - this.frames.length;
    const fill =
      missing > 0
        ? this.padding === 'reset'
          ? this.frames[0]!
          : (zeroValue(this.env.observationSpace) as O)
        : undefined;
    for (let i = 0; i < this.stackSize; i++) {
      const frame = i < missing ? fill : this.frames[i - missing];
      this.codec.write(stack, i, this.codec.kind === 'items' ? structuredClone(frame) : frame);
    }
    return stack as Batched<O>;
  }

  protected override saveWrapperState(): JsonValue {
    const space = this.env.observationSpace;
    return { frames: this.frames.map((f) => valueToJSON(space, f)) };
  }

  protected override checkWrapperState(state: JsonValue): void {
    this.readFrames(state);
  }

  protected override loadWrapperState(state: JsonValue): void {
    this.frames = this.readFrames(state);
  }

  private readFrames(state: JsonValue): O[] {
    const s = state as { frames?: unknown } | null;
    const space = this.env.observationSpace;
    const expected = `{frames: at most ${this.stackSize} observations of ${String(space)}} from getState()`;
    if (
      typeof s !== 'object' ||
      s === null ||
      !Array.isArray(s.frames) ||
      s.frames.length > this.stackSize
    ) {
      throw new InvalidStateError('FrameStack', expected, state);
    }
    return s.frames.map((f) => {
      const value = valueFromJSON(space, f);
      if (!space.contains(value)) throw new InvalidStateError('FrameStack', expected, state);
      return value;
    });
  }
}

/** The "zero" of a space, as Gymnasium's `create_zero_array`: 0 clipped into a Box, the starts, the shortest text. */
export function zeroValue(space: AnySpace): unknown {
  if (space instanceof Box)
    return Float32Array.from(space.low, (lo, i) => Math.min(space.high[i]!, Math.max(lo, 0)));
  if (space instanceof Discrete) return space.start;
  if (space instanceof MultiDiscrete) return Int32Array.from(space.start);
  if (space instanceof MultiBinary) return new Uint8Array(space.size);
  if (space instanceof Text) return space.characters[0]!.repeat(space.minLength);
  if (space instanceof Dict)
    return Object.fromEntries(space.keys.map((k) => [k, zeroValue(subspace(space, k))]));
  if (space instanceof Tuple) return (space.spaces as readonly AnySpace[]).map(zeroValue);
  throw new InvalidOptionError('space', String(space), 'a wmgym space');
}

function valueToJSON(space: AnySpace, value: unknown): JsonValue {
  if (space instanceof Box)
    return Array.from(value as Float32Array, (v) =>
      v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v,
    );
  if (space instanceof MultiDiscrete || space instanceof MultiBinary)
    return Array.from(value as Int32Array | Uint8Array);
  if (space instanceof Dict) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      space.keys.map((k) => [k, valueToJSON(subspace(space, k), record[k])]),
    );
  }
  if (space instanceof Tuple)
    return (space.spaces as readonly AnySpace[]).map((s, i) =>
      valueToJSON(s, (value as unknown[])[i]),
    );
  return value as JsonValue; // Discrete (number), Text (string)
}

function valueFromJSON(space: AnySpace, json: unknown): unknown {
  const numbers = (j: unknown): j is unknown[] => Array.isArray(j);
  if (space instanceof Box) {
    if (!numbers(json)) return undefined;
    return Float32Array.from(json, (v) =>
      v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : typeof v === 'number' ? v : NaN,
    );
  }
  if (space instanceof MultiDiscrete)
    return numbers(json) && json.every((v) => Number.isSafeInteger(v))
      ? Int32Array.from(json as number[])
      : undefined;
  if (space instanceof MultiBinary)
    return numbers(json) && json.every((v) => v === 0 || v === 1)
      ? Uint8Array.from(json as number[])
      : undefined;
  if (space instanceof Dict) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
    const record = json as Record<string, unknown>;
    return Object.fromEntries(
      space.keys.map((k) => [k, valueFromJSON(subspace(space, k), record[k])]),
    );
  }
  if (space instanceof Tuple) {
    if (!numbers(json)) return undefined;
    return (space.spaces as readonly AnySpace[]).map((s, i) => valueFromJSON(s, json[i]));
  }
  return json;
}

function subspace(space: AnySpace, key: string): AnySpace {
  return (space as unknown as { spaces: Readonly<Record<string, AnySpace>> }).spaces[key]!;
}
