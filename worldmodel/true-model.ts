/**
 * The true dynamics behind the {@link ImaginationModel} interface: any environment with snapshots
 * (`getState`/`setState`), so a planner can imagine with the real environment — the upper bound a
 * learned world model is judged against, and a way to test planners without learning anything.
 *
 * A state is the environment's snapshot (plain JSON, as `env.unwrapped.getState()` returns it; see
 * {@link TrueModel.snapshot}). `step` restores each row's snapshot, takes its action and reads the
 * next snapshot back: rewards, terminations and, where the environment reports them in
 * `info.actionMask`, the action masks of the next states. There is one "member" and no
 * disagreement.
 *
 * The model runs the *unwrapped* environment: the wrappers `make` applies are left out on purpose —
 * an imagined rollout must not be cut by the episode's TimeLimit (nor refused by OrderEnforcing),
 * and the passive checker would only slow every imagined step down. The environment handed to the
 * constructor is the model's own: every `step` overwrites its state. Give it a private copy
 * (`new TrueModel(make(id, options))`), or let {@link TrueModel.copyOf} build one from the env you
 * play on.
 *
 * A row that has ended (terminated, or truncated by the environment itself) is absorbing: stepping it
 * again keeps its state, with reward 0, `dones` 1 after a termination, and an all-zero action mask.
 *
 * ## Keys
 * {@link TrueModel.key} is the snapshot written out canonically (object keys sorted) without the
 * parts that record history rather than state, so that two paths to the same situation compare
 * equal: by default the generator (`rng`: the model never resets, and no environment of the suite
 * draws from its generator in `step`), GridNav's step counter (`env.steps`) and TextWorld's move
 * counter and transcript (`env.moves`, `env.transcript`). Reaching a state later is then a longer
 * path to the same state (for GridNav, whose success reward shrinks with the steps taken, never a
 * better one), which is what duplicate detection in a search needs. An environment whose `step`
 * draws from its generator should keep `rng` in the key: pass `keyIgnores` without it (or `[]` for
 * exact snapshots), or a `key` function of your own.
 *
 * @example
 * const env = make('GridNav-Task-k10-v0');
 * const { info } = env.reset({ seed: 3 });
 * const model = TrueModel.copyOf(env);
 * const planner = new SearchPlanner(model);
 * const action = planner.plan(TrueModel.snapshot(env), { actionMask: info.actionMask });
 */
import { BaseEnv, type Env, type Info, type JsonValue } from '../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  ResetNeededError,
  formatValue,
} from '../envs/core/errors.js';
import { Box, Discrete } from '../envs/core/space.js';
import type { ImaginationModel, ImaginedStep, ImagineStepOptions } from './model.js';

/** An environment snapshot: the plain JSON of `env.unwrapped.getState()`. */
export type EnvSnapshot = JsonValue;

/** A batch of snapshots for {@link TrueModel}. Treat it as read-only. */
export interface TrueModelBatch {
  /** One snapshot per row. */
  readonly states: readonly EnvSnapshot[];
  /** Per row: 0 running, 1 terminated, 2 truncated by the environment (both absorbing). */
  readonly ended: Uint8Array;
  /** Keys computed so far (filled on demand by {@link TrueModel.key}). */
  readonly keys: (string | undefined)[];
}

/** Options of {@link TrueModel}. */
export interface TrueModelOptions {
  /**
   * Dotted paths into the snapshot that the key leaves out (history, not state). A path that a
   * snapshot does not have is skipped. @defaultValue {@link TRUE_MODEL_KEY_IGNORES}
   */
  keyIgnores?: readonly string[];
  /** A key function of your own (replaces `keyIgnores`): equal strings exactly for equal states. */
  key?: (state: EnvSnapshot) => string;
}

/**
 * What the key leaves out by default: the generator, GridNav's step counter, TextWorld's move
 * counter and transcript (see the module documentation).
 */
export const TRUE_MODEL_KEY_IGNORES: readonly string[] = Object.freeze([
  'rng',
  'env.steps',
  'env.moves',
  'env.transcript',
]);

