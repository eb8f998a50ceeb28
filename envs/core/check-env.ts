/**
 * The environment checker a new environment is run through: what Gymnasium's `check_env` verifies
 * (spaces, reset/step return types, observations in the space, finite rewards, boolean flags,
 * seeded determinism, the generator continuing across unseeded resets, render modes, reset options)
 * plus what wmgym adds (typed errors for bad actions, TextView, snapshot round trip, no aliasing).
 * Quiet for a correct environment; a broken one gets an `EnvCheckError` naming the broken rule.
 *
 * @example checkEnv(make('Pendulum-v1')); // throws EnvCheckError('reset-determinism', ...) on a broken env
 */
import {
  CommandParseError,
  EnvCheckError,
  formatValue,
  InvalidActionError,
  InvalidStateError,
} from './errors.js';
import {
  Space,
  Box,
  Discrete,
  MultiBinary,
  MultiDiscrete,
  Text,
  Dict,
  Tuple,
  type AnySpace,
} from './space.js';
import { Rng } from './rng.js';
import {
  envId,
  type Env,
  type JsonValue,
  type RenderFrame,
  type RenderMode,
  type ResetResult,
  type StepResult,
} from './env.js';

/** Options of {@link checkEnv}. */
export interface CheckEnvOptions {
  /** Seed of the determinism checks. @defaultValue 42 */
  seed?: number;
  /** Steps of the seeded step-determinism check. @defaultValue 50 */
  steps?: number;
  /** Skip rendering in every declared mode. @defaultValue false */
  skipRenderCheck?: boolean;
}

/** Throws `EnvCheckError('spaces', ...)` unless both spaces are wmgym spaces. */
export function checkSpaces(env: Env): void {
  const id = envId(env);
  if (!(env.observationSpace instanceof Space))
    fail(
      'spaces',
      `${id}.observationSpace must be a Space, received ${formatValue(env.observationSpace)}`,
    );
  if (!(env.actionSpace instanceof Space))
    fail('spaces', `${id}.actionSpace must be a Space, received ${formatValue(env.actionSpace)}`);
  if (!Array.isArray(env.metadata.renderModes))
    fail(
      'metadata',
      `${id}.metadata.renderModes must be an array, received ${formatValue(env.metadata.renderModes)}`,
    );
  if (env.renderMode !== undefined && !env.metadata.renderModes.includes(env.renderMode)) {
    fail(
      'render-mode',
      `${id}.renderMode ${JSON.stringify(env.renderMode)} is not among metadata.renderModes ${formatValue(env.metadata.renderModes)}`,
    );
  }
}

/** Throws `EnvCheckError` unless `result` is a valid `reset` return for `env`. */
export function checkResetResult(
  env: Env,
  result: unknown,
): asserts result is ResetResult<unknown> {
  const id = envId(env);
  if (
    typeof result !== 'object' ||
    result === null ||
    !('observation' in result) ||
    !('info' in result)
  ) {
    fail(
      'reset-return',
      `${id}.reset() must return {observation, info}, received ${formatValue(result)}`,
    );
  }
  const r = result;
  checkInfo(id, 'reset', r.info);
  if (!env.observationSpace.contains(r.observation)) {
    fail(
      'reset-observation',
      `${id}.reset() returned an observation outside ${String(env.observationSpace)}: ${formatValue(r.observation)} (${env.observationSpace.explain(r.observation)})`,
    );
  }
}

/** Throws `EnvCheckError` unless `result` is a valid `step` return for `env`. */
export function checkStepResult(env: Env, result: unknown): asserts result is StepResult<unknown> {
  const id = envId(env);
  if (typeof result !== 'object' || result === null)
    fail('step-return', `${id}.step() must return an object, received ${formatValue(result)}`);
  const r = result as Partial<StepResult<unknown>>;
  for (const key of ['observation', 'reward', 'terminated', 'truncated', 'info'] as const) {
    if (!(key in r))
      fail(
        'step-return',
        `${id}.step() must return {observation, reward, terminated, truncated, info}; ${key} is missing`,
      );
  }
  if (!env.observationSpace.contains(r.observation)) {
    fail(
      'step-observation',
      `${id}.step() returned an observation outside ${String(env.observationSpace)}: ${formatValue(r.observation)} (${env.observationSpace.explain(r.observation)})`,
    );
  }
  if (typeof r.reward !== 'number' || !Number.isFinite(r.reward))
    fail(
      'step-reward',
      `${id}.step() must return a finite number reward, received ${formatValue(r.reward)}`,
    );
  if (typeof r.terminated !== 'boolean')
    fail(
      'step-flags',
      `${id}.step() must return terminated as a boolean, received ${formatValue(r.terminated)}`,
    );
  if (typeof r.truncated !== 'boolean')
    fail(
      'step-flags',
      `${id}.step() must return truncated as a boolean, received ${formatValue(r.truncated)}`,
    );
  checkInfo(id, 'step', r.info);
}

