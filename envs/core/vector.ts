/**
 * Vector environments: `n` copies of an environment stepped as one, with batched spaces and
 * automatic resets, as Gymnasium 1.0's `gymnasium.vector`.
 *
 * - {@link SyncVectorEnv} steps its sub-environments one after the other in this thread.
 * - {@link AsyncVectorEnv} runs them in worker threads; observations, rewards and flags come back
 *   through shared typed arrays and `step()` stays synchronous (the main thread blocks on
 *   `Atomics.wait` until every worker is done).
 *
 * Autoreset (`metadata.autoresetMode`): in `next-step` mode (the default) the step after a
 * sub-environment ended resets it — its action is ignored, the observation returned is the reset
 * observation, the reward 0 and both flags false. In `same-step` mode the ending step resets at
 * once and returns the reset observation, with the final observation and info in
 * `info.finalObservation` / `info.finalInfo`.
 *
 * Text: `textView(i)` is sub-environment i's {@link TextView}, live — `describe()`, `commands()` and
 * `parseCommand(text)` are `callAt(i, ...)` calls, run in this thread by a SyncVectorEnv and in
 * the one worker holding sub-environment i by an AsyncVectorEnv (a round trip per call, nothing
 * carried in the infos, so agents that do not read text pay nothing).
 *
 * Batches: a Box batch is a Float32Array of `n × size` (row-major, env i at `i * size`), a Discrete
 * batch an Int32Array of n, MultiDiscrete an Int32Array of `n × dims`, MultiBinary a Uint8Array of
 * `n × size`; Text, Dict and Tuple batches are arrays of n values.
 *
 * @example
 * const vec = makeVec('CartPole-v1', 8);
 * let { observations } = vec.reset({ seed: 42 }); // sub-env i seeded with 42 + i
 * const { rewards, terminations } = vec.step(vec.actionSpace.sample()); // Int32Array(8) of actions
 * vec.close();
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import * as errorClasses from './errors.js';
import {
  AsyncCallError,
  ClosedEnvError,
  InvalidActionError,
  InvalidOptionError,
  InvalidSpaceError,
  InvalidStateError,
  InvalidValueError,
  ResetNeededError,
  formatValue,
} from './errors.js';
import type {
  AutoresetMode,
  Env,
  EnvMetadata,
  Info,
  JsonValue,
  RenderFrame,
  TextView,
} from './env.js';
import { make, type MakeOptions } from './registry.js';
import { checkSeed } from './rng.js';
import {
  Box,
  Dict,
  Discrete,
  MultiBinary,
  MultiDiscrete,
  Space,
  Text,
  Tuple,
  spaceFromJSON,
  type AnySpace,
  type SpaceJSON,
} from './space.js';

// ---------------------------------------------------------------------------------------------
// Batched values and spaces

/**
 * The batch of n values of a single space: Discrete → Int32Array, Box → Float32Array,
 * MultiDiscrete → Int32Array, MultiBinary → Uint8Array, anything else → an array of n values.
 */
export type Batched<T> = 0 extends 1 & T // T is any
  ? // eslint-disable-next-line @typescript-eslint/no-explicit-any
    any
  : [T] extends [number]
    ? Int32Array
    : [T] extends [Float32Array]
      ? Float32Array
      : [T] extends [Int32Array]
        ? Int32Array
        : [T] extends [Uint8Array]
          ? Uint8Array
          : T[];

/** The typed arrays batches of Box, Discrete, MultiDiscrete and MultiBinary values are. */
export type TypedBatch = Float32Array | Int32Array | Uint8Array;

/**
 * How the values of one space are laid out in a batch: a typed array with `size` numbers per
 * environment, or (`items`) an array of values. Used by the vector environments and FrameStack.
 * @internal
 */
export interface BatchCodec {
  /** Storage of a batch. */
  readonly kind: 'float32' | 'int32' | 'uint8' | 'items';
  /** Numbers per environment in a typed batch (1 for Discrete). */
  readonly size: number;
  /** A zero-filled batch of n values. */
  readonly create: (n: number) => TypedBatch | unknown[];
  /** Writes `value` as element i of `batch`. */
  readonly write: (batch: TypedBatch | unknown[], i: number, value: unknown) => void;
  /** Element i of `batch`, as a fresh value the caller owns (items are returned as stored). */
  readonly read: (batch: TypedBatch | unknown[], i: number) => unknown;
}

/** The layout of batches of `space` (see {@link BatchCodec}). @internal */
export function batchCodec(space: AnySpace): BatchCodec {
  if (space instanceof Discrete) {
    return {
      kind: 'int32',
      size: 1,
      create: (n) => new Int32Array(n),
      write: (batch, i, value) => {
        (batch as Int32Array)[i] = value as number;
      },
      read: (batch, i) => (batch as Int32Array)[i],
    };
  }
  if (space instanceof Box) return typedCodec('float32', space.size, Float32Array);
  if (space instanceof MultiDiscrete) return typedCodec('int32', space.nvec.length, Int32Array);
  if (space instanceof MultiBinary) return typedCodec('uint8', space.size, Uint8Array);
  return {
    kind: 'items',
    size: 1,
    create: (n) => new Array<unknown>(n).fill(undefined),
    write: (batch, i, value) => {
      (batch as unknown[])[i] = value;
    },
    read: (batch, i) => (batch as unknown[])[i],
  };
}

function typedCodec(
  kind: 'float32' | 'int32' | 'uint8',
  size: number,
  Ctor: new (n: number) => TypedBatch,
): BatchCodec {
  return {
    kind,
    size,
    create: (n) => new Ctor(n * size),
    write: (batch, i, value) => {
      const out = batch as TypedBatch;
      const v = value as TypedBatch;
      const offset = i * size;
      for (let k = 0; k < size; k++) out[offset + k] = v[k]!;
    },
    read: (batch, i) => (batch as TypedBatch).slice(i * size, (i + 1) * size),
  };
}

/**
 * The space of a batch of n values of `space`: Box → Box of shape `[n, ...shape]`, Discrete →
 * MultiDiscrete of n × [n] (same start), MultiDiscrete → MultiDiscrete with nvec tiled n times
 * (flat, env-major), MultiBinary → MultiBinary of shape `[n, ...shape]`, Text/Dict/Tuple → a
 * Tuple of n copies. The vector environments' `observationSpace` and `actionSpace` are these.
 * @throws {@link InvalidOptionError} unless n is a positive integer.
 */
export function batchSpace(space: AnySpace, n: number): AnySpace {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidOptionError('n', n, 'a positive integer');
  if (space instanceof Box) {
    return new Box({
      low: tile(space.low, n),
      high: tile(space.high, n),
      shape: [n, ...space.shape],
    });
  }
  if (space instanceof Discrete) {
    const last = space.start + space.n - 1;
    if (space.start < -0x80000000 || last > 0x7fffffff) {
      throw new InvalidSpaceError(
        `batchSpace: expected a Discrete space with values in the int32 range, received ${String(space)}`,
      );
    }
    return new MultiDiscrete(new Array<number>(n).fill(space.n), {
      start: new Array<number>(n).fill(space.start),
    });
  }
  if (space instanceof MultiDiscrete) {
    return new MultiDiscrete(tile(space.nvec, n), { start: tile(space.start, n) });
  }
  if (space instanceof MultiBinary) return new MultiBinary([n, ...space.shape]);
  if (space instanceof Text || space instanceof Dict || space instanceof Tuple) {
    const json = space.toJSON();
    return new Tuple(Array.from({ length: n }, () => spaceFromJSON(json)));
  }
  throw new InvalidSpaceError(`batchSpace: expected a wmgym space, received ${String(space)}`);
}

