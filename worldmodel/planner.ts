/**
 * Imagination planners: from the current state, imagine futures with an {@link ImaginationModel}
 * (the learned world model or the true dynamics) and act on the best. All are generic over the
 * model, so the same planner runs on {@link WorldModel} rows and {@link TrueModel} snapshots.
 *
 * - {@link ShootingPlanner}: the study's policy-guided random shooting — N first actions from a
 *   proposal policy, each followed by the policy for H steps; the best first action wins.
 * - {@link CemPlanner}: the cross-entropy method of PETS (Chua et al. 2018): a Gaussian (Box) or
 *   categorical (Discrete) distribution over action sequences refit to its elites, warm-started
 *   from the previous plan shifted by one step, with particles propagated by trajectory sampling.
 * - {@link MppiPlanner}: the MPPI of TD-MPC2 (Hansen et al. 2024): Gaussian samples, some seeded by
 *   the proposal policy, reweighted by the softmax of their returns (continuous actions).
 * - {@link SearchPlanner}: breadth-first / beam search over model states with duplicate detection,
 *   for discrete, sparse-reward, long-horizon tasks (GridNav Task-k, TextWorld quests).
 *
 * ## Rollouts (shooting, CEM, MPPI)
 * Each candidate is imagined with `particles` rows; row `c·P + p` is particle `p` of candidate `c`,
 * so with `members: 'ts'` (row `r` follows ensemble member `r mod members`) and `P` a multiple of the
 * ensemble size every candidate is judged by the same members. Every horizon step is ONE
 * `model.step` for all candidates × particles. A particle's return is `Σ γ^t · S_t · r_t` up to
 * and including the step where the model predicts termination (`dones`), nothing after it, where
 * `S_t = Π_{u<t} (1 − p_u)` is the probability of still being alive under the model's termination
 * probabilities (`doneProbabilities`; 1 for a model that only gives `dones`, such as the true
 * model) — as Dreamer weighs imagined rewards by its continuation head. Without it, a learned
 * termination head whose probability stays under ½ (CartPole's pole at 10° instead of 12°) would
 * tell the planner nothing. A particle still alive at the horizon adds `γ^H · S_H · value(state)`
 * when a `value` function is given. A
 * candidate's score over its particles is their mean, `mean − pessimism · std`, or their minimum.
 *
 * Randomness comes from the planner's own seeded {@link Rng}; `getState`/`setState` save and restore
 * it with the warm start, so an agent checkpoint holds the planner exactly.
 *
 * @example
 * const env = make('Pendulum-v1');
 * const model = TrueModel.copyOf(env);
 * const planner = new CemPlanner<EnvSnapshot, TrueModelBatch, Float32Array>(model, { seed: 1 });
 * env.reset({ seed: 0 });
 * const action = planner.plan(TrueModel.snapshot(env));
 */
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import type { JsonValue } from '../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  formatValue,
} from '../envs/core/errors.js';
import { Rng, isRngState } from '../envs/core/rng.js';
import { Box, Discrete } from '../envs/core/space.js';
import { MctsPlanner } from './mcts.js';
import type { ImaginationModel, MemberChoice } from './model.js';
import {
  checkDiscreteModel,
  checkModel,
  checkRootMask,
  nonFinite,
  pickMasks,
  resolvePlannerConfig,
  sampleAllowed,
} from './planner-common.js';

// ---- contract ---------------------------------------------------------------------------------

/** An action as a planner returns it: a number (action value) for Discrete, a Float32Array for Box. */
export type PlannerAction = number | Float32Array;

/** Options of {@link Planner.plan}. */
export interface PlanOptions {
  /** Allowed actions in the state (Discrete: `info.actionMask`, 1 = allowed). */
  actionMask?: Uint8Array | undefined;
}

/**
 * A planner: an action for a state, by imagination. `A` is `number` for a Discrete model and
 * `Float32Array` for a Box model (the types cannot see the model's space; pick the matching one).
 */
export interface Planner<S, A extends PlannerAction = PlannerAction> {
  /** The action to take in `state`. */
  plan(state: S, options?: PlanOptions): A;
  /** Episode start: forgets the warm start (and any cached plan). The generator continues. */
  reset(): void;
  /** Warm start, cached plan and generator state, plain JSON. */
  getState(): JsonValue;
  /** Restores {@link Planner.getState}; a malformed state throws `InvalidStateError`. */
  setState(state: JsonValue): void;
}

/**
 * A proposal policy: actions for every row of `batch` (`[n]` action values for Discrete, `[n × dim]`
 * for Box), drawing randomness from `rng`. `masks` (`[n × actions]`, Discrete) holds the allowed
 * actions per row where they are known: the plan's mask at the root, the model's masks below.
 */
export type ProposalPolicy<B> = (batch: B, rng: Rng, masks?: Uint8Array) => Float32Array;

/** A critic: the value of every row of `batch`, `[n]` (added, discounted, at the horizon). */
export type ValueFunction<B> = (batch: B) => ArrayLike<number>;

/** The function-valued options of the rollout planners. */
export interface PlannerHooks<B> {
  /** Proposal policy. @defaultValue uniform random actions (respecting the masks it is given) */
  policy?: ProposalPolicy<B> | undefined;
  /** Critic added at the horizon. @defaultValue none (rewards only) */
  value?: ValueFunction<B> | undefined;
}

/** How a candidate's particles make one score. */
export type Scoring = 'mean' | 'pessimistic' | 'min';

// ---- configs ----------------------------------------------------------------------------------

/** Resolved options of {@link ShootingPlanner}. */
export interface ShootingConfig {
  /** Candidate first actions per plan. @defaultValue 256 */
  candidates: number;
  /** Imagined steps per candidate. @defaultValue 15 */
  horizon: number;
  /** Discount γ of imagined rewards. @defaultValue 0.99 */
  gamma: number;
  /** Rows per candidate; undefined: one per ensemble member. @defaultValue 1 */
  particles: number | undefined;
  /** How ensemble members serve the rows. @defaultValue 'mean' */
  members: MemberChoice;
  /** Score over particles. @defaultValue 'mean' */
  scoring: Scoring;
  /** k of `mean − k · std` for `scoring: 'pessimistic'`. @defaultValue 1 */
  pessimism: number;
  /** Seed of the planner's generator. @defaultValue 0 */
  seed: number;
}

/** Options of {@link ShootingPlanner}: any config field, and a proposal policy and critic. */
export type ShootingOptions<B> = Partial<ShootingConfig> & PlannerHooks<B>;

/** Defaults of {@link ShootingConfig}. */
export const SHOOTING_DEFAULTS: Readonly<ShootingConfig> = Object.freeze({
  candidates: 256,
  horizon: 15,
  gamma: 0.99,
  particles: 1,
  members: 'mean',
  scoring: 'mean',
  pessimism: 1,
  seed: 0,
});

/** Resolved options of {@link CemPlanner}. */
export interface CemConfig {
  /** Action sequences sampled per iteration. @defaultValue 200 */
  population: number;
  /** Best sequences the distribution is refit to. @defaultValue 20 */
  elites: number;
  /** Refits per plan. @defaultValue 4 */
  iterations: number;
  /** Imagined steps per sequence. @defaultValue 25 */
  horizon: number;
  /** Smoothing α: new = α · old + (1 − α) · elites' (mean and std; probabilities). @defaultValue 0.1 */
  alpha: number;
  /** Initial std per action dimension, as a fraction of half the action range (Box). @defaultValue 0.5 */
  initialStd: number;
  /** Discount γ of imagined rewards. @defaultValue 0.99 */
  gamma: number;
  /** Rows per sequence; undefined: one per ensemble member. @defaultValue undefined */
  particles: number | undefined;
  /** How ensemble members serve the rows (PETS' TS-∞: `ts`). @defaultValue 'ts' */
  members: MemberChoice;
  /** Score over particles. @defaultValue 'mean' */
  scoring: Scoring;
  /** k of `mean − k · std` for `scoring: 'pessimistic'`. @defaultValue 1 */
  pessimism: number;
  /** Seed of the planner's generator. @defaultValue 0 */
  seed: number;
}

