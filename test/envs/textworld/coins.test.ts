import test from 'ava';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { coinLevel } from '../../../envs/textworld/generator.js';
import { checkExactQuest } from './exact-quests.js';

const LEVELS = [
  ...Array.from({ length: 30 }, (_, i) => i + 1),
  ...Array.from({ length: 30 }, (_, i) => i + 101),
  ...Array.from({ length: 30 }, (_, i) => i + 201),
];

test('Coin Collector: for 200 seeds across the registered levels the walkthrough wins in exactly k commands and no shorter sequence exists', (t) => {
  const envs = new Map<number, TextWorldEnv>();
  for (let seed = 0; seed < 200; seed++) {
    const level = LEVELS[seed % LEVELS.length]!;
    let env = envs.get(level);
    if (env === undefined) envs.set(level, (env = new TextWorldEnv({ family: 'coins', level })));
    checkExactQuest(
      t,
      env,
      seed,
      coinLevel(level).questLength,
      true,
      `level ${level} seed ${seed}`,
    );
  }
});

test('Coin Collector levels follow TextWorld: chain length (L-1) mod 100 + 1, distractor rooms per chain room (L-1) div 100', (t) => {
  t.deepEqual(coinLevel(1), { questLength: 1, rooms: 1, distractorsPerRoom: 0, mode: 'simple' });
  t.deepEqual(coinLevel(30), { questLength: 30, rooms: 30, distractorsPerRoom: 0, mode: 'simple' });
  t.deepEqual(coinLevel(115), {
    questLength: 15,
    rooms: 30,
    distractorsPerRoom: 1,
    mode: 'simple',
  });
  t.deepEqual(coinLevel(230), {
    questLength: 30,
    rooms: 90,
    distractorsPerRoom: 2,
    mode: 'random',
  });
  const env = new TextWorldEnv({ family: 'coins', level: 120 });
  env.reset({ seed: 4 });
  t.is(env.currentGame.roomCount, 40);
  t.deepEqual(
    env.currentGame.things.map((thing) => thing.name),
    ['coin'],
  );
});

test('a Coin Collector level keeps one observation and action layout for every seed', (t) => {
  const env = new TextWorldEnv({ family: 'coins', level: 212 });
  for (let seed = 0; seed < 10; seed++) {
    const { observation, info } = env.reset({ seed });
    t.is(observation.length, env.observationSpace.size);
    t.is((info['actionMask'] as Uint8Array).length, env.actionSpace.n);
  }
});
