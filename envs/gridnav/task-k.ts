/**
 * Task-k: levels whose shortest solution is exactly `k` actions (in the configured action set),
 * for long-horizon experiments. A room is cut by one or two barriers — a wall with a closed door, a
 * wall with a locked door whose key lies on the near side, or a river of lava with one gap — and
 * sprinkled with lava; the agent starts on one side and the goal lies beyond every barrier, so `k`
 * counts fetching keys, opening doors and detours around lava, not just distance. Each level is
 * drawn from the seeded generator, the goal is put on a cell the breadth-first search reaches in
 * exactly `k` actions, and the level is solved again to confirm it; layouts that cannot give `k`
 * are redrawn. (Keys are never put inside boxes here: a box can be carried and dropped anywhere,
 * which multiplies the states the exact search must visit.)
 * ## Mission        names the barriers, e.g. "avoid the lava, unlock the yellow door with the yellow key
 *                   and get to the green goal square"
 * ## Max steps      4 * size², size = max(7, ceil(k / 2) + 5) (see {@link taskKSize}); with another k than
 *                   the id's, pass `maxEpisodeSteps: 4 * taskKSize(k) ** 2` to `make` as well
 * @example const env = make('GridNav-Task-k10-v0'); const { info } = env.reset({ seed: 0 }); // info.optimalSteps === 10
 */
import { InvalidOptionError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { GridNavEnv, type GeneratedLevel, type GridNavOptions } from './gridnav-env.js';
import { distanceMap, solve } from './solver.js';
import { COLORS, EMPTY, GOAL, LAVA, WALL, doorCode, keyCode, type GridWorld } from './world.js';

/** The smallest k a Task-k level can have. */
export const TASK_K_MIN = 3;
/** The largest k accepted. */
export const TASK_K_MAX = 200;

/** Side of a Task-k room (walls included) for a given k. */
export function taskKSize(k: number): number {
  return Math.max(7, Math.ceil(k / 2) + 5);
}

/** Options of {@link TaskKEnv}. */
export interface TaskKOptions extends GridNavOptions {
  /** The exact length of the shortest solution (3..200). @defaultValue 10 */
  k?: number;
}

/** A barrier across the room. */
type Barrier = 'lava' | 'door' | 'locked';

const MAX_ATTEMPTS = 20000;
/** Fewest actions each barrier needs beyond plain walking, and the smallest k it is used for. */
const MIN_K_FOR: Record<Barrier, number> = { lava: 3, door: 3, locked: 7 };

/** Levels with a shortest solution of exactly k actions. */
export class TaskKEnv extends GridNavEnv {
  /** The exact optimal length. */
  readonly k: number;
  /** Side of the room. */
  readonly size: number;
  /** Layouts drawn for the current level (1 when the first one gave exactly k). */
  generationAttempts = 0;

  /** @throws {@link InvalidOptionError} for k outside 3..200 (below 3 no barrier fits) or an unknown option. */
  constructor(options: TaskKOptions = {}) {
    const k = options.k ?? 10;
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < TASK_K_MIN || k > TASK_K_MAX) {
      throw new InvalidOptionError(
        'options.k of TaskKEnv',
        k,
        `an integer in ${TASK_K_MIN}..${TASK_K_MAX}`,
        `the smallest level with a barrier takes ${TASK_K_MIN} actions`,
      );
    }
    const size = taskKSize(k);
    super('TaskKEnv', size, size, 4 * size * size, options, ['k']);
    this.k = k;
    this.size = size;
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const k = this.k;
    const n = this.size;
    const ops = this.actionOps;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      this.generationAttempts = attempt + 1;
      world.fill(EMPTY);
      world.carried = 0;
      world.objective = { kind: 'goal' };
      world.wallRect(0, 0, n, n);
      const vertical = rng.integer(2) === 0;
      // Coordinate along the cut axis of every cell, and the barriers' coordinates.
      const twoBarriers = k >= 12 && n >= 9 && rng.random() < 0.5;
      const cuts = twoBarriers ? twoCuts(rng, n) : [rng.integer(2, n - 2)];
      const startLow = rng.integer(2) === 0;
      const barriers: Barrier[] = [];
      let keyUsed = false;
      for (const _cut of cuts) {
        const allowed = (['lava', 'door', 'locked'] as const).filter(
          (kind) => MIN_K_FOR[kind] <= k && !(keyUsed && kind === 'locked'),
        );
        const kind = rng.choice(allowed);
        if (kind === 'locked') keyUsed = true;
        barriers.push(kind);
      }
      // Order barriers as the agent meets them.
      const ordered = startLow ? cuts : [...cuts].reverse();
      const at = (u: number, t: number): [number, number] => (vertical ? [u, t] : [t, u]);
      // Region 0 is the start side, region `cuts.length` the far side; -1 on a barrier line.
      const regionOf = (x: number, y: number): number => {
        const u = vertical ? x : y;
        if (ordered.includes(u)) return -1;
        let r = 0;
        for (const c of ordered) if (startLow ? u > c : u < c) r++;
        return r;
      };
      let keyColor = -1;
      let keyRegionLimit = 0;
      const openings: [number, number][] = [];
      for (let b = 0; b < ordered.length; b++) {
        const u = ordered[b]!;
        const kind = barriers[b]!;
        const gap = rng.integer(1, n - 1);
        for (let t = 1; t < n - 1; t++) {
          const [x, y] = at(u, t);
          world.set(x, y, kind === 'lava' ? LAVA : WALL);
        }
        const [gx, gy] = at(u, gap);
        openings.push([gx, gy]);
        if (kind === 'lava') world.set(gx, gy, EMPTY);
        else if (kind === 'door') world.set(gx, gy, doorCode(rng.integer(COLORS.length), 'closed'));
        else {
          keyColor = rng.integer(COLORS.length);
          keyRegionLimit = b;
          world.set(gx, gy, doorCode(keyColor, 'locked'));
        }
      }
      // Lava puddles anywhere off the barriers.
      const puddles = rng.integer(0, Math.floor(((n - 2) * (n - 2)) / 16) + 1);
      for (let p = 0; p < puddles; p++) {
        const x = rng.integer(1, n - 1);
        const y = rng.integer(1, n - 1);
        if (world.get(x, y) === EMPTY && !isNextTo(openings, x, y)) world.set(x, y, LAVA);
      }
      // The key on the near side of its door.
      if (keyColor >= 0) {
        const region = rng.integer(keyRegionLimit + 1);
        const free = cellsWhere(
          world,
          (x, y) => world.get(x, y) === EMPTY && regionOf(x, y) === region,
        );
        if (free.length === 0) continue;
        const [kx, ky] = rng.choice(free);
        world.set(kx, ky, keyCode(keyColor));
      }
      // The agent on the start side, near enough to the first opening for small k.
      const [ox, oy] = openings[0]!;
      const reachRadius = Math.max(1, k - 1);
      const starts = cellsWhere(
        world,
        (x, y) =>
          world.get(x, y) === EMPTY &&
          regionOf(x, y) === 0 &&
          Math.abs(x - ox) + Math.abs(y - oy) <= reachRadius,
      );
      if (starts.length === 0) continue;
      const [sx, sy] = rng.choice(starts);
      world.agentX = sx;
      world.agentY = sy;
      world.dir = rng.integer(4);
      // A goal beyond every barrier at exactly k actions.
      const distances = distanceMap(world, ops, k);
      const far = ordered.length;
      const goals = cellsWhere(
        world,
        (x, y) =>
          distances[world.index(x, y)] === k && world.get(x, y) === EMPTY && regionOf(x, y) === far,
      );
      if (goals.length === 0) continue;
      const [gx, gy] = rng.choice(goals);
      world.set(gx, gy, GOAL);
      const solution = solve(world, ops);
      if (solution?.actions.length !== k) continue;
      world.mission = missionFor(barriers, keyColor, world.grid.includes(LAVA));
      return { plan: solution.actions };
    }
    throw new InvalidOptionError(
      'options.k of TaskKEnv',
      k,
      `a k for which a level was found in ${MAX_ATTEMPTS} attempts`,
    );
  }
}

