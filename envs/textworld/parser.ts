/**
 * The command parser of TextWorld games: free text as players type it, mapped to the game's
 * Discrete actions.
 *
 * - Case, punctuation and extra spaces are ignored; articles (`the`, `a`, `an`, `some`) and `my` are
 *   dropped; a trailing or leading `please` is allowed.
 * - Verbs and synonyms: `go`/`walk`/`run`/`head` + direction, bare directions and `n s e w u d`;
 *   `look`/`l`; `inventory`/`i`/`inv`; `examine`/`x`/`inspect`/`check`/`read`/`look at`/`look in`;
 *   `take`/`get`/`grab`/`pick up`/`pick … up`/`collect` (+ `from`/`off`/`out of`); `drop`/`discard`/
 *   `put down`/`put … down`; `put`/`place`/`set`/`lay` … `on`/`onto` (put) or `in`/`into`/`inside`
 *   (insert); `insert` … `into`; `open`; `close`/`shut`; `unlock`/`lock` … [`with` key]; `eat`/`consume`/
 *   `devour`; `go through`/`enter` a door.
 * - Things are named by any of their words (`take the red key`, `take red`, `get key`); a name that
 *   matches a thing's full name exactly wins over partial matches.
 * - Scope: things the player can see come first. When no visible thing matches but exactly one known
 *   thing does, the command maps to that thing's action and `step` answers "You can't see any such
 *   thing." (so free text and Discrete actions give the same feedback).
 * - Ambiguity: among several visible matches, those whose command is admissible now are kept; if
 *   still several, the parser asks back ("Which key do you mean, the red key or the blue key?").
 * - `all` (`take all`, `take all from chest`, `drop all`) expands to one action per thing.
 * - A command that names a real command whose preconditions fail maps to that action; `step` gives
 *   the failure feedback ("The oak door is locked."). Text that names no command of the game throws
 *   {@link CommandParseError} carrying the feedback a player expects.
 */
import { CommandParseError } from '../core/errors.js';
import type { Game, Thing, ThingKind } from './game.js';
import { DIRECTIONS } from './rules.js';

const DIRECTION_WORDS: Readonly<Record<string, number>> = {
  n: 0,
  north: 0,
  s: 1,
  south: 1,
  e: 2,
  east: 2,
  w: 3,
  west: 3,
  u: 4,
  up: 4,
  d: 5,
  down: 5,
};
const ARTICLES = new Set(['the', 'a', 'an', 'some', 'my']);
const GO = new Set(['go', 'walk', 'run', 'head', 'move', 'travel', 'climb']);
const EXAMINE = new Set(['examine', 'x', 'inspect', 'check', 'read', 'describe', 'study']);
const TAKE = new Set(['take', 'get', 'grab', 'collect', 'fetch']);
const DROP = new Set(['drop', 'discard', 'dump']);
const PUT = new Set(['put', 'place', 'set', 'lay', 'stick']);
const INSERT = new Set(['insert']);
const EAT = new Set(['eat', 'consume', 'devour']);
const CLOSE = new Set(['close', 'shut']);
const ON = new Set(['on', 'onto', 'upon']);
const IN = new Set(['in', 'into', 'inside']);
const FROM = new Set(['from', 'off', 'out']);
const WITH = new Set(['with', 'using']);

/** Where the parser looks: the compiled game, the state, the player's room, and the env id for errors. */
export interface ParseContext {
  readonly game: Game;
  readonly state: Uint8Array;
  readonly room: number;
  readonly envId: string;
}

const ALLOWED =
  'a command such as "go north", "take <thing>", "open <thing>", "look" (commands() lists what works now)';

class ParseFailure extends Error {
  readonly feedback: string;

  constructor(feedback: string) {
    super(feedback);
    this.feedback = feedback;
  }
}

function failWith(feedback: string): never {
  throw new ParseFailure(feedback);
}

/** Lowercase words of a command, punctuation and extra spaces removed. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '');
}

/**
 * Maps free text to the actions it stands for: one action, or several for `all`.
 *
 * @throws {@link CommandParseError} with `feedback` (e.g. "You can't see any such thing.") when the
 * text names no command of the game.
 */
