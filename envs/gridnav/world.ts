/**
 * The GridNav world engine every generator shares: a grid of cells stored as one typed array of
 * packed codes (object type, colour, state, box content), the agent (position, direction, carried
 * object) and MiniGrid's rules in one place ({@link GridWorld.apply}). Encodings follow MiniGrid:
 * object types `OBJECT_TO_IDX`, colours `COLOR_TO_IDX`, door states 0 open / 1 closed / 2 locked,
 * directions 0 east / 1 south / 2 west / 3 north (y grows southward).
 *
 * A cell code packs `type | color << 4 | state << 7 | content << 9`, where `content` is the 7-bit
 * code (`type | color << 4`) of the object inside a box, 0 for none.
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Object type codes, as MiniGrid's `OBJECT_TO_IDX`. */
export const OBJECT = Object.freeze({
  unseen: 0,
  empty: 1,
  wall: 2,
  floor: 3,
  door: 4,
  key: 5,
  ball: 6,
  box: 7,
  goal: 8,
  lava: 9,
  agent: 10,
} as const);

/** The name of an object type. */
export type ObjectName = keyof typeof OBJECT;

/** Object type names by code. */
export const OBJECT_NAMES: readonly ObjectName[] = Object.freeze([
  'unseen',
  'empty',
  'wall',
  'floor',
  'door',
  'key',
  'ball',
  'box',
  'goal',
  'lava',
  'agent',
]);

/** Colour names by code, as MiniGrid's `COLOR_TO_IDX`. */
export const COLORS = Object.freeze(['red', 'green', 'blue', 'purple', 'yellow', 'grey'] as const);

/** The name of a colour. */
export type ColorName = (typeof COLORS)[number];

/** Colour codes by name. */
export const COLOR = Object.freeze({
  red: 0,
  green: 1,
  blue: 2,
  purple: 3,
  yellow: 4,
  grey: 5,
} as const);

/** Door states, as MiniGrid's `STATE_TO_IDX`. */
export const DOOR = Object.freeze({ open: 0, closed: 1, locked: 2 } as const);

/** Door state names by code. */
export const DOOR_STATE_NAMES = Object.freeze(['open', 'closed', 'locked'] as const);

/** Direction names by code (MiniGrid's `DIR_TO_VEC` order). */
export const DIRECTION_NAMES = Object.freeze(['east', 'south', 'west', 'north'] as const);

/** x step of each direction. */
export const DX: readonly number[] = Object.freeze([1, 0, -1, 0]);
/** y step of each direction (y grows southward). */
export const DY: readonly number[] = Object.freeze([0, 1, 0, -1]);

/**
 * Primitive operations of the world. The egocentric action set uses the first seven (MiniGrid's
 * `Actions`); the absolute set uses `north`..`west` plus pickup, drop, toggle, done.
 */
export const OP = Object.freeze({
  left: 0,
  right: 1,
  forward: 2,
  pickup: 3,
  drop: 4,
  toggle: 5,
  done: 6,
  north: 7,
  south: 8,
  east: 9,
  west: 10,
} as const);

/** Direction each absolute move op (`OP.north`..`OP.west`) turns to, indexed by `op - OP.north`. */
export const MOVE_DIRECTION: readonly number[] = Object.freeze([3, 1, 0, 2]);

/** What {@link GridWorld.apply} did. */
export const EVENT = Object.freeze({
  /** Nothing changed. */
  none: 0,
  /** The state changed; the episode goes on. */
  changed: 1,
  /** The task is achieved (goal reached, target picked up, target door opened). */
  success: 2,
  /** The agent stepped into lava. */
  failure: 3,
} as const);

/** What ends an episode with success. */
export type Objective =
  { kind: 'goal' } | { kind: 'pickup'; object: number } | { kind: 'open'; cell: number };

const TYPE_MASK = 15;

/** Packs a cell code. `content` is the 7-bit object code inside a box (0 for none). */
export function cellCode(type: number, color = 0, state = 0, content = 0): number {
  return type | (color << 4) | (state << 7) | (content << 9);
}

/** The object type of a cell code. */
export function typeOf(code: number): number {
  return code & TYPE_MASK;
}

/** The colour of a cell code. */
export function colorOf(code: number): number {
  return (code >> 4) & 7;
}

/** The state of a cell code (doors: 0 open, 1 closed, 2 locked). */
export function stateOf(code: number): number {
  return (code >> 7) & 3;
}

