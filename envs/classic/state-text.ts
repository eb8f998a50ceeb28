/**
 * The canonical state text of the classic-control environments: the observation's numbers with
 * names, one line each in observation order, with fixed decimals. What a language prior is shown
 * and answers in, and what wmgym-lm's corpus is written in.
 *
 * ```
 * cos_theta: 0.9950
 * sin_theta: -0.0998
 * theta_dot: 1.2500
 * ```
 *
 * ## Names          CartPole `x`, `x_dot`, `theta`, `theta_dot`; Pendulum `cos_theta`, `sin_theta`,
 *                   `theta_dot`; MountainCarContinuous `position`, `velocity`; Acrobot `cos_theta1`,
 *                   `sin_theta1`, `cos_theta2`, `sin_theta2`, `theta1_dot`, `theta2_dot`.
 * ## Decimals       4 per value, 5 for MountainCarContinuous's velocity (it lies in [-0.07, 0.07]).
 *                   `-0.0000` is written `0.0000`; beyond 1e21 JavaScript's exponent form.
 * ## Round trip     `decode(encode(s))` equals `s` within {@link ClassicStateText.tolerance}: half a
 *                   unit of the last decimal plus half a float32 ulp of the value, per entry.
 * ## Decode         every name exactly once, in any order; blank lines and spaces around a line are
 *                   ignored; numbers in decimal or exponent notation. Values are not held to the
 *                   observation space's bounds (an imagined state may lie just outside them), only to
 *                   finite float32. Every entry is in the text, so the reference state only fixes the
 *                   length. Anything else throws {@link StateTextParseError} naming the line.
 * ## Commands       `commandText(action)`: CartPole `push left` / `push right`, Acrobot `torque -1` /
 *                   `torque 0` / `torque +1`, Pendulum `torque <u>`, MountainCarContinuous
 *                   `force <a>` (4 decimals); each parses back with the environment's `parseCommand`.
 * @example
 * const codec = classicStateText(make('Pendulum-v1'));
 * codec.encode(Float32Array.of(1, 0, 0.5)); // "cos_theta: 1.0000\nsin_theta: 0.0000\ntheta_dot: 0.5000"
 */
import { envId, type Env } from '../core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
  formatValue,
} from '../core/errors.js';
import { AcrobotEnv } from './acrobot.js';
import { CartPoleEnv } from './cartpole.js';
import { MountainCarContinuousEnv } from './mountain-car-continuous.js';
import { PendulumEnv } from './pendulum.js';

/** What a classic-control environment's state text names and how precisely it writes it. */
export interface ClassicStateTextSpec {
  /** Name of each observation entry, in order (lower-case letters, digits, underscores). */
  names: readonly string[];
  /** Decimals of each entry. */
  decimals: readonly number[];
  /**
   * Discrete actions: the command of each action index. Continuous (one value): the command word,
   * written `<word> <value>` with 4 decimals.
   */
  commands: readonly string[] | { word: string };
}

const ACTION_DECIMALS = 4;
const NAME = /^[a-z][a-z0-9_]*$/;
const LINE = /^([A-Za-z][A-Za-z0-9_]*)\s*[:=]\s*(\S+)$/;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/** The state-text codec of one classic-control environment; see the module comment. */
export class ClassicStateText {
  /** The environment the text speaks of (for messages). */
  readonly envId: string;
  /** Entries in a state. */
  readonly size: number;
  /** Name of each entry. */
  readonly names: readonly string[];
  /** Decimals of each entry. */
  readonly decimals: readonly number[];
  private readonly commands: readonly string[] | { word: string };
  private readonly index: ReadonlyMap<string, number>;

