/**
 * The registry: `register` a versioned id (`Name-vN`, optionally `namespace/Name-vN`) with an entry
 * point, then `make(id)` builds it wrapped in PassiveEnvChecker → OrderEnforcing → TimeLimit, as
 * Gymnasium's `make` does. An unknown id throws with the closest ids.
 *
 * @example
 * register({ id: 'MyGrid-v0', entryPoint: (o) => new MyGridEnv(o), maxEpisodeSteps: 100 });
 * const env = make('MyGrid-v0', { size: 9 });
 */
import { EnvNotFoundError, InvalidOptionError, RegistrationError, formatValue } from './errors.js';
import type { Env, EnvFactory, EnvSpec, RenderMode } from './env.js';
import { OrderEnforcing, TimeLimit } from './wrappers/common.js';
import { PassiveEnvChecker } from './wrappers/env-checker.js';

/** What `register` takes; everything but `id` and `entryPoint` is optional. */
export interface RegisterOptions {
  /** `[namespace/]Name-vN` */
  id: string;
  /** Builds the environment from its options (`kwargs` merged with `make`'s, plus `renderMode`). */
  entryPoint: EnvFactory;
  /** TimeLimit that `make` applies. */
  maxEpisodeSteps?: number;
  /** The return at which the task counts as solved. */
  rewardThreshold?: number;
  /** True if the environment is not deterministic even when seeded. @defaultValue false */
  nondeterministic?: boolean;
  /** Default options for the entry point. @defaultValue {} */
  kwargs?: Record<string, unknown>;
  /** Apply OrderEnforcing in `make`. @defaultValue true */
  orderEnforce?: boolean;
  /** Skip the PassiveEnvChecker in `make`. @defaultValue false */
  disableEnvChecker?: boolean;
  /** One line on what the environment is. @defaultValue '' */
  description?: string;
  /** Replace an id already registered instead of throwing. @defaultValue false */
  override?: boolean;
}

/** Options of `make` that are not passed to the environment. */
export interface MakeOptions {
  /** How `render()` draws (passed to the environment, fixed at construction). */
  renderMode?: RenderMode;
  /** Overrides the registered TimeLimit; `null` for none. */
  maxEpisodeSteps?: number | null;
  /** Skip the PassiveEnvChecker. */
  disableEnvChecker?: boolean;
  /** Apply OrderEnforcing. */
  orderEnforce?: boolean;
}

const RENDER_MODES: readonly RenderMode[] = ['ansi', 'rgb_array'];
const ID_PATTERN = /^(?:([A-Za-z0-9_.:-]+)\/)?([A-Za-z0-9_.:-]+?)-v(\d+)$/;
const registry = new Map<string, EnvSpec>();

/** Registers an environment id. Throws `RegistrationError` on a malformed or duplicate id. */
export function register(options: RegisterOptions): EnvSpec {
  const { id } = options;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new RegistrationError(
      `Invalid environment id: expected "[namespace/]Name-vN" (e.g. "Pendulum-v1"), received ${formatValue(id)}`,
    );
  }
  if (typeof options.entryPoint !== 'function') {
    throw new RegistrationError(
      `Invalid entryPoint for ${id}: expected a function (options) => Env, received ${formatValue(options.entryPoint)}`,
    );
  }
  if (registry.has(id) && options.override !== true) {
    throw new RegistrationError(
      `Environment ${id} is already registered: expected a new id, received a duplicate. Pass override: true to replace it`,
    );
  }
  if (
    options.maxEpisodeSteps !== undefined &&
    (!Number.isSafeInteger(options.maxEpisodeSteps) || options.maxEpisodeSteps < 1)
  ) {
    throw new RegistrationError(
      `Invalid maxEpisodeSteps for ${id}: expected a positive integer, received ${formatValue(options.maxEpisodeSteps)}`,
    );
  }
  const spec: EnvSpec = Object.freeze({
    id,
    entryPoint: options.entryPoint,
    maxEpisodeSteps: options.maxEpisodeSteps,
    rewardThreshold: options.rewardThreshold,
    nondeterministic: options.nondeterministic ?? false,
    kwargs: Object.freeze({ ...options.kwargs }),
    orderEnforce: options.orderEnforce ?? true,
    disableEnvChecker: options.disableEnvChecker ?? false,
    description: options.description ?? '',
  });
  registry.set(id, spec);
  return spec;
}

