/**
 * Exact shortest winning command sequences over the fact state, used to build quests of length
 * exactly k, to verify them, for `walkthrough()`, and to prove a hand-written quest winnable.
 *
 * The search is uniform-cost (Dijkstra with a bucket queue) over packed fact bit-vectors with state
 * hashing. Its action set is pruned by rules that provably never remove every shortest plan:
 *
 * 1. Commands without effects (look, inventory, examine) never shorten a plan.
 * 2. Putting an object down (drop, put, insert) and eating it are useless unless they add a goal fact:
 *    an object put down and taken again later can stay carried in between (no rule reads where a
 *    non-carried object is except taking it), so the pair can be cut.
 * 3. Closing and locking are useless unless the door or container appears in the goal or failure
 *    facts: leaving it open in between keeps every later precondition (only open/unlock read
 *    `closed`/`locked`, and those are cut with it).
 * 4. Opening (and unlocking) can always be moved to just before the first command that needs the
 *    door or container open (going through, taking from, putting into): so they only appear as
 *    macros `open + go`, `unlock + open + go` (cost 2 and 3), never alone.
 * 5. Backward relevance: a command that adds no fact needed (transitively) by the goal is cut; every
 *    fact the cut plan keeps was true earlier in the original, so no failure fact appears.
 * 6. With a single goal fact, commands that need the goal fact are cut (the game ended before).
 *
 * Failure facts end a line of search (lost states are never expanded).
 */
import type { Game } from './game.js';
import { RULE_NAMES } from './game.js';

/** Outcome of {@link solveQuest} and {@link searchFacts}. */
export interface SearchResult {
  /** `found`: `commands` is a shortest winning sequence; `unwinnable`: none exists; `budget`: the search gave up. */
  status: 'found' | 'unwinnable' | 'budget';
  /** Length of the sequence (commands), or -1. */
  cost: number;
  /** Instance ids, in order. */
  instances: number[];
  /** Command texts, in order. */
  commands: string[];
  /** States stored. */
  nodes: number;
}

/** Options of {@link solveQuest}, {@link searchFacts} and {@link exploreFacts}. */
export interface SearchOptions {
  /** Give up beyond this many stored states. @defaultValue 400000 */
  maxNodes?: number;
  /** Do not expand states costlier than this. @defaultValue Infinity */
  maxCost?: number;
}

const NO_EFFECT = new Set([
  'examine-on-floor',
  'examine-carried',
  'examine-in-container',
  'examine-on-supporter',
  'examine-fixture',
  'look',
  'inventory',
]);
const PUT_DOWN = new Set(['drop', 'put', 'insert', 'eat']);
const CLOSING = new Set(['close', 'lock']);
const OPENING = new Set(['open', 'unlock']);

/** The action set of one search problem: primitive instances and open-macros. */
export interface SearchPlan {
  /** CSR over rooms of the primitive instances that may apply there. */
  readonly roomStart: Int32Array;
  readonly roomInstances: Int32Array;
  /** Lockable whose `open` fact instance i needs (macro consumer), -1 otherwise. */
  readonly consumerOf: Int32Array;
  /** Open instance for lockable x from room r at `x * rooms + r`, -1 if none. */
  readonly openInstance: Int32Array;
  /** CSR over `x * rooms + r`: unlock instances. */
  readonly unlockStart: Int32Array;
  readonly unlockInstances: Int32Array;
  readonly goal: Int32Array;
  readonly fail: Int32Array;
  /** Number of instances kept (primitive or macro part). */
  readonly kept: number;
}

/**
 * Builds the pruned action set for reaching `targets` (all of them, when `terminal`; each of them,
 * when exploring) while avoiding `fail`.
 */