export function parseCommands(context: ParseContext, text: string): number[] {
  if (typeof text !== 'string') {
    throw new CommandParseError(context.envId, String(text), ALLOWED, 'I beg your pardon?');
  }
  try {
    return new Parser(context).parse(tokenize(text));
  } catch (error) {
    if (error instanceof ParseFailure)
      throw new CommandParseError(context.envId, text, ALLOWED, error.feedback);
    throw error;
  }
}

/**
 * Maps free text to exactly one action (see {@link parseCommands}); `all` standing for several
 * commands is a parse error whose feedback lists them.
 *
 * @throws {@link CommandParseError}
 */
export function parseCommand(context: ParseContext, text: string): number {
  const actions = parseCommands(context, text);
  if (actions.length === 1) return actions[0]!;
  const list = actions.map((a) => context.game.commands[a]!);
  throw new CommandParseError(
    context.envId,
    text,
    'a single command',
    `"${text.trim()}" stands for ${actions.length} commands here (${list.join(', ')}); give them one at a time.`,
  );
}

class Parser {
  private readonly game: Game;
  private readonly state: Uint8Array;
  private readonly room: number;
  private readonly visible: Set<number>;

  constructor(context: ParseContext) {
    this.game = context.game;
    this.state = context.state;
    this.room = context.room;
    this.visible = visibleThings(context.game, context.state, context.room);
  }

  parse(input: string[]): number[] {
    let words = input.filter((w) => !ARTICLES.has(w));
    if (words[0] === 'please') words = words.slice(1);
    if (words[words.length - 1] === 'please') words = words.slice(0, -1);
    if (words.length === 0) failWith('I beg your pardon?');
    const [verb, ...rest] = words as [string, ...string[]];

    if (verb in DIRECTION_WORDS && rest.length === 0)
      return [this.command(`go ${DIRECTIONS[DIRECTION_WORDS[verb]!]!}`)];
    if (GO.has(verb) || verb === 'enter')
      return [this.go(verb === 'enter' ? ['through', ...rest] : rest)];
    if (verb === 'look' || verb === 'l') {
      if (rest.length === 0 || (rest.length === 1 && rest[0] === 'around'))
        return [this.command('look')];
      if (rest[0] === 'at' || IN.has(rest[0]!)) return [this.examine(rest.slice(1))];
      return [this.examine(rest)];
    }
    if (verb === 'inventory' || verb === 'i' || verb === 'inv') {
      // As Inform: "i am lost" is not a request for the inventory.
      if (rest.length > 0) failWith('I only understood you as far as wanting to take inventory.');
      return [this.command('inventory')];
    }
    if (verb === 'take' && rest.length === 1 && rest[0] === 'inventory')
      return [this.command('inventory')];
    if (EXAMINE.has(verb)) return [this.examine(rest)];
    if (verb === 'pick') {
      if (rest[0] === 'up') return this.take(rest.slice(1));
      if (rest[rest.length - 1] === 'up') return this.take(rest.slice(0, -1));
      failWith('What do you want to pick up?');
    }
    if (TAKE.has(verb) || verb === 'remove') return this.take(rest);
    if (DROP.has(verb) || verb === 'leave') return this.drop(rest);
    if (PUT.has(verb) || INSERT.has(verb)) {
      if (rest[0] === 'down') return this.drop(rest.slice(1));
      if (rest[rest.length - 1] === 'down' && !rest.some((w) => ON.has(w) || IN.has(w)))
        return this.drop(rest.slice(0, -1));
      return [this.put(rest, INSERT.has(verb) ? 'insert' : 'either')];
    }
    if (verb === 'open') return [this.openClose(rest, 'open')];
    if (CLOSE.has(verb)) return [this.openClose(rest, 'close')];
    if (verb === 'unlock' || verb === 'lock') return [this.lockUnlock(rest, verb)];
    if (EAT.has(verb)) return [this.eat(rest)];
    return failWith("That's not a verb I recognise.");
  }

