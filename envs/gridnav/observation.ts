/**
 * GridNav observations, written straight into float32 arrays (no intermediate objects):
 * - symbolic: the whole grid as MiniGrid's `(object, colour, state)` codes in (x, y, channel)
 *   order with the agent's cell marked `(agent, red, direction)` as MiniGrid's FullyObsWrapper
 *   does, then six numbers: agent x, agent y, direction, carried type, carried colour, carried state
 *   (carried type 0 when the hands are empty);
 * - egocentric: MiniGrid's `image`, a `view x view x 3` window in front of the agent, rotated so
 *   the agent looks up from the middle of the bottom row, with MiniGrid's occlusion (`process_vis`:
 *   walls and shut doors hide what lies behind them; hidden cells are `(0, 0, 0)`, unseen) and the
 *   carried object shown in the agent's own cell.
 */
import { Box } from '../core/space.js';
import {
  COLORS,
  DOOR,
  DX,
  DY,
  EMPTY,
  OBJECT,
  WALL,
  colorOf,
  stateOf,
  typeOf,
  type GridWorld,
} from './world.js';

// Module-local copies of the hot constants: under loaders that turn imports into getters (tsx),
// reading an imported binding inside a per-cell loop costs more than the loop itself.
const WALL_CODE: number = WALL;
const EMPTY_CODE: number = EMPTY;
const AGENT_TYPE: number = OBJECT.agent;
const WALL_TYPE: number = OBJECT.wall;
const DOOR_TYPE: number = OBJECT.door;
const STEP_X: readonly number[] = [...DX];
const STEP_Y: readonly number[] = [...DY];

/** Numbers after the grid in a symbolic observation: x, y, direction, carried type/colour/state. */
export const SYMBOLIC_EXTRA = 6;

/** The symbolic observation space of a `width` x `height` world. */
export function symbolicSpace(width: number, height: number): Box {
  const cells = width * height;
  const size = cells * 3 + SYMBOLIC_EXTRA;
  const high = new Float32Array(size);
  for (let i = 0; i < cells; i++) {
    high[i * 3] = OBJECT.agent;
    high[i * 3 + 1] = COLORS.length - 1;
    high[i * 3 + 2] = 3; // a door state (0..2), or the agent's direction (0..3) in its own cell
  }
  const tail = cells * 3;
  high[tail] = width - 1;
  high[tail + 1] = height - 1;
  high[tail + 2] = 3;
  high[tail + 3] = OBJECT.box;
  high[tail + 4] = COLORS.length - 1;
  high[tail + 5] = 0;
  return new Box({ low: 0, high, shape: [size] });
}

/** The egocentric observation space for a `view` x `view` window. */
export function egocentricSpace(view: number): Box {
  const size = view * view * 3;
  const high = new Float32Array(size);
  for (let i = 0; i < view * view; i++) {
    high[i * 3] = OBJECT.agent;
    high[i * 3 + 1] = COLORS.length - 1;
    high[i * 3 + 2] = DOOR.locked;
  }
  return new Box({ low: 0, high, shape: [view, view, 3] });
}

/** Writes the symbolic observation of `world` into `out` (length `width * height * 3 + 6`). */
export function encodeSymbolic(world: GridWorld, out: Float32Array): Float32Array {
  const grid = world.grid;
  const n = grid.length;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const code = grid[i]!;
    out[o] = code & 15;
    out[o + 1] = (code >> 4) & 7;
    out[o + 2] = (code >> 7) & 3;
  }
  const a = (world.agentX * world.height + world.agentY) * 3;
  out[a] = AGENT_TYPE;
  out[a + 1] = 0;
  out[a + 2] = world.dir;
  const tail = n * 3;
  out[tail] = world.agentX;
  out[tail + 1] = world.agentY;
  out[tail + 2] = world.dir;
  const carried = world.carried;
  out[tail + 3] = carried === 0 ? 0 : typeOf(carried);
  out[tail + 4] = carried === 0 ? 0 : colorOf(carried);
  out[tail + 5] = carried === 0 ? 0 : stateOf(carried);
  return out;
}

/**
 * Reusable scratch space for egocentric views (one per environment, so the hot path allocates
 * only the observation it returns).
 */
export class ViewScratch {
  /** Window side in cells. */
  readonly view: number;
  /** Codes of the window, index `vx * view + vy`. */
  readonly codes: Uint16Array;
  /** 1 where visible, index `vx * view + vy`. */
  readonly mask: Uint8Array;

