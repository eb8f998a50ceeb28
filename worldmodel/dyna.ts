/**
 * A policy trained in imagination, for the world-model agent: Dyna (Sutton 1991) in the form of
 * MBPO (Janner et al. 2019). The learned model is a simulator of short branches: from start states
 * drawn from the REAL replay buffer, it is rolled out `rolloutLength` steps with the current policy
 * (exploring), and every imagined transition — the model's next state, predicted reward and
 * predicted termination — goes into a separate MODEL replay buffer. The policy learner (SAC for
 * continuous actions or SAC-Discrete, DQN for discrete ones, from `agents/`) then takes its
 * gradient steps on batches that mix the two buffers, `realRatio` real (MBPO's 0.05) and the rest
 * imagined. Branches stay short so the model's compounding error stays small, while the policy
 * sees far more (imagined) data than the environment gave.
 *
 * Reads top to bottom: config → parts (the learner, the model buffer, a generator) → rollout (one
 * batched `model.step` with trajectory sampling, `members: 'ts'`, per imagined step for every
 * branch still alive; a branch ends where the model predicts termination) → update (the learner's
 * `trainFrom` on both buffers) → the planner hooks (the actor as a batched proposal policy, the
 * critic as a batched value at the horizon) → save / load.
 *
 * The learner never observes an env step: it is trained only through `trainFrom`, so its own
 * replay buffer stays empty (the defaults give it one slot) and its observation and reward
 * normalisation cannot be used (their statistics would never move).
 *
 * @see https://arxiv.org/abs/1906.08253
 * @example
 * const dyna = Dyna.create(spacesOf(env), model, { policy: 'sac', rolloutLength: 1 });
 * await dyna.ready();
 * dyna.rollout(realReplay);          // after each refit of the model
 * await dyna.update(realReplay, 1);  // every env step
 * const planner = createPlanner('mppi', model, { policy: (b, rng) => dyna.propose(b, rng), value: (b) => dyna.value(b) });
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { Discrete, type Box } from '../envs/core/space.js';
import type { EnvSpaces, Metrics } from '../agents/agent.js';
import { ReplayBuffer } from '../agents/buffers/replay-buffer.js';
import { MetricAccumulator, readAgentFile, writeAgentFile } from '../agents/checkpoint.js';
import { DqnAgent } from '../agents/dqn.js';
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import { SacAgent } from '../agents/sac.js';
import { ObservationEncoder } from '../agents/spaces.js';
import type { ImaginationModel } from './model.js';
import type { ModelBatch } from './world-model.js';

/** The policy learners {@link Dyna} trains: SAC (continuous, or SAC-Discrete) or DQN (discrete). */
export type DynaPolicyKind = 'sac' | 'dqn';

/** Config of {@link Dyna}; every field has a default ({@link DYNA_DEFAULTS}). */
export interface DynaConfig {
  /** The policy learner. @defaultValue 'sac' */
  policy: DynaPolicyKind;
  /** Seed of the start states and the rollout exploration (the learner gets `seed + 1`). @defaultValue 1 */
  seed: number;
  /** Imagined steps per branch (MBPO's k; 1 for most of its tasks). @defaultValue 1 */
  rolloutLength: number;
  /** Branches per rollout: start states drawn from the real buffer. @defaultValue 1000 */
  rolloutBatch: number;
  /** Capacity of the model buffer (imagined transitions, oldest overwritten). @defaultValue 20000 */
  modelBufferSize: number;
  /** Share of real transitions in every learner batch (MBPO: 0.05). @defaultValue 0.05 */
  realRatio: number;
  /** Options of the learner ({@link SacOptions} or {@link DqnOptions}), over Dyna's defaults for it. @defaultValue {} */
  policyOptions: Record<string, unknown>;
}

/** Options of {@link Dyna.create}: any subset of {@link DynaConfig}. */
export type DynaOptions = Partial<DynaConfig>;

/** Defaults of {@link DynaConfig}. */
export const DYNA_DEFAULTS: Readonly<DynaConfig> = Object.freeze({
  policy: 'sac',
  seed: 1,
  rolloutLength: 1,
  rolloutBatch: 1000,
  modelBufferSize: 20_000,
  realRatio: 0.05,
  policyOptions: {},
});

/** Rules of {@link DynaConfig} (the world-model agent checks its policy options with the same). */
export const DYNA_RULES: ConfigRules<DynaConfig> = {
  policy: { kind: 'choice', values: ['sac', 'dqn'] },
  seed: { kind: 'seed' },
  rolloutLength: { kind: 'number', min: 1, max: 1000, integer: true },
  rolloutBatch: { kind: 'number', min: 1, integer: true },
  modelBufferSize: { kind: 'number', min: 1, integer: true },
  realRatio: { kind: 'number', min: 0, max: 1 },
  policyOptions: { kind: 'object' },
};