  /** The action of an exact command text; unknown texts are parse failures. */
  private command(text: string, otherwise = "You can't see any such thing."): number {
    const action = this.game.commandIndex.get(text);
    if (action === undefined) failWith(otherwise);
    return action;
  }

  private go(rest: string[]): number {
    const words = rest[0] === 'to' ? rest.slice(1) : rest;
    if (words.length === 1 && (words[0] ?? '') in DIRECTION_WORDS)
      return this.command(`go ${DIRECTIONS[DIRECTION_WORDS[words[0]!]!]!}`);
    if (words[0] === 'through' || words[0] === 'in' || words[0] === 'into') {
      const door = this.resolve(
        words.slice(1),
        ['door'],
        'go through',
        (t) => this.throughDoor(t),
        "You can't go through that.",
      );
      return this.throughDoor(door);
    }
    if (words.length === 0) failWith('Which way do you want to go?');
    return failWith('You can only go north, south, east, west, up or down.');
  }

  private throughDoor(door: Thing): number {
    const room = this.game.rooms[this.room]!;
    for (let j = 0; j < 6; j++)
      if (room.exitDoors[j] === door.index) return this.command(`go ${DIRECTIONS[j]!}`);
    return failWith("You can't see any such thing.");
  }

  private examine(words: string[]): number {
    if (words.length === 0) failWith('What do you want to examine?');
    if (words.length === 1 && (words[0] === 'room' || words[0] === 'here' || words[0] === 'around'))
      return this.command('look');
    const thing = this.resolve(
      words,
      ['door', 'container', 'supporter', 'object'],
      'examine',
      (t) => this.command(`examine ${t.name}`),
    );
    return this.command(`examine ${thing.name}`);
  }

  private take(words: string[]): number[] {
    if (words.length === 0) failWith('What do you want to take?');
    const split = splitAt(
      words,
      (w, i, all) => FROM.has(w) && !(w === 'out' && all[i + 1] !== 'of'),
    );
    const what = split.before;
    const from = split.after[0] === 'of' ? split.after.slice(1) : split.after;
    if (split.found && from.length === 0) failWith('What do you want to take it from?');
    const source = split.found
      ? this.resolve(
          from,
          ['container', 'supporter'],
          'take from',
          null,
          "You can't take things out of that.",
        )
      : undefined;
    if (isAll(what)) return this.takeAll(source);
    const takeCommand = (t: Thing): number => {
      if (source !== undefined) return this.command(`take ${t.name} from ${source.name}`);
      return this.command(this.takeText(t));
    };
    const thing = this.resolve(what, ['object'], 'take', takeCommand, 'fixed');
    return [takeCommand(thing)];
  }

  /** `take X` as the game spells it for where X is (from a container or supporter, or the floor). */
  private takeText(t: Thing): string {
    const o = t.kindIndex;
    const where = this.game.locationOf(this.state, o);
    const furniture =
      where.kind === 'container'
        ? this.game.things[this.game.doorCount + where.index]!
        : where.kind === 'supporter'
          ? this.game.things[this.game.doorCount + this.game.containerCount + where.index]!
          : undefined;
    if (furniture?.room === this.room) return `take ${t.name} from ${furniture.name}`;
    return `take ${t.name}`;
  }

  private takeAll(source: Thing | undefined): number[] {
    const game = this.game;
    const out: number[] = [];
    if (source !== undefined) {
      if (source.kind === 'container' && game.openState(this.state, source.index) !== 'open')
        failWith(`The ${source.name} is closed.`);
      for (let o = 0; o < game.objectCount; o++) {
        const where = game.locationOf(this.state, o);
        const here =
          source.kind === 'container'
            ? where.kind === 'container' && where.index === source.kindIndex
            : where.kind === 'supporter' && where.index === source.kindIndex;
        if (here)
          out.push(
            this.command(`take ${game.things[game.objectBase + o]!.name} from ${source.name}`),
          );
      }
      if (out.length === 0)
        failWith(
          source.kind === 'container'
            ? `The ${source.name} is empty.`
            : `There is nothing on the ${source.name}.`,
        );
      return out;
    }
    for (let o = 0; o < game.objectCount; o++) {
      const thing = game.things[game.objectBase + o]!;
      if (!this.visible.has(thing.index) || game.carries(this.state, o)) continue;
      out.push(this.command(this.takeText(thing)));
    }
    if (out.length === 0) failWith('There is nothing here to take.');
    return out;
  }

