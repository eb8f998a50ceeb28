import test from 'ava';
import { Rng } from '../../../envs/core/rng.js';
import { KeyCorridorEnv } from '../../../envs/gridnav/key-corridor.js';
import { BlockedUnlockPickupEnv } from '../../../envs/gridnav/blocked-unlock-pickup.js';
import {
  SYMBOLIC_EXTRA,
  ViewScratch,
  egocentricSpace,
  encodeEgocentric,
  encodeSymbolic,
  symbolicSpace,
  visibleCells,
} from '../../../envs/gridnav/observation.js';
import {
  COLOR,
  DOOR,
  EMPTY,
  OBJECT,
  WALL,
  keyCode,
  type GridWorld,
} from '../../../envs/gridnav/world.js';
import { worldFrom } from './fixtures.js';

function egocentric(world: GridWorld, view: number): Float32Array {
  return encodeEgocentric(world, new ViewScratch(view), new Float32Array(view * view * 3));
}

/** (type, colour, state) at view cell (vx, vy) of an egocentric observation. */
function at(obs: Float32Array, view: number, vx: number, vy: number): number[] {
  const o = (vx * view + vy) * 3;
  return [obs[o]!, obs[o + 1]!, obs[o + 2]!];
}

/**
 * MiniGrid's own procedure, written out literally as a reference: slice the grid (walls outside),
 * rotate left dir + 1 times, process_vis, put the carried object in the agent's cell, encode.
 */
function referenceView(world: GridWorld, view: number): Float32Array {
  const ax = world.agentX;
  const ay = world.agentY;
  const half = Math.floor(view / 2);
  const [topX, topY] = [
    [ax, ay - half],
    [ax - half, ay],
    [ax - view + 1, ay - half],
    [ax - half, ay - view + 1],
  ][world.dir]!;
  let grid: number[][] = []; // grid[i][j], i = x
  for (let i = 0; i < view; i++) {
    grid.push([]);
    for (let j = 0; j < view; j++) grid[i]!.push(world.get(topX! + i, topY! + j));
  }
  for (let r = 0; r < world.dir + 1; r++) {
    const rotated: number[][] = Array.from({ length: view }, () => new Array<number>(view).fill(0));
    for (let i = 0; i < view; i++)
      for (let j = 0; j < view; j++) rotated[j]![view - 1 - i] = grid[i]![j]!;
    grid = rotated;
  }
  const seeBehind = (code: number): boolean =>
    (code & 15) !== OBJECT.wall &&
    !((code & 15) === OBJECT.door && ((code >> 7) & 3) !== DOOR.open);
  const mask = Array.from({ length: view }, () => new Array<boolean>(view).fill(false));
  mask[half]![view - 1] = true;
  for (let j = view - 1; j >= 0; j--) {
    for (let i = 0; i < view - 1; i++) {
      if (!mask[i]![j] || !seeBehind(grid[i]![j]!)) continue;
      mask[i + 1]![j] = true;
      if (j > 0) {
        mask[i + 1]![j - 1] = true;
        mask[i]![j - 1] = true;
      }
    }
    for (let i = view - 1; i > 0; i--) {
      if (!mask[i]![j] || !seeBehind(grid[i]![j]!)) continue;
      mask[i - 1]![j] = true;
      if (j > 0) {
        mask[i - 1]![j - 1] = true;
        mask[i]![j - 1] = true;
      }
    }
  }
  grid[half]![view - 1] = world.carried === 0 ? EMPTY : world.carried;
  const out = new Float32Array(view * view * 3);
  for (let i = 0; i < view; i++) {
    for (let j = 0; j < view; j++) {
      if (!mask[i]![j]) continue;
      const code = grid[i]![j]!;
      out.set([code & 15, (code >> 4) & 7, (code >> 7) & 3], (i * view + j) * 3);
    }
  }
  return out;
}

test('the egocentric view puts the agent at the bottom middle looking up, right-hand side to the right', (t) => {
  const w = worldFrom(['#####', '#>k.#', '#b..#', '#...#', '#####']);
  const obs = egocentric(w, 3);
  t.deepEqual(at(obs, 3, 1, 1), [OBJECT.key, COLOR.yellow, 0], 'one step ahead (east)');
  t.deepEqual(at(obs, 3, 2, 2), [OBJECT.ball, COLOR.blue, 0], 'on the right (south)');
  t.deepEqual(at(obs, 3, 0, 2), [OBJECT.wall, COLOR.grey, 0], 'on the left (north)');
  t.deepEqual(at(obs, 3, 1, 2), [OBJECT.empty, 0, 0], 'the agent cell shows empty hands');
  t.deepEqual(at(obs, 3, 1, 0), [OBJECT.empty, 0, 0], 'two steps ahead');
});

