import test from 'ava';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { treasureConfig, treasureQuestLength } from '../../../envs/textworld/generator.js';
import { checkExactQuest } from './exact-quests.js';

test('Treasure Hunter: for 200 seeds across levels 1-30 the walkthrough wins in exactly k commands and no shorter sequence exists', (t) => {
  const envs = new Map<number, TextWorldEnv>();
  for (let seed = 0; seed < 200; seed++) {
    const level = (seed % 30) + 1;
    let env = envs.get(level);
    if (env === undefined) envs.set(level, (env = new TextWorldEnv({ family: 'treasure', level })));
    // Exhaustive search (every command, no pruning) is affordable up to the first hard level.
    checkExactQuest(
      t,
      env,
      seed,
      treasureQuestLength(level),
      level <= 21,
      `level ${level} seed ${seed}`,
    );
  }
});

test('Treasure Hunter quest lengths follow TextWorld: round(linspace(1,5)), (2,10), (3,20) per tier', (t) => {
  t.deepEqual(
    Array.from({ length: 10 }, (_, i) => treasureQuestLength(i + 1)),
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
  );
  t.deepEqual(
    Array.from({ length: 10 }, (_, i) => treasureQuestLength(i + 11)),
    [2, 3, 4, 5, 6, 6, 7, 8, 9, 10],
  );
  t.deepEqual(
    Array.from({ length: 10 }, (_, i) => treasureQuestLength(i + 21)),
    [3, 5, 7, 9, 11, 12, 14, 16, 18, 20],
  );
});

test('Treasure Hunter tiers: easy has no doors or furniture, medium closed doors and containers, hard locks and keys', (t) => {
  const easy = treasureConfig(4),
    medium = treasureConfig(15),
    hard = treasureConfig(27);
  t.like(easy, { rooms: 5, distractors: 0, doorDensity: 0, lockDensity: 0, wrongObject: true });
  t.like(medium, { rooms: 10, distractors: 10, lockDensity: 0, wrongObject: true });
  t.like(hard, { rooms: 20, distractors: 20, wrongObject: true });
  const game = (level: number, seed: number) => {
    const env = new TextWorldEnv({ family: 'treasure', level });
    env.reset({ seed });
    return env.currentGame;
  };
  const e = game(4, 1),
    m = game(15, 1),
    h = game(27, 1);
  t.is(e.doorCount + e.containerCount + e.supporterCount, 0);
  t.true(m.doorCount > 0 && m.containerCount > 0);
  t.true(
    m.lockedFact.every((f) => f < 0),
    'medium has no locks',
  );
  t.true(
    h.lockedFact.some((f) => f >= 0),
    'hard has locks',
  );
  t.true(h.things.some((thing) => thing.kind === 'object' && thing.name.endsWith(' key')));
});

test('taking the look-alike wrong object loses the Treasure Hunter game', (t) => {
  const env = new TextWorldEnv({ family: 'treasure', level: 3 });
  for (let seed = 0; seed < 20; seed++) {
    env.reset({ seed });
    const game = env.currentGame;
    const right = game.things[game.objectBase]!,
      wrong = game.things[game.objectBase + 1]!;
    t.is(right.name.split(' ').pop(), wrong.name.split(' ').pop(), 'look-alikes share their noun');
    t.regex(game.objective, new RegExp(right.name));
    // Walk to the wrong object along a shortest path, ignoring the quest: reachable in easy levels (no doors).
    const state = env.currentGame.initialState;
    const where = game.locationOf(state, 1);
    if (where.kind !== 'room') continue;
    const path = roomPath(game, game.startRoom, where.index);
    for (const dir of path) env.step(env.parseCommand(`go ${dir}`));
    const result = env.step(env.parseCommand(`take ${wrong.name}`));
    t.true(result.terminated);
    t.is(result.reward, 0);
    t.true(result.info['lost']);
    t.false(result.info['won']);
    t.regex(result.info['feedback'] as string, /You lost/);
    return;
  }
  t.fail('no seed put the wrong object on a floor');
});

function roomPath(game: TextWorldEnv['currentGame'], from: number, to: number): string[] {
  const previous = new Map<number, [number, number]>([[from, [-1, -1]]]);
  const queue = [from];
  const dirs = ['north', 'south', 'east', 'west', 'up', 'down'];
  while (queue.length > 0) {
    const r = queue.shift()!;
    if (r === to) break;
    game.rooms[r]!.exits.forEach((next, d) => {
      if (next >= 0 && !previous.has(next)) {
        previous.set(next, [r, d]);
        queue.push(next);
      }
    });
  }
  const path: string[] = [];
  for (let r = to; r !== from; r = previous.get(r)![0]) path.unshift(dirs[previous.get(r)![1]]!);
  return path;
}
