/**
 * LavaCrossing: rivers of lava cross the room horizontally and vertically, each with one opening, so
 * that a single safe path of openings leads from the top-left corner (agent, facing east) to the goal
 * in the bottom-right corner (MiniGrid's LavaCrossing). Stepping into lava ends the episode with 0.
 * ## Mission        "avoid the lava and get to the green goal square"
 * ## Max steps      4 * size²
 * @example const env = make('GridNav-LavaCrossing-S9N1-v0'); env.reset({ seed: 0 });
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import {
  GridNavEnv,
  integerOption,
  type GeneratedLevel,
  type GridNavOptions,
} from './gridnav-env.js';
import { EMPTY, GOAL, LAVA, type GridWorld } from './world.js';

/** Options of {@link LavaCrossingEnv}. */
export interface LavaCrossingOptions extends GridNavOptions {
  /** Side of the room, walls included; odd, 5..63. @defaultValue 9 */
  size?: number;
  /** Lava rivers (1..size - 5). @defaultValue 1 */
  crossings?: number;
}

/** MiniGrid's LavaCrossingS{size}N{crossings}. */
export class LavaCrossingEnv extends GridNavEnv {
  /** Side of the room. */
  readonly size: number;
  /** Lava rivers. */
  readonly crossings: number;

  /** @throws {@link InvalidOptionError} for an even or out-of-range size, too many crossings, or an unknown option. */
  constructor(options: LavaCrossingOptions = {}) {
    const size = integerOption('LavaCrossingEnv', 'size', options.size ?? 9, 5, 63);
    if (size % 2 === 0)
      throw new InvalidOptionError(
        'options.size of LavaCrossingEnv',
        size,
        'an odd integer in 5..63',
      );
    const possible = 2 * Math.floor((size - 3) / 2);
    const crossings = integerOption(
      'LavaCrossingEnv',
      'crossings',
      options.crossings ?? 1,
      1,
      possible,
    );
    super('LavaCrossingEnv', size, size, 4 * size * size, options, ['size', 'crossings']);
    this.size = size;
    this.crossings = crossings;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const n = this.size;
    world.wallRect(0, 0, n, n);
    world.agentX = 1;
    world.agentY = 1;
    world.dir = 0;
    world.set(n - 2, n - 2, GOAL);
    // Candidate rivers: columns (vertical) and rows (horizontal) at even coordinates 2..n-3.
    const rivers: { vertical: boolean; at: number }[] = [];
    for (let i = 2; i < n - 2; i += 2) rivers.push({ vertical: true, at: i });
    for (let j = 2; j < n - 2; j += 2) rivers.push({ vertical: false, at: j });
    rng.shuffle(rivers);
    const chosen = rivers.slice(0, this.crossings);
    const columns = chosen
      .filter((r) => r.vertical)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const rows = chosen
      .filter((r) => !r.vertical)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    for (const y of rows) for (let x = 1; x < n - 1; x++) world.set(x, y, LAVA);
    for (const x of columns) for (let y = 1; y < n - 1; y++) world.set(x, y, LAVA);
    // A path of openings: cross each column river once (eastward) and each row river once (southward), in random order.
    const path: boolean[] = [...columns.map(() => true), ...rows.map(() => false)];
    rng.shuffle(path);
    const limitsX = [0, ...columns, n - 1];
    const limitsY = [0, ...rows, n - 1];
    let roomX = 0;
    let roomY = 0;
    for (const crossColumn of path) {
      if (crossColumn) {
        const top = limitsY[roomY]! + 1;
        const bottom: number = limitsY[roomY + 1]!;
        world.set(limitsX[roomX + 1]!, rng.integer(top, bottom), EMPTY);
        roomX++;
      } else {
        const left = limitsX[roomX]! + 1;
        const right: number = limitsX[roomX + 1]!;
        world.set(rng.integer(left, right), limitsY[roomY + 1]!, EMPTY);
        roomY++;
      }
    }
    world.mission = 'avoid the lava and get to the green goal square';
    return undefined;
  }
}
