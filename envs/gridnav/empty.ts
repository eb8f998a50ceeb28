/**
 * Empty: an empty room with the green goal in the bottom-right corner (MiniGrid's Empty). The agent
 * starts in the top-left corner facing east, or anywhere facing anywhere with `randomStart`
 * (MiniGrid's Empty-Random).
 * ## Mission        "get to the green goal square"
 * ## Max steps      4 * size²
 * @example const env = make('GridNav-Empty-8x8-v0'); env.reset({ seed: 0 });
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import {
  GridNavEnv,
  integerOption,
  type GeneratedLevel,
  type GridNavOptions,
} from './gridnav-env.js';
import { GOAL, type GridWorld } from './world.js';

/** Options of {@link EmptyEnv}. */
export interface EmptyOptions extends GridNavOptions {
  /** Side of the room, walls included (4..64). @defaultValue 8 */
  size?: number;
  /** Start anywhere, facing anywhere, instead of the top-left corner facing east. @defaultValue false */
  randomStart?: boolean;
}

/** MiniGrid's Empty-NxN and Empty-Random-NxN. */
export class EmptyEnv extends GridNavEnv {
  /** Side of the room. */
  readonly size: number;
  /** Whether the start is random. */
  readonly randomStart: boolean;

  /** @throws {@link InvalidOptionError} for a size outside 4..64 or an unknown option. */
  constructor(options: EmptyOptions = {}) {
    const size = integerOption('EmptyEnv', 'size', options.size ?? 8, 4, 64);
    super('EmptyEnv', size, size, 4 * size * size, options, ['size', 'randomStart']);
    const randomStart = options.randomStart ?? false;
    if (typeof randomStart !== 'boolean') {
      throw new InvalidOptionError('options.randomStart of EmptyEnv', randomStart, 'a boolean');
    }
    this.size = size;
    this.randomStart = randomStart;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const n = this.size;
    world.wallRect(0, 0, n, n);
    world.set(n - 2, n - 2, GOAL);
    if (this.randomStart) {
      world.placeAgent(rng);
    } else {
      world.agentX = 1;
      world.agentY = 1;
      world.dir = 0;
    }
    world.mission = 'get to the green goal square';
    return undefined;
  }
}
