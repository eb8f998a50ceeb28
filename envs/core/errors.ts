/**
 * Every error wmgym throws on bad input is a {@link WmgymError}: one base class, a `code` literal
 * per kind, and messages in one template — *what, where: expected …, received …* (+ a hint).
 *
 * @example
 * try { env.step(Float32Array.of(3.5)); }
 * catch (e) { if (isWmgymError(e) && e.code === 'INVALID_ACTION') console.log(e.received); }
 */

/** The kinds of error wmgym throws; `code` on every {@link WmgymError}. */
export type WmgymErrorCode =
  | 'INVALID_ACTION'
  | 'INVALID_VALUE'
  | 'INVALID_OPTION'
  | 'INVALID_SPACE'
  | 'INVALID_STATE'
  | 'RESET_NEEDED'
  | 'ENV_NOT_FOUND'
  | 'REGISTRATION'
  | 'ENV_CHECK_FAILED'
  | 'COMMAND_PARSE'
  | 'CLOSED'
  | 'RENDER'
  | 'MALFORMED_FILE'
  | 'ASYNC_CALL'
  | 'LANGUAGE_MODEL'
  | 'STATE_TEXT_PARSE';

/** Options every {@link WmgymError} constructor accepts besides its own context. */
export interface WmgymErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
}

/** Base class of every error wmgym throws on bad input. */
export class WmgymError extends Error {
  override name = 'WmgymError';
  /** What kind of error this is; stable across versions. */
  readonly code: WmgymErrorCode;

