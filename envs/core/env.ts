/**
 * The environment contract: Gymnasium's `Env` (reset/step/render/close, terminated vs truncated),
 * plus the two things wmgym adds to every environment — a {@link TextView} so a language model can
 * play it, and snapshots (`getState`/`setState`) so a planner can restore an exact state.
 */
import { InvalidActionError, InvalidStateError } from './errors.js';
import { Rng, checkSeed, entropySeed, isRngState, type RngState } from './rng.js';
import type { Space } from './space.js';

/** Plain JSON (what snapshots and configs are made of). */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Extra information returned by `reset` and `step` (`actionMask`, `finalObservation`, ...). */
export type Info = Record<string, unknown>;

/** Arguments of `reset`. */
export interface ResetArgs {
  /** Seeds the environment's generator (first reset); later resets without a seed continue it. */
  seed?: number;
  /** Environment-specific reset options. */
  options?: Record<string, unknown>;
}

/** What `reset` returns. */
export interface ResetResult<O> {
  /** The first observation of the episode (a fresh value the caller owns). */
  observation: O;
  /** Extra information (e.g. `actionMask`). */
  info: Info;
}

/** What `step` returns. `terminated`: the MDP ended (goal, failure); `truncated`: a time limit or an outside cut. */
export interface StepResult<O> {
  /** The observation after the step (a fresh value the caller owns). */
  observation: O;
  /** The reward for the step; a finite number. */
  reward: number;
  /** The MDP ended (goal, failure): do not bootstrap from `observation`. */
  terminated: boolean;
  /** A time limit or an outside cut ended the episode: bootstrap from `observation`. */
  truncated: boolean;
  /** Extra information (e.g. `actionMask`, `episode`). */
  info: Info;
}

/** How `render()` draws: `ansi` returns text, `rgb_array` returns an {@link RgbArray}. */
export type RenderMode = 'ansi' | 'rgb_array';

