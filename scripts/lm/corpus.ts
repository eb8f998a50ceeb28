/**
 * wmgym-lm's training corpus: transcripts the suite's own environments produce, in the two
 * formats the suite asks a language model in.
 *
 * - **Agent format** (what `LlmAgent` prompts): the prompt of a step — built by the agent's own
 *   functions (`actContextOf` from the loop, `advanceTurns` / `promptInputOf` / `recordTurn` from
 *   `agents/llm/prompts.ts`), so the text is byte for byte what the agent shows the model — then
 *   the oracle's command (`renderTrainingExample`). The label is the oracle's move from the state
 *   reached (GridNav `optimalPlan()`, TextWorld `walkthrough()`), whatever policy chose the moves
 *   that led there, so noisy episodes teach recovery from states off the optimal path. Classic
 *   control has no oracle: its agent examples are labelled with the random action played and
 *   teach the command syntax only (`torque 0.73`, `push left`), not control.
 * - **Prior format** (what `LanguagePrior` asks): the canonical state text, the command, the next
 *   state's text, reward and termination (`renderPriorExample`), for every step played, in the
 *   observation the world model uses (`'slots'` for TextWorld, GridNav's symbolic grid, the
 *   classic observation).
 *
 * Episodes are played by the oracle with ε-noise (by default ε = 0, 0.2 and 0.5: with probability
 * ε a uniformly random admissible command instead of the oracle's) and by random admissible play
 * (ε = 1), in turn, and cut after `maxSteps` steps. Every document (one example) is yielded
 * separately; the trainer joins them with `<|endoftext|>` as the local provider begins its prompts.
 *
 * **Seeds.** The corpus uses only seeds at or above {@link CORPUS_SEED_MIN} (1,000,000); every
 * evaluation in the suite (tests, benchmarks, experiments) uses seeds below, so no evaluated task
 * was seen in training. {@link corpusDocuments} refuses a seed range that reaches below.
 */
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import type { Env, Info } from '../../envs/core/env.js';
import { Discrete } from '../../envs/core/space.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import { GridNavEnv } from '../../envs/gridnav/gridnav-env.js';
import { TextWorldEnv } from '../../envs/textworld/textworld.js';
import { actContextOf } from '../../agents/loop.js';
import {
  DEFAULT_HISTORY_LENGTH,
  advanceTurns,
  promptInputOf,
  recordTurn,
  renderPrompt,
  renderTrainingExample,
  type PromptInput,
  type PromptTurns,
} from '../../agents/llm/prompts.js';
import {
  formatPriorAnswer,
  renderPriorExample,
  stateTextCodec,
  type StateTextCodec,
} from '../../agents/llm/prior.js';

/** The lowest seed the corpus may use: seeds below belong to evaluation. */
export const CORPUS_SEED_MIN = 1_000_000;

/** An environment of the corpus and how many episodes it gets (relative to `episodesPerEnv`). */
export interface CorpusEnv {
  id: string;
  /** Episodes = round(weight × episodesPerEnv), at least 1. @defaultValue 1 */
  weight?: number;
}

/**
 * The default mix: every family and generator, the k-step task sets the benchmarks measure weighed
 * up, the largest grids (whose texts are longest) weighed down.
 */
export const DEFAULT_CORPUS_ENVS: readonly CorpusEnv[] = Object.freeze([
  ...['CartPole-v1', 'Pendulum-v1', 'MountainCarContinuous-v0', 'Acrobot-v1'].map((id) => ({
    id,
    weight: 0.5,
  })),
  ...[5, 10, 20].map((k) => ({ id: `GridNav-Task-k${k}-v0`, weight: 3 })),
  ...[
    'GridNav-Empty-5x5-v0',
    'GridNav-Empty-Random-5x5-v0',
    'GridNav-Empty-8x8-v0',
    'GridNav-Empty-Random-8x8-v0',
    'GridNav-DoorKey-5x5-v0',
    'GridNav-DoorKey-8x8-v0',
    'GridNav-FourRooms-v0',
    'GridNav-Unlock-v0',
    'GridNav-BlockedUnlockPickup-v0',
    'GridNav-KeyCorridor-S3R1-v0',
    'GridNav-KeyCorridor-S3R2-v0',
    'GridNav-LavaCrossing-S9N1-v0',
    'GridNav-LavaCrossing-S9N2-v0',
    'GridNav-MultiRoom-N2-v0',
  ].map((id) => ({ id, weight: 1 })),
  ...['GridNav-Empty-16x16-v0', 'GridNav-DoorKey-16x16-v0', 'GridNav-MultiRoom-N4-v0'].map(
    (id) => ({ id, weight: 0.3 }),
  ),
  ...[5, 10, 20].map((k) => ({ id: `TextWorld-Quest-k${k}-v0`, weight: 3 })),
  ...['TextWorld-Coins-L1-v0', 'TextWorld-Coins-L10-v0', 'TextWorld-Coins-L30-v0'].map((id) => ({
    id,
    weight: 1,
  })),
  ...['TextWorld-Treasure-L1-v0', 'TextWorld-Treasure-L15-v0', 'TextWorld-Treasure-L30-v0'].map(
    (id) => ({ id, weight: 1 }),
  ),
]);