/** Throws `EnvCheckError('render', ...)` unless `frame` is what `mode` promises. */
export function checkRenderResult(
  env: Env,
  mode: RenderMode | undefined,
  frame: unknown,
): asserts frame is RenderFrame | undefined {
  const id = envId(env);
  if (mode === undefined) {
    if (frame !== undefined)
      fail(
        'render',
        `${id}.render() without a render mode must return undefined, received ${formatValue(frame)}`,
      );
    return;
  }
  if (mode === 'ansi') {
    if (typeof frame !== 'string' || frame.length === 0)
      fail(
        'render',
        `${id}.render() in 'ansi' mode must return non-empty text, received ${formatValue(frame)}`,
      );
    return;
  }
  const f = frame as { width?: unknown; height?: unknown; data?: unknown } | null;
  if (
    typeof f !== 'object' ||
    f === null ||
    typeof f.width !== 'number' ||
    typeof f.height !== 'number' ||
    !Number.isSafeInteger(f.width) ||
    !Number.isSafeInteger(f.height) ||
    f.width < 1 ||
    f.height < 1 ||
    !(f.data instanceof Uint8ClampedArray) ||
    f.data.length !== f.width * f.height * 4
  ) {
    fail(
      'render',
      `${id}.render() in 'rgb_array' mode must return {width, height, data: Uint8ClampedArray of width*height*4}, received ${formatValue(frame)}`,
    );
  }
}

/** Unseeded resets compared by the reset-rng-continues rule. */
const UNSEEDED_RESETS = 8;

/**
 * Runs every check on `env` (it is reset and stepped; its previous state is lost). Returns quietly
 * for a correct environment; throws `EnvCheckError` naming the first broken rule otherwise.
 */
export function checkEnv(env: Env, options: CheckEnvOptions = {}): void {
  const seed = options.seed ?? 42;
  const steps = options.steps ?? 50;
  const id = envId(env);
  checkSpaces(env);

  // reset: return type, observation, seeding.
  const first = guard('reset-return', () => env.reset({ seed }));
  checkResetResult(env, first);
  const again = env.reset({ seed });
  if (!deepEqual(first.observation, again.observation)) {
    fail(
      'reset-determinism',
      `${id}.reset({seed: ${seed}}) twice gave different observations: ${formatValue(first.observation)} then ${formatValue(again.observation)}`,
    );
  }
  // Several unseeded resets in a row, so that an env re-seeding from entropy is caught even when
  // its start states are few (one reset would coincide by chance).
  const unseeded = (): unknown[] =>
    Array.from({ length: UNSEEDED_RESETS }, () => {
      const result = env.reset();
      checkResetResult(env, result);
      return result.observation;
    });
  const continued = unseeded();
  env.reset({ seed });
  const continuedAgain = unseeded();
  for (let i = 0; i < UNSEEDED_RESETS; i++) {
    if (!deepEqual(continued[i], continuedAgain[i])) {
      fail(
        'reset-rng-continues',
        `${id}.reset() after reset({seed}) must continue the seeded generator deterministically; unseeded reset ${i + 1} of two such runs gave ${formatValue(continued[i])} and ${formatValue(continuedAgain[i])}`,
      );
    }
  }
  checkResetResult(
    env,
    guard('reset-options', () => env.reset({ seed, options: {} })),
  );

  // step: return types over a seeded random rollout, determinism, no aliasing.
  const runA = rollout(env, seed, steps);
  if (env.spec?.nondeterministic !== true) {
    const runB = rollout(env, seed, steps);
    for (let t = 0; t < runA.length; t++) {
      if (!deepEqual(runA[t], runB[t])) {
        fail(
          'step-determinism',
          `${id}: two rollouts with reset({seed: ${seed}}) and the same actions differ at step ${t}: ${formatValue(runA[t])} vs ${formatValue(runB[t])}`,
        );
      }
    }
  }

  checkAliasing(env, seed);

  // bad actions throw a typed error; nothing is clipped.
  env.reset({ seed });
  for (const bad of invalidValues(env.actionSpace)) {
    let thrown: unknown;
    try {
      env.step(bad);
    } catch (error) {
      thrown = error;
    }
    if (!(thrown instanceof InvalidActionError)) {
      fail(
        'invalid-action',
        `${id}.step(${formatValue(bad)}) with an action outside ${String(env.actionSpace)} must throw InvalidActionError, ${thrown === undefined ? 'it returned normally' : `it threw ${formatValue(describeThrown(thrown))}`}`,
      );
    }
  }

  checkSnapshots(env, seed);
  checkTextView(env, seed);
  if (options.skipRenderCheck !== true) checkRenderModes(env, seed);

  env.close();
  guard('close-idempotent', () => env.close());
}

