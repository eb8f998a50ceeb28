/**
 * The base of the four classic-control environments, holding only what they share to the letter:
 * Gymnasium's NumPy generator (so `reset({seed})` draws Gymnasium's start state), the physical
 * state as a float64 vector with named entries (Gymnasium's `self.state`), the guard that asks for
 * `reset()` first, the observation as a fresh float32 array, the `ansi` / `rgb_array` dispatch,
 * the TextView's command plumbing, option checks (Gymnasium's `maybe_parse_reset_bounds`, with
 * typed errors) and snapshots of the state vector. Each environment keeps its physics, its words
 * and its drawing.
 */
import {
  BaseEnv,
  type BaseEnvOptions,
  type EnvMetadata,
  type JsonValue,
  type RenderFrame,
  type RenderMode,
  type ResetResult,
  type StepResult,
  type TextView,
} from '../core/env.js';
import {
  CommandParseError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** What a classic-control environment declares once, as a constant next to its constants. */
export interface ClassicControlSpec<K extends string, X extends string = never> {
  /** The class name, for option errors raised before the environment has an id. */
  name: string;
  /** Constructor options beyond `renderMode`; any other key is an `InvalidOptionError`. */
  optionKeys: readonly string[];
  /** Names of the state vector's entries, in order; they are also the fields of a snapshot. */
  stateKeys: readonly K[];
  /** Snapshot fields kept beside the state vector (see {@link ClassicControlEnv.restoreExtras}). @defaultValue [] */
  extraKeys?: readonly X[];
  /** Frames per second of an animation (`metadata.renderFps`). */
  renderFps: number;
  /** The command forms `commands()` lists. */
  commands: readonly string[];
  /** The admissible commands as a `CommandParseError` message lists them. */
  allowedCommands: string;
}

/** The bounds of a start-state range that keep the start observation inside the observation space. */
export interface ResetLimits {
  /** Lowest allowed `low`. */
  min: number;
  /** Highest allowed `high`. */
  max: number;
  /** Why, for the error message. */
  why: string;
}

/** The render modes every classic-control environment supports. */
const RENDER_MODES: readonly RenderMode[] = Object.freeze(['ansi', 'rgb_array'] as const);

/**
 * A classic-control environment: float32 observations computed from a float64 state vector.
 * `A` is the action, `K` names the state vector's entries and `X` the snapshot fields kept beside
 * it (a finite number or null each).
 */
export abstract class ClassicControlEnv<A, K extends string, X extends string = never>
  extends BaseEnv<Float32Array, A>
  implements TextView<A>
{
  readonly metadata: EnvMetadata;
  /** The physical state, in the order of {@link ClassicControlSpec.stateKeys}. */
  protected readonly state: Float64Array;
  private readonly stateKeys: readonly K[];
  private readonly extraKeys: readonly X[];
  private readonly commandForms: readonly string[];
  private readonly allowedCommands: string;
  private hasState = false;

  /** @throws {@link InvalidOptionError} for an option not in `spec.optionKeys` or a render mode other than `ansi` / `rgb_array`. */
  constructor(options: BaseEnvOptions, spec: ClassicControlSpec<K, X>) {
    checkConstructorOptions(spec.name, options, spec.optionKeys);
    super(options);
    this.metadata = Object.freeze({ renderModes: RENDER_MODES, renderFps: spec.renderFps });
    this.state = new Float64Array(spec.stateKeys.length);
    this.stateKeys = spec.stateKeys;
    this.extraKeys = spec.extraKeys ?? [];
    this.commandForms = spec.commands;
    this.allowedCommands = spec.allowedCommands;
  }

  /** NumPy's PCG64, so `reset({seed})` draws Gymnasium's start state. */
  protected override createRng(seed: number): Rng {
    return Rng.numpy(seed);
  }

  /** The observation of the current state, as a fresh array. @throws {@link ResetNeededError} before the first reset. */
  currentObservation(): Float32Array {
    this.requireState('currentObservation');
    return this.observe();
  }

  /** `ansi`: a text picture; `rgb_array`: Gymnasium's drawing; nothing without a render mode. */
  render(): RenderFrame | undefined {
    if (this.renderMode === undefined) return undefined;
    this.requireState('render');
    return this.renderMode === 'ansi' ? this.renderText() : this.renderRgb();
  }

  /** The physical situation in words, with units. @throws {@link ResetNeededError} before the first reset. */
  describe(): string {
    this.requireState('describe');
    return this.describeState();
  }

  /** The command forms, e.g. `push left` or `torque <-2..2>`. */
  commands(): string[] {
    return [...this.commandForms];
  }

  /**
   * Maps free text (any case, surrounding quotes and trailing punctuation ignored) to an action.
   * @throws {@link CommandParseError} naming the text received and the commands allowed.
   */
  parseCommand(text: string): A {
    if (typeof text !== 'string') throw this.unknownCommand(String(text));
    return this.parseNormalized(normalizeCommand(text), text);
  }

  /** The state vector by name, as a fresh object: for words and pictures (`step` reads {@link ClassicControlEnv.state}). */
  protected stateByName(): Record<K, number> {
    const named = {} as Record<K, number>;
    this.stateKeys.forEach((key, i) => (named[key] = this.state[i]!));
    return named;
  }

  /** The observation of the state vector (the state itself as float32 unless overridden). */
  protected observe(): Float32Array {
    const state = this.state;
    const observation = new Float32Array(state.length);
    for (let i = 0; i < state.length; i++) observation[i] = state[i]!;
    return observation;
  }

  /** The text picture of `ansi` mode. */
  protected abstract renderText(): string;

  /** The RGBA picture of `rgb_array` mode. */
  protected abstract renderRgb(): RenderFrame;

  /** {@link ClassicControlEnv.describe} once the environment has a state. */
  protected abstract describeState(): string;

  /** {@link ClassicControlEnv.parseCommand} on the normalised `command`; `text` is what was received. */
  protected abstract parseNormalized(command: string, text: string): A;

  /** The error for a command that does not parse, with an optional hint. */
  protected unknownCommand(text: string, feedback?: string): CommandParseError {
    return new CommandParseError(this.id, text, this.allowedCommands, feedback);
  }

  /** Throws `ResetNeededError` naming `method` until the first reset. */
  protected requireState(method = 'step'): void {
    if (!this.hasState) throw new ResetNeededError(this.id, 'before-reset', method);
  }

  /** Call at the end of `reset`, once the state vector is drawn: the first observation. */
  protected started(): ResetResult<Float32Array> {
    this.hasState = true;
    return { observation: this.observe(), info: {} };
  }

  /** The result of a step that left the new state in the state vector. */
  protected stepped(reward: number, terminated: boolean): StepResult<Float32Array> {
    return { observation: this.observe(), reward, terminated, truncated: false, info: {} };
  }

  /**
   * Gymnasium's `maybe_parse_reset_bounds`: `options.low` / `options.high` replace the default bounds
   * of the uniform start state. Unknown keys, non-numbers and `low > high` throw `InvalidOptionError`;
   * so do bounds outside `limits`, the range that keeps the start observation inside the observation
   * space (Gymnasium lets such a start through; here it would be an observation outside the space).
   */
  protected resetBounds(
    options: Record<string, unknown> | undefined,
    defaultLow: number,
    defaultHigh: number,
    limits: ResetLimits,
  ): [low: number, high: number] {
    this.checkResetOptionKeys(options, ['low', 'high']);
    const low = this.finiteResetOption(options, 'low', defaultLow);
    const high = this.finiteResetOption(options, 'high', defaultHigh);
    if (low > high) {
      throw new InvalidOptionError(
        `reset options.low/high of ${this.id}`,
        { low, high },
        'low <= high',
      );
    }
    if (low < limits.min || high > limits.max) {
      throw new InvalidOptionError(
        `reset options.low/high of ${this.id}`,
        { low, high },
        `${limits.min} <= low <= high <= ${limits.max} (${limits.why})`,
      );
    }
    return [low, high];
  }

  /** Throws `InvalidOptionError` unless `options` (of `reset`) is undefined or an object whose keys are all in `allowed`. */
  protected checkResetOptionKeys(options: unknown, allowed: readonly string[]): void {
    if (options === undefined) return;
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidOptionError(
        `reset options of ${this.id}`,
        options,
        `an object with optional ${allowed.join(', ')}`,
      );
    }
    for (const [key, value] of Object.entries(options)) {
      if (!allowed.includes(key)) {
        throw new InvalidOptionError(
          `reset options.${key} of ${this.id}`,
          value,
          `only ${allowed.join(' and ')}`,
        );
      }
    }
  }

  /** A finite number from a reset option, or `fallback` when the option is absent. */
  protected finiteResetOption(
    options: Record<string, unknown> | undefined,
    key: string,
    fallback: number,
  ): number {
    const value = options?.[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidOptionError(`reset options.${key} of ${this.id}`, value, 'a finite number');
    }
    return value;
  }

  /** The snapshot fields beside the state vector; none unless overridden. */
  protected saveExtras(): Record<X, number | null> {
    return {} as Record<X, number | null>;
  }

  /**
   * Restores the snapshot fields beside the state vector (`null`: as before the first reset).
   * Throws `InvalidStateError` before changing anything when a value is out of its range.
   */
  protected restoreExtras(_extras: Readonly<Record<X, number | null>> | null): void {
    // No fields beside the state vector by default.
  }

  protected saveState(): JsonValue {
    if (!this.hasState) return null;
    return { ...this.stateByName(), ...this.saveExtras() };
  }

  protected loadState(state: JsonValue): void {
    if (state === null) {
      this.hasState = false;
      this.restoreExtras(null);
      return;
    }
    const s = readSnapshot(this.id, state, this.stateKeys, this.extraKeys);
    this.restoreExtras(s);
    this.stateKeys.forEach((key, i) => (this.state[i] = s[key]!));
    this.hasState = true;
  }
}

