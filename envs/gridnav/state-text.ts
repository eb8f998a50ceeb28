/**
 * The canonical state text of GridNav's symbolic observation (`observation: 'symbolic'`): the agent
 * (position, heading, what it carries) and every cell that can change or that a plan must know of
 * (doors with their colour and state, keys, balls, boxes, the goal, lava), one line each. Walls and
 * floor tiles are not spelled out: decoding takes them from a reference state. What a language
 * prior is shown and answers in, and what wmgym-lm's corpus is written in.
 *
 * ```
 * agent: 3,4
 * facing: east
 * carrying: yellow key
 * walls: north
 * door at 5,2: yellow locked
 * key at 2,6: blue
 * goal at 6,6: green
 * ```
 *
 * ## Lines          `agent: x,y`, `facing: east|south|west|north`, `carrying: nothing` or
 *                   `carrying: <colour> <object>`, `walls: none` or the directions (east, south,
 *                   west, north) whose neighbouring cell is a wall or off the grid (what blocks a
 *                   move; derived from the cells, so decode checks it and takes the walls from the
 *                   reference), then one `<object> at x,y: <colour>[ <state>]`
 *                   line per listed cell, in the observation's cell order (x, then y). Coordinates
 *                   are the grid's (x east, y south, from 0). A door's state is `open`, `closed` or
 *                   `locked`; an agent marker's is its heading; any other non-zero state is
 *                   `state <n>`. Object and colour names are MiniGrid's (`OBJECT_NAMES`, `COLORS`).
 * ## Listed cells   doors, keys, balls, boxes, goals, lava, agent markers other than the agent's own
 *                   `(agent, red, heading)` at its position, empty cells with a non-zero colour or
 *                   state, and the agent's cell whenever it does not hold that marker. So the text of
 *                   any vector of the observation space (an imagined one with two agent markers, say)
 *                   reads back to that vector; the environment's own states list doors, objects,
 *                   goals and lava only. Not listed: walls, floor tiles, unseen and plain empty cells.
 * ## Decode         `decode(text, reference)` rebuilds the full vector: cells of the reference that
 *                   hold a wall, a floor tile, the goal, lava or nothing seen are kept; cells that
 *                   hold something that can change or move (empty, door, key, ball, box, agent marker)
 *                   become empty; then the agent's marker is written at its position and every listed
 *                   cell as listed (a listed cell overrides what the reference holds there). So the
 *                   text of the next state, decoded with the current state as reference, gives the
 *                   next state: a picked-up key is no longer listed, its cell becomes empty; an open
 *                   door the agent stood on (hidden under its marker) is listed again once it leaves.
 *                   The agent, facing and carrying lines are required (`walls` is optional); each
 *                   cell and each of those lines at most once;
 *                   blank lines and spaces around a line are ignored. Anything else throws
 *                   {@link StateTextParseError} naming the line.
 * ## Commands       `commandText(action)`: the action's name (`north`, `pickup`, `toggle`, ...; `left`,
 *                   `forward` with the egocentric set), which the environment's `parseCommand` reads.
 * @example
 * const env = make('GridNav-DoorKey-5x5-v0');
 * const codec = gridNavStateText(env);
 * const { observation } = env.reset({ seed: 1 });
 * codec.decode(codec.encode(observation), observation); // equal to observation
 */
import { envId, type Env } from '../core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
  formatValue,
} from '../core/errors.js';
import type { Box } from '../core/space.js';
import { ABSOLUTE_ACTIONS, GridNavEnv } from './gridnav-env.js';
import { SYMBOLIC_EXTRA, symbolicSpace } from './observation.js';
import {
  COLORS,
  DIRECTION_NAMES,
  DOOR_STATE_NAMES,
  DX,
  DY,
  OBJECT,
  OBJECT_NAMES,
} from './world.js';

/** Options of {@link GridNavStateText}. */
export interface GridNavStateTextOptions {
  /** Grid width in cells. */
  width: number;
  /** Grid height in cells. */
  height: number;
  /** The environment the text speaks of (for messages). @defaultValue `GridNav` */
  envId?: string;
  /** Command of each action index. @defaultValue the absolute action set's names */
  actionNames?: readonly string[];
}

