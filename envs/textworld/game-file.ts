/**
 * The JSON game format of TextWorld games: rooms with exits, doors, containers, supporters, portable
 * objects (each with its starting location and state), the player's start room, the quest and the
 * texts. Generated games export to it; `make('TextWorld-File-v0', { path })` plays one.
 *
 * Reading a file is two passes: a zod schema checks the shape (types, allowed keys, id and name
 * patterns), then semantic checks resolve every reference (rooms, doors, keys, locations, quest facts)
 * and prove the quest winnable by search. Either pass fails with a {@link MalformedFileError} naming the
 * JSON path (`$.rooms[3].exits.north`), what was found and what is allowed.
 *
 * @example
 * const game = loadGameFile('envs/textworld/examples/lost-coin.json');
 * const env = make('TextWorld-File-v0', { path: 'envs/textworld/examples/lost-coin.json' });
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MalformedFileError, formatValue } from '../core/errors.js';
import type { JsonValue } from '../core/env.js';
import { Game } from './game.js';
import { DIRECTIONS, REVERSE_DIRECTION, type Direction } from './rules.js';
import { relaxedReachable, solveQuest } from './search.js';

/** Version of the format this code reads and writes. */
export const GAME_FILE_VERSION = 1;

/** The `format` tag of every game file. */
export const GAME_FILE_FORMAT = 'wmgym-textworld';

/** Opening state of a door or container. `locked` needs a `key`. */
export type OpenState = 'open' | 'closed' | 'locked';

/** An exit: the id of the room it leads to, or that room and the door on the way. */
export type ExitDefinition = string | { to: string; door: string };

/** A room. */
export interface RoomDefinition {
  /** Unique id (lowercase letters, digits, `_`), used in facts: `at(player, kitchen)`. */
  id: string;
  /** Display name, e.g. `dusty kitchen`. */
  name: string;
  /** What the player reads on entering (before the list of things and exits). */
  description?: string;
  /** Exits by direction. */
  exits?: Partial<Record<Direction, ExitDefinition>>;
}

/** Things the player can name: words of `name` (adjectives then noun) plus optional synonyms. */
export interface NamedDefinition {
  /** Unique id, used in facts. */
  id: string;
  /** Display name: lowercase words, the last one the noun, e.g. `brass key`. */
  name: string;
  /** Extra nouns the parser accepts, e.g. `["coin", "money"]`. */
  synonyms?: string[];
  /** What `examine` prints. */
  description?: string;
}

/** A door on one exit (one-way) or on two exits that lead back to each other. */
export interface DoorDefinition extends NamedDefinition {
  /** Opening state at the start. */
  state: OpenState;
  /** Id of the object that locks and unlocks it; required when `state` is `locked`. */
  key?: string;
}

/** A container standing in a room (fixed in place). */
export interface ContainerDefinition extends NamedDefinition {
  /** Id of the room it stands in. */
  room: string;
  /** Opening state at the start. */
  state: OpenState;
  /** Id of the object that locks and unlocks it; required when `state` is `locked`. */
  key?: string;
}

/** A supporter (table, shelf) standing in a room (fixed in place). */
export interface SupporterDefinition extends NamedDefinition {
  /** Id of the room it stands in. */
  room: string;
}

/** A portable object. */
export interface ObjectDefinition extends NamedDefinition {
  /** Where it starts: the id of a room (on the floor), a container, a supporter, or `inventory`. */
  location: string;
  /** Whether it can be eaten. @defaultValue false */
  edible?: boolean;
}

/** What the player must do. Facts are written as in `info.facts`, e.g. `on(apple, table)`. */
export interface QuestDefinition {
  /** The objective sentence shown to the player. */
  objective: string;
  /** Facts that must all hold to win. */
  win: string[];
  /** Facts any one of which loses the game (e.g. `eaten(apple)`). @defaultValue [] */
  fail?: string[];
  /**
   * Facts rewarded once each with `intermediateReward` (the last win fact included). Defaults to the
   * quest's landmarks: facts every winning sequence must make true, found by search.
   */
  subgoals?: string[];
}

/** A whole game. */
export interface GameFile {
  /** Always `wmgym-textworld`. */
  format: typeof GAME_FILE_FORMAT;
  /** Always 1. */
  version: typeof GAME_FILE_VERSION;
  /** Title shown at the start. */
  title?: string;
  /** Text shown at the start, before the first room. */
  intro?: string;
  /** Id of the room the player starts in. */
  start: string;
  rooms: RoomDefinition[];
  doors?: DoorDefinition[];
  containers?: ContainerDefinition[];
  supporters?: SupporterDefinition[];
  objects?: ObjectDefinition[];
  quest: QuestDefinition;
  /** Free-form information (a generated game records its family, level, seed and quest length here). */
  metadata?: Record<string, JsonValue>;
}

