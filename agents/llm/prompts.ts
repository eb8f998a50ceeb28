/**
 * The prompt format of the language-model agent: one deterministic text per step, built only from
 * what the loop hands the agent (the environment's TextView, the step's info, the episode's
 * progress) and the agent's own history. wmgym-lm's corpus builder writes its training text with
 * {@link renderTrainingExample}, so the shipped model reads exactly what the agent asks.
 *
 * A prompt, top to bottom (no trailing newline; blank lines between the blocks):
 *
 * ```text
 * Environment: GridNav-Empty-5x5-v0
 * Task: get to the green goal square                 (the env's goal text; left out when none)
 * Steps taken: 2. Steps left: 98 of 100.             ("Steps taken: 2. No step limit." without one)
 *
 * History:                                           ("History: none yet." on the first step)
 * [3 earlier turns not shown]                        (when more than historyLength turns were played)
 * > go south
 * <the env's feedback to it, when it gives one (TextWorld's info.feedback)>
 * > go east
 *
 * Observation:
 * <describe()>
 *
 * Admissible commands:
 * - face north                                       (commands(), sorted by code unit, duplicates once)
 * - go east
 *
 * Reply with exactly one admissible command.         (+ a line on <low..high> forms when a command has one)
 * Action:                                            (ReAct: "Thought:" after a ReAct instruction)
 * ```
 *
 * The model's answer follows the cue `Action:`: a training example is the prompt, a space, the
 * command and a newline; `rank` mode scores `' ' + command` after the prompt
 * ({@link continuationOf}). Every function here is pure: equal inputs give equal text.
 */
import { InvalidOptionError } from '../../envs/core/errors.js';
import type { Info } from '../../envs/core/env.js';
import type { ActContext } from '../agent.js';

/** One played turn of the history: the command taken and what the environment answered. */
export interface HistoryTurn {
  /** The command as taken (one line). */
  command: string;
  /** The environment's text answer to it (`info.feedback`), when it gives one. */
  feedback?: string;
}

/** What one prompt is made of. */
export interface PromptInput {
  /** The environment's id (`ActContext.envId`). */
  envId: string;
  /** The goal text ({@link taskOf}); `''` for none. */
  task: string;
  /** The current observation as text (`describe()`). */
  observation: string;
  /** The admissible commands (`commands()`), in any order: the prompt sorts them. */
  commands: readonly string[];
  /** Turns played in this episode, oldest first (only the last `historyLength` are shown). */
  history: readonly HistoryTurn[];
  /** Turns dropped before `history[0]` (by whoever keeps the history bounded). @defaultValue 0 */
  omittedTurns?: number;
  /** Most turns shown. @defaultValue 16 */
  historyLength?: number;
  /** Steps taken in the episode so far. */
  episodeStep: number;
  /** Steps left before the episode is cut; null when no limit is known. */
  stepsLeft: number | null;
  /** The episode's step budget; null when no limit is known. */
  maxEpisodeSteps: number | null;
  /** Ask for a ReAct answer ("Thought: ..." then "Action: ..."). @defaultValue false */
  react?: boolean;
}

/** Turns of history a prompt shows by default. */
export const DEFAULT_HISTORY_LENGTH = 16;

/** The cue the answer follows in the plain format. */
export const ACTION_CUE = 'Action:';

/** The cue a ReAct answer follows. */
export const THOUGHT_CUE = 'Thought:';

/** Matches a command form's range, e.g. `<-2..2>` in `torque <-2..2>`. */
const FORM = /<[^<>]*>/;

/**
 * The goal text of a task: the info's `mission`, `goal` or `objective` (GridNav puts its mission
 * there), else the registry's one-line description, else `''`.
 */
export function taskOf(info: Info, description: string): string {
  for (const key of ['mission', 'goal', 'objective']) {
    const value = info[key];
    if (typeof value === 'string' && value.trim() !== '') return oneLine(value);
  }
  return oneLine(description);
}