/** Options of {@link CemPlanner}: any config field, and a critic (`policy` is not used by CEM). */
export type CemOptions<B> = Partial<CemConfig> & Pick<PlannerHooks<B>, 'value'>;

/** Defaults of {@link CemConfig} (PETS, with a smaller population). */
export const CEM_DEFAULTS: Readonly<CemConfig> = Object.freeze({
  population: 200,
  elites: 20,
  iterations: 4,
  horizon: 25,
  alpha: 0.1,
  initialStd: 0.5,
  gamma: 0.99,
  particles: undefined,
  members: 'ts',
  scoring: 'mean',
  pessimism: 1,
  seed: 0,
});

/** Resolved options of {@link MppiPlanner}. */
export interface MppiConfig {
  /** Action sequences per iteration (policy-seeded ones included). @defaultValue 256 */
  samples: number;
  /** Best samples the softmax weights (`samples` for plain MPPI). @defaultValue 32 */
  elites: number;
  /** Reweightings per plan. @defaultValue 4 */
  iterations: number;
  /** Imagined steps per sequence. @defaultValue 15 */
  horizon: number;
  /** Temperature λ of the weights `exp((score − max) / λ)`, in return units. @defaultValue 0.5 */
  temperature: number;
  /** Fraction of the samples that follow the proposal policy (rolled out once per plan; the default policy is uniform). @defaultValue 0.05 */
  policyFraction: number;
  /** Std each plan starts from, as a fraction of half the action range (TD-MPC2's max_std). @defaultValue 2 */
  initialStd: number;
  /** Smallest std, same units (TD-MPC2's min_std). @defaultValue 0.05 */
  minStd: number;
  /** Smoothing α: new = α · old + (1 − α) · weighted (mean and std). @defaultValue 0 */
  alpha: number;
  /** Discount γ of imagined rewards. @defaultValue 0.99 */
  gamma: number;
  /** Rows per sequence; undefined: one per ensemble member. @defaultValue undefined */
  particles: number | undefined;
  /** How ensemble members serve the rows. @defaultValue 'ts' */
  members: MemberChoice;
  /** Score over particles. @defaultValue 'mean' */
  scoring: Scoring;
  /** k of `mean − k · std` for `scoring: 'pessimistic'`. @defaultValue 1 */
  pessimism: number;
  /** Seed of the planner's generator. @defaultValue 0 */
  seed: number;
}

/** Options of {@link MppiPlanner}: any config field, and a proposal policy and critic. */
export type MppiOptions<B> = Partial<MppiConfig> & PlannerHooks<B>;

/** Defaults of {@link MppiConfig} (TD-MPC2's shape with a longer horizon, for planning without a critic). */
export const MPPI_DEFAULTS: Readonly<MppiConfig> = Object.freeze({
  samples: 256,
  elites: 32,
  iterations: 4,
  horizon: 15,
  temperature: 0.5,
  policyFraction: 0.05,
  initialStd: 2,
  minStd: 0.05,
  alpha: 0,
  gamma: 0.99,
  particles: undefined,
  members: 'ts',
  scoring: 'mean',
  pessimism: 1,
  seed: 0,
});

/** Resolved options of {@link SearchPlanner}. */
export interface SearchConfig {
  /** Deepest plan searched, in actions. @defaultValue 64 */
  maxDepth: number;
  /** States expanded per search at most (the node budget). @defaultValue 100000 */
  maxNodes: number;
  /** States kept per layer (best partial return first); undefined: all (breadth-first). @defaultValue undefined */
  beamWidth: number | undefined;
  /** Discount γ of the plan's return. @defaultValue 0.99 */
  gamma: number;
  /**
   * Stop after the first layer that reaches a rewarding terminal state. Exact for sparse tasks
   * whose success reward does not grow with time (deeper is then never better). @defaultValue true
   */
  stopAtFirstSuccess: boolean;
  /** Replay a found plan while the observed states are the predicted ones (search again otherwise). @defaultValue true */
  cachePlan: boolean;
  /**
   * Rows (state, action) imagined per model call at most: a wider layer is stepped in several
   * calls, so a search holds one call's imagined states besides the states it keeps. @defaultValue 8192
   */
  batchRows: number;
  /**
   * Predicted rewards smaller than this in magnitude count as 0. A learned model predicts small
   * nonzero rewards everywhere; without a floor the search follows that noise, and a terminal
   * state predicted at 0.01 (a fall into lava) ends the search as a win. Set it below the
   * smallest real reward of the task (GridNav's successes give at least 0.1, Quest's 1).
   * @defaultValue 0
   */
  minReward: number;
  /** Seed of the generator (tie-free fallback choices when nothing rewarding is found). @defaultValue 0 */
  seed: number;
}

/** Options of {@link SearchPlanner}. */
export type SearchOptions = Partial<SearchConfig>;

/** Defaults of {@link SearchConfig}. */
export const SEARCH_DEFAULTS: Readonly<SearchConfig> = Object.freeze({
  maxDepth: 64,
  maxNodes: 100_000,
  beamWidth: undefined,
  gamma: 0.99,
  stopAtFirstSuccess: true,
  cachePlan: true,
  batchRows: 8192,
  minReward: 0,
  seed: 0,
});

const ROLLOUT_RULES = {
  horizon: { kind: 'number', min: 1, max: 10_000, integer: true },
  gamma: { kind: 'number', min: 0, max: 1 },
  particles: { kind: 'number', min: 1, max: 10_000, integer: true, optional: true },
  members: { kind: 'choice', values: ['mean', 'ts'] },
  scoring: { kind: 'choice', values: ['mean', 'pessimistic', 'min'] },
  pessimism: { kind: 'number', min: 0 },
  seed: { kind: 'seed' },
} as const;

const SHOOTING_RULES: ConfigRules<ShootingConfig> = {
  candidates: { kind: 'number', min: 1, max: 1_000_000, integer: true },
  ...ROLLOUT_RULES,
};

const CEM_RULES: ConfigRules<CemConfig> = {
  population: { kind: 'number', min: 2, max: 1_000_000, integer: true },
  elites: { kind: 'number', min: 1, integer: true },
  iterations: { kind: 'number', min: 1, max: 1000, integer: true },
  alpha: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  initialStd: { kind: 'number', min: 0, exclusiveMin: true },
  ...ROLLOUT_RULES,
};

const MPPI_RULES: ConfigRules<MppiConfig> = {
  samples: { kind: 'number', min: 2, max: 1_000_000, integer: true },
  elites: { kind: 'number', min: 1, integer: true },
  iterations: { kind: 'number', min: 1, max: 1000, integer: true },
  temperature: { kind: 'number', min: 0, exclusiveMin: true },
  policyFraction: { kind: 'number', min: 0, max: 1 },
  initialStd: { kind: 'number', min: 0, exclusiveMin: true },
  minStd: { kind: 'number', min: 0 },
  alpha: { kind: 'number', min: 0, max: 1, exclusiveMax: true },
  ...ROLLOUT_RULES,
};