function tile(values: ArrayLike<number>, n: number): number[] {
  const out = new Array<number>(values.length * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < values.length; k++) out[i * values.length + k] = values[k]!;
  return out;
}

/**
 * The per-environment values of a batch, each a fresh value (typed batches are sliced).
 * `space` is the single space (a vector env's `singleObservationSpace`), not the batched one.
 * @throws {@link InvalidValueError} if `batch` is not a batch of `space`.
 * @example for (const obs of iterate(vec.singleObservationSpace, observations)) console.log(obs);
 */
export function* iterate<T>(
  space: Space<T, unknown>,
  batch: Batched<T> | readonly T[],
): Generator<T, void, undefined> {
  const codec = batchCodec(space);
  const n = batchLength(space, codec, batch);
  for (let i = 0; i < n; i++) yield codec.read(batch as TypedBatch | unknown[], i) as T;
}

/**
 * Packs per-environment values of `space` (the single space) into one batch, written into `out`
 * when given (which must be a batch of the same length).
 * @throws {@link InvalidValueError} for an item outside `space` or an `out` of the wrong type or length.
 */
export function concatenate<T>(
  space: Space<T, unknown>,
  items: readonly T[],
  out?: Batched<T>,
): Batched<T> {
  if (!Array.isArray(items)) {
    throw new InvalidValueError(
      'items to concatenate',
      formatValue(items),
      `an array of values of ${String(space)}`,
    );
  }
  const codec = batchCodec(space);
  let batch: TypedBatch | unknown[];
  if (out === undefined) batch = codec.create(items.length);
  else {
    batch = out;
    if (batchLength(space, codec, batch) !== items.length) {
      throw new InvalidValueError(
        'out of concatenate',
        `a batch of ${batchLength(space, codec, batch)} values`,
        `a batch of ${items.length} values of ${String(space)}`,
      );
    }
  }
  items.forEach((item, i) => {
    space.check(item, `item ${i} to concatenate`);
    codec.write(batch, i, item);
  });
  return batch as Batched<T>;
}

function batchLength(space: AnySpace, codec: BatchCodec, batch: unknown): number {
  const expected =
    codec.kind === 'float32'
      ? Float32Array
      : codec.kind === 'int32'
        ? Int32Array
        : codec.kind === 'uint8'
          ? Uint8Array
          : Array;
  if (
    !(batch instanceof expected) ||
    (codec.kind !== 'items' && (batch as TypedBatch).length % codec.size !== 0)
  ) {
    const allowed =
      codec.kind === 'items'
        ? `an array of values of ${String(space)}`
        : `a ${expected.name} whose length is a multiple of ${codec.size} (a batch of ${String(space)})`;
    throw new InvalidValueError('batch', formatValue(batch), allowed);
  }
  return codec.kind === 'items'
    ? (batch as unknown[]).length
    : (batch as TypedBatch).length / codec.size;
}

// ---------------------------------------------------------------------------------------------
// The vector environment contract

/** Static facts about a vector environment. */
export interface VectorEnvMetadata extends EnvMetadata {
  /** How a finished sub-environment is reset (see the module summary). */
  autoresetMode: AutoresetMode;
}

/** Arguments of a vector environment's `reset`. */
export interface VectorResetArgs {
  /** One seed (sub-env i gets `seed + i`) or one per sub-env (`undefined` entries continue their generator). */
  seed?: number | readonly (number | undefined)[];
  /** Passed to every sub-environment's `reset`. */
  options?: Record<string, unknown>;
}

/** What a vector environment's `reset` returns. */
export interface VectorResetResult<O> {
  /** The batch of first observations. */
  observations: Batched<O>;
  /** One info object per sub-environment. */
  infos: Info[];
}

/** What a vector environment's `step` returns; every array is fresh and owned by the caller. */
export interface VectorStepResult<O> {
  /** The batch of observations (in next-step mode, a final one where an episode just ended). */
  observations: Batched<O>;
  /** One reward per sub-environment (0 on a next-step autoreset step). */
  rewards: Float64Array;
  /** 1 where the sub-environment's episode terminated on this step. */
  terminations: Uint8Array;
  /** 1 where the sub-environment's episode was truncated on this step. */
  truncations: Uint8Array;
  /** One info object per sub-environment (`finalObservation`/`finalInfo` in same-step mode). */
  infos: Info[];
}

/** n sub-environments stepped as one; `O` and `A` are the single observation and action types. */
export interface VectorEnv<O = unknown, A = unknown> {
  /** Number of sub-environments. */
  readonly numEnvs: number;
  /** A name for messages, e.g. `SyncVectorEnv(CartPole-v1 x 8)`. */
  readonly id: string;
  /** The batched observation space ({@link batchSpace} of the single one). */
  readonly observationSpace: Space<Batched<O>, unknown>;
  /** The batched action space: `actionSpace.sample()` is a valid batch of actions. */
  readonly actionSpace: Space<Batched<A>, unknown>;
  /** The observation space of one sub-environment. */
  readonly singleObservationSpace: Space<O, unknown>;
  /** The action space of one sub-environment. */
  readonly singleActionSpace: Space<A, unknown>;
  /** The sub-environments' metadata plus the autoreset mode. */
  readonly metadata: VectorEnvMetadata;
  /** True after `close()`. */
  readonly closed: boolean;
  /** Resets every sub-environment; a seed `s` seeds sub-env i with `s + i`. */
  reset(args?: VectorResetArgs): VectorResetResult<O>;
  /** Steps every sub-environment with its action, resetting finished ones per the autoreset mode. */
  step(actions: Batched<A>): VectorStepResult<O>;
  /** Calls a method (or reads a property) on every sub-environment (or the first wrapper that has it). */
  call(name: string, ...args: unknown[]): unknown[];
  /**
   * {@link VectorEnv.call} on sub-environment `index` only (for an `AsyncVectorEnv`, only its
   * worker runs it; arguments and result must be structured-cloneable).
   * @throws {@link InvalidOptionError} for an index outside `0..numEnvs-1` or an unknown name.
   */
  callAt(index: number, name: string, ...args: unknown[]): unknown;
  /**
   * The text face of sub-environment `index`, live: each `describe()`, `commands()` and
   * `parseCommand(text)` is a {@link VectorEnv.callAt} on it (a round trip to the worker for an
   * `AsyncVectorEnv`), so it always answers for the sub-environment's current state, and a
   * `CommandParseError` thrown in a worker arrives as a `CommandParseError`.
   * @throws {@link InvalidOptionError} for an index outside `0..numEnvs-1`.
   */
  textView(index: number): TextView<A>;
  /** The frames of every sub-environment. */
  render(): (RenderFrame | undefined)[];
  /** A plain-JSON snapshot of every sub-environment and the pending autoresets. */
  getState(): JsonValue;
  /** Restores {@link VectorEnv.getState}; throws `InvalidStateError` (changing nothing) on a foreign state. */
  setState(state: JsonValue): void;
  /** Releases the sub-environments (and workers); calling it twice is harmless. */
  close(): void;
}

/** Options shared by both vector environments. */
export interface VectorEnvOptions {
  /** How finished sub-environments are reset. @defaultValue 'next-step' */
  autoresetMode?: AutoresetMode;
}

