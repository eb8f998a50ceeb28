/**
 * Shared check for the exact-length families: the walkthrough from the start has exactly k commands
 * and wins when played (reward 1 on the last step only); the solver's shortest plan has k commands;
 * and, where an exhaustive search is affordable, no sequence of fewer commands wins.
 */
import type { ExecutionContext } from 'ava';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { solveQuest } from '../../../envs/textworld/search.js';
import { bruteForceShortest } from './helpers.js';

/** Plays the walkthrough of game `seed`; returns its length. `exhaustive` also runs the unpruned BFS. */
export function checkExactQuest(
  t: ExecutionContext,
  env: TextWorldEnv,
  seed: number,
  k: number,
  exhaustive: boolean,
  label: string,
): void {
  env.reset({ seed });
  const game = env.currentGame;
  t.is(game.file.metadata?.['questLength'], k, `${label}: metadata`);
  const walkthrough = env.walkthrough();
  if (walkthrough === null) {
    t.fail(`${label}: no walkthrough`);
    return;
  }
  t.is(walkthrough.length, k, `${label}: walkthrough length`);
  t.is(solveQuest(game, game.initialState).cost, k, `${label}: solver`);
  walkthrough.forEach((command, i) => {
    const result = env.step(env.parseCommand(command));
    const last = i === walkthrough.length - 1;
    if (
      result.terminated !== last ||
      result.reward !== (last ? 1 : 0) ||
      (last && result.info['won'] !== true)
    ) {
      t.fail(
        `${label}: step ${i} "${command}" gave reward ${result.reward}, terminated ${String(result.terminated)}`,
      );
    }
  });
  if (exhaustive) {
    const brute = bruteForceShortest(game, k);
    t.false(brute.exhausted, `${label}: exhaustive search budget`);
    t.is(brute.depth, k, `${label}: exhaustive shortest`);
  }
}