const SEARCH_RULES: ConfigRules<SearchConfig> = {
  maxDepth: { kind: 'number', min: 1, max: 100_000, integer: true },
  maxNodes: { kind: 'number', min: 1, max: 100_000_000, integer: true },
  beamWidth: { kind: 'number', min: 1, integer: true, optional: true },
  gamma: { kind: 'number', min: 0, max: 1 },
  stopAtFirstSuccess: { kind: 'boolean' },
  cachePlan: { kind: 'boolean' },
  batchRows: { kind: 'number', min: 1, max: 100_000_000, integer: true },
  minReward: { kind: 'number', min: 0 },
  seed: { kind: 'seed' },
};

// ---- shared machinery -------------------------------------------------------------------------

/** What the rollout planners share: the model, its action space and the planner's generator. */
abstract class ModelPlanner<S, B, A extends PlannerAction> implements Planner<S, A> {
  /** The model imagined with. */
  readonly model: ImaginationModel<S, B>;
  /** Values per action (Box size; 1 for Discrete). */
  protected readonly perAction: number;
  /** The Discrete space, or undefined for Box. */
  protected readonly discrete: Discrete | undefined;
  /** The Box space, or undefined for Discrete. */
  protected readonly box: Box | undefined;
  /** Number of discrete actions (0 for Box). */
  protected readonly actionCount: number;
  /** The planner's generator. */
  protected rng: Rng;
  private readonly name: string;

  protected constructor(name: string, model: ImaginationModel<S, B>, seed: number) {
    this.name = name;
    checkModel(name, model);
    this.model = model;
    const space = model.actionSpace;
    this.discrete = space instanceof Discrete ? space : undefined;
    this.box = space instanceof Box ? space : undefined;
    this.perAction = space instanceof Box ? space.size : 1;
    this.actionCount = space instanceof Discrete ? space.n : 0;
    this.rng = new Rng(seed);
  }

  abstract plan(state: S, options?: PlanOptions): A;
  abstract reset(): void;

  getState(): JsonValue {
    return {
      planner: this.name,
      rng: this.rng.getState() as unknown as JsonValue,
      ...this.saveState(),
    };
  }

  setState(state: JsonValue): void {
    const s = state as { planner?: unknown; rng?: unknown } | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      Array.isArray(s) ||
      s.planner !== this.name ||
      !isRngState(s.rng)
    ) {
      throw new InvalidStateError(
        this.name,
        `{planner: "${this.name}", rng, ...} from getState()`,
        state,
      );
    }
    this.loadState(state as Record<string, JsonValue>);
    this.rng = Rng.fromState(s.rng);
  }

  /** The planner's own part of {@link Planner.getState}. */
  protected abstract saveState(): Record<string, JsonValue>;
  /** Restores what `saveState` wrote; throws `InvalidStateError` before changing anything. */
  protected abstract loadState(state: Record<string, JsonValue>): void;

  /** The plan's mask, checked (undefined: every action allowed). */
  protected rootMask(options: PlanOptions | undefined): Uint8Array | undefined {
    const mask = options?.actionMask;
    if (mask === undefined) return undefined;
    if (this.discrete === undefined) {
      throw new InvalidOptionError(
        `actionMask of ${this.name}.plan`,
        mask,
        'no mask for a Box action space',
      );
    }
    return checkRootMask(this.name, mask, this.actionCount);
  }

  /** The Box action `values[offset..offset + size)` inside the bounds, as a fresh Float32Array. */
  protected boxAction(values: ArrayLike<number>, offset: number): Float32Array {
    const box = this.box!;
    const out = new Float32Array(box.size);
    for (let j = 0; j < box.size; j++) {
      // The weighted mean of in-bound values can pass a bound by rounding only.
      out[j] = Math.min(Math.max(values[offset + j]!, box.low[j]!), box.high[j]!);
    }
    return out;
  }

  /** Uniform random actions for `rows` rows into `out` (Discrete: among `masks` where given). */
  protected uniformActions(rows: number, out: Float32Array, masks: Uint8Array | undefined): void {
    const rng = this.rng;
    if (this.discrete !== undefined) {
      const n = this.actionCount;
      const start = this.discrete.start;
      for (let r = 0; r < rows; r++) out[r] = start + sampleAllowed(rng, n, masks, r * n);
      return;
    }
    const { low, high } = this.box!;
    const d = this.perAction;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) out[r * d + j] = rng.uniform(low[j], high[j]);
    }
  }

  /** Throws `InvalidOptionError` unless every Box bound is finite (sampling needs the range). */
  protected requireBoundedBox(what: string): void {
    const box = this.box;
    if (box === undefined) return;
    for (let j = 0; j < box.size; j++) {
      if (!Number.isFinite(box.low[j]!) || !Number.isFinite(box.high[j]!)) {
        throw new InvalidOptionError(
          `model of ${this.name}`,
          box.toString(),
          `a Box action space with finite bounds (${what})`,
        );
      }
    }
  }
}

/**
 * Imagines `candidates × particles` rows from one root state, `horizon` steps, one `model.step`
 * per step, and scores each candidate. The arrays are allocated once and reused by every plan.
 */
class Rollouts<S, B> {
  /** Candidates scored per run. */
  readonly candidates: number;
  /** Rows per candidate. */
  readonly particles: number;
  /** Rows per run. */
  readonly rows: number;
  /** Actions of every row at the current step (filled by the caller's `fill`). */
  readonly actions: Float32Array;
  /** Score of every candidate after {@link Rollouts.run}. */
  readonly scores: Float64Array;
  private readonly returns: Float64Array;
  private readonly alive: Uint8Array;
  /** Per row: the probability of being alive before the current step (Π of 1 − p_done). */
  private readonly survival: Float64Array;
  private readonly zeros: Int32Array;
  private readonly model: ImaginationModel<S, B>;
  private readonly horizon: number;
  private readonly gamma: number;
  private readonly members: MemberChoice;
  private readonly scoring: Scoring;
  private readonly pessimism: number;
  private readonly value: ValueFunction<B> | undefined;

  constructor(
    model: ImaginationModel<S, B>,
    candidates: number,
    particles: number,
    perAction: number,
    config: {
      horizon: number;
      gamma: number;
      members: MemberChoice;
      scoring: Scoring;
      pessimism: number;
    },
    value: ValueFunction<B> | undefined,
  ) {
    this.model = model;
    this.horizon = config.horizon;
    this.gamma = config.gamma;
    this.members = config.members;
    this.scoring = config.scoring;
    this.pessimism = config.pessimism;
    this.value = value;
    this.candidates = candidates;
    this.particles = particles;
    this.rows = candidates * particles;
    this.actions = new Float32Array(this.rows * perAction);
    this.scores = new Float64Array(candidates);
    this.returns = new Float64Array(this.rows);
    this.alive = new Uint8Array(this.rows);
    this.survival = new Float64Array(this.rows);
    this.zeros = new Int32Array(this.rows);
  }

  /**
   * Runs the rollouts from `root` (a batch of one row): before step `h`, `fill(h, batch, masks)`
   * writes every row's action into {@link Rollouts.actions}. Returns {@link Rollouts.scores}.
   * @throws {@link InvalidValueError} for a non-finite predicted reward or value.
   */
  run(root: B, fill: (h: number, batch: B, masks: Uint8Array | undefined) => void): Float64Array {
    const { rows, returns, alive, gamma } = this;
    const model = this.model;
    const options = { members: this.members };
    const survival = this.survival;
    let batch = model.select(root, this.zeros);
    let masks: Uint8Array | undefined;
    returns.fill(0);
    alive.fill(1);
    survival.fill(1);
    let discount = 1;
    for (let h = 0; h < this.horizon; h++) {
      fill(h, batch, masks);
      const out = model.step(batch, this.actions, options);
      const rewards = out.rewards;
      const dones = out.dones;
      const p = out.doneProbabilities;
      for (let r = 0; r < rows; r++) {
        if (alive[r] === 0) continue;
        const reward = rewards[r]!;
        if (!Number.isFinite(reward)) throw nonFinite('reward', reward, r, h);
        returns[r]! += discount * survival[r]! * reward;
        if (dones[r] === 1) alive[r] = 0;
        else if (p !== undefined) survival[r]! *= 1 - p[r]!;
      }
      discount *= gamma;
      batch = out.states;
      masks = out.actionMasks;
    }
    if (this.value !== undefined) {
      const values = this.value(batch);
      if (values.length !== rows) {
        throw new InvalidValueError(
          'values of the planner critic',
          `${values.length} values`,
          `one value per row (${rows})`,
        );
      }
      for (let r = 0; r < rows; r++) {
        if (alive[r] === 0) continue;
        const v = values[r]!;
        if (!Number.isFinite(v)) throw nonFinite('value', v, r, this.horizon);
        returns[r]! += discount * survival[r]! * v;
      }
    }
    this.score();
    return this.scores;
  }

