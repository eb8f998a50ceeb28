import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MalformedFileError } from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';
import { EXAMPLE_GAME } from '../../../envs/textworld/example-game.js';
import { loadGameFile, parseGameFile, type GameFile } from '../../../envs/textworld/game-file.js';
import { TextWorldEnv, writeGameFile } from '../../../envs/textworld/textworld.js';

const EXAMPLE_PATH = 'envs/textworld/examples/lost-coin.json';

test('the hand-written example file is the built-in example game and plays to a win in 17 commands', (t) => {
  t.deepEqual(JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8')), EXAMPLE_GAME);
  const env = new TextWorldEnv({ family: 'file', path: EXAMPLE_PATH });
  env.reset();
  const walkthrough = env.walkthrough()!;
  t.is(walkthrough.length, 17);
  const results = walkthrough.map((command) => env.step(env.parseCommand(command)));
  const last = results[results.length - 1]!;
  t.true(last.terminated);
  t.true(last.info['won']);
  t.is(last.reward, 1);
});

test('game file round trip: a generated game exported, written, loaded and played gives the same play', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-tw-'));
  for (const [options, seed] of [
    [{ family: 'quest', questLength: 10 }, 3],
    [{ family: 'treasure', level: 24 }, 8],
    [{ family: 'coins', level: 115 }, 2],
  ] as const) {
    const generated = new TextWorldEnv(options);
    generated.reset({ seed });
    const path = join(dir, `game-${seed}.json`);
    writeGameFile(path, generated.exportGame());
    const loaded = new TextWorldEnv({ family: 'file', path });
    t.is(loaded.observationSpace.size, generated.observationSpace.size);
    t.is(loaded.actionSpace.n, generated.actionSpace.n);
    const a = generated.reset({ seed });
    const b = loaded.reset({ seed });
    t.deepEqual(b.observation, a.observation);
    t.is(loaded.describe(), generated.describe());
    const rng = new Rng(seed);
    const walkthrough = generated.walkthrough()!;
    const actions = [
      ...Array.from({ length: 30 }, () => generated.actionSpace.sample(rng)),
      ...walkthrough.map((c) => generated.currentGame.commandIndex.get(c)!),
    ];
    generated.reset({ seed });
    for (const action of actions) {
      const x = generated.step(action);
      const y = loaded.step(action);
      t.deepEqual(y.observation, x.observation);
      t.is(y.reward, x.reward);
      t.is(y.terminated, x.terminated);
      t.is(y.info['feedback'], x.info['feedback']);
      t.deepEqual(y.info['admissibleCommands'], x.info['admissibleCommands']);
      if (x.terminated) break;
    }
  }
});

test('exporting from the current state starts a new game where the player is now', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  env.reset();
  for (const command of ['take apple', 'n', 'take key', 'open pantry door']) env.stepText(command);
  const file = env.exportGame({ fromCurrentState: true });
  t.is(file.start, 'kitchen');
  t.is(file.doors!.find((d) => d.id === 'pantry_door')!.state, 'open');
  t.is(file.objects!.find((o) => o.id === 'iron_key')!.location, 'inventory');
  const resumed = new TextWorldEnv({ family: 'file', game: file });
  resumed.reset();
  t.is(resumed.describe(), env.describe());
  t.is(resumed.walkthrough()!.length, env.walkthrough()!.length);
});

/** A change to a game: the value at a JSON path (`undefined` deletes the key). */
type Edit = [path: (string | number)[], value: unknown];

/** Applies edits to a copy of the example game and expects a MalformedFileError at `path` matching `problem`. */
function malformed(t: ExecutionContext, edits: Edit[], path: string, problem: RegExp): void {
  const game = structuredClone(EXAMPLE_GAME) as unknown as Record<string | number, unknown>;
  for (const [keys, value] of edits) {
    let node = game;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = keys[keys.length - 1]!;
    if (value === undefined) Reflect.deleteProperty(node, last);
    else node[last] = value;
  }
  const error = t.throws(() => parseGameFile(game, 'bad.json'), { instanceOf: MalformedFileError });
  t.is(error.jsonPath, path);
  t.is(error.file, 'bad.json');
  t.regex(error.message, problem);
}