/** Options of {@link corpusDocuments}. */
export interface CorpusOptions {
  /** Environments and weights. @defaultValue {@link DEFAULT_CORPUS_ENVS} */
  envs?: readonly CorpusEnv[];
  /** Episodes of an environment of weight 1. @defaultValue 40 */
  episodesPerEnv?: number;
  /** First seed (≥ {@link CORPUS_SEED_MIN}); episode j of every environment uses seedStart + j. */
  seedStart: number;
  /** ε of the oracle's episodes, used in turn with random play (ε = 1). @defaultValue [0, 0.2, 0.5, 1] */
  epsilons?: readonly number[];
  /** Steps after which an episode is cut. @defaultValue 40 */
  maxSteps?: number;
  /** Turns of history in agent prompts (the agent's default). @defaultValue 16 */
  historyLength?: number;
  /** Which formats to write. @defaultValue ['agent', 'prior'] */
  formats?: readonly CorpusFormat[];
}

/** The two formats of the corpus. */
export type CorpusFormat = 'agent' | 'prior';

/** One document of the corpus. */
export interface CorpusDocument {
  envId: string;
  seed: number;
  format: CorpusFormat;
  text: string;
  /**
   * Where the answer begins in `text`: before it, the request exactly as the agent or the prior
   * sends it (what a provider encodes as the prompt); from it, what the model is to write.
   */
  completionStart: number;
}

/**
 * Checks a corpus seed range: integers, the first at or above {@link CORPUS_SEED_MIN}.
 * @throws {@link InvalidOptionError} for a seed below 1,000,000 (an evaluation seed) or not an integer.
 */
export function checkCorpusSeeds(seedStart: unknown, count = 1): void {
  if (
    typeof seedStart !== 'number' ||
    !Number.isSafeInteger(seedStart) ||
    seedStart < CORPUS_SEED_MIN
  )
    throw new InvalidOptionError(
      'corpus seedStart',
      seedStart,
      `an integer >= ${CORPUS_SEED_MIN} (seeds below belong to evaluation: tests, benchmarks, experiments)`,
    );
  if (!Number.isSafeInteger(seedStart + count))
    throw new InvalidOptionError('corpus seed range', `${seedStart} + ${count}`, 'safe integers');
}

/**
 * The corpus's documents, environment by environment, episode by episode, step by step; the same
 * options give the same documents.
 * @throws {@link InvalidOptionError} for seeds below 1,000,000 and other bad options.
 */
export function* corpusDocuments(options: CorpusOptions): Generator<CorpusDocument> {
  const envs = options.envs ?? DEFAULT_CORPUS_ENVS;
  const perEnv = positive(options.episodesPerEnv ?? 40, 'corpus episodesPerEnv');
  const maxSteps = positive(options.maxSteps ?? 40, 'corpus maxSteps');
  const historyLength = options.historyLength ?? DEFAULT_HISTORY_LENGTH;
  if (!Number.isSafeInteger(historyLength) || historyLength < 0)
    throw new InvalidOptionError('corpus historyLength', historyLength, 'an integer >= 0');
  const epsilons = options.epsilons ?? [0, 0.2, 0.5, 1];
  if (epsilons.length === 0 || epsilons.some((e) => !(e >= 0 && e <= 1)))
    throw new InvalidOptionError('corpus epsilons', epsilons, 'numbers in [0, 1], at least one');
  const formats = new Set<CorpusFormat>(options.formats ?? ['agent', 'prior']);
  for (const f of formats as Set<string>)
    if (f !== 'agent' && f !== 'prior')
      throw new InvalidOptionError('corpus formats', f, '"agent" or "prior"');
  const counts = envs.map((e) => {
    const weight = e.weight ?? 1;
    if (!(weight > 0))
      throw new InvalidOptionError(`corpus weight of ${e.id}`, weight, 'a number > 0');
    return Math.max(1, Math.round(weight * perEnv));
  });
  checkCorpusSeeds(options.seedStart, Math.max(...counts));

  for (let e = 0; e < envs.length; e++) {
    const id = envs[e]!.id;
    const env = makeCorpusEnv(id);
    try {
      for (let j = 0; j < counts[e]!; j++) {
        const seed = options.seedStart + j;
        yield* episode(
          env,
          id,
          seed,
          epsilons[j % epsilons.length]!,
          maxSteps,
          historyLength,
          formats,
        );
      }
    } finally {
      env.close();
    }
  }
}

