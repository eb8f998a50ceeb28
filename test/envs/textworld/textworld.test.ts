import test from 'ava';
import '../../../envs/index.js';
import { checkEnv } from '../../../envs/core/check-env.js';
import {
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { listEnvs, make, spec } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import type { JsonValue } from '../../../envs/core/env.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import type { Agent } from '../../../agents/agent.js';
import { evaluate } from '../../../agents/loop.js';

test('checkEnv is quiet for a sample of every TextWorld family', (t) => {
  for (const id of [
    'TextWorld-Coins-L1-v0',
    'TextWorld-Coins-L17-v0',
    'TextWorld-Coins-L130-v0',
    'TextWorld-Coins-L205-v0',
    'TextWorld-Treasure-L1-v0',
    'TextWorld-Treasure-L14-v0',
    'TextWorld-Treasure-L26-v0',
    'TextWorld-Quest-k5-v0',
    'TextWorld-Quest-k10-v0',
    'TextWorld-Quest-k20-v0',
    'TextWorld-File-v0',
  ]) {
    t.notThrows(() => checkEnv(make(id)), id);
  }
  t.notThrows(() =>
    checkEnv(
      new TextWorldEnv({
        family: 'quest',
        questLength: 7,
        intermediateReward: true,
        renderMode: 'ansi',
      }),
    ),
  );
});

test('every registered TextWorld id builds, resets and keeps its spaces', (t) => {
  const ids = listEnvs(/^TextWorld-/);
  t.is(ids.length, 90 + 30 + 3 + 1);
  for (const id of ids) {
    const env = make<Uint8Array, number>(id);
    const { observation, info } = env.reset({ seed: 1 });
    t.true(env.observationSpace.contains(observation), id);
    t.is(
      (info['actionMask'] as Uint8Array).length,
      (env.actionSpace as unknown as { n: number }).n,
      id,
    );
    t.true(spec(id).maxEpisodeSteps! > 0);
  }
});

test('reset({seed}) picks the game; reset() draws the next one from the seeded generator', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 5 });
  const a = env.reset({ seed: 12 });
  const text = env.describe();
  const b = env.reset({ seed: 12 });
  t.deepEqual(a.observation, b.observation);
  t.is(env.describe(), text);
  t.is(env.gameSeed, 12);
  env.reset({ seed: 13 });
  t.not(env.describe(), text);
  env.reset({ seed: 3 });
  env.reset();
  const next = env.gameSeed;
  env.reset({ seed: 3 });
  env.reset();
  t.is(env.gameSeed, next);
  t.throws(() => env.reset({ seed: 1, options: { level: 3 } }), {
    instanceOf: InvalidOptionError,
    message: /reset options/,
  });
});

test('step returns a fresh observation and the documented info', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  const { observation, info } = env.reset();
  t.is(typeof info['feedback'], 'string');
  t.true(Array.isArray(info['admissibleCommands']));
  const result = env.step(env.parseCommand('take apple'));
  t.not(result.observation, observation);
  t.deepEqual(Object.keys(result.info).sort(), [
    'actionMask',
    'admissibleCommands',
    'command',
    'facts',
    'feedback',
    'lost',
    'maxScore',
    'moves',
    'score',
    'success',
    'won',
  ]);
  t.like(result.info, {
    feedback: 'You pick up the red apple.',
    command: 'take red apple',
    score: 0,
    maxScore: 1,
    won: false,
    lost: false,
    success: false,
    moves: 1,
  });
  const facts = result.info['facts'] as string[];
  t.true(facts.includes('carried(apple)'));
  t.true(facts.includes('at(player, hall)'));
  t.true(facts.includes('exit(hall, north, kitchen)'));
  t.true(facts.includes('key(iron_key, trapdoor)'));
  env.currentGame.factNames.forEach((name, f) =>
    t.is(facts.includes(name), result.observation[f] === 1, name),
  );
  result.observation.fill(0);
  t.deepEqual(
    env.step(env.parseCommand('look')).observation.includes(1),
    true,
    'the env kept its own state',
  );
  const lean = new TextWorldEnv({ family: 'file', infoFacts: false });
  t.false('facts' in lean.reset().info);
  t.deepEqual(env.commands(), env.step(env.parseCommand('look')).info['admissibleCommands']);
});