export function planFor(
  game: Game,
  targets: Int32Array,
  fail: Int32Array,
  terminal: boolean,
): SearchPlan {
  const n = game.instanceCount;
  const L = game.lockableCount;
  const R = game.roomCount;
  const targetSet = new Uint8Array(game.factNames.length);
  for (const f of targets) targetSet[f] = 1;
  const special = new Uint8Array(L);
  const mark = (f: number): void => {
    for (let x = 0; x < L; x++)
      if (game.openFact[x] === f || game.closedFact[x] === f || game.lockedFact[x] === f)
        special[x] = 1;
  };
  targets.forEach(mark);
  fail.forEach(mark);
  const lockableOf = new Int32Array(game.factNames.length).fill(-1);
  for (let x = 0; x < L; x++) lockableOf[game.openFact[x]!] = x;

  // Lemmas 1-3, 6: which instances may appear at all; lemma 4: which only inside macros.
  const candidate = new Uint8Array(n);
  const macroOnly = new Uint8Array(n);
  const single = terminal && targets.length === 1 ? targets[0]! : -1;
  for (let i = 0; i < n; i++) {
    const rule = RULE_NAMES[game.instanceRule[i]!]!;
    if (NO_EFFECT.has(rule)) continue;
    if (PUT_DOWN.has(rule)) {
      let addsTarget = false;
      for (let j = game.addStart[i]!; j < game.addStart[i + 1]!; j++)
        if (targetSet[game.addFact[j]!] === 1) addsTarget = true;
      if (!addsTarget) continue;
    }
    const x = OPENING.has(rule) || CLOSING.has(rule) ? lockableTouched(game, i) : -1;
    if (CLOSING.has(rule) && special[x] !== 1) continue;
    if (OPENING.has(rule) && special[x] !== 1) macroOnly[i] = 1;
    if (single >= 0) {
      let needsGoal = false;
      for (let j = game.preStart[i]!; j < game.preStart[i + 1]!; j++)
        if (game.preFact[j] === single) needsGoal = true;
      if (needsGoal) continue;
    }
    candidate[i] = 1;
  }

  // Lemma 5: backward relevance from the targets.
  const relevantFact = new Uint8Array(game.factNames.length);
  for (const f of targets) relevantFact[f] = 1;
  const relevant = new Uint8Array(n);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (candidate[i] === 0 || relevant[i] === 1) continue;
      let adds = false;
      for (let j = game.addStart[i]!; j < game.addStart[i + 1]!; j++)
        if (relevantFact[game.addFact[j]!] === 1) adds = true;
      if (!adds) continue;
      relevant[i] = 1;
      changed = true;
      for (let j = game.preStart[i]!; j < game.preStart[i + 1]!; j++)
        relevantFact[game.preFact[j]!] = 1;
    }
  }

  const consumerOf = new Int32Array(n).fill(-1);
  const openInstance = new Int32Array(L * R).fill(-1);
  const unlockLists: number[][] = Array.from({ length: L * R }, () => []);
  const perRoom: number[][] = Array.from({ length: R }, () => []);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (relevant[i] === 0) continue;
    kept++;
    const rule = RULE_NAMES[game.instanceRule[i]!]!;
    const room = game.instanceRoom[i]!;
    if (macroOnly[i] === 1) {
      const x = lockableTouched(game, i);
      if (rule === 'open') openInstance[x * R + room] = i;
      else unlockLists[x * R + room]!.push(i);
      continue;
    }
    for (let j = game.preStart[i]!; j < game.preStart[i + 1]!; j++) {
      const x = lockableOf[game.preFact[j]!]!;
      if (x >= 0 && special[x] === 0) consumerOf[i] = x;
    }
    if (room < 0) for (let r = 0; r < R; r++) perRoom[r]!.push(i);
    else perRoom[room]!.push(i);
  }
  const [roomStart, roomInstances] = csr(perRoom);
  const [unlockStart, unlockInstances] = csr(unlockLists);
  return {
    roomStart,
    roomInstances,
    consumerOf,
    openInstance,
    unlockStart,
    unlockInstances,
    goal: targets,
    fail,
    kept,
  };
}

/** The door or container an open/close/lock/unlock instance acts on. */
function lockableTouched(game: Game, i: number): number {
  const f = game.addFact[game.addStart[i]!]!;
  for (let x = 0; x < game.lockableCount; x++) {
    if (game.openFact[x] === f || game.closedFact[x] === f || game.lockedFact[x] === f) return x;
  }
  return -1;
}

/** Called for every settled state of {@link exploreFacts}: its packed facts (`words[offset ..]`), room and cost. */
export type SettledVisitor = (
  words: Uint32Array,
  offset: number,
  room: number,
  cost: number,
) => void;

/** True when fact `f` is set in the packed state at `words[offset ..]`. */
export function packedBit(words: Uint32Array, offset: number, f: number): boolean {
  return ((words[offset + (f >>> 5)]! >>> (f & 31)) & 1) === 1;
}