/** The environment as the corpus plays it: TextWorld in its slot observation (the world model's). */
function makeCorpusEnv(id: string): Env {
  return id.startsWith('TextWorld-') ? make(id, { observation: 'slots' }) : make(id);
}

function* episode(
  env: Env,
  id: string,
  seed: number,
  epsilon: number,
  maxSteps: number,
  historyLength: number,
  formats: ReadonlySet<CorpusFormat>,
): Generator<CorpusDocument> {
  const rng = new Rng(seed);
  let { observation, info } = env.reset({ seed });
  // A TextWorld 'facts' codec belongs to one game; making it after every reset serves both kinds.
  const codec: StateTextCodec = stateTextCodec(env);
  const turns: PromptTurns = { history: [], omitted: 0 };
  const inner = env.unwrapped;
  const discrete = env.actionSpace instanceof Discrete;
  for (let step = 0; step < maxSteps; step++) {
    const context = actContextOf(env, info, 'train', step);
    advanceTurns(turns, context);
    const commands = env.commands();
    const oracle = oracleCommand(inner, env);
    if (formats.has('agent')) {
      const input = promptInputOf(context, turns, { historyLength });
      if (oracle !== null) yield agentDoc(id, seed, input, oracle);
    }
    let command: string;
    let action: unknown;
    if (oracle !== null && !(rng.random() < epsilon)) {
      command = oracle;
      action = env.parseCommand(command);
    } else if (discrete) {
      const admissible = admissibleCommands(env, commands, info);
      if (admissible.length === 0) break;
      command = admissible[rng.integer(admissible.length)]!;
      action = env.parseCommand(command);
    } else {
      action = env.actionSpace.sample(rng);
      command = codec.commandText(action as ArrayLike<number>);
    }
    if (formats.has('agent') && oracle === null) {
      // No oracle (classic control): the command syntax, labelled with the move played.
      const input = promptInputOf(context, turns, { historyLength });
      yield agentDoc(id, seed, input, command);
    }
    const state = codec.encode(observation as ArrayLike<number>);
    const result = env.step(action);
    if (formats.has('prior')) {
      const example = {
        state,
        command: codec.commandText(action as number | ArrayLike<number>),
        nextState: codec.encode(result.observation as ArrayLike<number>),
        reward: result.reward,
        done: result.terminated,
      };
      const text = renderPriorExample(example);
      yield doc(id, seed, 'prior', text, text.length - formatPriorAnswer(example).length);
    }
    recordTurn(turns, command, historyLength);
    observation = result.observation;
    info = result.info;
    if (result.terminated || result.truncated) break;
  }
}

/** The oracle's next command, or null (no oracle, or no way to win from here). */
function oracleCommand(inner: Env, env: Env): string | null {
  if (inner instanceof GridNavEnv) {
    const plan = inner.optimalPlan();
    if (plan === null || plan.length === 0) return null;
    return commandOfAction(env, plan[0]!);
  }
  if (inner instanceof TextWorldEnv) {
    const walkthrough = inner.walkthrough();
    return walkthrough === null || walkthrough.length === 0 ? null : walkthrough[0]!;
  }
  return null;
}

/** The admissible command that parses to `action` (GridNav lists one per useful action). */
function commandOfAction(env: Env, action: number): string {
  for (const c of env.commands()) if (env.parseCommand(c) === action) return c;
  // An action the list leaves out (a move that changes nothing is not admissible): its name.
  return stateTextCodec(env).commandText(action);
}

/** The commands a random player picks among: those whose action the mask allows. */
function admissibleCommands(env: Env, commands: readonly string[], info: Info): string[] {
  const mask = info['actionMask'];
  if (!(mask instanceof Uint8Array)) return [...commands];
  return commands.filter((c) => {
    const a = env.parseCommand(c);
    return typeof a !== 'number' || mask[a] === 1;
  });
}

function agentDoc(
  envId: string,
  seed: number,
  input: PromptInput,
  command: string,
): CorpusDocument {
  const text = renderTrainingExample(input, command);
  return doc(envId, seed, 'agent', text, renderPrompt({ ...input, react: false }).length);
}

function doc(
  envId: string,
  seed: number,
  format: CorpusFormat,
  text: string,
  completionStart: number,
): CorpusDocument {
  return { envId, seed, format, text, completionStart };
}

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidOptionError(what, value, 'an integer >= 1');
  return value;
}