test('an action inside the space but not admissible is a move with feedback; one outside the space is InvalidActionError', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  const { observation } = env.reset();
  const down = env.currentGame.commandIndex.get('go down')!;
  const result = env.step(down);
  t.is(result.info['feedback'], 'The trapdoor is locked.');
  t.deepEqual(result.observation, observation);
  t.is(result.info['moves'], 1);
  t.is(result.reward, 0);
  t.false(result.terminated);
  t.throws(() => env.step(env.actionSpace.n), {
    instanceOf: InvalidActionError,
    message: /received \d+/,
  });
  t.throws(() => env.step(-1), { instanceOf: InvalidActionError });
  t.throws(() => env.step(1.5), { instanceOf: InvalidActionError });
});

test('info.success is false until the winning step and true on it, as in GridNav; losing is no success', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  t.false(env.reset().info['success']);
  const plan = env.walkthrough()!;
  const results = plan.map((command) => env.step(env.parseCommand(command)));
  t.deepEqual(
    results.map((r) => r.info['success']),
    plan.map((_, i) => i === plan.length - 1),
  );
  t.true(results[results.length - 1]!.terminated);
  env.reset();
  for (const command of ['n', 'take iron key', 's', 'unlock trapdoor', 'open trapdoor', 'd'])
    t.false(env.stepText(command).info['success']);
  env.stepText('take mushroom');
  const lost = env.stepText('eat mushroom');
  t.true(lost.terminated);
  t.true(lost.info['lost']);
  t.false(lost.info['success']);
});

test("evaluate() reports a success rate for TextWorld from the final step's info.success", async (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { infoFacts: false });
  const tw = env.unwrapped;
  if (!(tw instanceof TextWorldEnv)) throw new TypeError('not a TextWorld environment');
  const agent = (policy: () => number): Agent<Uint8Array, number> => ({
    kind: 'scripted',
    config: {},
    act: () => Promise.resolve(policy()),
    observe: () => Promise.resolve(),
    save: () => Promise.resolve(),
    load: () => Promise.resolve(),
  });
  const solver = agent(() => tw.parseCommand(tw.walkthrough()![0]!));
  const solved = await evaluate(solver, env, { episodes: 3, seed: 4 });
  t.deepEqual(solved.successes, [true, true, true]);
  t.is(solved.successRate, 1);
  const idle = agent(() => tw.parseCommand('look'));
  const idled = await evaluate(idle, env, { episodes: 2, seed: 4 });
  t.deepEqual(idled.successes, [false, false], 'truncated by the TimeLimit');
  t.is(idled.successRate, 0);
});

test('stepping before reset or after the end throws ResetNeededError', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  t.throws(() => env.step(0), { instanceOf: ResetNeededError, message: /before reset/ });
  t.throws(() => env.describe(), { instanceOf: ResetNeededError });
  env.reset();
  for (const command of env.walkthrough()!) env.step(env.parseCommand(command));
  t.throws(() => env.step(0), { instanceOf: ResetNeededError, message: /after the episode ended/ });
  t.throws(() => env.stepText('look'), { instanceOf: ResetNeededError });
  t.deepEqual(env.walkthrough(), []);
});