/** Words the parser reserves; they cannot appear in the name of a thing. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'the',
  'some',
  'all',
  'everything',
  'from',
  'in',
  'into',
  'inside',
  'on',
  'onto',
  'upon',
  'with',
  'using',
  'off',
  'out',
  'of',
  'to',
  'and',
  'it',
  'at',
  'up',
  'down',
]);

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;
const NAME_PATTERN = /^[a-z0-9]+( [a-z0-9]+)*$/;
const ID_RULE = 'an id: a lowercase letter, then lowercase letters, digits or _';
const NAME_RULE = 'a name: lowercase words of letters and digits separated by single spaces';

const id = z.string({ error: ID_RULE }).regex(ID_PATTERN, { error: ID_RULE });
const name = z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE });
const text = z.string({ error: 'a string' });
const openState = z.enum(['open', 'closed', 'locked'], { error: '"open", "closed" or "locked"' });
const synonyms = z.array(name, { error: 'an array of names' });

const exitSchema = z.union([id, z.strictObject({ to: id, door: id })], {
  error: 'a room id, or {"to": room id, "door": door id}',
});

const roomSchema = z.strictObject({
  id,
  name: z.string({ error: 'a string' }).min(1, { error: 'a non-empty string' }),
  description: text.optional(),
  exits: z
    .strictObject({
      north: exitSchema.optional(),
      south: exitSchema.optional(),
      east: exitSchema.optional(),
      west: exitSchema.optional(),
      up: exitSchema.optional(),
      down: exitSchema.optional(),
    })
    .optional(),
});

const doorSchema = z.strictObject({
  id,
  name,
  synonyms: synonyms.optional(),
  description: text.optional(),
  state: openState,
  key: id.optional(),
});
const containerSchema = z.strictObject({
  id,
  name,
  synonyms: synonyms.optional(),
  description: text.optional(),
  room: id,
  state: openState,
  key: id.optional(),
});
const supporterSchema = z.strictObject({
  id,
  name,
  synonyms: synonyms.optional(),
  description: text.optional(),
  room: id,
});
const objectSchema = z.strictObject({
  id,
  name,
  synonyms: synonyms.optional(),
  description: text.optional(),
  location: id,
  edible: z.boolean({ error: 'true or false' }).optional(),
});
const factList = z.array(z.string({ error: 'a fact such as "carried(apple)"' }), {
  error: 'an array of facts',
});
const questSchema = z.strictObject({
  objective: text,
  win: factList.min(1, { error: 'at least one fact' }),
  fail: factList.optional(),
  subgoals: factList.optional(),
});

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

/** The zod schema of a game file (shape only; references are checked by {@link parseGameFile}). */
export const GAME_FILE_SCHEMA = z.strictObject({
  format: z.literal(GAME_FILE_FORMAT, { error: `"${GAME_FILE_FORMAT}"` }),
  version: z.literal(GAME_FILE_VERSION, { error: String(GAME_FILE_VERSION) }),
  title: text.optional(),
  intro: text.optional(),
  start: id,
  rooms: z.array(roomSchema, { error: 'an array of rooms' }).min(1, { error: 'at least one room' }),
  doors: z.array(doorSchema, { error: 'an array of doors' }).optional(),
  containers: z.array(containerSchema, { error: 'an array of containers' }).optional(),
  supporters: z.array(supporterSchema, { error: 'an array of supporters' }).optional(),
  objects: z.array(objectSchema, { error: 'an array of objects' }).optional(),
  quest: questSchema,
  metadata: z.record(z.string(), jsonValue, { error: 'an object' }).optional(),
});

const KEYS: Record<string, readonly string[]> = {
  top: [
    'format',
    'version',
    'title',
    'intro',
    'start',
    'rooms',
    'doors',
    'containers',
    'supporters',
    'objects',
    'quest',
    'metadata',
  ],
  rooms: ['id', 'name', 'description', 'exits'],
  exits: DIRECTIONS,
  exit: ['to', 'door'],
  doors: ['id', 'name', 'synonyms', 'description', 'state', 'key'],
  containers: ['id', 'name', 'synonyms', 'description', 'room', 'state', 'key'],
  supporters: ['id', 'name', 'synonyms', 'description', 'room'],
  objects: ['id', 'name', 'synonyms', 'description', 'location', 'edible'],
  quest: ['objective', 'win', 'fail', 'subgoals'],
};