/** A registered id to build n times with `make(id, makeOptions)`. */
export interface VectorMakeSpec {
  /** The registered environment id. */
  id: string;
  /** Number of sub-environments. */
  n: number;
  /** Options passed to `make` for every sub-environment. @defaultValue {} */
  makeOptions?: MakeOptions & Record<string, unknown>;
}

/** The plain-JSON snapshot of a vector environment (what `getState()` returns). */
export interface VectorSnapshot {
  /** Number of sub-environments. */
  numEnvs: number;
  /** The autoreset mode of the vector environment that took it. */
  autoresetMode: AutoresetMode;
  /** Whether `reset()` had been called. */
  hasReset: boolean;
  /** Sub-environments whose reset is due on the next step (next-step mode). */
  pending: number[];
  /** Each sub-environment's `getState()`. */
  envs: JsonValue[];
}

/** The outputs a step writes, indexed by global sub-environment index. @internal */
export interface StepOutputs {
  observations: TypedBatch | unknown[];
  rewards: Float64Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  infos: Info[];
}

/**
 * A contiguous range of sub-environments and the autoreset logic, shared by SyncVectorEnv (all of
 * them) and each AsyncVectorEnv worker (its share), so both give the same trajectories.
 * @internal
 */
export class EnvGroup {
  /** The sub-environments, `envs[j]` being global index `first + j`. */
  readonly envs: readonly Env[];
  /** Global index of `envs[0]`. */
  readonly first: number;
  readonly mode: AutoresetMode;
  /** 1 where a reset is due on the next step (next-step mode). */
  readonly pending: Uint8Array;
  private readonly observationCodec: BatchCodec;
  private readonly actionCodec: BatchCodec;

  constructor(envs: readonly Env[], first: number, mode: AutoresetMode) {
    this.envs = envs;
    this.first = first;
    this.mode = mode;
    this.pending = new Uint8Array(envs.length);
    const env0 = envs[0]!;
    this.observationCodec = batchCodec(env0.observationSpace);
    this.actionCodec = batchCodec(env0.actionSpace);
  }

  /** Resets every sub-environment with its seed (local index) and the options. */
  reset(
    seeds: readonly (number | undefined)[],
    options: Record<string, unknown> | undefined,
    out: StepOutputs,
  ): void {
    const { envs, first } = this;
    for (let j = 0; j < envs.length; j++) {
      const seed = seeds[j];
      const args: { seed?: number; options?: Record<string, unknown> } = {};
      if (seed !== undefined) args.seed = seed;
      if (options !== undefined) args.options = options;
      const result = envs[j]!.reset(args);
      this.observationCodec.write(out.observations, first + j, result.observation);
      out.infos[first + j] = result.info;
    }
    this.pending.fill(0);
  }

  /** Steps every sub-environment with its action from the batch `actions` (global indices). */
  step(actions: TypedBatch | unknown[], out: StepOutputs): void {
    const { envs, first, pending } = this;
    const write = this.observationCodec.write;
    const sameStep = this.mode === 'same-step';
    for (let j = 0; j < envs.length; j++) {
      const i = first + j;
      const env = envs[j]!;
      if (pending[j] === 1) {
        const { observation, info } = env.reset();
        write(out.observations, i, observation);
        out.infos[i] = info;
        pending[j] = 0;
        continue; // reward 0, flags 0: the arrays start zeroed
      }
      const result = env.step(this.actionCodec.read(actions, i));
      out.rewards[i] = result.reward;
      if (result.terminated) out.terminations[i] = 1;
      if (result.truncated) out.truncations[i] = 1;
      if (!(result.terminated || result.truncated)) {
        write(out.observations, i, result.observation);
        out.infos[i] = result.info;
      } else if (sameStep) {
        const reset = env.reset();
        write(out.observations, i, reset.observation);
        out.infos[i] = {
          ...reset.info,
          finalObservation: result.observation,
          finalInfo: result.info,
        };
      } else {
        write(out.observations, i, result.observation);
        out.infos[i] = result.info;
        pending[j] = 1;
      }
    }
  }

  /** Snapshots of the sub-environments and the local indices of pending resets. */
  getState(): { envs: JsonValue[]; pending: number[] } {
    const pending: number[] = [];
    this.pending.forEach((p, j) => {
      if (p === 1) pending.push(j);
    });
    return { envs: this.envs.map((env) => env.getState()), pending };
  }

  /** Restores every sub-environment, or none: on an error the ones already restored are rolled back. */
  setState(states: readonly JsonValue[], pending: readonly number[]): void {
    const backups = this.envs.map((env) => env.getState());
    let j = 0;
    try {
      for (; j < this.envs.length; j++) this.envs[j]!.setState(states[j]!);
    } catch (error) {
      for (let k = 0; k < j; k++) this.envs[k]!.setState(backups[k]!);
      throw error;
    }
    this.pending.fill(0);
    for (const k of pending) this.pending[k] = 1;
  }

  /** `name` called (or read) on every sub-environment, or on those at the local `indices`. */
  call(name: string, args: readonly unknown[], indices?: readonly number[]): unknown[] {
    if (indices === undefined) return this.envs.map((env) => callOn(env, name, args));
    return indices.map((j) => callOn(this.envs[j]!, name, args));
  }
}

function callOn(env: Env, name: string, args: readonly unknown[]): unknown {
  let target: unknown = env;
  while (typeof target === 'object' && target !== null) {
    if (name in target) {
      const value = (target as Record<string, unknown>)[name];
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).apply(target, [...args])
        : value;
    }
    target = (target as { env?: unknown }).env;
  }
  throw new InvalidOptionError(
    'call(name)',
    name,
    `a method or property of the sub-environments (or of a wrapper around them), e.g. "render"`,
  );
}

/** What both vector environments share: argument checks, the snapshot format, the closed state. */
export abstract class BaseVectorEnv<O, A> implements VectorEnv<O, A> {
  abstract readonly numEnvs: number;
  abstract readonly id: string;
  abstract readonly observationSpace: Space<Batched<O>, unknown>;
  abstract readonly actionSpace: Space<Batched<A>, unknown>;
  abstract readonly singleObservationSpace: Space<O, unknown>;
  abstract readonly singleActionSpace: Space<A, unknown>;
  abstract readonly metadata: VectorEnvMetadata;
  protected isClosed = false;
  protected hasReset = false;

  get closed(): boolean {
    return this.isClosed;
  }

  abstract reset(args?: VectorResetArgs): VectorResetResult<O>;
  abstract step(actions: Batched<A>): VectorStepResult<O>;
  abstract call(name: string, ...args: unknown[]): unknown[];
  abstract callAt(index: number, name: string, ...args: unknown[]): unknown;
  abstract getState(): JsonValue;
  abstract setState(state: JsonValue): void;
  abstract close(): void;

  render(): (RenderFrame | undefined)[] {
    return this.call('render') as (RenderFrame | undefined)[];
  }

  textView(index: number): TextView<A> {
    this.checkIndex(index, 'textView(index)');
    return {
      describe: () => this.callAt(index, 'describe') as string,
      commands: () => this.callAt(index, 'commands') as string[],
      parseCommand: (text: string) => this.callAt(index, 'parseCommand', text) as A,
    };
  }

  /** Throws `InvalidOptionError` unless `index` names a sub-environment. */
  protected checkIndex(index: unknown, option: string): asserts index is number {
    if (
      typeof index !== 'number' ||
      !Number.isSafeInteger(index) ||
      index < 0 ||
      index >= this.numEnvs
    ) {
      throw new InvalidOptionError(option, index, `an integer in 0..${this.numEnvs - 1}`);
    }
  }

