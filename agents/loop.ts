/**
 * The one training loop: {@link train} drives any {@link Agent} on any environment or vector
 * environment, evaluates on a separate environment, calls callbacks, writes a run to disk and
 * resumes a killed run; {@link evaluate} plays deterministic episodes. This is CleanRL's
 * "TRY NOT TO MODIFY" part, shared by every agent — an agent file holds only its algorithm.
 *
 * A run directory holds `config.json` (everything needed to rerun it), `metrics.jsonl` (one line
 * per episode, per log interval and per evaluation; keys namespaced, `env_steps` on every line,
 * wall-clock values only under `time/`) and `checkpoint/` (agent, loop state, environment
 * snapshot), replaced atomically.
 *
 * With each observation the loop hands the agent an {@link ActContext}: the (sub-)environment's
 * TextView (for a vector environment, `VectorEnv.textView(i)`), the info returned with the
 * observation, the env id and task line, and the episode's progress — steps taken and steps left
 * before the `TimeLimit` found in the environment's wrappers (or `evaluate()`'s
 * `maxEpisodeSteps`) cuts it. An agent with `episodeMetrics` has its per-episode sums written on
 * each episode's line and averaged on each evaluation's line.
 *
 * @example
 * const env = make('CartPole-v1');
 * const agent = PpoAgent.create(spacesOf(env), { seed: 1 });
 * const result = await train(agent, env, { steps: 50_000, seed: 1, evalEvery: 5_000, runDir: 'runs/ppo-cartpole' });
 * const scores = await evaluate(agent, make('CartPole-v1'), { episodes: 10, seed: 123 });
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../envs/core/atomic.js';
import {
  envId,
  type AutoresetMode,
  type Env,
  type EnvSpec,
  type Info,
  type JsonValue,
  type TextView,
} from '../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  MalformedFileError,
  formatValue,
} from '../envs/core/errors.js';
import { make, spec as registeredSpec } from '../envs/core/registry.js';
import { concatenate, iterate, type VectorEnv } from '../envs/core/vector.js';
import { TimeLimit } from '../envs/core/wrappers/common.js';
import type { ActContext, ActPhase, Agent, Metrics, Transition } from './agent.js';
import { backendInfo, initBackend, type BackendInfo } from './nn/backend.js';

/** True for a vector environment (envs/core/vector.ts). */
export function isVectorEnv(env: unknown): env is VectorEnv {
  return typeof env === 'object' && env !== null && 'numEnvs' in env && 'singleActionSpace' in env;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Episodes to play. @defaultValue 10 */
  episodes?: number;
  /** Seed of the first reset (later resets continue the environment's generator). @defaultValue 0 */
  seed?: number;
  /** Steps after which an episode is cut (guards environments without a time limit). @defaultValue 100000 */
  maxEpisodeSteps?: number;
  /** Act with exploration (sampling) instead of deterministically. @defaultValue false */
  explore?: boolean;
}

/** What {@link evaluate} returns. */
export interface EvaluationResult {
  /** Return of each episode. */
  returns: number[];
  /** Length of each episode. */
  lengths: number[];
  /** `info.success` (or `info.is_success`) at each episode's end; null where the env does not say. */
  successes: (boolean | null)[];
  meanReturn: number;
  stdReturn: number;
  meanLength: number;
  /** Fraction of successful episodes among those that report success; null if none does. */
  successRate: number | null;
  /** Per episode, the agent's {@link Agent.episodeMetrics} (only for agents that have them). */
  episodeMetrics?: Metrics[];
}

/**
 * Plays `episodes` deterministic episodes of `agent` on `env` (a single environment, separate from
 * the training one) without learning.
 *
 * @throws {@link InvalidOptionError} for a bad option.
 * @example const { meanReturn } = await evaluate(agent, make('Pendulum-v1'), { episodes: 10, seed: 7 });
 */
export async function evaluate<O, A>(
  agent: Agent<O, A>,
  env: Env<O, A>,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  await initBackend();
  const episodes = positiveInteger(options.episodes ?? 10, 'episodes');
  const seed = nonNegativeInteger(options.seed ?? 0, 'seed');
  const maxSteps = positiveInteger(options.maxEpisodeSteps ?? 100_000, 'maxEpisodeSteps');
  const explore = options.explore ?? false;
  const returns: number[] = [];
  const lengths: number[] = [];
  const successes: (boolean | null)[] = [];
  const episodeMetrics: Metrics[] = [];
  const view = singleEnvView(env);
  const budget = Math.min(view.maxEpisodeSteps ?? maxSteps, maxSteps);
  for (let episode = 0; episode < episodes; episode++) {
    let { observation, info } = env.reset(episode === 0 ? { seed } : {});
    agent.onEpisodeStart?.();
    let total = 0;
    let length = 0;
    for (;;) {
      const context = actContext(view, info, 'evaluate', length, budget, false);
      const action = await agent.act(observation, { explore, actionMask: maskOf(info), context });
      const result = env.step(action);
      total += result.reward;
      length++;
      observation = result.observation;
      info = result.info;
      if (result.terminated || result.truncated || length >= maxSteps) {
        successes.push(successOf(result.info));
        break;
      }
    }
    returns.push(total);
    lengths.push(length);
    if (agent.episodeMetrics !== undefined)
      episodeMetrics.push(agent.episodeMetrics(0, 'evaluate'));
  }
  const meanReturn = mean(returns);
  const reported = successes.filter((s): s is boolean => s !== null);
  return {
    returns,
    lengths,
    successes,
    meanReturn,
    stdReturn: Math.sqrt(mean(returns.map((r) => (r - meanReturn) ** 2))),
    meanLength: mean(lengths),
    successRate: reported.length === 0 ? null : reported.filter(Boolean).length / reported.length,
    ...(agent.episodeMetrics === undefined ? {} : { episodeMetrics }),
  };
}