const RUNNING = 0;
const TERMINATED = 1;
const TRUNCATED = 2;

/** An environment with snapshots as an {@link ImaginationModel}: the true dynamics (see the module documentation). */
export class TrueModel implements ImaginationModel<EnvSnapshot, TrueModelBatch> {
  /** The environment's action space. */
  readonly actionSpace: Discrete | Box;
  /** Always 1: the true dynamics have no ensemble. */
  readonly members = 1;
  /** The unwrapped environment the model steps (its state is overwritten on every step). */
  readonly env: Env;
  private readonly perAction: number;
  private ignores: readonly (readonly string[])[];
  private readonly defaultIgnores: boolean;
  private readonly keyOf: ((state: EnvSnapshot) => string) | undefined;
  /**
   * True while the environment has not drawn from its generator in `step`: rows are then restored
   * without it (a generator restore costs more than a classic-control step).
   */
  private sharedGenerator: boolean;

  /**
   * @param env An environment the model may own (its unwrapped environment is used).
   * @throws {@link InvalidOptionError} for an environment without snapshots, an action space other
   * than Discrete or Box, or bad options.
   */
  constructor(env: Env, options: TrueModelOptions = {}) {
    const inner = unwrap(env);
    if (
      typeof inner.getState !== 'function' ||
      typeof inner.setState !== 'function' ||
      typeof inner.step !== 'function'
    ) {
      throw new InvalidOptionError(
        'env of TrueModel',
        inner,
        'an environment with snapshots (getState() and setState())',
      );
    }
    const space: unknown = inner.actionSpace;
    if (!(space instanceof Discrete) && !(space instanceof Box)) {
      throw new InvalidOptionError(
        'env of TrueModel',
        String(space),
        'an environment with a Discrete or Box action space',
      );
    }
    checkTrueModelOptions(options);
    this.env = inner;
    this.actionSpace = space;
    this.perAction = space instanceof Box ? space.size : 1;
    this.ignores = (options.keyIgnores ?? TRUE_MODEL_KEY_IGNORES).map((p) => p.split('.'));
    this.defaultIgnores = options.keyIgnores === undefined;
    this.keyOf = options.key;
    this.sharedGenerator = inner instanceof BaseEnv;
  }

  /**
   * A TrueModel on a fresh private copy of `env`, built from its spec (entry point and options), so
   * the env you play on is never touched.
   * @throws {@link InvalidOptionError} for an environment without a spec (not made by `make`).
   */
  static copyOf(env: Env, options: TrueModelOptions = {}): TrueModel {
    const spec = env.spec ?? unwrap(env).spec;
    if (spec === undefined) {
      throw new InvalidOptionError(
        'env of TrueModel.copyOf',
        unwrap(env).constructor.name,
        'an environment made by make() (with a spec to build a copy from)',
        'pass a private copy to new TrueModel(env) instead',
      );
    }
    return new TrueModel(spec.entryPoint({ ...spec.kwargs }) as Env, options);
  }

  /** The state a planner takes for `env`'s current situation: its unwrapped snapshot. */
  static snapshot(env: Env): EnvSnapshot {
    return unwrap(env).getState();
  }

  /**
   * A batch of snapshots, each checked by restoring it once.
   * @throws {@link InvalidValueError} for an empty list.
   * @throws {@link InvalidStateError} (from the environment) for a snapshot it did not produce.
   */
  batch(states: readonly EnvSnapshot[]): TrueModelBatch {
    const given: unknown = states;
    if (!Array.isArray(given) || given.length === 0) {
      throw new InvalidValueError(
        'states for TrueModel.batch',
        formatValue(states),
        'a non-empty array of snapshots from env.unwrapped.getState()',
      );
    }
    for (const state of states) this.env.setState(state);
    return {
      states: [...states],
      ended: new Uint8Array(states.length),
      keys: new Array<string | undefined>(states.length),
    };
  }

