/**
 * A compiled TextWorld game: every ground fact interned to an index (the state is a byte vector over
 * them), every rule of `rules.ts` grounded once into the command list (the Discrete action space) and
 * into instances with precomputed index lists of preconditions and effects, so that checking and
 * applying a command is a few typed-array reads and writes.
 *
 * Layout (what makes every generated game of one family share its spaces): facts and commands are
 * numbered from the entity lists in file order — `at(player, r)` for each room, then for each object
 * `at(o, r)` / `in(o, c)` / `on(o, s)` / `carried(o)` / `eaten(o)` (edible only), then for each door and
 * container `open(x)` / `closed(x)` / `locked(x)` (lockable only). Commands are numbered rule by rule
 * over the things they name; which of them have instances (and where) depends on the map.
 */
import { MalformedFileError } from '../core/errors.js';
import type { GameFile } from './game-file.js';
import {
  DIRECTIONS,
  RULES,
  factName,
  parseTemplate,
  type ParamKind,
  type RuleDefinition,
  type SayKind,
  type Template,
  type Verb,
} from './rules.js';

/** Kinds of thing (everything but rooms). */
export type ThingKind = 'door' | 'container' | 'supporter' | 'object';

/** A room of a compiled game. */
export interface Room {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Destination room per direction (in {@link DIRECTIONS} order), -1 for none. */
  readonly exits: Int32Array;
  /** Door (thing index) per direction, -1 for none. */
  readonly exitDoors: Int32Array;
  /** Containers and supporters standing here (thing indices). */
  readonly furniture: readonly number[];
  /** The first lines of `look`: `-= Name =-` and the description. */
  readonly heading: string;
}

/** A door, container, supporter or object of a compiled game. */
export interface Thing {
  /** Index among all things: doors, then containers, supporters, objects. */
  readonly index: number;
  readonly kind: ThingKind;
  /** Index among things of its kind. */
  readonly kindIndex: number;
  readonly id: string;
  readonly name: string;
  /** Every word the parser accepts for it: the name's words and the synonyms' words. */
  readonly words: readonly string[];
  /** The name's last word and the synonyms: nouns used in "Which key do you mean". */
  readonly nouns: readonly string[];
  readonly description: string;
  /** Room of a container or supporter; -1 otherwise. */
  readonly room: number;
  readonly edible: boolean;
  /** Keys (thing indices) that lock and unlock it. */
  readonly keys: readonly number[];
}

const SAY_CODES: Readonly<Record<SayKind, number>> = {
  text: 0,
  arrive: 1,
  look: 2,
  inventory: 3,
  examine: 4,
  open: 5,
};

/** A text template: literal parts and, between them, parameter positions (`literals.length === params.length + 1`). */
interface TextTemplate {
  readonly literals: readonly string[];
  readonly params: readonly number[];
  /** Same id for the same literal parts (so `examine {o}` and `examine {x}` share one). */
  readonly id: number;
}

const TEMPLATE_IDS = new Map<string, number>();

/** A fact or relation template with arguments as parameter positions (-1 for `player`). */
interface FactTemplate {
  readonly predicate: string;
  readonly args: readonly number[];
}

interface ParsedRule {
  readonly rule: RuleDefinition;
  readonly index: number;
  readonly params: readonly string[];
  readonly kinds: readonly ParamKind[];
  /** Positions of the parameters named in the command text, in order. */
  readonly commandParams: readonly number[];
  readonly command: TextTemplate;
  readonly where: readonly FactTemplate[];
  readonly pre: readonly {
    fact: FactTemplate;
    fail: number;
    failWhen: readonly { fact: FactTemplate; fail: number }[];
  }[];
  readonly del: readonly FactTemplate[];
  readonly add: readonly FactTemplate[];
  readonly say: TextTemplate;
  /** Position of the room parameter the player must be in, -1 for anywhere. */
  readonly room: number;
  /** Position of the parameter dynamic feedback is about, -1 for none. */
  readonly subject: number;
}

/** Failure texts of every precondition of every rule, numbered (instances refer to them by id). */
const FAIL_TEXTS: { rule: number; text: TextTemplate }[] = [];

const PARSED_RULES: readonly ParsedRule[] = RULES.map((rule, index) => {
  const params = Object.keys(rule.params);
  const position = (name: string): number => {
    const p = params.indexOf(name);
    if (p < 0) throw new SyntaxError(`Rule ${rule.name}: unknown parameter {${name}}`);
    return p;
  };
  const text = (template: string): TextTemplate => {
    const parts = template.split(/\{(\w+)\}/);
    const literals = parts.filter((_, k) => k % 2 === 0);
    const literal = literals.join('{}');
    if (!TEMPLATE_IDS.has(literal)) TEMPLATE_IDS.set(literal, TEMPLATE_IDS.size);
    return {
      literals,
      params: parts.filter((_, k) => k % 2 === 1).map(position),
      id: TEMPLATE_IDS.get(literal)!,
    };
  };
  const fact = (template: string): FactTemplate => {
    const t: Template = parseTemplate(template);
    return {
      predicate: t.predicate,
      args: t.args.map((a) => (a === 'player' ? -1 : position(a.slice(1, -1)))),
    };
  };
  const failText = (template: string): number =>
    FAIL_TEXTS.push({ rule: index, text: text(template) }) - 1;
  return {
    rule,
    index,
    params,
    kinds: params.map((p) => rule.params[p]!),
    commandParams: [...rule.command.matchAll(/\{(\w+)\}/g)].map((m) => position(m[1]!)),
    command: text(rule.command),
    where: rule.where.map(fact),
    pre: rule.pre.map((p) => ({
      fact: fact(p.fact),
      fail: failText(p.fail),
      failWhen: (p.failWhen ?? []).map(([f, fail]) => ({ fact: fact(f), fail: failText(fail) })),
    })),
    del: rule.del.map(fact),
    add: rule.add.map(fact),
    say: text(rule.sayKind === 'text' ? rule.say : ''),
    room: rule.room === undefined ? -1 : position(rule.room),
    subject: rule.sayKind === 'text' || rule.say === '' ? -1 : position(rule.say),
  };
});

