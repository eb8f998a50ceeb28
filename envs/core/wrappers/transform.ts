/**
 * TransformObservation and TransformReward: apply a function of your own to each observation or
 * reward, as Gymnasium 1.0's wrappers of the same names. Results are checked: an observation
 * outside the declared space or a reward that is not a finite number throws `InvalidValueError`
 * instead of travelling on.
 *
 * @example
 * const scaled = new TransformReward(make('CartPole-v1'), (r) => 0.1 * r);
 * const clipped = new TransformObservation(env, (o) => o.map((v) => Math.tanh(v)), new Box({ low: -1, high: 1, shape: [4] }));
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../errors.js';
import { ObservationWrapper, RewardWrapper, type Env } from '../env.js';
import { Space } from '../space.js';

/** Maps each observation (reset ones included) through `fn`; the result must lie in `observationSpace`. */
export class TransformObservation<O, A, InnerO> extends ObservationWrapper<O, A, InnerO> {
  private readonly fn: (observation: InnerO) => O;
  private readonly outerSpace: Space<O, unknown>;

  /**
   * @param fn maps an inner observation to an observation of `observationSpace`
   * @param observationSpace the space `fn`'s results lie in
   * @throws {@link InvalidOptionError} unless `fn` is a function and `observationSpace` a Space.
   */
  constructor(
    env: Env<InnerO, A>,
    fn: (observation: InnerO) => O,
    observationSpace: Space<O, unknown>,
  ) {
    super(env);
    if (typeof fn !== 'function')
      throw new InvalidOptionError(
        'fn of TransformObservation',
        fn,
        'a function (observation) => observation',
      );
    if (!(observationSpace instanceof Space)) {
      throw new InvalidOptionError(
        'observationSpace of TransformObservation',
        observationSpace,
        'a wmgym Space',
      );
    }
    this.fn = fn;
    this.outerSpace = observationSpace;
  }

  override get observationSpace(): Space<O, unknown> {
    return this.outerSpace;
  }

  /** `fn(observation)`. @throws {@link InvalidValueError} if the result is outside the declared space. */
  observation(observation: InnerO): O {
    const result = this.fn(observation);
    this.outerSpace.check(result, `observation from TransformObservation(${this.id})`);
    return result;
  }
}

/** Maps each reward through `fn`; the result must be a finite number. */
export class TransformReward<O, A> extends RewardWrapper<O, A> {
  private readonly fn: (reward: number) => number;

  /** @throws {@link InvalidOptionError} unless `fn` is a function. */
  constructor(env: Env<O, A>, fn: (reward: number) => number) {
    super(env);
    if (typeof fn !== 'function')
      throw new InvalidOptionError('fn of TransformReward', fn, 'a function (reward) => number');
    this.fn = fn;
  }

  /** `fn(reward)`. @throws {@link InvalidValueError} unless the result is a finite number. */
  reward(reward: number): number {
    const result = this.fn(reward);
    if (typeof result !== 'number' || !Number.isFinite(result)) {
      throw new InvalidValueError(
        `reward from TransformReward(${this.id})`,
        formatValue(result),
        'a finite number',
        `the inner reward was ${formatValue(reward)}`,
      );
    }
    return result;
  }
}