// ---------------------------------------------------------------------------------------------
// Callbacks

/** What callbacks see. */
export interface LoopContext {
  /** The agent being trained. */
  agent: Agent;
  /** Env steps taken so far (transitions, all sub-environments). */
  envSteps: number;
  /** The run's step budget. */
  totalSteps: number;
  /** Episodes finished so far. */
  episodes: number;
  /** Seconds spent training (acting, stepping, learning), excluding evaluations and checkpoints. */
  trainSeconds: number;
  /** The run directory, if any. */
  runDir: string | undefined;
}

/** Context of an `onEpisodeEnd` call. */
export interface EpisodeContext extends LoopContext {
  episodeReturn: number;
  episodeLength: number;
  envIndex: number;
  /** True if the episode ended by termination (not truncation). */
  terminated: boolean;
}

/** Context of an `onEvaluation` call. */
export interface EvaluationContext extends LoopContext {
  evaluation: EvaluationResult;
}

/** What a callback hook may return: `false` stops training (SB3's convention), nothing goes on. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a hook may return nothing, as SB3's
export type CallbackResult = boolean | void | Promise<boolean | void>;

/**
 * A training callback (SB3's `BaseCallback`): hooks called by {@link train}. Stateful callbacks
 * implement `getState`/`setState` so a resumed run continues them.
 */
export interface Callback {
  /** Name used in checkpoints (unique among a run's callbacks). */
  readonly name: string;
  onTrainStart?(context: LoopContext): void | Promise<void>;
  /** After every env step (every vector step for a vector environment). */
  onStep?(context: LoopContext): CallbackResult;
  onEpisodeEnd?(context: EpisodeContext): CallbackResult;
  onEvaluation?(context: EvaluationContext): CallbackResult;
  onTrainEnd?(context: LoopContext): void | Promise<void>;
  getState?(): JsonValue;
  setState?(state: JsonValue): void;
}

/** Stops training when the mean evaluation return reaches a threshold (SB3 `StopTrainingOnRewardThreshold`). */
export class StopTrainingOnRewardThreshold implements Callback {
  readonly name = 'stop-on-reward-threshold';
  /** The threshold on `meanReturn`. */
  readonly threshold: number;

  constructor(threshold: number) {
    if (!Number.isFinite(threshold))
      throw new InvalidOptionError('threshold', threshold, 'a finite number');
    this.threshold = threshold;
  }

  onEvaluation({ evaluation }: EvaluationContext): boolean {
    return evaluation.meanReturn < this.threshold;
  }
}

/** Stops training after `patience` evaluations without a new best mean return (SB3 `StopTrainingOnNoModelImprovement`). */
export class StopTrainingOnNoModelImprovement implements Callback {
  readonly name = 'stop-on-no-improvement';
  private best = -Infinity;
  private stale = 0;
  private seen = 0;
  private readonly patience: number;
  private readonly minEvaluations: number;

  constructor(patience: number, minEvaluations = 0) {
    this.patience = positiveInteger(patience, 'patience');
    this.minEvaluations = nonNegativeInteger(minEvaluations, 'minEvaluations');
  }

  onEvaluation({ evaluation }: EvaluationContext): boolean {
    this.seen++;
    if (evaluation.meanReturn > this.best) {
      this.best = evaluation.meanReturn;
      this.stale = 0;
    } else if (this.seen > this.minEvaluations) {
      this.stale++;
    }
    return this.stale < this.patience;
  }

  getState(): JsonValue {
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      stale: this.stale,
      seen: this.seen,
    };
  }

  setState(state: JsonValue): void {
    const s = state as { best?: unknown; stale?: unknown; seen?: unknown } | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.stale !== 'number' ||
      typeof s.seen !== 'number' ||
      !(s.best === null || typeof s.best === 'number')
    ) {
      throw new InvalidStateError(this.name, '{best, stale, seen}', state);
    }
    this.best = s.best ?? -Infinity;
    this.stale = s.stale;
    this.seen = s.seen;
  }
}

/** Saves the agent to `dir` whenever an evaluation sets a new best mean return (the model-saving half of SB3 `EvalCallback`). */
export class SaveBestModel implements Callback {
  readonly name = 'save-best-model';
  /** Where the best agent is saved. */
  readonly dir: string;
  private best = -Infinity;

  constructor(dir: string) {
    this.dir = dir;
  }

  async onEvaluation({ agent, evaluation }: EvaluationContext): Promise<void> {
    if (evaluation.meanReturn > this.best) {
      this.best = evaluation.meanReturn;
      await saveDirectoryAtomically(this.dir, (tmp) => agent.save(tmp));
    }
  }

  getState(): JsonValue {
    return { best: Number.isFinite(this.best) ? this.best : null };
  }