/** Parameters a rule can have at most (instances store their arguments in slots of this size). */
const MAX_PARAMS = 4;

const PROPERTY_RELATIONS = new Set(['key', 'edible']);

/** Rule names, by index (`Game.instanceRule` refers to these). */
export const RULE_NAMES: readonly string[] = RULES.map((r) => r.name);

/** Verbs of the rules, by index. */
export const RULE_VERBS: readonly Verb[] = RULES.map((r) => r.verb);

/**
 * A compiled game: entities, interned facts, grounded commands and instances, the quest, and the
 * texts. Immutable after construction; the state lives outside (a `Uint8Array` over the facts).
 */
export class Game {
  /** The game file it was compiled from (a private deep copy). */
  readonly file: GameFile;
  /** Where the game came from, for messages. */
  readonly source: string;
  /** A hash of the game file; snapshots carry it. */
  readonly fingerprint: string;
  readonly title: string;
  readonly intro: string;
  readonly rooms: readonly Room[];
  /** Doors, containers, supporters, objects, in that order. */
  readonly things: readonly Thing[];
  readonly doorCount: number;
  readonly containerCount: number;
  readonly supporterCount: number;
  readonly objectCount: number;
  /** Thing index of the first object (objects are `objectBase .. objectBase + objectCount - 1`). */
  readonly objectBase: number;
  /** Doors and containers (thing indices `0 .. lockableCount - 1`) can be opened and closed. */
  readonly lockableCount: number;

  /** Readable names of the facts, by index (the observation vector's layout). */
  readonly factNames: readonly string[];
  /** Fact index by readable name. */
  readonly factIndex: ReadonlyMap<string, number>;
  /** Facts fixed by the map (exits, doorways, furniture, keys, edibility), readable. */
  readonly staticFacts: readonly string[];
  /** Fact `at(player, r)` by room. */
  readonly playerAtFact: Int32Array;
  /** Fact `at(o, r)` at `o * rooms + r` (o an object's kind index). */
  readonly objectAtFact: Int32Array;
  /** Fact `in(o, c)` at `o * containers + c`. */
  readonly objectInFact: Int32Array;
  /** Fact `on(o, s)` at `o * supporters + s`. */
  readonly objectOnFact: Int32Array;
  /** Fact `carried(o)` by object. */
  readonly carriedFact: Int32Array;
  /** Fact `eaten(o)` by object, -1 when not edible. */
  readonly eatenFact: Int32Array;
  /** Facts `open(x)`, `closed(x)`, `locked(x)` by lockable thing index (-1 for `locked` without a key). */
  readonly openFact: Int32Array;
  readonly closedFact: Int32Array;
  readonly lockedFact: Int32Array;
  /** The room a fact `at(player, r)` puts the player in, -1 for other facts. */
  readonly factRoom: Int32Array;

  /** Command texts, by action index. */
  readonly commands: readonly string[];
  /** Action index by command text. */
  readonly commandIndex: ReadonlyMap<string, number>;
  /** Verb of each command. */
  readonly commandVerb: readonly Verb[];
  /** Feedback when a command has no instance in the player's room. */
  readonly commandMissing: readonly string[];

  /** Number of grounded instances. */
  readonly instanceCount: number;
  readonly instanceCommand: Int32Array;
  /** Rule index of each instance (see {@link RULE_NAMES}). */
  readonly instanceRule: Int32Array;
  /** Room the player must be in, -1 for anywhere. */
  readonly instanceRoom: Int32Array;
  /** Room the player ends up in, -1 when unchanged. */
  readonly instanceNewRoom: Int32Array;
  /** Subject of dynamic feedback (room for `arrive`, thing for `examine`/`open`). */
  readonly instanceSubject: Int32Array;
  readonly instanceSay: Uint8Array;
  readonly instanceText: readonly string[];
  /** Argument values of each instance, four slots per instance in rule parameter order. */
  readonly instanceArgs: Int32Array;
  /** CSR: preconditions of instance i are `preFact[preStart[i] .. preStart[i + 1] - 1]`. */
  readonly preStart: Int32Array;
  readonly preFact: Int32Array;
  /** Failure text id of each precondition (-1: the player is not in the room, the command's `missing` text). */
  readonly preFail: Int32Array;
  readonly preWhenStart: Int32Array;
  readonly preWhenFact: Int32Array;
  readonly preWhenFail: Int32Array;
  readonly addStart: Int32Array;
  readonly addFact: Int32Array;
  readonly delStart: Int32Array;
  readonly delFact: Int32Array;
  /** CSR over `command * rooms + room`: the instances that may apply there, in rule order. */
  readonly cmdRoomStart: Int32Array;
  readonly cmdRoomInstance: Int32Array;
  /** CSR over rooms: every instance that may apply with the player there. */
  readonly roomInstanceStart: Int32Array;
  readonly roomInstance: Int32Array;