/** Packs a byte state into 32-bit words. */
export function packFacts(state: Uint8Array): Uint32Array {
  const words = new Uint32Array((state.length + 31) >>> 5);
  for (let f = 0; f < state.length; f++) if (state[f] === 1) words[f >>> 5]! |= 1 << (f & 31);
  return words;
}

/**
 * Uniform-cost search from `state` over `plan`. With `visit`, every settled state is reported and the
 * search runs until `maxCost` (exploration); without it, it stops at the first state where all goal
 * facts hold and returns the plan.
 */
export function searchFacts(
  game: Game,
  state: Uint8Array,
  plan: SearchPlan,
  options: SearchOptions = {},
  visit?: SettledVisitor,
): SearchResult {
  const maxNodes = options.maxNodes ?? 400_000;
  const maxCost = options.maxCost ?? Number.POSITIVE_INFINITY;
  const W = (state.length + 31) >>> 5;
  const R = game.roomCount;
  const pre = game.preFact,
    preStart = game.preStart;
  const holds = (words: Uint32Array, off: number, i: number, skip: number): boolean => {
    for (let j = preStart[i]!, end = preStart[i + 1]!; j < end; j++) {
      const f = pre[j]!;
      if (f !== skip && ((words[off + (f >>> 5)]! >>> (f & 31)) & 1) === 0) return false;
    }
    return true;
  };
  const applyTo = (words: Uint32Array, i: number): void => {
    for (let j = game.delStart[i]!, end = game.delStart[i + 1]!; j < end; j++) {
      const f = game.delFact[j]!;
      words[f >>> 5]! &= ~(1 << (f & 31));
    }
    for (let j = game.addStart[i]!, end = game.addStart[i + 1]!; j < end; j++) {
      const f = game.addFact[j]!;
      words[f >>> 5]! |= 1 << (f & 31);
    }
  };
  const anyFail = (words: Uint32Array, off: number): boolean => {
    for (const f of plan.fail) if (((words[off + (f >>> 5)]! >>> (f & 31)) & 1) === 1) return true;
    return false;
  };
  const isGoal = (words: Uint32Array, off: number): boolean => {
    if (plan.goal.length === 0) return false;
    for (const f of plan.goal) if (((words[off + (f >>> 5)]! >>> (f & 31)) & 1) === 0) return false;
    return true;
  };

  // Node storage and hash set.
  let capacity = 1024;
  let pool = new Uint32Array(capacity * W);
  let best = new Int32Array(capacity);
  let parent = new Int32Array(capacity);
  let via = new Int32Array(capacity * 3);
  let roomOf = new Int32Array(capacity);
  let count = 0;
  let tableSize = 4096;
  let table = new Int32Array(tableSize).fill(-1);
  const hashAt = (words: Uint32Array, off: number): number => {
    let h = 0x9e3779b9 | 0;
    for (let w = 0; w < W; w++) {
      h = Math.imul(h ^ words[off + w]!, 0x85ebca6b);
      h ^= h >>> 13;
    }
    return h >>> 0;
  };
  const sameAs = (node: number, words: Uint32Array): boolean => {
    const off = node * W;
    for (let w = 0; w < W; w++) if (pool[off + w] !== words[w]) return false;
    return true;
  };
  const grow = (): void => {
    capacity *= 2;
    const p = new Uint32Array(capacity * W);
    p.set(pool);
    pool = p;
    const b = new Int32Array(capacity);
    b.set(best);
    best = b;
    const pa = new Int32Array(capacity);
    pa.set(parent);
    parent = pa;
    const v = new Int32Array(capacity * 3);
    v.set(via);
    via = v;
    const ro = new Int32Array(capacity);
    ro.set(roomOf);
    roomOf = ro;
  };
  const rehash = (): void => {
    tableSize *= 2;
    table = new Int32Array(tableSize).fill(-1);
    for (let node = 0; node < count; node++) {
      let slot = hashAt(pool, node * W) & (tableSize - 1);
      while (table[slot] !== -1) slot = (slot + 1) & (tableSize - 1);
      table[slot] = node;
    }
  };
  /** Finds or inserts `words`; returns the node index (inserted nodes get `best` = Infinity-ish). */
  const intern = (words: Uint32Array): number => {
    let slot = hashAt(words, 0) & (tableSize - 1);
    for (;;) {
      const node = table[slot]!;
      if (node === -1) break;
      if (sameAs(node, words)) return node;
      slot = (slot + 1) & (tableSize - 1);
    }
    if (count === capacity) grow();
    const node = count++;
    pool.set(words, node * W);
    best[node] = 0x7fffffff;
    table[slot] = node;
    if (count * 2 > tableSize) rehash();
    return node;
  };

  const buckets: number[][] = [];
  const push = (node: number, cost: number): void => {
    (buckets[cost] ??= []).push(node);
  };
  const result = (status: SearchResult['status'], goalNode: number): SearchResult => {
    if (status !== 'found') return { status, cost: -1, instances: [], commands: [], nodes: count };
    const instances: number[] = [];
    for (let node = goalNode; parent[node]! >= 0; node = parent[node]!) {
      for (let k = 2; k >= 0; k--) {
        const i = via[node * 3 + k]!;
        if (i >= 0) instances.push(i);
      }
    }
    instances.reverse();
    return {
      status,
      cost: instances.length,
      instances,
      commands: instances.map((i) => game.commands[game.instanceCommand[i]!]!),
      nodes: count,
    };
  };

  const start = packFacts(state);
  if (anyFail(start, 0)) return result('unwinnable', -1);
  const root = intern(start);
  best[root] = 0;
  parent[root] = -1;
  via.fill(-1, 0, 3);
  roomOf[root] = game.roomOf(state);
  push(root, 0);
  const scratch = new Uint32Array(W);
  const relax = (
    from: number,
    cost: number,
    a: number,
    b: number,
    c: number,
    room: number,
  ): boolean => {
    if (anyFail(scratch, 0)) return true;
    const node = intern(scratch);
    if (cost < best[node]!) {
      best[node] = cost;
      parent[node] = from;
      via[node * 3] = a;
      via[node * 3 + 1] = b;
      via[node * 3 + 2] = c;
      roomOf[node] = room;
      push(node, cost);
    }
    return count < maxNodes;
  };

  for (let cost = 0; cost < buckets.length; cost++) {
    if (cost > maxCost) break;
    const bucket = buckets[cost];
    if (bucket === undefined) continue;
    // The bucket grows while it is read (zero-cost moves do not exist, but a bucket is appended to by
    // cheaper parents before it is reached), so iterate by value.
    for (const node of bucket) {
      if (best[node] !== cost) continue;
      const off = node * W;
      const room = roomOf[node]!;
      if (visit !== undefined) visit(pool, off, room, cost);
      else if (isGoal(pool, off)) return result('found', node);
      if (cost === maxCost) continue;
      for (let j = plan.roomStart[room]!, end = plan.roomStart[room + 1]!; j < end; j++) {
        const i = plan.roomInstances[j]!;
        const x = plan.consumerOf[i]!;
        const newRoom = game.instanceNewRoom[i]! >= 0 ? game.instanceNewRoom[i]! : room;
        if (x < 0) {
          if (!holds(pool, off, i, -1)) continue;
          scratch.set(pool.subarray(off, off + W));
          applyTo(scratch, i);
          if (!relax(node, cost + 1, -1, -1, i, newRoom)) return result('budget', -1);
          continue;
        }
        const openF = game.openFact[x]!;
        if (!holds(pool, off, i, openF)) continue;
        if (packedBit(pool, off, openF)) {
          scratch.set(pool.subarray(off, off + W));
          applyTo(scratch, i);
          if (!relax(node, cost + 1, -1, -1, i, newRoom)) return result('budget', -1);
          continue;
        }
        const o = plan.openInstance[x * R + room]!;
        if (o < 0) continue;
        if (packedBit(pool, off, game.closedFact[x]!)) {
          scratch.set(pool.subarray(off, off + W));
          applyTo(scratch, o);
          applyTo(scratch, i);
          if (!relax(node, cost + 2, -1, o, i, newRoom)) return result('budget', -1);
          continue;
        }
        for (
          let u = plan.unlockStart[x * R + room]!, uEnd = plan.unlockStart[x * R + room + 1]!;
          u < uEnd;
          u++
        ) {
          const unlock = plan.unlockInstances[u]!;
          if (!holds(pool, off, unlock, -1)) continue;
          scratch.set(pool.subarray(off, off + W));
          applyTo(scratch, unlock);
          applyTo(scratch, o);
          applyTo(scratch, i);
          if (!relax(node, cost + 3, unlock, o, i, newRoom)) return result('budget', -1);
          break;
        }
      }
    }
    buckets[cost] = [];
  }
  // Exhausted: no goal state (a plain search), or every state up to maxCost visited (an exploration).
  return visit === undefined
    ? result('unwinnable', -1)
    : { status: 'found', cost: -1, instances: [], commands: [], nodes: count };
}

