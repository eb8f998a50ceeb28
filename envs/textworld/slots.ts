/**
 * The slot encoding of TextWorld games (`observation: 'slots'`): one vocabulary of typed slots per
 * family and level, so that observation index i and action j mean the same thing in every game the
 * generator draws, as GATA's "the first key" / "the container the goal object is in".
 *
 * The default fact vector numbers entities in the order the generator created them, so `at(player,
 * r3)` is "the fourth room made", a different room in each game (the start and the goal among
 * them), and the map and the goal are not in it: two games can take one observation and one action
 * to different next observations. Here entities get slots by role, and the vector carries the map
 * and the goal as facts over slots too, so one (observation, action) pair has one outcome everywhere.
 *
 * ## Slots          a slot is a typed position of the vocabulary that one entity of that type fills
 *                   in every game: rooms `r0..`, doors `d0..`, containers `c0..`, supporters `s0..`,
 *                   objects `o0..` (keys are objects). Counts are the family level's (every
 *                   generated game of one id has them); a file game uses its own.
 * ## Slot order     rooms: breadth-first from the start over every exit (doors ignored), exits in
 *                   the order north, south, east, west, up, down; `r0` is the start, slots never get
 *                   farther from it; rooms the search does not reach follow in file order.
 *                   Doors, containers, supporters, objects: first those the quest's win facts name
 *                   (in their order), then those its fail facts name; then doors in the order the
 *                   rooms' exits (room slot, then direction) first show them, containers and
 *                   supporters by the slot of their room; objects: keys by the slot of the first door
 *                   or container they open (doors before containers), then the others by where they
 *                   start (carried, then by the room slot of their place: floor, supporters,
 *                   containers by slot), food first. Ties (furniture of one room; objects with the
 *                   same place and edibility, which nothing tells apart) keep file order, so the
 *                   encoding does not depend on how the file orders rooms, doors, objects, or
 *                   furniture of different rooms (tested by shuffling them).
 *                   So in Quest games `o0` is the quest object, a put or insert destination is `s0`
 *                   or `c0`, and the keys follow; in Treasure Hunter `o1` is the look-alike; in Coin
 *                   Collector `o0` is the coin (and, without distractor rooms, `r{i}` is i moves
 *                   along the chain).
 * ## Observation    `MultiBinary`, blocks in this order (see {@link SlotLayout} for offsets):
 *                   state: `at(player, r)`; per object `at(o, r)`, `in(o, c)`, `on(o, s)`,
 *                   `carried(o)`, `eaten(o)`; per door then container `open(x)`, `closed(x)`,
 *                   `locked(x)`. Map: `exit(r, dir, r2)`, `doorway(r, dir, d)` (the exit has door d),
 *                   `located(c|s, r)`, `key(o, x)`, `edible(o)`. Quest: `win(f)` and `fail(f)` for
 *                   each state fact f the quest names; with intermediate rewards also `subgoal(f)`,
 *                   the sub-goals not yet rewarded. The state block alone is the default vector's
 *                   facts in slot order (entries that cannot hold in a game stay 0). Length
 *                   `R + O(R+C+S+2) + 3(D+C)` for the state, `6R² + 6RD + (C+S)R + O(D+C) + O` for the
 *                   map, twice (three times with sub-goals) the state for the quest. {@link slotGame}
 *                   rebuilds a playable world from an observation alone.
 * ## Actions        `Discrete`: every command form of `rules.ts` over every slot (`go north`, `take o`,
 *                   `take o from c`, ..., `unlock x with o` for every door or container and every
 *                   object), numbered form by form with the first slot outermost. A form the game does
 *                   not have (eating what is not food, a key that is not the lock's) is a legal move
 *                   that changes nothing, with the feedback a player gets for typing it.
 */
import type { GameFile, OpenState } from './game-file.js';
import { Game } from './game.js';
import { DIRECTIONS, RULES, type Direction, type ParamKind, type Verb } from './rules.js';

/** How many slots of each kind a family level has. */
export interface SlotCounts {
  readonly rooms: number;
  readonly doors: number;
  readonly containers: number;
  readonly supporters: number;
  /** Objects, keys included. */
  readonly objects: number;
}