/** Object types whose reference cells decoding keeps (the text need not list them). */
const KEPT: ReadonlySet<number> = new Set([
  OBJECT.unseen,
  OBJECT.wall,
  OBJECT.floor,
  OBJECT.goal,
  OBJECT.lava,
]);
/** Object types the text lists wherever they are. */
const LISTED: ReadonlySet<number> = new Set([
  OBJECT.door,
  OBJECT.key,
  OBJECT.ball,
  OBJECT.box,
  OBJECT.goal,
  OBJECT.lava,
  OBJECT.agent,
]);
const TYPE_INDEX: ReadonlyMap<string, number> = new Map(OBJECT_NAMES.map((n, i) => [n, i]));
const COLOR_INDEX: ReadonlyMap<string, number> = new Map(COLORS.map((n, i) => [n, i]));
const DIRECTION_INDEX: ReadonlyMap<string, number> = new Map(DIRECTION_NAMES.map((n, i) => [n, i]));
const DOOR_INDEX: ReadonlyMap<string, number> = new Map(DOOR_STATE_NAMES.map((n, i) => [n, i]));
/** The most an observation's carried type may be (a box). */
const MAX_CARRIED = OBJECT.box;

const HEADER = /^(agent|facing|carrying|walls)\s*:\s*(.*)$/;
const POSITION = /^(\d+)\s*,\s*(\d+)$/;
const ITEM = /^([a-z]+) at (\d+)\s*,\s*(\d+)\s*:\s*([a-z]+)(?:\s+(.+))?$/;

/** The state-text codec of one GridNav grid size; see the module comment. */
export class GridNavStateText {
  /** The environment the text speaks of (for messages). */
  readonly envId: string;
  /** Grid width. */
  readonly width: number;
  /** Grid height. */
  readonly height: number;
  /** Entries in a state: `width * height * 3 + 6`. */
  readonly size: number;
  private readonly space: Box;
  private readonly actionNames: readonly string[];