  private score(): void {
    const { particles: p, returns, scores } = this;
    for (let c = 0; c < this.candidates; c++) {
      const base = c * p;
      let sum = 0;
      let min = Infinity;
      for (let i = 0; i < p; i++) {
        const x = returns[base + i]!;
        sum += x;
        if (x < min) min = x;
      }
      const mean = sum / p;
      if (this.scoring === 'mean') scores[c] = mean;
      else if (this.scoring === 'min') scores[c] = min;
      else {
        let sq = 0;
        for (let i = 0; i < p; i++) sq += (returns[base + i]! - mean) ** 2;
        scores[c] = mean - this.pessimism * Math.sqrt(sq / p);
      }
    }
  }
}

// ---- shooting ---------------------------------------------------------------------------------

/**
 * The study's planner: policy-guided random shooting. `candidates` first actions come from the
 * proposal policy (default: uniform random, among the allowed actions at the root); each is
 * imagined `horizon` steps following the policy (one `model.step` per step for all candidates ×
 * particles), and the first action with the best discounted return (+ critic) is taken. A policy's
 * first action that the root mask forbids is replaced by a uniformly drawn allowed one.
 */
export class ShootingPlanner<S, B, A extends PlannerAction = PlannerAction> extends ModelPlanner<
  S,
  B,
  A
> {
  /** The resolved options. */
  readonly config: Readonly<ShootingConfig>;
  private readonly policy: ProposalPolicy<B> | undefined;
  private readonly rollouts: Rollouts<S, B>;
  private readonly first: Float32Array;
  private readonly candidateRows: Int32Array;
  private readonly rootMasks: Uint8Array;

  /** @throws {@link InvalidOptionError} for a bad option or a model the planner cannot use. */
  constructor(model: ImaginationModel<S, B>, options: ShootingOptions<B> = {}) {
    const { config, hooks } = resolvePlannerConfig<ShootingConfig, PlannerHooks<B>>(
      'ShootingPlanner',
      SHOOTING_DEFAULTS,
      SHOOTING_RULES,
      options,
      ['policy', 'value'],
    );
    super('ShootingPlanner', model, config.seed);
    this.config = Object.freeze(config);
    this.policy = hooks.policy;
    if (this.policy === undefined) this.requireBoundedBox('for uniform random proposals');
    const particles = config.particles ?? model.members;
    this.rollouts = new Rollouts(
      model,
      config.candidates,
      particles,
      this.perAction,
      config,
      hooks.value,
    );
    this.first = new Float32Array(config.candidates * this.perAction);
    this.candidateRows = new Int32Array(config.candidates);
    this.rootMasks = new Uint8Array(config.candidates * this.actionCount);
  }

  /** @throws {@link InvalidOptionError} for a bad mask. */
  plan(state: S, options?: PlanOptions): A {
    const mask = this.rootMask(options);
    const model = this.model;
    const root = model.batch([state]);
    const n = this.config.candidates;
    const d = this.perAction;
    const k = this.actionCount;
    let masks: Uint8Array | undefined;
    if (mask !== undefined) {
      for (let c = 0; c < n; c++) this.rootMasks.set(mask, c * k);
      masks = this.rootMasks;
    }
    const first = this.first;
    if (this.policy === undefined) this.uniformActions(n, first, masks);
    else {
      const proposed = this.propose(model.select(root, this.candidateRows), masks, n);
      first.set(proposed);
      if (mask !== undefined) {
        const start = this.discrete!.start;
        for (let c = 0; c < n; c++) {
          if (mask[first[c]! - start] !== 1) first[c] = start + sampleAllowed(this.rng, k, mask, 0);
        }
      }
    }
    const rollouts = this.rollouts;
    const p = rollouts.particles;
    const actions = rollouts.actions;
    const scores = rollouts.run(root, (h, batch, below) => {
      if (h === 0) {
        for (let c = 0; c < n; c++) {
          for (let i = 0; i < p; i++) {
            const row = c * p + i;
            for (let j = 0; j < d; j++) actions[row * d + j] = first[c * d + j]!;
          }
        }
      } else if (this.policy === undefined) {
        this.uniformActions(rollouts.rows, actions, below);
      } else {
        actions.set(this.propose(batch, below, rollouts.rows));
      }
    });
    const best = argmax(scores);
    return (this.discrete !== undefined ? first[best]! : this.boxAction(first, best * d)) as A;
  }

  /** Nothing to forget: shooting keeps no warm start. */
  reset(): void {
    // Stateless between plans apart from the generator.
  }

  protected saveState(): Record<string, JsonValue> {
    return {};
  }

  protected loadState(): void {
    // Only the generator.
  }

  private propose(batch: B, masks: Uint8Array | undefined, rows: number): Float32Array {
    const actions = this.policy!(batch, this.rng, masks);
    checkProposal('ShootingPlanner', actions, rows * this.perAction);
    return actions;
  }
}

// ---- CEM --------------------------------------------------------------------------------------

/**
 * The cross-entropy method (PETS). Box: a Gaussian per step and action dimension, sampled as a
 * normal truncated to the action bounds; each iteration refits mean and std to the `elites` best of
 * `population` sequences, smoothed by `alpha`; the plan is the first step of the final mean.
 * Discrete: categorical CEM, a probability vector per step refit to the elites' action
 * frequencies (smoothed by `alpha`), the root mask respected at step 0 and, below it, the model's
 * `actionMasks` where it gives them (a forbidden sampled action is redrawn among the allowed ones
 * and the elites are refit to what was imagined); the plan is the most probable first action. Each plan starts from the previous one shifted by a step (the new last
 * step: the centre of the range, or uniform); the std starts from `initialStd` every plan, as in
 * PETS. `reset()` forgets the warm start.
 */
export class CemPlanner<S, B, A extends PlannerAction = PlannerAction> extends ModelPlanner<
  S,
  B,
  A
