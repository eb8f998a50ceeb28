/**
 * Polyak averaging of target networks: `target ← τ·online + (1 − τ)·target`, one op on the whole
 * flat parameter vector (τ = 1 copies).
 */
import { InvalidOptionError } from '../../envs/core/errors.js';
import { tf } from './backend.js';
import type { ParameterSet } from './params.js';

/** Moves `target` toward `online` by `tau` ∈ (0, 1]; both sets must have the same layout. */
export function polyakUpdate(target: ParameterSet, online: ParameterSet, tau: number): void {
  if (!(tau > 0 && tau <= 1)) throw new InvalidOptionError('tau', tau, 'a number in (0, 1]');
  if (target.size !== online.size) {
    throw new InvalidOptionError(
      'polyakUpdate(target, online)',
      `${target.size} vs ${online.size} values`,
      'parameter sets of the same size',
    );
  }
  if (tau === 1) {
    target.assign(online.variable);
    return;
  }
  const next = tf.tidy(() =>
    tf.add(tf.mul(online.variable, tau), tf.mul(target.variable, 1 - tau)),
  );
  target.assign(next);
  next.dispose();
}