/** A decimal number as a command writes it: `1`, `-0.5`, `+.25`, `1e-1`. */
export const NUMBER_PATTERN = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[+-]?\\d+)?';

/** An optional torque unit after a number: `N·m`, `Nm`, `n m`, `newton-metres`. */
export const TORQUE_UNIT_PATTERN = '(?:\\s*(?:n\\s*[·⋅*.\\- ]?\\s*m|newton[\\s-]*met(?:er|re)s?))?';

/** Degrees from radians. */
export function degrees(radians: number): number {
  return (radians * 180) / Math.PI;
}

/** `x` with `digits` decimals and no negative zero. */
export function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/**
 * Throws `InvalidOptionError` for a key of `options` not in `allowed` (a misspelt option is an
 * error, not silently ignored) and for a render mode other than `ansi`/`rgb_array`.
 */
function checkConstructorOptions(
  envName: string,
  options: unknown,
  allowed: readonly string[],
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`options of ${envName}`, options, 'an object');
  }
  const known = ['renderMode', ...allowed];
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `options.${key} of ${envName}`,
        value,
        `one of the options ${known.join(', ')}`,
      );
    }
  }
  const mode = (options as { renderMode?: unknown }).renderMode;
  if (mode !== undefined && !(RENDER_MODES as readonly unknown[]).includes(mode)) {
    throw new InvalidOptionError(
      `options.renderMode of ${envName}`,
      mode,
      '"ansi", "rgb_array" or undefined',
    );
  }
}

