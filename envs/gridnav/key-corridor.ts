/**
 * KeyCorridor: three columns of rooms; the middle column is one corridor, a ball waits in a
 * right-hand room behind a locked door, and the key of that door lies in a left-hand room behind
 * closed doors (MiniGrid's KeyCorridor). Pick up the ball; hands hold one object, so the key must
 * be put down first.
 * ## Mission        "pick up the <colour> ball"
 * ## Max steps      30 * roomSize²
 * @example const env = make('GridNav-KeyCorridor-S3R3-v0'); env.reset({ seed: 0 });
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import {
  GridNavEnv,
  integerOption,
  type GeneratedLevel,
  type GridNavOptions,
} from './gridnav-env.js';
import { RoomGrid, WALL_SIDE } from './room-grid.js';
import { COLORS, OBJECT_NAMES, colorOf, objectOf, typeOf, type GridWorld } from './world.js';

/** Options of {@link KeyCorridorEnv}. */
export interface KeyCorridorOptions extends GridNavOptions {
  /** Side of a room, walls included (3..12): MiniGrid's S. @defaultValue 3 */
  roomSize?: number;
  /** Rows of rooms (1..6): MiniGrid's R. @defaultValue 3 */
  rows?: number;
  /** The kind of object to pick up. @defaultValue 'ball' */
  objectKind?: 'ball' | 'box';
}

const COLUMNS = 3;

/** MiniGrid's KeyCorridorS{roomSize}R{rows}. */
export class KeyCorridorEnv extends GridNavEnv {
  /** Side of a room. */
  readonly roomSize: number;
  /** Rows of rooms. */
  readonly rows: number;
  /** The kind of object to pick up. */
  readonly objectKind: 'ball' | 'box';

  /** @throws {@link InvalidOptionError} for a room size, row count or object kind out of range, or an unknown option. */
  constructor(options: KeyCorridorOptions = {}) {
    const roomSize = integerOption('KeyCorridorEnv', 'roomSize', options.roomSize ?? 3, 3, 12);
    const rows = integerOption('KeyCorridorEnv', 'rows', options.rows ?? 3, 1, 6);
    const [width, height] = RoomGrid.worldSize(roomSize, rows, COLUMNS);
    super('KeyCorridorEnv', width, height, 30 * roomSize * roomSize, options, [
      'roomSize',
      'rows',
      'objectKind',
    ]);
    const objectKind: unknown = options.objectKind ?? 'ball';
    if (objectKind !== 'ball' && objectKind !== 'box') {
      throw new InvalidOptionError(
        'options.objectKind of KeyCorridorEnv',
        objectKind,
        '"ball" or "box"',
      );
    }
    this.roomSize = roomSize;
    this.rows = rows;
    this.objectKind = objectKind;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const rows = this.rows;
    const rooms = new RoomGrid(world, rng, this.roomSize, rows, COLUMNS);
    for (let j = 1; j < rows; j++) rooms.removeWall(1, j, WALL_SIDE.up);
    const lockedRow = rng.integer(rows);
    const door = rooms.addDoor(2, lockedRow, WALL_SIDE.left, undefined, true);
    const target = rooms.addObject(2, lockedRow, this.objectKind);
    rooms.addObject(0, rng.integer(rows), 'key', colorOf(door.code));
    rooms.placeAgent(1, Math.floor(rows / 2));
    rooms.connectAll();
    world.objective = { kind: 'pickup', object: objectOf(target.code) };
    world.mission = `pick up the ${COLORS[colorOf(target.code)]!} ${OBJECT_NAMES[typeOf(target.code)]!}`;
    return undefined;
  }
}