  /** Throws `ClosedEnvError` after `close()`. */
  protected ensureOpen(method: string): void {
    if (this.isClosed) throw new ClosedEnvError(this.id, method);
  }

  /** Throws `ResetNeededError` before the first `reset()`. */
  protected ensureReset(method: string): void {
    if (!this.hasReset) throw new ResetNeededError(this.id, 'before-reset', method);
  }

  /** Per-sub-env seeds from `reset({seed})`. */
  protected seedsOf(seed: VectorResetArgs['seed']): (number | undefined)[] {
    const n = this.numEnvs;
    if (seed === undefined) return new Array<undefined>(n).fill(undefined);
    if (typeof seed === 'number') {
      const base = checkSeed(seed, 'reset({seed})');
      // base + (n - 1), not base + n - 1: near 2^53 the latter rounds back into the safe range.
      checkSeed(base + (n - 1), `reset({seed}) (seed + ${n - 1} for the last sub-environment)`);
      return Array.from({ length: n }, (_, i) => base + i);
    }
    if (!Array.isArray(seed) || seed.length !== n) {
      throw new InvalidOptionError(
        'reset({seed})',
        seed,
        `a non-negative integer or an array of ${n} of them (or undefined)`,
      );
    }
    return seed.map((s, i) => (s === undefined ? undefined : checkSeed(s, `reset({seed})[${i}]`)));
  }

  /** The reset options, checked to be a plain object (or undefined). */
  protected checkOptions(options: unknown): Record<string, unknown> | undefined {
    if (options === undefined) return undefined;
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidOptionError('reset({options})', options, 'a plain object');
    }
    return options as Record<string, unknown>;
  }

  /** Throws `InvalidActionError` unless `actions` is in the batched action space. */
  protected checkActions(actions: unknown): void {
    this.actionSpace.check(actions, `actions for ${this.id}`, InvalidActionError);
  }

  /** Builds a {@link VectorSnapshot}. */
  protected snapshot(envs: JsonValue[], pending: number[]): JsonValue {
    const s: VectorSnapshot = {
      numEnvs: this.numEnvs,
      autoresetMode: this.metadata.autoresetMode,
      hasReset: this.hasReset,
      pending,
      envs,
    };
    return s as unknown as JsonValue;
  }

  /** Checks the outer format of a snapshot (the sub-environments check their own parts). */
  protected readSnapshot(state: JsonValue): VectorSnapshot {
    const s = state as Partial<VectorSnapshot> | null;
    const n = this.numEnvs;
    const expected = `{numEnvs: ${n}, autoresetMode: "${this.metadata.autoresetMode}", hasReset, pending, envs: ${n} snapshots} from getState()`;
    if (
      typeof s !== 'object' ||
      s === null ||
      Array.isArray(s) ||
      s.numEnvs !== n ||
      s.autoresetMode !== this.metadata.autoresetMode ||
      typeof s.hasReset !== 'boolean' ||
      !Array.isArray(s.envs) ||
      s.envs.length !== n ||
      !Array.isArray(s.pending) ||
      !s.pending.every((p) => Number.isSafeInteger(p) && p >= 0 && p < n)
    ) {
      throw new InvalidStateError(this.id, expected, state);
    }
    return s as VectorSnapshot;
  }

  /** @internal */
  protected newOutputs(observations: TypedBatch | unknown[]): StepOutputs {
    const n = this.numEnvs;
    return {
      observations,
      rewards: new Float64Array(n),
      terminations: new Uint8Array(n),
      truncations: new Uint8Array(n),
      infos: new Array<Info>(n),
    };
  }
}

function resolveMode(options: VectorEnvOptions): AutoresetMode {
  const mode: unknown = options.autoresetMode ?? 'next-step';
  if (mode !== 'next-step' && mode !== 'same-step') {
    throw new InvalidOptionError('options.autoresetMode', mode, '"next-step" or "same-step"');
  }
  return mode;
}

function checkMakeSpec(spec: VectorMakeSpec): void {
  if (typeof spec.id !== 'string')
    throw new InvalidOptionError('id', spec.id, 'a registered environment id');
  if (!Number.isSafeInteger(spec.n) || spec.n < 1)
    throw new InvalidOptionError('n', spec.n, 'a positive integer');
  const options: unknown = spec.makeOptions;
  if (
    options !== undefined &&
    (typeof options !== 'object' || options === null || Array.isArray(options))
  ) {
    throw new InvalidOptionError('makeOptions', options, 'a plain object of make() options');
  }
}