/** A command form of `rules.ts`: its text with `{p}` parameters, their kinds, and the verb. */
export interface CommandForm {
  readonly template: string;
  readonly kinds: readonly ParamKind[];
  readonly verb: Verb;
  readonly missing: string;
}

const COMMAND_FORMS: readonly CommandForm[] = (() => {
  const seen = new Set<string>();
  const forms: CommandForm[] = [];
  for (const rule of RULES) {
    const params = [...rule.command.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const kinds = params.map((p) => rule.params[p]!);
    const key = `${rule.command}|${kinds.join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    forms.push({ template: rule.command, kinds, verb: rule.verb, missing: rule.missing });
  }
  return forms;
})();

/**
 * The slot vocabulary of a family level: block offsets of the observation, its length, the action
 * count, and slot names (`at(player, r0)`, `take o2 from c1`).
 */
export class SlotLayout {
  readonly counts: SlotCounts;
  /** Equal for equal layouts: the counts and the subgoal flag. */
  readonly id: string;
  /** Whether the `subgoal` block is present (intermediate rewards). */
  readonly subgoals: boolean;
  /** Length of one object's entries in the state block: rooms + containers + supporters + 2. */
  readonly objectStride: number;
  /** Offsets: `at(player, r)` at `player + r`; object o's entries from `object + o * objectStride`. */
  readonly player = 0;
  readonly object: number;
  /** `open/closed/locked(x)` at `lockable + 3x + 0/1/2`, x a door slot or doors + a container slot. */
  readonly lockable: number;
  /** Length of the state block (the facts that can change). */
  readonly stateSize: number;
  /** `exit(r, dir, r2)` at `exit + (r * 6 + dir) * rooms + r2`. */
  readonly exit: number;
  /** `doorway(r, dir, d)` at `doorway + (r * 6 + dir) * doors + d`. */
  readonly doorway: number;
  /** `located(x, r)` at `located + x * rooms + r`, x a container slot or containers + a supporter slot. */
  readonly located: number;
  /** `key(o, x)` at `key + o * (doors + containers) + x`. */
  readonly key: number;
  /** `edible(o)` at `edible + o`. */
  readonly edible: number;
  /** `win(f)`, `fail(f)`, `subgoal(f)` at `win + f`, `fail + f`, `subgoal + f` (f a state-block index). */
  readonly win: number;
  readonly fail: number;
  readonly subgoal: number;
  /** Observation length. */
  readonly size: number;
  /** Number of actions. */
  readonly actions: number;
  /** Slot values per parameter kind, in the order actions enumerate them. */
  private readonly domains: Readonly<Record<ParamKind, number>>;
  private states: readonly string[] | undefined;

  constructor(counts: SlotCounts, subgoals: boolean) {
    this.counts = Object.freeze({
      rooms: counts.rooms,
      doors: counts.doors,
      containers: counts.containers,
      supporters: counts.supporters,
      objects: counts.objects,
    });
    this.subgoals = subgoals;
    this.id = `${counts.rooms},${counts.doors},${counts.containers},${counts.supporters},${counts.objects},${subgoals ? 1 : 0}`;
    const { rooms: R, doors: D, containers: C, supporters: S, objects: O } = counts;
    this.objectStride = R + C + S + 2;
    this.object = R;
    this.lockable = this.object + O * this.objectStride;
    this.stateSize = this.lockable + 3 * (D + C);
    this.exit = this.stateSize;
    this.doorway = this.exit + R * 6 * R;
    this.located = this.doorway + R * 6 * D;
    this.key = this.located + (C + S) * R;
    this.edible = this.key + O * (D + C);
    this.win = this.edible + O;
    this.fail = this.win + this.stateSize;
    this.subgoal = this.fail + this.stateSize;
    this.size = this.subgoal + (subgoals ? this.stateSize : 0);
    this.domains = {
      room: R,
      direction: 6,
      object: O,
      container: C,
      supporter: S,
      door: D,
      openable: D + C,
      fixture: D + C + S,
    };
    let actions = 0;
    for (const form of COMMAND_FORMS) actions += this.formSize(form);
    this.actions = actions;
  }

  /** Names of the observation entries; `name(kind, slot)` names a slot (default `r0`, `d1`, ...). */
  factNames(name: SlotNamer = slotName): string[] {
    const { rooms: R, doors: D, containers: C, supporters: S, objects: O } = this.counts;
    const room = (r: number): string => name('room', r);
    const object = (o: number): string => name('object', o);
    const lockableName = (x: number): string =>
      x < D ? name('door', x) : name('container', x - D);
    const state: string[] = [];
    for (let r = 0; r < R; r++) state.push(`at(player, ${room(r)})`);
    for (let o = 0; o < O; o++) {
      for (let r = 0; r < R; r++) state.push(`at(${object(o)}, ${room(r)})`);
      for (let c = 0; c < C; c++) state.push(`in(${object(o)}, ${name('container', c)})`);
      for (let s = 0; s < S; s++) state.push(`on(${object(o)}, ${name('supporter', s)})`);
      state.push(`carried(${object(o)})`, `eaten(${object(o)})`);
    }
    for (let x = 0; x < D + C; x++) {
      const n = lockableName(x);
      state.push(`open(${n})`, `closed(${n})`, `locked(${n})`);
    }
    const out = [...state];
    for (let r = 0; r < R; r++)
      for (let j = 0; j < 6; j++)
        for (let r2 = 0; r2 < R; r2++) out.push(`exit(${room(r)}, ${DIRECTIONS[j]!}, ${room(r2)})`);
    for (let r = 0; r < R; r++)
      for (let j = 0; j < 6; j++)
        for (let d = 0; d < D; d++)
          out.push(`doorway(${room(r)}, ${DIRECTIONS[j]!}, ${name('door', d)})`);
    for (let x = 0; x < C + S; x++)
      for (let r = 0; r < R; r++)
        out.push(`located(${x < C ? name('container', x) : name('supporter', x - C)}, ${room(r)})`);
    for (let o = 0; o < O; o++)
      for (let x = 0; x < D + C; x++) out.push(`key(${object(o)}, ${lockableName(x)})`);
    for (let o = 0; o < O; o++) out.push(`edible(${object(o)})`);
    for (const f of state) out.push(`win(${f})`);
    for (const f of state) out.push(`fail(${f})`);
    if (this.subgoals) for (const f of state) out.push(`subgoal(${f})`);
    return out;
  }

  /** Names of the state block's entries in slot names (`at(o0, r3)`), for reading `win(f)` and the like. */
  stateNames(): readonly string[] {
    this.states ??= Object.freeze(this.factNames().slice(0, this.stateSize));
    return this.states;
  }

  /** Texts of the actions; `name(kind, slot)` names a slot (default `r0`, `d1`, ...). */
  commandNames(name: SlotNamer = slotName): string[] {
    const out: string[] = [];
    this.eachCommand((form, values) => out.push(fillForm(form, values, name, this.counts)));
    return out;
  }

  /** Calls `visit` for every action in order, with its form and the slot value of each parameter. */
  eachCommand(visit: (form: CommandForm, values: readonly number[]) => void): void {
    for (const form of COMMAND_FORMS) {
      const values = new Array<number>(form.kinds.length).fill(0);
      const walk = (j: number): void => {
        if (j === form.kinds.length) {
          visit(form, values);
          return;
        }
        const n = this.domains[form.kinds[j]!];
        for (let v = 0; v < n; v++) {
          values[j] = v;
          walk(j + 1);
        }
      };
      walk(0);
    }
  }

  private formSize(form: CommandForm): number {
    let n = 1;
    for (const kind of form.kinds) n *= this.domains[kind];
    return n;
  }
}

/** Kinds of slot. */
export type SlotKind = 'room' | 'door' | 'container' | 'supporter' | 'object';

/** Names a slot of a kind. */
export type SlotNamer = (kind: SlotKind, slot: number) => string;

const PREFIX: Readonly<Record<SlotKind, string>> = {
  room: 'r',
  door: 'd',
  container: 'c',
  supporter: 's',
  object: 'o',
};

/** `r0`, `d1`, `c2`, `s3`, `o4`. */
export function slotName(kind: SlotKind, slot: number): string {
  return `${PREFIX[kind]}${slot}`;
}

/** The slot kind a parameter value of a parameter kind refers to, and its slot within that kind. */
function kindSlot(
  kind: ParamKind,
  value: number,
  counts: SlotCounts,
): { kind: SlotKind | 'direction'; slot: number } {
  switch (kind) {
    case 'room':
      return { kind: 'room', slot: value };
    case 'direction':
      return { kind: 'direction', slot: value };
    case 'object':
      return { kind: 'object', slot: value };
    case 'container':
      return { kind: 'container', slot: value };
    case 'supporter':
      return { kind: 'supporter', slot: value };
    case 'door':
      return { kind: 'door', slot: value };
    case 'openable':
      return value < counts.doors
        ? { kind: 'door', slot: value }
        : { kind: 'container', slot: value - counts.doors };
    case 'fixture':
      return value < counts.doors
        ? { kind: 'door', slot: value }
        : value < counts.doors + counts.containers
          ? { kind: 'container', slot: value - counts.doors }
          : { kind: 'supporter', slot: value - counts.doors - counts.containers };
  }
}

/** A command form's text with its parameters' slots named. */
function fillForm(
  form: CommandForm,
  values: readonly number[],
  name: SlotNamer,
  counts: SlotCounts,
): string {
  let j = 0;
  return form.template.replace(/\{\w+\}/g, () => {
    const { kind, slot } = kindSlot(form.kinds[j]!, values[j]!, counts);
    j++;
    return kind === 'direction' ? DIRECTIONS[slot]! : name(kind, slot);
  });
}

/**
 * One game seen through a {@link SlotLayout}: which slot each entity takes, where each of the game's
 * facts goes, the map and quest bits, and the game command of each action.
 */
export class SlotView {
  readonly layout: SlotLayout;
  readonly game: Game;
  /** The entities of each slot. */
  readonly order: SlotOrder;
  /** Slot of each room, door, container, supporter and object (game kind index → slot). */
  readonly roomSlot: Int32Array;
  readonly doorSlot: Int32Array;
  readonly containerSlot: Int32Array;
  readonly supporterSlot: Int32Array;
  readonly objectSlot: Int32Array;
  /** State-block index of each of the game's facts. */
  readonly factPosition: Int32Array;
  /** The map and quest blocks (state and subgoal blocks 0): an observation starts as a copy. */
  readonly base: Uint8Array;
  /** Game command of each action, -1 where the game has no such command. */
  readonly actionCommand: Int32Array;
  /** Action of each game command. */
  readonly commandAction: Int32Array;
  /** Text of each action in this game's names. */
  readonly actionTexts: readonly string[];
  /** Feedback of each action the game has no command for ('' for the others). */
  private readonly missingFeedback: readonly string[];
  private names: readonly string[] | undefined;

  /** `order` gives the entities of each slot (the game's {@link slotOrder} unless given). */
  constructor(game: Game, layout: SlotLayout, order: SlotOrder = slotOrder(game)) {
    const c = layout.counts;
    if (
      game.roomCount !== c.rooms ||
      game.doorCount !== c.doors ||
      game.containerCount !== c.containers ||
      game.supporterCount !== c.supporters ||
      game.objectCount !== c.objects
    ) {
      throw new Error(
        `TextWorld slots: a game with ${game.roomCount} rooms, ${game.doorCount} doors, ${game.containerCount} containers, ${game.supporterCount} supporters and ${game.objectCount} objects does not fit the layout ${JSON.stringify(c)}`,
      );
    }
    this.layout = layout;
    this.game = game;
    this.order = order;
    const inverse = (slots: number[]): Int32Array => {
      const out = new Int32Array(slots.length);
      slots.forEach((entity, slot) => (out[entity] = slot));
      return out;
    };
    this.roomSlot = inverse(order.rooms);
    this.doorSlot = inverse(order.doors);
    this.containerSlot = inverse(order.containers);
    this.supporterSlot = inverse(order.supporters);
    this.objectSlot = inverse(order.objects);

    // ---- where each game fact goes ----------------------------------------------------------------
    const R = game.roomCount,
      C = game.containerCount,
      S = game.supporterCount,
      D = game.doorCount;
    const position = new Int32Array(game.factNames.length).fill(-1);
    game.playerAtFact.forEach((f, r) => (position[f] = layout.player + this.roomSlot[r]!));
    for (let o = 0; o < game.objectCount; o++) {
      const base = layout.object + this.objectSlot[o]! * layout.objectStride;
      for (let r = 0; r < R; r++)
        position[game.objectAtFact[o * R + r]!] = base + this.roomSlot[r]!;
      for (let k = 0; k < C; k++)
        position[game.objectInFact[o * C + k]!] = base + R + this.containerSlot[k]!;
      for (let s = 0; s < S; s++)
        position[game.objectOnFact[o * S + s]!] = base + R + C + this.supporterSlot[s]!;
      position[game.carriedFact[o]!] = base + R + C + S;
      if (game.eatenFact[o]! >= 0) position[game.eatenFact[o]!] = base + R + C + S + 1;
    }
    const lockSlot = (x: number): number =>
      x < D ? this.doorSlot[x]! : D + this.containerSlot[x - D]!;
    for (let x = 0; x < game.lockableCount; x++) {
      const base = layout.lockable + 3 * lockSlot(x);
      position[game.openFact[x]!] = base;
      position[game.closedFact[x]!] = base + 1;
      if (game.lockedFact[x]! >= 0) position[game.lockedFact[x]!] = base + 2;
    }
    this.factPosition = position;

    // ---- map and quest ------------------------------------------------------------------------------
    const bits = new Uint8Array(layout.size);
    for (const room of game.rooms) {
      const r = this.roomSlot[room.index]!;
      for (let j = 0; j < 6; j++) {
        const to = room.exits[j]!;
        if (to < 0) continue;
        bits[layout.exit + (r * 6 + j) * R + this.roomSlot[to]!] = 1;
        const door = room.exitDoors[j]!;
        if (door >= 0) bits[layout.doorway + (r * 6 + j) * D + this.doorSlot[door]!] = 1;
      }
    }
    for (const t of game.things) {
      if (t.kind === 'container')
        bits[layout.located + this.containerSlot[t.kindIndex]! * R + this.roomSlot[t.room]!] = 1;
      else if (t.kind === 'supporter')
        bits[layout.located + (C + this.supporterSlot[t.kindIndex]!) * R + this.roomSlot[t.room]!] =
          1;
      else if (t.kind === 'object' && t.edible)
        bits[layout.edible + this.objectSlot[t.kindIndex]!] = 1;
      for (const k of t.keys)
        bits[layout.key + this.objectSlot[k - game.objectBase]! * (D + C) + lockSlot(t.index)] = 1;
    }
    for (const f of game.winFacts) bits[layout.win + position[f]!] = 1;
    for (const f of game.failFacts) bits[layout.fail + position[f]!] = 1;
    this.base = bits;

    // ---- actions ------------------------------------------------------------------------------------
    const thingOf: Record<SlotKind, number[]> = {
      room: order.rooms,
      door: order.doors,
      container: order.containers.map((k) => D + k),
      supporter: order.supporters.map((s) => D + C + s),
      object: order.objects.map((o) => game.objectBase + o),
    };
    const nameOf: SlotNamer = (kind, slot) =>
      kind === 'room'
        ? game.rooms[thingOf.room[slot]!]!.name
        : game.things[thingOf[kind][slot]!]!.name;
    const actionCommand = new Int32Array(layout.actions);
    const commandAction = new Int32Array(game.commands.length).fill(-1);
    const texts: string[] = [];
    const missing: string[] = [];
    layout.eachCommand((form, values) => {
      const a = texts.length;
      const text = fillForm(form, values, nameOf, layout.counts);
      const command = game.commandIndex.get(text) ?? -1;
      texts.push(text);
      actionCommand[a] = command;
      if (command >= 0 && commandAction[command] === -1) commandAction[command] = a;
      missing.push(command >= 0 ? '' : missingText(form, values, game, thingOf, layout.counts));
    });
    this.actionCommand = actionCommand;
    this.commandAction = commandAction;
    this.actionTexts = Object.freeze(texts);
    this.missingFeedback = Object.freeze(missing);
  }

  /** The feedback for an action the game has no command for. */
  missing(action: number): string {
    return this.missingFeedback[action]!;
  }

  /** Writes the observation of `state` (sub-goals `pending` when the layout has them) into a fresh array. */
  observe(state: Uint8Array, pending?: Int32Array, achieved?: Uint8Array): Uint8Array {
    const out = this.base.slice();
    const position = this.factPosition;
    for (let f = 0; f < state.length; f++) if (state[f] === 1) out[position[f]!] = 1;
    if (pending !== undefined && this.layout.subgoals) {
      const base = this.layout.subgoal;
      for (let j = 0; j < pending.length; j++)
        if (achieved?.[j] !== 1) out[base + position[pending[j]!]!] = 1;
    }
    return out;
  }

  /** The action mask of a game command mask. */
  actionMask(commandMask: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.actionCommand.length);
    const map = this.actionCommand;
    for (let a = 0; a < out.length; a++) {
      const command = map[a]!;
      if (command >= 0) out[a] = commandMask[command]!;
    }
    return out;
  }

  /** The observation's entry names in this game's ids (`at(player, kitchen)`, `win(carried(coin))`). */
  factNames(): readonly string[] {
    this.names ??= Object.freeze(this.nameFacts());
    return this.names;
  }

  private nameFacts(): string[] {
    const order = this.order;
    const game = this.game;
    const D = game.doorCount,
      C = game.containerCount;
    return this.layout.factNames((kind, slot) =>
      kind === 'room'
        ? game.rooms[order.rooms[slot]!]!.id
        : game.things[
            kind === 'door'
              ? order.doors[slot]!
              : kind === 'container'
                ? D + order.containers[slot]!
                : kind === 'supporter'
                  ? D + C + order.supporters[slot]!
                  : game.objectBase + order.objects[slot]!
          ]!.id,
    );
  }
}

/** The feedback a player gets for a command form the game lacks (eat a non-food, a key that does not fit). */
function missingText(
  form: CommandForm,
  values: readonly number[],
  game: Game,
  thingOf: Record<SlotKind, number[]>,
  counts: SlotCounts,
): string {
  const thing = (j: number): { name: string; keys: readonly number[] } => {
    const { kind, slot } = kindSlot(form.kinds[j]!, values[j]!, counts);
    return kind === 'direction' || kind === 'room'
      ? { name: '', keys: [] }
      : game.things[thingOf[kind][slot]!]!;
  };
  if (form.verb === 'eat') return "That's plainly inedible.";
  if (form.verb === 'lock' || form.verb === 'unlock') {
    const lock = thing(0);
    return lock.keys.length === 0
      ? `The ${lock.name} has no lock.`
      : `The ${thing(1).name} doesn't fit the ${lock.name}.`;
  }
  return form.missing;
}

/** Entity order by slot: game kind indices of the rooms, doors, containers, supporters and objects. */
export interface SlotOrder {
  rooms: number[];
  doors: number[];
  containers: number[];
  supporters: number[];
  objects: number[];
}

const orderCache = new WeakMap<Game, SlotOrder>();
const viewCache = new WeakMap<Game, Map<string, SlotView>>();

/** The {@link SlotView} of a game under a layout (built once per game and layout). */
export function slotView(game: Game, layout: SlotLayout): SlotView {
  let views = viewCache.get(game);
  if (views === undefined) viewCache.set(game, (views = new Map<string, SlotView>()));
  let view = views.get(layout.id);
  if (view === undefined) views.set(layout.id, (view = new SlotView(game, layout)));
  return view;
}

/** The slot order of a game's entities (see the module documentation). */
export function slotOrder(game: Game): SlotOrder {
  const cached = orderCache.get(game);
  if (cached !== undefined) return cached;
  const R = game.roomCount,
    D = game.doorCount,
    C = game.containerCount,
    S = game.supporterCount,
    O = game.objectCount;

  // Rooms: breadth-first from the start, exits in direction order; the rest in file order.
  const rooms: number[] = [game.startRoom];
  const seen = new Uint8Array(R);
  seen[game.startRoom] = 1;
  for (const r of rooms) {
    const room = game.rooms[r]!;
    for (let j = 0; j < 6; j++) {
      const to = room.exits[j]!;
      if (to >= 0 && seen[to] === 0) {
        seen[to] = 1;
        rooms.push(to);
      }
    }
  }
  for (let r = 0; r < R; r++) if (seen[r] === 0) rooms.push(r);
  const roomSlot = new Int32Array(R);
  rooms.forEach((r, slot) => (roomSlot[r] = slot));

  // Things the quest names, by thing index, in win-then-fail order.
  const named: number[] = [];
  const nameThing = (t: number): void => {
    if (!named.includes(t)) named.push(t);
  };
  for (const facts of [game.winFacts, game.failFacts])
    for (const f of facts) for (const t of thingsOfFact(game, f)) nameThing(t);
  const questFirst = (indices: number[], base: number): number[] => {
    const first = named.filter((t) => t >= base && t < base + indices.length).map((t) => t - base);
    return [...first, ...indices.filter((i) => !first.includes(i))];
  };
  const stable = (n: number, key: (i: number) => number[]): number[] =>
    Array.from({ length: n }, (_, i) => i).sort((a, b) => compareKeys(key(a), key(b)) || a - b);

  // Doors: in the order the exits (room slot, direction) first show them.
  const doorSeen: number[] = [];
  for (const r of rooms)
    for (let j = 0; j < 6; j++) {
      const d = game.rooms[r]!.exitDoors[j]!;
      if (d >= 0 && !doorSeen.includes(d)) doorSeen.push(d);
    }
  for (let d = 0; d < D; d++) if (!doorSeen.includes(d)) doorSeen.push(d);
  const doors = questFirst(doorSeen, 0);
  const containers = questFirst(
    stable(C, (c) => [roomSlot[game.things[D + c]!.room]!]),
    D,
  );
  const supporters = questFirst(
    stable(S, (s) => [roomSlot[game.things[D + C + s]!.room]!]),
    D + C,
  );

  // Objects: quest-named, then keys by the first lock they open, then by where they start.
  const doorSlot = new Int32Array(D);
  doors.forEach((d, slot) => (doorSlot[d] = slot));
  const containerSlot = new Int32Array(C);
  containers.forEach((c, slot) => (containerSlot[c] = slot));
  const supporterSlot = new Int32Array(S);
  supporters.forEach((s, slot) => (supporterSlot[s] = slot));
  const firstLock = new Int32Array(O).fill(-1);
  for (let x = 0; x < D + C; x++) {
    const lock = x < D ? doorSlot[x]! : D + containerSlot[x - D]!;
    for (const k of game.things[x]!.keys) {
      const o = k - game.objectBase;
      if (firstLock[o] === -1 || lock < firstLock[o]!) firstLock[o] = lock;
    }
  }
  const place = (o: number): number[] => {
    const where = game.locationOf(game.initialState, o);
    switch (where.kind) {
      case 'room':
        return [roomSlot[where.index]!, 0, 0];
      case 'supporter':
        return [roomSlot[game.things[D + C + where.index]!.room]!, 1, supporterSlot[where.index]!];
      case 'container':
        return [roomSlot[game.things[D + where.index]!.room]!, 2, containerSlot[where.index]!];
      default:
        return [-1, 0, 0];
    }
  };
  const byRole = stable(O, (o) =>
    firstLock[o]! >= 0
      ? [0, firstLock[o]!, 0, 0, 0]
      : [1, ...place(o), game.things[game.objectBase + o]!.edible ? 0 : 1],
  );
  const objects = questFirst(byRole, game.objectBase);
  const order: SlotOrder = { rooms, doors, containers, supporters, objects };
  orderCache.set(game, order);
  return order;
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Thing indices a state fact names (the player and rooms left out), in argument order. */
function thingsOfFact(game: Game, f: number): number[] {
  const R = game.roomCount,
    C = game.containerCount,
    S = game.supporterCount,
    D = game.doorCount;
  for (let o = 0; o < game.objectCount; o++) {
    const t = game.objectBase + o;
    if (game.carriedFact[o] === f || game.eatenFact[o] === f) return [t];
    for (let r = 0; r < R; r++) if (game.objectAtFact[o * R + r] === f) return [t];
    for (let c = 0; c < C; c++) if (game.objectInFact[o * C + c] === f) return [t, D + c];
    for (let s = 0; s < S; s++) if (game.objectOnFact[o * S + s] === f) return [t, D + C + s];
  }
  for (let x = 0; x < game.lockableCount; x++)
    if (game.openFact[x] === f || game.closedFact[x] === f || game.lockedFact[x] === f) return [x];
  return [];
}

/**
 * The world a slot observation describes, rebuilt from the observation alone: a game whose entities
 * are the slots (ids and names `r0`, `d1`, `c0`, `s2`, `o3`, in slot order), with the observed map,
 * keys, food and quest, and its state vector. Stepping it with an action's command gives the next
 * observation (`view.observe(state)` after `game.apply`): the slot observation is a complete state.
 * Sub-goals (the `subgoal` block) are not part of the game; read them from the observation.
 */
export function slotGame(
  layout: SlotLayout,
  observation: Uint8Array,
): { game: Game; view: SlotView; state: Uint8Array; room: number } {
  const { rooms: R, doors: D, containers: C, supporters: S, objects: O } = layout.counts;
  const bit = (i: number): boolean => observation[i] === 1;
  const id = (kind: SlotKind, slot: number): string => slotName(kind, slot);
  const keyOf = (x: number): string | undefined => {
    for (let o = 0; o < O; o++) if (bit(layout.key + o * (D + C) + x)) return id('object', o);
    return undefined;
  };
  const openState = (x: number): OpenState =>
    bit(layout.lockable + 3 * x) ? 'open' : bit(layout.lockable + 3 * x + 2) ? 'locked' : 'closed';
  const roomOf = (x: number): string => {
    for (let r = 0; r < R; r++) if (bit(layout.located + x * R + r)) return id('room', r);
    return id('room', 0);
  };
  let start = 0;
  for (let r = 0; r < R; r++) if (bit(layout.player + r)) start = r;
  const rooms = Array.from({ length: R }, (_, r) => {
    const exits: Partial<Record<Direction, string | { to: string; door: string }>> = {};
    for (let j = 0; j < 6; j++) {
      for (let r2 = 0; r2 < R; r2++) {
        if (!bit(layout.exit + (r * 6 + j) * R + r2)) continue;
        let door: string | undefined;
        for (let d = 0; d < D; d++)
          if (bit(layout.doorway + (r * 6 + j) * D + d)) door = id('door', d);
        exits[DIRECTIONS[j]!] = door === undefined ? id('room', r2) : { to: id('room', r2), door };
      }
    }
    return { id: id('room', r), name: id('room', r), exits };
  });
  const withKey = <T extends object>(base: T, x: number): T => {
    const key = keyOf(x);
    return key === undefined ? base : { ...base, key };
  };
  const objectPlace = (o: number): string => {
    const base = layout.object + o * layout.objectStride;
    for (let r = 0; r < R; r++) if (bit(base + r)) return id('room', r);
    for (let c = 0; c < C; c++) if (bit(base + R + c)) return id('container', c);
    for (let k = 0; k < S; k++) if (bit(base + R + C + k)) return id('supporter', k);
    return 'inventory';
  };
  const names = layout.stateNames();
  const quest = (offset: number): string[] => names.filter((_, f) => bit(offset + f));
  const file: GameFile = {
    format: 'wmgym-textworld',
    version: 1,
    title: 'slots',
    start: id('room', start),
    rooms,
    doors: Array.from({ length: D }, (_, d) =>
      withKey({ id: id('door', d), name: id('door', d), state: openState(d) }, d),
    ),
    containers: Array.from({ length: C }, (_, c) =>
      withKey(
        {
          id: id('container', c),
          name: id('container', c),
          room: roomOf(c),
          state: openState(D + c),
        },
        D + c,
      ),
    ),
    supporters: Array.from({ length: S }, (_, k) => ({
      id: id('supporter', k),
      name: id('supporter', k),
      room: roomOf(C + k),
    })),
    objects: Array.from({ length: O }, (_, o) => ({
      id: id('object', o),
      name: id('object', o),
      location: objectPlace(o),
      ...(bit(layout.edible + o) ? { edible: true } : {}),
    })),
    quest: { objective: 'slots', win: quest(layout.win), fail: quest(layout.fail) },
  };
  const game = new Game(file, '<slot observation>');
  const identity = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const view = new SlotView(game, layout, {
    rooms: identity(R),
    doors: identity(D),
    containers: identity(C),
    supporters: identity(S),
    objects: identity(O),
  });
  const state = new Uint8Array(game.factNames.length);
  view.factPosition.forEach((p, f) => (state[f] = observation[p]!));
  return { game, view, state, room: game.roomOf(state) };
}
