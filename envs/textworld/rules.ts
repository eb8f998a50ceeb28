/**
 * The rules of TextWorld games, written as data: one entry per verb form, with its parameters, the
 * static relations that place it in the map, its preconditions (each with the feedback a player gets
 * when it fails), and its effects over fact templates. `compileGame` grounds every entry once per game
 * into commands and instances; nothing here runs per step.
 *
 * Fact templates name a predicate and its arguments: `at(player, {r})`, `in({o}, {c})`. The dynamic
 * predicates (the ones that make up the state) are listed in {@link DYNAMIC_PREDICATES}; the static
 * relations a rule may be grounded over are listed in {@link STATIC_RELATIONS}.
 *
 * Adding a verb is adding one entry to {@link RULES} (and, for free text, its words to the parser's
 * verb table).
 */

/** The six exit directions, in the order commands are numbered. */
export const DIRECTIONS = ['north', 'south', 'east', 'west', 'up', 'down'] as const;

/** An exit direction. */
export type Direction = (typeof DIRECTIONS)[number];

/** The direction that leads back. */
export const REVERSE_DIRECTION: Readonly<Record<Direction, Direction>> = Object.freeze({
  north: 'south',
  south: 'north',
  east: 'west',
  west: 'east',
  up: 'down',
  down: 'up',
});

/**
 * Kinds of rule parameter. `openable` is a door or a container; `fixture` a door, container or
 * supporter (things fixed in place).
 */
export type ParamKind =
  'room' | 'direction' | 'object' | 'container' | 'supporter' | 'door' | 'openable' | 'fixture';

/**
 * Predicates whose ground facts make up the state vector:
 * `at(player, r)`, `at(o, r)`, `in(o, c)`, `on(o, s)`, `carried(o)`, `eaten(o)`, `open(x)`, `closed(x)`, `locked(x)`.
 */
export const DYNAMIC_PREDICATES = [
  'at',
  'in',
  'on',
  'carried',
  'eaten',
  'open',
  'closed',
  'locked',
] as const;

/** A predicate of the state. */
export type DynamicPredicate = (typeof DYNAMIC_PREDICATES)[number];

/**
 * Static relations (fixed by the map) that rules are grounded over:
 * `exit(r, dir, r2)` a passage without a door; `doorway(r, dir, r2, d)` a passage through door d;
 * `located(x, r)` a container or supporter standing in room r; `at-hand(x, r)` a fixture the player can
 * reach from room r (furniture in r, doors on r's exits); `key(k, x)` k locks and unlocks x;
 * `edible(o)` o can be eaten. `key` and `edible` are properties of things (they shape the command
 * list); the others place instances in rooms.
 */
export const STATIC_RELATIONS = ['exit', 'doorway', 'located', 'at-hand', 'key', 'edible'] as const;

/** A static relation. */
export type StaticRelation = (typeof STATIC_RELATIONS)[number];

/** Verb groups: what the parser maps words to, and what the solver's pruning reasons about. */
export type Verb =
  | 'go'
  | 'take'
  | 'drop'
  | 'put'
  | 'insert'
  | 'eat'
  | 'open'
  | 'close'
  | 'unlock'
  | 'lock'
  | 'examine'
  | 'look'
  | 'inventory';

/** How the success text of a rule is made: fixed at compile time, or written from the state at step time. */
export type SayKind = 'text' | 'arrive' | 'look' | 'inventory' | 'examine' | 'open';

/** One precondition of a rule, with the feedback a player gets when it does not hold. */
export interface Precondition {
  /** The fact that must hold, e.g. `open({d})`. */
  readonly fact: string;
  /** Feedback when it does not hold, e.g. `The {d} is closed.` */
  readonly fail: string;
  /** More specific feedback when one of these facts holds instead, checked in order. */
  readonly failWhen?: readonly (readonly [fact: string, fail: string])[];
}

/** One rule: a verb form grounded into commands and instances. */
export interface RuleDefinition {
  /** Unique name, e.g. `take-from-container`. */
  readonly name: string;
  /** The verb group. */
  readonly verb: Verb;
  /** Command template; `{p}` is replaced by the display name of parameter p, e.g. `take {o} from {c}`. */
  readonly command: string;
  /** Parameters and their kinds. */
  readonly params: Readonly<Record<string, ParamKind>>;
  /** Static relations every grounding satisfies, e.g. `located({c}, {r})`. */
  readonly where: readonly string[];
  /** The room parameter the player must be in; absent when the rule applies anywhere. */
  readonly room?: string;
  /** Preconditions, in the order their failures are reported. */
  readonly pre: readonly Precondition[];
  /** Facts removed. */
  readonly del: readonly string[];
  /** Facts added. */
  readonly add: readonly string[];
  /** Success feedback: a template for `say: 'text'`, else the parameter the text is about. */
  readonly say: string;
  /** How the success feedback is made. */
  readonly sayKind: SayKind;
  /** Feedback when the command has no instance in the player's room (e.g. no exit that way). */
  readonly missing: string;
}