/** An RGBA image, row-major, 4 bytes per pixel. */
export interface RgbArray {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width × height × 4` bytes, RGBA, row-major from the top-left pixel. */
  data: Uint8ClampedArray;
}

/** What `render()` returns. */
export type RenderFrame = string | RgbArray;

/**
 * How vector environments reset a finished sub-environment. `next-step`: the step after the end
 * resets it (Gymnasium's default); `same-step`: the end step resets at once and puts the final
 * observation and info in `info.finalObservation` / `info.finalInfo`.
 */
export type AutoresetMode = 'next-step' | 'same-step';

/** Static facts about an environment. */
export interface EnvMetadata {
  /** Render modes the environment supports. */
  renderModes: readonly RenderMode[];
  /** Frames per second for animations. */
  renderFps?: number;
  /** Autoreset mode of a vector environment. */
  autoresetMode?: AutoresetMode;
}

/** The text face of an environment, so a language-model agent can play it. */
export interface TextView<A> {
  /** The current observation as text a language model can read. */
  describe(): string;
  /** The admissible commands (or command forms, e.g. `torque <-2..2>`) as text. */
  commands(): string[];
  /** Maps free text to an action; throws `CommandParseError` with a clear message otherwise. */
  parseCommand(text: string): A;
}

/** A factory that builds an environment from keyword options. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EnvFactory = (options: Record<string, unknown>) => Env<any, any>;

/** How an id was registered (see `register`). */
export interface EnvSpec {
  /** `[namespace/]Name-vN` */
  id: string;
  /** Builds the environment from its options. */
  entryPoint: EnvFactory;
  /** TimeLimit applied by `make`; undefined for none. */
  maxEpisodeSteps: number | undefined;
  /** The return at which the task counts as solved. */
  rewardThreshold: number | undefined;
  /** True if a seeded environment is still not deterministic. */
  nondeterministic: boolean;
  /** Default options passed to the entry point. */
  kwargs: Readonly<Record<string, unknown>>;
  /** Whether `make` applies OrderEnforcing. */
  orderEnforce: boolean;
  /** Whether `make` skips the PassiveEnvChecker. */
  disableEnvChecker: boolean;
  /** One line on what the environment is. */
  description: string;
}

/** The environment contract every environment of wmgym implements. */
export interface Env<O = unknown, A = unknown> extends TextView<A> {
  /** The space every observation lies in. */
  readonly observationSpace: Space<O, unknown>;
  /** The space every action must lie in (anything else throws `InvalidActionError`). */
  readonly actionSpace: Space<A, unknown>;
  /** Static facts: render modes, frames per second. */
  readonly metadata: EnvMetadata;
  /** Fixed at construction; undefined means `render()` draws nothing. */
  readonly renderMode: RenderMode | undefined;
  /** Set by `make`. */
  spec: EnvSpec | undefined;
  /** The innermost environment, under every wrapper. */
  readonly unwrapped: Env;
  /** Starts an episode; `seed` re-seeds the generator, no seed continues it. */
  reset(args?: ResetArgs): ResetResult<O>;
  /** Advances one step with an action of `actionSpace`. */
  step(action: A): StepResult<O>;
  /** Draws the current state in `renderMode` (undefined without one). */
  render(): RenderFrame | undefined;
  /** Releases resources; calling it twice is harmless. */
  close(): void;
  /** A plain-JSON snapshot of everything that determines the future (generator included). */
  getState(): JsonValue;
  /** Restores a snapshot from `getState`; a foreign one throws `InvalidStateError`. */
  setState(state: JsonValue): void;
}

/** The id of an environment for messages: its spec id, or its class name. */
export function envId(env: Env): string {
  return env.spec?.id ?? env.unwrapped.spec?.id ?? env.unwrapped.constructor.name;
}

/** Options every environment constructor accepts. */
export interface BaseEnvOptions {
  /** How `render()` draws. @defaultValue undefined (no rendering) */
  renderMode?: RenderMode | undefined;
}

interface BaseSnapshot {
  rng: RngState | null;
  env: JsonValue;
}

/**
 * Base class of the suite's environments: the generator and its seeding rule, the action check
 * with the env id in the message, and snapshots (generator + the subclass's own state).
 */
export abstract class BaseEnv<O, A> implements Env<O, A> {
  abstract readonly observationSpace: Space<O, unknown>;
  abstract readonly actionSpace: Space<A, unknown>;
  abstract readonly metadata: EnvMetadata;
  readonly renderMode: RenderMode | undefined;
  spec: EnvSpec | undefined = undefined;
  private generator: Rng | undefined;

  constructor(options: BaseEnvOptions = {}) {
    this.renderMode = options.renderMode;
  }

  get unwrapped(): Env {
    return this;
  }

  /** The id used in messages. */
  get id(): string {
    return this.spec?.id ?? this.constructor.name;
  }

  /** The environment's generator (Gymnasium's `np_random`); created from OS entropy if never seeded. */
  get npRandom(): Rng {
    this.generator ??= this.createRng(entropySeed());
    return this.generator;
  }

  /** Same as {@link BaseEnv.npRandom}, for subclasses. */
  protected get rng(): Rng {
    return this.npRandom;
  }

  /**
   * Call first in `reset`: a seed re-creates the generator; no seed continues the current one
   * (created from OS entropy the first time). The action space keeps its own generator, as in Gymnasium.
   */
  protected seedRng(seed: number | undefined): void {
    if (seed !== undefined) this.generator = this.createRng(checkSeed(seed, 'reset({seed})'));
    else this.generator ??= this.createRng(entropySeed());
  }

  /** The generator family; environments whose start states must equal Gymnasium's return `Rng.numpy(seed)`. */
  protected createRng(seed: number): Rng {
    return new Rng(seed);
  }

  /** Throws `InvalidActionError` (naming this env, the action and the space) unless the action is in the action space. */
  protected checkAction(action: unknown): asserts action is A {
    // contains() first: the message (and the id) are built only for a bad action.
    if (!this.actionSpace.contains(action)) {
      this.actionSpace.check(action, `action for ${this.id}`, InvalidActionError);
    }
  }

  abstract reset(args?: ResetArgs): ResetResult<O>;
  abstract step(action: A): StepResult<O>;
  abstract render(): RenderFrame | undefined;
  abstract describe(): string;
  abstract commands(): string[];
  abstract parseCommand(text: string): A;

  close(): void {
    // Nothing to release by default; subclasses holding resources override (idempotently).
  }

  getState(): JsonValue {
    const snapshot: BaseSnapshot = {
      rng: this.generator?.getState() ?? null,
      env: this.saveState(),
    };
    return snapshot as unknown as JsonValue;
  }

  setState(state: JsonValue): void {
    const s = state as Partial<BaseSnapshot> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      Array.isArray(s) ||
      !('env' in s) ||
      !(s.rng === null || isRngState(s.rng))
    ) {
      throw new InvalidStateError(this.id, '{rng, env} from getState()', state);
    }
    this.loadState(s.env); // validates before anything changes
    this.generator = s.rng === null ? undefined : Rng.fromState(s.rng);
  }

  /** The subclass's own state (positions, velocities, flags), plain JSON. */
  protected abstract saveState(): JsonValue;

  /** Restores {@link BaseEnv.saveState}; throws `InvalidStateError` on a malformed state. */
  protected abstract loadState(state: JsonValue): void;
}

/** Throws `InvalidStateError` unless `state` is an object with finite numbers under every key given. */
export function readNumbers<K extends string>(
  owner: string,
  state: JsonValue,
  keys: readonly K[],
): Record<K, number> {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new InvalidStateError(owner, `an object with ${keys.join(', ')}`, state);
  }
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const v = state[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidStateError(owner, `a finite number at .${key}`, v);
    }
    out[key] = v;
  }
  return out;
}

interface WrapperSnapshot {
  env: JsonValue;
  wrapper: JsonValue;
}

/**
 * Base of every wrapper: forwards everything to the wrapped environment. Subclasses override the
 * getters and methods they change; wrapper state (counters, statistics) goes into snapshots through
 * `saveWrapperState` / `loadWrapperState`.
 */
export class Wrapper<O = unknown, A = unknown, InnerO = O, InnerA = A> implements Env<O, A> {
  /** The wrapped environment. */
  readonly env: Env<InnerO, InnerA>;
  private ownSpec: EnvSpec | undefined;

  constructor(env: Env<InnerO, InnerA>) {
    this.env = env;
  }

  get observationSpace(): Space<O, unknown> {
    return this.env.observationSpace as unknown as Space<O, unknown>;
  }

  get actionSpace(): Space<A, unknown> {
    return this.env.actionSpace as unknown as Space<A, unknown>;
  }

  get metadata(): EnvMetadata {
    return this.env.metadata;
  }

  get renderMode(): RenderMode | undefined {
    return this.env.renderMode;
  }

  get spec(): EnvSpec | undefined {
    return this.ownSpec ?? this.env.spec;
  }

  set spec(spec: EnvSpec | undefined) {
    this.ownSpec = spec;
  }

  get unwrapped(): Env {
    return this.env.unwrapped;
  }

  /** The id used in messages. */
  get id(): string {
    return envId(this);
  }

  reset(args?: ResetArgs): ResetResult<O> {
    return this.env.reset(args) as unknown as ResetResult<O>;
  }

  step(action: A): StepResult<O> {
    return this.env.step(action as unknown as InnerA) as unknown as StepResult<O>;
  }

  render(): RenderFrame | undefined {
    return this.env.render();
  }

  close(): void {
    this.env.close();
  }

  describe(): string {
    return this.env.describe();
  }

  commands(): string[] {
    return this.env.commands();
  }

  parseCommand(text: string): A {
    return this.env.parseCommand(text) as unknown as A;
  }

  getState(): JsonValue {
    const snapshot: WrapperSnapshot = {
      env: this.env.getState(),
      wrapper: this.saveWrapperState(),
    };
    return snapshot as unknown as JsonValue;
  }

  setState(state: JsonValue): void {
    const s = state as Partial<WrapperSnapshot> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      Array.isArray(s) ||
      !('env' in s) ||
      !('wrapper' in s)
    ) {
      throw new InvalidStateError(
        `${this.constructor.name}(${this.id})`,
        '{env, wrapper} from getState()',
        state,
      );
    }
    this.checkWrapperState(s.wrapper);
    this.env.setState(s.env);
    this.loadWrapperState(s.wrapper);
  }

  /** This wrapper's own state for snapshots. @defaultValue null */
  protected saveWrapperState(): JsonValue {
    return null;
  }

  /** Throws `InvalidStateError` if `state` is not one {@link Wrapper.saveWrapperState} makes (called before any restore). */
  protected checkWrapperState(state: JsonValue): void {
    if (state !== null) throw new InvalidStateError(this.constructor.name, 'null', state);
  }

  /** Restores {@link Wrapper.saveWrapperState}, already checked. */
  protected loadWrapperState(_state: JsonValue): void {
    // Stateless by default.
  }
}

/** A wrapper that transforms observations: implement `observation` (and the `observationSpace` getter). */
export abstract class ObservationWrapper<O, A, InnerO> extends Wrapper<O, A, InnerO, A> {
  /** Maps an inner observation to this wrapper's observation. */
  abstract observation(observation: InnerO): O;

  override reset(args?: ResetArgs): ResetResult<O> {
    const { observation, info } = this.env.reset(args);
    return { observation: this.observation(observation), info };
  }

  override step(action: A): StepResult<O> {
    const result = this.env.step(action);
    return { ...result, observation: this.observation(result.observation) };
  }
}

/**
 * A wrapper that transforms actions: implement `action` (outer → inner) and `reverseAction`
 * (inner → outer, so `parseCommand` of the inner environment still answers in this action space).
 */
export abstract class ActionWrapper<O, A, InnerA> extends Wrapper<O, A, O, InnerA> {
  /** Maps this wrapper's action to the inner environment's action. */
  abstract action(action: A): InnerA;
  /** Maps an inner action back to this wrapper's action space. */
  abstract reverseAction(action: InnerA): A;

  override step(action: A): StepResult<O> {
    return this.env.step(this.action(action));
  }

  override parseCommand(text: string): A {
    return this.reverseAction(this.env.parseCommand(text));
  }
}

/** A wrapper that transforms rewards: implement `reward`. */
export abstract class RewardWrapper<O, A> extends Wrapper<O, A> {
  /** Maps an inner reward to this wrapper's reward. */
  abstract reward(reward: number): number;

  override step(action: A): StepResult<O> {
    const result = this.env.step(action);
    result.reward = this.reward(result.reward);
    return result;
  }
}
