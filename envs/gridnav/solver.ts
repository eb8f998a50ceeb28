/**
 * The GridNav oracle: breadth-first search over the full state — agent cell, direction, carried
 * object and every cell of the grid (door states, opened boxes, objects picked up or dropped) — with
 * the world's own rules ({@link GridWorld.apply}), so the length it returns is the true shortest number
 * of actions in the given action set.
 *
 * States are grouped by "configuration" (grid + carried object): moving and turning stay inside a
 * configuration, whose visited set is one dense Int32Array over (cell, direction); pickup, drop and
 * toggle lead to another configuration, interned by a 53-bit incremental hash with an exact
 * comparison on every hit.
 *
 * Two dominance rules keep the search small without changing its answer (`prune: false` turns them
 * off, and the tests check both agree):
 * - a door is never closed: an open door only lets more happen than a closed one;
 * - an object is dropped only if another pickable object (or the dropped box's content) is then
 *   within reach: otherwise the next pickup can only take the same object back, and "drop o … pick
 *   o up again" with nothing picked up in between is never shorter than keeping o in hand.
 */
import * as rules from './world.js';
import { GridWorld } from './world.js';

// Local bindings of the world's constants and predicates: loaders that compile imports into getters
// (tsx does) would otherwise make every use in the search's inner loops a function call.
const {
  DOOR,
  EVENT,
  MOVE_DIRECTION,
  OBJECT,
  OP,
  WALL,
  contentOf,
  isPassable,
  isPickable,
  stateOf,
  typeOf,
} = rules;

/** Options of {@link solve} and {@link distanceMap}. */
export interface SolveOptions {
  /** Apply the dominance rules described in the module documentation. @defaultValue true */
  prune?: boolean;
  /** Search (cell, direction) only when nothing can be interacted with (see {@link isNavigationOnly}). @defaultValue true */
  navigationShortcut?: boolean;
}

/** What {@link solve} found: a shortest action sequence and how many states it looked at. */
export interface SolveResult {
  /** Action indices (into the `ops` table given to the solver), first to last. */
  actions: number[];
  /** States expanded. */
  expanded: number;
}

/**
 * A shortest sequence of actions that achieves `world.objective` (reaching a goal cell, picking up
 * the target, opening the target door) from the world's current state; `null` if none exists.
 * `ops[a]` is the world operation of action `a` (see `OP`).
 */
export function solve(
  world: GridWorld,
  ops: ArrayLike<number>,
  options: SolveOptions = {},
): SolveResult | null {
  if ((options.navigationShortcut ?? true) && isNavigationOnly(world)) return navigate(world, ops);
  const search = new Search(world, ops, options.prune ?? true);
  return search.run(Infinity, undefined);
}

/**
 * True when nothing in the world can be interacted with (no doors, keys, balls or boxes, empty
 * hands) and the objective is a goal cell: then only moving and turning matter.
 */
export function isNavigationOnly(world: GridWorld): boolean {
  if (world.carried !== 0 || world.objective.kind !== 'goal') return false;
  for (const code of world.grid) {
    const t = code & 15;
    if (t === OBJECT.door || t === OBJECT.key || t === OBJECT.ball || t === OBJECT.box)
      return false;
  }
  return true;
}

/**
 * The same breadth-first search restricted to moves and turns, over (cell, direction) only, for
 * navigation-only worlds (see {@link isNavigationOnly}), where pickup, drop and toggle never act.
 */