  readonly initialState: Uint8Array;
  readonly startRoom: number;
  readonly objective: string;
  /** Facts that must all hold to win. */
  readonly winFacts: Int32Array;
  /** Facts any one of which loses. */
  readonly failFacts: Int32Array;
  /** Sub-goal facts given by the file, or null to use the quest's landmarks. */
  readonly declaredSubgoals: Int32Array | null;

  constructor(file: GameFile, source = '<game>') {
    this.file = structuredClone(file);
    this.source = source;
    this.fingerprint = hashText(JSON.stringify(file));
    this.title = file.title ?? 'TextWorld';
    this.intro = file.intro ?? '';

    // ---- entities ------------------------------------------------------------------------------
    const roomIds = new Map(file.rooms.map((r, i) => [r.id, i]));
    const doors = file.doors ?? [];
    const containers = file.containers ?? [];
    const supporters = file.supporters ?? [];
    const objects = file.objects ?? [];
    const D = doors.length,
      C = containers.length,
      S = supporters.length,
      O = objects.length,
      R = file.rooms.length;
    this.doorCount = D;
    this.containerCount = C;
    this.supporterCount = S;
    this.objectCount = O;
    this.objectBase = D + C + S;
    this.lockableCount = D + C;
    const thingIds = new Map<string, number>();
    [...doors, ...containers, ...supporters, ...objects].forEach((t, i) => thingIds.set(t.id, i));
    const keyOf = (key: string | undefined): number[] =>
      key === undefined ? [] : [thingIds.get(key)!];
    const things: Thing[] = [];
    const thing = (
      kind: ThingKind,
      kindIndex: number,
      def: { id: string; name: string; synonyms?: string[]; description?: string },
      extra: { room?: number; edible?: boolean; keys?: number[] },
    ): Thing => {
      const synonyms = def.synonyms ?? [];
      const nameWords = def.name.split(' ');
      return Object.freeze({
        index: things.length,
        kind,
        kindIndex,
        id: def.id,
        name: def.name,
        words: Object.freeze([
          ...new Set([...nameWords, ...synonyms.flatMap((s) => s.split(' '))]),
        ]),
        nouns: Object.freeze([...new Set([nameWords[nameWords.length - 1]!, ...synonyms])]),
        description: def.description ?? '',
        room: extra.room ?? -1,
        edible: extra.edible ?? false,
        keys: Object.freeze(extra.keys ?? []),
      });
    };
    doors.forEach((d, i) => things.push(thing('door', i, d, { keys: keyOf(d.key) })));
    containers.forEach((c, i) =>
      things.push(thing('container', i, c, { room: roomIds.get(c.room)!, keys: keyOf(c.key) })),
    );
    supporters.forEach((s, i) =>
      things.push(thing('supporter', i, s, { room: roomIds.get(s.room)! })),
    );
    objects.forEach((o, i) => things.push(thing('object', i, o, { edible: o.edible === true })));
    this.things = Object.freeze(things);

    this.rooms = Object.freeze(
      file.rooms.map((r, i): Room => {
        const exits = new Int32Array(6).fill(-1);
        const exitDoors = new Int32Array(6).fill(-1);
        DIRECTIONS.forEach((dir, j) => {
          const exit = r.exits?.[dir];
          if (exit === undefined) return;
          exits[j] = roomIds.get(typeof exit === 'string' ? exit : exit.to)!;
          if (typeof exit !== 'string') exitDoors[j] = thingIds.get(exit.door)!;
        });
        const furniture = things
          .filter((t) => (t.kind === 'container' || t.kind === 'supporter') && t.room === i)
          .map((t) => t.index);
        const description = r.description ?? '';
        const heading = `-= ${titleCase(r.name)} =-${description === '' ? '' : `\n${description}`}`;
        return Object.freeze({
          index: i,
          id: r.id,
          name: r.name,
          description,
          exits,
          exitDoors,
          furniture: Object.freeze(furniture),
          heading,
        });
      }),
    );

    // ---- facts ---------------------------------------------------------------------------------
    const names: string[] = [];
    const intern = (name: string): number => {
      names.push(name);
      return names.length - 1;
    };
    this.playerAtFact = Int32Array.from(file.rooms, (r) =>
      intern(factName('at', ['player', r.id])),
    );
    this.objectAtFact = new Int32Array(O * R);
    this.objectInFact = new Int32Array(O * C);
    this.objectOnFact = new Int32Array(O * S);
    this.carriedFact = new Int32Array(O);
    this.eatenFact = new Int32Array(O).fill(-1);
    objects.forEach((o, i) => {
      file.rooms.forEach(
        (r, j) => (this.objectAtFact[i * R + j] = intern(factName('at', [o.id, r.id]))),
      );
      containers.forEach(
        (c, j) => (this.objectInFact[i * C + j] = intern(factName('in', [o.id, c.id]))),
      );
      supporters.forEach(
        (s, j) => (this.objectOnFact[i * S + j] = intern(factName('on', [o.id, s.id]))),
      );
      this.carriedFact[i] = intern(factName('carried', [o.id]));
      if (o.edible === true) this.eatenFact[i] = intern(factName('eaten', [o.id]));
    });
    this.openFact = new Int32Array(D + C);
    this.closedFact = new Int32Array(D + C);
    this.lockedFact = new Int32Array(D + C).fill(-1);
    for (let x = 0; x < D + C; x++) {
      const t = things[x]!;
      this.openFact[x] = intern(factName('open', [t.id]));
      this.closedFact[x] = intern(factName('closed', [t.id]));
      if (t.keys.length > 0) this.lockedFact[x] = intern(factName('locked', [t.id]));
    }
    this.factNames = Object.freeze(names);
    this.factIndex = new Map(names.map((n, i) => [n, i]));
    this.factRoom = new Int32Array(names.length).fill(-1);
    this.playerAtFact.forEach((f, r) => (this.factRoom[f] = r));

    // ---- static relations ----------------------------------------------------------------------
    const relations: Record<string, number[][]> = {
      exit: [],
      doorway: [],
      located: [],
      'at-hand': [],
      key: [],
      edible: [],
    };
    const staticFacts: string[] = [];
    for (const room of this.rooms) {
      for (let j = 0; j < 6; j++) {
        const to = room.exits[j]!;
        if (to < 0) continue;
        const door = room.exitDoors[j]!;
        if (door < 0) {
          relations['exit']!.push([room.index, j, to]);
          staticFacts.push(factName('exit', [room.id, DIRECTIONS[j]!, this.rooms[to]!.id]));
        } else {
          relations['doorway']!.push([room.index, j, to, door]);
          staticFacts.push(
            factName('doorway', [room.id, DIRECTIONS[j]!, this.rooms[to]!.id, things[door]!.id]),
          );
          if (!relations['at-hand']!.some(([x, r]) => x === door && r === room.index))
            relations['at-hand']!.push([door, room.index]);
        }
      }
    }
    for (const t of things) {
      if (t.room >= 0) {
        relations['located']!.push([t.index, t.room]);
        relations['at-hand']!.push([t.index, t.room]);
        staticFacts.push(factName('located', [t.id, this.rooms[t.room]!.id]));
      }
      for (const k of t.keys) {
        relations['key']!.push([k, t.index]);
        staticFacts.push(factName('key', [things[k]!.id, t.id]));
      }
      if (t.edible) {
        relations['edible']!.push([t.index]);
        staticFacts.push(factName('edible', [t.id]));
      }
    }
    this.staticFacts = Object.freeze(staticFacts);

    // ---- commands and instances ------------------------------------------------------------------
    const domain = (kind: ParamKind): number[] => {
      switch (kind) {
        case 'room':
          return range(0, R);
        case 'direction':
          return range(0, 6);
        case 'object':
          return range(this.objectBase, this.objectBase + O);
        case 'container':
          return range(D, D + C);
        case 'supporter':
          return range(D + C, D + C + S);
        case 'door':
          return range(0, D);
        case 'openable':
          return range(0, D + C);
        case 'fixture':
          return range(0, D + C + S);
      }
    };
    const inDomain = (kind: ParamKind, v: number): boolean => {
      switch (kind) {
        case 'room':
          return v >= 0 && v < R;
        case 'direction':
          return v >= 0 && v < 6;
        case 'object':
          return v >= this.objectBase && v < this.objectBase + O;
        case 'container':
          return v >= D && v < D + C;
        case 'supporter':
          return v >= D + C && v < D + C + S;
        case 'door':
          return v >= 0 && v < D;
        case 'openable':
          return v >= 0 && v < D + C;
        case 'fixture':
          return v >= 0 && v < D + C + S;
      }
    };
    const relationSets = new Map(
      Object.entries(relations).map(([k, tuples]) => [k, new Set(tuples.map((t) => t.join(',')))]),
    );
    const valueName = (kind: ParamKind, v: number): string =>
      kind === 'room'
        ? this.rooms[v]!.name
        : kind === 'direction'
          ? DIRECTIONS[v]!
          : things[v]!.name;
    const vals = new Int32Array(MAX_PARAMS).fill(-1);
    const fill = (t: TextTemplate, parsed: ParsedRule): string => {
      let out = t.literals[0]!;
      for (let j = 0; j < t.params.length; j++)
        out += valueName(parsed.kinds[t.params[j]!]!, vals[t.params[j]!]!) + t.literals[j + 1]!;
      return out;
    };
    /** The fact index of a template under the current values (arithmetic on the layout, no strings); -1 if no such fact. */
    const ground = (t: FactTemplate): number => {
      const a = t.args[0]! < 0 ? -1 : vals[t.args[0]!]!;
      const b = t.args.length > 1 ? vals[t.args[1]!]! : -1;
      const o = a - this.objectBase;
      switch (t.predicate) {
        case 'at':
          return t.args[0]! < 0 ? this.playerAtFact[b]! : this.objectAtFact[o * R + b]!;
        case 'in':
          return this.objectInFact[o * C + b - D]!;
        case 'on':
          return this.objectOnFact[o * S + b - D - C]!;
        case 'carried':
          return this.carriedFact[o]!;
        case 'eaten':
          return this.eatenFact[o]!;
        case 'open':
          return this.openFact[a]!;
        case 'closed':
          return this.closedFact[a]!;
        case 'locked':
          return this.lockedFact[a]!;
        default:
          return -1;
      }
    };

    // Numeric keys (template id and the values of its parameters) find commands and shared texts
    // without building strings per instance.
    const numericKey = (t: TextTemplate): number => {
      let key = t.id;
      for (const p of t.params) key = key * 4096 + vals[p]! + 1;
      return key;
    };
    const commandByKey = new Map<number, number>();
    const textByKey = new Map<number, string>();
    const commands: string[] = [];
    const commandVerb: Verb[] = [];
    const commandMissing: string[] = [];
    const commandIndex = new Map<string, number>();
    for (const parsed of PARSED_RULES) {
      const { rule } = parsed;
      const properties = parsed.where.filter((w) => PROPERTY_RELATIONS.has(w.predicate));
      vals.fill(-1);
      const visit = (j: number): void => {
        if (j === parsed.commandParams.length) {
          for (const w of properties) {
            if (!relationSets.get(w.predicate)!.has(w.args.map((a) => vals[a]).join(','))) return;
          }
          const text = fill(parsed.command, parsed);
          if (!commandIndex.has(text)) {
            commandByKey.set(numericKey(parsed.command), commands.length);
            commandIndex.set(text, commands.length);
            commands.push(text);
            commandVerb.push(rule.verb);
            commandMissing.push(rule.missing);
          }
          return;
        }
        const p = parsed.commandParams[j]!;
        for (const v of domain(parsed.kinds[p]!)) {
          vals[p] = v;
          visit(j + 1);
        }
        vals[p] = -1;
      };
      visit(0);
    }
    this.commands = Object.freeze(commands);
    this.commandIndex = commandIndex;
    this.commandVerb = Object.freeze(commandVerb);
    this.commandMissing = Object.freeze(commandMissing);

    const iCommand: number[] = [],
      iRule: number[] = [],
      iRoom: number[] = [],
      iNewRoom: number[] = [],
      iSubject: number[] = [],
      iSay: number[] = [],
      iText: string[] = [],
      iArgs: number[] = [];
    const preStart = [0],
      preFact: number[] = [],
      preFail: number[] = [],
      preWhenStart = [0],
      preWhenFact: number[] = [],
      preWhenFail: number[] = [];
    const addStart = [0],
      addFact: number[] = [],
      delStart = [0],
      delFact: number[] = [];
    for (const parsed of PARSED_RULES) {
      const { rule } = parsed;
      const bound = new Set(parsed.where.flatMap((w) => w.args));
      const free = parsed.params.map((_, p) => p).filter((p) => !bound.has(p));
      const emit = (): void => {
        for (const p of parsed.pre) if (ground(p.fact) < 0) return;
        for (const t of parsed.del) if (ground(t) < 0) return;
        for (const t of parsed.add) if (ground(t) < 0) return;
        const command = commandByKey.get(numericKey(parsed.command));
        if (command === undefined) return;
        const room = parsed.room < 0 ? -1 : vals[parsed.room]!;
        iCommand.push(command);
        iRule.push(parsed.index);
        iRoom.push(room);
        for (let a = 0; a < MAX_PARAMS; a++) iArgs.push(vals[a]!);
        iSay.push(SAY_CODES[rule.sayKind]);
        iSubject.push(parsed.subject < 0 ? -1 : vals[parsed.subject]!);
        if (rule.sayKind === 'text') {
          const key = numericKey(parsed.say);
          let text = textByKey.get(key);
          if (text === undefined) textByKey.set(key, (text = fill(parsed.say, parsed)));
          iText.push(text);
        } else iText.push('');
        // A rule placed in a room needs the player there: that is a precondition like any other.
        if (room >= 0) {
          preFact.push(this.playerAtFact[room]!);
          preFail.push(-1);
          preWhenStart.push(preWhenFact.length);
        }
        for (const p of parsed.pre) {
          preFact.push(ground(p.fact));
          preFail.push(p.fail);
          for (const w of p.failWhen) {
            const f = ground(w.fact);
            if (f < 0) continue;
            preWhenFact.push(f);
            preWhenFail.push(w.fail);
          }
          preWhenStart.push(preWhenFact.length);
        }
        preStart.push(preFact.length);
        for (const t of parsed.del) delFact.push(ground(t));
        delStart.push(delFact.length);
        let newRoom = -1;
        for (const t of parsed.add) {
          const f = ground(t);
          addFact.push(f);
          if (this.factRoom[f]! >= 0) newRoom = this.factRoom[f]!;
        }
        addStart.push(addFact.length);
        iNewRoom.push(newRoom);
      };
      const enumerateFree = (j: number): void => {
        if (j === free.length) {
          emit();
          return;
        }
        const p = free[j]!;
        for (const v of domain(parsed.kinds[p]!)) {
          vals[p] = v;
          enumerateFree(j + 1);
        }
        vals[p] = -1;
      };
      const join = (i: number): void => {
        if (i === parsed.where.length) {
          enumerateFree(0);
          return;
        }
        const w = parsed.where[i]!;
        const saved = new Int32Array(MAX_PARAMS);
        for (const tuple of relations[w.predicate] ?? []) {
          saved.set(vals);
          let ok = true;
          for (let a = 0; a < w.args.length && ok; a++) {
            const p = w.args[a]!;
            const v = tuple[a]!;
            if (vals[p]! >= 0) ok = vals[p] === v;
            else if (!inDomain(parsed.kinds[p]!, v)) ok = false;
            else vals[p] = v;
          }
          if (ok) join(i + 1);
          vals.set(saved);
        }
      };
      vals.fill(-1);
      join(0);
    }
    const n = iCommand.length;
    this.instanceCount = n;
    this.instanceCommand = Int32Array.from(iCommand);
    this.instanceRule = Int32Array.from(iRule);
    this.instanceRoom = Int32Array.from(iRoom);
    this.instanceNewRoom = Int32Array.from(iNewRoom);
    this.instanceSubject = Int32Array.from(iSubject);
    this.instanceSay = Uint8Array.from(iSay);
    this.instanceText = Object.freeze(iText);
    this.instanceArgs = Int32Array.from(iArgs);
    this.preStart = Int32Array.from(preStart);
    this.preFact = Int32Array.from(preFact);
    this.preFail = Int32Array.from(preFail);
    this.preWhenStart = Int32Array.from(preWhenStart);
    this.preWhenFact = Int32Array.from(preWhenFact);
    this.preWhenFail = Int32Array.from(preWhenFail);
    this.addStart = Int32Array.from(addStart);
    this.addFact = Int32Array.from(addFact);
    this.delStart = Int32Array.from(delStart);
    this.delFact = Int32Array.from(delFact);

    const placements = (
      key: (i: number, r: number) => number,
      size: number,
    ): [Int32Array, Int32Array] => {
      const start = new Int32Array(size + 1);
      const each = (visit: (slot: number, i: number) => void): void => {
        for (let i = 0; i < n; i++) {
          const room = iRoom[i]!;
          if (room >= 0) visit(key(i, room), i);
          else for (let r = 0; r < R; r++) visit(key(i, r), i);
        }
      };
      each((slot) => start[slot + 1]!++);
      for (let k = 0; k < size; k++) start[k + 1]! += start[k]!;
      const flat = new Int32Array(start[size]!);
      const next = start.slice(0, size);
      each((slot, i) => (flat[next[slot]!++] = i));
      return [start, flat];
    };
    [this.cmdRoomStart, this.cmdRoomInstance] = placements(
      (i, r) => iCommand[i]! * R + r,
      commands.length * R,
    );
    [this.roomInstanceStart, this.roomInstance] = placements((_, r) => r, R);

    // ---- initial state and quest ---------------------------------------------------------------
    this.startRoom = roomIds.get(file.start)!;
    const state = new Uint8Array(names.length);
    state[this.playerAtFact[this.startRoom]!] = 1;
    objects.forEach((o, i) => {
      if (o.location === 'inventory') state[this.carriedFact[i]!] = 1;
      else if (roomIds.has(o.location))
        state[this.objectAtFact[i * R + roomIds.get(o.location)!]!] = 1;
      else {
        const t = thingIds.get(o.location)!;
        if (t < D + C) state[this.objectInFact[i * C + (t - D)]!] = 1;
        else state[this.objectOnFact[i * S + (t - D - C)]!] = 1;
      }
    });
    [...doors, ...containers].forEach((x, i) => {
      state[
        (x.state === 'open'
          ? this.openFact
          : x.state === 'closed'
            ? this.closedFact
            : this.lockedFact)[i]!
      ] = 1;
    });
    this.initialState = state;
    this.objective = file.quest.objective;
    const facts = (list: readonly string[] | undefined, key: string): Int32Array =>
      Int32Array.from(list ?? [], (text, i) => this.questFact(text, ['quest', key, i]));
    this.winFacts = facts(file.quest.win, 'win');
    this.failFacts = facts(file.quest.fail, 'fail');
    this.declaredSubgoals =
      file.quest.subgoals === undefined ? null : facts(file.quest.subgoals, 'subgoals');
  }