/** The spec of a registered id; throws `EnvNotFoundError` (with the closest ids) otherwise. */
export function spec(id: string): EnvSpec {
  const found = registry.get(id);
  if (found !== undefined) return found;
  throw notFound(id);
}

/** Registered ids, sorted; a string filter keeps ids containing it (case-insensitive), a RegExp ids matching it. */
export function listEnvs(filter?: string | RegExp): string[] {
  const ids = [...registry.keys()].sort();
  if (filter === undefined) return ids;
  if (typeof filter === 'string')
    return ids.filter((id) => id.toLowerCase().includes(filter.toLowerCase()));
  return ids.filter((id) => filter.test(id));
}

/**
 * Builds a registered environment: entry point with `{...spec.kwargs, ...options, renderMode}`,
 * wrapped in PassiveEnvChecker (unless disabled), OrderEnforcing, and TimeLimit (when a limit is set).
 *
 * @throws {@link EnvNotFoundError} for an unknown id.
 * @throws {@link InvalidOptionError} for a bad `maxEpisodeSteps` or a render mode the env does not support.
 * @example
 * const env = make('CartPole-v1');
 * const { observation } = env.reset({ seed: 42 });
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function make<O = any, A = any>(
  id: string,
  options: MakeOptions & Record<string, unknown> = {},
): Env<O, A> {
  const envSpec = spec(id);
  const { renderMode, maxEpisodeSteps, disableEnvChecker, orderEnforce, ...kwargs } = options;
  if (renderMode !== undefined && !(RENDER_MODES as readonly unknown[]).includes(renderMode)) {
    throw new InvalidOptionError('renderMode', renderMode, '"ansi" or "rgb_array"');
  }
  const limit =
    maxEpisodeSteps === undefined ? envSpec.maxEpisodeSteps : (maxEpisodeSteps ?? undefined);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new InvalidOptionError('maxEpisodeSteps', limit, 'a positive integer or null');
  }
  const merged: Record<string, unknown> = { ...envSpec.kwargs, ...kwargs };
  if (renderMode !== undefined) merged['renderMode'] = renderMode;
  let env = envSpec.entryPoint(merged) as Env<O, A>;
  if (renderMode !== undefined && !env.metadata.renderModes.includes(renderMode)) {
    throw new InvalidOptionError(
      'renderMode',
      renderMode,
      `one of ${formatValue(env.metadata.renderModes)} for ${id}`,
    );
  }
  const specOfThisEnv: EnvSpec =
    limit === envSpec.maxEpisodeSteps && Object.keys(kwargs).length === 0
      ? envSpec
      : Object.freeze({ ...envSpec, maxEpisodeSteps: limit, kwargs: Object.freeze(merged) });
  env.unwrapped.spec = specOfThisEnv;
  if (!(disableEnvChecker ?? envSpec.disableEnvChecker)) env = new PassiveEnvChecker(env);
  if (orderEnforce ?? envSpec.orderEnforce) env = new OrderEnforcing(env);
  if (limit !== undefined) env = new TimeLimit(env, limit);
  env.spec = specOfThisEnv;
  return env;
}

/** Removes an id (for tests and plugins that re-register). Returns whether it was registered. */
export function unregister(id: string): boolean {
  return registry.delete(id);
}

function notFound(id: string): EnvNotFoundError {
  const ids = [...registry.keys()];
  const match = ID_PATTERN.exec(id);
  const name = match
    ? `${match[1] !== undefined ? `${match[1]}/` : ''}${match[2]}`
    : id.replace(/-v\d*$/, '');
  const versions = ids.filter((other) => other.replace(/-v\d+$/, '') === name);
  if (versions.length > 0) {
    return new EnvNotFoundError(
      id,
      versions.sort(),
      `registered versions of ${name}: ${versions.map((v) => v.slice(name.length + 1)).join(', ')}`,
    );
  }
  const lower = id.toLowerCase();
  const scored = ids
    .map((other) => ({ other, distance: levenshtein(lower, other.toLowerCase()) }))
    .filter(({ other, distance }) => distance <= Math.max(3, Math.floor(other.length / 3)))
    .sort((a, b) => a.distance - b.distance || a.other.localeCompare(b.other));
  return new EnvNotFoundError(
    id,
    scored.slice(0, 3).map((s) => s.other),
  );
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