function navigate(world: GridWorld, ops: ArrayLike<number>): SolveResult | null {
  const h = world.height;
  const w = world.width;
  const grid = world.grid;
  const states = w * h * 4;
  const parent = new Int32Array(states).fill(-1);
  const via = new Uint8Array(states);
  const queue = new Int32Array(states);
  const moves: number[] = [];
  let turns = false;
  for (let a = 0; a < ops.length; a++) {
    const op = ops[a]!;
    if (op === OP.left || op === OP.right) turns = true;
    if (op === OP.left || op === OP.right || op === OP.forward || (op >= OP.north && op <= OP.west))
      moves.push(a);
  }
  // With compass moves the direction only matters for interactions, so it is left out of the state.
  const start = world.agentCell * 4 + (turns ? world.dir : 0);
  parent[start] = start;
  queue[0] = start;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const state = queue[head++]!;
    const cell = state >> 2;
    const dir = state & 3;
    const x = Math.floor(cell / h);
    const y = cell - x * h;
    for (const a of moves) {
      const op = ops[a]!;
      let d = dir;
      let move: boolean;
      if (op === OP.left) {
        d = (dir + 3) & 3;
        move = false;
      } else if (op === OP.right) {
        d = (dir + 1) & 3;
        move = false;
      } else if (op === OP.forward) {
        move = true;
      } else {
        d = MOVE_DIRECTION[op - OP.north]!;
        move = true;
      }
      let next = cell;
      if (move) {
        const nx = x + (d === 0 ? 1 : d === 2 ? -1 : 0);
        const ny = y + (d === 1 ? 1 : d === 3 ? -1 : 0);
        const code = nx >= 0 && ny >= 0 && nx < w && ny < h ? grid[nx * h + ny]! : WALL;
        if (!isPassable(code)) continue; // a blocked compass move only turns, which serves nothing here
        const t = code & 15;
        if (t === OBJECT.lava) continue;
        next = nx * h + ny;
        if (t === OBJECT.goal) {
          const actions = [a];
          for (let s = state; parent[s] !== s; s = parent[s]!) actions.push(via[s]!);
          actions.reverse();
          return { actions, expanded: tail };
        }
      }
      const to = next * 4 + (turns ? d : 0);
      if (to === state || parent[to] !== -1) continue;
      parent[to] = state;
      via[to] = a;
      queue[tail++] = to;
    }
  }
  return null;
}

/**
 * For every cell, the fewest actions after which the agent can stand on it, searching at most
 * `maxDepth` actions deep; -1 where it cannot within that depth. Success events are ignored, lava
 * is never entered. Used by generators to place a goal at an exact distance.
 */
export function distanceMap(
  world: GridWorld,
  ops: ArrayLike<number>,
  maxDepth: number,
  options: SolveOptions = {},
): Int32Array {
  const search = new Search(world, ops, options.prune ?? true);
  const out = new Int32Array(world.width * world.height).fill(-1);
  out[world.agentCell] = 0;
  search.run(maxDepth, out);
  return out;
}

const INITIAL_NODES = 4096;

class Search {
  private readonly world: GridWorld;
  private readonly ops: ArrayLike<number>;
  private readonly prune: boolean;
  private readonly height: number;
  private readonly cells: number;
  private readonly scratch: GridWorld;

  // Configurations.
  private readonly grids: Uint16Array[] = [];
  private readonly carried: number[] = [];
  private readonly hashA: number[] = [];
  private readonly hashB: number[] = [];
  private readonly visited: (Int32Array | undefined)[] = [];
  private readonly reach: (Reach | undefined)[] = [];
  private readonly index = new Map<number, number[]>();

  // Nodes, in discovery (= breadth-first) order.
  private nodeConfig: Int32Array = new Int32Array(INITIAL_NODES);
  private nodeCell: Int32Array = new Int32Array(INITIAL_NODES);
  private nodeDir: Uint8Array = new Uint8Array(INITIAL_NODES);
  private nodeParent: Int32Array = new Int32Array(INITIAL_NODES);
  private nodeAction: Uint8Array = new Uint8Array(INITIAL_NODES);
  private nodeDepth: Int32Array = new Int32Array(INITIAL_NODES);
  private count = 0;

  constructor(world: GridWorld, ops: ArrayLike<number>, prune: boolean) {
    this.world = world;
    this.ops = ops;
    this.prune = prune;
    this.height = world.height;
    this.cells = world.width * world.height;
    this.scratch = new GridWorld(world.width, world.height);
    this.scratch.objective = world.objective;
  }

