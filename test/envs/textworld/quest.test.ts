import test from 'ava';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { Game } from '../../../envs/textworld/game.js';
import { generateGame, resolveGeneratorOptions } from '../../../envs/textworld/generator.js';
import { checkExactQuest } from './exact-quests.js';

test('Quest-k5: for 200 seeds the walkthrough wins in exactly 5 commands and no shorter sequence exists', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 5 });
  for (let seed = 0; seed < 200; seed++) checkExactQuest(t, env, seed, 5, true, `seed ${seed}`);
});

test('Quest-k10: for 200 seeds the walkthrough wins in exactly 10 commands (exhaustive search confirms the first 4)', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 10 });
  for (let seed = 0; seed < 200; seed++)
    checkExactQuest(t, env, seed, 10, seed < 4, `seed ${seed}`);
});

test('quests of any length come by option, each exact', (t) => {
  for (const k of [1, 2, 3, 7, 13]) {
    const env = new TextWorldEnv({ family: 'quest', questLength: k });
    for (let seed = 0; seed < 5; seed++)
      checkExactQuest(t, env, seed, k, k <= 7, `k ${k} seed ${seed}`);
  }
});

test('generated quests cover every kind: take, eat, put on, put into, drop in a room', (t) => {
  const config = resolveGeneratorOptions({ questLength: 6 });
  const kinds = new Set<string>();
  for (let seed = 0; seed < 60 && kinds.size < 5; seed++)
    kinds.add(generateGame(config, seed).metadata!['questKind'] as string);
  t.deepEqual([...kinds].sort(), ['drop', 'eat', 'insert', 'put', 'take']);
  for (const kind of ['put', 'insert', 'drop', 'eat'] as const) {
    const file = generateGame(resolveGeneratorOptions({ questLength: 6, questKinds: [kind] }), 3);
    const win = file.quest.win[0]!;
    t.regex(win, { put: /^on\(/, insert: /^in\(/, drop: /^at\(/, eat: /^eaten\(/ }[kind]);
  }
});

test('eating the quest object of a put quest loses the game', (t) => {
  for (let seed = 0; seed < 40; seed++) {
    const file = generateGame(
      resolveGeneratorOptions({
        questLength: 5,
        questKinds: ['put', 'insert', 'drop'],
        food: 4,
        objects: 4,
      }),
      seed,
    );
    const target = /^\w+\((\w+)/.exec(file.quest.win[0]!)![1]!;
    if (!(file.objects ?? []).find((o) => o.id === target)?.edible) continue;
    t.deepEqual(file.quest.fail, [`eaten(${target})`]);
    const env = new TextWorldEnv({ family: 'file', game: file });
    env.reset();
    const walkthrough = env.walkthrough()!;
    const takeAt = walkthrough.findIndex(
      (c) =>
        c.startsWith('take') &&
        env.currentGame.commandIndex.has(c) &&
        c.includes(file.objects!.find((o) => o.id === target)!.name),
    );
    for (const command of walkthrough.slice(0, takeAt + 1)) env.step(env.parseCommand(command));
    const result = env.step(
      env.parseCommand(`eat ${file.objects!.find((o) => o.id === target)!.name}`),
    );
    t.true(result.terminated);
    t.true(result.info['lost']);
    return;
  }
  t.fail('no edible quest object in 40 seeds');
});

test('per-aspect seeds: the wording changes with textVariety, the world does not', (t) => {
  for (const seed of [1, 2, 3]) {
    const plain = new Game(
      generateGame(resolveGeneratorOptions({ questLength: 8, textVariety: 0 }), seed),
    );
    const rich = new Game(
      generateGame(resolveGeneratorOptions({ questLength: 8, textVariety: 1 }), seed),
    );
    t.deepEqual(plain.initialState, rich.initialState);
    t.deepEqual(plain.winFacts, rich.winFacts);
    t.deepEqual(Array.from(plain.instanceCommand), Array.from(rich.instanceCommand));
  }
});

test('two seeds read differently: room names, things and objective', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 10 });
  const texts = new Set<string>();
  const names = new Set<string>();
  for (let seed = 0; seed < 10; seed++) {
    env.reset({ seed });
    texts.add(env.describe());
    names.add(env.currentGame.rooms.map((r) => r.name).join('|'));
  }
  t.is(texts.size, 10);
  t.is(names.size, 10);
});

test('a quest longer than the world allows is an InvalidOptionError naming questLength', (t) => {
  t.throws(
    () =>
      generateGame(
        resolveGeneratorOptions({
          questLength: 30,
          rooms: 2,
          distractors: 0,
          objects: 1,
          doorDensity: 0,
          lockDensity: 0,
        }),
        1,
      ),
    {
      instanceOf: InvalidOptionError,
      message: /options\.questLength.*received 30/,
    },
  );
});

test('generator options are validated', (t) => {
  t.throws(() => resolveGeneratorOptions({ questLength: 0 }), {
    instanceOf: InvalidOptionError,
    message: /options\.questLength: expected an integer in \[1, 200\], received 0/,
  });
  t.throws(() => resolveGeneratorOptions({ doorDensity: 1.5 }), {
    instanceOf: InvalidOptionError,
    message: /options\.doorDensity: expected a number in \[0, 1\], received 1\.5/,
  });
  t.throws(() => resolveGeneratorOptions({ questKinds: ['fly' as 'take'] }), {
    instanceOf: InvalidOptionError,
    message: /options\.questKinds/,
  });
  t.throws(() => resolveGeneratorOptions({ rooms: 2.5 }), {
    instanceOf: InvalidOptionError,
    message: /options\.rooms/,
  });
});
