import test from 'ava';
import { make } from '../../../envs/core/registry.js';
import { OBJECT, typeOf } from '../../../envs/gridnav/world.js';
import { checkSolvableLevels, inner } from './helpers.js';

const SEEDS = 200;

test('Unlock: 200 seeds give solvable levels whose task ends when the door is opened', (t) => {
  const lengths = checkSolvableLevels(t, 'GridNav-Unlock-v0', SEEDS);
  t.true(
    lengths.every((n) => n >= 3),
    'pick up, face the door, toggle at least',
  );
});

test('BlockedUnlockPickup: 200 seeds give solvable levels where a ball blocks the locked door', (t) => {
  checkSolvableLevels(t, 'GridNav-BlockedUnlockPickup-v0', SEEDS);
  const env = make('GridNav-BlockedUnlockPickup-v0');
  for (let seed = 0; seed < 20; seed++) {
    env.reset({ seed });
    const world = inner(env).snapshotWorld();
    const door = world.grid.findIndex((c) => typeOf(c) === OBJECT.door);
    t.is(typeOf(world.grid[door - world.height]!), OBJECT.ball, 'the ball sits west of the door');
  }
});

test('room generators work the same with the egocentric action set', (t) => {
  for (const id of [
    'GridNav-KeyCorridor-S3R3-v0',
    'GridNav-Unlock-v0',
    'GridNav-BlockedUnlockPickup-v0',
  ]) {
    checkSolvableLevels(t, id, 30, { actions: 'egocentric', observation: 'egocentric' });
  }
});