  /** Number of rooms. */
  get roomCount(): number {
    return this.rooms.length;
  }

  /** The room the player is in, read from a state vector; -1 if none (a malformed state). */
  roomOf(state: Uint8Array): number {
    for (let r = 0; r < this.rooms.length; r++) if (state[this.playerAtFact[r]!] === 1) return r;
    return -1;
  }

  /** True when every precondition of instance `i` holds. */
  holds(state: Uint8Array, i: number): boolean {
    const end = this.preStart[i + 1]!;
    for (let j = this.preStart[i]!; j < end; j++) if (state[this.preFact[j]!] === 0) return false;
    return true;
  }

  /** The instance of command `command` that applies with the player in `room`, or -1. */
  applicable(state: Uint8Array, command: number, room: number): number {
    const base = command * this.rooms.length + room;
    const end = this.cmdRoomStart[base + 1]!;
    for (let j = this.cmdRoomStart[base]!; j < end; j++) {
      const i = this.cmdRoomInstance[j]!;
      if (this.holds(state, i)) return i;
    }
    return -1;
  }

  /** Applies instance `i` in place (deletes, then adds). */
  apply(state: Uint8Array, i: number): void {
    for (let j = this.delStart[i]!, end = this.delStart[i + 1]!; j < end; j++)
      state[this.delFact[j]!] = 0;
    for (let j = this.addStart[i]!, end = this.addStart[i + 1]!; j < end; j++)
      state[this.addFact[j]!] = 1;
  }

