/**
 * Reward functions of environments whose reward is a known function of the observation, the
 * action and the next observation, for the world-model agent's `rewardSource: 'known'` (PETS
 * plans with the task's cost function; the learned-reward row stays the default and is reported
 * apart). Each function reproduces the environment's own reward from its observations:
 * - `Pendulum-v1`: −(θ² + 0.1·θ̇² + 0.001·u²) of the state BEFORE the step, θ = atan2(sin θ, cos θ)
 *   (the environment's normalised angle) and θ̇ the observed angular velocity;
 * - `CartPole-v1`: 1 for every step (the termination head says when the episode ends);
 * - `MountainCarContinuous-v0`: 100 when the next position is at least 0.45 with a non-negative
 *   velocity (the goal), minus 0.1·u².
 */
import { InvalidOptionError } from '../envs/core/errors.js';
import type { ImaginationModel, ImaginedStep, ImagineStepOptions } from './model.js';

/** Rewards of `n` rows: states and next states `[n × d]`, actions `[n × a]`, into `out` `[n]`. */
export type RewardFunction = (
  states: Float32Array,
  actions: Float32Array,
  nextStates: Float32Array,
  n: number,
  out: Float32Array,
) => void;

/** The known reward functions, by environment id. */
export const KNOWN_REWARDS: Readonly<Record<string, RewardFunction>> = Object.freeze({
  'Pendulum-v1': (states, actions, _next, n, out) => {
    for (let r = 0; r < n; r++) {
      const theta = Math.atan2(states[r * 3 + 1]!, states[r * 3]!);
      const thetaDot = states[r * 3 + 2]!;
      const u = actions[r]!;
      out[r] = -(theta * theta + 0.1 * thetaDot * thetaDot + 0.001 * u * u);
    }
  },
  'CartPole-v1': (_s, _a, _next, n, out) => {
    out.fill(1, 0, n);
  },
  'MountainCarContinuous-v0': (_s, actions, next, n, out) => {
    for (let r = 0; r < n; r++) {
      const u = actions[r]!;
      const goal = next[r * 2]! >= 0.45 && next[r * 2 + 1]! >= 0;
      out[r] = (goal ? 100 : 0) - 0.1 * u * u;
    }
  },
});

/**
 * The reward function of `env`.
 * @throws {@link InvalidOptionError} for an environment without a known reward.
 */
export function knownReward(env: string, option = 'env'): RewardFunction {
  const f = KNOWN_REWARDS[env];
  if (f === undefined)
    throw new InvalidOptionError(
      option,
      env,
      `an environment with a known reward (${Object.keys(KNOWN_REWARDS).join(', ')}) for rewardSource "known"`,
    );
  return f;
}

/** `model` with its predicted rewards replaced by `reward` (states must be the model's flat rows). */
export function withKnownReward<S, B extends { states: Float32Array; n: number }>(
  model: ImaginationModel<S, B>,
  reward: RewardFunction,
): ImaginationModel<S, B> {
  return {
    actionSpace: model.actionSpace,
    members: model.members,
    batch: (states) => model.batch(states),
    size: (b) => model.size(b),
    select: (b, rows) => model.select(b, rows),
    key: (b, row) => model.key(b, row),
    step: (b: B, actions: Float32Array, options?: ImagineStepOptions): ImaginedStep<B> => {
      const s = model.step(b, actions, options);
      const rewards = new Float32Array(b.n);
      reward(b.states, actions, s.states.states, b.n, rewards);
      return { ...s, rewards };
    },
  };
}