  /** @throws {@link InvalidOptionError} for names that are not distinct identifiers or decimals outside 0..12. */
  constructor(envId: string, spec: ClassicStateTextSpec) {
    if (spec.names.length === 0 || !spec.names.every((n) => NAME.test(n)))
      throw new InvalidOptionError(
        'ClassicStateText names',
        spec.names,
        'one or more lower-case identifiers (letters, digits, underscores)',
      );
    if (new Set(spec.names).size !== spec.names.length)
      throw new InvalidOptionError('ClassicStateText names', spec.names, 'distinct names');
    if (
      spec.decimals.length !== spec.names.length ||
      !spec.decimals.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= 12)
    )
      throw new InvalidOptionError(
        'ClassicStateText decimals',
        spec.decimals,
        `${spec.names.length} integers in 0..12, one per name`,
      );
    this.envId = envId;
    this.size = spec.names.length;
    this.names = Object.freeze([...spec.names]);
    this.decimals = Object.freeze([...spec.decimals]);
    this.commands = spec.commands;
    this.index = new Map(spec.names.map((n, i) => [n, i]));
  }

  /**
   * The canonical text of `state` (any finite vector of the right length).
   * @throws {@link InvalidValueError} for another length or a value that is not finite.
   */
  encode(state: ArrayLike<number>): string {
    this.check(state, `state for the state text of ${this.envId}`);
    const lines: string[] = [];
    for (let i = 0; i < this.size; i++)
      lines.push(`${this.names[i]!}: ${formatFixed(state[i]!, this.decimals[i]!)}`);
    return lines.join('\n');
  }

  /**
   * The state a text describes (see the module comment); `reference` only fixes the length.
   * @throws {@link StateTextParseError} for text that does not parse.
   * @throws {@link InvalidValueError} for a reference of another length.
   */
  decode(text: string, reference: ArrayLike<number>): Float32Array {
    this.check(reference, `reference state for the state text of ${this.envId}`);
    const what = `state text of ${this.envId}`;
    if (typeof text !== 'string')
      throw new StateTextParseError(what, undefined, String(text), 'a string');
    const out = new Float32Array(this.size);
    const seen = new Int32Array(this.size);
    const lines = text.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!.trim();
      if (line === '') continue;
      const match = LINE.exec(line);
      const i = match === null ? undefined : this.index.get(match[1]!.toLowerCase());
      if (match === null || i === undefined)
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          `"<name>: <number>" with a name of ${this.names.join(', ')}`,
        );
      if (seen[i] !== 0)
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          `each name once (${this.names[i]!} is already at line ${seen[i]!})`,
        );
      const value = NUMBER.test(match[2]!) ? Math.fround(Number(match[2])) : NaN;
      if (!Number.isFinite(value))
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          `a finite float32 number after "${this.names[i]!}:"`,
        );
      out[i] = value;
      seen[i] = k + 1;
    }
    const missing = this.names.filter((_, i) => seen[i] === 0);
    if (missing.length > 0)
      throw new StateTextParseError(
        what,
        undefined,
        text,
        `a line for each of ${this.names.join(', ')}`,
        `Missing: ${missing.join(', ')}`,
      );
    return out;
  }

  /**
   * The command of an action in the environment's words (a Discrete index, or a continuous action's
   * value).
   * @throws {@link InvalidValueError} for an action index out of range or a value that is not finite.
   */
  commandText(action: number | ArrayLike<number>): string {
    const value = typeof action === 'number' ? action : action[0];
    const commands = this.commands;
    if (Array.isArray(commands)) {
      const list = commands as readonly string[];
      if (value === undefined || !Number.isInteger(value) || value < 0 || value >= list.length)
        throw new InvalidValueError(
          `action for the commands of ${this.envId}`,
          formatValue(action),
          `an integer in [0, ${list.length - 1}]`,
        );
      return list[value]!;
    }
    if (value === undefined || !Number.isFinite(value))
      throw new InvalidValueError(
        `action for the commands of ${this.envId}`,
        formatValue(action),
        'a finite number',
      );
    return `${(commands as { word: string }).word} ${formatFixed(value, ACTION_DECIMALS)}`;
  }

  /** The round-trip bound of entry `i` at `value`: half a unit of its last decimal plus half a float32 ulp. */
  tolerance(i: number, value: number): number {
    return 0.5 * 10 ** -this.decimals[i]! + Math.abs(value) * 2 ** -24 + Number.MIN_VALUE;
  }

  private check(state: ArrayLike<number>, what: string): void {
    if (!isVector(state) || state.length !== this.size)
      throw new InvalidValueError(
        what,
        formatValue(state),
        `${this.size} finite numbers (${this.names.join(', ')})`,
      );
    for (let i = 0; i < this.size; i++)
      if (!Number.isFinite(state[i]))
        throw new InvalidValueError(
          `${what} (${this.names[i]!})`,
          formatValue(state[i]),
          'a finite number',
        );
  }
}

const CARTPOLE: ClassicStateTextSpec = {
  names: ['x', 'x_dot', 'theta', 'theta_dot'],
  decimals: [4, 4, 4, 4],
  commands: ['push left', 'push right'],
};
const PENDULUM: ClassicStateTextSpec = {
  names: ['cos_theta', 'sin_theta', 'theta_dot'],
  decimals: [4, 4, 4],
  commands: { word: 'torque' },
};
const MOUNTAIN_CAR: ClassicStateTextSpec = {
  names: ['position', 'velocity'],
  decimals: [4, 5],
  commands: { word: 'force' },
};
const ACROBOT: ClassicStateTextSpec = {
  names: ['cos_theta1', 'sin_theta1', 'cos_theta2', 'sin_theta2', 'theta1_dot', 'theta2_dot'],
  decimals: [4, 4, 4, 4, 4, 4],
  commands: ['torque -1', 'torque 0', 'torque +1'],
};

/**
 * The state-text codec of a classic-control environment (wrappers allowed if they keep its
 * observations).
 * @throws {@link InvalidOptionError} for another environment, or a wrapper that changes the observation space.
 */
export function classicStateText(env: Env): ClassicStateText {
  const inner = env.unwrapped;
  const spec =
    inner instanceof CartPoleEnv
      ? CARTPOLE
      : inner instanceof PendulumEnv
        ? PENDULUM
        : inner instanceof MountainCarContinuousEnv
          ? MOUNTAIN_CAR
          : inner instanceof AcrobotEnv
            ? ACROBOT
            : undefined;
  if (spec === undefined)
    throw new InvalidOptionError(
      'classicStateText env',
      envId(env),
      'CartPole, Pendulum, MountainCarContinuous or Acrobot',
    );
  if (!env.observationSpace.equals(inner.observationSpace))
    throw new InvalidOptionError(
      'classicStateText env',
      String(env.observationSpace),
      `the observation space of ${envId(env)} itself (${String(inner.observationSpace)}): the text names its entries, so no wrapper may change them`,
    );
  return new ClassicStateText(envId(env), spec);
}

/** `x` with `decimals` decimals, `-0.00` written `0.00`. */
function formatFixed(x: number, decimals: number): string {
  const text = x.toFixed(decimals);
  return /^-0(?:\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A typed array or an array (what a state vector may come as). */
function isVector(value: unknown): value is ArrayLike<number> {
  return (ArrayBuffer.isView(value) && !(value instanceof DataView)) || Array.isArray(value);
}