function checkSameSpaces(
  id: string,
  spaces: readonly { observation: SpaceJSON; action: SpaceJSON }[],
): void {
  const first = spaces[0]!;
  const firstText = JSON.stringify(first);
  spaces.forEach((s, i) => {
    if (JSON.stringify(s) !== firstText) {
      throw new InvalidOptionError(
        `sub-environment ${i} of ${id}`,
        `observation ${String(spaceFromJSON(s.observation))}, action ${String(spaceFromJSON(s.action))}`,
        `the spaces of sub-environment 0: observation ${String(spaceFromJSON(first.observation))}, action ${String(spaceFromJSON(first.action))}`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// SyncVectorEnv

/**
 * n sub-environments stepped one after the other in this thread. Built from factories (any
 * environment, wrapped as you like) or from a registered id.
 * @example
 * const vec = new SyncVectorEnv({ id: 'CartPole-v1', n: 4 });
 * const vec2 = new SyncVectorEnv([() => new ClipAction(make('Pendulum-v1')), () => new ClipAction(make('Pendulum-v1'))]);
 */
export class SyncVectorEnv<O = unknown, A = unknown> extends BaseVectorEnv<O, A> {
  readonly numEnvs: number;
  readonly id: string;
  readonly observationSpace: Space<Batched<O>, unknown>;
  readonly actionSpace: Space<Batched<A>, unknown>;
  readonly singleObservationSpace: Space<O, unknown>;
  readonly singleActionSpace: Space<A, unknown>;
  readonly metadata: VectorEnvMetadata;
  /** The sub-environments. */
  readonly envs: readonly Env<O, A>[];
  private readonly group: EnvGroup;
  private readonly observationCodec: BatchCodec;

  /**
   * @throws {@link InvalidOptionError} for no factories, a factory that does not return an
   * environment, sub-environments with different spaces, or a bad autoreset mode.
   */
  constructor(
    source: readonly (() => Env<O, A>)[] | VectorMakeSpec,
    options: VectorEnvOptions = {},
  ) {
    super();
    const mode = resolveMode(options);
    let envs: Env<O, A>[];
    if (Array.isArray(source)) {
      const factories = source as readonly (() => Env<O, A>)[];
      if (factories.length === 0)
        throw new InvalidOptionError('envFns', factories, 'at least one environment factory');
      envs = factories.map((factory, i) => {
        if (typeof factory !== 'function')
          throw new InvalidOptionError(`envFns[${i}]`, factory, 'a function () => Env');
        const env = factory();
        if (
          typeof env !== 'object' ||
          !(env.observationSpace instanceof Space) ||
          !(env.actionSpace instanceof Space)
        ) {
          throw new InvalidOptionError(
            `envFns[${i}]()`,
            env,
            'an environment with observationSpace and actionSpace',
          );
        }
        return env;
      });
    } else {
      const spec = source as VectorMakeSpec;
      checkMakeSpec(spec);
      envs = Array.from({ length: spec.n }, () => make<O, A>(spec.id, spec.makeOptions ?? {}));
    }
    const name = envs[0]!.spec?.id ?? envs[0]!.unwrapped.constructor.name;
    this.id = `SyncVectorEnv(${name} x ${envs.length})`;
    try {
      checkSameSpaces(
        this.id,
        envs.map((e) => ({
          observation: e.observationSpace.toJSON(),
          action: e.actionSpace.toJSON(),
        })),
      );
    } catch (error) {
      for (const env of envs) env.close();
      throw error;
    }
    this.envs = envs;
    this.numEnvs = envs.length;
    this.singleObservationSpace = envs[0]!.observationSpace;
    this.singleActionSpace = envs[0]!.actionSpace;
    this.observationSpace = batchSpace(this.singleObservationSpace, this.numEnvs) as Space<
      Batched<O>,
      unknown
    >;
    this.actionSpace = batchSpace(this.singleActionSpace, this.numEnvs) as Space<
      Batched<A>,
      unknown
    >;
    this.metadata = Object.freeze({ ...envs[0]!.metadata, autoresetMode: mode });
    this.group = new EnvGroup(envs, 0, mode);
    this.observationCodec = batchCodec(this.singleObservationSpace);
  }

  /**
   * @throws {@link InvalidOptionError} for a bad seed (or seed array) or options.
   * @throws {@link ClosedEnvError} after `close()`.
   */
  reset({ seed, options }: VectorResetArgs = {}): VectorResetResult<O> {
    this.ensureOpen('reset');
    const seeds = this.seedsOf(seed);
    const resetOptions = this.checkOptions(options);
    const out = this.newOutputs(this.observationCodec.create(this.numEnvs));
    this.group.reset(seeds, resetOptions, out);
    this.hasReset = true;
    return { observations: out.observations as Batched<O>, infos: out.infos };
  }

  /**
   * @throws {@link InvalidActionError} (before any sub-environment steps) unless `actions` is in `actionSpace`.
   * @throws {@link ResetNeededError} before the first `reset`; {@link ClosedEnvError} after `close()`.
   */
  step(actions: Batched<A>): VectorStepResult<O> {
    this.ensureOpen('step');
    this.ensureReset('step');
    this.checkActions(actions);
    const out = this.newOutputs(this.observationCodec.create(this.numEnvs));
    this.group.step(actions, out);
    return out as VectorStepResult<O>;
  }

  call(name: string, ...args: unknown[]): unknown[] {
    this.ensureOpen('call');
    return this.group.call(name, args);
  }

  callAt(index: number, name: string, ...args: unknown[]): unknown {
    this.ensureOpen('callAt');
    this.checkIndex(index, 'callAt(index)');
    return this.group.call(name, args, [index])[0];
  }

  getState(): JsonValue {
    this.ensureOpen('getState');
    const { envs, pending } = this.group.getState();
    return this.snapshot(envs, pending);
  }

  setState(state: JsonValue): void {
    this.ensureOpen('setState');
    const s = this.readSnapshot(state);
    this.group.setState(s.envs, s.pending);
    this.hasReset = s.hasReset;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const env of this.envs) env.close();
  }
}

// ---------------------------------------------------------------------------------------------
// AsyncVectorEnv: protocol shared with vector-worker.ts

/** Commands the main thread sends a worker (in `control[2w]`). @internal */
export const COMMAND = Object.freeze({
  idle: 0,
  init: 1,
  reset: 2,
  step: 3,
  getState: 4,
  setState: 5,
  call: 6,
  close: 7,
});

/** What a worker answers (in `control[2w + 1]`). @internal */
export const STATUS = Object.freeze({
  busy: 0,
  ok: 1,
  /** Done; a reply message is waiting on the port. */
  message: 2,
  /** Failed; the error is waiting on the port. */
  error: 3,
});

/** What a worker is started with. @internal */
export interface WorkerSetup {
  control: SharedArrayBuffer;
  port: MessagePort;
  worker: number;
  first: number;
  count: number;
  numEnvs: number;
  id: string;
  makeOptions: Record<string, unknown>;
  modules: string[];
  autoresetMode: AutoresetMode;
}

/** The shared arrays, sent once the spaces are known. @internal */
export interface WorkerBuffers {
  observations: SharedArrayBuffer | null;
  actions: SharedArrayBuffer | null;
  rewards: SharedArrayBuffer;
  terminations: SharedArrayBuffer;
  truncations: SharedArrayBuffer;
}

/** A worker's first message: its sub-environments' spaces and metadata. @internal */
export interface WorkerReady {
  observationSpace: SpaceJSON;
  actionSpace: SpaceJSON;
  metadata: EnvMetadata;
  envId: string;
}

/** An error as it crosses threads. @internal */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  fields: Record<string, unknown>;
}

/** Flattens an error into structured-cloneable parts (own fields such as `received` and `code` kept). @internal */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error))
    return { name: 'Error', message: String(error), stack: undefined, fields: {} };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    try {
      fields[key] = structuredClone(value);
    } catch {
      fields[key] = String(value);
    }
  }
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