/**
 * What Dyna gives the learner unless `policyOptions` says otherwise: one replay slot (its own
 * buffer is never filled), no random warm-up; DQN explores with a constant ε of 0.1 (its schedule
 * counts env steps, which it never sees).
 */
const LEARNER_DEFAULTS: Readonly<Record<DynaPolicyKind, Record<string, unknown>>> = {
  sac: { bufferSize: 1, learningStarts: 0 },
  dqn: { bufferSize: 1, learningStarts: 0, explorationInitialEps: 0.1, explorationFinalEps: 0.1 },
};

/** MBPO's imagination learner; see the module comment. */
export class Dyna {
  /** The resolved config. */
  readonly config: Readonly<DynaConfig>;
  /** The policy learner (trained only on replay batches, never on env steps). */
  readonly learner: SacAgent | DqnAgent;
  /** The model buffer: imagined transitions (actions in env units, as the real buffer). */
  readonly buffer: ReplayBuffer;
  private readonly model: ImaginationModel<Float32Array, ModelBatch>;
  private readonly spaces: EnvSpaces;
  private readonly perAction: number;
  private readonly accumulator = new MetricAccumulator();
  private rng: Rng;
  private rollouts = 0;

  private constructor(
    spaces: EnvSpaces,
    model: ImaginationModel<Float32Array, ModelBatch>,
    config: DynaConfig,
  ) {
    this.config = Object.freeze(config);
    this.spaces = spaces;
    this.model = model;
    const action = spaces.actionSpace as unknown as Discrete | Box;
    const discrete = action instanceof Discrete;
    if (config.policy === 'dqn' && !discrete)
      throw new InvalidOptionError(
        'Dyna.policy',
        'dqn',
        '"sac" for a Box action space (DQN needs discrete actions)',
      );
    for (const key of ['normalizeObservations', 'normalizeRewards']) {
      const value = config.policyOptions[key];
      if (value !== undefined && value !== false)
        throw new InvalidOptionError(
          `Dyna.policyOptions.${key}`,
          value,
          'false (the learner sees no env steps, so its running statistics would never move)',
        );
    }
    const learnerOptions = {
      seed: config.seed + 1,
      ...LEARNER_DEFAULTS[config.policy],
      ...config.policyOptions,
    };
    this.learner =
      config.policy === 'sac'
        ? SacAgent.create(spaces, learnerOptions)
        : DqnAgent.create(spaces, learnerOptions);
    const encoder = new ObservationEncoder(spaces.observationSpace);
    this.perAction = discrete ? 1 : action.size;
    this.buffer = new ReplayBuffer({
      capacity: config.modelBufferSize,
      observationSize: encoder.size,
      actionSize: this.perAction,
    });
    this.rng = new Rng(config.seed);
  }

  /**
   * An imagination learner for `spaces` over `model` (whose states are {@link ObservationEncoder}
   * rows of `spaces.observationSpace`, as the world model's are).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range (the learner's
   * options included, named `SacAgent.x` / `DqnAgent.x`), DQN on Box actions, or normalisation on.
   */
  static create(
    spaces: EnvSpaces,
    model: ImaginationModel<Float32Array, ModelBatch>,
    options: DynaOptions = {},
  ): Dyna {
    return new Dyna(spaces, model, resolveConfig('Dyna', DYNA_DEFAULTS, DYNA_RULES, options));
  }

  /** Rollouts run so far. */
  get rolloutCount(): number {
    return this.rollouts;
  }

  /** Builds the learner's networks (the hooks and rollouts need them). */
  async ready(): Promise<void> {
    await this.learner.ready();
  }

  // ---- imagination ------------------------------------------------------------------------------

