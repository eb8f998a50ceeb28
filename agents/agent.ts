/**
 * The agent contract. Every agent — PPO, SAC, DQN, random, the language-model and world-model
 * agents — is created from an environment's spaces and a partial config (`XOptions`, validated
 * into `XConfig`), and is driven by `train()` / `evaluate()` in `agents/loop.ts`, which owns the
 * only training loop: an agent acts and observes; it never steps an environment itself.
 *
 * @example
 * const agent = PpoAgent.create({ observationSpace: env.observationSpace, actionSpace: env.actionSpace });
 * const action = await agent.act(observation, { explore: true });
 * await agent.observe({ observation, action, reward, nextObservation, terminated, truncated, info, envIndex: 0 });
 */
import type { Info, TextView } from '../envs/core/env.js';
import { InvalidOptionError } from '../envs/core/errors.js';
import type { AnySpace, Space } from '../envs/core/space.js';

/** What an agent is created from: the spaces of the environment it will act in. */
export interface EnvSpaces<O = unknown, A = unknown> {
  /** Observation space of one (sub-)environment. */
  observationSpace: Space<O, unknown>;
  /** Action space of one (sub-)environment. */
  actionSpace: Space<A, unknown>;
  /** Sub-environments stepping together (a vector environment); 1 for a single one. @defaultValue 1 */
  numEnvs?: number;
}

/** Which loop an observation comes from: `train()`'s environment or `evaluate()`'s. */
export type ActPhase = 'train' | 'evaluate';

/**
 * What the loop hands an agent with each observation about the (sub-)environment it came from,
 * so that an agent reading text (the language-model agent) never holds or steps an environment.
 * Agents that read only observations ignore it.
 */
export interface ActContext {
  /**
   * The text face of the (sub-)environment, in the state of the observation: read it during
   * `act` (it is live; for an `AsyncVectorEnv` each call goes to the worker, see `VectorEnv.textView`).
   */
  textView: TextView<unknown>;
  /** The info returned with the observation (by `reset` or `step`). */
  info: Info;
  /** The environment's id (registry id, or class name), for prompts, messages and seeds. */
  envId: string;
  /** One line on the task from the registry (`EnvSpec.description`); `''` when there is none. */
  description: string;
  /** The loop the observation comes from (an evaluation inside `train()` is `evaluate`). */
  phase: ActPhase;
  /** Steps taken in the observation's episode before it (0: the episode's first observation). */
  episodeStep: number;
  /** Steps left before the episode is cut (a `TimeLimit`, or `evaluate()`'s `maxEpisodeSteps`); null when none is known. */
  stepsLeft: number | null;
  /** The episode's step budget (`stepsLeft` + `episodeStep`); null when none is known. */
  maxEpisodeSteps: number | null;
  /**
   * True when the vector environment will ignore the action (a next-step autoreset of a
   * sub-environment whose episode just ended): any action in the space will do.
   */
  autoreset: boolean;
}

/** Options of {@link Agent.act}. */
export interface ActOptions {
  /** Sample (true, training) or act greedily/deterministically (false, evaluation). @defaultValue false */
  explore?: boolean;
  /** Allowed actions (`info.actionMask` of the observation), 1 = allowed. */
  actionMask?: Uint8Array | undefined;
  /** Which sub-environment the observation comes from. @defaultValue 0 */
  envIndex?: number;
  /** The environment the observation came from: its text face, the info, the episode's progress (`train()` and `evaluate()` always pass it). */
  context?: ActContext | undefined;
}

/** Options of {@link Agent.actBatch}: one observation per sub-environment. */
export interface ActBatchOptions {
  /** Sample (true) or act deterministically (false). @defaultValue false */
  explore?: boolean;
  /** Allowed actions per sub-environment (undefined entries: all allowed). */
  actionMasks?: readonly (Uint8Array | undefined)[];
  /** Per sub-environment, what {@link ActOptions.context} holds (`train()` always passes them). */
  contexts?: readonly (ActContext | undefined)[];
}

/** One step of experience, as the loop hands it to {@link Agent.observe}. */
export interface Transition<O = unknown, A = unknown> {
  observation: O;
  action: A;
  reward: number;
  /** The observation after the step; the final observation when the episode ended (never a reset one). */
  nextObservation: O;
  /** The MDP ended: do not bootstrap. */
  terminated: boolean;
  /** A time limit or an outside cut ended the episode: bootstrap from `nextObservation`. */
  truncated: boolean;
  /** The step's info. */
  info: Info;
  /** Allowed actions in `observation`. */
  actionMask?: Uint8Array | undefined;
  /** Allowed actions in `nextObservation`. */
  nextActionMask?: Uint8Array | undefined;
  /** Which sub-environment produced it. */
  envIndex: number;
}

