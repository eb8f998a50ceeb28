/**
 * How the neural agents see spaces: observations flattened to float vectors (`flatten` from
 * envs/core: one-hot for discrete parts, values for boxes), actions as either a discrete index or
 * a bounded/unbounded box.
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import { Box, Discrete, flatdim, flattenInto, type AnySpace } from '../envs/core/space.js';
import type { EnvSpaces } from './agent.js';

/** The action space as the algorithms need it. */
export type ActionShape =
  | { kind: 'discrete'; n: number; start: number }
  | { kind: 'box'; size: number; low: Float32Array; high: Float32Array; bounded: boolean };

/** Describes `spaces.actionSpace`; throws `InvalidOptionError` unless its kind is in `supported`. */
export function actionShape(
  spaces: EnvSpaces,
  agent: string,
  supported: readonly ('discrete' | 'box')[],
): ActionShape {
  const space = spaces.actionSpace as AnySpace;
  if (space instanceof Discrete && supported.includes('discrete'))
    return { kind: 'discrete', n: space.n, start: space.start };
  if (space instanceof Box && supported.includes('box')) {
    return {
      kind: 'box',
      size: space.size,
      low: space.low,
      high: space.high,
      bounded: space.isBounded(),
    };
  }
  const allowed = supported.map((k) => (k === 'discrete' ? 'Discrete' : 'Box')).join(' or ');
  throw new InvalidOptionError(
    `${agent} spaces.actionSpace`,
    String(space),
    `a ${allowed} action space`,
  );
}

/** Turns observations of a space into flat float32 rows. */
export class ObservationEncoder {
  /** The observation space. */
  readonly space: AnySpace;
  /** Length of a flat row. */
  readonly size: number;

  constructor(space: AnySpace) {
    this.space = space;
    this.size = flatdim(space);
  }

  /** A fresh flat row for one observation; throws `InvalidValueError` if it is not in the space. */
  encode(observation: unknown, what = 'observation'): Float32Array {
    const out = new Float32Array(this.size);
    this.encodeInto(observation, out, 0, what);
    return out;
  }

  /** Writes the flat row of `observation` into `out` at row `row`. */
  encodeInto(observation: unknown, out: Float32Array, row: number, what = 'observation'): void {
    if (!this.space.contains(observation)) {
      throw new InvalidValueError(
        what,
        formatValue(observation),
        String(this.space),
        this.space.explain(observation),
      );
    }
    flattenInto(this.space, observation, out, row * this.size);
  }

  /** Flat rows of several observations, `[n, size]` row-major. */
  encodeBatch(observations: readonly unknown[], what = 'observation'): Float32Array {
    const out = new Float32Array(observations.length * this.size);
    observations.forEach((o, i) => this.encodeInto(o, out, i, what));
    return out;
  }
}

/**
 * Checks a mask against `n` discrete actions and returns it; undefined (no restriction) for no
 * mask or a mask allowing nothing — what environments report after an episode ended, where the
 * action is ignored (the step that autoresets a vector environment) or never taken.
 * @throws {@link InvalidValueError} for anything but a Uint8Array of n zeros and ones.
 */
export function checkMask(
  mask: Uint8Array | undefined,
  n: number,
  what = 'actionMask',
): Uint8Array | undefined {
  if (mask === undefined) return undefined;
  if (!(mask instanceof Uint8Array) || mask.length !== n || mask.some((m) => m > 1)) {
    throw new InvalidValueError(what, formatValue(mask), `a Uint8Array of ${n} values in {0, 1}`);
  }
  return mask.includes(1) ? mask : undefined;
}