  private drop(words: string[]): number[] {
    if (words.length === 0) failWith('What do you want to drop?');
    const split = splitAt(words, (w) => ON.has(w) || IN.has(w));
    if (split.found) return [this.put(words, IN.has(words[split.index]!) ? 'insert' : 'put')];
    if (isAll(words)) {
      const out: number[] = [];
      for (let o = 0; o < this.game.objectCount; o++) {
        if (this.game.carries(this.state, o))
          out.push(this.command(`drop ${this.game.things[this.game.objectBase + o]!.name}`));
      }
      if (out.length === 0) failWith('You are not carrying anything.');
      return out;
    }
    const thing = this.resolve(
      words,
      ['object'],
      'drop',
      (t) => this.command(`drop ${t.name}`),
      'fixed',
    );
    return [this.command(`drop ${thing.name}`)];
  }

  private put(words: string[], mode: 'put' | 'insert' | 'either'): number {
    const split = splitAt(words, (w) => ON.has(w) || IN.has(w));
    if (!split.found)
      failWith(
        words.length === 0
          ? 'What do you want to put?'
          : 'Where do you want to put it? (on a supporter, or in a container)',
      );
    if (split.before.length === 0) failWith('What do you want to put?');
    if (split.after.length === 0) failWith('Where do you want to put it?');
    if (isAll(split.before)) failWith('You can only put one thing at a time.');
    const target = this.resolve(
      split.after,
      ['container', 'supporter'],
      'put',
      null,
      mode === 'insert' || IN.has(words[split.index]!)
        ? "You can't put things in that."
        : "You can't put things on that.",
    );
    const text = (t: Thing): string =>
      target.kind === 'container'
        ? `insert ${t.name} into ${target.name}`
        : `put ${t.name} on ${target.name}`;
    const thing = this.resolve(
      split.before,
      ['object'],
      'put',
      (t) => this.command(text(t)),
      'fixed',
    );
    return this.command(text(thing));
  }

  private openClose(words: string[], verb: 'open' | 'close'): number {
    if (words.length === 0) failWith(`What do you want to ${verb}?`);
    const thing = this.resolve(
      words,
      ['door', 'container'],
      verb,
      (t) => this.command(`${verb} ${t.name}`),
      `That's not something you can ${verb}.`,
    );
    return this.command(`${verb} ${thing.name}`);
  }

  private lockUnlock(words: string[], verb: 'lock' | 'unlock'): number {
    if (words.length === 0) failWith(`What do you want to ${verb}?`);
    const split = splitAt(words, (w) => WITH.has(w));
    if (split.found && split.after.length === 0) failWith(`What do you want to ${verb} it with?`);
    const lockable = this.resolve(
      split.before,
      ['door', 'container'],
      verb,
      null,
      `That's not something you can ${verb}.`,
    );
    if (lockable.keys.length === 0) failWith(`The ${lockable.name} has no lock.`);
    if (split.found) {
      const key = this.resolve(
        split.after,
        ['object'],
        `${verb} with`,
        null,
        `You can't ${verb} things with that.`,
      );
      return this.command(
        `${verb} ${lockable.name} with ${key.name}`,
        `The ${key.name} doesn't fit the ${lockable.name}.`,
      );
    }
    const carried = lockable.keys.filter((k) =>
      this.game.carries(this.state, k - this.game.objectBase),
    );
    if (carried.length === 0) failWith(`What do you want to ${verb} the ${lockable.name} with?`);
    return this.command(`${verb} ${lockable.name} with ${this.game.things[carried[0]!]!.name}`);
  }

  private eat(words: string[]): number {
    if (words.length === 0) failWith('What do you want to eat?');
    const thing = this.resolve(
      words,
      ['object'],
      'eat',
      (t) => this.command(`eat ${t.name}`, "That's plainly inedible."),
      "That's plainly inedible.",
    );
    return this.command(`eat ${thing.name}`, "That's plainly inedible.");
  }

