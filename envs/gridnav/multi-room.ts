/**
 * MultiRoom: a chain of rectangular rooms of random sizes, each joined to the next by a closed door
 * of a colour different from the previous door's; the agent starts in the first room and the goal
 * lies in the last (MiniGrid's MultiRoom). Cells outside the rooms are empty and unreachable.
 * ## Mission        "traverse the rooms to get to the goal"
 * ## Max steps      20 * maxRooms
 * @example const env = make('GridNav-MultiRoom-N4-v0'); env.reset({ seed: 0 });
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import {
  GridNavEnv,
  integerOption,
  type GeneratedLevel,
  type GridNavOptions,
} from './gridnav-env.js';
import { COLORS, GOAL, doorCode, type GridWorld } from './world.js';

/** Options of {@link MultiRoomEnv}. */
export interface MultiRoomOptions extends GridNavOptions {
  /** Fewest rooms (1..8). @defaultValue 6 */
  minRooms?: number;
  /** Most rooms (minRooms..8). @defaultValue minRooms */
  maxRooms?: number;
  /** Largest room side, walls included (4..12); the smallest is 4. @defaultValue 10 */
  maxRoomSize?: number;
}

const SIZE = 25;
const MIN_ROOM_SIZE = 4;

interface PlacedRoom {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Cell of the door this room is entered by (for the first room, its top-left corner). */
  entryX: number;
  entryY: number;
}

/** MiniGrid's MultiRoom-N{rooms}-S{maxRoomSize} on a 25x25 grid. */
export class MultiRoomEnv extends GridNavEnv {
  /** Fewest rooms. */
  readonly minRooms: number;
  /** Most rooms. */
  readonly maxRooms: number;
  /** Largest room side. */
  readonly maxRoomSize: number;

  /** @throws {@link InvalidOptionError} for room counts or sizes out of range, or an unknown option. */
  constructor(options: MultiRoomOptions = {}) {
    const minRooms = integerOption('MultiRoomEnv', 'minRooms', options.minRooms ?? 6, 1, 8);
    const maxRooms = integerOption('MultiRoomEnv', 'maxRooms', options.maxRooms ?? minRooms, 1, 8);
    if (maxRooms < minRooms) {
      throw new InvalidOptionError(
        'options.maxRooms of MultiRoomEnv',
        maxRooms,
        `an integer in ${minRooms}..8 (at least minRooms)`,
      );
    }
    const maxRoomSize = integerOption(
      'MultiRoomEnv',
      'maxRoomSize',
      options.maxRoomSize ?? 10,
      MIN_ROOM_SIZE,
      12,
    );
    super('MultiRoomEnv', SIZE, SIZE, 20 * maxRooms, options, [
      'minRooms',
      'maxRooms',
      'maxRoomSize',
    ]);
    this.minRooms = minRooms;
    this.maxRooms = maxRooms;
    this.maxRoomSize = maxRoomSize;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const count = rng.integer(this.minRooms, this.maxRooms + 1);
    let rooms: PlacedRoom[] = [];
    for (let attempt = 0; rooms.length < count; attempt++) {
      if (attempt > 10000) {
        throw new InvalidOptionError(
          'options of MultiRoomEnv',
          { rooms: count, maxRoomSize: this.maxRoomSize },
          'room counts and sizes that fit a 25x25 grid',
        );
      }
      const chain: PlacedRoom[] = [];
      this.placeRoom(rng, count, chain, 2, rng.integer(0, SIZE - 2), rng.integer(0, SIZE - 2));
      if (chain.length > rooms.length) rooms = chain;
    }
    let previousColor = -1;
    rooms.forEach((room, k) => {
      world.wallRect(room.x, room.y, room.w, room.h);
      if (k === 0) return;
      // A door colour different from the previous door's.
      let color = rng.integer(COLORS.length - (previousColor < 0 ? 0 : 1));
      if (previousColor >= 0 && color >= previousColor) color++;
      world.set(room.entryX, room.entryY, doorCode(color, 'closed'));
      previousColor = color;
    });
    const first = rooms[0]!;
    const last = rooms[rooms.length - 1]!;
    world.placeAgent(rng, first.x, first.y, first.w, first.h);
    world.placeObject(rng, GOAL, last.x, last.y, last.w, last.h);
    world.mission = 'traverse the rooms to get to the goal';
    return undefined;
  }

  /**
   * Places a room entered through (entryX, entryY) on `entryWall` (0 right, 1 down, 2 left, 3 up),
   * then tries up to eight exits for the next one. Returns false if this room does not fit.
   */
  private placeRoom(
    rng: Rng,
    left: number,
    chain: PlacedRoom[],
    entryWall: number,
    entryX: number,
    entryY: number,
  ): boolean {
    const w = rng.integer(MIN_ROOM_SIZE, this.maxRoomSize + 1);
    const h = rng.integer(MIN_ROOM_SIZE, this.maxRoomSize + 1);
    let x: number;
    let y: number;
    if (chain.length === 0) {
      x = entryX;
      y = entryY;
    } else if (entryWall === 0) {
      x = entryX - w + 1;
      y = rng.integer(entryY - h + 2, entryY);
    } else if (entryWall === 1) {
      x = rng.integer(entryX - w + 2, entryX);
      y = entryY - h + 1;
    } else if (entryWall === 2) {
      x = entryX;
      y = rng.integer(entryY - h + 2, entryY);
    } else {
      x = rng.integer(entryX - w + 2, entryX);
      y = entryY;
    }
    if (x < 0 || y < 0 || x + w > SIZE || y + h >= SIZE) return false;
    // Rooms may share a wall with the previous room only.
    for (const other of chain.slice(0, -1)) {
      const apart =
        x + w < other.x || other.x + other.w <= x || y + h < other.y || other.y + other.h <= y;
      if (!apart) return false;
    }
    chain.push({ x, y, w, h, entryX, entryY });
    if (left === 1) return true;
    for (let tries = 0; tries < 8; tries++) {
      const walls = [0, 1, 2, 3].filter((wall) => wall !== entryWall);
      const exitWall = rng.choice(walls);
      let exitX: number;
      let exitY: number;
      if (exitWall === 0) {
        exitX = x + w - 1;
        exitY = y + rng.integer(1, h - 1);
      } else if (exitWall === 1) {
        exitX = x + rng.integer(1, w - 1);
        exitY = y + h - 1;
      } else if (exitWall === 2) {
        exitX = x;
        exitY = y + rng.integer(1, h - 1);
      } else {
        exitX = x + rng.integer(1, w - 1);
        exitY = y;
      }
      if (this.placeRoom(rng, left - 1, chain, (exitWall + 2) % 4, exitX, exitY)) break;
    }
    return true;
  }
}
