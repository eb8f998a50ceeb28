/**
 * The replay buffer shared by SAC, DQN, world-model training and planners: a preallocated ring of
 * typed arrays (struct of arrays, SB3's `[capacity / numEnvs, numEnvs]` layout as one column per
 * environment, so each column is in time order). `terminated` and `truncated` are kept apart: a
 * truncated transition still bootstraps from its `nextObservation` (the final observation).
 *
 * @example
 * const buffer = new ReplayBuffer({ capacity: 10_000, observationSize: 3, actionSize: 1 });
 * buffer.add({ observation, action, reward, nextObservation, terminated, truncated });
 * const batch = buffer.sample(256, rng);
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../envs/core/atomic.js';
import {
  InvalidOptionError,
  InvalidValueError,
  MalformedFileError,
  formatValue,
} from '../../envs/core/errors.js';
import type { Rng } from '../../envs/core/rng.js';

/** Options of {@link ReplayBuffer}. */
export interface ReplayBufferOptions {
  /** Transitions kept in total (split evenly between environments). */
  capacity: number;
  /** Length of a (flattened) observation. */
  observationSize: number;
  /** Length of an action (1 for a discrete action index). */
  actionSize: number;
  /** Environments writing into the buffer, one column each. @defaultValue 1 */
  numEnvs?: number;
  /** Number of discrete actions when action masks are stored; 0 for none. @defaultValue 0 */
  actionMaskSize?: number;
}

/** One transition as stored. */
export interface StoredTransition {
  /** Flattened observation. */
  observation: Float32Array;
  /** Action (a discrete index as a one-element array or a number). */
  action: Float32Array | number;
  reward: number;
  /** Flattened next observation (the final observation when the episode ended). */
  nextObservation: Float32Array;
  /** The MDP ended: do not bootstrap. */
  terminated: boolean;
  /** Cut by a time limit: bootstrap from `nextObservation`. */
  truncated: boolean;
  /** Allowed actions in `observation` (when masks are stored). */
  actionMask?: Uint8Array | undefined;
  /** Allowed actions in `nextObservation` (when masks are stored). */
  nextActionMask?: Uint8Array | undefined;
}

/** A sampled batch: row-major arrays, `batch` rows each. */
export interface ReplayBatch {
  /** Rows in the batch. */
  size: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  /** 1 where the MDP ended (no bootstrap). */
  terminated: Float32Array;
  /** 1 where a time limit cut the episode. */
  truncated: Float32Array;
  /** Masks of the observations (when stored). */
  actionMasks: Uint8Array | undefined;
  /** Masks of the next observations (when stored). */
  nextActionMasks: Uint8Array | undefined;
  /** Storage slot of each row. */
  indices: Int32Array;
}

/** Sequences of consecutive transitions of one environment: arrays `[batch, length, ...]`. */
export interface SequenceBatch extends ReplayBatch {
  /** Steps per sequence. */
  length: number;
}

interface BufferMeta {
  format: 'wmgym-replay-buffer';
  version: 1;
  capacity: number;
  observationSize: number;
  actionSize: number;
  numEnvs: number;
  actionMaskSize: number;
  positions: number[];
  sizes: number[];
}

const FIELDS = [
  'observations',
  'actions',
  'rewards',
  'nextObservations',
  'terminated',
  'truncated',
  'actionMasks',
  'nextActionMasks',
] as const;

/** A fixed-capacity ring of transitions with uniform and sequence sampling. */
export class ReplayBuffer {
  /** Total capacity (a multiple of `numEnvs`). */
  readonly capacity: number;
  /** Rows per environment column. */
  readonly capacityPerEnv: number;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly numEnvs: number;
  readonly actionMaskSize: number;
  private readonly observations: Float32Array;
  private readonly nextObservations: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly actionMasks: Uint8Array;
  private readonly nextActionMasks: Uint8Array;
  private readonly positions: number[];
  private readonly sizes: number[];