  run(maxDepth: number, distances: Int32Array | undefined): SolveResult | null {
    const world = this.world;
    const root = world.grid.slice();
    let a = carriedHashA(world.carried);
    let b = carriedHashB(world.carried);
    for (let c = 0; c < this.cells; c++) {
      a ^= cellHashA(c, root[c]!);
      b ^= cellHashB(c, root[c]!);
    }
    const rootConfig = this.intern(root, world.carried, a, b);
    this.visit(rootConfig, world.agentCell, world.dir, -1, 0, 0);

    const ops = this.ops;
    const nActions = ops.length;
    const scratch = this.scratch;
    const h = this.height;
    let head = 0;
    while (head < this.count) {
      const node = head++;
      const depth = this.nodeDepth[node]!;
      if (depth >= maxDepth) continue;
      const config = this.nodeConfig[node]!;
      const cell = this.nodeCell[node]!;
      const dir = this.nodeDir[node]!;
      const grid = this.grids[config]!;
      const carried = this.carried[config]!;
      const ax = Math.floor(cell / h);
      const ay = cell - ax * h;
      for (let action = 0; action < nActions; action++) {
        const op = ops[action]!;
        if (op === OP.done) continue;
        scratch.grid = grid;
        scratch.carried = carried;
        scratch.agentX = ax;
        scratch.agentY = ay;
        scratch.dir = dir;
        if (op === OP.pickup || op === OP.drop || op === OP.toggle) {
          if (!scratch.changes(op)) continue;
          const f = scratch.frontCell();
          const before = grid[f]!;
          if (
            this.prune &&
            op === OP.toggle &&
            typeOf(before) === OBJECT.door &&
            stateOf(before) === DOOR.open
          ) {
            continue;
          }
          if (this.prune && op === OP.drop && !this.dropIsUseful(config, cell, carried)) continue;
          const next = grid.slice();
          scratch.grid = next;
          const event = scratch.apply(op);
          if (event === EVENT.success) {
            if (distances === undefined) return this.plan(node, action);
            continue;
          }
          const after = next[f]!;
          const held = scratch.carried;
          const hashA =
            this.hashA[config]! ^
            cellHashA(f, before) ^
            cellHashA(f, after) ^
            carriedHashA(carried) ^
            carriedHashA(held);
          const hashB =
            this.hashB[config]! ^
            cellHashB(f, before) ^
            cellHashB(f, after) ^
            carriedHashB(carried) ^
            carriedHashB(held);
          const target = this.intern(next, held, hashA, hashB);
          if (
            this.visit(target, cell, dir, node, action, depth + 1) &&
            distances !== undefined &&
            distances[cell]! < 0
          ) {
            distances[cell] = depth + 1;
          }
        } else {
          const event = scratch.apply(op);
          if (event === EVENT.none || event === EVENT.failure) continue;
          if (event === EVENT.success) {
            if (distances === undefined) return this.plan(node, action);
            continue;
          }
          const to = scratch.agentX * h + scratch.agentY;
          if (
            this.visit(config, to, scratch.dir, node, action, depth + 1) &&
            distances !== undefined &&
            distances[to]! < 0
          ) {
            distances[to] = depth + 1;
          }
        }
      }
    }
    return null;
  }

  /** Adds the node unless already visited; returns whether it was new. */
  private visit(
    config: number,
    cell: number,
    dir: number,
    parent: number,
    action: number,
    depth: number,
  ): boolean {
    let seen = this.visited[config];
    if (seen === undefined) {
      seen = new Int32Array(this.cells * 4);
      this.visited[config] = seen;
    }
    const k = cell * 4 + dir;
    if (seen[k] !== 0) return false;
    if (this.count === this.nodeConfig.length) this.grow();
    const id = this.count++;
    seen[k] = id + 1;
    this.nodeConfig[id] = config;
    this.nodeCell[id] = cell;
    this.nodeDir[id] = dir;
    this.nodeParent[id] = parent;
    this.nodeAction[id] = action;
    this.nodeDepth[id] = depth;
    return true;
  }

