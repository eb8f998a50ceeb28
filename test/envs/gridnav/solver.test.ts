import test from 'ava';
import {
  ABSOLUTE_OPS,
  EGOCENTRIC_OPS,
  type GridNavEnv,
} from '../../../envs/gridnav/gridnav-env.js';
import { BlockedUnlockPickupEnv } from '../../../envs/gridnav/blocked-unlock-pickup.js';
import { DoorKeyEnv } from '../../../envs/gridnav/door-key.js';
import { KeyCorridorEnv } from '../../../envs/gridnav/key-corridor.js';
import { TaskKEnv } from '../../../envs/gridnav/task-k.js';
import { UnlockEnv } from '../../../envs/gridnav/unlock.js';
import { distanceMap, isNavigationOnly, solve } from '../../../envs/gridnav/solver.js';
import { EmptyEnv } from '../../../envs/gridnav/empty.js';
import { FourRoomsEnv } from '../../../envs/gridnav/four-rooms.js';
import { LavaCrossingEnv } from '../../../envs/gridnav/lava-crossing.js';
import { EVENT, OP, type GridWorld } from '../../../envs/gridnav/world.js';
import { Rng } from '../../../envs/core/rng.js';
import { worldFrom } from './fixtures.js';

/** Plays `actions` on a copy of `world`; returns the events. */
function play(world: GridWorld, ops: ArrayLike<number>, actions: readonly number[]): number[] {
  const w = world.clone();
  return actions.map((a) => w.apply(ops[a]!));
}

function length(world: GridWorld, ops: ArrayLike<number>, prune = true): number | null {
  return solve(world, ops, { prune })?.actions.length ?? null;
}

test('a straight corridor takes one action per cell; facing away costs two turns egocentrically', (t) => {
  const w = worldFrom(['######', '#<..G#', '######']);
  t.is(length(w, ABSOLUTE_OPS), 3);
  t.is(length(w, EGOCENTRIC_OPS), 5);
});

test('a locked door counts the key pickup, the turns and the toggle (counted by hand: 8)', (t) => {
  const w = worldFrom(['#######', '#.k#..#', '#>.L.G#', '#######']);
  const abs = solve(w, ABSOLUTE_OPS)!;
  t.is(abs.actions.length, 8);
  const events = play(w, ABSOLUTE_OPS, abs.actions);
  t.is(events.at(-1), EVENT.success);
  t.false(events.slice(0, -1).includes(EVENT.none), 'no action of an optimal plan is wasted');
  t.is(length(w, EGOCENTRIC_OPS), 8);
});

test('an object blocking a one-wide corridor is carried past only with turns in place', (t) => {
  // The key must be picked up and put down behind the agent to reach the ball. With compass moves
  // the agent cannot face the free cell behind it without stepping into it.
  const w = worldFrom(['######', '#>kb.#', '######']);
  w.objective = { kind: 'pickup', object: w.get(3, 1) };
  t.is(length(w, EGOCENTRIC_OPS), 8);
  t.is(solve(w, ABSOLUTE_OPS), null);
});

test('boxes are opened in place and their content picked up', (t) => {
  const level = worldFrom(['########', '#>X.L.G#', '########']);
  // toggle the box, pick up the key it held, two moves, toggle the door, three moves to the goal
  t.is(length(level, ABSOLUTE_OPS), 8);
  t.is(length(level, ABSOLUTE_OPS, false), 8);
});

test('lava is never entered and unsolvable levels give null', (t) => {
  const w = worldFrom(['#####', '#>~G#', '#####']);
  t.is(solve(w, ABSOLUTE_OPS), null);
  const around = worldFrom(['#####', '#>~G#', '#...#', '#####']);
  t.is(length(around, ABSOLUTE_OPS), 4);
});

