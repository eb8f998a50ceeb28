/**
 * Registers every environment id of the suite. Importing `wmgym` runs this once; each family keeps
 * its ids in one block of `register({...})` data below.
 */
import { register } from './core/registry.js';
import { AcrobotEnv } from './classic/acrobot.js';
import { CartPoleEnv } from './classic/cartpole.js';
import { MountainCarContinuousEnv } from './classic/mountain-car-continuous.js';
import { PendulumEnv } from './classic/pendulum.js';

// ---- classic control (Gymnasium dynamics) ------------------------------------------------------

register({
  id: 'CartPole-v1',
  entryPoint: (options) => new CartPoleEnv(options),
  maxEpisodeSteps: 500,
  rewardThreshold: 475,
  description:
    'Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1 dynamics).',
});

register({
  id: 'Pendulum-v1',
  entryPoint: (options) => new PendulumEnv(options),
  maxEpisodeSteps: 200,
  description:
    'Swing a pendulum upright and hold it there with a torque in [-2, 2] (Gymnasium Pendulum-v1).',
});

register({
  id: 'MountainCarContinuous-v0',
  entryPoint: (options) => new MountainCarContinuousEnv(options),
  maxEpisodeSteps: 999,
  rewardThreshold: 90,
  description:
    'Rock an under-powered car out of a valley to the flag, continuous force (Gymnasium MountainCarContinuous-v0).',
});

register({
  id: 'Acrobot-v1',
  entryPoint: (options) => new AcrobotEnv(options),
  maxEpisodeSteps: 500,
  rewardThreshold: -100,
  description:
    'Swing the tip of a two-link arm, actuated at the elbow, above a line (Gymnasium Acrobot-v1).',
});

// ---- gridnav --------------------------------------------------------------------------------------

import {
  BlockedUnlockPickupEnv,
  DoorKeyEnv,
  EmptyEnv,
  FourRoomsEnv,
  KeyCorridorEnv,
  LavaCrossingEnv,
  MultiRoomEnv,
  TaskKEnv,
  UnlockEnv,
  taskKSize,
} from './gridnav/index.js';

// Step budgets are MiniGrid's per family; the environment's reward formula uses the same number.
for (const size of [5, 8, 16]) {
  register({
    id: `GridNav-Empty-${size}x${size}-v0`,
    entryPoint: (options) => new EmptyEnv(options),
    kwargs: { size },
    maxEpisodeSteps: 4 * size * size,
    description: `An empty ${size}x${size} room; reach the goal in the far corner from the top-left corner (MiniGrid Empty).`,
  });
  register({
    id: `GridNav-Empty-Random-${size}x${size}-v0`,
    entryPoint: (options) => new EmptyEnv(options),
    kwargs: { size, randomStart: true },
    maxEpisodeSteps: 4 * size * size,
    description: `An empty ${size}x${size} room with a random start; reach the goal in the corner (MiniGrid Empty-Random).`,
  });
}

register({
  id: 'GridNav-FourRooms-v0',
  entryPoint: (options) => new FourRoomsEnv(options),
  maxEpisodeSteps: 100,
  description: 'Four rooms joined by gaps; reach a randomly placed goal (MiniGrid FourRooms).',
});

for (const size of [5, 8, 16]) {
  register({
    id: `GridNav-DoorKey-${size}x${size}-v0`,
    entryPoint: (options) => new DoorKeyEnv(options),
    kwargs: { size },
    maxEpisodeSteps: 10 * size * size,
    description: `Pick up the key, unlock the door and reach the goal in a ${size}x${size} room (MiniGrid DoorKey).`,
  });
}

for (const [rooms, maxRoomSize] of [
  [2, 4],
  [4, 5],
  [6, 10],
] as const) {
  register({
    id: `GridNav-MultiRoom-N${rooms}-v0`,
    entryPoint: (options) => new MultiRoomEnv(options),
    kwargs: { minRooms: rooms, maxRooms: rooms, maxRoomSize },
    maxEpisodeSteps: 20 * rooms,
    description: `A chain of ${rooms} rooms (sides up to ${maxRoomSize}) joined by closed doors; reach the goal in the last (MiniGrid MultiRoom-N${rooms}).`,
  });
}

for (const [size, crossings] of [
  [9, 1],
  [9, 2],
  [9, 3],
  [11, 5],
] as const) {
  register({
    id: `GridNav-LavaCrossing-S${size}N${crossings}-v0`,
    entryPoint: (options) => new LavaCrossingEnv(options),
    kwargs: { size, crossings },
    maxEpisodeSteps: 4 * size * size,
    description: `Cross ${crossings} lava river${crossings === 1 ? '' : 's'} through their gaps to the goal in a ${size}x${size} room (MiniGrid LavaCrossing).`,
  });
}

