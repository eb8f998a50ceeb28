/**
 * BlockedUnlockPickup: a box waits in the right room, behind a locked door that a ball blocks from
 * the left; the key lies in the agent's (left) room. Move the ball, fetch the key, unlock the door,
 * then pick up the box (MiniGrid's BlockedUnlockPickup). Hands hold one object, so the ball and the
 * key must be put down on the way.
 * ## Mission        "pick up the <colour> box"
 * ## Max steps      16 * 6² = 576
 * @example const env = make('GridNav-BlockedUnlockPickup-v0'); env.reset({ seed: 0 });
 */
import type { Rng } from '../core/rng.js';
import { GridNavEnv, type GeneratedLevel, type GridNavOptions } from './gridnav-env.js';
import { RoomGrid, WALL_SIDE } from './room-grid.js';
import { COLORS, ballCode, colorOf, objectOf, type GridWorld } from './world.js';

/** Options of {@link BlockedUnlockPickupEnv}. */
export type BlockedUnlockPickupOptions = GridNavOptions;

const ROOM_SIZE = 6;

/** MiniGrid's BlockedUnlockPickup. */
export class BlockedUnlockPickupEnv extends GridNavEnv {
  /** @throws {@link InvalidOptionError} for an unknown option. */
  constructor(options: BlockedUnlockPickupOptions = {}) {
    const [width, height] = RoomGrid.worldSize(ROOM_SIZE, 1, 2);
    super('BlockedUnlockPickupEnv', width, height, 16 * ROOM_SIZE * ROOM_SIZE, options);
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const rooms = new RoomGrid(world, rng, ROOM_SIZE, 1, 2);
    const box = rooms.addObject(1, 0, 'box');
    const door = rooms.addDoor(0, 0, WALL_SIDE.right, undefined, true);
    const height = world.height;
    const doorX = Math.floor(door.cell / height);
    world.set(doorX - 1, door.cell % height, ballCode(rng.integer(COLORS.length)));
    rooms.addObject(0, 0, 'key', colorOf(door.code));
    rooms.placeAgent(0, 0);
    world.objective = { kind: 'pickup', object: objectOf(box.code) };
    world.mission = `pick up the ${COLORS[colorOf(box.code)]!} box`;
    return undefined;
  }
}