test('a malformed file names the JSON path, what was found and what is allowed', (t) => {
  const cases: [Edit[], string, RegExp][] = [
    [
      [[['rooms', 3, 'exits', 'up'], 'celar']],
      '$.rooms[3].exits.up',
      /expected the id of a room, received "celar"; known rooms: hall, kitchen, pantry, cellar/,
    ],
    [
      [[['rooms', 1, 'exits', 'north'], 42]],
      '$.rooms[1].exits.north',
      /expected a room id, or \{"to": room id, "door": door id\}, received 42/,
    ],
    [
      [[['rooms', 0, 'exits', 'sideways'], 'kitchen']],
      '$.rooms[0].exits',
      /expected only the keys north, south, east, west, up, down, received unknown key "sideways"/,
    ],
    [
      [[['rooms', 0, 'exits', 'down', 'door'], 'hatch']],
      '$.rooms[0].exits.down.door',
      /expected the id of a door, received "hatch"; known doors: trapdoor, pantry_door/,
    ],
    [
      [[['doors', 0, 'state'], 'ajar']],
      '$.doors[0].state',
      /expected "open", "closed" or "locked", received "ajar"/,
    ],
    [
      [[['doors', 0, 'key'], undefined]],
      '$.doors[0].state',
      /expected "open" or "closed" for a door without a key, received "locked"/,
    ],
    [
      [[['doors', 0, 'key'], 'silver_key']],
      '$.doors[0].key',
      /expected the id of an object, received "silver_key"/,
    ],
    [
      [[['containers', 1, 'key'], 'hall']],
      '$.containers[1].key',
      /expected the id of an object, received "hall" \(a room\)/,
    ],
    [
      [[['objects', 2, 'location'], 'attic']],
      '$.objects[2].location',
      /expected "inventory" or the id of a room, container or supporter, received "attic"/,
    ],
    [
      [[['objects', 2, 'id'], 'apple']],
      '$.objects[3].id',
      /expected an id unique across rooms, doors, containers, supporters and objects, received "apple"/,
    ],
    [
      [[['objects', 0, 'name'], 'Iron Key']],
      '$.objects[0].name',
      /expected a name: lowercase words of letters and digits separated by single spaces, received "Iron Key"/,
    ],
    [
      [[['objects', 0, 'name'], 'key with teeth']],
      '$.objects[0].name',
      /received "key with teeth" containing "with"/,
    ],
    [
      [[['supporters', 0, 'room'], 'attic']],
      '$.supporters[0].room',
      /expected the id of a room, received "attic"/,
    ],
    [[[['start'], undefined]], '$.start', /received nothing \(the key is missing\)/],
    [[[['version'], 2]], '$.version', /expected 1, received 2/],
    [
      [[['rooms', 2, 'exits', 'west', 'door'], 'trapdoor']],
      '$.rooms[3].exits.up.door',
      /expected door "trapdoor" on at most two exits/,
    ],
    [
      [
        [['rooms', 1, 'exits', 'east'], 'pantry'],
        [['rooms', 2, 'exits', 'west'], 'kitchen'],
      ],
      '$.doors[1]',
      /expected a door used by one or two exits, received door "pantry_door" that no exit uses/,
    ],
    [
      [[['rooms', 2, 'exits'], { north: { to: 'kitchen', door: 'pantry_door' } }]],
      '$.rooms[2].exits.north.door',
      /expected door "pantry_door" on two exits leading back to each other/,
    ],
    [
      [[['quest', 'win'], ['on(coin, shelf)']]],
      '$.quest.win[0]',
      /expected a fact of this game .* received "on\(coin, shelf\)"/,
    ],
    [
      [[['quest', 'win'], ['locked(pantry_door)']]],
      '$.quest.win[0]',
      /received "locked\(pantry_door\)"/,
    ],
    [
      [[['quest', 'win'], ['exit(hall, north, kitchen)']]],
      '$.quest.win[0]',
      /expected a fact that can change .* received the fixed fact "exit\(hall, north, kitchen\)"/,
    ],
    [[[['quest', 'win'], []]], '$.quest.win', /expected at least one fact, received \[\]/],
    [
      [[['quest', 'fail'], ['at(apple, hall)']]],
      '$.quest.fail[0]',
      /expected a fact false at the start, received "at\(apple, hall\)"/,
    ],
    [[[['quest', 'win'], ['at(player, hall)']]], '$.quest.win', /already hold/],
    // A key locked inside the chest it opens: no sequence of commands wins.
    [
      [[['objects', 1, 'location'], 'chest']],
      '$.quest.win',
      /which no sequence reaches from the start/,
    ],
    // The only way out of the cellar opens the trapdoor, which loses: every winning sequence fails first.
    [
      [
        [['quest', 'win'], ['at(player, kitchen)']],
        [['start'], 'cellar'],
        [['quest', 'fail'], ['open(trapdoor)']],
        [['doors', 0, 'state'], 'closed'],
      ],
      '$.quest.win',
      /without triggering a fail fact/,
    ],
  ];
  for (const [edits, path, problem] of cases) malformed(t, edits, path, problem);
});

test('unreadable files and invalid JSON are MalformedFileError at $', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-tw-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"format": "wmgym-textworld", ');
  t.throws(() => loadGameFile(bad), {
    instanceOf: MalformedFileError,
    message: /bad\.json at \$: expected JSON, received text that does not parse/,
  });
  t.throws(() => loadGameFile(join(dir, 'missing.json')), {
    instanceOf: MalformedFileError,
    message: /missing\.json at \$: expected a readable JSON file/,
  });
  t.throws(() => parseGameFile([1, 2], 'list.json'), {
    instanceOf: MalformedFileError,
    message: /list\.json at \$: expected/,
  });
  t.throws(() => new TextWorldEnv({ family: 'file', path: bad }), {
    instanceOf: MalformedFileError,
  });
});

test('writing an invalid game refuses with MalformedFileError', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-tw-'));
  const game: GameFile = structuredClone(EXAMPLE_GAME);
  game.start = 'nowhere';
  t.throws(() => writeGameFile(join(dir, 'x.json'), game), {
    instanceOf: MalformedFileError,
    message: /at \$\.start/,
  });
});
