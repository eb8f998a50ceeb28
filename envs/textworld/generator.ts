/**
 * Seeded generation of TextWorld games, with separate generators (derived from the main seed) for
 * the map, the objects, the quest and the text, so changing the wording never moves a wall.
 *
 * Quests have an exact length: the shortest winning command sequence has exactly `questLength`
 * commands. The generator explores the world once with the exact search of `search.ts` (every door,
 * key and key-holding container, open-macros included) and reads off, for every place an object can
 * lie, the exact number of commands needed to take it from there; the quest object is put where that
 * number is right (for put / insert / drop quests, a second exploration carrying the object gives the
 * exact cost of every destination). The finished game is then solved once more from scratch and kept
 * only if its shortest plan has exactly `questLength` commands.
 *
 * Families (registered in `envs/index.ts`):
 * - Coin Collector (TextWorld's `tw-coin_collector`): a chain of rooms, the coin at the far end, level
 *   L in 1..300 gives chain length ((L - 1) mod 100) + 1 and ((L - 1) div 100) distractor rooms per
 *   chain room (L ≤ 200: one dead end per chain room in turn; L > 200: attached anywhere).
 * - Treasure Hunter (TextWorld's `tw-treasure_hunter`): levels 1-10 easy (5 rooms, no doors), 11-20
 *   medium (10 rooms, closed doors and containers, 10 distractor furniture), 21-30 hard (20 rooms,
 *   locked doors and containers with keys, 20 distractor furniture); taking the look-alike wrong
 *   object loses. Quest lengths follow TextWorld's `round(linspace(...))` per tier.
 * - Quest-k: general quests (take, eat, put on, put into, drop in a room) of exact length k.
 */
