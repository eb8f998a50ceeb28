/**
 * Pieces the four classic-control environments share: option and reset-bound validation (Gymnasium's
 * `utils.maybe_parse_reset_bounds`, with typed errors), snapshot reading, command-text helpers for
 * the TextViews, and a small character grid for the `ansi` pictures.
 */
import type { JsonValue, RenderMode } from '../core/env.js';
import { InvalidOptionError, InvalidStateError } from '../core/errors.js';

/** The render modes every classic-control environment supports. */
export const CLASSIC_RENDER_MODES: readonly RenderMode[] = Object.freeze([
  'ansi',
  'rgb_array',
] as const);

/**
 * Throws `InvalidOptionError` for a key of `options` not in `allowed` (a misspelt option is an
 * error, not silently ignored) and for a render mode other than `ansi`/`rgb_array`.
 */
export function checkConstructorOptions(
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
  if (mode !== undefined && !(CLASSIC_RENDER_MODES as readonly unknown[]).includes(mode)) {
    throw new InvalidOptionError(
      `options.renderMode of ${envName}`,
      mode,
      '"ansi", "rgb_array" or undefined',
    );
  }
}

/** Throws `InvalidOptionError` unless `options` (of `reset`) is undefined or an object whose keys are all in `allowed`. */
export function checkResetOptionKeys(
  envName: string,
  options: unknown,
  allowed: readonly string[],
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      `reset options of ${envName}`,
      options,
      `an object with optional ${allowed.join(', ')}`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        `reset options.${key} of ${envName}`,
        value,
        `only ${allowed.join(' and ')}`,
      );
    }
  }
}

/** A finite number from a reset option, or `fallback` when the option is absent. */
export function finiteResetOption(
  envName: string,
  options: Record<string, unknown> | undefined,
  key: string,
  fallback: number,
): number {
  const value = options?.[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidOptionError(`reset options.${key} of ${envName}`, value, 'a finite number');
  }
  return value;
}

/**
 * Gymnasium's `maybe_parse_reset_bounds`: `options.low` / `options.high` replace the default bounds
 * of the uniform start state. Unknown keys, non-numbers and `low > high` throw `InvalidOptionError`;
 * so do bounds outside `limits`, the range that keeps the start observation inside the observation
 * space (Gymnasium lets such a start through; here it would be an observation outside the space).
 */
export function parseResetBounds(
  envName: string,
  options: Record<string, unknown> | undefined,
  defaultLow: number,
  defaultHigh: number,
  limits?: { min: number; max: number; why: string },
): [low: number, high: number] {
  checkResetOptionKeys(envName, options, ['low', 'high']);
  const low = finiteResetOption(envName, options, 'low', defaultLow);
  const high = finiteResetOption(envName, options, 'high', defaultHigh);
  if (low > high) {
    throw new InvalidOptionError(
      `reset options.low/high of ${envName}`,
      { low, high },
      'low <= high',
    );
  }
  if (limits !== undefined && (low < limits.min || high > limits.max)) {
    throw new InvalidOptionError(
      `reset options.low/high of ${envName}`,
      { low, high },
      `${limits.min} <= low <= high <= ${limits.max} (${limits.why})`,
    );
  }
  return [low, high];
}

/**
 * Reads a snapshot made of finite numbers under `keys` (plus, for each key in `nullable`, a finite
 * number or null); throws `InvalidStateError` naming the first bad field.
 */
export function readSnapshot<K extends string, N extends string = never>(
  owner: string,
  state: JsonValue,
  keys: readonly K[],
  nullable: readonly N[] = [],
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
export function normalizeCommand(text: string): string {
  return text
    .toLowerCase()
    .trim()
    .replace(/^["'`]+|["'`]+$/g, '')
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A decimal number as a command writes it: `1`, `-0.5`, `+.25`, `1e-1`. */
export const NUMBER_PATTERN = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[+-]?\\d+)?';

/** Degrees from radians. */
export function degrees(radians: number): number {
  return (radians * 180) / Math.PI;
}

/** `x` with `digits` decimals and no negative zero. */
export function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A character grid for `ansi` pictures; (column, row) with row 0 at the top. */
export class TextGrid {
  private readonly rows: string[][];

  /** A `width` x `height` grid filled with `fill`. */
  constructor(width: number, height: number, fill = ' ') {
    this.rows = Array.from({ length: height }, () => Array.from({ length: width }, () => fill));
  }

  /** Puts `ch` at (column, row), rounded; off-grid is ignored (clipping, like the canvas). */
  put(column: number, row: number, ch: string): void {
    const r = this.rows[Math.round(row)];
    const c = Math.round(column);
    if (r !== undefined && c >= 0 && c < r.length) r[c] = ch;
  }

  /** Writes `text` from (column, row) to the right. */
  write(column: number, row: number, text: string): void {
    for (let i = 0; i < text.length; i++) this.put(column + i, row, text[i]!);
  }

  /** Marks the segment from (c0, r0) to (c1, r1) with `ch`. */
  line(c0: number, r0: number, c1: number, r1: number, ch: string): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(c1 - c0), Math.abs(r1 - r0))));
    for (let i = 0; i <= steps; i++)
      this.put(c0 + ((c1 - c0) * i) / steps, r0 + ((r1 - r0) * i) / steps, ch);
  }

  /** The grid as lines of text, trailing spaces removed. */
  toString(): string {
    return this.rows.map((r) => r.join('').replace(/\s+$/, '')).join('\n');
  }
}

/** Rotates (x, y) by `angle` radians counter-clockwise (y up), as pygame's `Vector2.rotate_rad`. */
export function rotate(x: number, y: number, angle: number): [number, number] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [x * c - y * s, x * s + y * c];
}