/** `$.rooms[3].exits.north` from a path of keys and indices. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

function allowedKeys(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return KEYS['top']!;
  const head = String(path[0]);
  if (head === 'quest') return KEYS['quest']!;
  if (head === 'rooms' && path.length === 3) return KEYS['exits']!;
  if (head === 'rooms' && path.length === 4) return KEYS['exit']!;
  return KEYS[head] ?? [];
}

function issueProblem(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const received = 'input' in issue ? formatValue(input) : 'nothing (the key is missing)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `expected only the keys ${allowedKeys(issue.path).join(', ')}, received unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_type':
      if (!('input' in issue) || input === undefined)
        return `expected ${issue.message}, received nothing (the key is missing)`;
      return `expected ${issue.message}, received ${received}`;
    default:
      return `expected ${issue.message}, received ${received}`;
  }
}

function article(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

function fail(file: string, path: readonly PropertyKey[], problem: string): never {
  throw new MalformedFileError(file, jsonPath(path), problem);
}

/**
 * Reads and validates a game file from disk.
 *
 * @throws {@link MalformedFileError} for unreadable files, invalid JSON, a wrong shape, unknown
 * references, or an unwinnable quest.
 */
export function loadGameFile(path: string): GameFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MalformedFileError(
      path,
      '$',
      `expected a readable JSON file, received ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new MalformedFileError(
      path,
      '$',
      `expected JSON, received text that does not parse (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  return parseGameFile(json, path);
}

/**
 * Validates a parsed JSON value as a game file: shape (zod), then references and winnability.
 * Returns a deep copy; `file` names the source in error messages.
 *
 * @throws {@link MalformedFileError} naming the JSON path, what was found and what is allowed.
 */
export function parseGameFile(json: unknown, file = '<game>'): GameFile {
  const result = GAME_FILE_SCHEMA.safeParse(json, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    fail(file, issue.path, issueProblem(issue));
  }
  const game = structuredClone(result.data) as GameFile;
  checkReferences(game, file);
  checkQuest(game, file);
  return game;
}

/**
 * Compiles the game (quest facts must be facts of this game) and proves the quest playable: not won
 * or lost at the start, and winnable — by the delete relaxation (a quick disproof), then by exact
 * search (up to `maxNodes` states; a game too large to search within it is accepted).
 */
function checkQuest(file: GameFile, source: string, maxNodes = 400_000): void {
  const game = new Game(file, source);
  const facts = file.quest.fail ?? [];
  game.failFacts.forEach((f, i) => {
    if (game.initialState[f] === 1)
      fail(
        source,
        ['quest', 'fail', i],
        `expected a fact false at the start, received ${JSON.stringify(facts[i])}, which already holds (the game would be lost before it begins)`,
      );
  });
  if (game.allHold(game.initialState, game.winFacts)) {
    fail(
      source,
      ['quest', 'win'],
      `expected facts not all true at the start, received ${formatValue(file.quest.win)}, which already hold (the game would be won before it begins)`,
    );
  }
  const unwinnable = `expected facts some sequence of commands can make true, received ${formatValue(file.quest.win)}, which no sequence reaches from the start`;
  if (!relaxedReachable(game, game.initialState, game.winFacts))
    fail(source, ['quest', 'win'], `${unwinnable} (even ignoring what commands undo)`);
  const result = solveQuest(game, game.initialState, { maxNodes });
  if (result.status === 'unwinnable')
    fail(source, ['quest', 'win'], `${unwinnable} without triggering a fail fact`);
}

type Kind = 'room' | 'door' | 'container' | 'supporter' | 'object';

/** Checks every reference of a shape-valid game (ids, exits, doors, keys, locations). Quest facts and winnability are checked when compiling. */
function checkReferences(game: GameFile, file: string): void {
  const kinds = new Map<string, Kind>();
  const names = new Map<string, string>();
  const declare = (kind: Kind, list: readonly { id: string }[] | undefined, key: string): void => {
    list?.forEach((entity, i) => {
      if (entity.id === 'player' || entity.id === 'inventory') {
        fail(
          file,
          [key, i, 'id'],
          `expected an id other than the reserved "player" and "inventory", received ${JSON.stringify(entity.id)}`,
        );
      }
      const previous = kinds.get(entity.id);
      if (previous !== undefined) {
        fail(
          file,
          [key, i, 'id'],
          `expected an id unique across rooms, doors, containers, supporters and objects, received ${JSON.stringify(entity.id)} (already the id of ${article(previous)})`,
        );
      }
      kinds.set(entity.id, kind);
    });
  };
  declare('room', game.rooms, 'rooms');
  declare('door', game.doors, 'doors');
  declare('container', game.containers, 'containers');
  declare('supporter', game.supporters, 'supporters');
  declare('object', game.objects, 'objects');

  const known = (kind: Kind): string => {
    const ids = [...kinds].filter(([, k]) => k === kind).map(([i]) => i);
    return ids.length === 0
      ? `there are no ${kind}s`
      : `known ${kind}s: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}`;
  };
  const expectKind = (path: readonly PropertyKey[], value: string, kind: Kind): void => {
    if (kinds.get(value) !== kind) {
      const actual = kinds.get(value);
      fail(
        file,
        path,
        `expected the id of ${article(kind)}, received ${JSON.stringify(value)}${actual === undefined ? '' : ` (${article(actual)})`}; ${known(kind)}`,
      );
    }
  };

  const things: [string, { name: string; synonyms?: string[] }[] | undefined][] = [
    ['doors', game.doors],
    ['containers', game.containers],
    ['supporters', game.supporters],
    ['objects', game.objects],
  ];
  for (const [key, list] of things) {
    list?.forEach((thing, i) => {
      const words = [
        ...thing.name.split(' '),
        ...(thing.synonyms ?? []).flatMap((s) => s.split(' ')),
      ];
      const reserved = words.find((w) => RESERVED_WORDS.has(w));
      if (reserved !== undefined) {
        fail(
          file,
          [key, i, 'name'],
          `expected words the parser does not reserve (${[...RESERVED_WORDS].join(', ')}), received ${JSON.stringify(thing.name)} containing "${reserved}"`,
        );
      }
      const other = names.get(thing.name);
      if (other !== undefined)
        fail(
          file,
          [key, i, 'name'],
          `expected a name unique among things, received ${JSON.stringify(thing.name)} (already the name of ${other})`,
        );
      names.set(thing.name, `${key}[${i}]`);
    });
  }

  expectKind(['start'], game.start, 'room');

  const doorUses = new Map<
    string,
    { room: string; dir: Direction; to: string; path: PropertyKey[] }[]
  >();
  game.rooms.forEach((room, i) => {
    for (const dir of DIRECTIONS) {
      const exit = room.exits?.[dir];
      if (exit === undefined) continue;
      const to = typeof exit === 'string' ? exit : exit.to;
      const path: PropertyKey[] = ['rooms', i, 'exits', dir];
      expectKind(typeof exit === 'string' ? path : [...path, 'to'], to, 'room');
      if (typeof exit !== 'string') {
        expectKind([...path, 'door'], exit.door, 'door');
        const uses = doorUses.get(exit.door) ?? [];
        uses.push({ room: room.id, dir, to, path: [...path, 'door'] });
        doorUses.set(exit.door, uses);
      }
    }
  });

  const checkLock = (
    key: 'doors' | 'containers',
    i: number,
    lock: { state: OpenState; key?: string },
  ): void => {
    if (lock.key !== undefined) expectKind([key, i, 'key'], lock.key, 'object');
    if (lock.state === 'locked' && lock.key === undefined) {
      fail(
        file,
        [key, i, 'state'],
        `expected "open" or "closed" for a ${key === 'doors' ? 'door' : 'container'} without a key, received "locked" (add "key": the id of the object that unlocks it)`,
      );
    }
  };

  game.doors?.forEach((door, i) => {
    const uses = doorUses.get(door.id) ?? [];
    if (uses.length === 0)
      fail(
        file,
        ['doors', i],
        `expected a door used by one or two exits, received door ${JSON.stringify(door.id)} that no exit uses`,
      );
    if (uses.length > 2)
      fail(
        file,
        uses[2]!.path,
        `expected door ${JSON.stringify(door.id)} on at most two exits (one each way), received a third use`,
      );
    if (uses.length === 2) {
      const [a, b] = uses as [(typeof uses)[number], (typeof uses)[number]];
      if (a.to !== b.room || b.to !== a.room || REVERSE_DIRECTION[a.dir] !== b.dir) {
        fail(
          file,
          b.path,
          `expected door ${JSON.stringify(door.id)} on two exits leading back to each other (${a.room} ${a.dir} -> ${a.to}, so ${a.to} ${REVERSE_DIRECTION[a.dir]} -> ${a.room}), received ${b.room} ${b.dir} -> ${b.to}`,
        );
      }
    }
    checkLock('doors', i, door);
  });
  game.containers?.forEach((container, i) => {
    expectKind(['containers', i, 'room'], container.room, 'room');
    checkLock('containers', i, container);
  });
  game.supporters?.forEach((supporter, i) =>
    expectKind(['supporters', i, 'room'], supporter.room, 'room'),
  );
  game.objects?.forEach((object, i) => {
    if (object.location === 'inventory') return;
    const kind = kinds.get(object.location);
    if (kind !== 'room' && kind !== 'container' && kind !== 'supporter') {
      fail(
        file,
        ['objects', i, 'location'],
        `expected "inventory" or the id of a room, container or supporter, received ${JSON.stringify(object.location)}${kind === undefined ? '' : ` (${article(kind)})`}`,
      );
    }
  });
}