  setState(state: JsonValue): void {
    const s = state as { best?: unknown } | null;
    if (typeof s !== 'object' || s === null || !(s.best === null || typeof s.best === 'number'))
      throw new InvalidStateError(this.name, '{best}', state);
    this.best = s.best ?? -Infinity;
  }
}

/** Saves a copy of the agent every `every` env steps into `dir/<prefix>_<steps>_steps/` (SB3 `CheckpointCallback`). */
export class CheckpointCallback implements Callback {
  readonly name = 'checkpoint-callback';
  readonly every: number;
  readonly dir: string;
  readonly prefix: string;
  private next: number;

  constructor(options: { every: number; dir: string; prefix?: string }) {
    this.every = positiveInteger(options.every, 'every');
    this.dir = options.dir;
    this.prefix = options.prefix ?? 'agent';
    this.next = this.every;
  }

  async onStep({ agent, envSteps }: LoopContext): Promise<void> {
    if (envSteps < this.next) return;
    while (this.next <= envSteps) this.next += this.every;
    await saveDirectoryAtomically(join(this.dir, `${this.prefix}_${envSteps}_steps`), (tmp) =>
      agent.save(tmp),
    );
  }

  getState(): JsonValue {
    return { next: this.next };
  }

  setState(state: JsonValue): void {
    const s = state as { next?: unknown } | null;
    if (typeof s !== 'object' || s === null || typeof s.next !== 'number')
      throw new InvalidStateError(this.name, '{next}', state);
    this.next = s.next;
  }
}

// ---------------------------------------------------------------------------------------------
// train()

/** Options of {@link train}. */
export interface TrainOptions<O = unknown, A = unknown> {
  /** Env steps (transitions over all sub-environments) to train for. */
  steps: number;
  /** Seed of the first reset of the training environment. @defaultValue 0 */
  seed?: number;
  /** Evaluate every this many env steps; 0 for never. @defaultValue 0 */
  evalEvery?: number;
  /** Episodes per evaluation. @defaultValue 10 */
  evalEpisodes?: number;
  /** Seed of every evaluation's first reset, so evaluations are comparable. @defaultValue seed + 1 */
  evalSeed?: number;
  /** The evaluation environment, or a factory. @defaultValue `make(env.spec.id)` when the env has a spec */
  evalEnv?: Env<O, A> | (() => Env<O, A>);
  /** Checkpoint every this many env steps (needs `runDir`); 0 for only at the end. @defaultValue 0 */
  checkpointEvery?: number;
  /** Write agent metrics every this many env steps. @defaultValue 1000 */
  logEvery?: number;
  /** Run directory: config.json, metrics.jsonl, checkpoint/. */
  runDir?: string;
  /** Continue the run in `runDir` from its last checkpoint. @defaultValue false */
  resume?: boolean;
  /** Callbacks. */
  callbacks?: readonly Callback[];
  /** Stop once an evaluation's mean return reaches this (StopTrainingOnRewardThreshold). */
  stopAt?: number;
  /** Extra JSON recorded under `config.json`'s `extra` (env id and options, preset name, ...). */
  extra?: Record<string, JsonValue>;
  /** Print nothing. @defaultValue true */
  quiet?: boolean;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** Env steps taken (equal to `steps` unless stopped early). */
  envSteps: number;
  /** Episodes finished. */
  episodes: number;
  /** Every evaluation, in order, with the env steps at which it ran. */
  evaluations: { envSteps: number; result: EvaluationResult }[];
  /** True if a callback or `stopAt` stopped training. */
  stopped: boolean;
  /** Seconds spent training, excluding evaluations and checkpoints. */
  trainSeconds: number;
  /** Wall seconds of the whole call (plus earlier sessions on resume). */
  wallSeconds: number;
  /** The tensor backend. */
  backend: BackendInfo;
}

/** Prefix of every wall-clock metric key; everything else in metrics.jsonl is reproducible. */
export const WALL_TIME_PREFIX = 'time/';

/** A metrics line without its wall-clock fields (what two runs with the same seed share). */
export function withoutWallTime(line: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(line).filter(([key]) => !key.startsWith(WALL_TIME_PREFIX)),
  );
}

interface LoopState {
  envSteps: number;
  episodes: number;
  nextEvalAt: number;
  nextCheckpointAt: number;
  nextLogAt: number;
  stopped: boolean;
  trainSeconds: number;
  wallSeconds: number;
  episodeReturns: number[];
  episodeLengths: number[];
  /** True for a sub-environment whose next vector step is an autoreset (next-step mode). */
  pendingReset: boolean[];
  evaluations: { envSteps: number; result: EvaluationResult }[];
}

interface LoopCheckpoint {
  format: 'wmgym-loop-checkpoint';
  version: 1;
  state: LoopState;
  observations: JsonValue;
  masks: (number[] | null)[];
  /** The infos of the current observations (absent in checkpoints written before they were kept). */
  infos?: JsonValue;
  envState: JsonValue | null;
  metricsBytes: number;
  callbacks: Record<string, JsonValue>;
}

const CHECKPOINT = 'checkpoint';