> {
  /** The resolved options. */
  readonly config: Readonly<CemConfig>;
  private readonly rollouts: Rollouts<S, B>;
  /** Box: means `[H × d]`; Discrete: probabilities `[H × n]`. */
  private readonly mean: Float64Array;
  private readonly std: Float64Array;
  private warm: Float64Array | null = null;
  /** Sampled sequences `[population × H × perAction]` (Discrete: action indices). */
  private readonly sequences: Float32Array;
  private readonly order: Int32Array;
  private readonly stat: Float64Array;

  /** @throws {@link InvalidOptionError} for a bad option or a model the planner cannot use. */
  constructor(model: ImaginationModel<S, B>, options: CemOptions<B> = {}) {
    const { config, hooks } = resolvePlannerConfig<CemConfig, PlannerHooks<B>>(
      'CemPlanner',
      CEM_DEFAULTS,
      CEM_RULES,
      options,
      ['value'],
    );
    if (config.elites > config.population) {
      throw new InvalidOptionError(
        'CemPlanner.elites',
        config.elites,
        `an integer in 1..population (${config.population})`,
      );
    }
    super('CemPlanner', model, config.seed);
    this.config = Object.freeze(config);
    this.requireBoundedBox('for the truncated normal');
    const h = config.horizon;
    const width = this.discrete !== undefined ? this.actionCount : this.perAction;
    this.rollouts = new Rollouts(
      model,
      config.population,
      config.particles ?? model.members,
      this.perAction,
      config,
      hooks.value,
    );
    this.mean = new Float64Array(h * width);
    this.std = new Float64Array(h * width);
    this.sequences = new Float32Array(config.population * h * this.perAction);
    this.order = new Int32Array(config.population);
    this.stat = new Float64Array(h * width);
  }

  /** @throws {@link InvalidOptionError} for a bad mask. */
  plan(state: S, options?: PlanOptions): A {
    const mask = this.rootMask(options);
    const root = this.model.batch([state]);
    return (this.discrete !== undefined ? this.planDiscrete(root, mask) : this.planBox(root)) as A;
  }

  /** Forgets the warm start. */
  reset(): void {
    this.warm = null;
  }

  protected saveState(): Record<string, JsonValue> {
    return { warm: this.warm === null ? null : Array.from(this.warm) };
  }

  protected loadState(state: Record<string, JsonValue>): void {
    this.warm = readWarm('CemPlanner', state['warm'], this.mean.length);
  }

  private planBox(root: B): Float32Array {
    const { population, elites, iterations, horizon: h, alpha } = this.config;
    const box = this.box!;
    const d = this.perAction;
    const { mean, std, sequences, order, stat } = this;
    const rng = this.rng;
    for (let t = 0; t < h; t++) {
      for (let j = 0; j < d; j++) {
        const half = (box.high[j]! - box.low[j]!) / 2;
        if (this.warm === null) mean[t * d + j] = (box.low[j]! + box.high[j]!) / 2;
        std[t * d + j] = this.config.initialStd * half;
      }
    }
    if (this.warm !== null) mean.set(this.warm);
    const rollouts = this.rollouts;
    const p = rollouts.particles;
    const actions = rollouts.actions;
    const fill = (step: number): void => {
      for (let c = 0; c < population; c++) {
        const from = (c * h + step) * d;
        for (let i = 0; i < p; i++) {
          const row = c * p + i;
          for (let j = 0; j < d; j++) actions[row * d + j] = sequences[from + j]!;
        }
      }
    };
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < population; c++) {
        for (let t = 0; t < h; t++) {
          for (let j = 0; j < d; j++) {
            const m = t * d + j;
            sequences[(c * h + t) * d + j] = truncatedNormal(
              rng,
              mean[m]!,
              std[m]!,
              box.low[j]!,
              box.high[j]!,
            );
          }
        }
      }
      const scores = rollouts.run(root, fill);
      rankInto(scores, order);
      // Elites' mean into stat, then their std; smoothed into mean/std.
      stat.fill(0);
      for (let e = 0; e < elites; e++) {
        const base = order[e]! * h * d;
        for (let m = 0; m < h * d; m++) stat[m]! += sequences[base + m]!;
      }
      for (let m = 0; m < h * d; m++) stat[m]! /= elites;
      for (let m = 0; m < h * d; m++) {
        let sq = 0;
        for (let e = 0; e < elites; e++) sq += (sequences[order[e]! * h * d + m]! - stat[m]!) ** 2;
        std[m] = alpha * std[m]! + (1 - alpha) * Math.sqrt(sq / elites);
        mean[m] = alpha * mean[m]! + (1 - alpha) * stat[m]!;
      }
    }
    const action = this.boxAction(mean, 0);
    this.warm = shifted(mean, d, (j) => (box.low[j]! + box.high[j]!) / 2, this.warm);
    return action;
  }

  private planDiscrete(root: B, mask: Uint8Array | undefined): number {
    const { population, elites, iterations, horizon: h, alpha } = this.config;
    const n = this.actionCount;
    const start = this.discrete!.start;
    const { mean: probs, sequences, order, stat } = this;
    const rng = this.rng;
    if (this.warm !== null) probs.set(this.warm);
    else probs.fill(1 / n);
    if (mask !== undefined) maskRow(probs, mask, n);
    const rollouts = this.rollouts;
    const p = rollouts.particles;
    const actions = rollouts.actions;
    const fill = (step: number, _batch: B, masks: Uint8Array | undefined): void => {
      for (let c = 0; c < population; c++) {
        const chosen = sequences[c * h + step]!;
        for (let i = 0; i < p; i++) {
          const row = c * p + i;
          let a = chosen;
          if (masks !== undefined && masks[row * n + a] !== 1 && hasAllowed(masks, row * n, n)) {
            // The model forbids this action here: draw an allowed one from this step's
            // probabilities, and refit to what was imagined (the first particle's action).
            a = sampleCategorical(rng, probs, step * n, n, masks, row * n);
            if (i === 0) sequences[c * h + step] = a;
          }
          actions[row] = start + a;
        }
      }
    };
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < population; c++) {
        for (let t = 0; t < h; t++) sequences[c * h + t] = sampleCategorical(rng, probs, t * n, n);
      }
      const scores = rollouts.run(root, fill);
      rankInto(scores, order);
      stat.fill(0);
      for (let e = 0; e < elites; e++) {
        const base = order[e]! * h;
        for (let t = 0; t < h; t++) stat[t * n + sequences[base + t]!]! += 1 / elites;
      }
      for (let m = 0; m < h * n; m++) probs[m] = alpha * probs[m]! + (1 - alpha) * stat[m]!;
    }
    let best = 0;
    for (let a = 1; a < n; a++) if (probs[a]! > probs[best]!) best = a;
    this.warm = shifted(probs, n, () => 1 / n, this.warm);
    return start + best;
  }
}

// ---- MPPI -------------------------------------------------------------------------------------

/**
 * Model predictive path integral control as in TD-MPC2, continuous actions. Per plan, a
 * `policyFraction` of the samples follow the proposal policy (rolled out once per plan, one row
 * each, `horizon − 1` model steps to record `horizon` actions); the others are drawn each iteration from a Gaussian around the mean (clamped to the
 * action bounds). The `elites` best samples are weighted by `exp((score − max) / temperature)`; the
 * weighted mean and std (std kept in `[minStd, initialStd]`) become the new distribution. The plan
 * is the first step of the final mean; the next plan starts from it shifted by a step.
 */
export class MppiPlanner<S, B> extends ModelPlanner<S, B, Float32Array> {
  /** The resolved options. */
  readonly config: Readonly<MppiConfig>;
  private readonly policy: ProposalPolicy<B> | undefined;
  private readonly rollouts: Rollouts<S, B>;
  private readonly policyRollouts: number;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;
  private warm: Float64Array | null = null;
  private readonly sequences: Float32Array;
  private readonly order: Int32Array;
  private readonly weights: Float64Array;
  private readonly stat: Float64Array;