  /**
   * One round of branched rollouts: `rolloutBatch` start states drawn uniformly from `real`
   * (observation rows), then `rolloutLength` imagined steps — the learner's exploring actions and
   * ONE `model.step(…, { members: 'ts' })` for every branch still alive — each transition stored in
   * the model buffer with the model's reward and termination (`truncated` false: a branch's last
   * step bootstraps). A branch ends where the model predicts termination. Returns the number of
   * transitions stored.
   * @throws {@link InvalidValueError} for a non-finite predicted state or reward.
   */
  rollout(real: ReplayBuffer): number {
    const started = performance.now();
    const d = this.buffer.observationSize;
    const a = this.perAction;
    const start = real.sample(this.config.rolloutBatch, this.rng);
    let batch: ModelBatch = { states: start.observations, n: start.size };
    let stored = 0;
    let rewardSum = 0;
    let done = 0;
    for (let h = 0; h < this.config.rolloutLength && batch.n > 0; h++) {
      const actions = this.learner.actOnRows(batch.states, { explore: true, rng: this.rng });
      const step = this.model.step(batch, actions, { members: 'ts' });
      const next = step.states.states;
      const alive: number[] = [];
      for (let r = 0; r < batch.n; r++) {
        const reward = step.rewards[r]!;
        const row = next.subarray(r * d, r * d + d);
        if (!Number.isFinite(reward) || !row.every(Number.isFinite))
          throw new InvalidValueError(
            `imagined transition at row ${r}, step ${h}`,
            formatValue(Number.isFinite(reward) ? row : reward),
            'a finite reward and next state',
            'the model diverged; refit it or shorten rolloutLength',
          );
        const terminated = step.dones[r] === 1;
        this.buffer.add({
          observation: batch.states.subarray(r * d, r * d + d),
          action: a === 1 ? actions[r]! : actions.subarray(r * a, r * a + a),
          reward,
          nextObservation: row,
          terminated,
          truncated: false,
        });
        stored++;
        rewardSum += reward;
        if (terminated) done++;
        else alive.push(r);
      }
      batch =
        alive.length === batch.n
          ? step.states
          : this.model.select(step.states, Int32Array.from(alive));
    }
    this.rollouts++;
    this.accumulator.add({
      'worldmodel/policy_rollout_transitions': stored,
      'worldmodel/policy_rollout_reward': rewardSum / stored,
      'worldmodel/policy_rollout_done_fraction': done / stored,
      'worldmodel/policy_model_buffer_size': this.buffer.size,
      'worldmodel/policy_rollouts': this.rollouts,
      'time/worldmodel_policy_rollout_seconds': (performance.now() - started) / 1000,
    });
    return stored;
  }

  /**
   * `updates` gradient steps of the learner on batches mixing `real` (`realRatio`) and the model
   * buffer (the rest); see {@link OffPolicyAgent.trainFrom}.
   * @throws {@link InvalidOptionError} when the model buffer is still empty (no rollout yet) and
   * `realRatio` is below 1.
   */
  async update(real: ReplayBuffer, updates: number): Promise<void> {
    const started = performance.now();
    const r = this.config.realRatio;
    await this.learner.trainFrom(
      [
        { buffer: real, fraction: r },
        { buffer: this.buffer, fraction: 1 - r },
      ],
      updates,
    );
    this.accumulator.add({
      'time/worldmodel_policy_update_seconds': (performance.now() - started) / 1000,
    });
  }

  // ---- planner hooks ----------------------------------------------------------------------------

  /**
   * The actor as a planner's proposal policy ({@link ProposalPolicy}): exploring actions for every
   * row of `batch` in one pass, drawn from the planner's `rng`.
   */
  propose(batch: ModelBatch, rng: Rng, masks?: Uint8Array): Float32Array {
    return this.learner.actOnRows(batch.states, { explore: true, rng, masks });
  }

  /** The critic as a planner's value at the horizon ({@link ValueFunction}): one value per row. */
  value(batch: ModelBatch): Float32Array {
    return this.learner.valueRows(batch.states);
  }

  // ---- metrics and persistence ------------------------------------------------------------------

  /**
   * Metrics since the last call: the rollouts' (`worldmodel/policy_rollout_*`) and the learner's,
   * renamed under `worldmodel/policy_` (`losses/qf_loss` → `worldmodel/policy_qf_loss`).
   */
  metrics(): Metrics {
    const out: Metrics = {};
    for (const [key, value] of Object.entries(this.learner.metrics()))
      out[`worldmodel/policy_${key.slice(key.lastIndexOf('/') + 1)}`] = value;
    return { ...out, ...this.accumulator.drain() };
  }

  /**
   * Writes the model buffer and Dyna's state into `dir` (`agent.json`, `replay-buffer.*`) and the
   * learner into `dir/learner`, atomically per file.
   */
  async save(dir: string): Promise<void> {
    await this.ready();
    mkdirSync(dir, { recursive: true });
    this.buffer.save(dir);
    await this.learner.save(join(dir, 'learner'));
    writeAgentFile(dir, {
      kind: 'dyna',
      config: this.config,
      spaces: this.spaces,
      tensors: {},
      state: {
        rng: this.rng.getState(),
        rollouts: this.rollouts,
        metrics: this.accumulator.toJSON(),
      },
    });
  }

  /**
   * Restores {@link Dyna.save}.
   * @throws {@link InvalidStateError} when `dir` holds another config or spaces.
   * @throws {@link MalformedFileError} for missing or damaged files.
   */
  async load(dir: string): Promise<void> {
    await this.ready();
    const saved = readAgentFile(dir, {
      kind: 'dyna',
      config: this.config,
      spaces: this.spaces,
      tensors: {},
    });
    const s = saved.state as { rng: unknown; rollouts: number; metrics: unknown };
    this.buffer.load(dir);
    await this.learner.load(join(dir, 'learner'));
    this.rng = saved.rng(s.rng);
    this.rollouts = s.rollouts;
    this.accumulator.fromJSON(s.metrics);
  }

  /** Releases the learner's tensors. */
  dispose(): void {
    this.learner.dispose();
  }
}
