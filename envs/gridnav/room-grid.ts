/**
 * A grid of equal square rooms sharing walls (MiniGrid's RoomGrid), the layout KeyCorridor,
 * Unlock and BlockedUnlockPickup are built on: each wall between two rooms has one possible door
 * position drawn when the grid is built; generators add doors and objects, place the agent, and
 * `connectAll` adds closed doors until every room can be reached.
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import {
  COLORS,
  EMPTY,
  OBJECT,
  ballCode,
  boxCode,
  doorCode,
  keyCode,
  typeOf,
  type GridWorld,
} from './world.js';

/** Walls of a room, in MiniGrid's order. */
export const WALL_SIDE = Object.freeze({ right: 0, down: 1, left: 2, up: 3 } as const);

/** One room of a {@link RoomGrid}. */
export interface GridRoom {
  /** Column of the room's top-left wall corner. */
  x: number;
  /** Row of the room's top-left wall corner. */
  y: number;
  /** Door (or opening) on each wall (right, down, left, up): true once connected to the neighbour. */
  connected: boolean[];
  /** The door position on each wall (cell index), -1 where there is no neighbour. */
  doorCell: number[];
  /** The neighbour across each wall. */
  neighbors: (GridRoom | undefined)[];
  /** True if the room is behind a locked door (connectAll adds no door to it). */
  locked: boolean;
}

/** The kinds of object a room can hold. */
export type RoomObjectKind = 'key' | 'ball' | 'box';

/** A `cols` x `rows` grid of `roomSize` x `roomSize` rooms (walls included) laid out in a world. */
export class RoomGrid {
  /** Side of a room in cells, walls included. */
  readonly roomSize: number;
  /** Rooms per column. */
  readonly rows: number;
  /** Rooms per row. */
  readonly cols: number;
  private readonly world: GridWorld;
  private readonly rng: Rng;
  private readonly rooms: GridRoom[][];

  /** World size for a room grid: `[(roomSize - 1) * cols + 1, (roomSize - 1) * rows + 1]`. */
  static worldSize(roomSize: number, rows: number, cols: number): [number, number] {
    return [(roomSize - 1) * cols + 1, (roomSize - 1) * rows + 1];
  }