  /** @throws {@link InvalidOptionError} for a bad option or a model without a bounded Box action space. */
  constructor(model: ImaginationModel<S, B>, options: MppiOptions<B> = {}) {
    const { config, hooks } = resolvePlannerConfig<MppiConfig, PlannerHooks<B>>(
      'MppiPlanner',
      MPPI_DEFAULTS,
      MPPI_RULES,
      options,
      ['policy', 'value'],
    );
    if (config.elites > config.samples) {
      throw new InvalidOptionError(
        'MppiPlanner.elites',
        config.elites,
        `an integer in 1..samples (${config.samples})`,
      );
    }
    if (config.minStd > config.initialStd) {
      throw new InvalidOptionError(
        'MppiPlanner.minStd',
        config.minStd,
        `a number in 0..initialStd (${config.initialStd})`,
      );
    }
    checkModel('MppiPlanner', model);
    if (!(model.actionSpace instanceof Box)) {
      throw new InvalidOptionError(
        'model of MppiPlanner',
        String(model.actionSpace),
        'a model with a Box action space (CemPlanner or SearchPlanner plan Discrete actions)',
      );
    }
    super('MppiPlanner', model, config.seed);
    this.config = Object.freeze(config);
    this.policy = hooks.policy;
    this.requireBoundedBox('for Gaussian samples inside the bounds');
    const h = config.horizon;
    const d = this.perAction;
    this.policyRollouts = Math.min(
      Math.round(config.policyFraction * config.samples),
      config.samples,
    );
    this.rollouts = new Rollouts(
      model,
      config.samples,
      config.particles ?? model.members,
      d,
      config,
      hooks.value,
    );
    this.mean = new Float64Array(h * d);
    this.std = new Float64Array(h * d);
    this.sequences = new Float32Array(config.samples * h * d);
    this.order = new Int32Array(config.samples);
    this.weights = new Float64Array(config.elites);
    this.stat = new Float64Array(h * d);
  }

  /** @throws {@link InvalidOptionError} for a mask (Box actions have none). */
  plan(state: S, options?: PlanOptions): Float32Array {
    this.rootMask(options);
    const { samples, elites, iterations, horizon: h, temperature, alpha } = this.config;
    const box = this.box!;
    const d = this.perAction;
    const { mean, std, sequences, order, weights, stat } = this;
    const rng = this.rng;
    const root = this.model.batch([state]);
    const half = (j: number): number => (box.high[j]! - box.low[j]!) / 2;
    for (let t = 0; t < h; t++) {
      for (let j = 0; j < d; j++) {
        if (this.warm === null) mean[t * d + j] = (box.low[j]! + box.high[j]!) / 2;
        std[t * d + j] = this.config.initialStd * half(j);
      }
    }
    if (this.warm !== null) mean.set(this.warm);
    const seeded = this.policyRollouts;
    if (seeded > 0) this.rollPolicy(root, seeded);
    const rollouts = this.rollouts;
    const p = rollouts.particles;
    const actions = rollouts.actions;
    const fill = (step: number): void => {
      for (let c = 0; c < samples; c++) {
        const from = (c * h + step) * d;
        for (let i = 0; i < p; i++) {
          const row = c * p + i;
          for (let j = 0; j < d; j++) actions[row * d + j] = sequences[from + j]!;
        }
      }
    };
    for (let it = 0; it < iterations; it++) {
      for (let c = seeded; c < samples; c++) {
        for (let t = 0; t < h; t++) {
          for (let j = 0; j < d; j++) {
            const m = t * d + j;
            const x = mean[m]! + std[m]! * rng.normal();
            sequences[(c * h + t) * d + j] = Math.min(Math.max(x, box.low[j]!), box.high[j]!);
          }
        }
      }
      const scores = rollouts.run(root, fill);
      rankInto(scores, order);
      const max = scores[order[0]!]!;
      let total = 0;
      for (let e = 0; e < elites; e++) {
        weights[e] = Math.exp((scores[order[e]!]! - max) / temperature);
        total += weights[e]!;
      }
      stat.fill(0);
      for (let e = 0; e < elites; e++) {
        const base = order[e]! * h * d;
        const w = weights[e]! / total;
        for (let m = 0; m < h * d; m++) stat[m]! += w * sequences[base + m]!;
      }
      for (let m = 0; m < h * d; m++) {
        let sq = 0;
        for (let e = 0; e < elites; e++)
          sq += (weights[e]! / total) * (sequences[order[e]! * h * d + m]! - stat[m]!) ** 2;
        const j = m % d;
        const spread = Math.min(
          Math.max(Math.sqrt(sq), this.config.minStd * half(j)),
          this.config.initialStd * half(j),
        );
        std[m] = alpha * std[m]! + (1 - alpha) * spread;
        mean[m] = alpha * mean[m]! + (1 - alpha) * stat[m]!;
      }
    }
    const action = this.boxAction(mean, 0);
    this.warm = shifted(mean, d, (j) => (box.low[j]! + box.high[j]!) / 2, this.warm);
    return action;
  }

  /** Forgets the warm start. */
  reset(): void {
    this.warm = null;
  }

  protected saveState(): Record<string, JsonValue> {
    return { warm: this.warm === null ? null : Array.from(this.warm) };
  }

  protected loadState(state: Record<string, JsonValue>): void {
    this.warm = readWarm('MppiPlanner', state['warm'], this.mean.length);
  }

  /** The first `count` sequences: the proposal policy rolled out from the root (one row each). */
  private rollPolicy(root: B, count: number): void {
    const { horizon: h } = this.config;
    const d = this.perAction;
    const model = this.model;
    let batch = model.select(root, new Int32Array(count));
    const uniform = new Float32Array(count * d);
    for (let t = 0; t < h; t++) {
      let actions: Float32Array;
      if (this.policy === undefined) {
        this.uniformActions(count, uniform, undefined);
        actions = uniform;
      } else {
        actions = this.policy(batch, this.rng);
        checkProposal('MppiPlanner', actions, count * d);
      }
      // Recorded as proposed: an action outside the bounds is the model's to refuse, not ours to clip.
      for (let c = 0; c < count; c++) {
        for (let j = 0; j < d; j++) this.sequences[(c * h + t) * d + j] = actions[c * d + j]!;
      }
      if (t < h - 1) batch = model.step(batch, actions, { members: this.config.members }).states;
    }
  }
}

// ---- search -----------------------------------------------------------------------------------

/** Part of a search layer: states of a batch (one model call's kept rows), their masks and nodes. */
interface FrontierPiece<B> {
  batch: B;
  masks: Uint8Array | undefined;
  nodes: number[];
}

/** A cached plan: its actions and the key of the state each is predicted to lead to. */
interface CachedPlan {
  actions: number[];
  keys: string[];
  /** Actions already taken. */
  next: number;
}

/**
 * Breadth-first (or beam) search over model states for discrete, sparse-reward, long-horizon
 * tasks. Layer by layer, every state of the frontier is expanded by every allowed action in one
 * `model.step` call (several calls of at most `batchRows` rows for a wider layer): allowed at the
 * root are the plan's `actionMask`, below it the model's `actionMasks` where it gives them. A child
 * whose key ({@link ImaginationModel.key}) was seen before is dropped — which also drops actions
 * that change nothing (the next state's key equals the current one), the pruning a model without
 * masks relies on. Terminal states end their branch. Memory is bounded by the node budget: a layer
 * keeps for the next one only as many children as `maxNodes` can still expand (a beam keeps all of
 * them until it picks its best), so a search holds at most about `maxNodes` states plus one call's.
 *
 * The plan is the path to the node with the highest discounted return; with `stopAtFirstSuccess`
 * the search ends after the first layer that reaches a rewarding terminal state, so on a sparse
 * task it returns a shortest successful plan. When nothing rewarding is found within `maxDepth` /
 * `maxNodes`, the action is drawn uniformly among the root actions that neither change nothing nor
 * end the episode without reward. With `cachePlan`, a successful plan is replayed while each
 * observed state has the key the model predicted for it; any other state is searched again.
 */