  /** Scratch for a `view` x `view` window. */
  constructor(view: number) {
    this.view = view;
    this.codes = new Uint16Array(view * view);
    this.mask = new Uint8Array(view * view);
  }
}

/**
 * Fills `scratch` with the agent's window (codes and visibility). The window cell (vx, vy) lies
 * `view - 1 - vy` cells ahead of the agent and `vx - floor(view / 2)` cells to its right; cells
 * off the grid read as walls.
 */
export function computeView(world: GridWorld, scratch: ViewScratch): void {
  const v = scratch.view;
  const codes = scratch.codes;
  const mask = scratch.mask;
  const half = v >> 1;
  const d = world.dir;
  const fx = STEP_X[d]!;
  const fy = STEP_Y[d]!;
  const w = world.width;
  const h = world.height;
  const grid = world.grid;
  // Column vx runs from the far row (vy = 0, v - 1 cells ahead) back to the agent's row.
  let i = 0;
  for (let vx = 0; vx < v; vx++) {
    const r = vx - half;
    let x = world.agentX + (v - 1) * fx - r * fy; // right-hand side is (-fy, fx)
    let y = world.agentY + (v - 1) * fy + r * fx;
    for (let vy = 0; vy < v; vy++, i++) {
      codes[i] = x >= 0 && y >= 0 && x < w && y < h ? grid[x * h + y]! : WALL_CODE;
      x -= fx;
      y -= fy;
    }
  }
  // MiniGrid's process_vis: sweep rows from the agent's row outward, spreading visibility
  // sideways and one row further through cells that do not block sight (walls and shut doors do).
  mask.fill(0);
  mask[half * v + v - 1] = 1;
  for (let vy = v - 1; vy >= 0; vy--) {
    for (let vx = 0, k = vy; vx < v - 1; vx++, k += v) {
      if (mask[k] === 0 || blocksSight(codes[k]!)) continue;
      mask[k + v] = 1;
      if (vy > 0) {
        mask[k + v - 1] = 1;
        mask[k - 1] = 1;
      }
    }
    for (let vx = v - 1, k = (v - 1) * v + vy; vx > 0; vx--, k -= v) {
      if (mask[k] === 0 || blocksSight(codes[k]!)) continue;
      mask[k - v] = 1;
      if (vy > 0) {
        mask[k - v - 1] = 1;
        mask[k - 1] = 1;
      }
    }
  }
  // The agent sees what it carries in its own cell.
  codes[half * v + v - 1] = world.carried === 0 ? EMPTY_CODE : world.carried;
}

/** Walls, and doors that are not open (MiniGrid: not `see_behind`). */
function blocksSight(code: number): boolean {
  const t = code & 15;
  return t === WALL_TYPE || (t === DOOR_TYPE && (code & 0x180) !== 0);
}

/** Writes the egocentric observation (MiniGrid's `image`, (x, y, channel) order) into `out`. */
export function encodeEgocentric(
  world: GridWorld,
  scratch: ViewScratch,
  out: Float32Array,
): Float32Array {
  computeView(world, scratch);
  const codes = scratch.codes;
  const mask = scratch.mask;
  const n = codes.length;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    if (mask[i] === 0) continue; // unseen: (0, 0, 0), already zero in a fresh array
    const code = codes[i]!;
    out[o] = code & 15;
    out[o + 1] = (code >> 4) & 7;
    out[o + 2] = (code >> 7) & 3;
  }
  return out;
}

/**
 * The world cells the agent sees in its egocentric window, as a Uint8Array over the grid (1 =
 * visible). The agent's own cell is visible.
 */
export function visibleCells(world: GridWorld, view: number): Uint8Array {
  const scratch = new ViewScratch(view);
  computeView(world, scratch);
  const out = new Uint8Array(world.width * world.height);
  const half = view >> 1;
  const d = world.dir;
  for (let vx = 0; vx < view; vx++) {
    for (let vy = 0; vy < view; vy++) {
      if (scratch.mask[vx * view + vy] === 0) continue;
      const f = view - 1 - vy;
      const r = vx - half;
      const x = world.agentX + f * DX[d]! - r * DY[d]!;
      const y = world.agentY + f * DY[d]! + r * DX[d]!;
      if (world.inside(x, y)) out[world.index(x, y)] = 1;
    }
  }
  return out;
}