test('the egocentric view shows the carried object in the agent cell', (t) => {
  const w = worldFrom(['#####', '#.^.#', '#####']);
  w.carried = keyCode(COLOR.red);
  t.deepEqual(at(egocentric(w, 3), 3, 1, 2), [OBJECT.key, COLOR.red, 0]);
});

test('walls and shut doors hide what lies behind them; open doors do not', (t) => {
  const rows = ['#######', '#.....#', '#.....#', '###D###', '#..^..#', '#######'];
  const closed = egocentric(worldFrom(rows), 5);
  // Rows vy = 0..2 are beyond the wall row (vy = 3): unseen.
  for (let vx = 0; vx < 5; vx++)
    for (let vy = 0; vy < 3; vy++) t.deepEqual(at(closed, 5, vx, vy), [0, 0, 0]);
  t.deepEqual(
    at(closed, 5, 2, 3),
    [OBJECT.door, COLOR.yellow, DOOR.closed],
    'the door itself is seen',
  );
  const opened = egocentric(worldFrom(rows.map((r) => r.replace('D', '_'))), 5);
  t.deepEqual(at(opened, 5, 2, 2), [OBJECT.empty, 0, 0], 'through an open door');
  t.deepEqual(at(opened, 5, 2, 1), [OBJECT.empty, 0, 0]);
});

test('the egocentric view matches MiniGrid’s slice-rotate-process_vis procedure everywhere', (t) => {
  const rng = new Rng(5);
  let compared = 0;
  for (const env of [new KeyCorridorEnv({ roomSize: 4 }), new BlockedUnlockPickupEnv()]) {
    for (let seed = 0; seed < 10; seed++) {
      env.reset({ seed });
      for (let s = 0; s < 60; s++) {
        const r = env.step(rng.integer(env.actionSpace.n));
        if (r.terminated) break;
        const world = env.snapshotWorld();
        for (const view of [3, 5, 7, 9]) {
          t.deepEqual(egocentric(world, view), referenceView(world, view));
          compared++;
        }
      }
    }
  }
  t.true(compared > 1000);
});

test('visibleCells marks the world cells of the visible part of the view', (t) => {
  const w = worldFrom(['#######', '#.....#', '###D###', '#..^..#', '#######']);
  const seen = visibleCells(w, 5);
  t.is(seen[w.index(3, 3)], 1, 'the agent cell');
  t.is(seen[w.index(3, 2)], 1, 'the door');
  t.is(seen[w.index(3, 1)], 0, 'behind the closed door');
});

test('the symbolic observation is the grid in (x, y, channel) order, the agent marked, then six numbers', (t) => {
  const w = worldFrom(['####', '#v.#', '#.k#', '####']);
  w.carried = keyCode(COLOR.red);
  const out = encodeSymbolic(w, new Float32Array(4 * 4 * 3 + SYMBOLIC_EXTRA));
  const cell = (x: number, y: number): number[] => [
    ...out.subarray((x * 4 + y) * 3, (x * 4 + y) * 3 + 3),
  ];
  t.deepEqual(cell(0, 0), [OBJECT.wall, COLOR.grey, 0]);
  t.deepEqual(cell(2, 2), [OBJECT.key, COLOR.yellow, 0]);
  t.deepEqual(cell(1, 1), [OBJECT.agent, 0, 1], 'the agent as MiniGrid’s FullyObsWrapper marks it');
  t.deepEqual([...out.subarray(48)], [1, 1, 1, OBJECT.key, COLOR.red, 0]);
  t.true(symbolicSpace(4, 4).contains(out));
  t.is(WALL, (COLOR.grey << 4) | OBJECT.wall);
});

test('observation spaces bound every code', (t) => {
  const space = egocentricSpace(7);
  t.deepEqual(space.shape, [7, 7, 3]);
  t.is(space.high[0], OBJECT.agent);
  t.is(space.high[1], 5);
  t.is(space.high[2], DOOR.locked);
  t.deepEqual(symbolicSpace(5, 6).shape, [5 * 6 * 3 + 6]);
});