/**
 * Trains `agent` on `env` (an environment or a vector environment) for `options.steps` env steps.
 *
 * @throws {@link InvalidOptionError} for bad options, a non-empty `runDir` without `resume`, or a
 * resumed run whose options or agent config differ from the saved ones.
 * @example
 * await train(agent, make('CartPole-v1'), { steps: 50_000, seed: 1, evalEvery: 5_000, evalEpisodes: 10, runDir: 'runs/a' });
 */
export async function train<O, A>(
  agent: Agent<O, A>,
  env: Env<O, A> | VectorEnv,
  options: TrainOptions<O, A>,
): Promise<TrainResult> {
  const backend = await initBackend();
  const started = performance.now();
  const totalSteps = positiveInteger(options.steps, 'steps');
  const seed = nonNegativeInteger(options.seed ?? 0, 'seed');
  const evalEvery = nonNegativeInteger(options.evalEvery ?? 0, 'evalEvery');
  const evalEpisodes = positiveInteger(options.evalEpisodes ?? 10, 'evalEpisodes');
  const evalSeed = nonNegativeInteger(options.evalSeed ?? seed + 1, 'evalSeed');
  const checkpointEvery = nonNegativeInteger(options.checkpointEvery ?? 0, 'checkpointEvery');
  const logEvery = positiveInteger(options.logEvery ?? 1000, 'logEvery');
  const runDir = options.runDir;
  const resume = options.resume ?? false;
  if (checkpointEvery > 0 && runDir === undefined)
    throw new InvalidOptionError('checkpointEvery', checkpointEvery, '0 when no runDir is given');
  if (resume && runDir === undefined)
    throw new InvalidOptionError('resume', resume, 'false when no runDir is given');
  if (options.stopAt !== undefined && !Number.isFinite(options.stopAt))
    throw new InvalidOptionError('stopAt', options.stopAt, 'a finite number');
  if (options.stopAt !== undefined && evalEvery === 0)
    throw new InvalidOptionError(
      'stopAt',
      options.stopAt,
      'undefined unless evalEvery > 0 (it acts on evaluations)',
    );
  const callbacks = [...(options.callbacks ?? [])];
  if (options.stopAt !== undefined)
    callbacks.push(new StopTrainingOnRewardThreshold(options.stopAt));

  const vector = isVectorEnv(env);
  const numEnvs = vector ? env.numEnvs : 1;
  const observationSpace = vector ? env.singleObservationSpace : env.observationSpace;
  const actionSpace = vector ? env.singleActionSpace : env.actionSpace;
  const autoreset: AutoresetMode = vector ? env.metadata.autoresetMode : 'same-step';
  const evalEnv = evalEvery > 0 ? resolveEvalEnv(options.evalEnv, env) : undefined;

  const trainSettings = {
    steps: totalSteps,
    seed,
    evalEvery,
    evalEpisodes,
    evalSeed,
    checkpointEvery,
    logEvery,
    stopAt: options.stopAt ?? null,
    numEnvs,
  };
  const config: Record<string, JsonValue> = {
    format: 'wmgym-run',
    agent: { kind: agent.kind, config: agent.config as unknown as JsonValue },
    train: trainSettings,
    env: {
      id: vector ? null : (env.spec?.id ?? null),
      kwargs: vector ? null : ((env.spec?.kwargs ?? null) as JsonValue),
      numEnvs,
      autoresetMode: autoreset,
      observationSpace: observationSpace.toJSON() as unknown as JsonValue,
      actionSpace: actionSpace.toJSON() as unknown as JsonValue,
    },
    backend: backend as unknown as JsonValue,
    extra: options.extra ?? {},
  };

  // ---- run directory and resume -------------------------------------------------------------
  let checkpoint: LoopCheckpoint | undefined;
  const metricsFile = runDir === undefined ? undefined : join(runDir, 'metrics.jsonl');
  if (runDir !== undefined) {
    mkdirSync(runDir, { recursive: true });
    const checkpointDir = findCheckpoint(runDir);
    if (resume && checkpointDir !== undefined) {
      checkSameRun(join(runDir, 'config.json'), config);
      checkpoint = readLoopCheckpoint(join(checkpointDir, 'loop.json'));
      await agent.load(join(checkpointDir, 'agent'));
      if (existsSync(metricsFile!))
        truncateSync(metricsFile!, Math.min(checkpoint.metricsBytes, statSync(metricsFile!).size));
    } else {
      if (
        !resume &&
        readdirSync(runDir).some(
          (f) => f === 'metrics.jsonl' || f === CHECKPOINT || f === 'config.json',
        )
      ) {
        throw new InvalidOptionError(
          'runDir',
          runDir,
          'a new or empty directory',
          'It holds a run already; pass resume: true to continue it',
        );
      }
      rmSync(metricsFile!, { force: true });
      writeJsonAtomic(join(runDir, 'config.json'), config);
    }
  }

  const state: LoopState = checkpoint?.state ?? {
    envSteps: 0,
    episodes: 0,
    nextEvalAt: evalEvery,
    nextCheckpointAt: checkpointEvery,
    nextLogAt: logEvery,
    stopped: false,
    trainSeconds: 0,
    wallSeconds: 0,
    episodeReturns: new Array<number>(numEnvs).fill(0),
    episodeLengths: new Array<number>(numEnvs).fill(0),
    pendingReset: new Array<boolean>(numEnvs).fill(false),
    evaluations: [],
  };
  const wallBefore = state.wallSeconds;
  const callbackStates = checkpoint?.callbacks ?? {};
  callbacks.forEach((c, i) => {
    const saved = callbackStates[callbackKey(callbacks, i)];
    if (saved !== undefined && c.setState !== undefined) c.setState(saved);
  });

  agent.onTrainStart?.({ totalSteps, numEnvs });

  // ---- current observations -----------------------------------------------------------------
  let observations: O[];
  let masks: (Uint8Array | undefined)[];
  let infos: Info[];
  if (checkpoint !== undefined) {
    observations = decodeJson(checkpoint.observations) as O[];
    masks = checkpoint.masks.map((m) => (m === null ? undefined : Uint8Array.from(m)));
    infos =
      checkpoint.infos === undefined
        ? masks.map((m) => (m === undefined ? {} : { actionMask: m }))
        : (decodeJson(checkpoint.infos) as Info[]);
    const restart = (): void => {
      // No snapshot: the episodes in progress are abandoned and new ones start.
      state.episodeReturns.fill(0);
      state.episodeLengths.fill(0);
    };
    if (vector) {
      env.reset({ seed });
      if (checkpoint.envState !== null) env.setState(checkpoint.envState);
      else {
        const r = env.reset({ seed: seed + state.envSteps });
        observations = [...iterate(observationSpace, r.observations)] as O[];
        masks = r.infos.map(maskOf);
        infos = r.infos;
        state.pendingReset.fill(false);
        restart();
      }
    } else {
      env.reset({ seed });
      if (checkpoint.envState !== null) env.setState(checkpoint.envState);
      else {
        const r = env.reset({ seed: seed + state.envSteps });
        observations = [r.observation];
        masks = [maskOf(r.info)];
        infos = [r.info];
        restart();
      }
    }
  } else if (vector) {
    const r = env.reset({ seed });
    observations = [...iterate(observationSpace, r.observations)] as O[];
    masks = r.infos.map(maskOf);
    infos = r.infos;
  } else {
    const r = env.reset({ seed });
    observations = [r.observation];
    masks = [maskOf(r.info)];
    infos = [r.info];
  }
  const views = vector ? vectorEnvViews(env) : [singleEnvView(env)];
  const contextOf = (i: number): ActContext =>
    actContext(
      views[i]!,
      infos[i] ?? {},
      'train',
      state.episodeLengths[i]!,
      views[i]!.maxEpisodeSteps,
      state.pendingReset[i] === true,
    );

  const context = (): LoopContext => ({
    agent: agent,
    envSteps: state.envSteps,
    totalSteps,
    episodes: state.episodes,
    trainSeconds: state.trainSeconds,
    runDir,
  });
  const wall = (): number => wallBefore + (performance.now() - started) / 1000;
  const writeLine = (kind: string, fields: Record<string, unknown>): void => {
    if (metricsFile === undefined) return;
    const line = {
      kind,
      env_steps: state.envSteps,
      ...fields,
      'time/wall_seconds': round(wall(), 3),
      'time/train_seconds': round(state.trainSeconds, 3),
    };
    appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
  };
  // Callbacks set state.stopped from inside runCallbacks: read it through a function.
  const stoppedByCallback = (): boolean => state.stopped;
  const runCallbacks = async (call: (c: Callback) => CallbackResult | undefined): Promise<void> => {
    for (const c of callbacks) {
      if ((await call(c)) === false) state.stopped = true;
    }
  };
  const saveCheckpoint = async (): Promise<void> => {
    if (runDir === undefined) return;
    const envState = snapshotEnv(env);
    const metricsBytes = existsSync(metricsFile!) ? statSync(metricsFile!).size : 0;
    const saved: LoopCheckpoint = {
      format: 'wmgym-loop-checkpoint',
      version: 1,
      state: { ...state, wallSeconds: wall() },
      observations: encodeJson(observations),
      masks: masks.map((m) => (m === undefined ? null : Array.from(m))),
      infos: encodeJson(infos),
      envState,
      metricsBytes,
      callbacks: Object.fromEntries(
        callbacks.flatMap((c, i) =>
          c.getState === undefined ? [] : [[callbackKey(callbacks, i), c.getState()]],
        ),
      ),
    };
    await saveDirectoryAtomically(join(runDir, CHECKPOINT), async (tmp) => {
      await agent.save(join(tmp, 'agent'));
      writeJsonAtomic(join(tmp, 'loop.json'), saved);
    });
  };

  for (const c of callbacks) await c.onTrainStart?.(context());

  // ---- the loop -------------------------------------------------------------------------------
  let segmentStart = performance.now();
  const pauseClock = (): void => {
    state.trainSeconds += (performance.now() - segmentStart) / 1000;
  };
  const resumeClock = (): void => {
    segmentStart = performance.now();
  };
  while (state.envSteps < totalSteps && !state.stopped) {
    const ended: { envIndex: number; terminated: boolean; ret: number; len: number }[] = [];
    if (!vector) {
      const single = env;
      const observation = observations[0]!;
      const mask = masks[0];
      const action = await agent.act(observation, {
        explore: true,
        actionMask: mask,
        envIndex: 0,
        context: contextOf(0),
      });
      const result = single.step(action);
      state.envSteps++;
      const transition: Transition<O, A> = {
        observation,
        action,
        reward: result.reward,
        nextObservation: result.observation,
        terminated: result.terminated,
        truncated: result.truncated,
        info: result.info,
        actionMask: mask,
        nextActionMask: maskOf(result.info),
        envIndex: 0,
      };
      await agent.observe(transition);
      state.episodeReturns[0]! += result.reward;
      state.episodeLengths[0]! += 1;
      if (result.terminated || result.truncated) {
        ended.push({
          envIndex: 0,
          terminated: result.terminated,
          ret: state.episodeReturns[0]!,
          len: state.episodeLengths[0]!,
        });
        state.episodeReturns[0] = 0;
        state.episodeLengths[0] = 0;
        const r = single.reset();
        observations = [r.observation];
        masks = [maskOf(r.info)];
        infos = [r.info];
      } else {
        observations = [result.observation];
        masks = [maskOf(result.info)];
        infos = [result.info];
      }
    } else {
      let actions: A[];
      const contexts = observations.map((_, i) => contextOf(i));
      if (agent.actBatch !== undefined) {
        actions = await agent.actBatch(observations, {
          explore: true,
          actionMasks: masks,
          contexts,
        });
      } else {
        actions = [];
        for (let i = 0; i < numEnvs; i++) {
          actions.push(
            await agent.act(observations[i]!, {
              explore: true,
              actionMask: masks[i],
              envIndex: i,
              context: contexts[i],
            }),
          );
        }
      }
      const result = env.step(concatenate(actionSpace, actions as unknown[]));
      const next = [...iterate(observationSpace, result.observations)] as O[];
      const transitions: (Transition<O, A> | null)[] = [];
      const nextMasks: (Uint8Array | undefined)[] = [];
      for (let i = 0; i < numEnvs; i++) {
        const info = result.infos[i] ?? {};
        const terminated = Boolean(result.terminations[i]);
        const truncated = Boolean(result.truncations[i]);
        nextMasks.push(maskOf(info));
        if (state.pendingReset[i]) {
          // next-step autoreset: this step only reset sub-environment i.
          state.pendingReset[i] = false;
          transitions.push(null);
          continue;
        }
        const done = terminated || truncated;
        const finalObservation =
          done && autoreset === 'same-step'
            ? (info['finalObservation'] as O | undefined)
            : undefined;
        const finalInfo =
          done && autoreset === 'same-step'
            ? ((info['finalInfo'] as Info | undefined) ?? info)
            : info;
        const reward = result.rewards[i]!;
        transitions.push({
          observation: observations[i]!,
          action: actions[i]!,
          reward,
          nextObservation: finalObservation ?? next[i]!,
          terminated,
          truncated,
          info: finalInfo,
          actionMask: masks[i],
          nextActionMask: maskOf(finalInfo),
          envIndex: i,
        });
        state.envSteps++;
        state.episodeReturns[i]! += reward;
        state.episodeLengths[i]! += 1;
        if (done) {
          ended.push({
            envIndex: i,
            terminated,
            ret: state.episodeReturns[i]!,
            len: state.episodeLengths[i]!,
          });
          state.episodeReturns[i] = 0;
          state.episodeLengths[i] = 0;
          if (autoreset === 'next-step') state.pendingReset[i] = true;
        }
      }
      if (agent.observeBatch !== undefined) await agent.observeBatch(transitions);
      else for (const t of transitions) if (t !== null) await agent.observe(t);
      observations = next;
      masks = nextMasks;
      infos = result.infos;
    }

    for (const e of ended) {
      state.episodes++;
      writeLine('episode', {
        'charts/episodic_return': e.ret,
        'charts/episodic_length': e.len,
        'charts/episodes': state.episodes,
        env_index: e.envIndex,
        ...agent.episodeMetrics?.(e.envIndex, 'train'),
      });
      await runCallbacks((c) =>
        c.onEpisodeEnd?.({
          ...context(),
          episodeReturn: e.ret,
          episodeLength: e.len,
          envIndex: e.envIndex,
          terminated: e.terminated,
        }),
      );
    }
    await runCallbacks((c) => c.onStep?.(context()));

    if (state.envSteps >= state.nextLogAt) {
      while (state.nextLogAt <= state.envSteps) state.nextLogAt += logEvery;
      pauseClock();
      logMetrics(agent.metrics?.(), writeLine, state);
      resumeClock();
    }
    if (evalEnv !== undefined && state.envSteps >= state.nextEvalAt) {
      while (state.nextEvalAt <= state.envSteps) state.nextEvalAt += evalEvery;
      pauseClock();
      const result = await evaluate(agent, evalEnv, { episodes: evalEpisodes, seed: evalSeed });
      state.evaluations.push({ envSteps: state.envSteps, result });
      writeLine('eval', {
        'eval/mean_return': result.meanReturn,
        'eval/std_return': result.stdReturn,
        'eval/mean_length': result.meanLength,
        'eval/returns': result.returns,
        ...(result.successRate === null ? {} : { 'eval/success_rate': result.successRate }),
        ...meanMetrics(result.episodeMetrics, 'eval/'),
      });
      await runCallbacks((c) => c.onEvaluation?.({ ...context(), evaluation: result }));
      resumeClock();
    }
    if (
      checkpointEvery > 0 &&
      state.envSteps >= state.nextCheckpointAt &&
      state.envSteps < totalSteps &&
      !stoppedByCallback()
    ) {
      while (state.nextCheckpointAt <= state.envSteps) state.nextCheckpointAt += checkpointEvery;
      pauseClock();
      await saveCheckpoint();
      resumeClock();
    }
  }
  pauseClock();
  logMetrics(agent.metrics?.(), writeLine, state);
  await saveCheckpoint();
  for (const c of callbacks) await c.onTrainEnd?.(context());
  return {
    envSteps: state.envSteps,
    episodes: state.episodes,
    evaluations: state.evaluations,
    stopped: state.stopped,
    trainSeconds: state.trainSeconds,
    wallSeconds: wall(),
    backend: backendInfo() ?? backend,
  };
}