test('the distance map gives the fewest actions to stand on every cell', (t) => {
  const w = worldFrom(['#######', '#.k#..#', '#>.L..#', '#######']);
  const d = distanceMap(w, ABSOLUTE_OPS, 50);
  t.is(d[w.index(1, 2)], 0);
  t.is(d[w.index(2, 2)], 1);
  t.is(d[w.index(4, 2)], 7, 'beyond the locked door: one less than reaching a goal there');
  t.is(d[w.index(5, 1)], 9);
  t.is(d[w.index(3, 1)], -1, 'walls are never stood on');
  const shallow = distanceMap(w, ABSOLUTE_OPS, 3);
  t.is(shallow[w.index(4, 2)], -1, 'beyond the depth limit');
});

/** Random states of an environment: after reset and after random walks (objects moved, doors opened). */
function* states(env: GridNavEnv, seeds: number, walks: number): Generator<GridWorld> {
  const rng = new Rng(17);
  for (let seed = 0; seed < seeds; seed++) {
    env.reset({ seed });
    yield env.snapshotWorld();
    for (let s = 0; s < walks; s++) {
      const r = env.step(rng.integer(env.actionSpace.n));
      if (r.terminated) break;
      if (s % 10 === 9) yield env.snapshotWorld();
    }
  }
}

test('the dominance rules never change the optimal length (pruned and exhaustive search agree)', (t) => {
  let compared = 0;
  const cases: [GridNavEnv, number, number][] = [
    [new DoorKeyEnv({ size: 5 }), 25, 40],
    [new DoorKeyEnv({ size: 5, actions: 'egocentric' }), 25, 40],
    [new UnlockEnv(), 15, 30],
    [new UnlockEnv({ actions: 'egocentric' }), 10, 30],
    [new KeyCorridorEnv({ roomSize: 3, rows: 1 }), 20, 30],
    [new KeyCorridorEnv({ roomSize: 3, rows: 2, actions: 'egocentric' }), 10, 20],
    [new BlockedUnlockPickupEnv(), 8, 20],
    [new TaskKEnv({ k: 7 }), 15, 20],
  ];
  for (const [env, seeds, walks] of cases) {
    const ops = env.config.actions === 'absolute' ? ABSOLUTE_OPS : EGOCENTRIC_OPS;
    for (const world of states(env, seeds, walks)) {
      t.is(length(world, ops, true), length(world, ops, false));
      compared++;
    }
  }
  t.true(compared > 150);
});

test('every plan the solver returns reaches the objective with no wasted action', (t) => {
  for (const env of [
    new KeyCorridorEnv({ roomSize: 4 }),
    new BlockedUnlockPickupEnv({ actions: 'egocentric' }),
  ]) {
    const ops = env.config.actions === 'absolute' ? ABSOLUTE_OPS : EGOCENTRIC_OPS;
    for (const world of states(env, 5, 30)) {
      const plan = solve(world, ops);
      if (plan === null) continue;
      const events = play(world, ops, plan.actions);
      t.is(events.at(-1), EVENT.success);
      t.false(events.slice(0, -1).some((e) => e !== EVENT.changed));
    }
  }
  t.is(OP.done, 6);
});

test('the navigation-only shortcut finds the same lengths as the full search', (t) => {
  let compared = 0;
  const envs: GridNavEnv[] = [
    new FourRoomsEnv(),
    new FourRoomsEnv({ actions: 'egocentric' }),
    new LavaCrossingEnv({ size: 11, crossings: 5 }),
    new LavaCrossingEnv({ size: 9, crossings: 3, actions: 'egocentric' }),
    new EmptyEnv({ randomStart: true, actions: 'egocentric' }),
  ];
  for (const env of envs) {
    const ops = env.config.actions === 'absolute' ? ABSOLUTE_OPS : EGOCENTRIC_OPS;
    for (const world of states(env, 12, 30)) {
      t.true(isNavigationOnly(world));
      const fast = solve(world, ops);
      t.is(fast?.actions.length, solve(world, ops, { navigationShortcut: false })?.actions.length);
      if (fast !== null) t.is(play(world, ops, fast.actions).at(-1), EVENT.success);
      compared++;
    }
  }
  t.true(compared > 100);
  t.false(isNavigationOnly(worldFrom(['#####', '#>kG#', '#####'])));
});