const plans = new WeakMap<Game, SearchPlan>();

/** The pruned action set for a game's own quest (cached per game). */
export function questPlan(game: Game): SearchPlan {
  let plan = plans.get(game);
  if (plan === undefined) {
    plan = planFor(game, game.winFacts, game.failFacts, true);
    plans.set(game, plan);
  }
  return plan;
}

/** A shortest winning command sequence from `state` for the game's quest (see {@link SearchResult}). */
export function solveQuest(
  game: Game,
  state: Uint8Array,
  options: SearchOptions = {},
): SearchResult {
  return searchFacts(game, state, questPlan(game), options);
}

/**
 * Uniform-cost exploration from `state` towards `targets` (each one relevant, none terminal): calls
 * `visit` for every settled state up to `maxCost`.
 */
export function exploreFacts(
  game: Game,
  state: Uint8Array,
  targets: Int32Array,
  visit: SettledVisitor,
  options: SearchOptions = {},
): SearchResult {
  return searchFacts(game, state, planFor(game, targets, game.failFacts, false), options, visit);
}

/**
 * True when every fact of `goal` is reachable in the delete relaxation from `state` (ignoring
 * failures) with the instances `disabled` marks cut. False proves no winning sequence exists.
 */
export function relaxedReachable(
  game: Game,
  state: Uint8Array,
  goal: Int32Array,
  disabled?: Uint8Array,
): boolean {
  const reached = Uint8Array.from(state);
  const used = new Uint8Array(game.instanceCount);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < game.instanceCount; i++) {
      if (used[i] === 1 || disabled?.[i] === 1 || !game.holds(reached, i)) continue;
      used[i] = 1;
      for (let j = game.addStart[i]!; j < game.addStart[i + 1]!; j++) {
        if (reached[game.addFact[j]!] === 0) {
          reached[game.addFact[j]!] = 1;
          changed = true;
        }
      }
    }
  }
  return game.allHold(reached, goal);
}

