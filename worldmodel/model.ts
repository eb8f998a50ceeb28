/**
 * What a planner imagines with: the {@link ImaginationModel} contract, shared by the learned
 * {@link WorldModel} (states are flat observation rows) and {@link TrueModel} (states are an
 * environment's snapshots). A planner sees only this interface, so the same planner runs on the
 * learned model and on the true dynamics (the upper bound the learned model is judged against).
 *
 * Everything is batched: a batch `B` holds `n` states; one {@link ImaginationModel.step} advances
 * all of them by one action each. Planners make one `step` call per imagined horizon step for all
 * candidates × particles, never a loop of single predictions.
 */
import type { Box, Discrete } from '../envs/core/space.js';

/**
 * How the ensemble members of a learned model serve a batch:
 * - `mean`: every row gets the members' mean prediction (disagreement = their spread);
 * - `ts`: trajectory sampling with one member per particle (PETS' TS-∞): row `r` follows member
 *   `r mod members` for the whole imagined trajectory (for a learned model, the members are its
 *   elites).
 */
export type MemberChoice = 'mean' | 'ts';

/** One imagined step for a batch of `n` states. */
export interface ImaginedStep<B> {
  /** The next states (a new batch of `n`). */
  states: B;
  /** Predicted rewards, `[n]`. */
  rewards: Float32Array;
  /** 1 where the step is predicted to end the MDP (termination, not truncation), `[n]`. */
  dones: Uint8Array;
  /**
   * The predicted probability that the step ends the MDP, `[n]`, where the model has one (a
   * learned termination head); `dones` is it thresholded at ½. Rollout planners weigh rewards by
   * the probability of still being alive (as Dreamer weighs by its continuation head); without
   * it, `dones` alone.
   */
  doneProbabilities?: Float32Array | undefined;
  /** Ensemble disagreement per row (0 for a model without an ensemble), `[n]`. */
  disagreement: Float32Array;
  /**
   * Allowed actions in each next state, `[n × actions]`, where the model knows them (the true
   * model does, and a learned model with a mask head, `actionMasks`; otherwise undefined, and
   * search planners prune actions whose predicted next state equals the current one).
   */
  actionMasks?: Uint8Array | undefined;
}

/** Options of {@link ImaginationModel.step}. */
export interface ImagineStepOptions {
  /** How ensemble members serve the rows. @defaultValue 'mean' */
  members?: MemberChoice;
}

/**
 * A model a planner can imagine with. `S` is one state as the planner receives it in
 * `plan(state)`: a flat observation row for a learned model, a snapshot for the true model.
 */
export interface ImaginationModel<S, B> {
  /** The environment's action space (Discrete or Box); actions are given in its units. */
  readonly actionSpace: Discrete | Box;
  /** Members a particle can follow (a learned model's elites; 1 for a single model or the true model). */
  readonly members: number;
  /** A batch holding `states`, in order. */
  batch(states: readonly S[]): B;
  /** Rows in a batch. */
  size(batch: B): number;
  /** A new batch of the given rows of `batch`, in the given order (rows may repeat). */
  select(batch: B, rows: Int32Array): B;
  /**
   * Advances every row by one action. `actions` is `[n × actionDim]` for a Box action space (env
   * units) or `[n]` action values (including the space's `start`) for Discrete.
   */
  step(batch: B, actions: Float32Array, options?: ImagineStepOptions): ImaginedStep<B>;
  /** A string that is equal for two rows exactly when they hold the same state (duplicate detection). */
  key(batch: B, row: number): string;
}
