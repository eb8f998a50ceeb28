import test from 'ava';
import { make } from '../../../envs/core/registry.js';
import { DOOR, OBJECT, colorOf, stateOf, typeOf } from '../../../envs/gridnav/world.js';
import { checkSolvableLevels, inner } from './helpers.js';

const SEEDS = 200;

for (const [roomSize, rows] of [
  [3, 1],
  [3, 2],
  [3, 3],
  [4, 3],
  [5, 3],
  [6, 3],
] as const) {
  const id = `GridNav-KeyCorridor-S${roomSize}R${rows}-v0`;
  test(`KeyCorridor-S${roomSize}R${rows}: 200 seeds give solvable levels; the ball lies behind the one locked door`, (t) => {
    checkSolvableLevels(t, id, SEEDS);
    const env = make(id);
    env.reset({ seed: 4 });
    const world = inner(env).snapshotWorld();
    const locked = world.grid.filter(
      (c) => typeOf(c) === OBJECT.door && stateOf(c) === DOOR.locked,
    );
    t.is(locked.length, 1);
    const keys = Array.from(world.grid).filter((c) => typeOf(c) === OBJECT.key);
    t.deepEqual(keys.map(colorOf), [colorOf(locked[0]!)], 'one key, of the locked door’s colour');
    t.regex(world.mission, /^pick up the \w+ ball$/);
    t.is(world.objective.kind, 'pickup');
  });
}