/**
 * The quest's landmarks from `state`: facts false now that every winning sequence must make true
 * (proved by the delete relaxation without the commands that add them), in the order a shortest
 * plan makes them true; the win facts come last. Used as sub-goals for intermediate rewards.
 */
export function landmarks(
  game: Game,
  state: Uint8Array,
  walkthrough: readonly number[],
): Int32Array {
  const seen = new Set<number>();
  const out: number[] = [];
  const win = new Set(game.winFacts);
  const scratch = Uint8Array.from(state);
  for (const i of walkthrough) {
    game.apply(scratch, i);
    for (let j = game.addStart[i]!; j < game.addStart[i + 1]!; j++) {
      const f = game.addFact[j]!;
      if (state[f] === 1 || seen.has(f) || win.has(f)) continue;
      seen.add(f);
      const disabled = new Uint8Array(game.instanceCount);
      for (let k = 0; k < game.instanceCount; k++) {
        for (let a = game.addStart[k]!; a < game.addStart[k + 1]!; a++)
          if (game.addFact[a] === f) disabled[k] = 1;
      }
      if (!relaxedReachable(game, state, game.winFacts, disabled)) out.push(f);
    }
  }
  for (const f of game.winFacts) if (state[f] === 0) out.push(f);
  return Int32Array.from(out);
}

function csr(lists: readonly number[][]): [Int32Array, Int32Array] {
  const start = new Int32Array(lists.length + 1);
  let total = 0;
  lists.forEach((l, i) => {
    start[i] = total;
    total += l.length;
  });
  start[lists.length] = total;
  const flat = new Int32Array(total);
  let k = 0;
  for (const l of lists) for (const v of l) flat[k++] = v;
  return [start, flat];
}