/** The 7-bit code of the object inside a box (0 for none). */
export function contentOf(code: number): number {
  return code >>> 9;
}

/** The object itself (type and colour) without state or content: what a pickup target is matched on. */
export function objectOf(code: number): number {
  return code & 127;
}

/** Code of an empty cell (MiniGrid encodes it as (1, 0, 0)). */
export const EMPTY = cellCode(OBJECT.empty);
/** Code of a (grey) wall. */
export const WALL = cellCode(OBJECT.wall, COLOR.grey);
/** Code of the (green) goal. */
export const GOAL = cellCode(OBJECT.goal, COLOR.green);
/** Code of lava (red). */
export const LAVA = cellCode(OBJECT.lava, COLOR.red);

/** A door of `color` in `state` ('open' | 'closed' | 'locked'). */
export function doorCode(color: number, state: keyof typeof DOOR): number {
  return cellCode(OBJECT.door, color, DOOR[state]);
}

/** A key of `color`. */
export function keyCode(color: number): number {
  return cellCode(OBJECT.key, color);
}

/** A ball of `color`. */
export function ballCode(color: number): number {
  return cellCode(OBJECT.ball, color);
}

/** A box of `color`, holding the object `content` (a code; 0 for an empty box). */
export function boxCode(color: number, content = 0): number {
  return cellCode(OBJECT.box, color, 0, objectOf(content));
}

/** True if the agent can stand on the cell (MiniGrid's `can_overlap`). */
export function isPassable(code: number): boolean {
  const t = code & TYPE_MASK;
  return (
    t === OBJECT.empty ||
    t === OBJECT.floor ||
    t === OBJECT.goal ||
    t === OBJECT.lava ||
    (t === OBJECT.door && stateOf(code) === DOOR.open)
  );
}

/** True for keys, balls and boxes (MiniGrid's `can_pickup`). */
export function isPickable(code: number): boolean {
  const t = code & TYPE_MASK;
  return t === OBJECT.key || t === OBJECT.ball || t === OBJECT.box;
}

/** True if the agent sees past the cell (MiniGrid's `see_behind`: not walls, not shut doors). */
export function seesBehind(code: number): boolean {
  const t = code & TYPE_MASK;
  return t !== OBJECT.wall && !(t === OBJECT.door && stateOf(code) !== DOOR.open);
}

/** True if `code` is a cell code this engine produces (used to validate snapshots). */
export function isValidCellCode(code: number): boolean {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) return false;
  const t = code & TYPE_MASK;
  if (t < OBJECT.empty || t > OBJECT.lava) return false;
  if (colorOf(code) >= COLORS.length) return false;
  const state = stateOf(code);
  if (state !== 0 && t !== OBJECT.door) return false;
  if (state > DOOR.locked) return false;
  const content = contentOf(code);
  if (content !== 0 && !(t === OBJECT.box && isValidObjectCode(content))) return false;
  return true;
}

/** True if `code` is a carriable object code (a key, ball or box, possibly holding an object). */
export function isValidCarriedCode(code: number): boolean {
  return code === 0 || (isValidCellCode(code) && isPickable(code));
}

function isValidObjectCode(code: number): boolean {
  return isPickable(code) && colorOf(code) < COLORS.length;
}

/**
 * The mutable world: grid, agent, carried object, objective and mission. Cells are indexed
 * `x * height + y`, so walking the grid array is MiniGrid's (x, y) order.
 */
export class GridWorld {
  /** Width in cells. */
  readonly width: number;
  /** Height in cells. */
  readonly height: number;
  /** Cell codes, index `x * height + y`. */
  grid: Uint16Array;
  /** Agent column. */
  agentX = 0;
  /** Agent row. */
  agentY = 0;
  /** Agent direction: 0 east, 1 south, 2 west, 3 north. */
  dir = 0;
  /** Code of the carried object; 0 when the hands are empty. */
  carried = 0;
  /** What ends the episode with success. */
  objective: Objective = { kind: 'goal' };
  /** The mission in words. */
  mission = '';