/** Rebuilds a serialized error as an instance of the same wmgym (or built-in) error class. @internal */
export function reviveError(serialized: SerializedError, where: string): Error {
  const classes = errorClasses as unknown as Record<string, unknown>;
  const builtins = globalThis as unknown as Record<string, unknown>;
  const candidate = classes[serialized.name] ?? builtins[serialized.name];
  const Ctor =
    typeof candidate === 'function' &&
    (candidate === Error || (candidate as { prototype: unknown }).prototype instanceof Error)
      ? (candidate as new (...args: unknown[]) => Error)
      : Error;
  const error: Error = Reflect.construct(Error, [serialized.message], Ctor);
  Object.defineProperty(error, 'name', {
    value: serialized.name,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  Object.assign(error, serialized.fields);
  error.stack = `${serialized.stack ?? `${serialized.name}: ${serialized.message}`}\n    at (${where})`;
  return error;
}

// ---------------------------------------------------------------------------------------------
// AsyncVectorEnv

/** Options of {@link AsyncVectorEnv}. */
export interface AsyncVectorEnvOptions extends VectorEnvOptions {
  /**
   * Modules each worker imports before `make` (after `envs/index.js`), so ids they register can be
   * built: absolute paths, paths relative to the working directory, or `file:` URLs. @defaultValue []
   */
  modules?: readonly string[];
  /** Worker threads; the sub-environments are split into contiguous blocks. @defaultValue min(n, available cores) */
  workers?: number;
  /** How long to wait for the workers to build their environments. @defaultValue 120000 */
  startTimeoutMs?: number;
  /** How long `reset`, `step` and the other calls wait for the workers (`Infinity` for ever). @defaultValue Infinity */
  timeoutMs?: number;
}

type Pending = 'reset' | 'step';

interface WorkerHandle {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly first: number;
  readonly count: number;
  exited: boolean;
  error: Error | undefined;
}

/**
 * n sub-environments in worker threads, with the same interface as {@link SyncVectorEnv}: `step()`
 * is synchronous, and `stepAsync()` / `stepWait()` split it so the main thread can work meanwhile.
 * Workers build their sub-environments with `make(id, makeOptions)` after importing
 * `envs/index.js` and `modules`; errors thrown there are re-thrown here as the same error class.
 * Typed observations, actions, rewards and flags travel through SharedArrayBuffers; infos that
 * are not empty, and Text/Dict/Tuple values, travel by message.
 * @example
 * const vec = new AsyncVectorEnv({ id: 'CartPole-v1', n: 8 }, { workers: 2 });
 * vec.reset({ seed: 0 });
 * vec.stepAsync(vec.actionSpace.sample());
 * // ... other work ...
 * const { observations } = vec.stepWait();
 */
export class AsyncVectorEnv<O = unknown, A = unknown> extends BaseVectorEnv<O, A> {
  readonly numEnvs: number;
  readonly id: string;
  readonly observationSpace: Space<Batched<O>, unknown>;
  readonly actionSpace: Space<Batched<A>, unknown>;
  readonly singleObservationSpace: Space<O, unknown>;
  readonly singleActionSpace: Space<A, unknown>;
  readonly metadata: VectorEnvMetadata;
  /** Resolves once every worker thread has exited (after `close()`). */
  readonly exited: Promise<void>;
  private readonly handles: WorkerHandle[];
  private readonly control: Int32Array;
  private readonly timeoutMs: number;
  private readonly observationCodec: BatchCodec;
  private readonly actionCodec: BatchCodec;
  private readonly sharedObservations: TypedBatch | null;
  private readonly sharedActions: TypedBatch | null;
  private readonly sharedRewards: Float64Array;
  private readonly sharedTerminations: Uint8Array;
  private readonly sharedTruncations: Uint8Array;
  private pending: Pending | null = null;

  /**
   * Starts the workers and waits until each has built its sub-environments.
   * @throws the error a worker hit while building (e.g. {@link EnvNotFoundError}, {@link InvalidOptionError}).
   * @throws {@link InvalidOptionError} for bad options or sub-environments with different spaces.
   * @throws {@link AsyncCallError} if the workers are not ready within `startTimeoutMs`.
   */
  constructor(spec: VectorMakeSpec, options: AsyncVectorEnvOptions = {}) {
    super();
    checkMakeSpec(spec);
    const mode = resolveMode(options);
    const n = spec.n;
    const workers = options.workers ?? Math.min(n, availableParallelism());
    if (!Number.isSafeInteger(workers) || workers < 1 || workers > n) {
      throw new InvalidOptionError(
        'options.workers',
        workers,
        `an integer in 1..${n} (the number of sub-environments)`,
      );
    }
    const startTimeoutMs = checkTimeout(
      options.startTimeoutMs ?? 120_000,
      'options.startTimeoutMs',
    );
    this.timeoutMs = checkTimeout(options.timeoutMs ?? Infinity, 'options.timeoutMs');
    const modules = resolveModules(options.modules ?? []);
    this.numEnvs = n;
    this.id = `AsyncVectorEnv(${spec.id} x ${n})`;

    const controlBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * 2 * workers);
    this.control = new Int32Array(controlBuffer);
    const source = workerSource(modules);
    this.handles = [];
    for (let w = 0; w < workers; w++) {
      const first = Math.floor((w * n) / workers);
      const count = Math.floor(((w + 1) * n) / workers) - first;
      const { port1, port2 } = new MessageChannel();
      const setup: WorkerSetup = {
        control: controlBuffer,
        port: port2,
        worker: w,
        first,
        count,
        numEnvs: n,
        id: spec.id,
        makeOptions: { ...spec.makeOptions },
        modules,
        autoresetMode: mode,
      };
      let worker: Worker;
      try {
        worker = new Worker(source, { eval: true, workerData: setup, transferList: [port2] });
      } catch (error) {
        this.terminateAll();
        throw new InvalidOptionError(
          'makeOptions',
          spec.makeOptions,
          'structured-cloneable options (no functions or class instances); use SyncVectorEnv with factories for those',
          '',
          { cause: error },
        );
      }
      worker.unref();
      const handle: WorkerHandle = {
        worker,
        port: port1,
        first,
        count,
        exited: false,
        error: undefined,
      };
      worker.on('error', (error) => {
        handle.error = error;
      });
      worker.on('exit', () => {
        handle.exited = true;
      });
      this.handles.push(handle);
    }
    this.exited = Promise.all(
      this.handles.map(
        (h) =>
          new Promise<void>((resolve) =>
            h.exited ? resolve() : h.worker.once('exit', () => resolve()),
          ),
      ),
    ).then(() => undefined);

    // Phase 1: every worker builds its sub-environments and reports their spaces.
    let replies: WorkerReady[];
    try {
      replies = this.collect<WorkerReady>(startTimeoutMs, 'start');
      checkSameSpaces(
        this.id,
        replies.map((r) => ({ observation: r.observationSpace, action: r.actionSpace })),
      );
    } catch (error) {
      this.terminateAll();
      throw error;
    }
    const ready = replies[0]!;
    this.singleObservationSpace = spaceFromJSON(ready.observationSpace) as Space<O, unknown>;
    this.singleActionSpace = spaceFromJSON(ready.actionSpace) as Space<A, unknown>;
    this.observationSpace = batchSpace(this.singleObservationSpace, n) as Space<
      Batched<O>,
      unknown
    >;
    this.actionSpace = batchSpace(this.singleActionSpace, n) as Space<Batched<A>, unknown>;
    this.metadata = Object.freeze({ ...ready.metadata, autoresetMode: mode });
    this.id = `AsyncVectorEnv(${ready.envId} x ${n})`;
    this.observationCodec = batchCodec(this.singleObservationSpace);
    this.actionCodec = batchCodec(this.singleActionSpace);

    // Phase 2: the shared arrays.
    const buffers: WorkerBuffers = {
      observations: sharedFor(this.observationCodec, n),
      actions: sharedFor(this.actionCodec, n),
      rewards: new SharedArrayBuffer(8 * n),
      terminations: new SharedArrayBuffer(n),
      truncations: new SharedArrayBuffer(n),
    };
    this.sharedObservations = viewOf(this.observationCodec, buffers.observations);
    this.sharedActions = viewOf(this.actionCodec, buffers.actions);
    this.sharedRewards = new Float64Array(buffers.rewards);
    this.sharedTerminations = new Uint8Array(buffers.terminations);
    this.sharedTruncations = new Uint8Array(buffers.truncations);
    try {
      this.send(COMMAND.init, () => buffers);
      this.collect(startTimeoutMs, 'start');
    } catch (error) {
      this.terminateAll();
      throw error;
    }
  }

  /** Number of worker threads. */
  get numWorkers(): number {
    return this.handles.length;
  }

  /** @throws {@link InvalidOptionError} for a bad seed or options; errors of the sub-environments' `reset`. */
  reset(args: VectorResetArgs = {}): VectorResetResult<O> {
    this.resetAsync(args);
    return this.resetWait();
  }

  /** Starts a reset in the workers and returns at once; {@link AsyncVectorEnv.resetWait} collects it. */
  resetAsync({ seed, options }: VectorResetArgs = {}): void {
    this.ensureIdle('resetAsync');
    const seeds = this.seedsOf(seed);
    const resetOptions = this.checkOptions(options);
    requireCloneable(resetOptions, 'reset({options}) of an AsyncVectorEnv');
    this.send(COMMAND.reset, (h) => ({
      seeds: seeds.slice(h.first, h.first + h.count),
      options: resetOptions,
    }));
    this.pending = 'reset';
  }

  /** Waits for the reset started by {@link AsyncVectorEnv.resetAsync}. */
  resetWait(timeoutMs: number = this.timeoutMs): VectorResetResult<O> {
    this.ensureOpen('resetWait');
    if (this.pending !== 'reset')
      throw noneToWait(this.id, 'resetWait', 'resetAsync', this.pending);
    this.pending = null;
    const out = this.gather(timeoutMs, 'reset');
    this.hasReset = true;
    return { observations: out.observations as Batched<O>, infos: out.infos };
  }

  /**
   * Steps every sub-environment; blocks until all are done.
   * @throws {@link InvalidActionError} (before any sub-environment steps) unless `actions` is in `actionSpace`.
   */
  step(actions: Batched<A>): VectorStepResult<O> {
    this.stepAsync(actions);
    return this.stepWait();
  }

  /** Hands the actions to the workers and returns at once; {@link AsyncVectorEnv.stepWait} collects the step. */
  stepAsync(actions: Batched<A>): void {
    this.ensureIdle('stepAsync');
    this.ensureReset('stepAsync');
    this.checkActions(actions);
    if (this.sharedActions !== null) {
      this.sharedActions.set(actions as TypedBatch);
      this.send(COMMAND.step, undefined);
    } else {
      const items = actions as unknown[];
      this.send(COMMAND.step, (h) => items.slice(h.first, h.first + h.count));
    }
    this.pending = 'step';
  }

  /**
   * Waits for the step started by {@link AsyncVectorEnv.stepAsync}.
   * @throws {@link AsyncCallError} without a pending `stepAsync`, or on timeout (the environment is then closed).
   */
  stepWait(timeoutMs: number = this.timeoutMs): VectorStepResult<O> {
    this.ensureOpen('stepWait');
    if (this.pending !== 'step') throw noneToWait(this.id, 'stepWait', 'stepAsync', this.pending);
    this.pending = null;
    return this.gather(timeoutMs, 'step') as VectorStepResult<O>;
  }

  call(name: string, ...args: unknown[]): unknown[] {
    this.ensureIdle('call');
    requireCloneable(args, `arguments of call("${name}") on an AsyncVectorEnv`);
    this.send(COMMAND.call, () => ({ name, args }));
    return this.collect<unknown[]>(this.timeoutMs, 'call').flat();
  }

  /** Only the worker holding sub-environment `index` runs the call; the others answer at once. */
  callAt(index: number, name: string, ...args: unknown[]): unknown {
    this.ensureIdle('callAt');
    this.checkIndex(index, 'callAt(index)');
    requireCloneable(args, `arguments of callAt(${index}, "${name}") on an AsyncVectorEnv`);
    this.send(COMMAND.call, (h) => ({
      name,
      args,
      indices: index >= h.first && index < h.first + h.count ? [index - h.first] : [],
    }));
    return this.collect<unknown[]>(this.timeoutMs, 'callAt').flat()[0];
  }

  getState(): JsonValue {
    this.ensureIdle('getState');
    this.send(COMMAND.getState, undefined);
    const parts = this.collect<{ envs: JsonValue[]; pending: number[] }>(
      this.timeoutMs,
      'getState',
    );
    const envs: JsonValue[] = [];
    const pending: number[] = [];
    parts.forEach((part, w) => {
      envs.push(...part.envs);
      for (const j of part.pending) pending.push(this.handles[w]!.first + j);
    });
    return this.snapshot(envs, pending);
  }

  /** Restores every sub-environment; if one rejects its part, all are put back as they were. */
  setState(state: JsonValue): void {
    this.ensureIdle('setState');
    const s = this.readSnapshot(state);
    const backup = this.getState();
    const restore = (snapshot: VectorSnapshot): void => {
      this.send(COMMAND.setState, (h) => ({
        envs: snapshot.envs.slice(h.first, h.first + h.count),
        pending: snapshot.pending
          .filter((i) => i >= h.first && i < h.first + h.count)
          .map((i) => i - h.first),
      }));
      this.collect(this.timeoutMs, 'setState');
    };
    try {
      restore(s);
    } catch (error) {
      restore(backup as unknown as VectorSnapshot);
      throw error;
    }
    this.hasReset = s.hasReset;
  }

  /** Closes the sub-environments and stops the workers (waiting for a pending call first). */
  close(): void {
    if (this.isClosed) return;
    if (this.pending !== null) {
      try {
        this.collect(this.timeoutMs, this.pending);
      } catch {
        // The pending call's error is of no use to a caller that is closing.
      }
      this.pending = null;
    }
    this.isClosed = true;
    try {
      this.send(COMMAND.close, undefined);
      this.collect(10_000, 'close');
    } catch {
      // A worker that cannot close its environments is terminated below all the same.
    }
    this.terminateAll();
  }

  private ensureIdle(method: string): void {
    this.ensureOpen(method);
    if (this.pending !== null) {
      throw new AsyncCallError(
        'already-pending',
        `Cannot call ${method}() on ${this.id}: expected no pending call, received ${method}() while ${this.pending}Async() is pending; call ${this.pending}Wait() first`,
      );
    }
  }

  /** Posts each worker its payload (if any), then wakes it with the command. */
  private send(command: number, payload: ((h: WorkerHandle) => unknown) | undefined): void {
    const control = this.control;
    this.handles.forEach((h, w) => {
      if (h.exited) throw this.workerGone(w);
      if (payload !== undefined) h.port.postMessage(payload(h));
      Atomics.store(control, 2 * w + 1, STATUS.busy);
      Atomics.store(control, 2 * w, command);
      Atomics.notify(control, 2 * w);
    });
  }

  /** Waits for every worker's answer; throws the first worker error (after all answered). */
  private collect<T = unknown>(timeoutMs: number, what: string): T[] {
    const control = this.control;
    const deadline = performance.now() + timeoutMs;
    const replies: T[] = [];
    let failure: Error | undefined;
    this.handles.forEach((h, w) => {
      const slot = 2 * w + 1;
      let status = Atomics.load(control, slot);
      while (status === STATUS.busy) {
        const left = deadline - performance.now();
        if (
          left <= 0 ||
          Atomics.wait(control, slot, STATUS.busy, Math.min(left, 2 ** 31 - 1)) === 'timed-out'
        ) {
          if (Atomics.load(control, slot) !== STATUS.busy) break;
          this.isClosed = true;
          this.terminateAll();
          throw new AsyncCallError(
            'timeout',
            `Timed out on ${what} of ${this.id}: expected worker ${w} to answer within ${timeoutMs} ms, received no answer; the environment was closed`,
          );
        }
        status = Atomics.load(control, slot);
      }
      status = Atomics.load(control, slot);
      if (status === STATUS.ok) {
        replies.push(undefined as T);
        return;
      }
      const message = receiveMessageOnPort(h.port)?.message as
        { error?: SerializedError; reply?: T } | undefined;
      if (message === undefined) {
        failure ??= this.workerGone(w);
      } else if (status === STATUS.error && message.error !== undefined) {
        failure ??= reviveError(message.error, `worker ${w} of ${this.id}`);
      } else {
        replies.push(message.reply as T);
      }
    });
    if (failure !== undefined) throw failure;
    return replies;
  }

  /** Collects a reset or step from the shared arrays and the messages. */
  private gather(timeoutMs: number, what: Pending): StepOutputs {
    const n = this.numEnvs;
    const typed = this.sharedObservations;
    const parts = this.collect<WorkerReply | undefined>(timeoutMs, what);
    const out: StepOutputs = {
      observations: typed !== null ? typed.slice() : this.observationCodec.create(n),
      rewards: what === 'step' ? this.sharedRewards.slice() : new Float64Array(n),
      terminations: what === 'step' ? this.sharedTerminations.slice() : new Uint8Array(n),
      truncations: what === 'step' ? this.sharedTruncations.slice() : new Uint8Array(n),
      infos: new Array<Info>(n),
    };
    for (const part of parts) {
      if (part === undefined) continue;
      if (part.infos !== undefined) for (const [i, info] of part.infos) out.infos[i] = info;
      if (part.observations !== undefined) {
        for (const [i, observation] of part.observations)
          (out.observations as unknown[])[i] = observation;
      }
    }
    for (let i = 0; i < n; i++) out.infos[i] ??= {};
    return out;
  }

  private workerGone(w: number): AsyncCallError {
    const h = this.handles[w]!;
    const why = h.error !== undefined ? `: ${h.error.name}: ${h.error.message}` : '';
    return new AsyncCallError(
      'worker-exited',
      `Worker ${w} of ${this.id} stopped: expected it to answer, received no answer${why}`,
      h.error === undefined ? {} : { cause: h.error },
    );
  }

  private terminateAll(): void {
    for (const h of this.handles) {
      h.port.close();
      void h.worker.terminate();
    }
  }
}

/** What a worker posts after a reset or step, when it has infos or non-typed observations. @internal */
export interface WorkerReply {
  infos?: [number, Info][];
  observations?: [number, unknown][];
}

function noneToWait(
  id: string,
  method: string,
  start: string,
  pending: Pending | null,
): AsyncCallError {
  return new AsyncCallError(
    'none-pending',
    `Cannot call ${method}() on ${id}: expected a pending ${start}(), received ${pending === null ? 'none' : `a pending ${pending}Async()`}`,
  );
}

function requireCloneable(value: unknown, what: string): void {
  try {
    structuredClone(value);
  } catch (error) {
    throw new InvalidOptionError(
      what,
      value,
      'structured-cloneable values (numbers, strings, plain objects, arrays, typed arrays; no functions)',
      '',
      { cause: error },
    );
  }
}

function checkTimeout(value: unknown, option: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new InvalidOptionError(option, value, 'a positive number of milliseconds (or Infinity)');
  }
  return value;
}