/** The admissible commands as the prompt lists them: one line each, duplicates once, sorted by code unit. */
export function sortCommands(commands: readonly string[]): string[] {
  return [...new Set(commands.map(oneLine))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The prompt of one step (see the module comment for the layout).
 * @throws {@link InvalidOptionError} for a `historyLength` or `omittedTurns` that is not a non-negative integer.
 */
export function renderPrompt(input: PromptInput): string {
  const historyLength = input.historyLength ?? DEFAULT_HISTORY_LENGTH;
  const omittedBefore = input.omittedTurns ?? 0;
  checkCount(historyLength, 'renderPrompt historyLength');
  checkCount(omittedBefore, 'renderPrompt omittedTurns');
  const blocks: string[] = [];

  const head = [`Environment: ${oneLine(input.envId)}`];
  const task = oneLine(input.task);
  if (task !== '') head.push(`Task: ${task}`);
  head.push(budgetLine(input.episodeStep, input.stepsLeft, input.maxEpisodeSteps));
  blocks.push(head.join('\n'));

  const shown = historyLength === 0 ? [] : input.history.slice(-historyLength);
  const omitted = omittedBefore + (input.history.length - shown.length);
  if (shown.length === 0 && omitted === 0) blocks.push('History: none yet.');
  else {
    const lines = ['History:'];
    if (omitted > 0) lines.push(`[${omitted} earlier turn${omitted === 1 ? '' : 's'} not shown]`);
    for (const turn of shown) {
      lines.push(`> ${oneLine(turn.command)}`);
      const feedback = turn.feedback === undefined ? '' : compact(turn.feedback);
      if (feedback !== '') lines.push(feedback);
    }
    blocks.push(lines.join('\n'));
  }

  blocks.push(`Observation:\n${compact(input.observation)}`);

  const commands = sortCommands(input.commands);
  blocks.push(
    commands.length === 0
      ? 'Admissible commands: none.'
      : `Admissible commands:\n${commands.map((c) => `- ${c}`).join('\n')}`,
  );

  const instruction: string[] = [];
  if (input.react === true) {
    instruction.push(
      `Think briefly on a line "${THOUGHT_CUE} ...", then give exactly one admissible command on a line "${ACTION_CUE} <command>".`,
    );
  } else instruction.push('Reply with exactly one admissible command.');
  if (commands.some((c) => FORM.test(c)))
    instruction.push('In a command of the form <low..high>, write a number in that range.');
  instruction.push(input.react === true ? THOUGHT_CUE : ACTION_CUE);
  blocks.push(instruction.join('\n'));

  return blocks.join('\n\n');
}

/** The turns of one episode as a prompt shows them: the kept history and how many were dropped. */
export interface PromptTurns {
  /** The last turns, oldest first. */
  history: HistoryTurn[];
  /** Turns dropped from the front of `history`. */
  omitted: number;
}

/**
 * Brings `turns` up to the observation of `context`: a new episode (`episodeStep` 0) clears
 * them; otherwise the env's answer to the last turn (`info.feedback`, when it is text) is
 * attached to it. Returns whether a new episode began. The agent and wmgym-lm's corpus builder
 * both call it, so the history the model is trained on is the one it is shown.
 */
export function advanceTurns(
  turns: PromptTurns,
  context: Pick<ActContext, 'episodeStep' | 'info'>,
): boolean {
  if (context.episodeStep === 0) {
    turns.history = [];
    turns.omitted = 0;
    return true;
  }
  const last = turns.history[turns.history.length - 1];
  const feedback = context.info['feedback'];
  if (last !== undefined && last.feedback === undefined && typeof feedback === 'string')
    last.feedback = feedback;
  return false;
}

/** Records the command taken, keeping at most `historyLength` turns (older ones counted as omitted). */
export function recordTurn(turns: PromptTurns, command: string, historyLength: number): void {
  turns.history.push({ command });
  while (turns.history.length > historyLength) {
    turns.history.shift();
    turns.omitted++;
  }
}

/**
 * The prompt input of one step, from what the loop hands an agent ({@link ActContext}) and the
 * episode's turns: the task ({@link taskOf}), `describe()`, the sorted `commands()`, the history
 * and the step budget.
 */
export function promptInputOf(
  context: Pick<
    ActContext,
    'textView' | 'info' | 'envId' | 'description' | 'episodeStep' | 'stepsLeft' | 'maxEpisodeSteps'
  >,
  turns: PromptTurns,
  options: { historyLength?: number; react?: boolean } = {},
): PromptInput {
  return {
    envId: context.envId,
    task: taskOf(context.info, context.description),
    observation: context.textView.describe(),
    commands: sortCommands(context.textView.commands()),
    history: turns.history,
    omittedTurns: turns.omitted,
    historyLength: options.historyLength ?? DEFAULT_HISTORY_LENGTH,
    episodeStep: context.episodeStep,
    stepsLeft: context.stepsLeft,
    maxEpisodeSteps: context.maxEpisodeSteps,
    react: options.react ?? false,
  };
}

/** What `rank` mode scores after the prompt for `command`: a space, then the command. */
export function continuationOf(command: string): string {
  return ` ${oneLine(command)}`;
}

/**
 * One training example of wmgym-lm's corpus in the agent's format: the plain (non-ReAct) prompt of
 * `input`, then {@link continuationOf} the command taken, then a newline.
 * @example renderTrainingExample({ envId, task, observation, commands, history: [], episodeStep: 0, stepsLeft: 50, maxEpisodeSteps: 50 }, 'go north')
 */
export function renderTrainingExample(input: PromptInput, command: string): string {
  return `${renderPrompt({ ...input, react: false })}${continuationOf(command)}\n`;
}

/**
 * The follow-up message after an unusable reply: what was received, why it could not be used
 * (the parse error's message) and what to answer instead.
 */
export function retryMessage(reply: string, reason: string, react = false): string {
  const head =
    reply.trim() === ''
      ? 'Your reply was empty.'
      : `Your reply ${JSON.stringify(truncate(reply.trim(), 200))} could not be used: ${oneLine(reason)}`;
  const format = react
    ? `a line "${THOUGHT_CUE} ..." then a line "${ACTION_CUE} <command>"`
    : `"${ACTION_CUE} <command>" on one line`;
  return `${head}\nAnswer again with exactly one admissible command, as ${format}.`;
}

function budgetLine(step: number, left: number | null, max: number | null): string {
  if (left === null) return `Steps taken: ${step}. No step limit.`;
  return `Steps taken: ${step}. Steps left: ${left}${max === null ? '' : ` of ${max}`}.`;
}

/** Collapses every run of whitespace to one space and trims. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Trims each line's end and drops blank lines. */
function compact(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .join('\n');
}

function truncate(text: string, most: number): string {
  return text.length <= most ? text : `${text.slice(0, most)}…`;
}

function checkCount(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new InvalidOptionError(option, value, 'a non-negative integer');
}