  /** @throws {@link InvalidOptionError} for a size that is not a positive integer or an empty action list. */
  constructor(options: GridNavStateTextOptions) {
    for (const key of ['width', 'height'] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < 1 || v > 1000)
        throw new InvalidOptionError(`GridNavStateText ${key}`, v, 'an integer in 1..1000');
    }
    const names = options.actionNames ?? ABSOLUTE_ACTIONS;
    if (names.length === 0 || !names.every((n) => typeof n === 'string' && n !== ''))
      throw new InvalidOptionError(
        'GridNavStateText actionNames',
        names,
        'a non-empty list of command texts',
      );
    this.envId = options.envId ?? 'GridNav';
    this.width = options.width;
    this.height = options.height;
    this.space = symbolicSpace(this.width, this.height);
    this.size = this.space.size;
    this.actionNames = Object.freeze([...names]);
  }

  /**
   * The canonical text of `state` (any vector of the symbolic observation space).
   * @throws {@link InvalidValueError} for another length or an entry outside the space.
   */
  encode(state: ArrayLike<number>): string {
    this.check(state, `state for the state text of ${this.envId}`);
    const h = this.height;
    const tail = this.size - SYMBOLIC_EXTRA;
    const ax = state[tail]!;
    const ay = state[tail + 1]!;
    const dir = state[tail + 2]!;
    const lines = [
      `agent: ${ax},${ay}`,
      `facing: ${DIRECTION_NAMES[dir]!}`,
      `carrying: ${carriedText(state[tail + 3]!, state[tail + 4]!)}`,
      `walls: ${this.wallsAround(state, ax, ay)}`,
    ];
    for (let x = 0; x < this.width; x++) {
      for (let y = 0; y < h; y++) {
        const o = (x * h + y) * 3;
        const t = state[o]!;
        const c = state[o + 1]!;
        const s = state[o + 2]!;
        const listed =
          x === ax && y === ay
            ? !(t === OBJECT.agent && c === 0 && s === dir)
            : LISTED.has(t) || (t === OBJECT.empty && (c !== 0 || s !== 0));
        if (listed) lines.push(`${OBJECT_NAMES[t]!} at ${x},${y}: ${cellTail(t, c, s)}`);
      }
    }
    return lines.join('\n');
  }

  /**
   * The state a text describes, walls and the other kept cells taken from `reference` (see the
   * module comment).
   * @throws {@link StateTextParseError} for text that does not parse.
   * @throws {@link InvalidValueError} for a reference outside the observation space.
   */
  decode(text: string, reference: ArrayLike<number>): Float32Array {
    this.check(reference, `reference state for the state text of ${this.envId}`);
    const what = `state text of ${this.envId}`;
    if (typeof text !== 'string')
      throw new StateTextParseError(what, undefined, String(text), 'a string');
    const w = this.width;
    const h = this.height;
    const out = Float32Array.from(reference);
    for (let i = 0; i < w * h; i++) {
      if (KEPT.has(out[i * 3]!)) continue;
      out[i * 3] = OBJECT.empty;
      out[i * 3 + 1] = 0;
      out[i * 3 + 2] = 0;
    }
    let agent: [number, number] | undefined;
    let facing: number | undefined;
    let carried: [number, number] | undefined;
    const headerLine: Record<string, number> = {};
    const cells = new Map<number, { code: [number, number, number]; line: number }>();
    const lines = text.split('\n');
    const fail = (k: number, line: string, allowed: string): never => {
      throw new StateTextParseError(what, k + 1, line, allowed);
    };
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!.trim();
      if (line === '') continue;
      const header = HEADER.exec(line);
      if (header !== null) {
        const key = header[1]!;
        const value = header[2]!.trim();
        if (headerLine[key] !== undefined)
          fail(k, line, `one "${key}:" line (there is one at line ${headerLine[key]})`);
        headerLine[key] = k + 1;
        if (key === 'agent') {
          const p = POSITION.exec(value);
          const x = p === null ? -1 : Number(p[1]);
          const y = p === null ? -1 : Number(p[2]);
          if (!(x >= 0 && x < w && y >= 0 && y < h))
            fail(k, line, `"agent: x,y" with x in 0..${w - 1} and y in 0..${h - 1}`);
          agent = [x, y];
        } else if (key === 'walls') {
          // Derived from the reference's walls, so only checked, never written.
          const names = value === 'none' ? [] : value.split(',').map((d) => d.trim());
          if (names.length === 0 ? value !== 'none' : !names.every((d) => DIRECTION_INDEX.has(d)))
            fail(
              k,
              line,
              `"walls: none" or "walls: " and directions of ${DIRECTION_NAMES.join(', ')}`,
            );
        } else if (key === 'facing') {
          facing = DIRECTION_INDEX.get(value);
          if (facing === undefined) fail(k, line, `"facing: ${DIRECTION_NAMES.join('|')}"`);
        } else {
          carried = parseCarried(value);
          if (carried === undefined)
            fail(
              k,
              line,
              `"carrying: nothing" or "carrying: <colour> <object>" with a colour of ${COLORS.join(', ')} and an object of ${OBJECT_NAMES.slice(0, MAX_CARRIED + 1).join(', ')}`,
            );
        }
        continue;
      }
      const item = ITEM.exec(line);
      if (item === null)
        fail(
          k,
          line,
          '"agent: x,y", "facing: <direction>", "carrying: ..." or "<object> at x,y: <colour>[ <state>]"',
        );
      const [, typeName, xs, ys, colorName, stateText] = item!;
      const t = TYPE_INDEX.get(typeName!);
      if (t === undefined) fail(k, line, `an object of ${OBJECT_NAMES.join(', ')} before " at"`);
      const x = Number(xs);
      const y = Number(ys);
      if (!(x < w && y < h)) fail(k, line, `a cell x,y with x in 0..${w - 1} and y in 0..${h - 1}`);
      const c = COLOR_INDEX.get(colorName!);
      if (c === undefined) fail(k, line, `a colour of ${COLORS.join(', ')} after ":"`);
      const s = parseCellState(t!, stateText?.trim());
      if (s === undefined) fail(k, line, cellStateAllowed(t!));
      const cell = x * h + y;
      const earlier = cells.get(cell);
      if (earlier !== undefined)
        fail(k, line, `one line per cell (${x},${y} is at line ${earlier.line})`);
      cells.set(cell, { code: [t!, c!, s!], line: k + 1 });
    }
    const missing = (['agent', 'facing', 'carrying'] as const).filter(
      (key) => headerLine[key] === undefined,
    );
    if (missing.length > 0)
      throw new StateTextParseError(
        what,
        undefined,
        text,
        'an "agent: x,y", a "facing: <direction>" and a "carrying: ..." line',
        `Missing: ${missing.map((m) => `"${m}:"`).join(', ')}`,
      );
    const [ax, ay] = agent!;
    const a = (ax * h + ay) * 3;
    out[a] = OBJECT.agent;
    out[a + 1] = 0;
    out[a + 2] = facing!;
    for (const [cell, { code }] of cells) out.set(code, cell * 3);
    const tail = this.size - SYMBOLIC_EXTRA;
    out[tail] = ax;
    out[tail + 1] = ay;
    out[tail + 2] = facing!;
    out[tail + 3] = carried![0];
    out[tail + 4] = carried![1];
    out[tail + 5] = 0;
    return out;
  }

  /** The directions (east, south, west, north) whose neighbour of (x, y) is a wall or off the grid. */
  private wallsAround(state: ArrayLike<number>, x: number, y: number): string {
    const found = DIRECTION_NAMES.filter((_, d) => {
      const nx = x + DX[d]!;
      const ny = y + DY[d]!;
      if (nx < 0 || ny < 0 || nx >= this.width || ny >= this.height) return true;
      return state[(nx * this.height + ny) * 3] === OBJECT.wall;
    });
    return found.length === 0 ? 'none' : found.join(', ');
  }

  /**
   * The command of an action index (the action's name).
   * @throws {@link InvalidValueError} for an index out of range.
   */
  commandText(action: number | ArrayLike<number>): string {
    const a = typeof action === 'number' ? action : action[0];
    if (a === undefined || !Number.isInteger(a) || a < 0 || a >= this.actionNames.length)
      throw new InvalidValueError(
        `action for the commands of ${this.envId}`,
        formatValue(action),
        `an integer in [0, ${this.actionNames.length - 1}]`,
      );
    return this.actionNames[a]!;
  }

  private check(state: ArrayLike<number>, what: string): void {
    if (!isVector(state) || state.length !== this.size)
      throw new InvalidValueError(
        what,
        formatValue(state),
        `${this.size} integers of the symbolic observation of a ${this.width}x${this.height} grid`,
      );
    const high = this.space.high;
    for (let i = 0; i < this.size; i++) {
      const v = state[i]!;
      if (!(Number.isInteger(v) && v >= 0 && v <= high[i]!))
        throw new InvalidValueError(
          `${what} (entry ${i})`,
          formatValue(v),
          `an integer in [0, ${high[i]!}]`,
        );
    }
  }
}

