/**
 * Action wrappers for Box action spaces, as Gymnasium 1.0's `ClipAction` and `RescaleAction`.
 * Clipping is a wrapper the user chooses; environments never clip.
 *
 * @example
 * const env = new RescaleAction(make('Pendulum-v1'), -1, 1); // an agent acting in [-1, 1]
 * env.step(Float32Array.of(0.5)); // torque 1 N·m
 */
import { InvalidActionError, InvalidOptionError } from '../errors.js';
import { ActionWrapper, type Env } from '../env.js';
import { Box } from '../space.js';

/**
 * Clips each action into the inner Box before stepping. Its action space is
 * Box(-Infinity, Infinity) of the same shape (as Gymnasium 1.0), so any finite or infinite
 * float32 action is accepted; NaN and wrong lengths still throw `InvalidActionError`.
 */
export class ClipAction<O> extends ActionWrapper<O, Float32Array, Float32Array> {
  private readonly outerSpace: Box;
  private readonly inner: Box;

  /** @throws {@link InvalidOptionError} unless the environment's action space is a Box. */
  constructor(env: Env<O, Float32Array>) {
    super(env);
    this.inner = requireBox(env, 'ClipAction');
    this.outerSpace = new Box({ low: -Infinity, high: Infinity, shape: this.inner.shape });
  }

  override get actionSpace(): Box {
    return this.outerSpace;
  }

  /** The action clipped into the inner bounds, as a fresh array. @throws {@link InvalidActionError} for NaN or a wrong shape. */
  action(action: Float32Array): Float32Array {
    this.outerSpace.check(action, `action for ClipAction(${this.id})`, InvalidActionError);
    const { low, high } = this.inner;
    const out = new Float32Array(action.length);
    for (let i = 0; i < action.length; i++)
      out[i] = Math.min(high[i]!, Math.max(low[i]!, action[i]!));
    return out;
  }

  /** Inner actions are already outer actions. */
  reverseAction(action: Float32Array): Float32Array {
    return Float32Array.from(action);
  }
}

/**
 * Maps actions linearly from `[minAction, maxAction]` onto the inner Box's bounds
 * (`low + (high - low) · (a − min) / (max − min)`, per element). `reverseAction` is the inverse,
 * so `parseCommand` of the inner environment answers in the rescaled space.
 */
export class RescaleAction<O> extends ActionWrapper<O, Float32Array, Float32Array> {
  /** Lower bounds of the rescaled action space. */
  readonly minAction: Float32Array;
  /** Upper bounds of the rescaled action space. */
  readonly maxAction: Float32Array;
  private readonly outerSpace: Box;
  private readonly inner: Box;

  /**
   * @param minAction lower bound, a scalar or one per element
   * @param maxAction upper bound, a scalar or one per element
   * @throws {@link InvalidOptionError} unless the action space is a Box with finite bounds and
   * `minAction < maxAction` are finite (element-wise), of the right length.
   */
  constructor(
    env: Env<O, Float32Array>,
    minAction: number | ArrayLike<number>,
    maxAction: number | ArrayLike<number>,
  ) {
    super(env);
    this.inner = requireBox(env, 'RescaleAction');
    if (!this.inner.isBounded()) {
      throw new InvalidOptionError(
        `action space of ${this.id} for RescaleAction`,
        String(this.inner),
        'a Box with finite low and high',
      );
    }
    const size = this.inner.size;
    this.minAction = bounds(minAction, size, 'minAction');
    this.maxAction = bounds(maxAction, size, 'maxAction');
    for (let i = 0; i < size; i++) {
      if (!(this.minAction[i]! < this.maxAction[i]!)) {
        throw new InvalidOptionError(
          'minAction/maxAction of RescaleAction',
          `minAction[${i}]=${this.minAction[i]}, maxAction[${i}]=${this.maxAction[i]}`,
          'minAction < maxAction for every element',
        );
      }
    }
    this.outerSpace = new Box({
      low: this.minAction,
      high: this.maxAction,
      shape: this.inner.shape,
    });
  }

  override get actionSpace(): Box {
    return this.outerSpace;
  }

  /**
   * The inner action for an action of the rescaled space (computed in float64; the float32 result is
   * held inside the inner bounds, which only float rounding could cross).
   * @throws {@link InvalidActionError} unless `action` is in the rescaled space.
   */
  action(action: Float32Array): Float32Array {
    this.outerSpace.check(action, `action for RescaleAction(${this.id})`, InvalidActionError);
    const { low, high } = this.inner;
    const out = new Float32Array(action.length);
    for (let i = 0; i < action.length; i++) {
      const lo = low[i]!;
      const hi = high[i]!;
      const t = (action[i]! - this.minAction[i]!) / (this.maxAction[i]! - this.minAction[i]!);
      out[i] = lo + (hi - lo) * t;
      if (out[i]! > hi) out[i] = hi;
      else if (out[i]! < lo) out[i] = lo;
    }
    return out;
  }

  /** The rescaled action for an inner action (the inverse map), held inside the rescaled bounds. */
  reverseAction(action: Float32Array): Float32Array {
    const { low, high } = this.inner;
    const out = new Float32Array(action.length);
    for (let i = 0; i < action.length; i++) {
      const min = this.minAction[i]!;
      const max = this.maxAction[i]!;
      const t = (action[i]! - low[i]!) / (high[i]! - low[i]!);
      out[i] = min + (max - min) * t;
      if (out[i]! > max) out[i] = max;
      else if (out[i]! < min) out[i] = min;
    }
    return out;
  }
}

function requireBox(env: Env, wrapper: string): Box {
  const space = env.actionSpace;
  if (!(space instanceof Box)) {
    const id = env.spec?.id ?? env.unwrapped.constructor.name;
    throw new InvalidOptionError(
      `action space of ${id} for ${wrapper}`,
      String(space),
      'a Box action space',
    );
  }
  return space;
}

function bounds(value: unknown, size: number, name: string): Float32Array {
  const ok =
    typeof value === 'number'
      ? Number.isFinite(value)
      : (Array.isArray(value) || ArrayBuffer.isView(value)) &&
        (value as ArrayLike<unknown>).length === size &&
        Array.from(value as ArrayLike<unknown>).every(
          (v) => typeof v === 'number' && Number.isFinite(v),
        );
  if (!ok) {
    throw new InvalidOptionError(
      `${name} of RescaleAction`,
      value,
      `a finite number or ${size} finite numbers`,
    );
  }
  return typeof value === 'number'
    ? new Float32Array(size).fill(value)
    : Float32Array.from(value as ArrayLike<number>);
}