const CANT_SEE = "You can't see any such thing.";

/** Every rule of the game engine. Order matters only for failure feedback (earlier instances speak first). */
export const RULES: readonly RuleDefinition[] = Object.freeze([
  {
    name: 'go',
    verb: 'go',
    command: 'go {dir}',
    params: { r: 'room', dir: 'direction', r2: 'room' },
    where: ['exit({r}, {dir}, {r2})'],
    room: 'r',
    pre: [],
    del: ['at(player, {r})'],
    add: ['at(player, {r2})'],
    say: 'r2',
    sayKind: 'arrive',
    missing: "You can't go that way.",
  },
  {
    name: 'go-door',
    verb: 'go',
    command: 'go {dir}',
    params: { r: 'room', dir: 'direction', r2: 'room', d: 'door' },
    where: ['doorway({r}, {dir}, {r2}, {d})'],
    room: 'r',
    pre: [
      {
        fact: 'open({d})',
        fail: 'The {d} is closed.',
        failWhen: [['locked({d})', 'The {d} is locked.']],
      },
    ],
    del: ['at(player, {r})'],
    add: ['at(player, {r2})'],
    say: 'r2',
    sayKind: 'arrive',
    missing: "You can't go that way.",
  },
  {
    name: 'take',
    verb: 'take',
    command: 'take {o}',
    params: { o: 'object', r: 'room' },
    where: [],
    room: 'r',
    pre: [
      {
        fact: 'at({o}, {r})',
        fail: CANT_SEE,
        failWhen: [['carried({o})', 'You already have the {o}.']],
      },
    ],
    del: ['at({o}, {r})'],
    add: ['carried({o})'],
    say: 'You pick up the {o}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'take-from-container',
    verb: 'take',
    command: 'take {o} from {c}',
    params: { o: 'object', c: 'container', r: 'room' },
    where: ['located({c}, {r})'],
    room: 'r',
    pre: [
      { fact: 'open({c})', fail: 'The {c} is closed.' },
      {
        fact: 'in({o}, {c})',
        fail: "The {o} isn't in the {c}.",
        failWhen: [['carried({o})', 'You already have the {o}.']],
      },
    ],
    del: ['in({o}, {c})'],
    add: ['carried({o})'],
    say: 'You take the {o} from the {c}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'take-from-supporter',
    verb: 'take',
    command: 'take {o} from {s}',
    params: { o: 'object', s: 'supporter', r: 'room' },
    where: ['located({s}, {r})'],
    room: 'r',
    pre: [
      {
        fact: 'on({o}, {s})',
        fail: "The {o} isn't on the {s}.",
        failWhen: [['carried({o})', 'You already have the {o}.']],
      },
    ],
    del: ['on({o}, {s})'],
    add: ['carried({o})'],
    say: 'You take the {o} from the {s}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'drop',
    verb: 'drop',
    command: 'drop {o}',
    params: { o: 'object', r: 'room' },
    where: [],
    room: 'r',
    pre: [{ fact: 'carried({o})', fail: "You aren't carrying the {o}." }],
    del: ['carried({o})'],
    add: ['at({o}, {r})'],
    say: 'You drop the {o}.',
    sayKind: 'text',
    missing: "You aren't carrying that.",
  },
  {
    name: 'put',
    verb: 'put',
    command: 'put {o} on {s}',
    params: { o: 'object', s: 'supporter', r: 'room' },
    where: ['located({s}, {r})'],
    room: 'r',
    pre: [{ fact: 'carried({o})', fail: "You aren't carrying the {o}." }],
    del: ['carried({o})'],
    add: ['on({o}, {s})'],
    say: 'You put the {o} on the {s}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'insert',
    verb: 'insert',
    command: 'insert {o} into {c}',
    params: { o: 'object', c: 'container', r: 'room' },
    where: ['located({c}, {r})'],
    room: 'r',
    pre: [
      { fact: 'open({c})', fail: 'The {c} is closed.' },
      { fact: 'carried({o})', fail: "You aren't carrying the {o}." },
    ],
    del: ['carried({o})'],
    add: ['in({o}, {c})'],
    say: 'You put the {o} into the {c}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'eat',
    verb: 'eat',
    command: 'eat {o}',
    params: { o: 'object' },
    where: ['edible({o})'],
    pre: [
      {
        fact: 'carried({o})',
        fail: "You aren't carrying the {o}.",
        failWhen: [['eaten({o})', CANT_SEE]],
      },
    ],
    del: ['carried({o})'],
    add: ['eaten({o})'],
    say: 'You eat the {o}. Not bad.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'open',
    verb: 'open',
    command: 'open {x}',
    params: { x: 'openable', r: 'room' },
    where: ['at-hand({x}, {r})'],
    room: 'r',
    pre: [
      {
        fact: 'closed({x})',
        fail: 'The {x} is already open.',
        failWhen: [['locked({x})', 'The {x} is locked.']],
      },
    ],
    del: ['closed({x})'],
    add: ['open({x})'],
    say: 'x',
    sayKind: 'open',
    missing: CANT_SEE,
  },
  {
    name: 'close',
    verb: 'close',
    command: 'close {x}',
    params: { x: 'openable', r: 'room' },
    where: ['at-hand({x}, {r})'],
    room: 'r',
    pre: [{ fact: 'open({x})', fail: 'The {x} is already closed.' }],
    del: ['open({x})'],
    add: ['closed({x})'],
    say: 'You close the {x}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'unlock',
    verb: 'unlock',
    command: 'unlock {x} with {k}',
    params: { x: 'openable', k: 'object', r: 'room' },
    where: ['at-hand({x}, {r})', 'key({k}, {x})'],
    room: 'r',
    pre: [
      { fact: 'carried({k})', fail: "You aren't carrying the {k}." },
      { fact: 'locked({x})', fail: "The {x} isn't locked." },
    ],
    del: ['locked({x})'],
    add: ['closed({x})'],
    say: 'You unlock the {x} with the {k}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'lock',
    verb: 'lock',
    command: 'lock {x} with {k}',
    params: { x: 'openable', k: 'object', r: 'room' },
    where: ['at-hand({x}, {r})', 'key({k}, {x})'],
    room: 'r',
    pre: [
      { fact: 'carried({k})', fail: "You aren't carrying the {k}." },
      {
        fact: 'closed({x})',
        fail: 'The {x} is already locked.',
        failWhen: [['open({x})', 'You need to close the {x} first.']],
      },
    ],
    del: ['closed({x})'],
    add: ['locked({x})'],
    say: 'You lock the {x} with the {k}.',
    sayKind: 'text',
    missing: CANT_SEE,
  },
  {
    name: 'examine-on-floor',
    verb: 'examine',
    command: 'examine {o}',
    params: { o: 'object', r: 'room' },
    where: [],
    room: 'r',
    pre: [{ fact: 'at({o}, {r})', fail: CANT_SEE }],
    del: [],
    add: [],
    say: 'o',
    sayKind: 'examine',
    missing: CANT_SEE,
  },
  {
    name: 'examine-carried',
    verb: 'examine',
    command: 'examine {o}',
    params: { o: 'object' },
    where: [],
    pre: [{ fact: 'carried({o})', fail: CANT_SEE }],
    del: [],
    add: [],
    say: 'o',
    sayKind: 'examine',
    missing: CANT_SEE,
  },
  {
    name: 'examine-in-container',
    verb: 'examine',
    command: 'examine {o}',
    params: { o: 'object', c: 'container', r: 'room' },
    where: ['located({c}, {r})'],
    room: 'r',
    pre: [
      { fact: 'in({o}, {c})', fail: CANT_SEE },
      { fact: 'open({c})', fail: CANT_SEE },
    ],
    del: [],
    add: [],
    say: 'o',
    sayKind: 'examine',
    missing: CANT_SEE,
  },
  {
    name: 'examine-on-supporter',
    verb: 'examine',
    command: 'examine {o}',
    params: { o: 'object', s: 'supporter', r: 'room' },
    where: ['located({s}, {r})'],
    room: 'r',
    pre: [{ fact: 'on({o}, {s})', fail: CANT_SEE }],
    del: [],
    add: [],
    say: 'o',
    sayKind: 'examine',
    missing: CANT_SEE,
  },
  {
    name: 'examine-fixture',
    verb: 'examine',
    command: 'examine {x}',
    params: { x: 'fixture', r: 'room' },
    where: ['at-hand({x}, {r})'],
    room: 'r',
    pre: [],
    del: [],
    add: [],
    say: 'x',
    sayKind: 'examine',
    missing: CANT_SEE,
  },
  {
    name: 'look',
    verb: 'look',
    command: 'look',
    params: {},
    where: [],
    pre: [],
    del: [],
    add: [],
    say: '',
    sayKind: 'look',
    missing: CANT_SEE,
  },
  {
    name: 'inventory',
    verb: 'inventory',
    command: 'inventory',
    params: {},
    where: [],
    pre: [],
    del: [],
    add: [],
    say: '',
    sayKind: 'inventory',
    missing: CANT_SEE,
  },
] satisfies RuleDefinition[]);

/** A parsed fact or relation template: predicate and argument tokens (`player`, `{p}` or a literal). */
export interface Template {
  readonly predicate: string;
  readonly args: readonly string[];
}

const TEMPLATE = /^([a-z-]+)\((.*)\)$/;

/** Splits `pred(a, {b})` into predicate and arguments; used at compile time only. */
export function parseTemplate(text: string): Template {
  const match = TEMPLATE.exec(text.trim());
  if (match === null) throw new SyntaxError(`Not a fact template: ${JSON.stringify(text)}`);
  const inner = match[2]!.trim();
  return { predicate: match[1]!, args: inner === '' ? [] : inner.split(',').map((a) => a.trim()) };
}

/** The readable name of a ground fact, e.g. `in(brass_key, chest)`. */
export function factName(predicate: string, args: readonly string[]): string {
  return `${predicate}(${args.join(', ')})`;
}