  /** Writes 1 at every command admissible now into `mask` (which must be zeroed). */
  admissible(state: Uint8Array, room: number, mask: Uint8Array): void {
    const end = this.roomInstanceStart[room + 1]!;
    for (let j = this.roomInstanceStart[room]!; j < end; j++) {
      const i = this.roomInstance[j]!;
      const c = this.instanceCommand[i]!;
      if (mask[c] === 0 && this.holds(state, i)) mask[c] = 1;
    }
  }

  /** The feedback for a command that does not apply now: its first instance's first failing precondition. */
  failure(state: Uint8Array, command: number, room: number): string {
    const base = command * this.rooms.length + room;
    if (this.cmdRoomStart[base] === this.cmdRoomStart[base + 1])
      return this.commandMissing[command]!;
    const i = this.cmdRoomInstance[this.cmdRoomStart[base]!]!;
    if (RULES[this.instanceRule[i]!]!.name === 'take') {
      // "take X" names the floor; when X is in plain sight on or in furniture here, say where to take it from.
      const o = this.instanceArgs[i * MAX_PARAMS]! - this.objectBase;
      const where = this.locationOf(state, o);
      const furniture =
        where.kind === 'supporter'
          ? this.things[this.doorCount + this.containerCount + where.index]!
          : where.kind === 'container'
            ? this.things[this.doorCount + where.index]!
            : undefined;
      if (
        furniture?.room === room &&
        (furniture.kind === 'supporter' || this.openState(state, furniture.index) === 'open')
      ) {
        return `You'll have to take the ${this.things[this.objectBase + o]!.name} from the ${furniture.name}.`;
      }
    }
    for (let j = this.preStart[i]!, end = this.preStart[i + 1]!; j < end; j++) {
      if (state[this.preFact[j]!] === 1) continue;
      for (let w = this.preWhenStart[j]!, wEnd = this.preWhenStart[j + 1]!; w < wEnd; w++) {
        if (state[this.preWhenFact[w]!] === 1) return this.failText(this.preWhenFail[w]!, i);
      }
      return this.failText(this.preFail[j]!, i);
    }
    return this.commandMissing[command]!;
  }