test('intermediate rewards pay each sub-goal once and add up to maxScore at the win', (t) => {
  for (const options of [
    { family: 'coins', level: 8 },
    { family: 'quest', questLength: 10 },
    { family: 'treasure', level: 26 },
    { family: 'file' },
  ] as const) {
    const env = new TextWorldEnv({ ...options, intermediateReward: true });
    for (let seed = 0; seed < 5; seed++) {
      const { info } = env.reset({ seed });
      const maxScore = info['maxScore'] as number;
      t.true(maxScore >= 1);
      let total = 0;
      const walkthrough = env.walkthrough()!;
      walkthrough.forEach((command, i) => {
        const result = env.step(env.parseCommand(command));
        t.true(result.reward >= 0);
        total += result.reward;
        t.is(result.info['score'], total);
        if (i < walkthrough.length - 1) t.false(result.terminated);
      });
      t.is(total, maxScore, JSON.stringify(options));
    }
  }
  // In Coin Collector the map is a tree: every step of the chain is a landmark, so every command pays.
  const coins = new TextWorldEnv({ family: 'coins', level: 6, intermediateReward: true });
  coins.reset({ seed: 2 });
  t.deepEqual(
    coins.walkthrough()!.map((c) => coins.step(coins.parseCommand(c)).reward),
    [1, 1, 1, 1, 1, 1],
  );
  // Going back and forth does not pay twice.
  coins.reset({ seed: 2 });
  const first = coins.walkthrough()![0]!;
  const back = {
    'go north': 'go south',
    'go south': 'go north',
    'go east': 'go west',
    'go west': 'go east',
    'go up': 'go down',
    'go down': 'go up',
  }[first]!;
  t.deepEqual(
    [first, back, first].map((c) => coins.step(coins.parseCommand(c)).reward),
    [1, 0, 0],
  );
});

test('snapshots restore the exact game and state, and reject foreign or inconsistent ones', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 10, renderMode: 'ansi' });
  const rng = new Rng(1);
  let { info } = env.reset({ seed: 21 });
  for (let s = 0; s < 6; s++)
    info = env.step(env.actionSpace.sample(rng, info['actionMask'] as Uint8Array)).info;
  const snapshot = JSON.parse(JSON.stringify(env.getState())) as JsonValue;
  const rendered = env.render();
  const actions = Array.from({ length: 20 }, () => env.actionSpace.sample(rng));
  const play = () =>
    actions.map((a) => {
      const r = env.step(a);
      return [Array.from(r.observation), r.reward, r.info['feedback']];
    });
  const first = play();
  env.reset({ seed: 99 });
  env.setState(snapshot);
  t.is(env.gameSeed, 21);
  t.is(env.render(), rendered);
  t.deepEqual(play(), first);

  const bad = (edit: (s: { env: Record<string, unknown> }) => void, message: RegExp) => {
    const copy = structuredClone(snapshot) as { env: Record<string, unknown> };
    edit(copy);
    t.throws(() => env.setState(copy as unknown as JsonValue), {
      instanceOf: InvalidStateError,
      message,
    });
  };
  const facts = (snapshot as { env: { facts: number[] } }).env.facts;
  const game = env.currentGame;
  const otherRoom = game.playerAtFact.find((f) => !facts.includes(f))!;
  bad((s) => (s.env['facts'] = [...facts, otherRoom]), /the player is in 2 rooms/);
  bad(
    (s) =>
      (s.env['facts'] = facts.filter(
        (f) =>
          f !== game.carriedFact[0] &&
          !game.factNames[f]!.startsWith(`at(${game.things[game.objectBase]!.id},`) &&
          !new RegExp(`^(in|on)\\(${game.things[game.objectBase]!.id},`).exec(game.factNames[f]!),
      )),
    /is in 0 places/,
  );
  bad((s) => (s.env['facts'] = [...facts, 100000]), /fact indices in \[0, \d+\)/);
  bad((s) => (s.env['moves'] = -1), /moves: a non-negative integer/);
  bad((s) => (s.env['score'] = 5), /score: an integer in \[0, 1\]/);
  bad((s) => (s.env['won'] = true), /won: false and lost: false/);
  bad((s) => (s.env['game'] = { seed: 'x' }), /game: \{seed: a non-negative integer\}/);
  t.throws(() => env.setState({ not: 'a snapshot' }), { instanceOf: InvalidStateError });
  const file = new TextWorldEnv({ family: 'file' });
  file.reset();
  t.throws(() => file.setState(snapshot), {
    instanceOf: InvalidStateError,
    message: /a snapshot of this game/,
  });
  // A failed setState changes nothing.
  t.deepEqual(play().length, 20);
});

