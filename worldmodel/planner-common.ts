/**
 * What the imagination planners share ({@link ShootingPlanner}, {@link CemPlanner},
 * {@link MppiPlanner} and {@link SearchPlanner} in `planner.ts`, {@link MctsPlanner} in `mcts.ts`):
 * option resolution with function-valued hooks, the model check, masked sampling and the
 * non-finite prediction error. A file of its own so that `planner.ts` can name every planner in
 * `createPlanner` while `mcts.ts` uses these helpers without an import cycle.
 */
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import type { Rng } from '../envs/core/rng.js';
import { Box, Discrete } from '../envs/core/space.js';
import type { ImaginationModel } from './model.js';

/**
 * {@link resolveConfig} for a planner whose options also hold functions (`hooks`): unknown keys
 * and hooks that are not functions throw `InvalidOptionError` naming the option and the value.
 */
export function resolvePlannerConfig<C extends object, H extends object>(
  planner: string,
  defaults: Readonly<C>,
  rules: ConfigRules<C>,
  options: unknown,
  hooks: readonly (keyof H & string)[],
): { config: C; hooks: H } {
  if (
    options !== undefined &&
    (typeof options !== 'object' || options === null || Array.isArray(options))
  ) {
    throw new InvalidOptionError(`${planner} options`, options, 'an object of options');
  }
  const known = [...Object.keys(rules), ...hooks];
  const rest: Record<string, unknown> = {};
  const found: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `${planner}.${key}`,
        value,
        `one of the known options (${known.join(', ')})`,
        'Unknown option',
      );
    }
    if ((hooks as readonly string[]).includes(key)) {
      if (value !== undefined && typeof value !== 'function') {
        throw new InvalidOptionError(
          `${planner}.${key}`,
          value,
          key === 'value'
            ? 'a function (batch) => values'
            : 'a function (batch, rng, masks?) => actions',
        );
      }
      found[key] = value;
    } else {
      rest[key] = value;
    }
  }
  return { config: resolveConfig(planner, defaults, rules, rest), hooks: found as H };
}

/** Throws `InvalidOptionError` unless `model` has the shape of an {@link ImaginationModel}. */
export function checkModel(name: string, model: unknown): void {
  const m = model as Partial<ImaginationModel<unknown, unknown>> | null;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.step !== 'function' ||
    typeof m.batch !== 'function' ||
    typeof m.select !== 'function' ||
    typeof m.key !== 'function' ||
    !(m.actionSpace instanceof Discrete || m.actionSpace instanceof Box) ||
    !Number.isSafeInteger(m.members) ||
    m.members! < 1
  ) {
    throw new InvalidOptionError(
      `model of ${name}`,
      model,
      'an ImaginationModel (batch, size, select, step, key; a Discrete or Box actionSpace; members >= 1)',
    );
  }
}

/**
 * {@link checkModel}, and a Discrete action space (search planners); returns it.
 * @throws {@link InvalidOptionError} otherwise.
 */
export function checkDiscreteModel(name: string, model: unknown): Discrete {
  checkModel(name, model);
  const space = (model as ImaginationModel<unknown, unknown>).actionSpace;
  if (!(space instanceof Discrete)) {
    throw new InvalidOptionError(
      `model of ${name}`,
      String(space),
      'a model with a Discrete action space (CemPlanner or MppiPlanner plan Box actions)',
    );
  }
  return space;
}

/** The error for a non-finite predicted reward or value at `row` of imagined step `step`. */
export function nonFinite(
  what: string,
  value: number,
  row: number,
  step: number,
): InvalidValueError {
  return new InvalidValueError(
    `predicted ${what} at row ${row}, step ${step}`,
    formatValue(value),
    'a finite number',
    'the model produced a value the planner cannot rank',
  );
}

/** An index in 0..n-1 drawn uniformly among those `mask[offset + i] === 1` (all when no mask). */
export function sampleAllowed(
  rng: Rng,
  n: number,
  mask: Uint8Array | undefined,
  offset: number,
): number {
  if (mask === undefined) return rng.integer(n);
  let count = 0;
  for (let a = 0; a < n; a++) if (mask[offset + a] === 1) count++;
  if (count === 0) return rng.integer(n);
  let k = rng.integer(count);
  for (let a = 0; a < n; a++) {
    if (mask[offset + a] === 1 && k-- === 0) return a;
  }
  return n - 1;
}

/** The masks of the given rows (undefined when the model gave none). */
export function pickMasks(
  masks: Uint8Array | undefined,
  rows: readonly number[],
  n: number,
): Uint8Array | undefined {
  if (masks === undefined) return undefined;
  const out = new Uint8Array(rows.length * n);
  for (let i = 0; i < rows.length; i++)
    out.set(masks.subarray(rows[i]! * n, rows[i]! * n + n), i * n);
  return out;
}

/**
 * The mask a plan was given (`undefined`: every action allowed), checked: a Uint8Array of `n`
 * values with at least one 1.
 * @throws {@link InvalidOptionError} otherwise, naming `planner`.
 */
export function checkRootMask(planner: string, mask: unknown, n: number): Uint8Array | undefined {
  if (mask === undefined) return undefined;
  if (!(mask instanceof Uint8Array) || mask.length !== n || !mask.some((m) => m === 1)) {
    throw new InvalidOptionError(
      `actionMask of ${planner}.plan`,
      mask,
      `a Uint8Array of ${n} values with at least one 1`,
    );
  }
  return mask;
}