function sharedFor(codec: BatchCodec, n: number): SharedArrayBuffer | null {
  if (codec.kind === 'items') return null;
  const bytes = codec.kind === 'float32' || codec.kind === 'int32' ? 4 : 1;
  return new SharedArrayBuffer(bytes * codec.size * n);
}

/** A typed view of a shared batch buffer. @internal */
export function viewOf(codec: BatchCodec, buffer: SharedArrayBuffer | null): TypedBatch | null {
  if (buffer === null || codec.kind === 'items') return null;
  if (codec.kind === 'float32') return new Float32Array(buffer);
  if (codec.kind === 'int32') return new Int32Array(buffer);
  return new Uint8Array(buffer);
}

function resolveModules(input: unknown): string[] {
  const modules = input as unknown[];
  if (!Array.isArray(input) || !modules.every((m) => typeof m === 'string' && m.length > 0)) {
    throw new InvalidOptionError(
      'options.modules',
      modules,
      'an array of module paths or file: URLs',
    );
  }
  return (modules as string[]).map((m) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(m) && !/^[a-z]:[\\/]/i.test(m)) return m; // a URL (file:, data:, node:)
    if (m.startsWith('.') || path.isAbsolute(m)) return pathToFileURL(path.resolve(m)).href;
    return m; // a package name, resolved from wmgym's location
  });
}