  constructor(options: ReplayBufferOptions) {
    const numEnvs = options.numEnvs ?? 1;
    positiveInteger(numEnvs, 'numEnvs');
    positiveInteger(options.capacity, 'capacity');
    positiveInteger(options.observationSize, 'observationSize');
    positiveInteger(options.actionSize, 'actionSize');
    const maskSize = options.actionMaskSize ?? 0;
    if (!Number.isSafeInteger(maskSize) || maskSize < 0)
      throw new InvalidOptionError('actionMaskSize', maskSize, 'an integer >= 0');
    if (options.capacity < numEnvs)
      throw new InvalidOptionError('capacity', options.capacity, `at least numEnvs (${numEnvs})`);
    this.numEnvs = numEnvs;
    this.capacityPerEnv = Math.floor(options.capacity / numEnvs);
    this.capacity = this.capacityPerEnv * numEnvs;
    this.observationSize = options.observationSize;
    this.actionSize = options.actionSize;
    this.actionMaskSize = maskSize;
    const n = this.capacity;
    this.observations = new Float32Array(n * this.observationSize);
    this.nextObservations = new Float32Array(n * this.observationSize);
    this.actions = new Float32Array(n * this.actionSize);
    this.rewards = new Float32Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.actionMasks = new Uint8Array(n * maskSize);
    this.nextActionMasks = new Uint8Array(n * maskSize);
    this.positions = new Array<number>(numEnvs).fill(0);
    this.sizes = new Array<number>(numEnvs).fill(0);
  }

  /** Transitions stored (all environments). */
  get size(): number {
    let s = 0;
    for (const x of this.sizes) s += x;
    return s;
  }

  /** Transitions stored for one environment. */
  sizeOf(env: number): number {
    return this.sizes[env] ?? 0;
  }

  /** Stores a transition of environment `env`, overwriting the oldest one of that column when full. */
  add(t: StoredTransition, env = 0): void {
    if (!Number.isSafeInteger(env) || env < 0 || env >= this.numEnvs)
      throw new InvalidOptionError('env', env, `an integer in 0..${this.numEnvs - 1}`);
    checkVector(t.observation, this.observationSize, 'observation');
    checkVector(t.nextObservation, this.observationSize, 'nextObservation');
    const row = this.positions[env]!;
    const slot = env * this.capacityPerEnv + row;
    this.observations.set(t.observation, slot * this.observationSize);
    this.nextObservations.set(t.nextObservation, slot * this.observationSize);
    if (typeof t.action === 'number') {
      if (this.actionSize !== 1)
        throw new InvalidValueError(
          'action for the replay buffer',
          formatValue(t.action),
          `a Float32Array of ${this.actionSize} values`,
        );
      this.actions[slot] = t.action;
    } else {
      checkVector(t.action, this.actionSize, 'action');
      this.actions.set(t.action, slot * this.actionSize);
    }
    if (!Number.isFinite(t.reward))
      throw new InvalidValueError(
        'reward for the replay buffer',
        formatValue(t.reward),
        'a finite number',
      );
    this.rewards[slot] = t.reward;
    this.terminated[slot] = t.terminated ? 1 : 0;
    this.truncated[slot] = t.truncated ? 1 : 0;
    if (this.actionMaskSize > 0) {
      writeMask(this.actionMasks, slot, this.actionMaskSize, t.actionMask, 'actionMask');
      writeMask(
        this.nextActionMasks,
        slot,
        this.actionMaskSize,
        t.nextActionMask,
        'nextActionMask',
      );
    }
    this.positions[env] = (row + 1) % this.capacityPerEnv;
    this.sizes[env] = Math.min(this.sizes[env]! + 1, this.capacityPerEnv);
  }