// ---------------------------------------------------------------------------------------------
// helpers

/** What the loop knows of one (sub-)environment for {@link ActContext}s, found once per run. */
interface SubEnvView {
  textView: TextView<unknown>;
  envId: string;
  description: string;
  maxEpisodeSteps: number | null;
}

function actContext(
  view: SubEnvView,
  info: Info,
  phase: ActPhase,
  episodeStep: number,
  budget: number | null,
  autoreset: boolean,
): ActContext {
  return {
    textView: view.textView,
    info,
    envId: view.envId,
    description: view.description,
    phase,
    episodeStep,
    stepsLeft: budget === null ? null : Math.max(0, budget - episodeStep),
    maxEpisodeSteps: budget,
    autoreset,
  };
}

/**
 * The {@link ActContext} the loop hands an agent with an observation of the single environment
 * `env` (the step budget is its first `TimeLimit`'s), for tools that play an environment
 * themselves — wmgym-lm's corpus builder — so that what they record is what an agent is shown.
 */
export function actContextOf(
  env: Env,
  info: Info,
  phase: ActPhase,
  episodeStep: number,
): ActContext {
  const view = singleEnvView(env);
  return actContext(view, info, phase, episodeStep, view.maxEpisodeSteps, false);
}

/** The view of a single environment: itself, and the first `TimeLimit` among its wrappers. */
function singleEnvView(env: Env): SubEnvView {
  let maxEpisodeSteps: number | null = null;
  let target: unknown = env;
  while (typeof target === 'object' && target !== null) {
    if (target instanceof TimeLimit) {
      maxEpisodeSteps = target.maxEpisodeSteps;
      break;
    }
    target = (target as { env?: unknown }).env;
  }
  return {
    textView: env,
    envId: envId(env),
    description: env.spec?.description ?? '',
    maxEpisodeSteps,
  };
}