export class SearchPlanner<S, B> implements Planner<S, number> {
  /** The model imagined with. */
  readonly model: ImaginationModel<S, B>;
  /** The resolved options. */
  readonly config: Readonly<SearchConfig>;
  /** States expanded by the last search (0 when the last plan replayed a cached one). */
  lastExpanded = 0;
  /** Actions of the plan the last search found (0: it found no rewarding path and took a safe random action). */
  lastPlanLength = 0;
  private readonly space: Discrete;
  private rng: Rng;
  private cached: CachedPlan | null = null;

  /** @throws {@link InvalidOptionError} for a bad option or a model without a Discrete action space. */
  constructor(model: ImaginationModel<S, B>, options: SearchOptions = {}) {
    const config = resolveConfig('SearchPlanner', SEARCH_DEFAULTS, SEARCH_RULES, options);
    this.space = checkDiscreteModel('SearchPlanner', model);
    this.model = model;
    this.config = Object.freeze(config);
    this.rng = new Rng(config.seed);
  }

  /** @throws {@link InvalidOptionError} for a bad mask. */
  plan(state: S, options?: PlanOptions): number {
    const n = this.space.n;
    const start = this.space.start;
    const mask = checkRootMask('SearchPlanner', options?.actionMask, n);
    const model = this.model;
    const root = model.batch([state]);
    const rootKey = model.key(root, 0);
    const cached = this.cached;
    if (cached !== null) {
      const expected = cached.next === 0 ? undefined : cached.keys[cached.next - 1];
      const action = cached.actions[cached.next];
      if (
        (expected === undefined || expected === rootKey) &&
        action !== undefined &&
        (mask === undefined || mask[action - start] === 1)
      ) {
        cached.next++;
        this.lastExpanded = 0;
        return action;
      }
      this.cached = null;
    }
    return this.search(root, rootKey, mask);
  }

  /** Forgets the cached plan. */
  reset(): void {
    this.cached = null;
  }

  /** The cached plan and the generator, plain JSON. */
  getState(): JsonValue {
    return {
      planner: 'SearchPlanner',
      rng: this.rng.getState() as unknown as JsonValue,
      cached:
        this.cached === null
          ? null
          : { actions: this.cached.actions, keys: this.cached.keys, next: this.cached.next },
    };
  }

  /** Restores {@link SearchPlanner.getState}. @throws {@link InvalidStateError} for a malformed state. */
  setState(state: JsonValue): void {
    const s = state as { planner?: unknown; rng?: unknown; cached?: unknown } | null;
    const c = s?.cached as Partial<CachedPlan> | null | undefined;
    const cachedOk =
      c === null ||
      (typeof c === 'object' &&
        Array.isArray(c.actions) &&
        c.actions.every((a) => this.space.contains(a)) &&
        Array.isArray(c.keys) &&
        c.keys.length === c.actions.length &&
        c.keys.every((k) => typeof k === 'string') &&
        Number.isSafeInteger(c.next) &&
        c.next! >= 0 &&
        c.next! <= c.actions.length);
    if (s?.planner !== 'SearchPlanner' || !isRngState(s.rng) || !cachedOk) {
      throw new InvalidStateError(
        'SearchPlanner',
        '{planner: "SearchPlanner", rng, cached: null | {actions, keys, next}} from getState()',
        state,
      );
    }
    this.rng = Rng.fromState(s.rng);
    this.cached =
      c === null ? null : { actions: [...c.actions!], keys: [...c.keys!], next: c.next! };
  }

  private search(root: B, rootKey: string, mask: Uint8Array | undefined): number {
    const { maxDepth, maxNodes, beamWidth, gamma, stopAtFirstSuccess, batchRows, minReward } =
      this.config;
    const model = this.model;
    const n = this.space.n;
    const start = this.space.start;
    // Node 0 is the root; per node: parent, action index, return, key.
    const parent: number[] = [-1];
    const actionOf: number[] = [-1];
    const returnOf: number[] = [0];
    const keyOf: string[] = [rootKey];
    const seen = new Set<string>([rootKey]);
    /** Root actions whose child ended without reward or changed nothing. */
    const unsafe = new Uint8Array(n);
    let frontier: FrontierPiece<B>[] = [{ batch: root, masks: mask, nodes: [0] }];
    let best = -1;
    let bestReturn = 0;
    let expanded = 0;
    let discount = 1;
    for (let depth = 0; depth < maxDepth && frontier.length > 0; depth++) {
      frontier = truncatePieces(model, frontier, maxNodes - expanded, n);
      if (frontier.length === 0) break;
      const width = frontier.reduce((sum, piece) => sum + piece.nodes.length, 0);
      expanded += width;
      // Children kept for the next layer: all of them for a beam (it keeps the best), otherwise
      // only as many as the node budget can still expand (the others would be dropped unexpanded).
      const room = beamWidth === undefined ? maxNodes - expanded : Infinity;
      const next: FrontierPiece<B>[] = [];
      let kept = 0;
      let success = false;
      // Every (node, allowed action) pair is a row; at most `batchRows` rows per model call, so a
      // wide layer never holds more than one chunk of imagined states besides the kept ones.
      const rows: number[] = [];
      const acts: number[] = [];
      /** Imagines the pending rows of `piece`; true when one of them won (a rewarded end). */
      const flush = (piece: FrontierPiece<B>): boolean => {
        if (rows.length === 0) return false;
        let won = false;
        const batch = model.select(piece.batch, Int32Array.from(rows));
        const actions = new Float32Array(acts.length);
        for (let i = 0; i < acts.length; i++) actions[i] = start + acts[i]!;
        const out = model.step(batch, actions);
        const nodes: number[] = [];
        const keptRows: number[] = [];
        for (let i = 0; i < rows.length; i++) {
          const from = piece.nodes[rows[i]!]!;
          const predicted = out.rewards[i]!;
          if (!Number.isFinite(predicted)) throw nonFinite('reward', predicted, i, depth);
          const reward = Math.abs(predicted) < minReward ? 0 : predicted;
          const key = model.key(out.states, i);
          const ret = returnOf[from]! + discount * reward;
          const done = out.dones[i] === 1;
          if (depth === 0 && ((done && ret <= 0) || key === rootKey)) unsafe[acts[i]!] = 1;
          if (seen.has(key) && !done) continue;
          // Beyond the budget a running child is never expanded: it is kept only as a plan's end.
          const expandable = done || kept < room;
          if (!expandable && ret <= bestReturn) continue;
          seen.add(key);
          const node = parent.length;
          parent.push(from);
          actionOf.push(acts[i]!);
          returnOf.push(ret);
          keyOf.push(key);
          if (ret > bestReturn) {
            best = node;
            bestReturn = ret;
          }
          if (done) {
            if (reward > 0) won = true;
            continue;
          }
          if (!expandable) continue;
          nodes.push(node);
          keptRows.push(i);
          kept++;
        }
        if (nodes.length > 0) {
          next.push({
            batch: model.select(out.states, Int32Array.from(keptRows)),
            masks: pickMasks(out.actionMasks, keptRows, n),
            nodes,
          });
        }
        rows.length = 0;
        acts.length = 0;
        return won;
      };
      for (const piece of frontier) {
        for (let f = 0; f < piece.nodes.length; f++) {
          for (let a = 0; a < n; a++) {
            if (piece.masks === undefined || piece.masks[f * n + a] === 1) {
              rows.push(f);
              acts.push(a);
              if (rows.length >= batchRows && flush(piece)) success = true;
            }
          }
        }
        if (flush(piece)) success = true;
      }
      discount *= gamma;
      if (success && stopAtFirstSuccess) break;
      frontier = beamWidth === undefined ? next : beamPieces(model, next, returnOf, beamWidth, n);
    }
    this.lastExpanded = expanded;
    if (best > 0) {
      const actions: number[] = [];
      const keys: string[] = [];
      for (let node = best; node > 0; node = parent[node]!) {
        actions.push(start + actionOf[node]!);
        keys.push(keyOf[node]!);
      }
      actions.reverse();
      keys.reverse();
      if (this.config.cachePlan) this.cached = { actions, keys, next: 1 };
      this.lastPlanLength = actions.length;
      return actions[0]!;
    }
    this.lastPlanLength = 0;
    const safe = new Uint8Array(n);
    for (let a = 0; a < n; a++)
      safe[a] = (mask === undefined || mask[a] === 1) && unsafe[a] === 0 ? 1 : 0;
    const pool = safe.some((m) => m === 1) ? safe : mask;
    return start + sampleAllowed(this.rng, n, pool, 0);
  }
}