  /** Writes failure text `id` for instance `i` (names filled in from its arguments). */
  private failText(id: number, i: number): string {
    if (id < 0) return this.commandMissing[this.instanceCommand[i]!]!;
    const { rule, text } = FAIL_TEXTS[id]!;
    const kinds = PARSED_RULES[rule]!.kinds;
    let out = text.literals[0]!;
    for (let j = 0; j < text.params.length; j++) {
      const p = text.params[j]!;
      const v = this.instanceArgs[i * MAX_PARAMS + p]!;
      const kind = kinds[p]!;
      out +=
        (kind === 'room'
          ? this.rooms[v]!.name
          : kind === 'direction'
            ? DIRECTIONS[v]!
            : this.things[v]!.name) + text.literals[j + 1]!;
    }
    return out;
  }

  /** The feedback of instance `i` once applied to `state`. */
  success(state: Uint8Array, i: number, room: number): string {
    switch (this.instanceSay[i]) {
      case SAY_CODES.arrive:
        return this.describeRoom(state, this.instanceSubject[i]!);
      case SAY_CODES.look:
        return this.describeRoom(state, room);
      case SAY_CODES.inventory:
        return this.inventoryText(state);
      case SAY_CODES.examine:
        return this.examineText(state, this.instanceSubject[i]!);
      case SAY_CODES.open:
        return this.openText(state, this.instanceSubject[i]!);
      default:
        return this.instanceText[i]!;
    }
  }