  /** Rows in a batch. */
  size(batch: TrueModelBatch): number {
    return batch.states.length;
  }

  /** The given rows of `batch`, in order (rows may repeat). */
  select(batch: TrueModelBatch, rows: Int32Array): TrueModelBatch {
    const n = batch.states.length;
    const states = new Array<EnvSnapshot>(rows.length);
    const ended = new Uint8Array(rows.length);
    const keys = new Array<string | undefined>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        throw new InvalidValueError(
          'rows for TrueModel.select',
          formatValue(rows),
          `row indices in 0..${n - 1}`,
        );
      }
      states[i] = batch.states[r]!;
      ended[i] = batch.ended[r]!;
      keys[i] = batch.keys[r];
    }
    return { states, ended, keys };
  }

  /**
   * Restores each row, takes its action and reads the next snapshot; `members` is ignored (one
   * member). Discrete actions are action values (the space's `start` included).
   * @throws {@link InvalidValueError} unless `actions` is a Float32Array of `n × actionDim` values.
   * @throws {@link InvalidActionError} (from the environment) for an action outside the space.
   */
  step(
    batch: TrueModelBatch,
    actions: Float32Array,
    _options: ImagineStepOptions = {},
  ): ImaginedStep<TrueModelBatch> {
    const n = batch.states.length;
    const d = this.perAction;
    if (!(actions instanceof Float32Array) || actions.length !== n * d) {
      throw new InvalidValueError(
        'actions for TrueModel.step',
        formatValue(actions),
        `a Float32Array of ${n} × ${d} values`,
      );
    }
    if (this.sharedGenerator) {
      const result = this.stepRows(batch, actions, true);
      if (result !== undefined) return result;
      // The environment drew from its generator in step: every row carries its own from now on.
      this.sharedGenerator = false;
      if (this.defaultIgnores) this.ignores = this.ignores.filter((p) => p.join('.') !== 'rng');
    }
    return this.stepRows(batch, actions, false)!;
  }

  /** The row's snapshot as canonical text without the history it records (see the module documentation). */
  key(batch: TrueModelBatch, row: number): string {
    const cached = batch.keys[row];
    if (cached !== undefined) return cached;
    const state = batch.states[row];
    if (state === undefined) {
      throw new InvalidValueError(
        'row for TrueModel.key',
        formatValue(row),
        `a row index in 0..${batch.states.length - 1}`,
      );
    }
    const key = this.keyOf !== undefined ? this.keyOf(state) : canonical(state, this.ignores, 0);
    batch.keys[row] = key;
    return key;
  }
  /**
   * One step of every row. With `shared`, rows are restored without their generator (all rows
   * share their root's, untouched by `step`) and `undefined` is returned as soon as a step draws
   * from the generator (the caller then steps again with each row's own generator).
   */
  private stepRows(
    batch: TrueModelBatch,
    actions: Float32Array,
    shared: boolean,
  ): ImaginedStep<TrueModelBatch> | undefined {
    const n = batch.states.length;
    const d = this.perAction;
    const env = this.env;
    const discrete = this.actionSpace instanceof Discrete;
    const actionCount = this.actionSpace instanceof Discrete ? this.actionSpace.n : 0;
    const states = new Array<EnvSnapshot>(n);
    const ended = new Uint8Array(n);
    const keys = new Array<string | undefined>(n);
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    const scratch: { rng: JsonValue; env: JsonValue } = { rng: null, env: null };
    let masks: Uint8Array | undefined = discrete ? new Uint8Array(n * actionCount) : undefined;
    for (let r = 0; r < n; r++) {
      const state = batch.states[r]!;
      if (batch.ended[r] !== RUNNING) {
        states[r] = state;
        ended[r] = batch.ended[r]!;
        keys[r] = batch.keys[r];
        dones[r] = batch.ended[r] === TERMINATED ? 1 : 0;
        continue;
      }
      if (shared) {
        scratch.env = (state as unknown as BaseSnapshot).env;
        env.setState(scratch);
      } else {
        env.setState(state);
      }
      const action = discrete ? actions[r]! : actions.slice(r * d, r * d + d);
      let info: Info;
      try {
        const result = env.step(action);
        rewards[r] = result.reward;
        dones[r] = result.terminated ? 1 : 0;
        ended[r] = result.terminated ? TERMINATED : result.truncated ? TRUNCATED : RUNNING;
        info = result.info;
      } catch (error) {
        // A snapshot of an episode that had already ended: the environment refuses to step it.
        if (!(error instanceof ResetNeededError)) throw error;
        states[r] = state;
        ended[r] = TERMINATED;
        keys[r] = batch.keys[r];
        dones[r] = 1;
        continue;
      }
      const next = env.getState();
      if (shared) {
        const snapshot = next as unknown as BaseSnapshot;
        if (snapshot.rng !== null) return undefined;
        const own: BaseSnapshot = {
          rng: (state as unknown as BaseSnapshot).rng,
          env: snapshot.env,
        };
        states[r] = own as unknown as JsonValue;
      } else {
        states[r] = next;
      }
      if (masks !== undefined && ended[r] === RUNNING) {
        const mask = info['actionMask'];
        if (mask instanceof Uint8Array && mask.length === actionCount) {
          masks.set(mask, r * actionCount);
        } else {
          masks = undefined; // the environment does not report masks
        }
      }
    }
    return {
      states: { states, ended, keys },
      rewards,
      dones,
      disagreement: new Float32Array(n),
      actionMasks: masks,
    };
  }
}

