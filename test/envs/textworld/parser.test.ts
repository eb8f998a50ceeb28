import test from 'ava';
import { CommandParseError } from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';
import type { GameFile } from '../../../envs/textworld/game-file.js';
import { tokenize } from '../../../envs/textworld/parser.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';

const STUDY: GameFile = {
  format: 'wmgym-textworld',
  version: 1,
  start: 'study',
  rooms: [
    {
      id: 'study',
      name: 'study',
      exits: { north: { to: 'hall', door: 'green_door' }, east: 'library' },
    },
    { id: 'library', name: 'library', exits: { west: 'study' } },
    { id: 'hall', name: 'hall', exits: { south: { to: 'study', door: 'green_door' } } },
  ],
  doors: [{ id: 'green_door', name: 'green door', state: 'locked', key: 'blue_key' }],
  containers: [
    {
      id: 'chest',
      name: 'oak chest',
      synonyms: ['box'],
      room: 'study',
      state: 'closed',
      key: 'red_key',
    },
  ],
  supporters: [{ id: 'desk', name: 'writing desk', room: 'study' }],
  objects: [
    { id: 'red_key', name: 'red key', location: 'desk' },
    { id: 'blue_key', name: 'blue key', location: 'library' },
    { id: 'red_apple', name: 'red apple', location: 'study', edible: true },
    { id: 'green_apple', name: 'green apple', location: 'chest', edible: true },
    { id: 'book', name: 'old book', synonyms: ['tome'], location: 'desk' },
  ],
  quest: { objective: 'Go to the hall.', win: ['at(player, hall)'] },
};

function studyEnv(): TextWorldEnv {
  const env = new TextWorldEnv({ family: 'file', game: STUDY });
  env.reset();
  return env;
}

function parsed(env: TextWorldEnv, text: string): string {
  return env.currentGame.commands[env.parseCommand(text)]!;
}

function feedbackOf(env: TextWorldEnv, text: string): string | undefined {
  try {
    env.parseCommand(text);
  } catch (error) {
    if (error instanceof CommandParseError) return error.feedback;
    throw error;
  }
  return undefined;
}

test('each verb and its synonyms map to the grounded command', (t) => {
  const env = studyEnv();
  const cases: [string, string][] = [
    ['north', 'go north'],
    ['n', 'go north'],
    ['go north', 'go north'],
    ['walk n', 'go north'],
    ['head to the north', 'go north'],
    ['e', 'go east'],
    ['s', 'go south'],
    ['w', 'go west'],
    ['u', 'go up'],
    ['d', 'go down'],
    ['go down', 'go down'],
    ['go through the green door', 'go north'],
    ['enter green door', 'go north'],
    ['look', 'look'],
    ['l', 'look'],
    ['look around', 'look'],
    ['inventory', 'inventory'],
    ['i', 'inventory'],
    ['inv', 'inventory'],
    ['take inventory', 'inventory'],
    ['examine the book', 'examine old book'],
    ['x book', 'examine old book'],
    ['inspect tome', 'examine old book'],
    ['look at the old book', 'examine old book'],
    ['read book', 'examine old book'],
    ['check the desk', 'examine writing desk'],
    ['look in the chest', 'examine oak chest'],
    ['x room', 'look'],
    ['take the old book', 'take old book from writing desk'],
    ['get book', 'take old book from writing desk'],
    ['pick up the book', 'take old book from writing desk'],
    ['pick the book up', 'take old book from writing desk'],
    ['grab tome', 'take old book from writing desk'],
    ['take book from desk', 'take old book from writing desk'],
    ['take book off the desk', 'take old book from writing desk'],
    ['take the red apple', 'take red apple'],
    ['take green apple out of the chest', 'take green apple from oak chest'],
    ['remove green apple from box', 'take green apple from oak chest'],
    ['drop the red apple', 'drop red apple'],
    ['discard red apple', 'drop red apple'],
    ['put down red apple', 'drop red apple'],
    ['put red apple down', 'drop red apple'],
    ['put red apple on desk', 'put red apple on writing desk'],
    ['place red apple onto the writing desk', 'put red apple on writing desk'],
    ['put red apple in chest', 'insert red apple into oak chest'],
    ['insert red apple into box', 'insert red apple into oak chest'],
    ['put red apple inside the oak chest', 'insert red apple into oak chest'],
    ['drop red apple in chest', 'insert red apple into oak chest'],
    ['put red apple on chest', 'insert red apple into oak chest'],
    ['open chest', 'open oak chest'],
    ['open the box', 'open oak chest'],
    ['close chest', 'close oak chest'],
    ['shut the green door', 'close green door'],
    ['unlock the chest with the red key', 'unlock oak chest with red key'],
    ['lock box using red key', 'lock oak chest with red key'],
    ['unlock green door with blue key', 'unlock green door with blue key'],
    ['eat red apple', 'eat red apple'],
    ['consume the red apple', 'eat red apple'],
    ['devour red apple', 'eat red apple'],
  ];
  for (const [text, command] of cases) t.is(parsed(env, text), command, text);
});