  /** True when all the facts hold. */
  allHold(state: Uint8Array, facts: Int32Array): boolean {
    for (const f of facts) if (state[f] === 0) return false;
    return true;
  }

  /** True when any of the facts holds. */
  anyHolds(state: Uint8Array, facts: Int32Array): boolean {
    for (const f of facts) if (state[f] === 1) return true;
    return false;
  }

  /** Where an object (kind index) is: `{kind: 'room'|'container'|'supporter', index}`, `inventory` or `eaten`. */
  locationOf(state: Uint8Array, o: number): ObjectLocation {
    if (state[this.carriedFact[o]!] === 1) return { kind: 'inventory', index: -1 };
    const eaten = this.eatenFact[o]!;
    if (eaten >= 0 && state[eaten] === 1) return { kind: 'eaten', index: -1 };
    const R = this.rooms.length,
      C = this.containerCount,
      S = this.supporterCount;
    for (let r = 0; r < R; r++)
      if (state[this.objectAtFact[o * R + r]!] === 1) return { kind: 'room', index: r };
    for (let c = 0; c < C; c++)
      if (state[this.objectInFact[o * C + c]!] === 1) return { kind: 'container', index: c };
    for (let s = 0; s < S; s++)
      if (state[this.objectOnFact[o * S + s]!] === 1) return { kind: 'supporter', index: s };
    return { kind: 'nowhere', index: -1 };
  }

  /** True when object `o` (kind index) is carried. */
  carries(state: Uint8Array, o: number): boolean {
    return state[this.carriedFact[o]!] === 1;
  }

  /** `open`, `closed` or `locked` for a door or container (thing index). */
  openState(state: Uint8Array, x: number): 'open' | 'closed' | 'locked' {
    if (state[this.openFact[x]!] === 1) return 'open';
    const locked = this.lockedFact[x]!;
    return locked >= 0 && state[locked] === 1 ? 'locked' : 'closed';
  }

  /** Names of the objects (thing indices) whose fact at `o * stride + slot` in `table` holds. */
  private objectsIn(state: Uint8Array, table: Int32Array, stride: number, slot: number): string[] {
    const out: string[] = [];
    for (let o = 0; o < this.objectCount; o++)
      if (state[table[o * stride + slot]!] === 1) out.push(this.things[this.objectBase + o]!.name);
    return out;
  }