/** What the loop tells an agent before training (schedules such as LR annealing use `totalSteps`). */
export interface TrainContext {
  /** Env steps the run will take in total (the same on resume). */
  totalSteps: number;
  /** Sub-environments stepping together. */
  numEnvs: number;
}

/** Scalar metrics with namespaced keys (`losses/critic`, `charts/learning_rate`, ...). */
export type Metrics = Record<string, number>;

/** The agent contract; see the module comment. */
export interface Agent<O = unknown, A = unknown> {
  /** Short algorithm name (`ppo`, `sac`, `dqn`, `random`, ...). */
  readonly kind: string;
  /** The resolved config (plain JSON), recorded in `config.json`. */
  readonly config: Readonly<object>;
  /** Chooses an action for one observation. */
  act(observation: O, options?: ActOptions): Promise<A>;
  /** Chooses actions for one observation per sub-environment in one pass (vector environments). */
  actBatch?(observations: readonly O[], options?: ActBatchOptions): Promise<A[]>;
  /** Takes one transition; learning happens here when the agent is ready. */
  observe(transition: Transition<O, A>): Promise<void>;
  /**
   * Takes one vector step's transitions; `null` for a sub-environment whose step was an autoreset
   * (no real transition).
   */
  observeBatch?(transitions: readonly (Transition<O, A> | null)[]): Promise<void>;
  /**
   * Called by `evaluate()` before each evaluation episode (planners drop their warm starts here;
   * in training an agent sees episode ends in its transitions).
   */
  onEpisodeStart?(): void;
  /** Called by `train()` before the first step (and again on resume). */
  onTrainStart?(context: TrainContext): void;
  /** Metrics accumulated since the last call (means over updates), then cleared. */
  metrics?(): Metrics;
  /**
   * Sums over the episode that just ended in sub-environment `envIndex` of the `phase` loop
   * (language-model calls, tokens, ...), then cleared: `train()` puts them on the episode's line of
   * `metrics.jsonl`, `evaluate()` in `EvaluationResult.episodeMetrics`.
   */
  episodeMetrics?(envIndex: number, phase: ActPhase): Metrics;
  /** Writes everything needed to continue (networks, optimiser, buffers, statistics, generators) into `dir`. */
  save(dir: string): Promise<void>;
  /** Restores {@link Agent.save}; throws a typed error if `dir` holds another agent or layout. */
  load(dir: string): Promise<void>;
  /** Releases tensors. */
  dispose?(): void;
}

/** A static factory, as every algorithm exports (`PpoAgent.create`). */
export type AgentFactory<O = unknown, A = unknown, Options = Record<string, unknown>> = (
  spaces: EnvSpaces<O, A>,
  options?: Options,
) => Agent<O, A>;

/** The spaces of an environment (or the single spaces of a vector environment). */
export function spacesOf(
  env:
    | { observationSpace: AnySpace; actionSpace: AnySpace }
    | { singleObservationSpace: AnySpace; singleActionSpace: AnySpace; numEnvs: number },
): EnvSpaces {
  if ('singleObservationSpace' in env) {
    return {
      observationSpace: env.singleObservationSpace,
      actionSpace: env.singleActionSpace,
      numEnvs: env.numEnvs,
    };
  }
  return { observationSpace: env.observationSpace, actionSpace: env.actionSpace, numEnvs: 1 };
}

/**
 * Throws `InvalidOptionError` unless `envIndex` is below the `numEnvs` an agent was created for
 * (an agent for a vector environment is created with `spacesOf(vectorEnv)`).
 */
export function checkEnvIndex(agent: string, envIndex: unknown, numEnvs: number): void {
  if (
    typeof envIndex !== 'number' ||
    !Number.isSafeInteger(envIndex) ||
    envIndex < 0 ||
    envIndex >= numEnvs
  ) {
    throw new InvalidOptionError(
      `${agent} transition.envIndex`,
      envIndex,
      `an integer in 0..${numEnvs - 1} (the agent was created for numEnvs = ${numEnvs}; create it with spacesOf(env) for a vector environment)`,
    );
  }
}