  /**
   * The thing `words` names among `kinds`. Visible things first; several visible matches are narrowed
   * to those whose command (`commandOf`) is admissible, then asked back. `wrongKind` is the feedback
   * when only things of other kinds match (`fixed` for portable-only verbs).
   */
  private resolve(
    words: string[],
    kinds: readonly ThingKind[],
    _verb: string,
    commandOf: ((t: Thing) => number) | null,
    wrongKind = "You can't see any such thing.",
  ): Thing {
    if (words.length === 0) failWith("You can't see any such thing.");
    if (isAll(words)) failWith("You can't use 'all' with that verb.");
    const matching = this.game.things.filter((t) => words.every((w) => t.words.includes(w)));
    const exact = matching.filter((t) => t.name === words.join(' '));
    const named = exact.length > 0 ? exact : matching;
    const ofKind = named.filter((t) => kinds.includes(t.kind));
    if (ofKind.length === 0) {
      if (named.length === 0) failWith("You can't see any such thing.");
      const other = named.find((t) => this.visible.has(t.index)) ?? named[0]!;
      failWith(wrongKind === 'fixed' ? `The ${other.name} is fixed in place.` : wrongKind);
    }
    const seen = ofKind.filter((t) => this.visible.has(t.index));
    if (seen.length === 0) {
      if (ofKind.length === 1) return ofKind[0]!;
      failWith("You can't see any such thing.");
    }
    if (seen.length === 1) return seen[0]!;
    if (commandOf !== null) {
      const admissible = seen.filter((t) => {
        try {
          return this.game.applicable(this.state, commandOf(t), this.room) >= 0;
        } catch (error) {
          if (error instanceof ParseFailure) return false;
          throw error;
        }
      });
      if (admissible.length === 1) return admissible[0]!;
      if (admissible.length > 1) failWith(whichQuestion(admissible));
    }
    return failWith(whichQuestion(seen));
  }
}

/** "Which key do you mean, the red key or the blue key?" */
export function whichQuestion(things: readonly Thing[]): string {
  const nouns = things.map((t) => t.name.split(' ').pop()!);
  const shared = nouns.every((n) => n === nouns[0]) ? `${nouns[0]!} ` : '';
  const names = things.map((t) => `the ${t.name}`);
  const list =
    names.length === 1
      ? names[0]!
      : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}`;
  return `Which ${shared}do you mean, ${list}?`;
}

/** Thing indices the player can see: doors on the room's exits, furniture here, objects carried, on the floor, on supporters here or in open containers here. */
export function visibleThings(game: Game, state: Uint8Array, room: number): Set<number> {
  const out = new Set<number>();
  const r = game.rooms[room];
  if (r === undefined) return out;
  for (let j = 0; j < 6; j++) if (r.exitDoors[j]! >= 0) out.add(r.exitDoors[j]!);
  for (const t of r.furniture) out.add(t);
  for (let o = 0; o < game.objectCount; o++) {
    const where = game.locationOf(state, o);
    const thing = game.objectBase + o;
    if (where.kind === 'inventory' || (where.kind === 'room' && where.index === room))
      out.add(thing);
    else if (
      where.kind === 'supporter' &&
      game.things[game.doorCount + game.containerCount + where.index]!.room === room
    )
      out.add(thing);
    else if (where.kind === 'container') {
      const c = game.doorCount + where.index;
      if (game.things[c]!.room === room && game.openState(state, c) === 'open') out.add(thing);
    }
  }
  return out;
}

function isAll(words: readonly string[]): boolean {
  return words.length === 1 && (words[0] === 'all' || words[0] === 'everything');
}

function splitAt(
  words: readonly string[],
  test: (w: string, i: number, all: readonly string[]) => boolean,
): { before: string[]; after: string[]; found: boolean; index: number } {
  const index = words.findIndex((w, i) => test(w, i, words));
  if (index < 0) return { before: [...words], after: [], found: false, index: -1 };
  return { before: words.slice(0, index), after: words.slice(index + 1), found: true, index };
}