/**
 * Reads a snapshot made of finite numbers under `keys` (plus, for each key in `nullable`, a finite
 * number or null); throws `InvalidStateError` naming the first bad field.
 */
function readSnapshot<K extends string, N extends string>(
  owner: string,
  state: JsonValue,
  keys: readonly K[],
  nullable: readonly N[],
): Record<K, number> & Record<N, number | null> {
  const expected = `{${[...keys, ...nullable.map((k) => `${k}|null`)].join(', ')}}`;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new InvalidStateError(owner, `${expected} or null (before the first reset)`, state);
  }
  const out: Record<string, number | null> = {};
  for (const key of keys) {
    const v = state[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidStateError(owner, `a finite number at .${key} of ${expected}`, v);
    }
    out[key] = v;
  }
  for (const key of nullable) {
    const v = state[key];
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new InvalidStateError(owner, `a finite number or null at .${key} of ${expected}`, v);
    }
    out[key] = v ?? null;
  }
  const extra = Object.keys(state).find(
    (k) => !(keys as readonly string[]).includes(k) && !(nullable as readonly string[]).includes(k),
  );
  if (extra !== undefined)
    throw new InvalidStateError(owner, `only the fields of ${expected}, not .${extra}`, state);
  return out as Record<K, number> & Record<N, number | null>;
}

/** Lower-cases, trims, collapses spaces and drops trailing punctuation and surrounding quotes. */
function normalizeCommand(text: string): string {
  return text
    .toLowerCase()
    .trim()
    .replace(/^["'`]+|["'`]+$/g, '')
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}