  private grow(): void {
    const size = this.nodeConfig.length * 2;
    const growInt = (a: Int32Array): Int32Array => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    const growByte = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(size);
      b.set(a);
      return b;
    };
    this.nodeConfig = growInt(this.nodeConfig);
    this.nodeCell = growInt(this.nodeCell);
    this.nodeDir = growByte(this.nodeDir);
    this.nodeParent = growInt(this.nodeParent);
    this.nodeAction = growByte(this.nodeAction);
    this.nodeDepth = growInt(this.nodeDepth);
  }

  private intern(grid: Uint16Array, carried: number, hashA: number, hashB: number): number {
    const key = (hashA >>> 0) * 2097152 + (hashB >>> 11);
    const bucket = this.index.get(key);
    if (bucket !== undefined) {
      for (const id of bucket) {
        if (this.carried[id] === carried && sameGrid(this.grids[id]!, grid)) return id;
      }
    }
    const id = this.grids.length;
    this.grids.push(grid);
    this.carried.push(carried);
    this.hashA.push(hashA);
    this.hashB.push(hashB);
    this.visited.push(undefined);
    this.reach.push(undefined);
    if (bucket === undefined) this.index.set(key, [id]);
    else bucket.push(id);
    return id;
  }

  private plan(node: number, lastAction: number): SolveResult {
    const actions = [lastAction];
    for (let n = node; this.nodeParent[n]! >= 0; n = this.nodeParent[n]!)
      actions.push(this.nodeAction[n]!);
    actions.reverse();
    return { actions, expanded: this.count };
  }

  /**
   * Whether dropping `dropped` can be part of a shortest plan, judged on the configuration before
   * the drop (`config`, agent on `cell`): true if the dropped box holds something, or if another
   * pickable object borders the region the agent can walk with empty hands. Blocking the drop cell
   * only shrinks that region, so a drop judged useless here is useless after it too.
   */
  private dropIsUseful(config: number, cell: number, dropped: number): boolean {
    if (typeOf(dropped) === OBJECT.box && contentOf(dropped) !== 0) return true;
    let reach = this.reach[config];
    if (reach === undefined) {
      reach = components(this.grids[config]!, this.world.width, this.height);
      this.reach[config] = reach;
    }
    return reach.objects[reach.label[cell]!]! >= 1;
  }
}

interface Reach {
  /** Component of every walkable cell (-1 elsewhere). */
  label: Int32Array;
  /** Distinct pickable objects next to each component. */
  objects: Int32Array;
}

/**
 * Connected regions of cells the agent can walk through with empty hands (empty, floor, open or
 * closed-but-unlocked doors), and how many pickable objects border each.
 */
function components(grid: Uint16Array, width: number, height: number): Reach {
  const cells = width * height;
  const label = new Int32Array(cells).fill(-1);
  const counted = new Int32Array(cells).fill(-1);
  const objects: number[] = [];
  const stack = new Int32Array(cells);
  for (let start = 0; start < cells; start++) {
    if (label[start] !== -1 || !walkable(grid[start]!)) continue;
    const id = objects.length;
    let n = 0;
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const c = stack[--top]!;
      const x = Math.floor(c / height);
      const y = c - x * height;
      for (let d = 0; d < 4; d++) {
        const nx = x + (d === 0 ? 1 : d === 2 ? -1 : 0);
        const ny = y + (d === 1 ? 1 : d === 3 ? -1 : 0);
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const nc = nx * height + ny;
        const code = grid[nc]!;
        if (isPickable(code)) {
          if (counted[nc] !== id) {
            counted[nc] = id;
            n++;
          }
        } else if (label[nc] === -1 && walkable(code)) {
          label[nc] = id;
          stack[top++] = nc;
        }
      }
    }
    objects.push(n);
  }
  return { label, objects: Int32Array.from(objects) };
}

function walkable(code: number): boolean {
  const t = typeOf(code);
  return (
    t === OBJECT.empty || t === OBJECT.floor || (t === OBJECT.door && stateOf(code) !== DOOR.locked)
  );
}

function sameGrid(a: Uint16Array, b: Uint16Array): boolean {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

function fmix(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function cellHashA(cell: number, code: number): number {
  return fmix(Math.imul(cell + 1, 0x9e3779b1) ^ code);
}

function cellHashB(cell: number, code: number): number {
  return fmix(Math.imul(cell + 7, 0x7feb352d) ^ Math.imul(code + 3, 0x846ca68b));
}

function carriedHashA(code: number): number {
  return fmix(0x5bd1e995 ^ Math.imul(code + 11, 0x27d4eb2f));
}

function carriedHashB(code: number): number {
  return fmix(0x1b873593 ^ Math.imul(code + 17, 0x165667b1));
}