  /** `batch` transitions drawn uniformly with replacement from everything stored, using `rng`. */
  sample(batch: number, rng: Rng): ReplayBatch {
    positiveInteger(batch, 'batch');
    const total = this.size;
    if (total === 0)
      throw new InvalidOptionError(
        'sample()',
        'an empty buffer',
        'a buffer holding at least one transition',
      );
    const slots = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      let k = rng.integer(total);
      let env = 0;
      while (k >= this.sizes[env]!) {
        k -= this.sizes[env]!;
        env++;
      }
      slots[i] = env * this.capacityPerEnv + k;
    }
    return this.gather(slots);
  }

  /**
   * `batch` windows of `length` consecutive transitions of one environment each (time order,
   * never across the ring's write position), start drawn uniformly among all valid windows.
   * Windows may cross episode ends: use `terminated`/`truncated` to mask.
   */
  sampleSequences(batch: number, length: number, rng: Rng): SequenceBatch {
    positiveInteger(batch, 'batch');
    positiveInteger(length, 'length');
    const starts = this.sizes.map((s) => Math.max(0, s - length + 1));
    const total = starts.reduce((a, b) => a + b, 0);
    if (total === 0) {
      throw new InvalidOptionError(
        'sampleSequences(length)',
        length,
        `at most the longest stored column (${Math.max(...this.sizes)} transitions)`,
      );
    }
    const slots = new Int32Array(batch * length);
    for (let i = 0; i < batch; i++) {
      let k = rng.integer(total);
      let env = 0;
      while (k >= starts[env]!) {
        k -= starts[env]!;
        env++;
      }
      // Time offset k from the oldest row of this column.
      const full = this.sizes[env] === this.capacityPerEnv;
      const oldest = full ? this.positions[env]! : 0;
      for (let j = 0; j < length; j++) {
        slots[i * length + j] =
          env * this.capacityPerEnv + ((oldest + k + j) % this.capacityPerEnv);
      }
    }
    return { ...this.gather(slots), size: batch, length };
  }

  /** Copies the given storage slots into a batch. */
  gather(slots: Int32Array): ReplayBatch {
    const b = slots.length;
    const o = this.observationSize;
    const a = this.actionSize;
    const m = this.actionMaskSize;
    const out: ReplayBatch = {
      size: b,
      observations: new Float32Array(b * o),
      actions: new Float32Array(b * a),
      rewards: new Float32Array(b),
      nextObservations: new Float32Array(b * o),
      terminated: new Float32Array(b),
      truncated: new Float32Array(b),
      actionMasks: m > 0 ? new Uint8Array(b * m) : undefined,
      nextActionMasks: m > 0 ? new Uint8Array(b * m) : undefined,
      indices: slots,
    };
    for (let i = 0; i < b; i++) {
      const s = slots[i]!;
      out.observations.set(this.observations.subarray(s * o, s * o + o), i * o);
      out.nextObservations.set(this.nextObservations.subarray(s * o, s * o + o), i * o);
      if (a === 1) out.actions[i] = this.actions[s]!;
      else out.actions.set(this.actions.subarray(s * a, s * a + a), i * a);
      out.rewards[i] = this.rewards[s]!;
      out.terminated[i] = this.terminated[s]!;
      out.truncated[i] = this.truncated[s]!;
      if (m > 0) {
        out.actionMasks!.set(this.actionMasks.subarray(s * m, s * m + m), i * m);
        out.nextActionMasks!.set(this.nextActionMasks.subarray(s * m, s * m + m), i * m);
      }
    }
    return out;
  }

  /** Writes the buffer (stored rows only) to `dir/replay-buffer.{json,bin}`, atomically per file. */
  save(dir: string): void {
    const meta: BufferMeta = {
      format: 'wmgym-replay-buffer',
      version: 1,
      capacity: this.capacity,
      observationSize: this.observationSize,
      actionSize: this.actionSize,
      numEnvs: this.numEnvs,
      actionMaskSize: this.actionMaskSize,
      positions: [...this.positions],
      sizes: [...this.sizes],
    };
    const chunks: Uint8Array[] = [];
    for (const field of FIELDS) {
      const array = this[field];
      const width = array.length / this.capacity;
      for (let e = 0; e < this.numEnvs; e++) {
        const start = e * this.capacityPerEnv * width;
        const view = array.subarray(start, start + this.sizes[e]! * width);
        chunks.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      }
    }
    writeFileAtomic(join(dir, 'replay-buffer.bin'), Buffer.concat(chunks));
    writeJsonAtomic(join(dir, 'replay-buffer.json'), meta);
  }

  /**
   * Restores {@link ReplayBuffer.save} into this buffer, whose layout must match.
   * @throws {@link MalformedFileError} for a missing, foreign or truncated file.
   */
  load(dir: string): void {
    const metaFile = join(dir, 'replay-buffer.json');
    const binFile = join(dir, 'replay-buffer.bin');
    if (!existsSync(metaFile) || !existsSync(binFile))
      throw new MalformedFileError(
        metaFile,
        '$',
        'expected replay-buffer.json and replay-buffer.bin, received missing files',
      );
    let parsed: { [K in keyof BufferMeta]?: unknown } | null;
    try {
      parsed = JSON.parse(readFileSync(metaFile, 'utf8')) as
        { [K in keyof BufferMeta]?: unknown } | null;
    } catch (error) {
      throw new MalformedFileError(metaFile, '$', 'not valid JSON', { cause: error });
    }
    if (parsed?.format !== 'wmgym-replay-buffer' || parsed.version !== 1)
      throw new MalformedFileError(
        metaFile,
        '$.format',
        `expected "wmgym-replay-buffer" version 1, received ${formatValue(parsed?.format)} version ${formatValue(parsed?.version)}`,
      );
    const meta = parsed as unknown as BufferMeta;
    for (const key of [
      'capacity',
      'observationSize',
      'actionSize',
      'numEnvs',
      'actionMaskSize',
    ] as const) {
      if (meta[key] !== this[key])
        throw new MalformedFileError(
          metaFile,
          `$.${key}`,
          `expected ${this[key]} (this buffer's layout), received ${formatValue(meta[key])}`,
        );
    }
    const validRows = (xs: unknown): xs is number[] =>
      Array.isArray(xs) &&
      xs.length === this.numEnvs &&
      xs.every((x) => Number.isSafeInteger(x) && x >= 0 && x <= this.capacityPerEnv);
    if (!validRows(meta.sizes))
      throw new MalformedFileError(
        metaFile,
        '$.sizes',
        `expected ${this.numEnvs} integers in 0..${this.capacityPerEnv}, received ${formatValue(meta.sizes)}`,
      );
    if (
      !validRows(meta.positions) ||
      meta.positions.some(
        (p, e) =>
          p >= this.capacityPerEnv || (meta.sizes[e]! < this.capacityPerEnv && p !== meta.sizes[e]),
      )
    ) {
      throw new MalformedFileError(
        metaFile,
        '$.positions',
        `expected write positions consistent with sizes, received ${formatValue(meta.positions)}`,
      );
    }
    const bytes = readFileSync(binFile);
    let expected = 0;
    for (const field of FIELDS) {
      const width = this[field].length / this.capacity;
      for (const s of meta.sizes) expected += s * width * this[field].BYTES_PER_ELEMENT;
    }
    if (bytes.length !== expected)
      throw new MalformedFileError(
        binFile,
        '$',
        `expected ${expected} bytes for the stored rows, received ${bytes.length}`,
      );
    const copy = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
    let offset = 0;
    for (const field of FIELDS) {
      const array = this[field];
      const width = array.length / this.capacity;
      for (let e = 0; e < this.numEnvs; e++) {
        const count = meta.sizes[e]! * width;
        const byteLength = count * array.BYTES_PER_ELEMENT;
        const source =
          array instanceof Float32Array
            ? new Float32Array(copy.buffer, offset, count)
            : new Uint8Array(copy.buffer, offset, count);
        array.set(source, e * this.capacityPerEnv * width);
        offset += byteLength;
      }
    }
    for (let e = 0; e < this.numEnvs; e++) {
      this.sizes[e] = meta.sizes[e]!;
      this.positions[e] = meta.positions[e]!;
    }
  }
}

