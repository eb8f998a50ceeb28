/**
 * Test helpers for TextWorld: an exhaustive breadth-first search over every command of a game (no
 * pruning, no macros: only the engine's own transition), used to check the solver's claims
 * independently, and a replay of a command list.
 */
import type { Game } from '../../../envs/textworld/game.js';

/** Outcome of {@link bruteForceShortest}. */
export interface BruteForceResult {
  /** Length of the shortest winning sequence if one was found within `maxDepth`, else -1. */
  depth: number;
  /** True when the state budget ran out before the search finished. */
  exhausted: boolean;
  /** States stored. */
  states: number;
}

/**
 * Plain BFS from `start` (the game's start by default) over all commands (every action index, applied with the engine's
 * `applicable`/`apply`), lost states not expanded, up to `maxDepth` commands. Returns the depth of the
 * first winning state.
 */
export function bruteForceShortest(
  game: Game,
  maxDepth: number,
  maxStates = 300_000,
  start: Uint8Array = game.initialState,
): BruteForceResult {
  const key = (s: Uint8Array): string => Buffer.from(s).toString('latin1');
  const seen = new Set<string>();
  let frontier: { state: Uint8Array; room: number }[] = [
    { state: Uint8Array.from(start), room: game.roomOf(start) },
  ];
  seen.add(key(start));
  const won = (s: Uint8Array): boolean =>
    !game.anyHolds(s, game.failFacts) && game.allHold(s, game.winFacts);
  if (won(start)) return { depth: 0, exhausted: false, states: 1 };
  if (game.anyHolds(start, game.failFacts)) return { depth: -1, exhausted: false, states: 1 };
  for (let depth = 1; depth <= maxDepth; depth++) {
    const next: { state: Uint8Array; room: number }[] = [];
    for (const { state, room } of frontier) {
      for (let a = 0; a < game.commands.length; a++) {
        const i = game.applicable(state, a, room);
        if (i < 0) continue;
        const child = Uint8Array.from(state);
        game.apply(child, i);
        const k = key(child);
        if (seen.has(k)) continue;
        seen.add(k);
        if (won(child)) return { depth, exhausted: false, states: seen.size };
        if (game.anyHolds(child, game.failFacts)) continue;
        if (seen.size > maxStates) return { depth: -1, exhausted: true, states: seen.size };
        next.push({
          state: child,
          room: game.instanceNewRoom[i]! >= 0 ? game.instanceNewRoom[i]! : room,
        });
      }
    }
    frontier = next;
    if (frontier.length === 0) break;
  }
  return { depth: -1, exhausted: false, states: seen.size };
}
