/**
 * DoorKey: a wall splits the room; the goal lies beyond a locked yellow door whose key lies on the
 * agent's side (MiniGrid's DoorKey).
 * ## Mission        "use the key to open the door and then get to the goal"
 * ## Max steps      10 * size²
 * @example const env = make('GridNav-DoorKey-8x8-v0'); env.reset({ seed: 0 });
 */
import type { Rng } from '../core/rng.js';
import {
  GridNavEnv,
  integerOption,
  type GeneratedLevel,
  type GridNavOptions,
} from './gridnav-env.js';
import { COLOR, GOAL, doorCode, keyCode, type GridWorld } from './world.js';

/** Options of {@link DoorKeyEnv}. */
export interface DoorKeyOptions extends GridNavOptions {
  /** Side of the room, walls included (5..64). @defaultValue 8 */
  size?: number;
}

/** MiniGrid's DoorKey-NxN. */
export class DoorKeyEnv extends GridNavEnv {
  /** Side of the room. */
  readonly size: number;

  /** @throws {@link InvalidOptionError} for a size outside 5..64 or an unknown option. */
  constructor(options: DoorKeyOptions = {}) {
    const size = integerOption('DoorKeyEnv', 'size', options.size ?? 8, 5, 64);
    super('DoorKeyEnv', size, size, 10 * size * size, options, ['size']);
    this.size = size;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const n = this.size;
    world.wallRect(0, 0, n, n);
    world.set(n - 2, n - 2, GOAL);
    const split = rng.integer(2, n - 2);
    world.verticalWall(split, 0);
    world.placeAgent(rng, 0, 0, split, n);
    world.set(split, rng.integer(1, n - 2), doorCode(COLOR.yellow, 'locked'));
    world.placeObject(rng, keyCode(COLOR.yellow), 0, 0, split, n);
    world.mission = 'use the key to open the door and then get to the goal';
    return undefined;
  }
}