  /** Draws every room's walls into `world` and the door position of every inner wall. */
  constructor(world: GridWorld, rng: Rng, roomSize: number, rows: number, cols: number) {
    this.world = world;
    this.rng = rng;
    this.roomSize = roomSize;
    this.rows = rows;
    this.cols = cols;
    this.rooms = [];
    for (let j = 0; j < rows; j++) {
      const row: GridRoom[] = [];
      for (let i = 0; i < cols; i++) {
        const room: GridRoom = {
          x: i * (roomSize - 1),
          y: j * (roomSize - 1),
          connected: [false, false, false, false],
          doorCell: [-1, -1, -1, -1],
          neighbors: [undefined, undefined, undefined, undefined],
          locked: false,
        };
        world.wallRect(room.x, room.y, roomSize, roomSize);
        row.push(room);
      }
      this.rooms.push(row);
    }
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < cols; i++) {
        const room = this.room(i, j);
        const inner = room.x + 1;
        const last = room.x + roomSize - 1;
        const innerY = room.y + 1;
        const lastY = room.y + roomSize - 1;
        if (i < cols - 1) {
          room.neighbors[0] = this.room(i + 1, j);
          room.doorCell[0] = world.index(last, rng.integer(innerY, lastY));
        }
        if (j < rows - 1) {
          room.neighbors[1] = this.room(i, j + 1);
          room.doorCell[1] = world.index(rng.integer(inner, last), lastY);
        }
        if (i > 0) {
          room.neighbors[2] = this.room(i - 1, j);
          room.doorCell[2] = this.room(i - 1, j).doorCell[0]!;
        }
        if (j > 0) {
          room.neighbors[3] = this.room(i, j - 1);
          room.doorCell[3] = this.room(i, j - 1).doorCell[1]!;
        }
      }
    }
  }

  /** The room in column `i`, row `j`. */
  room(i: number, j: number): GridRoom {
    return this.rooms[j]![i]!;
  }

  /** The room holding cell (x, y). */
  roomAt(x: number, y: number): GridRoom {
    const s = this.roomSize - 1;
    return this.room(
      Math.min(Math.floor(x / s), this.cols - 1),
      Math.min(Math.floor(y / s), this.rows - 1),
    );
  }

  /**
   * Puts a door on `wall` of room (i, j): colour random unless given, locked as asked. A locked
   * door marks the room as locked. Returns the door's code and cell.
   */
  addDoor(
    i: number,
    j: number,
    wall: number,
    color?: number,
    locked = false,
  ): { code: number; cell: number } {
    const room = this.room(i, j);
    const neighbor = room.neighbors[wall];
    const cell = room.doorCell[wall]!;
    if (neighbor === undefined || cell < 0 || room.connected[wall] === true) {
      throw new InvalidOptionError(
        `door on wall ${wall} of room (${i}, ${j})`,
        cell,
        'a wall with a neighbour and no door yet',
      );
    }
    const c = color ?? this.rng.integer(COLORS.length);
    const code = doorCode(c, locked ? 'locked' : 'closed');
    room.locked = locked;
    this.world.grid[cell] = code;
    room.connected[wall] = true;
    neighbor.connected[(wall + 2) % 4] = true;
    return { code, cell };
  }

  /** Opens the whole wall between room (i, j) and its neighbour (corners stay). */
  removeWall(i: number, j: number, wall: number): void {
    const room = this.room(i, j);
    const neighbor = room.neighbors[wall];
    if (neighbor === undefined)
      throw new InvalidOptionError(
        `wall ${wall} of room (${i}, ${j})`,
        wall,
        'a wall with a neighbour',
      );
    const s = this.roomSize;
    for (let k = 1; k < s - 1; k++) {
      if (wall === 0) this.world.set(room.x + s - 1, room.y + k, EMPTY);
      else if (wall === 1) this.world.set(room.x + k, room.y + s - 1, EMPTY);
      else if (wall === 2) this.world.set(room.x, room.y + k, EMPTY);
      else this.world.set(room.x + k, room.y, EMPTY);
    }
    room.connected[wall] = true;
    neighbor.connected[(wall + 2) % 4] = true;
  }

  /** Puts a new object (kind and colour random unless given) on a free cell of room (i, j). */
  addObject(
    i: number,
    j: number,
    kind?: RoomObjectKind,
    color?: number,
  ): { code: number; cell: number } {
    const k = kind ?? this.rng.choice(['key', 'ball', 'box'] as const);
    const c = color ?? this.rng.integer(COLORS.length);
    const code = k === 'key' ? keyCode(c) : k === 'ball' ? ballCode(c) : boxCode(c);
    const room = this.room(i, j);
    const cell = this.world.placeObject(
      this.rng,
      code,
      room.x,
      room.y,
      this.roomSize,
      this.roomSize,
    );
    return { code, cell };
  }

  /** Places the agent in room (i, j), facing a wall or an empty cell (never an object or a door). */
  placeAgent(i: number, j: number): void {
    const room = this.room(i, j);
    for (let tries = 0; tries < 1000; tries++) {
      this.world.placeAgent(this.rng, room.x, room.y, this.roomSize, this.roomSize);
      const front = this.world.front();
      if (front === EMPTY || typeOf(front) === OBJECT.wall) return;
    }
    throw new InvalidOptionError(
      `agent placement in room (${i}, ${j})`,
      this.roomSize,
      'a room with a free cell facing a wall or floor',
    );
  }

  /**
   * Adds closed doors of random colours between random neighbouring rooms until every room is
   * reachable from the agent's room (locked rooms get no extra door).
   */
  connectAll(): void {
    const start = this.roomAt(this.world.agentX, this.world.agentY);
    const total = this.rows * this.cols;
    for (let iteration = 0; iteration <= 5000; iteration++) {
      if (this.reachable(start) === total) return;
      const i = this.rng.integer(this.cols);
      const j = this.rng.integer(this.rows);
      const wall = this.rng.integer(4);
      const room = this.room(i, j);
      const neighbor = room.neighbors[wall];
      if (neighbor === undefined || room.connected[wall] === true) continue;
      if (room.locked || neighbor.locked) continue;
      this.addDoor(i, j, wall, this.rng.integer(COLORS.length), false);
    }
    throw new InvalidOptionError(
      'room grid',
      [this.cols, this.rows],
      'rooms that doors can connect',
    );
  }

  private reachable(start: GridRoom): number {
    const seen = new Set<GridRoom>();
    const stack = [start];
    while (stack.length > 0) {
      const room = stack.pop()!;
      if (seen.has(room)) continue;
      seen.add(room);
      for (let w = 0; w < 4; w++) {
        const n = room.neighbors[w];
        if (room.connected[w] === true && n !== undefined) stack.push(n);
      }
    }
    return seen.size;
  }
}