const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)(?:[?#].*)?$/;

/**
 * The code a worker starts with: registers tsx when TypeScript must be loaded (running from
 * source, or TypeScript modules listed), imports vector-worker, and reports a failure to load it
 * through the shared control array so the blocked main thread hears of it.
 */
function workerSource(modules: readonly string[]): string {
  const self = import.meta.url;
  const fromSource = TYPESCRIPT.test(self);
  const entry = new URL(fromSource ? './vector-worker.ts' : './vector-worker.js', self).href;
  let load = `import(${JSON.stringify(entry)})`;
  if (fromSource || modules.some((m) => TYPESCRIPT.test(m))) {
    let api: string;
    try {
      api = import.meta.resolve('tsx/esm/api');
    } catch (error) {
      throw new InvalidOptionError(
        'options.modules',
        modules,
        'JavaScript modules, or the tsx package installed to load TypeScript in worker threads',
        '',
        { cause: error },
      );
    }
    load = `import(${JSON.stringify(api)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  }
  return `${load}.catch((error) => {
  const { workerData } = require('node:worker_threads');
  const control = new Int32Array(workerData.control);
  workerData.port.postMessage({ error: { name: error && error.name || 'Error', message: 'could not start the vector environment worker: ' + (error && error.message || String(error)), stack: error && error.stack, fields: {} } });
  Atomics.store(control, 2 * workerData.worker + 1, ${STATUS.error});
  Atomics.notify(control, 2 * workerData.worker + 1);
});`;
}

// ---------------------------------------------------------------------------------------------
// makeVec

/** Options of {@link makeVec}: the vector environment's own options, then `make()`'s and the environment's. */
export type MakeVecOptions = AsyncVectorEnvOptions &
  MakeOptions &
  Record<string, unknown> & {
    /** `sync` steps in this thread, `async` in worker threads. @defaultValue 'sync' */
    mode?: 'sync' | 'async';
  };

const VECTOR_OPTION_KEYS = [
  'mode',
  'autoresetMode',
  'modules',
  'workers',
  'startTimeoutMs',
  'timeoutMs',
] as const;

/**
 * Builds a vector environment of n copies of a registered id; the remaining options go to `make`.
 * @throws {@link EnvNotFoundError} for an unknown id; {@link InvalidOptionError} for bad options.
 * @example
 * const vec = makeVec('CartPole-v1', 8, { mode: 'async', autoresetMode: 'same-step' });
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function makeVec<O = any, A = any>(
  id: string,
  n: number,
  options: MakeVecOptions = {},
): VectorEnv<O, A> {
  const {
    mode: chosenMode = 'sync',
    autoresetMode,
    modules,
    workers,
    startTimeoutMs,
    timeoutMs,
    ...makeOptions
  } = options;
  const mode: unknown = chosenMode;
  const vectorOptions: AsyncVectorEnvOptions = {};
  if (autoresetMode !== undefined) vectorOptions.autoresetMode = autoresetMode;
  if (mode === 'sync') {
    for (const key of VECTOR_OPTION_KEYS.slice(2)) {
      if (options[key] !== undefined) {
        throw new InvalidOptionError(
          `options.${key}`,
          options[key],
          'undefined with mode "sync" (it is an AsyncVectorEnv option)',
        );
      }
    }
    return new SyncVectorEnv<O, A>({ id, n, makeOptions }, vectorOptions);
  }
  if (mode !== 'async') throw new InvalidOptionError('options.mode', mode, '"sync" or "async"');
  if (modules !== undefined) vectorOptions.modules = modules;
  if (workers !== undefined) vectorOptions.workers = workers;
  if (startTimeoutMs !== undefined) vectorOptions.startTimeoutMs = startTimeoutMs;
  if (timeoutMs !== undefined) vectorOptions.timeoutMs = timeoutMs;
  return new AsyncVectorEnv<O, A>({ id, n, makeOptions }, vectorOptions);
}