interface Recorded {
  action: unknown;
  observation: unknown;
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

function rollout(env: Env, seed: number, steps: number): Recorded[] {
  const rng = new Rng(seed);
  env.reset({ seed });
  const out: Recorded[] = [];
  for (let t = 0; t < steps; t++) {
    const action = env.actionSpace.sample(rng);
    const result = guard('step-return', () => env.step(action));
    checkStepResult(env, result);
    out.push({
      action: clone(action),
      observation: clone(result.observation),
      reward: result.reward,
      terminated: result.terminated,
      truncated: result.truncated,
    });
    if (result.terminated || result.truncated) env.reset();
  }
  return out;
}

/** Observations must be fresh values the caller owns: later steps must not change them. */
function checkAliasing(env: Env, seed: number): void {
  const id = envId(env);
  const rng = new Rng(seed);
  const held: [unknown, unknown][] = [];
  const { observation } = env.reset({ seed });
  held.push([observation, clone(observation)]);
  for (let t = 0; t < 3; t++) {
    const result = env.step(env.actionSpace.sample(rng));
    held.push([result.observation, clone(result.observation)]);
    if (result.terminated || result.truncated) break;
  }
  for (const [value, copy] of held) {
    if (!deepEqual(value, copy)) {
      fail(
        'observation-aliasing',
        `${id}: an observation already returned was changed by a later step; return a fresh value the caller owns`,
      );
    }
  }
}

function checkSnapshots(env: Env, seed: number): void {
  const id = envId(env);
  const rng = new Rng(seed + 1);
  env.reset({ seed });
  for (let t = 0; t < 3; t++) {
    const r = env.step(env.actionSpace.sample(rng));
    if (r.terminated || r.truncated) env.reset();
  }
  const snapshot = guard('snapshot', () => env.getState());
  const text = JSON.stringify(snapshot);
  if (!deepEqual(JSON.parse(text), snapshot)) {
    fail(
      'snapshot',
      `${id}.getState() must return plain JSON (it changed through JSON.stringify/parse)`,
    );
  }
  const actions = Array.from({ length: 10 }, () => env.actionSpace.sample(rng));
  const play = (): unknown[] => {
    const seen: unknown[] = [];
    for (const action of actions) {
      const r = env.step(action);
      seen.push(clone([r.observation, r.reward, r.terminated, r.truncated]));
      if (r.terminated || r.truncated) break;
    }
    return seen;
  };
  const before = play();
  guard('snapshot', () => env.setState(JSON.parse(text) as JsonValue));
  const after = play();
  if (!deepEqual(before, after)) {
    fail(
      'snapshot',
      `${id}: after setState(getState()), the same actions gave ${formatValue(after)} instead of ${formatValue(before)}`,
    );
  }
  let thrown: unknown;
  try {
    env.setState({ not: 'a snapshot' });
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof InvalidStateError)) {
    fail(
      'snapshot-invalid',
      `${id}.setState() with a foreign value must throw InvalidStateError, ${thrown === undefined ? 'it returned normally' : `it threw ${describeThrown(thrown)}`}`,
    );
  }
}