/** The first `limit` nodes of a layer, in order. */
function truncatePieces<S, B>(
  model: ImaginationModel<S, B>,
  pieces: FrontierPiece<B>[],
  limit: number,
  n: number,
): FrontierPiece<B>[] {
  const out: FrontierPiece<B>[] = [];
  let left = limit;
  for (const piece of pieces) {
    if (left <= 0) break;
    if (piece.nodes.length <= left) {
      out.push(piece);
      left -= piece.nodes.length;
      continue;
    }
    const rows = Array.from({ length: left }, (_, i) => i);
    out.push({
      batch: model.select(piece.batch, Int32Array.from(rows)),
      masks: piece.masks?.slice(0, left * n),
      nodes: piece.nodes.slice(0, left),
    });
    left = 0;
  }
  return out;
}

/** The `width` nodes of a layer with the highest returns (ties: the earlier), in layer order. */
function beamPieces<S, B>(
  model: ImaginationModel<S, B>,
  pieces: FrontierPiece<B>[],
  returnOf: readonly number[],
  width: number,
  n: number,
): FrontierPiece<B>[] {
  const all: { piece: number; row: number; node: number; order: number }[] = [];
  pieces.forEach((piece, p) =>
    piece.nodes.forEach((node, row) => all.push({ piece: p, row, node, order: all.length })),
  );
  if (all.length <= width) return pieces;
  const keep = all
    .sort((x, y) => returnOf[y.node]! - returnOf[x.node]! || x.order - y.order)
    .slice(0, width)
    .sort((x, y) => x.order - y.order);
  const out: FrontierPiece<B>[] = [];
  for (let p = 0; p < pieces.length; p++) {
    const rows = keep.filter((k) => k.piece === p).map((k) => k.row);
    if (rows.length === 0) continue;
    const piece = pieces[p]!;
    out.push({
      batch: model.select(piece.batch, Int32Array.from(rows)),
      masks: pickMasks(piece.masks, rows, n),
      nodes: rows.map((r) => piece.nodes[r]!),
    });
  }
  return out;
}

// ---- by name ----------------------------------------------------------------------------------

/** The planners by name, as configs and the command line spell them. */
export type PlannerKind = 'shooting' | 'cem' | 'mppi' | 'search' | 'mcts';

/** The planner names {@link createPlanner} accepts. */
export const PLANNER_KINDS: readonly PlannerKind[] = Object.freeze([
  'shooting',
  'cem',
  'mppi',
  'search',
  'mcts',
]);

/**
 * A planner by name over `model`, with that planner's options (checked by its constructor).
 * @throws {@link InvalidOptionError} for an unknown name, an option the planner does not know, a
 * value out of range, or a model the planner cannot use (MPPI needs Box actions, search and MCTS
 * Discrete).
 */
export function createPlanner<S, B>(
  kind: PlannerKind,
  model: ImaginationModel<S, B>,
  options: Record<string, unknown> = {},
): Planner<S> {
  switch (kind) {
    case 'shooting':
      return new ShootingPlanner(model, options);
    case 'cem':
      return new CemPlanner(model, options);
    case 'mppi':
      return new MppiPlanner(model, options);
    case 'search':
      return new SearchPlanner(model, options);
    case 'mcts':
      return new MctsPlanner(model, options);
    default:
      throw new InvalidOptionError(
        'planner',
        kind,
        `one of ${PLANNER_KINDS.map((k) => JSON.stringify(k)).join(', ')}`,
      );
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function checkProposal(planner: string, actions: unknown, length: number): void {
  if (!(actions instanceof Float32Array) || actions.length !== length) {
    throw new InvalidValueError(
      `actions of the ${planner} policy`,
      formatValue(actions),
      `a Float32Array of ${length} values (one action per row)`,
    );
  }
}

/** Indices of `scores` best first (ties: lower index first), into `order`. */
function rankInto(scores: Float64Array, order: Int32Array): void {
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

function argmax(scores: Float64Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** A normal sample truncated to [low, high] (rejection; the mean lies inside, so at least about half are kept). */
function truncatedNormal(rng: Rng, mean: number, std: number, low: number, high: number): number {
  if (std <= 0) return Math.min(Math.max(mean, low), high);
  for (let tries = 0; tries < 64; tries++) {
    const x = mean + std * rng.normal();
    if (x >= low && x <= high) return x;
  }
  return Math.min(Math.max(mean, low), high);
}

/**
 * An index drawn from the probabilities `probs[offset..offset + n)`, or, with a mask, from them
 * restricted to the allowed actions `mask[maskOffset + a] === 1` (uniformly among those when they
 * have no probability left).
 */
function sampleCategorical(
  rng: Rng,
  probs: Float64Array,
  offset: number,
  n: number,
  mask?: Uint8Array,
  maskOffset = 0,
): number {
  let total = 0;
  for (let a = 0; a < n; a++) {
    if (mask === undefined || mask[maskOffset + a] === 1) total += probs[offset + a]!;
  }
  if (total <= 0) return sampleAllowed(rng, n, mask, maskOffset);
  let u = rng.random() * total;
  let last = -1;
  for (let a = 0; a < n; a++) {
    const q = probs[offset + a]!;
    if (q <= 0 || (mask !== undefined && mask[maskOffset + a] !== 1)) continue;
    last = a;
    u -= q;
    if (u < 0) return a;
  }
  return last;
}

/** True if some `mask[offset + a] === 1`, a < n. */
function hasAllowed(mask: Uint8Array, offset: number, n: number): boolean {
  for (let a = 0; a < n; a++) if (mask[offset + a] === 1) return true;
  return false;
}

/** Zeroes the forbidden actions of the first row and renormalises it (uniform over the allowed if nothing is left). */
function maskRow(probs: Float64Array, mask: Uint8Array, n: number): void {
  let total = 0;
  for (let a = 0; a < n; a++) {
    if (mask[a] !== 1) probs[a] = 0;
    total += probs[a]!;
  }
  if (total > 0) {
    for (let a = 0; a < n; a++) probs[a]! /= total;
    return;
  }
  const allowed = mask.reduce((s, m) => s + (m === 1 ? 1 : 0), 0);
  for (let a = 0; a < n; a++) probs[a] = mask[a] === 1 ? 1 / allowed : 0;
}

/** `values` shifted one step earlier (`[H × width]`), the last step filled by `fill(j)`; reuses `into` when it fits. */
function shifted(
  values: Float64Array,
  width: number,
  fill: (j: number) => number,
  into: Float64Array | null,
): Float64Array {
  const out = into?.length === values.length ? into : new Float64Array(values.length);
  out.set(values.subarray(width));
  for (let j = 0; j < width; j++) out[values.length - width + j] = fill(j);
  return out;
}

function readWarm(
  planner: string,
  value: JsonValue | undefined,
  length: number,
): Float64Array | null {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    value.length !== length ||
    !value.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw new InvalidStateError(planner, `warm: null or ${length} finite numbers`, value);
  }
  return Float64Array.from(value as number[]);
}