test('walkthrough() answers from the current state', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  env.reset();
  const full = env.walkthrough()!;
  env.stepText('take apple');
  env.stepText('eat apple');
  t.deepEqual(env.walkthrough(), full, 'harmless detours leave the same plan');
  env.stepText('n');
  t.deepEqual(env.walkthrough(), full.slice(1));
  env.stepText('e');
  t.is(env.walkthrough()!.length, full.length - 1);
  const lost = new TextWorldEnv({ family: 'file' });
  lost.reset();
  for (const command of [
    'n',
    'take iron key',
    's',
    'unlock trapdoor',
    'open trapdoor',
    'd',
    'take mushroom',
  ])
    lost.stepText(command);
  const result = lost.stepText('eat mushroom');
  t.true(result.terminated);
  t.true(result.info['lost']);
  t.is(lost.walkthrough(), null);
});

test('TimeLimit from the registry truncates; render draws the transcript in ansi mode only', (t) => {
  const env = make('TextWorld-Coins-L3-v0', { maxEpisodeSteps: 4, renderMode: 'ansi' });
  env.reset({ seed: 1 });
  const results = [0, 1, 2, 3].map(() => env.step(env.parseCommand('look')));
  t.deepEqual(
    results.map((r) => r.truncated),
    [false, false, false, true],
  );
  t.false(results[3]!.terminated);
  const frame = env.render() as string;
  t.regex(frame, /moves: 4, score: 0\/1/);
  t.regex(frame, /> look\n-= /);
  const plain = new TextWorldEnv({ family: 'coins', level: 3 });
  plain.reset();
  t.is(plain.render(), undefined);
  t.throws(() => new TextWorldEnv({ renderMode: 'rgb_array' }), {
    instanceOf: InvalidOptionError,
    message: /renderMode/,
  });
});

test('bad options are InvalidOptionError naming the option', (t) => {
  t.throws(() => new TextWorldEnv({ family: 'coins', level: 301 }), {
    instanceOf: InvalidOptionError,
    message: /options\.level: expected an integer in \[1, 300\], received 301/,
  });
  t.throws(() => new TextWorldEnv({ family: 'treasure', level: 0 }), {
    instanceOf: InvalidOptionError,
    message: /options\.level: expected an integer in \[1, 30\]/,
  });
  t.throws(() => new TextWorldEnv({ family: 'dungeon' as 'file' }), {
    instanceOf: InvalidOptionError,
    message: /options\.family/,
  });
  t.throws(() => new TextWorldEnv({ family: 'coins', level: 2, rooms: 9 }), {
    instanceOf: InvalidOptionError,
    message: /options\.rooms: expected no value: the coins family fixes it/,
  });
  t.throws(() => new TextWorldEnv({ family: 'quest', path: 'x.json' }), {
    instanceOf: InvalidOptionError,
    message: /options\.path/,
  });
  t.throws(() => new TextWorldEnv({ questLenght: 5 } as never), {
    instanceOf: InvalidOptionError,
    message: /options\.questLenght.*Unknown option/,
  });
  t.throws(() => new TextWorldEnv({ intermediateReward: 'yes' as never }), {
    instanceOf: InvalidOptionError,
    message: /options\.intermediateReward: expected true or false/,
  });
  t.throws(() => make('TextWorld-Quest-k10-v0', { doorDensity: 2 }), {
    instanceOf: InvalidOptionError,
    message: /options\.doorDensity/,
  });
});

test('describe() shows the room, the inventory and the objective', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  env.reset();
  env.stepText('take apple');
  t.is(
    env.describe(),
    "-= Entrance Hall =-\nA narrow hall with a worn rug. A trapdoor is set into the floor.\nExits: north, down (trapdoor, closed).\n\nYou are carrying a red apple.\n\nObjective: Find grandmother's gold coin and put it on the kitchen table. Whatever you do, don't eat the grey mushroom.",
  );
});