  constructor(code: WmgymErrorCode, message: string, options: WmgymErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True for any error thrown by wmgym (works across duplicated module copies, unlike `instanceof`). */
export function isWmgymError(error: unknown): error is WmgymError {
  return (
    error instanceof WmgymError ||
    (error instanceof Error &&
      typeof (error as { code?: unknown }).code === 'string' &&
      error.name.endsWith('Error') &&
      'code' in error &&
      /^[A-Z_]+$/.test((error as { code: string }).code) &&
      error.name !== 'Error' &&
      error.name !== 'SystemError')
  );
}

/** A value outside the space it must belong to (an observation, a sample, a flattened vector). */
export class InvalidValueError extends WmgymError {
  override name = 'InvalidValueError';
  /** What the value was for, e.g. `"observation of CartPole-v1"`. */
  readonly what: string;
  /** The value received, as text. */
  readonly received: string;
  /** What is allowed, as text (usually the space). */
  readonly allowed: string;

  constructor(
    what: string,
    received: string,
    allowed: string,
    hint = '',
    options: WmgymErrorOptions = {},
    code: WmgymErrorCode = 'INVALID_VALUE',
  ) {
    super(
      code,
      `Invalid ${what}: expected ${allowed}, received ${received}${hint ? `. ${hint}` : ''}`,
      options,
    );
    this.what = what;
    this.received = received;
    this.allowed = allowed;
  }
}

/** An action outside the environment's action space (NaN included). Nothing is clipped. */
export class InvalidActionError extends InvalidValueError {
  override name = 'InvalidActionError';

  constructor(
    what: string,
    received: string,
    allowed: string,
    hint = '',
    options: WmgymErrorOptions = {},
  ) {
    super(what, received, allowed, hint, options, 'INVALID_ACTION');
  }
}

/** A constructor or function option out of range or of the wrong type. */
export class InvalidOptionError extends WmgymError {
  override name = 'InvalidOptionError';
  /** The option's name, e.g. `"options.g"`. */
  readonly option: string;
  /** The value received, as text. */
  readonly received: string;
  /** What is allowed, as text. */
  readonly allowed: string;

  constructor(
    option: string,
    received: unknown,
    allowed: string,
    hint = '',
    options: WmgymErrorOptions = {},
  ) {
    const shown = formatValue(received);
    super(
      'INVALID_OPTION',
      `Invalid option ${option}: expected ${allowed}, received ${shown}${hint ? `. ${hint}` : ''}`,
      options,
    );
    this.option = option;
    this.received = shown;
    this.allowed = allowed;
  }
}

/** A space constructed from inconsistent parameters (low > high, n < 1, ...). */
export class InvalidSpaceError extends WmgymError {
  override name = 'InvalidSpaceError';

  constructor(message: string, options: WmgymErrorOptions = {}) {
    super('INVALID_SPACE', message, options);
  }
}

/** A snapshot given to `setState` that the environment did not produce. */
export class InvalidStateError extends WmgymError {
  override name = 'InvalidStateError';

  constructor(what: string, allowed: string, received: unknown, options: WmgymErrorOptions = {}) {
    super(
      'INVALID_STATE',
      `Invalid state for ${what}: expected ${allowed}, received ${formatValue(received)}`,
      options,
    );
  }
}

/** `step` (or `render`) called before the first `reset`, or after the episode ended. */
export class ResetNeededError extends WmgymError {
  override name = 'ResetNeededError';

  constructor(envId: string, reason: 'before-reset' | 'after-end', method = 'step') {
    super(
      'RESET_NEEDED',
      reason === 'before-reset'
        ? `Cannot call ${method}() on ${envId} before reset(): expected reset() first, received ${method}() on a fresh environment`
        : `Cannot call ${method}() on ${envId} after the episode ended: expected reset() after terminated or truncated, received ${method}()`,
    );
  }
}

/** An id that is not in the registry; the message names the closest ids. */
export class EnvNotFoundError extends WmgymError {
  override name = 'EnvNotFoundError';
  /** The id asked for. */
  readonly envId: string;
  /** The closest registered ids, best first. */
  readonly suggestions: readonly string[];

  constructor(envId: string, suggestions: readonly string[], detail = '') {
    const hint =
      suggestions.length === 0
        ? ''
        : ` Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?`;
    super('ENV_NOT_FOUND', `No environment "${envId}"${detail ? ` (${detail})` : ''}.${hint}`);
    this.envId = envId;
    this.suggestions = suggestions;
  }
}

/** `register` called with a malformed id, a duplicate id or a bad spec. */
export class RegistrationError extends WmgymError {
  override name = 'RegistrationError';

  constructor(message: string) {
    super('REGISTRATION', message);
  }
}

/** An environment that breaks a rule of the contract; thrown by `checkEnv` and the passive checker. */
export class EnvCheckError extends WmgymError {
  override name = 'EnvCheckError';
  /** The rule broken, e.g. `"reset-determinism"`. */
  readonly rule: string;

  constructor(rule: string, message: string, options: WmgymErrorOptions = {}) {
    super('ENV_CHECK_FAILED', `Environment check "${rule}" failed: ${message}`, options);
    this.rule = rule;
  }
}

/** Text that `parseCommand` cannot map to an action. */
export class CommandParseError extends WmgymError {
  override name = 'CommandParseError';
  /** The text received. */
  readonly text: string;
  /** Feedback a player would expect ("You can't see any such thing."), when the env gives one. */
  readonly feedback: string | undefined;

  constructor(envId: string, text: string, allowed: string, feedback?: string) {
    super(
      'COMMAND_PARSE',
      `Unknown command for ${envId}: expected ${allowed}, received ${JSON.stringify(text)}${feedback ? `. ${feedback}` : ''}`,
    );
    this.text = text;
    this.feedback = feedback;
  }
}

/**
 * Text that a state-text codec cannot read back into a state vector (the canonical text of a
 * state, or a language model's answer written in it): names the line, what was received and what
 * a line may say there.
 */
export class StateTextParseError extends WmgymError {
  override name = 'StateTextParseError';
  /** What was being read, e.g. `"state text of CartPole-v1"`. */
  readonly what: string;
  /** The line (1-based) of the text the problem is on; undefined when it concerns the whole text. */
  readonly line: number | undefined;
  /** The text received (the line, or the whole text). */
  readonly received: string;
  /** What is allowed there, as text. */
  readonly allowed: string;

  constructor(
    what: string,
    line: number | undefined,
    received: string,
    allowed: string,
    hint = '',
    options: WmgymErrorOptions = {},
  ) {
    const shown = received.length > 200 ? `${received.slice(0, 200)}…` : received;
    super(
      'STATE_TEXT_PARSE',
      `Unreadable ${what}${line === undefined ? '' : ` at line ${line}`}: expected ${allowed}, received ${JSON.stringify(shown)}${hint ? `. ${hint}` : ''}`,
      options,
    );
    this.what = what;
    this.line = line;
    this.received = received;
    this.allowed = allowed;
  }
}

/** A method called on an environment after `close()`. */
export class ClosedEnvError extends WmgymError {
  override name = 'ClosedEnvError';

  constructor(envId: string, method: string) {
    super(
      'CLOSED',
      `Cannot call ${method}() on ${envId}: expected an open environment, received a closed one`,
    );
  }
}

/**
 * A vector environment's asynchronous call out of order (`stepWait()` without `stepAsync()`, a
 * second call while one is pending), timed out, or a worker that stopped answering.
 */
export class AsyncCallError extends WmgymError {
  override name = 'AsyncCallError';
  /** What went wrong. */
  readonly reason: 'already-pending' | 'none-pending' | 'timeout' | 'worker-exited';

  constructor(
    reason: 'already-pending' | 'none-pending' | 'timeout' | 'worker-exited',
    message: string,
    options: WmgymErrorOptions = {},
  ) {
    super('ASYNC_CALL', message, options);
    this.reason = reason;
  }
}

/** `render()` asked of an environment that cannot draw in its render mode. */
export class RenderError extends WmgymError {
  override name = 'RenderError';

  constructor(message: string) {
    super('RENDER', message);
  }
}

/** A file (game file, snapshot, buffer) that does not follow its format; names the JSON path. */
export class MalformedFileError extends WmgymError {
  override name = 'MalformedFileError';
  /** The file's path. */
  readonly file: string;
  /** The JSON path inside the file, e.g. `$.rooms[3].exits.north`. */
  readonly jsonPath: string;

  constructor(file: string, jsonPath: string, problem: string, options: WmgymErrorOptions = {}) {
    super('MALFORMED_FILE', `Malformed file ${file} at ${jsonPath}: ${problem}`, options);
    this.file = file;
    this.jsonPath = jsonPath;
  }
}

const MAX_SHOWN_ITEMS = 12;

/**
 * Shows a value as the error messages do: typed arrays and arrays as `[a, b]` (at most 12 items),
 * NaN and infinities spelled out, strings quoted, the kind of container named when it is not the
 * expected one is up to the caller.
 */
export function formatValue(value: unknown, depth = 0): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number>);
    return `${value.constructor.name}${formatList(items.map((x) => formatNumber(x)))}`;
  }
  if (Array.isArray(value)) {
    if (depth > 2) return '[…]';
    return formatList(value.map((x) => formatValue(x, depth + 1)));
  }
  if (typeof value === 'object') {
    if (depth > 2) return '{…}';
    const entries = Object.entries(value as Record<string, unknown>);
    const shown = entries
      .slice(0, MAX_SHOWN_ITEMS)
      .map(([k, v]) => `${k}: ${formatValue(v, depth + 1)}`);
    if (entries.length > MAX_SHOWN_ITEMS) shown.push(`… ${entries.length - MAX_SHOWN_ITEMS} more`);
    return `{${shown.join(', ')}}`;
  }
  return typeof value === 'symbol' ? value.toString() : Object.prototype.toString.call(value);
}

function formatList(items: string[]): string {
  if (items.length <= MAX_SHOWN_ITEMS) return `[${items.join(', ')}]`;
  return `[${items.slice(0, MAX_SHOWN_ITEMS).join(', ')}, … ${items.length - MAX_SHOWN_ITEMS} more]`;
}

function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return String(x);
}