/**
 * The views of a vector environment's sub-environments: `textView(i)`, the id and the time limit
 * asked once through `callAt` / `call` (an AsyncVectorEnv answers from its workers; a spec, which
 * holds a function, cannot cross threads, so its description comes from this thread's registry).
 */
function vectorEnvViews(env: VectorEnv): SubEnvView[] {
  let id: string;
  try {
    id = String(env.callAt(0, 'id'));
  } catch {
    id = env.id;
  }
  let description = '';
  try {
    description = (env.callAt(0, 'spec') as EnvSpec | undefined)?.description ?? '';
  } catch {
    try {
      description = registeredSpec(id).description;
    } catch {
      description = '';
    }
  }
  const limit = (value: unknown): number | null =>
    typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
  let limits: (number | null)[];
  try {
    limits = env.call('maxEpisodeSteps').map(limit);
  } catch {
    limits = Array.from({ length: env.numEnvs }, (_, i) => {
      try {
        return limit(env.callAt(i, 'maxEpisodeSteps'));
      } catch {
        return null; // no TimeLimit around sub-environment i
      }
    });
  }
  return limits.map((maxEpisodeSteps, i) => ({
    textView: env.textView(i),
    envId: id,
    description,
    maxEpisodeSteps,
  }));
}

/**
 * Means of each key over the metrics given, keys prefixed (a wall-clock key stays under `time/`:
 * `time/x` becomes `time/<prefix>x`); nothing for none.
 */