function checkTextView(env: Env, seed: number): void {
  const id = envId(env);
  env.reset({ seed });
  const description = guard('textview', () => env.describe());
  if (typeof description !== 'string' || description.trim() === '')
    fail(
      'textview',
      `${id}.describe() must return non-empty text, received ${formatValue(description)}`,
    );
  const commands = guard('textview', () => env.commands());
  if (
    !Array.isArray(commands) ||
    commands.length === 0 ||
    !commands.every((c) => typeof c === 'string' && c.trim() !== '')
  ) {
    fail(
      'textview',
      `${id}.commands() must return a non-empty array of non-empty strings, received ${formatValue(commands)}`,
    );
  }
  for (const command of commands) {
    const concrete = instantiateCommand(command);
    let action: unknown;
    try {
      action = env.parseCommand(concrete);
    } catch (error) {
      fail(
        'textview',
        `${id}.parseCommand(${JSON.stringify(concrete)}) (from commands() entry ${JSON.stringify(command)}) threw: ${String(error)}`,
        error,
      );
    }
    if (!env.actionSpace.contains(action)) {
      fail(
        'textview',
        `${id}.parseCommand(${JSON.stringify(concrete)}) returned ${formatValue(action)}, outside ${String(env.actionSpace)}`,
      );
    }
  }
  let thrown: unknown;
  try {
    env.parseCommand('xyzzy plugh frobnicate');
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof CommandParseError)) {
    fail(
      'textview',
      `${id}.parseCommand("xyzzy plugh frobnicate") must throw CommandParseError, ${thrown === undefined ? 'it returned an action' : `it threw ${describeThrown(thrown)}`}`,
    );
  }
}

function checkRenderModes(env: Env, seed: number): void {
  env.reset({ seed });
  checkRenderResult(
    env,
    env.renderMode,
    guard('render', () => env.render()),
  );
  const spec = env.spec;
  if (spec === undefined) return;
  for (const mode of env.metadata.renderModes) {
    const other = guard('render', () => spec.entryPoint({ ...spec.kwargs, renderMode: mode }));
    other.reset({ seed });
    const frame = guard('render', () => other.render());
    checkRenderResult(other, mode, frame);
    other.close();
  }
}

/**
 * The convention for command forms: `<a..b>` stands for a number in [a, b]; the checker (and a
 * language-model prompt) may fill it with the middle of the range.
 */
export function instantiateCommand(form: string): string {
  return form.replace(/<\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*>/g, (_, a: string, b: string) =>
    String((Number(a) + Number(b)) / 2),
  );
}

/** Values outside a space (one per way of being outside), for the invalid-action check. */
export function invalidValues(space: AnySpace): unknown[] {
  if (space instanceof Discrete)
    return [space.start + space.n, space.start - 1, 0.5 + space.start, Number.NaN];
  if (space instanceof Box) {
    const nan = new Float32Array(space.size).fill(Number.NaN);
    const out: unknown[] = [nan, new Float32Array(space.size + 1)];
    const high = space.high.findIndex((h) => Number.isFinite(h) && h < 3.4e38);
    if (high >= 0) {
      const above = Float32Array.from(space.low, (l, i) =>
        Number.isFinite(l) ? l : Number.isFinite(space.high[i]!) ? space.high[i]! : 0,
      );
      above[high] = space.high[high]! + Math.max(1, Math.abs(space.high[high]!));
      out.push(above);
    }
    return out;
  }
  if (space instanceof MultiDiscrete)
    return [Int32Array.from(space.nvec, (n, i) => n + space.start[i]!)];
  if (space instanceof MultiBinary) return [new Uint8Array(space.size).fill(2)];
  if (space instanceof Text) return [42];
  if (space instanceof Dict || space instanceof Tuple) return [null];
  return [undefined];
}

/** Structural equality for observations: typed arrays by value, NaN equal to NaN. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor) return false;
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i]) && x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (
    typeof a === 'object' &&
    typeof b === 'object' &&
    a !== null &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) =>
        deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function checkInfo(id: string, method: string, info: unknown): void {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    fail(
      `${method}-info`,
      `${id}.${method}() must return info as a plain object, received ${formatValue(info)}`,
    );
  }
  const mask = (info as { actionMask?: unknown }).actionMask;
  if (mask !== undefined && !(mask instanceof Uint8Array)) {
    fail(
      `${method}-info`,
      `${id}.${method}() info.actionMask must be a Uint8Array, received ${formatValue(mask)}`,
    );
  }
}

function describeThrown(thrown: unknown): string {
  return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : formatValue(thrown);
}

function guard<T>(rule: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EnvCheckError) throw error;
    fail(
      rule,
      `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      error,
    );
  }
}

function fail(rule: string, message: string, cause?: unknown): never {
  throw new EnvCheckError(rule, message, cause === undefined ? {} : { cause });
}
