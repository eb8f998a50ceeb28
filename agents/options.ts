/**
 * Resolving `XOptions` into `XConfig`: defaults filled in, unknown keys and bad values rejected
 * with an `InvalidOptionError` that names the option, the value received and what is allowed.
 */
import { InvalidOptionError } from '../envs/core/errors.js';

/** How one config field is checked. */
export type FieldRule =
  | {
      kind: 'number';
      min?: number;
      max?: number;
      exclusiveMin?: boolean;
      exclusiveMax?: boolean;
      integer?: boolean;
      optional?: boolean;
    }
  | { kind: 'boolean' }
  | { kind: 'choice'; values: readonly (string | number)[] }
  /** An array of positive integers (non-empty unless `allowEmpty`). */
  | { kind: 'sizes'; allowEmpty?: boolean }
  | { kind: 'seed' }
  /** A string (non-empty unless `allowEmpty`). */
  | { kind: 'string'; allowEmpty?: boolean }
  /** A plain JSON object (copied), checked in depth by whoever reads it. */
  | { kind: 'object' };

/** Rules for every field of a config. */
export type ConfigRules<C> = { readonly [K in keyof C]-?: FieldRule };

/**
 * Merges `options` over `defaults` and checks every field against `rules`.
 *
 * @throws {@link InvalidOptionError} for an unknown option (naming the known ones) or a value
 * outside its rule.
 */
export function resolveConfig<C extends object>(
  agent: string,
  defaults: Readonly<C>,
  rules: ConfigRules<C>,
  options: unknown,
): C {
  if (
    options !== undefined &&
    (typeof options !== 'object' || options === null || Array.isArray(options))
  ) {
    throw new InvalidOptionError(`${agent} options`, options, 'an object of options');
  }
  const known = Object.keys(rules);
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `${agent}.${key}`,
        (options as Record<string, unknown>)[key],
        `one of the known options (${known.join(', ')})`,
        'Unknown option',
      );
    }
  }
  const config = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) config[key] = value;
  }
  for (const key of known) {
    const rule = (rules as Record<string, FieldRule>)[key]!;
    config[key] = checkField(`${agent}.${key}`, config[key], rule);
  }
  return config as C;
}

function checkField(option: string, value: unknown, rule: FieldRule): unknown {
  switch (rule.kind) {
    case 'number': {
      if (rule.optional === true && (value === undefined || value === null)) return undefined;
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (rule.integer !== true || Number.isSafeInteger(value)) &&
        (rule.min === undefined ||
          (rule.exclusiveMin === true ? value > rule.min : value >= rule.min)) &&
        (rule.max === undefined ||
          (rule.exclusiveMax === true ? value < rule.max : value <= rule.max));
      if (!ok) throw new InvalidOptionError(option, value, describeNumber(rule));
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'true or false');
      return value;
    case 'choice':
      if (!rule.values.includes(value as string | number))
        throw new InvalidOptionError(
          option,
          value,
          `one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`,
        );
      return value;
    case 'sizes':
      if (
        !Array.isArray(value) ||
        (value.length === 0 && rule.allowEmpty !== true) ||
        !value.every((v) => Number.isSafeInteger(v) && (v as number) > 0)
      ) {
        throw new InvalidOptionError(
          option,
          value,
          rule.allowEmpty === true
            ? 'an array of positive integers'
            : 'a non-empty array of positive integers',
        );
      }
      return [...(value as number[])];
    case 'seed':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        throw new InvalidOptionError(option, value, 'a non-negative integer');
      return value;
    case 'string':
      if (typeof value !== 'string' || (value === '' && rule.allowEmpty !== true))
        throw new InvalidOptionError(
          option,
          value,
          rule.allowEmpty === true ? 'a string' : 'a non-empty string',
        );
      return value;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new InvalidOptionError(option, value, 'an object of options');
      return JSON.parse(JSON.stringify(value)) as unknown;
  }
}

function describeNumber(rule: Extract<FieldRule, { kind: 'number' }>): string {
  const kind = rule.integer === true ? 'an integer' : 'a finite number';
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`${rule.exclusiveMin === true ? '>' : '>='} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`${rule.exclusiveMax === true ? '<' : '<='} ${rule.max}`);
  const range = parts.length > 0 ? ` ${parts.join(' and ')}` : '';
  return `${kind}${range}${rule.optional === true ? ' (or undefined)' : ''}`;
}