function meanMetrics(metrics: readonly Metrics[] | undefined, prefix: string): Metrics {
  const out: Metrics = {};
  if (metrics === undefined || metrics.length === 0) return out;
  const keys = [...new Set(metrics.flatMap((m) => Object.keys(m)))];
  for (const key of keys) {
    const values = metrics.map((m) => m[key]).filter((v): v is number => typeof v === 'number');
    const name = key.startsWith(WALL_TIME_PREFIX)
      ? `${WALL_TIME_PREFIX}${prefix}${key.slice(WALL_TIME_PREFIX.length)}`
      : `${prefix}${key}`;
    out[name] = mean(values);
  }
  return out;
}

function logMetrics(
  metrics: Metrics | undefined,
  writeLine: (kind: string, fields: Record<string, unknown>) => void,
  state: LoopState,
): void {
  if (metrics === undefined || Object.keys(metrics).length === 0) return;
  const sps = state.trainSeconds > 0 ? state.envSteps / state.trainSeconds : 0;
  writeLine('train', { ...metrics, 'time/sps': Math.round(sps) });
}

function resolveEvalEnv<O, A>(
  given: Env<O, A> | (() => Env<O, A>) | undefined,
  env: Env<O, A> | VectorEnv,
): Env<O, A> {
  if (typeof given === 'function') return given();
  if (given !== undefined) return given;
  let spec: EnvSpec | undefined;
  if (isVectorEnv(env)) {
    try {
      spec = env.call('spec')[0] as EnvSpec | undefined; // a SyncVectorEnv answers; workers cannot send a spec
    } catch {
      spec = undefined;
    }
  } else spec = env.spec;
  if (spec === undefined) {
    throw new InvalidOptionError(
      'evalEnv',
      given,
      'an environment or a factory when the training environment has no registry spec to make one from',
    );
  }
  return make<O, A>(spec.id, { ...spec.kwargs, maxEpisodeSteps: spec.maxEpisodeSteps ?? null });
}