test('case, articles, punctuation, extra spaces and "please" do not matter', (t) => {
  const env = studyEnv();
  for (const text of [
    'TAKE THE OLD BOOK',
    '  take   the   old book  ',
    'Take the old book!',
    'please take the book',
    'take a book, please',
    'take  some  book.',
  ]) {
    t.is(parsed(env, text), 'take old book from writing desk', text);
  }
  t.deepEqual(tokenize('  Hello,   WORLD!! '), ['hello', 'world']);
});

test('adjectives pick between things and ambiguity asks back', (t) => {
  const env = studyEnv();
  t.is(parsed(env, 'take the red key'), 'take red key from writing desk');
  t.is(feedbackOf(env, 'take red'), 'Which do you mean, the red key or the red apple?');
  t.is(parsed(env, 'take red from desk'), 'take red key from writing desk');
  for (const command of ['take red key', 'unlock chest with red key', 'open chest'])
    env.step(env.parseCommand(command));
  t.is(
    feedbackOf(env, 'examine apple'),
    'Which apple do you mean, the red apple or the green apple?',
  );
  t.is(feedbackOf(env, 'x red'), 'Which do you mean, the red key or the red apple?');
  t.is(parsed(env, 'examine green apple'), 'examine green apple');
  for (const command of ['e', 'take blue key', 'w']) env.step(env.parseCommand(command));
  t.is(feedbackOf(env, 'examine key'), 'Which key do you mean, the red key or the blue key?');
  t.is(feedbackOf(env, 'take apple'), 'Which apple do you mean, the red apple or the green apple?');
  // Among several matches, the one whose command can work now is chosen.
  env.step(env.parseCommand('take red apple'));
  t.is(parsed(env, 'take apple'), 'take green apple from oak chest');
  t.is(parsed(env, 'eat apple'), 'eat red apple');
  t.is(parsed(env, 'drop red key in chest'), 'insert red key into oak chest');
  t.is(parsed(env, 'unlock door'), 'unlock green door with blue key');
});

test('"all" expands to one command per thing and stepText plays them', (t) => {
  const env = studyEnv();
  t.deepEqual(
    env.parseCommands('take all').map((a) => env.currentGame.commands[a]),
    ['take red key from writing desk', 'take red apple', 'take old book from writing desk'],
  );
  t.deepEqual(
    env.parseCommands('take everything from the desk').map((a) => env.currentGame.commands[a]),
    ['take red key from writing desk', 'take old book from writing desk'],
  );
  t.throws(() => env.parseCommand('take all'), {
    instanceOf: CommandParseError,
    message: /stands for 3 commands/,
  });
  t.is(feedbackOf(env, 'take all from chest'), 'The oak chest is closed.');
  t.is(feedbackOf(env, 'drop all'), 'You are not carrying anything.');
  const result = env.stepText('take all');
  t.is(
    result.info['feedback'],
    'take red key from writing desk: You take the red key from the writing desk.\ntake red apple: You pick up the red apple.\ntake old book from writing desk: You take the old book from the writing desk.',
  );
  t.is(result.info['moves'], 3);
  t.is(feedbackOf(env, 'take all'), 'There is nothing here to take.');
  t.deepEqual(env.parseCommands('drop all').length, 3);
});

test('commands whose preconditions fail map to their action and step explains', (t) => {
  const env = studyEnv();
  t.is(parsed(env, 'open door'), 'open green door');
  t.is(env.step(env.parseCommand('open door')).info['feedback'], 'The green door is locked.');
  t.is(parsed(env, 'unlock green door with blue key'), 'unlock green door with blue key');
  t.is(
    env.step(env.parseCommand('unlock green door with blue key')).info['feedback'],
    "You aren't carrying the blue key.",
  );
  // A thing the player cannot see, known by one name: mapped, and step says it cannot be seen.
  t.is(parsed(env, 'take blue key'), 'take blue key');
  t.is(
    env.step(env.parseCommand('take blue key')).info['feedback'],
    "You can't see any such thing.",
  );
  t.is(parsed(env, 'go up'), 'go up');
  t.is(env.step(env.parseCommand('go up')).info['feedback'], "You can't go that way.");
});

