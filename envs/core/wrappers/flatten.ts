/**
 * FlattenObservation: any observation as one flat Float32Array, as Gymnasium's
 * `FlattenObservation` (Discrete and MultiDiscrete one-hot, Dict by sorted key, Tuple in order).
 *
 * @example
 * const env = new FlattenObservation(make('GridNav-Empty-5x5-v0'));
 * env.observationSpace; // a Box of flatdim(inner space) values
 */
import { ObservationWrapper, type Env } from '../env.js';
import { flatten, flattenSpace, type Box } from '../space.js';

/** Flattens observations with {@link flatten}; the observation space is {@link flattenSpace} of the inner one. */
export class FlattenObservation<O, A> extends ObservationWrapper<Float32Array, A, O> {
  private readonly outerSpace: Box;

  /** @throws {@link InvalidSpaceError} for a space that cannot be flattened. */
  constructor(env: Env<O, A>) {
    super(env);
    this.outerSpace = flattenSpace(env.observationSpace);
  }

  override get observationSpace(): Box {
    return this.outerSpace;
  }

  /** The flat form, fresh. @throws {@link InvalidValueError} if the inner observation is outside its space. */
  observation(observation: O): Float32Array {
    return flatten(this.env.observationSpace, observation);
  }
}