function maskOf(info: Info | undefined): Uint8Array | undefined {
  const mask = info?.['actionMask'];
  return mask instanceof Uint8Array ? mask : undefined;
}

function successOf(info: Info): boolean | null {
  const s = info['success'] ?? info['is_success'];
  return typeof s === 'boolean' ? s : null;
}

function snapshotEnv(env: Env | VectorEnv): JsonValue | null {
  try {
    return env.getState();
  } catch {
    return null; // an environment without snapshots: resume restarts it from a derived seed
  }
}

function callbackKey(callbacks: readonly Callback[], i: number): string {
  const name = callbacks[i]!.name;
  return callbacks.findIndex((c) => c.name === name) === i ? name : `${name}#${i}`;
}

function findCheckpoint(runDir: string): string | undefined {
  const main = join(runDir, CHECKPOINT);
  if (existsSync(join(main, 'loop.json'))) return main;
  const old = `${main}.old`;
  if (existsSync(join(old, 'loop.json'))) return old; // killed between the two renames
  return undefined;
}

/**
 * Writes a directory atomically: into `<dir>.tmp`, then renames over `dir` (the previous version
 * goes to `<dir>.old` for the instant between the renames), so a kill leaves a whole directory.
 */
export async function saveDirectoryAtomically(
  dir: string,
  write: (tmp: string) => Promise<void> | void,
): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await write(tmp);
  if (existsSync(dir)) {
    rmSync(old, { recursive: true, force: true });
    renameSync(dir, old);
  }
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

function readLoopCheckpoint(file: string): LoopCheckpoint {
  let parsed: { [K in keyof LoopCheckpoint]?: unknown } | null;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as
      { [K in keyof LoopCheckpoint]?: unknown } | null;
  } catch (error) {
    throw new MalformedFileError(file, '$', 'not valid JSON', { cause: error });
  }
  if (parsed?.format !== 'wmgym-loop-checkpoint' || parsed.version !== 1) {
    throw new MalformedFileError(
      file,
      '$.format',
      `expected "wmgym-loop-checkpoint" version 1, received ${formatValue(parsed?.format)}`,
    );
  }
  const state = parsed.state as { envSteps?: unknown } | null | undefined;
  if (
    typeof state?.envSteps !== 'number' ||
    !Array.isArray(parsed.masks) ||
    typeof parsed.metricsBytes !== 'number'
  ) {
    throw new MalformedFileError(file, '$.state', 'expected the loop state written by train()');
  }
  return parsed as unknown as LoopCheckpoint;
}

function checkSameRun(file: string, config: Record<string, JsonValue>): void {
  if (!existsSync(file)) return;
  let saved: Record<string, JsonValue>;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, JsonValue>;
  } catch (error) {
    throw new MalformedFileError(file, '$', 'not valid JSON', { cause: error });
  }
  for (const key of ['agent', 'train'] as const) {
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify(config[key]);
    if (a !== b) {
      throw new InvalidOptionError(
        'resume',
        `${key} ${b}`,
        `the ${key} settings of the run in ${file}: ${a}`,
        'Resume with the same agent config and train options',
      );
    }
  }
}

/** JSON with typed arrays tagged, so observations survive a checkpoint. */
function encodeJson(value: unknown): JsonValue {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return {
      $typed: value.constructor.name,
      data: Array.from(value as unknown as ArrayLike<number>),
    };
  }
  if (Array.isArray(value)) return value.map(encodeJson);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeJson(v)]));
  return value as JsonValue;
}

const TYPED: Record<string, (data: number[]) => unknown> = {
  Float32Array: (d) => Float32Array.from(d),
  Float64Array: (d) => Float64Array.from(d),
  Int32Array: (d) => Int32Array.from(d),
  Uint8Array: (d) => Uint8Array.from(d),
  Int8Array: (d) => Int8Array.from(d),
  Uint16Array: (d) => Uint16Array.from(d),
  Int16Array: (d) => Int16Array.from(d),
  Uint32Array: (d) => Uint32Array.from(d),
};

function decodeJson(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map(decodeJson);
  if (typeof value === 'object' && value !== null) {
    const typed = value['$typed'];
    if (typeof typed === 'string' && Array.isArray(value['data'])) {
      const make = TYPED[typed];
      if (make === undefined)
        throw new InvalidStateError('checkpoint observation', 'a typed array kind', typed);
      return make(value['data'] as number[]);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeJson(v)]));
  }
  return value;
}

function positiveInteger(x: unknown, option: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1)
    throw new InvalidOptionError(option, x, 'a positive integer');
  return x;
}

function nonNegativeInteger(x: unknown, option: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
    throw new InvalidOptionError(option, x, 'a non-negative integer');
  return x;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