interface BaseSnapshot {
  rng: JsonValue;
  env: JsonValue;
}

function unwrap(env: Env): Env {
  if (typeof env !== 'object' || (env as unknown) === null) {
    throw new InvalidOptionError('env of TrueModel', env, 'an environment');
  }
  const inner: unknown = env.unwrapped;
  return typeof inner === 'object' && inner !== null ? (inner as Env) : env;
}

function checkTrueModelOptions(options: TrueModelOptions): void {
  if (typeof options !== 'object' || (options as unknown) === null || Array.isArray(options)) {
    throw new InvalidOptionError('TrueModel options', options, 'an object of options');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'keyIgnores' && key !== 'key') {
      throw new InvalidOptionError(
        `TrueModel.${key}`,
        (options as Record<string, unknown>)[key],
        'one of the known options (keyIgnores, key)',
        'Unknown option',
      );
    }
  }
  const { keyIgnores, key } = options;
  if (
    keyIgnores !== undefined &&
    (!Array.isArray(keyIgnores) ||
      !keyIgnores.every((p) => typeof p === 'string' && /^[^.]+(\.[^.]+)*$/.test(p)))
  ) {
    throw new InvalidOptionError(
      'TrueModel.keyIgnores',
      keyIgnores,
      'an array of dotted paths into the snapshot (e.g. "env.steps")',
    );
  }
  if (key !== undefined && typeof key !== 'function') {
    throw new InvalidOptionError('TrueModel.key', key, 'a function (snapshot) => string');
  }
}

/**
 * JSON with object keys sorted and the `ignores` paths (split at dots, matched from the root) left
 * out; `depth` is how many path segments have been matched on the way down.
 */
function canonical(
  value: JsonValue,
  ignores: readonly (readonly string[])[],
  depth: number,
): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonical(value[i]!, NO_PATHS, 0);
    }
    return `${out}]`;
  }
  const names = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const name of names) {
    const child = value[name];
    if (child === undefined) continue;
    let below: (readonly string[])[] | undefined;
    let dropped = false;
    for (const path of ignores) {
      if (path[depth] !== name) continue;
      if (path.length === depth + 1) {
        dropped = true;
        break;
      }
      (below ??= []).push(path);
    }
    if (dropped) continue;
    out += `${first ? '' : ','}${JSON.stringify(name)}:${canonical(child, below ?? NO_PATHS, below === undefined ? 0 : depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

const NO_PATHS: readonly (readonly string[])[] = [];
