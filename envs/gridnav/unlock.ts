/**
 * Unlock: two rooms joined by a locked door; the key of its colour lies in the agent's room. The
 * task is to open the door (MiniGrid's Unlock). Success is the toggle that leaves that door open.
 * ## Mission        "open the door"
 * ## Max steps      8 * 6² = 288
 * @example const env = make('GridNav-Unlock-v0'); env.reset({ seed: 0 });
 */
import type { Rng } from '../core/rng.js';
import { GridNavEnv, type GeneratedLevel, type GridNavOptions } from './gridnav-env.js';
import { RoomGrid, WALL_SIDE } from './room-grid.js';
import { colorOf, type GridWorld } from './world.js';

/** Options of {@link UnlockEnv}. */
export type UnlockOptions = GridNavOptions;

const ROOM_SIZE = 6;

/** MiniGrid's Unlock. */
export class UnlockEnv extends GridNavEnv {
  /** @throws {@link InvalidOptionError} for an unknown option. */
  constructor(options: UnlockOptions = {}) {
    const [width, height] = RoomGrid.worldSize(ROOM_SIZE, 1, 2);
    super('UnlockEnv', width, height, 8 * ROOM_SIZE * ROOM_SIZE, options);
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const rooms = new RoomGrid(world, rng, ROOM_SIZE, 1, 2);
    const door = rooms.addDoor(0, 0, WALL_SIDE.right, undefined, true);
    rooms.addObject(0, 0, 'key', colorOf(door.code));
    rooms.placeAgent(0, 0);
    world.objective = { kind: 'open', cell: door.cell };
    world.mission = 'open the door';
    return undefined;
  }
}