/**
 * The state-text codec of a GridNav environment with the symbolic observation (wrappers allowed
 * if they keep its observations).
 * @throws {@link InvalidOptionError} for another environment, the egocentric observation, or a wrapper that changes the observation space.
 */
export function gridNavStateText(env: Env): GridNavStateText {
  const inner = env.unwrapped;
  if (!(inner instanceof GridNavEnv))
    throw new InvalidOptionError('gridNavStateText env', envId(env), 'a GridNav environment');
  if (inner.config.observation !== 'symbolic')
    throw new InvalidOptionError(
      `gridNavStateText env (${envId(env)}) observation`,
      inner.config.observation,
      '"symbolic" (the egocentric view is not a state: it does not say what lies behind the agent)',
    );
  if (!env.observationSpace.equals(inner.observationSpace))
    throw new InvalidOptionError(
      'gridNavStateText env',
      String(env.observationSpace),
      `the symbolic observation space of ${envId(env)} itself: the text names its cells, so no wrapper may change them`,
    );
  const tail = inner.observationSpace.size - SYMBOLIC_EXTRA;
  return new GridNavStateText({
    width: inner.observationSpace.high[tail]! + 1,
    height: inner.observationSpace.high[tail + 1]! + 1,
    envId: envId(env),
    actionNames: inner.actionNames,
  });
}

function carriedText(type: number, color: number): string {
  return type === 0 && color === 0 ? 'nothing' : `${COLORS[color]!} ${OBJECT_NAMES[type]!}`;
}

function parseCarried(value: string): [number, number] | undefined {
  if (value === 'nothing') return [0, 0];
  const parts = value.split(/\s+/);
  if (parts.length !== 2) return undefined;
  const c = COLOR_INDEX.get(parts[0]!);
  const t = TYPE_INDEX.get(parts[1]!);
  return c === undefined || t === undefined || t > MAX_CARRIED ? undefined : [t, c];
}

/** `<colour>[ <state>]` of a listed cell. */
function cellTail(t: number, c: number, s: number): string {
  const color = COLORS[c]!;
  if (t === OBJECT.door)
    return `${color} ${s < DOOR_STATE_NAMES.length ? DOOR_STATE_NAMES[s]! : `state ${s}`}`;
  if (t === OBJECT.agent) return `${color} ${DIRECTION_NAMES[s]!}`;
  return s === 0 ? color : `${color} state ${s}`;
}

/** The state a cell line gives (undefined: not allowed for the object). */
function parseCellState(t: number, text: string | undefined): number | undefined {
  if (text === undefined) return t === OBJECT.door || t === OBJECT.agent ? undefined : 0;
  const n = /^state\s+([0-3])$/.exec(text);
  if (n !== null) return Number(n[1]);
  if (t === OBJECT.door) return DOOR_INDEX.get(text);
  if (t === OBJECT.agent) return DIRECTION_INDEX.get(text);
  return undefined;
}

function cellStateAllowed(t: number): string {
  if (t === OBJECT.door) return 'a door line ending in its state: open, closed or locked';
  if (t === OBJECT.agent)
    return `an agent marker line ending in its heading: ${DIRECTION_NAMES.join(', ')}`;
  return 'nothing after the colour, or "state <0..3>"';
}

/** A typed array or an array (what a state vector may come as). */
function isVector(value: unknown): value is ArrayLike<number> {
  return (ArrayBuffer.isView(value) && !(value instanceof DataView)) || Array.isArray(value);
}
