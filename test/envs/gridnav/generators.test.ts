import test from 'ava';
import { make } from '../../../envs/core/registry.js';
import { OBJECT, DOOR, typeOf, stateOf, colorOf, COLOR } from '../../../envs/gridnav/world.js';
import { checkSolvableLevels, inner } from './helpers.js';

const SEEDS = 200;

function countTypes(id: string, seed: number): Map<number, number> {
  const env = make(id);
  env.reset({ seed });
  const counts = new Map<number, number>();
  for (const code of inner(env).snapshotWorld().grid)
    counts.set(typeOf(code), (counts.get(typeOf(code)) ?? 0) + 1);
  return counts;
}

for (const size of [5, 8, 16]) {
  test(`Empty-${size}x${size}: 200 seeds give solvable levels whose oracle plan reaches the goal in optimalSteps`, (t) => {
    const lengths = checkSolvableLevels(t, `GridNav-Empty-${size}x${size}-v0`, SEEDS);
    t.true(
      lengths.every((n) => n === 2 * (size - 3)),
      'from the corner facing east: straight to the far corner',
    );
  });
  test(`Empty-Random-${size}x${size}: 200 seeds give solvable levels from random starts`, (t) => {
    const lengths = checkSolvableLevels(t, `GridNav-Empty-Random-${size}x${size}-v0`, SEEDS);
    t.true(new Set(lengths).size > 1);
  });
}

test('FourRooms: 200 seeds give solvable levels', (t) => {
  checkSolvableLevels(t, 'GridNav-FourRooms-v0', SEEDS);
  const counts = countTypes('GridNav-FourRooms-v0', 3);
  t.is(counts.get(OBJECT.goal), 1);
  // Outer ring (72), the inner vertical (17 more cells) and horizontal (16 more) walls, less four gaps.
  t.is(counts.get(OBJECT.wall), 72 + 17 + 16 - 4);
});

for (const size of [5, 8, 16]) {
  test(`DoorKey-${size}x${size}: 200 seeds give solvable levels with one yellow key and one locked yellow door`, (t) => {
    checkSolvableLevels(t, `GridNav-DoorKey-${size}x${size}-v0`, SEEDS);
    const env = make(`GridNav-DoorKey-${size}x${size}-v0`);
    env.reset({ seed: 11 });
    const doors = inner(env)
      .snapshotWorld()
      .grid.filter((c) => typeOf(c) === OBJECT.door);
    t.is(doors.length, 1);
    t.is(stateOf(doors[0]!), DOOR.locked);
    t.is(colorOf(doors[0]!), COLOR.yellow);
    t.is(countTypes(`GridNav-DoorKey-${size}x${size}-v0`, 11).get(OBJECT.key), 1);
  });
}

for (const rooms of [2, 4, 6]) {
  test(`MultiRoom-N${rooms}: 200 seeds give solvable levels with ${rooms - 1} closed doors`, (t) => {
    checkSolvableLevels(t, `GridNav-MultiRoom-N${rooms}-v0`, SEEDS);
    for (let seed = 0; seed < 20; seed++)
      t.is(countTypes(`GridNav-MultiRoom-N${rooms}-v0`, seed).get(OBJECT.door) ?? 0, rooms - 1);
  });
}

for (const [size, crossings] of [
  [9, 1],
  [9, 2],
  [9, 3],
  [11, 5],
] as const) {
  test(`LavaCrossing-S${size}N${crossings}: 200 seeds give solvable levels with ${crossings} rivers`, (t) => {
    const lengths = checkSolvableLevels(t, `GridNav-LavaCrossing-S${size}N${crossings}-v0`, SEEDS);
    const manhattan = 2 * (size - 3);
    t.true(lengths.every((n) => n >= manhattan));
    // One river is crossed on the way; with more, openings out of line force detours.
    if (crossings === 1) t.true(lengths.every((n) => n === manhattan));
    else t.true(lengths.some((n) => n > manhattan));
    const counts = countTypes(`GridNav-LavaCrossing-S${size}N${crossings}-v0`, 5);
    t.true(
      (counts.get(OBJECT.lava) ?? 0) >= crossings * (size - 2) - crossings * crossings - crossings,
    );
  });
}

test('generators are fixed by the seed alone and differ across seeds', (t) => {
  for (const id of [
    'GridNav-FourRooms-v0',
    'GridNav-MultiRoom-N6-v0',
    'GridNav-DoorKey-16x16-v0',
    'GridNav-LavaCrossing-S11N5-v0',
  ]) {
    const a = make(id);
    const b = make(id);
    const layouts = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const ra = a.reset({ seed });
      const rb = b.reset({ seed });
      t.deepEqual(ra.observation, rb.observation);
      t.is(ra.info['optimalSteps'], rb.info['optimalSteps']);
      layouts.add(String(inner(a).snapshotWorld().grid));
    }
    t.true(layouts.size >= 8, `${id}: different seeds give different layouts`);
  }
});

test('generators work the same with the egocentric action set', (t) => {
  for (const id of [
    'GridNav-DoorKey-8x8-v0',
    'GridNav-MultiRoom-N4-v0',
    'GridNav-LavaCrossing-S9N2-v0',
    'GridNav-FourRooms-v0',
  ]) {
    checkSolvableLevels(t, id, 40, { actions: 'egocentric', observation: 'egocentric' });
  }
});