test('text that names no command gets the feedback a player expects', (t) => {
  const env = studyEnv();
  const cases: [string, string][] = [
    ['', 'I beg your pardon?'],
    ['   ', 'I beg your pardon?'],
    ['dance wildly', "That's not a verb I recognise."],
    ['take the unicorn', "You can't see any such thing."],
    ['take the chest', 'The oak chest is fixed in place.'],
    ['eat the book', "That's plainly inedible."],
    ['open the book', "That's not something you can open."],
    ['unlock the green door with the red key', "The red key doesn't fit the green door."],
    ['unlock the green door', 'What do you want to unlock the green door with?'],
    ['examine', 'What do you want to examine?'],
    ['take', 'What do you want to take?'],
    ['go', 'Which way do you want to go?'],
    ['go sideways', 'You can only go north, south, east, west, up or down.'],
    ['put book', 'Where do you want to put it? (on a supporter, or in a container)'],
    ['put book on the red apple', "You can't put things on that."],
    ['take book from the green door', "You can't take things out of that."],
    ['take all with red key', "You can't see any such thing."],
    ['I will go north.', 'I only understood you as far as wanting to take inventory.'],
    ['i am not sure', 'I only understood you as far as wanting to take inventory.'],
  ];
  for (const [text, feedback] of cases) {
    const error = t.throws(() => env.parseCommand(text), { instanceOf: CommandParseError }, text);
    t.is(error.feedback, feedback, text);
    t.regex(error.message, /^Unknown command for/);
  }
});

test('every admissible command parses back to itself', (t) => {
  for (const env of [
    new TextWorldEnv({ family: 'file' }),
    new TextWorldEnv({ family: 'quest', questLength: 10 }),
    new TextWorldEnv({ family: 'treasure', level: 25 }),
  ]) {
    const rng = new Rng(5);
    let { info } = env.reset({ seed: 5 });
    for (let s = 0; s < 40; s++) {
      for (const command of env.commands()) t.is(parsed(env, command), command);
      const result = env.step(env.actionSpace.sample(rng, info['actionMask'] as Uint8Array));
      info = result.info;
      if (result.terminated) info = env.reset({ seed: s }).info;
    }
  }
});

test('fuzz: random strings and token sequences only ever throw CommandParseError and never change the state', (t) => {
  const rng = new Rng(11);
  const env = new TextWorldEnv({ family: 'file' });
  env.reset();
  env.stepText('n');
  const vocabulary = [
    ...new Set([
      ...env.currentGame.things.flatMap((thing) => thing.words),
      ...'go walk take get pick up down put place insert drop eat open close shut lock unlock with using from off out of in into on onto the a an all everything x examine look at l i inventory please n s e w u d north south east west through enter it and , . ! ? 0 42'.split(
        ' ',
      ),
    ]),
  ];
  const chars =
    'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;:!?\'"-_()[]{}/\\@#$%^&*~`\t\né漢字🙂';
  const inputs: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const length = rng.integer(0, 30);
    inputs.push(Array.from({ length }, () => chars[rng.integer(chars.length)]).join(''));
    inputs.push(
      Array.from(
        { length: rng.integer(1, 8) },
        () => vocabulary[rng.integer(vocabulary.length)],
      ).join(' '),
    );
  }
  const before = JSON.stringify(env.getState());
  let parsedCount = 0;
  for (const text of inputs) {
    try {
      const actions = env.parseCommands(text);
      t.true(
        actions.every((a) => env.actionSpace.contains(a)),
        text,
      );
      parsedCount++;
    } catch (error) {
      if (!(error instanceof CommandParseError))
        t.fail(`${JSON.stringify(text)} threw ${String(error)}`);
    }
  }
  t.is(JSON.stringify(env.getState()), before, 'parsing never changes the state');
  t.true(parsedCount > 50, 'some token sequences form commands');
  // stepText turns parse failures into feedback: state unchanged, one move counted.
  let moves = env.stepText('look').info['moves'] as number;
  for (const text of inputs.slice(0, 400)) {
    const snapshot = env.getState() as { env: { facts: number[] } };
    let failedToParse = false;
    try {
      env.parseCommands(text);
    } catch {
      failedToParse = true;
    }
    if (!failedToParse) continue;
    const result = env.stepText(text);
    moves++;
    t.is(result.info['moves'], moves);
    t.is(result.reward, 0);
    t.deepEqual((env.getState() as { env: { facts: number[] } }).env.facts, snapshot.env.facts);
  }
});