import { InvalidOptionError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { GameFile, OpenState } from './game-file.js';
import { Game } from './game.js';
import { DIRECTIONS, REVERSE_DIRECTION, type Direction } from './rules.js';
import { packedBit, exploreFacts, solveQuest } from './search.js';
import { TextMaker, slug, type NameKind } from './text-grammar.js';

/** Kinds of quest the general generator makes. */
export type QuestKind = 'take' | 'eat' | 'put' | 'insert' | 'drop';

/** Every quest kind. */
export const QUEST_KINDS: readonly QuestKind[] = ['take', 'eat', 'put', 'insert', 'drop'];

/** Parameters of generated worlds (all optional; see {@link resolveGeneratorOptions}). */
export interface GeneratorOptions {
  /** Shortest winning sequence length k. @defaultValue 10 */
  questLength?: number;
  /** Number of rooms. @defaultValue round(4 + 3k / 5), at most 60 */
  rooms?: number;
  /** Portable objects besides keys (the quest object among them). @defaultValue round(3 + k / 4) */
  objects?: number;
  /** How many of the objects are edible. @defaultValue round(objects / 3) */
  food?: number;
  /** Distractor furniture: containers and supporters (as TextWorld's Treasure Hunter). @defaultValue round(2 + k / 3) */
  distractors?: number;
  /** Share of the furniture that are containers (the rest are supporters). @defaultValue 0.5 */
  containerDensity?: number;
  /** Share of the rooms' connections (rooms - 1) that have a door. @defaultValue 0.4 */
  doorDensity?: number;
  /** Share of the doors and containers that have a lock and a key. @defaultValue 0.4 */
  lockDensity?: number;
  /** Extra connections that make loops, as a share of the rooms. @defaultValue 0.15 */
  loopDensity?: number;
  /** Chance that a key starts in the inventory. @defaultValue 0.2 */
  keysInInventory?: number;
  /** Quest kinds to choose from. @defaultValue every kind */
  questKinds?: readonly QuestKind[];
  /** Add a look-alike object whose taking loses the game (Treasure Hunter). @defaultValue false */
  wrongObject?: boolean;
  /** Wording variety in [0, 1]: word-list breadth and flavour sentences. @defaultValue 1 */
  textVariety?: number;
}

/** {@link GeneratorOptions} resolved. */
export type GeneratorConfig = Required<Omit<GeneratorOptions, 'questKinds'>> & {
  questKinds: readonly QuestKind[];
  family: string;
};

/** Validates options and fills defaults. Throws `InvalidOptionError` naming the bad option. */
export function resolveGeneratorOptions(
  options: GeneratorOptions,
  family = 'quest',
): GeneratorConfig {
  const k = integer(options.questLength ?? 10, 'options.questLength', 1, 200);
  const rooms = integer(
    options.rooms ?? Math.min(60, Math.round(4 + (3 * k) / 5)),
    'options.rooms',
    1,
    100,
  );
  const objects = integer(options.objects ?? Math.round(3 + k / 4), 'options.objects', 1, 60);
  const config: GeneratorConfig = {
    family,
    questLength: k,
    rooms,
    objects,
    food: integer(options.food ?? Math.round(objects / 3), 'options.food', 0, objects),
    distractors: integer(
      options.distractors ?? Math.round(2 + k / 3),
      'options.distractors',
      0,
      100,
    ),
    containerDensity: share(options.containerDensity ?? 0.5, 'options.containerDensity'),
    doorDensity: share(options.doorDensity ?? 0.4, 'options.doorDensity'),
    lockDensity: share(options.lockDensity ?? 0.4, 'options.lockDensity'),
    loopDensity: share(options.loopDensity ?? 0.15, 'options.loopDensity'),
    keysInInventory: share(options.keysInInventory ?? 0.2, 'options.keysInInventory'),
    questKinds: options.questKinds ?? QUEST_KINDS,
    wrongObject: options.wrongObject ?? false,
    textVariety: share(options.textVariety ?? 1, 'options.textVariety'),
  };
  if (
    !Array.isArray(config.questKinds) ||
    config.questKinds.length === 0 ||
    !(config.questKinds as readonly unknown[]).every((q) => QUEST_KINDS.includes(q as QuestKind))
  ) {
    throw new InvalidOptionError(
      'options.questKinds',
      options.questKinds,
      `a non-empty array of ${QUEST_KINDS.map((q) => `"${q}"`).join(', ')}`,
    );
  }
  if (config.wrongObject && config.objects < 2) {
    throw new InvalidOptionError(
      'options.objects',
      config.objects,
      'at least 2 with wrongObject (the quest object and its look-alike)',
    );
  }
  if (config.questKinds.every((q) => q === 'eat') && config.food === 0) {
    throw new InvalidOptionError(
      'options.food',
      config.food,
      'at least 1 when the only quest kind is "eat"',
    );
  }
  return Object.freeze(config);
}

/** Treasure Hunter level (1..30) → generator config (TextWorld's tiers and quest lengths). */
export function treasureConfig(level: number, textVariety = 1): GeneratorConfig {
  integer(level, 'options.level', 1, 30);
  const tier = Math.floor((level - 1) / 10);
  const step = (level - 1) % 10;
  const spans = [
    [1, 5],
    [2, 10],
    [3, 20],
  ] as const;
  const [from, to] = spans[tier]!;
  const k = roundHalfEven(from + ((to - from) * step) / 9);
  const common = {
    questLength: k,
    objects: 2,
    food: 0,
    questKinds: ['take'] as QuestKind[],
    wrongObject: true,
    textVariety,
    keysInInventory: 0.4,
    loopDensity: 0.1,
  };
  if (tier === 0)
    return resolveGeneratorOptions(
      { ...common, rooms: 5, distractors: 0, doorDensity: 0, lockDensity: 0, loopDensity: 0 },
      'treasure',
    );
  if (tier === 1)
    return resolveGeneratorOptions(
      {
        ...common,
        rooms: 10,
        distractors: 10,
        containerDensity: 0.5,
        doorDensity: 0.5,
        lockDensity: 0,
      },
      'treasure',
    );
  return resolveGeneratorOptions(
    {
      ...common,
      rooms: 20,
      distractors: 20,
      containerDensity: 0.5,
      doorDensity: 0.5,
      lockDensity: 0.5,
    },
    'treasure',
  );
}

/** The quest length of a Treasure Hunter level. */
export function treasureQuestLength(level: number): number {
  return treasureConfig(level).questLength;
}

/** The rooms and chain length of a Coin Collector level (1..300). */
export function coinLevel(level: number): {
  questLength: number;
  rooms: number;
  distractorsPerRoom: number;
  mode: 'simple' | 'random';
} {
  integer(level, 'options.level', 1, 300);
  const distractorsPerRoom = Math.floor((level - 1) / 100);
  const questLength = ((level - 1) % 100) + 1;
  return {
    questLength,
    rooms: (distractorsPerRoom + 1) * questLength,
    distractorsPerRoom,
    mode: distractorsPerRoom >= 2 ? 'random' : 'simple',
  };
}

/** A generator for one aspect of one game: seeded from the main seed, the aspect's name and the attempt. */
export function aspectRng(
  seed: number,
  aspect: 'map' | 'objects' | 'quest' | 'text',
  attempt = 0,
): Rng {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 0x100000000), 0x01000193);
  for (const ch of `${aspect}:${attempt}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return new Rng((h >>> 0) + attempt * 0x100000000);
}

// ---- map -----------------------------------------------------------------------------------------

interface MapModel {
  /** Destination per `room * 6 + dir`, -1 for none. */
  exits: Int32Array;
  /** Edges in creation order: [roomA, dirA] (the other side is the reverse). */
  edges: [number, number][];
  /** Edge index per `room * 6 + dir`, -1 for none. */
  edgeAt: Int32Array;
}

function dirWeights(): number[] {
  return DIRECTIONS.map((d) => (d === 'up' || d === 'down' ? 0.12 : 1));
}

function pickDirection(rng: Rng, free: number[]): number {
  const w = dirWeights();
  const total = free.reduce((s, d) => s + w[d]!, 0);
  let x = rng.uniform(0, total);
  for (const d of free) {
    x -= w[d]!;
    if (x < 0) return d;
  }
  return free[free.length - 1]!;
}

function connect(map: MapModel, a: number, dir: number, b: number): void {
  const back = DIRECTIONS.indexOf(REVERSE_DIRECTION[DIRECTIONS[dir]!]);
  map.exits[a * 6 + dir] = b;
  map.exits[b * 6 + back] = a;
  map.edgeAt[a * 6 + dir] = map.edges.length;
  map.edgeAt[b * 6 + back] = map.edges.length;
  map.edges.push([a, dir]);
}

function freeDirections(map: MapModel, room: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < 6; d++) if (map.exits[room * 6 + d] === -1) out.push(d);
  return out;
}

/**
 * A random tree of rooms plus `loops` extra connections. `chain` in [0, 1) is the chance that a new
 * room hangs off the previous one (long corridors, for quests long relative to the map).
 */
function treeMap(rng: Rng, rooms: number, loops: number, chain: number): MapModel {
  const map: MapModel = {
    exits: new Int32Array(rooms * 6).fill(-1),
    edges: [],
    edgeAt: new Int32Array(rooms * 6).fill(-1),
  };
  for (let r = 1; r < rooms; r++) {
    let parent = rng.random() < chain ? r - 1 : rng.integer(r);
    while (freeDirections(map, parent).length === 0) parent = rng.integer(r);
    connect(map, parent, pickDirection(rng, freeDirections(map, parent)), r);
  }
  for (let added = 0, tries = 0; added < loops && tries < loops * 20; tries++) {
    const a = rng.integer(rooms),
      b = rng.integer(rooms);
    if (a === b) continue;
    let adjacent = false;
    for (let d = 0; d < 6; d++) if (map.exits[a * 6 + d] === b) adjacent = true;
    if (adjacent) continue;
    const options = freeDirections(map, a).filter(
      (d) => map.exits[b * 6 + DIRECTIONS.indexOf(REVERSE_DIRECTION[DIRECTIONS[d]!])] === -1,
    );
    if (options.length === 0) continue;
    connect(map, a, pickDirection(rng, options), b);
    added++;
  }
  return map;
}

/** A room farthest (in moves, doors ignored) from `from`. */
function farthestRoom(map: MapModel, from: number): number {
  const rooms = map.exits.length / 6;
  const distance = new Int32Array(rooms).fill(-1);
  distance[from] = 0;
  const queue = [from];
  let last = from;
  for (const r of queue) {
    last = r;
    for (let d = 0; d < 6; d++) {
      const to = map.exits[r * 6 + d]!;
      if (to >= 0 && distance[to] === -1) {
        distance[to] = distance[r]! + 1;
        queue.push(to);
      }
    }
  }
  return last;
}

// ---- world model ---------------------------------------------------------------------------------

type Slot =
  { kind: 'room' | 'container' | 'supporter'; index: number } | { kind: 'inventory'; index: -1 };

interface WorldModel {
  rooms: number;
  map: MapModel;
  start: number;
  /** Door per edge index. */
  doors: { edge: number; state: OpenState; lockable: boolean }[];
  containers: { room: number; state: OpenState; lockable: boolean }[];
  supporters: { room: number }[];
  /** Keys: which lockable (door index, or doors.length + container index) each opens, and where it lies. */
  keys: { opens: number; at: Slot }[];
  /** Non-key objects. */
  objects: { edible: boolean; at: Slot }[];
}

/** A plain skeleton file (ids as names) of a world model, for the searches. */
function skeleton(world: WorldModel, quest: { win: string[]; fail: string[] }): GameFile {
  return named(world, quest, undefined);
}

interface Naming {
  rooms: { id: string; name: string; description: string }[];
  doors: { id: string; name: string; description: string }[];
  containers: { id: string; name: string; description: string }[];
  supporters: { id: string; name: string; description: string }[];
  keys: { id: string; name: string; description: string }[];
  objects: { id: string; name: string; description: string }[];
  title: string;
  objective: string;
}

/** Builds the game file of a world model, with names (or the plain ids r0, d0, c0, s0, k0, o0). */
function named(
  world: WorldModel,
  quest: { win: string[]; fail: string[] },
  naming: Naming | undefined,
  metadata?: GameFile['metadata'],
): GameFile {
  const plain = (prefix: string, i: number): { id: string; name: string; description: string } => ({
    id: `${prefix}${i}`,
    name: `${prefix} ${i}`,
    description: '',
  });
  const room = (i: number): { id: string; name: string; description: string } =>
    naming?.rooms[i] ?? plain('r', i);
  const door = (i: number): { id: string; name: string; description: string } =>
    naming?.doors[i] ?? plain('d', i);
  const container = (i: number): { id: string; name: string; description: string } =>
    naming?.containers[i] ?? plain('c', i);
  const supporter = (i: number): { id: string; name: string; description: string } =>
    naming?.supporters[i] ?? plain('s', i);
  const key = (i: number): { id: string; name: string; description: string } =>
    naming?.keys[i] ?? plain('k', i);
  const object = (i: number): { id: string; name: string; description: string } =>
    naming?.objects[i] ?? plain('o', i);
  const where = (slot: Slot): string => {
    switch (slot.kind) {
      case 'inventory':
        return 'inventory';
      case 'room':
        return room(slot.index).id;
      case 'container':
        return container(slot.index).id;
      case 'supporter':
        return supporter(slot.index).id;
    }
  };
  const doorOfEdge = new Map(world.doors.map((d, i) => [d.edge, i]));
  const keyOf = new Map(world.keys.map((k, i) => [k.opens, i]));
  const rename = (fact: string): string =>
    fact.replace(/\b([rdcsko])(\d+)\b/g, (_, p: string, n: string) => {
      const i = Number(n);
      return { r: room, d: door, c: container, s: supporter, k: key, o: object }[p as 'r'](i).id;
    });
  const exitsOf = (
    r: number,
  ): Partial<Record<Direction, string | { to: string; door: string }>> => {
    const exits: Partial<Record<Direction, string | { to: string; door: string }>> = {};
    world.map.edges.forEach(([a, dir], e) => {
      const b = world.map.exits[a * 6 + dir]!;
      const back = DIRECTIONS.indexOf(REVERSE_DIRECTION[DIRECTIONS[dir]!]);
      const d = doorOfEdge.get(e);
      const target = (to: number): string | { to: string; door: string } =>
        d === undefined ? room(to).id : { to: room(to).id, door: door(d).id };
      if (a === r) exits[DIRECTIONS[dir]!] = target(b);
      if (b === r) exits[DIRECTIONS[back]!] = target(a);
    });
    return exits;
  };
  const withText = <T extends object>(base: T, description: string): T =>
    description === '' ? base : { ...base, description };
  const file: GameFile = {
    format: 'wmgym-textworld',
    version: 1,
    title: naming?.title ?? 'skeleton',
    start: room(world.start).id,
    rooms: Array.from({ length: world.rooms }, (_, r) =>
      withText({ id: room(r).id, name: room(r).name, exits: exitsOf(r) }, room(r).description),
    ),
    doors: world.doors.map((d, i) => {
      const k = keyOf.get(i);
      return withText(
        {
          id: door(i).id,
          name: door(i).name,
          state: d.state,
          ...(k === undefined ? {} : { key: key(k).id }),
        },
        door(i).description,
      );
    }),
    containers: world.containers.map((c, i) => {
      const k = keyOf.get(world.doors.length + i);
      return withText(
        {
          id: container(i).id,
          name: container(i).name,
          room: room(c.room).id,
          state: c.state,
          ...(k === undefined ? {} : { key: key(k).id }),
        },
        container(i).description,
      );
    }),
    supporters: world.supporters.map((s, i) =>
      withText(
        { id: supporter(i).id, name: supporter(i).name, room: room(s.room).id },
        supporter(i).description,
      ),
    ),
    objects: [
      ...world.keys.map((k, i) =>
        withText({ id: key(i).id, name: key(i).name, location: where(k.at) }, key(i).description),
      ),
      ...world.objects.map((o, i) =>
        withText(
          {
            id: object(i).id,
            name: object(i).name,
            location: where(o.at),
            ...(o.edible ? { edible: true } : {}),
          },
          object(i).description,
        ),
      ),
    ],
    quest: {
      objective: naming?.objective ?? 'skeleton',
      win: quest.win.map(rename),
      ...(quest.fail.length > 0 ? { fail: quest.fail.map(rename) } : {}),
    },
  };
  if (metadata !== undefined) file.metadata = metadata;
  return file;
}

/** Places doors, furniture, keys and objects on a map. */
function furnish(
  config: GeneratorConfig,
  map: MapModel,
  start: number,
  mapRng: Rng,
  rng: Rng,
): WorldModel {
  const R = config.rooms;
  const D = Math.min(map.edges.length, Math.round(config.doorDensity * (R - 1)));
  const C = Math.round(config.containerDensity * config.distractors);
  const S = config.distractors - C;
  const Kd = Math.round(config.lockDensity * D);
  const Kc = Math.round(config.lockDensity * C);
  const lockedShare = 0.6,
    closedShare = 0.7;
  const edges = mapRng.shuffle(Array.from({ length: map.edges.length }, (_, e) => e)).slice(0, D);
  const doors = edges.map((edge, i) => {
    const lockable = i < Kd;
    const u = mapRng.random();
    const state: OpenState =
      lockable && u < lockedShare ? 'locked' : u < closedShare ? 'closed' : 'open';
    return { edge, state, lockable };
  });
  const containers = Array.from({ length: C }, (_, i) => {
    const lockable = i < Kc;
    const u = rng.random();
    const state: OpenState =
      lockable && u < lockedShare ? 'locked' : u < closedShare ? 'closed' : 'open';
    return { room: rng.integer(R), state, lockable };
  });
  const supporters = Array.from({ length: S }, () => ({ room: rng.integer(R) }));
  const world: WorldModel = {
    rooms: R,
    map,
    start,
    doors,
    containers,
    supporters,
    keys: [],
    objects: [],
  };

  // Keys: walk outwards from the start, unlocking as keys are placed where the player can already go.
  const lockables = [
    ...doors.map((_, i) => i).filter((i) => doors[i]!.lockable),
    ...containers.map((_, i) => D + i).filter((i) => containers[i - D]!.lockable),
  ];
  const placed = new Map<number, Slot>();
  const unlocked = new Set<number>();
  const doorOfEdge = new Map(doors.map((d, i) => [d.edge, i]));
  const reachableRooms = (): Set<number> => {
    const seen = new Set([start]);
    const queue = [start];
    while (queue.length > 0) {
      const r = queue.shift()!;
      for (let d = 0; d < 6; d++) {
        const to = map.exits[r * 6 + d]!;
        if (to < 0 || seen.has(to)) continue;
        const door = doorOfEdge.get(map.edgeAt[r * 6 + d]!);
        if (door !== undefined && doors[door]!.state === 'locked' && !unlocked.has(door)) continue;
        seen.add(to);
        queue.push(to);
      }
    }
    return seen;
  };
  const slotsIn = (roomSet: Set<number>, exclude: number): Slot[] => {
    const out: Slot[] = [...roomSet].map((r) => ({ kind: 'room', index: r }));
    containers.forEach((c, i) => {
      if (roomSet.has(c.room) && D + i !== exclude && (c.state !== 'locked' || unlocked.has(D + i)))
        out.push({ kind: 'container', index: i });
    });
    supporters.forEach((s, i) => {
      if (roomSet.has(s.room)) out.push({ kind: 'supporter', index: i });
    });
    return out;
  };
  const pending = [...lockables];
  while (pending.length > 0) {
    const reach = reachableRooms();
    const adjacent = pending.filter((x) => {
      if (x >= D) return reach.has(containers[x - D]!.room);
      const [a, dir] = map.edges[doors[x]!.edge]!;
      return reach.has(a) || reach.has(map.exits[a * 6 + dir]!);
    });
    const x = rng.choice(adjacent.length > 0 ? adjacent : pending);
    pending.splice(pending.indexOf(x), 1);
    const slot: Slot =
      rng.random() < config.keysInInventory
        ? { kind: 'inventory', index: -1 }
        : rng.choice(slotsIn(reach, x));
    placed.set(x, slot);
    unlocked.add(x);
  }
  world.keys = lockables.map((x) => ({ opens: x, at: placed.get(x)! }));
  const everywhere = new Set(Array.from({ length: R }, (_, r) => r));
  const allSlots: Slot[] = [
    ...[...everywhere].map((r): Slot => ({ kind: 'room', index: r })),
    ...containers.map((_, i): Slot => ({ kind: 'container', index: i })),
    ...supporters.map((_, i): Slot => ({ kind: 'supporter', index: i })),
  ];
  world.objects = Array.from({ length: config.objects }, (_, i) => ({
    edible: i < config.food,
    at: rng.choice(allSlots),
  }));
  return world;
}

/** Exact cost (commands) to take something from each slot, from a settled exploration state. */
function slotCosts(
  game: Game,
  world: WorldModel,
): {
  costs: Map<string, number>;
  visit: (words: Uint32Array, off: number, room: number, cost: number) => void;
} {
  const costs = new Map<string, number>();
  const D = world.doors.length;
  const keep = (slot: string, cost: number): void => {
    if (cost < (costs.get(slot) ?? Infinity)) costs.set(slot, cost);
  };
  const visit = (words: Uint32Array, off: number, room: number, cost: number): void => {
    keep(`r${room}`, cost + 1);
    for (const t of game.rooms[room]!.furniture) {
      const thing = game.things[t]!;
      if (thing.kind === 'supporter') {
        keep(`s${thing.kindIndex}`, cost + 1);
        continue;
      }
      const x = D + thing.kindIndex;
      if (packedBit(words, off, game.openFact[x]!)) keep(`c${thing.kindIndex}`, cost + 1);
      else if (packedBit(words, off, game.closedFact[x]!)) keep(`c${thing.kindIndex}`, cost + 2);
      else if (
        thing.keys.some((k) => packedBit(words, off, game.carriedFact[k - game.objectBase]!))
      )
        keep(`c${thing.kindIndex}`, cost + 3);
    }
  };
  return { costs, visit };
}

/** The facts the exploration must treat as goals: every room and every key. */
function coreTargets(game: Game, world: WorldModel, extra: number[] = []): Int32Array {
  const keys = world.keys.map((_, i) => game.carriedFact[i]!);
  return Int32Array.from([...game.playerAtFact, ...keys, ...extra]);
}

interface QuestChoice {
  kind: QuestKind;
  /** Non-key object index of the quest object. */
  target: number;
  /** Where it must end (put: supporter, insert: container, drop: room), -1 for take and eat. */
  destination: number;
}

/** Picks a quest of exact length k on a furnished world (moving the quest object where needed), or null. */
function chooseQuest(
  config: GeneratorConfig,
  world: WorldModel,
  rng: Rng,
  kinds: readonly QuestKind[],
): QuestChoice | null {
  const k = config.questLength;
  const game = new Game(skeleton(world, { win: [`at(player, r${world.start})`], fail: [] }));
  const { costs, visit } = slotCosts(game, world);
  if (
    exploreFacts(game, game.initialState, coreTargets(game, world), visit, {
      maxCost: Math.max(0, k - 1),
    }).status !== 'found'
  )
    return null;
  const slots = [...costs].map(([slot, cost]) => ({ slot, cost }));
  const parse = (slot: string): Slot => ({
    kind: ({ r: 'room', c: 'container', s: 'supporter' } as const)[slot[0] as 'r'],
    index: Number(slot.slice(1)),
  });
  const carries: {
    target: number;
    from: Slot;
    prices: Record<'put' | 'insert' | 'drop', Map<number, number>>;
  }[] = [];
  for (const kind of rng.shuffle([...kinds])) {
    const candidates = world.objects
      .map((_, i) => i)
      .filter(
        (i) =>
          (kind === 'eat' ? world.objects[i]!.edible : true) && !(config.wrongObject && i === 1),
      );
    if (candidates.length === 0) continue;
    if (kind === 'take' || kind === 'eat') {
      const need = kind === 'take' ? k : k - 1;
      const fits = slots.filter((s) => s.cost === need);
      if (fits.length === 0) continue;
      const i = rng.choice(candidates);
      world.objects[i]!.at = parse(rng.choice(fits).slot);
      return { kind, target: i, destination: -1 };
    }
    // put / insert / drop: carry the object from a near place, then price every destination exactly.
    // One exploration prices the three kinds at once; it is kept for the kinds tried after this one.
    const near = slots.filter((s) => s.cost <= k - 1);
    if (near.length === 0) continue;
    if (carries.length === 0) {
      for (let tries = 0; tries < 3; tries++) {
        const i = rng.choice(candidates);
        const from = parse(rng.choice(near).slot);
        carries.push({ target: i, from, prices: priceDestinations(game, world, i, from, k) });
      }
    }
    for (const { target, from, prices } of carries) {
      if (!candidates.includes(target)) continue;
      const fits = [...prices[kind]].filter(([, cost]) => cost === k).map(([d]) => d);
      if (fits.length === 0) continue;
      world.objects[target]!.at = from;
      return { kind, target, destination: rng.choice(fits) };
    }
  }
  return null;
}

/**
 * Exact cost of every put / insert / drop destination for object `i` starting at `from`: one
 * exploration carrying it (the object is part of the explored state), destinations priced from every
 * settled state that carries it.
 */
function priceDestinations(
  game: Game,
  world: WorldModel,
  i: number,
  from: Slot,
  k: number,
): Record<'put' | 'insert' | 'drop', Map<number, number>> {
  const K = world.keys.length;
  const D = world.doors.length;
  const locationFact = (at: Slot): number => {
    const O = K + i;
    if (at.kind === 'room') return game.objectAtFact[O * game.roomCount + at.index]!;
    if (at.kind === 'container') return game.objectInFact[O * game.containerCount + at.index]!;
    if (at.kind === 'supporter') return game.objectOnFact[O * game.supporterCount + at.index]!;
    return game.carriedFact[O]!;
  };
  const state = Uint8Array.from(game.initialState);
  state[locationFact(world.objects[i]!.at)] = 0;
  state[locationFact(from)] = 1;
  const carried = game.carriedFact[K + i]!;
  const prices = {
    put: new Map<number, number>(),
    insert: new Map<number, number>(),
    drop: new Map<number, number>(),
  };
  const keep = (map: Map<number, number>, d: number, cost: number): void => {
    if (cost < (map.get(d) ?? Infinity)) map.set(d, cost);
  };
  exploreFacts(
    game,
    state,
    coreTargets(game, world, [carried]),
    (words, off, room, cost) => {
      if (!packedBit(words, off, carried)) return;
      if (!(from.kind === 'room' && from.index === room)) keep(prices.drop, room, cost + 1);
      for (const t of game.rooms[room]!.furniture) {
        const thing = game.things[t]!;
        if (from.kind === thing.kind && from.index === thing.kindIndex) continue;
        if (thing.kind === 'supporter') {
          keep(prices.put, thing.kindIndex, cost + 1);
          continue;
        }
        const x = D + thing.kindIndex;
        if (packedBit(words, off, game.openFact[x]!))
          keep(prices.insert, thing.kindIndex, cost + 1);
        else if (packedBit(words, off, game.closedFact[x]!))
          keep(prices.insert, thing.kindIndex, cost + 2);
        else if (
          thing.keys.some((key) => packedBit(words, off, game.carriedFact[key - game.objectBase]!))
        )
          keep(prices.insert, thing.kindIndex, cost + 3);
      }
    },
    { maxCost: k - 1 },
  );
  return prices;
}

function questFacts(
  choice: QuestChoice,
  world: WorldModel,
  config: GeneratorConfig,
): { win: string[]; fail: string[] } {
  const o = `o${choice.target}`;
  const win = {
    take: `carried(${o})`,
    eat: `eaten(${o})`,
    put: `on(${o}, s${choice.destination})`,
    insert: `in(${o}, c${choice.destination})`,
    drop: `at(${o}, r${choice.destination})`,
  }[choice.kind];
  const fail: string[] = [];
  if (config.wrongObject) fail.push('carried(o1)');
  if (choice.kind !== 'eat' && choice.kind !== 'take' && world.objects[choice.target]!.edible)
    fail.push(`eaten(${o})`);
  return { win: [win], fail };
}

/** Names and texts for a finished world and quest. */
function writeTexts(
  config: GeneratorConfig,
  world: WorldModel,
  choice: QuestChoice,
  text: TextMaker,
): Naming {
  const used = new Set<string>();
  const unique = (id: string): string => {
    let out = id;
    for (let n = 2; used.has(out); n++) out = `${id}_${n}`;
    used.add(out);
    return out;
  };
  const entry = (
    name: string,
    description: string,
  ): { id: string; name: string; description: string } => ({
    id: unique(slug(name)),
    name,
    description,
  });
  const thing = (
    kind: NameKind,
    noun?: string,
  ): { id: string; name: string; description: string } => {
    const name = text.thingName(kind, noun);
    return entry(name, text.thingDescription(kind, name));
  };
  const roomNames = text.roomNames(world.rooms);
  const rooms = roomNames.map((name) => entry(name, text.roomDescription(name)));
  const doors = world.doors.map(() => thing('door'));
  const containers = world.containers.map(() => thing('container'));
  const supporters = world.supporters.map(() => thing('supporter'));
  const keys = world.keys.map(() => thing('key'));
  const objects: { id: string; name: string; description: string }[] = [];
  world.objects.forEach((o, i) => {
    if (config.wrongObject && i === 1) {
      const noun = objects[0]!.name.split(' ').pop()!;
      objects.push(thing('item', noun));
    } else objects.push(thing(o.edible ? 'food' : 'item'));
  });
  const X = objects[choice.target]!.name;
  const tasks = {
    take: [
      `Find the ${X} and take it.`,
      `Your goal is to pick up the ${X}.`,
      `Locate the ${X} and grab it.`,
      `Somewhere around here is the ${X}: get it.`,
    ],
    eat: [
      `Find the ${X} and eat it.`,
      `You are starving: eat the ${X}.`,
      `Track down the ${X} and eat it.`,
    ],
    put: [
      `Put the ${X} on the ${supporters[choice.destination]?.name ?? ''}.`,
      `Find the ${X} and place it on the ${supporters[choice.destination]?.name ?? ''}.`,
    ],
    insert: [
      `Put the ${X} into the ${containers[choice.destination]?.name ?? ''}.`,
      `Find the ${X} and store it in the ${containers[choice.destination]?.name ?? ''}.`,
    ],
    drop: [
      `Bring the ${X} to the ${rooms[choice.destination]?.name ?? ''} and drop it there.`,
      `Take the ${X} to the ${rooms[choice.destination]?.name ?? ''} and leave it on the floor.`,
    ],
  }[choice.kind];
  let objective = text.objective(tasks);
  if (config.wrongObject)
    objective += ` Only the ${X} will do: take nothing else that looks like it.`;
  return { rooms, doors, containers, supporters, keys, objects, title: text.title(), objective };
}

const MAX_ATTEMPTS = 60;

/**
 * Generates a game whose shortest winning command sequence has exactly `config.questLength`
 * commands (verified by search), from `seed`.
 *
 * @throws {@link InvalidOptionError} when the parameters cannot produce such a quest (e.g. a quest
 * longer than the world allows).
 */
export function generateGame(config: GeneratorConfig, seed: number): GameFile {
  return generateCompiledGame(config, seed).file;
}

/** {@link generateGame}, also returning the compiled game it verified (so callers need not compile it again). */
export function generateCompiledGame(
  config: GeneratorConfig,
  seed: number,
): { file: GameFile; game: Game } {
  const k = config.questLength;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const mapRng = aspectRng(seed, 'map', attempt);
    const chain = Math.min(0.85, Math.max(0, k / config.rooms - 0.25));
    const map = treeMap(mapRng, config.rooms, Math.round(config.loopDensity * config.rooms), chain);
    const start =
      attempt % 2 === 0
        ? mapRng.integer(config.rooms)
        : farthestRoom(map, mapRng.integer(config.rooms));
    const world = furnish(config, map, start, mapRng, aspectRng(seed, 'objects', attempt));
    const questRng = aspectRng(seed, 'quest', attempt);
    const kinds = config.questKinds.filter((q) =>
      q === 'eat'
        ? config.food > 0 && k >= 2
        : q === 'take'
          ? true
          : k >= 2 &&
            (q !== 'put' || world.supporters.length > 0) &&
            (q !== 'insert' || world.containers.length > 0),
    );
    if (kinds.length === 0) break;
    const choice = chooseQuest(config, world, questRng, kinds);
    if (choice === null) continue;
    const kind = choice.kind;
    const quest = questFacts(choice, world, config);
    const naming = writeTexts(
      config,
      world,
      choice,
      new TextMaker(aspectRng(seed, 'text'), config.textVariety),
    );
    const file = named(world, quest, naming, {
      generator: 'wmgym',
      family: config.family,
      seed,
      questLength: k,
      questKind: kind,
      attempt,
    });
    const game = new Game(file);
    if (solveQuest(game, game.initialState).cost === k) return { file, game };
  }
  throw new InvalidOptionError(
    'options.questLength',
    k,
    `a quest length the world parameters allow (${config.rooms} rooms, ${config.distractors} furniture, door density ${config.doorDensity}, lock density ${config.lockDensity})`,
    'Try more rooms or doors, or a shorter quest',
  );
}

/** Generates a Coin Collector game of `level` (1..300) from `seed`. */
export function generateCoinGame(level: number, seed: number, textVariety = 1): GameFile {
  const { questLength, rooms, mode } = coinLevel(level);
  const rng = aspectRng(seed, 'map');
  const map: MapModel = {
    exits: new Int32Array(rooms * 6).fill(-1),
    edges: [],
    edgeAt: new Int32Array(rooms * 6).fill(-1),
  };
  for (let r = 1; r < questLength; r++)
    connect(map, r - 1, pickDirection(rng, freeDirections(map, r - 1)), r);
  for (let r = questLength; r < rooms;) {
    const source = mode === 'random' ? rng.integer(r) : r % questLength;
    const free = freeDirections(map, source);
    if (free.length === 0) continue;
    connect(map, source, pickDirection(rng, free), r);
    r++;
  }
  const world: WorldModel = {
    rooms,
    map,
    start: 0,
    doors: [],
    containers: [],
    supporters: [],
    keys: [],
    objects: [{ edible: false, at: { kind: 'room', index: questLength - 1 } }],
  };
  const text = new TextMaker(aspectRng(seed, 'text'), textVariety);
  const roomNames = text.roomNames(rooms);
  const naming: Naming = {
    rooms: roomNames.map((name) => ({
      id: slug(name),
      name,
      description: text.roomDescription(name),
    })),
    doors: [],
    containers: [],
    supporters: [],
    keys: [],
    objects: [
      {
        id: 'coin',
        name: text.reserve('coin'),
        description: 'A shiny coin. This is what you came for.',
      },
    ],
    title: text.title(),
    objective: text.objective([
      'Find the coin and take it.',
      'Your goal is to pick up the coin.',
      'Somewhere in this maze is a coin: get it.',
      'Explore until you find the coin, then take it.',
    ]),
  };
  return named(world, { win: ['carried(o0)'], fail: [] }, naming, {
    generator: 'wmgym',
    family: 'coins',
    level,
    seed,
    questLength,
  });
}

function integer(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `an integer in [${min}, ${max}]`);
  }
  return value;
}

function share(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw new InvalidOptionError(option, value, 'a number in [0, 1]');
  return value;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The sizes every game of a generator config shares: facts (observation length), commands (actions) and entities. */
export interface GameLayout {
  facts: number;
  commands: number;
  rooms: number;
  doors: number;
  containers: number;
  supporters: number;
  /** Objects, keys included. */
  objects: number;
}

/** The layout of a compiled game. */
export function layoutOf(game: Game): GameLayout {
  return {
    facts: game.factNames.length,
    commands: game.commands.length,
    rooms: game.roomCount,
    doors: game.doorCount,
    containers: game.containerCount,
    supporters: game.supporterCount,
    objects: game.objectCount,
  };
}

/** The layout of the games `generateGame(config, seed)` makes, for every seed (compiled from a bare world with the same counts). */
export function questLayout(config: GeneratorConfig): GameLayout {
  const R = config.rooms;
  const map: MapModel = {
    exits: new Int32Array(R * 6).fill(-1),
    edges: [],
    edgeAt: new Int32Array(R * 6).fill(-1),
  };
  // A corridor north-south (and further rooms up/down the line) with enough connections for the doors.
  for (let r = 1; r < R; r++) connect(map, r - 1, r % 2 === 1 ? 0 : 4, r);
  const D = Math.min(map.edges.length, Math.round(config.doorDensity * (R - 1)));
  const C = Math.round(config.containerDensity * config.distractors);
  const S = config.distractors - C;
  const Kd = Math.round(config.lockDensity * D);
  const Kc = Math.round(config.lockDensity * C);
  const world: WorldModel = {
    rooms: R,
    map,
    start: 0,
    doors: Array.from({ length: D }, (_, i) => ({ edge: i, state: 'closed', lockable: i < Kd })),
    containers: Array.from({ length: C }, (_, i) => ({
      room: 0,
      state: 'closed',
      lockable: i < Kc,
    })),
    supporters: Array.from({ length: S }, () => ({ room: 0 })),
    keys: [
      ...Array.from({ length: Kd }, (_, i) => i),
      ...Array.from({ length: Kc }, (_, i) => D + i),
    ].map((opens) => ({ opens, at: { kind: 'inventory', index: -1 } })),
    objects: Array.from({ length: config.objects }, (_, i) => ({
      edible: i < config.food,
      at: { kind: 'room', index: 0 },
    })),
  };
  return layoutOf(new Game(skeleton(world, { win: ['carried(o0)'], fail: [] })));
}

/** The layout of Coin Collector games of `level`. */
export function coinLayout(level: number): GameLayout {
  return layoutOf(new Game(generateCoinGame(level, 0, 0)));
}