  /** The text of `look` in room `r`: name, description, furniture and what is on or in it, the floor, the exits. */
  describeRoom(state: Uint8Array, r: number): string {
    const room = this.rooms[r]!;
    let out = room.heading;
    for (const t of room.furniture) {
      const thing = this.things[t]!;
      if (thing.kind === 'container') {
        const c = thing.kindIndex;
        if (state[this.openFact[t]!] === 1) {
          const inside = this.objectsIn(state, this.objectInFact, this.containerCount, c);
          out +=
            inside.length === 0
              ? `\nYou see ${withArticle('open ' + thing.name)}, which is empty.`
              : `\nYou see ${withArticle('open ' + thing.name)} containing ${listText(inside)}.`;
        } else out += `\nYou see ${withArticle('closed ' + thing.name)}.`;
      } else {
        const on = this.objectsIn(state, this.objectOnFact, this.supporterCount, thing.kindIndex);
        out +=
          on.length === 0
            ? `\nYou see ${withArticle(thing.name)}.`
            : `\nYou see ${withArticle(thing.name)} with ${listText(on)} on it.`;
      }
    }
    const floor = this.objectsIn(state, this.objectAtFact, this.rooms.length, r);
    if (floor.length > 0) out += `\nOn the floor you see ${listText(floor)}.`;
    const exits: string[] = [];
    for (let j = 0; j < 6; j++) {
      if (room.exits[j]! < 0) continue;
      const door = room.exitDoors[j]!;
      exits.push(
        door < 0
          ? DIRECTIONS[j]!
          : `${DIRECTIONS[j]!} (${this.things[door]!.name}, ${state[this.openFact[door]!] === 1 ? 'open' : 'closed'})`,
      );
    }
    out += exits.length === 0 ? '\nThere is no exit.' : `\nExits: ${exits.join(', ')}.`;
    return out;
  }

  /** The text of `inventory`. */
  inventoryText(state: Uint8Array): string {
    const carried: string[] = [];
    for (let o = 0; o < this.objectCount; o++)
      if (state[this.carriedFact[o]!] === 1) carried.push(this.things[this.objectBase + o]!.name);
    return carried.length === 0
      ? 'You are carrying nothing.'
      : `You are carrying ${listText(carried)}.`;
  }

  /** The text of `examine` for a thing. */
  examineText(state: Uint8Array, t: number): string {
    const thing = this.things[t]!;
    let out =
      thing.description !== ''
        ? thing.description
        : `You see nothing special about the ${thing.name}.`;
    if (thing.kind === 'door') out += ` It is ${this.openState(state, t)}.`;
    if (thing.kind === 'container') {
      const s = this.openState(state, t);
      out += ` It is ${s}.`;
      if (s === 'open') {
        const inside = this.objectsIn(
          state,
          this.objectInFact,
          this.containerCount,
          thing.kindIndex,
        );
        out += inside.length === 0 ? ' It is empty.' : ` It contains ${listText(inside)}.`;
      }
    }
    if (thing.kind === 'supporter') {
      const on = this.objectsIn(state, this.objectOnFact, this.supporterCount, thing.kindIndex);
      if (on.length > 0) out += ` On it you see ${listText(on)}.`;
    }
    return out;
  }

  /** The text of a successful `open`. */
  openText(state: Uint8Array, t: number): string {
    const thing = this.things[t]!;
    if (thing.kind !== 'container') return `You open the ${thing.name}.`;
    const inside = this.objectsIn(state, this.objectInFact, this.containerCount, thing.kindIndex);
    return inside.length === 0
      ? `You open the ${thing.name}. It is empty.`
      : `You open the ${thing.name}, revealing ${listText(inside)}.`;
  }

  /** The readable true facts of a state (dynamic ones first, then the static ones). */
  factsOf(state: Uint8Array): string[] {
    const out: string[] = [];
    for (let f = 0; f < state.length; f++) if (state[f] === 1) out.push(this.factNames[f]!);
    for (const s of this.staticFacts) out.push(s);
    return out;
  }

  /** Resolves a quest fact written as text; throws `MalformedFileError` at `path` if it is not a fact of this game. */
  private questFact(text: string, path: readonly (string | number)[]): number {
    const match = /^\s*([a-z]+)\s*\(([^()]*)\)\s*$/.exec(text);
    const normal =
      match === null
        ? text
        : factName(
            match[1]!,
            match[2]!.split(',').map((a) => a.trim()),
          );
    const index = this.factIndex.get(normal);
    if (index !== undefined) return index;
    const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    const isStatic = this.staticFacts.includes(normal);
    throw new MalformedFileError(
      this.source,
      `$${where}`,
      isStatic
        ? `expected a fact that can change (at, in, on, carried, eaten, open, closed, locked), received the fixed fact ${JSON.stringify(text)}`
        : `expected a fact of this game such as ${JSON.stringify(this.factNames[this.carriedFact[0] ?? this.playerAtFact[0]!]!)} (predicates: at(player|object, room), in(object, container), on(object, supporter), carried(object), eaten(edible object), open/closed(door|container), locked(door|container with a key)), received ${JSON.stringify(text)}`,
    );
  }
}

/** Where an object is (see {@link Game.locationOf}). */
export interface ObjectLocation {
  kind: 'room' | 'container' | 'supporter' | 'inventory' | 'eaten' | 'nowhere';
  /** Room, container or supporter index (kind index); -1 otherwise. */
  index: number;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** `a brass key`, `an apple`. */
export function withArticle(name: string): string {
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** `a brass key, an apple and a book`. */
export function listText(names: readonly string[]): string {
  const items = names.map(withArticle);
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

/** `Dusty Kitchen`. */
export function titleCase(text: string): string {
  return text.replace(
    /(^|\s)([a-z])/g,
    (_, space: string, letter: string) => space + letter.toUpperCase(),
  );
}

/** A short stable hash of a text (FNV-1a, 32 bits, hex). */
export function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