function positiveInteger(x: number, option: string): void {
  if (!Number.isSafeInteger(x) || x < 1)
    throw new InvalidOptionError(option, x, 'a positive integer');
}

function checkVector(x: unknown, size: number, what: string): void {
  if (!(x instanceof Float32Array) || x.length !== size) {
    throw new InvalidValueError(
      `${what} for the replay buffer`,
      formatValue(x),
      `a Float32Array of ${size} values`,
    );
  }
}

function writeMask(
  target: Uint8Array,
  slot: number,
  size: number,
  mask: Uint8Array | undefined,
  what: string,
): void {
  if (mask === undefined) {
    target.fill(1, slot * size, slot * size + size);
    return;
  }
  if (!(mask instanceof Uint8Array) || mask.length !== size)
    throw new InvalidValueError(
      `${what} for the replay buffer`,
      formatValue(mask),
      `a Uint8Array of ${size} values`,
    );
  target.set(mask, slot * size);
}

/**
 * The per-row discount of a one-step target `r + discount·V(s')`: `γ` unless the MDP terminated
 * (0). A truncated row keeps `γ`: a time limit is not an end of the MDP, so it bootstraps from
 * its final observation.
 */
export function bootstrapDiscounts(terminated: Float32Array, gamma: number): Float32Array {
  const out = new Float32Array(terminated.length);
  for (let i = 0; i < terminated.length; i++) out[i] = terminated[i] === 1 ? 0 : gamma;
  return out;
}