for (const [roomSize, rows] of [
  [3, 1],
  [3, 2],
  [3, 3],
  [4, 3],
  [5, 3],
  [6, 3],
] as const) {
  register({
    id: `GridNav-KeyCorridor-S${roomSize}R${rows}-v0`,
    entryPoint: (options) => new KeyCorridorEnv(options),
    kwargs: { roomSize, rows },
    maxEpisodeSteps: 30 * roomSize * roomSize,
    description: `Fetch a key from a side room to unlock the room holding a ball, then pick the ball up; ${rows} row${rows === 1 ? '' : 's'} of rooms of side ${roomSize} (MiniGrid KeyCorridor).`,
  });
}

register({
  id: 'GridNav-Unlock-v0',
  entryPoint: (options) => new UnlockEnv(options),
  maxEpisodeSteps: 8 * 6 * 6,
  description: 'Pick up the key and open the locked door to the next room (MiniGrid Unlock).',
});

register({
  id: 'GridNav-BlockedUnlockPickup-v0',
  entryPoint: (options) => new BlockedUnlockPickupEnv(options),
  maxEpisodeSteps: 16 * 6 * 6,
  description:
    'Move the ball blocking a locked door, unlock it with the key and pick up the box behind it (MiniGrid BlockedUnlockPickup).',
});

for (const k of [5, 10, 20]) {
  const size = taskKSize(k);
  register({
    id: `GridNav-Task-k${k}-v0`,
    entryPoint: (options) => new TaskKEnv(options),
    kwargs: { k },
    maxEpisodeSteps: 4 * size * size,
    description: `Levels whose shortest solution is exactly ${k} actions: doors, keys and lava on the way to the goal (option k for any k >= 3).`,
  });
}

// ---- textworld ------------------------------------------------------------------------------------

import { TextWorldEnv } from './textworld/textworld.js';
import { treasureQuestLength } from './textworld/generator.js';

// Coin Collector levels in TextWorld's numbering: L = chain length (1..30) with no distractor rooms,
// L + 100 with one dead end per chain room, L + 200 with two rooms per chain room attached anywhere
// (the other levels up to 300 work through `level` on any Coins id). Limit: 50 + 10 per room.
for (const base of [0, 100, 200]) {
  for (let length = 1; length <= 30; length++) {
    const level = base + length;
    const rooms = (base / 100 + 1) * length;
    register({
      id: `TextWorld-Coins-L${level}-v0`,
      entryPoint: (options) => new TextWorldEnv({ ...options, family: 'coins' }),
      kwargs: { level },
      maxEpisodeSteps: 50 + 10 * rooms,
      rewardThreshold: 1,
      description: `Coin Collector level ${level}: walk a chain of ${length} room${length === 1 ? '' : 's'}${base === 0 ? '' : ` among ${rooms} rooms`} and take the coin; the shortest solution is ${length} commands.`,
    });
  }
}

// Treasure Hunter tiers: easy 1-10 (5 rooms, no doors), medium 11-20 (10 rooms, closed doors and
// containers), hard 21-30 (20 rooms, locks and keys); taking the look-alike object loses.
// Limits: 100 / 200 / 400 steps.
for (let level = 1; level <= 30; level++) {
  const tier = level <= 10 ? 'easy' : level <= 20 ? 'medium' : 'hard';
  register({
    id: `TextWorld-Treasure-L${level}-v0`,
    entryPoint: (options) => new TextWorldEnv({ ...options, family: 'treasure' }),
    kwargs: { level },
    maxEpisodeSteps: tier === 'easy' ? 100 : tier === 'medium' ? 200 : 400,
    rewardThreshold: 1,
    description: `Treasure Hunter level ${level} (${tier}): find and take the named object, not its look-alike; the shortest solution is ${treasureQuestLength(level)} commands.`,
  });
}

// General quests of exact length k (take, eat, put on, put into, drop in a room). Limit: 20k steps.
for (const k of [5, 10, 20]) {
  register({
    id: `TextWorld-Quest-k${k}-v0`,
    entryPoint: (options) => new TextWorldEnv({ ...options, family: 'quest' }),
    kwargs: { questLength: k },
    maxEpisodeSteps: 20 * k,
    rewardThreshold: 1,
    description: `A generated quest whose shortest solution is exactly ${k} commands: rooms, doors, locks, containers, keys (option questLength for any k; generator options for the world).`,
  });
}

register({
  id: 'TextWorld-File-v0',
  entryPoint: (options) => new TextWorldEnv({ ...options, family: 'file' }),
  maxEpisodeSteps: 1000,
  description:
    'A TextWorld game from a JSON game file (option path, or game); without one, the example game "The Lost Coin".',
});

export { register };