  /** An empty `width` x `height` world (every cell empty, no walls). */
  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.grid = new Uint16Array(width * height).fill(EMPTY);
  }

  /** Cell index of (x, y). */
  index(x: number, y: number): number {
    return x * this.height + y;
  }

  /** True if (x, y) is on the grid. */
  inside(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  /** Code at (x, y); walls outside the grid (as MiniGrid's slices). */
  get(x: number, y: number): number {
    return this.inside(x, y) ? this.grid[x * this.height + y]! : WALL;
  }

  /** Sets the code at (x, y). */
  set(x: number, y: number, code: number): void {
    this.grid[x * this.height + y] = code;
  }

  /** Cell index of the agent. */
  get agentCell(): number {
    return this.agentX * this.height + this.agentY;
  }

  /** Cell index in front of the agent when facing `dir`; -1 off the grid. */
  frontCell(dir: number = this.dir): number {
    const x = this.agentX + DX[dir]!;
    const y = this.agentY + DY[dir]!;
    return x >= 0 && y >= 0 && x < this.width && y < this.height ? x * this.height + y : -1;
  }

  /** Code in front of the agent when facing `dir` (a wall off the grid). */
  front(dir: number = this.dir): number {
    const f = this.frontCell(dir);
    return f < 0 ? WALL : this.grid[f]!;
  }

  /**
   * Applies one primitive operation with MiniGrid's rules and returns an {@link EVENT} code:
   * turning always changes the direction; moving enters passable cells (goal: success, lava:
   * failure); an absolute move turns to its direction and enters the cell there if it can;
   * pickup takes a key/ball/box in front into empty hands; drop puts the carried object on an
   * empty cell in front; toggle opens/closes a door (a locked one opens only with a key of its
   * colour in hand, which stays in hand) or opens a box, which is replaced by its content.
   */
  apply(op: number): number {
    switch (op) {
      case OP.left:
        this.dir = (this.dir + 3) & 3;
        return EVENT.changed;
      case OP.right:
        this.dir = (this.dir + 1) & 3;
        return EVENT.changed;
      case OP.forward:
        return this.moveForward();
      case OP.north:
      case OP.south:
      case OP.east:
      case OP.west: {
        const d = MOVE_DIRECTION[op - OP.north]!;
        if (this.dir === d) return this.moveForward();
        this.dir = d;
        const moved = this.moveForward();
        return moved === EVENT.none ? EVENT.changed : moved;
      }
      case OP.pickup: {
        const f = this.frontCell();
        if (f < 0 || this.carried !== 0) return EVENT.none;
        const code = this.grid[f]!;
        if (!isPickable(code)) return EVENT.none;
        this.carried = code;
        this.grid[f] = EMPTY;
        const objective = this.objective;
        return objective.kind === 'pickup' && objectOf(code) === objective.object
          ? EVENT.success
          : EVENT.changed;
      }
      case OP.drop: {
        const f = this.frontCell();
        if (f < 0 || this.carried === 0 || this.grid[f] !== EMPTY) return EVENT.none;
        this.grid[f] = this.carried;
        this.carried = 0;
        return EVENT.changed;
      }
      case OP.toggle:
        return this.toggle();
      default:
        return EVENT.none; // done: no effect, as MiniGrid
    }
  }

  /** True if {@link GridWorld.apply} of `op` would change the state (the action mask). */
  changes(op: number): boolean {
    switch (op) {
      case OP.left:
      case OP.right:
        return true;
      case OP.forward:
        return isPassable(this.front());
      case OP.north:
      case OP.south:
      case OP.east:
      case OP.west: {
        const d = MOVE_DIRECTION[op - OP.north]!;
        return this.dir !== d || isPassable(this.front(d));
      }
      case OP.pickup:
        return this.carried === 0 && isPickable(this.front());
      case OP.drop:
        return this.carried !== 0 && this.front() === EMPTY;
      case OP.toggle: {
        const code = this.front();
        const t = code & TYPE_MASK;
        if (t === OBJECT.box) return true;
        if (t !== OBJECT.door) return false;
        return stateOf(code) !== DOOR.locked || this.holdsKeyFor(code);
      }
      default:
        return false;
    }
  }

  /** True if the agent carries a key of the door's colour. */
  holdsKeyFor(doorCode: number): boolean {
    return typeOf(this.carried) === OBJECT.key && colorOf(this.carried) === colorOf(doorCode);
  }

  /** Copies grid, agent, carried object, objective and mission from a world of the same size. */
  copyFrom(other: GridWorld): void {
    this.grid.set(other.grid);
    this.agentX = other.agentX;
    this.agentY = other.agentY;
    this.dir = other.dir;
    this.carried = other.carried;
    this.objective = other.objective;
    this.mission = other.mission;
  }

  /** An independent copy. */
  clone(): GridWorld {
    const copy = new GridWorld(this.width, this.height);
    copy.copyFrom(this);
    return copy;
  }

  // ---- layout helpers for generators -------------------------------------------------------------

  /** Fills every cell with `code`. */
  fill(code: number): void {
    this.grid.fill(code);
  }

  /** A horizontal run of `length` cells of `code` from (x, y). */
  horizontalWall(x: number, y: number, length = this.width - x, code = WALL): void {
    for (let i = 0; i < length; i++) this.set(x + i, y, code);
  }

  /** A vertical run of `length` cells of `code` from (x, y). */
  verticalWall(x: number, y: number, length = this.height - y, code = WALL): void {
    for (let j = 0; j < length; j++) this.set(x, y + j, code);
  }

  /** The outline of the `w` x `h` rectangle with corner (x, y). */
  wallRect(x: number, y: number, w: number, h: number, code = WALL): void {
    this.horizontalWall(x, y, w, code);
    this.horizontalWall(x, y + h - 1, w, code);
    this.verticalWall(x, y, h, code);
    this.verticalWall(x + w - 1, y, h, code);
  }

  /**
   * Puts `code` on a random empty cell of the rectangle (x, y, w, h) that is not the agent's cell
   * and not rejected by `reject` (MiniGrid's `place_obj`); returns the cell index.
   * @throws {@link InvalidOptionError} after 10000 failed draws (the rectangle is full).
   */
  placeObject(
    rng: Rng,
    code: number,
    x = 0,
    y = 0,
    w = this.width,
    h = this.height,
    reject?: (cx: number, cy: number) => boolean,
  ): number {
    const x0 = Math.max(x, 0);
    const y0 = Math.max(y, 0);
    const x1 = Math.min(x + w, this.width);
    const y1 = Math.min(y + h, this.height);
    for (let tries = 0; tries < 10000; tries++) {
      const cx = rng.integer(x0, x1);
      const cy = rng.integer(y0, y1);
      if (this.grid[cx * this.height + cy] !== EMPTY) continue;
      if (cx === this.agentX && cy === this.agentY) continue;
      if (reject?.(cx, cy) === true) continue;
      this.grid[cx * this.height + cy] = code;
      return cx * this.height + cy;
    }
    throw new InvalidOptionError(
      'placement rectangle',
      [x, y, w, h],
      'a rectangle with a free empty cell',
    );
  }

  /**
   * Puts the agent on a random empty cell of the rectangle (MiniGrid's `place_agent`), facing a
   * random direction unless `dir` is given.
   */
  placeAgent(rng: Rng, x = 0, y = 0, w = this.width, h = this.height, dir?: number): void {
    this.agentX = -1;
    this.agentY = -1;
    const cell = this.placeObject(rng, EMPTY, x, y, w, h);
    this.agentX = Math.floor(cell / this.height);
    this.agentY = cell % this.height;
    this.dir = dir ?? rng.integer(4);
  }

  private moveForward(): number {
    const f = this.frontCell();
    if (f < 0) return EVENT.none;
    const code = this.grid[f]!;
    if (!isPassable(code)) return EVENT.none;
    this.agentX += DX[this.dir]!;
    this.agentY += DY[this.dir]!;
    const t = code & TYPE_MASK;
    if (t === OBJECT.goal) return EVENT.success;
    if (t === OBJECT.lava) return EVENT.failure;
    return EVENT.changed;
  }

  private toggle(): number {
    const f = this.frontCell();
    if (f < 0) return EVENT.none;
    const code = this.grid[f]!;
    const t = code & TYPE_MASK;
    if (t === OBJECT.box) {
      const content = contentOf(code);
      this.grid[f] = content === 0 ? EMPTY : content;
      return EVENT.changed;
    }
    if (t !== OBJECT.door) return EVENT.none;
    const state = stateOf(code);
    let next: number;
    if (state === DOOR.locked) {
      if (!this.holdsKeyFor(code)) return EVENT.none;
      next = DOOR.open;
    } else {
      next = state === DOOR.open ? DOOR.closed : DOOR.open;
    }
    this.grid[f] = (code & ~(3 << 7)) | (next << 7);
    const objective = this.objective;
    if (objective.kind === 'open' && objective.cell === f && next === DOOR.open)
      return EVENT.success;
    return EVENT.changed;
  }
}