/** Two barrier coordinates in 2..n-3, at least two apart (so a region lies between them). */
function twoCuts(rng: Rng, n: number): number[] {
  const a = rng.integer(2, n - 4);
  const b = rng.integer(a + 2, n - 2);
  return [a, b];
}

function isNextTo(points: readonly [number, number][], x: number, y: number): boolean {
  return points.some(([px, py]) => Math.abs(px - x) + Math.abs(py - y) <= 1);
}

function cellsWhere(world: GridWorld, keep: (x: number, y: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let x = 1; x < world.width - 1; x++) {
    for (let y = 1; y < world.height - 1; y++) if (keep(x, y)) out.push([x, y]);
  }
  return out;
}

function missionFor(barriers: readonly Barrier[], keyColor: number, lava: boolean): string {
  const parts: string[] = [];
  if (lava) parts.push('avoid the lava');
  for (const b of barriers) {
    if (b === 'door') parts.push('open the door');
    else if (b === 'locked')
      parts.push(`unlock the ${COLORS[keyColor]!} door with the ${COLORS[keyColor]!} key`);
  }
  const unique = [...new Set(parts)];
  unique.push('get to the green goal square');
  return unique.length === 1
    ? unique[0]!
    : `${unique.slice(0, -1).join(', ')} and ${unique[unique.length - 1]!}`;
}
