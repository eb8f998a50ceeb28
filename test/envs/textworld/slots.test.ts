import test from 'ava';
import '../../../envs/index.js';
import { checkEnv } from '../../../envs/core/check-env.js';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import type { Env } from '../../../envs/core/env.js';
import type { GameFile } from '../../../envs/textworld/game-file.js';
import { DIRECTIONS } from '../../../envs/textworld/rules.js';
import { slotGame, type SlotLayout } from '../../../envs/textworld/slots.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';

/** 200 distinct seeds below 1,000,000 (the evaluation range). */
function seeds(n = 200, from = 2024): number[] {
  const rng = new Rng(from);
  const out = new Set<number>();
  while (out.size < n) out.add(rng.integer(0, 1_000_000));
  return [...out];
}

function slotsEnv(id: string, options: Record<string, unknown> = {}): Env<Uint8Array, number> {
  return make<Uint8Array, number>(id, { observation: 'slots', infoFacts: false, ...options });
}

function tw(env: Env<Uint8Array, number>): TextWorldEnv {
  const raw = env.unwrapped;
  if (!(raw instanceof TextWorldEnv)) throw new TypeError('not a TextWorld environment');
  return raw;
}

/** Indices in [from, to) set in `obs`, relative to `from`. */
function ones(obs: Uint8Array, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) if (obs[i] === 1) out.push(i - from);
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** What the observation says about roles, read from the observation alone. */
function roles(L: SlotLayout, obs: Uint8Array) {
  const { rooms: R, doors: D, containers: C, supporters: S, objects: O } = L.counts;
  const names = L.factNames();
  const exitTo = (r: number, j: number): number => {
    for (let r2 = 0; r2 < R; r2++) if (obs[L.exit + (r * 6 + j) * R + r2] === 1) return r2;
    return -1;
  };
  // Breadth-first discovery order of the rooms from r0, exits in direction order.
  const bfs = [0];
  for (const r of bfs)
    for (let j = 0; j < 6; j++) {
      const to = exitTo(r, j);
      if (to >= 0 && !bfs.includes(to)) bfs.push(to);
    }
  const doorsSeen: number[] = [];
  for (const r of bfs)
    for (let j = 0; j < 6; j++)
      for (const d of ones(obs, L.doorway + (r * 6 + j) * D, L.doorway + (r * 6 + j + 1) * D))
        if (!doorsSeen.includes(d)) doorsSeen.push(d);
  const furnitureRoom = (x: number): number =>
    ones(obs, L.located + x * R, L.located + (x + 1) * R)[0]!;
  const keys = Array.from({ length: O }, (_, o) =>
    ones(obs, L.key + o * (D + C), L.key + (o + 1) * (D + C)),
  );
  return {
    player: ones(obs, L.player, L.object),
    bfs,
    doorsSeen,
    containerRooms: Array.from({ length: C }, (_, c) => furnitureRoom(c)),
    supporterRooms: Array.from({ length: S }, (_, s) => furnitureRoom(C + s)),
    keys,
    win: ones(obs, L.win, L.fail).map((f) => names[f]!),
    fail: ones(obs, L.fail, L.fail + L.stateSize).map((f) => names[f]!),
  };
}

const nonDecreasing = (xs: readonly number[]): boolean =>
  xs.every((x, i) => i === 0 || xs[i - 1]! <= x);

test('slots: over 200 seeds of each id, every slot plays the same role (start, rooms breadth-first, quest object, destination, look-alike, keys)', (t) => {
  const ids = [
    'TextWorld-Quest-k5-v0',
    'TextWorld-Quest-k10-v0',
    'TextWorld-Quest-k20-v0',
    'TextWorld-Coins-L10-v0',
    'TextWorld-Coins-L110-v0',
    'TextWorld-Treasure-L5-v0',
    'TextWorld-Treasure-L15-v0',
    'TextWorld-Treasure-L25-v0',
  ];
  for (const id of ids) {
    const env = slotsEnv(id);
    const L = tw(env).slotLayout!;
    const { rooms: R, doors: D } = L.counts;
    const treasure = id.includes('Treasure');
    const questNamed = treasure ? 2 : 1;
    const kinds = new Set<string>();
    for (const seed of seeds()) {
      const obs = env.reset({ seed }).observation;
      const where = `${id} seed ${seed}`;
      const r = roles(L, obs);
      t.deepEqual(r.player, [0], `${where}: r0 is the start`);
      t.deepEqual(
        r.bfs,
        [...Array(R).keys()],
        `${where}: rooms are numbered breadth-first from r0`,
      );
      t.deepEqual(
        r.doorsSeen,
        [...Array(D).keys()],
        `${where}: doors in the order the exits show them`,
      );
      t.true(nonDecreasing(r.supporterRooms.slice(r.win[0]!.startsWith('on(') ? 1 : 0)), where);
      t.true(nonDecreasing(r.containerRooms.slice(r.win[0]!.startsWith('in(') ? 1 : 0)), where);
      t.is(r.win.length, 1, where);
      const win = r.win[0]!;
      t.regex(win, /^\w+\(o0\b/, `${where}: the quest is about o0`);
      if (win.startsWith('on(')) t.is(win, 'on(o0, s0)', `${where}: a put destination is s0`);
      if (win.startsWith('in(')) t.is(win, 'in(o0, c0)', `${where}: an insert destination is c0`);
      kinds.add(win.replace(/\(.*/, ''));
      if (treasure) t.deepEqual(r.fail, ['carried(o1)'], `${where}: o1 is the look-alike`);
      else
        t.true(
          r.fail.every((f) => f === 'eaten(o0)'),
          where,
        );
      // Keys come right after the quest's objects, each opening one lock, in lock order.
      const keyed = r.keys.map((locks, o) => (locks.length > 0 ? o : -1)).filter((o) => o >= 0);
      t.deepEqual(
        keyed,
        keyed.map((_, i) => questNamed + i),
        `${where}: keys follow the quest's objects`,
      );
      t.true(
        nonDecreasing(keyed.map((o) => r.keys[o]![0]!)),
        `${where}: keys by the lock they open`,
      );
      // The view's names of this game's facts are the game's own fact names at their slot positions.
      const view = tw(env).slotView!;
      const game = tw(env).currentGame;
      const names = tw(env).factNames;
      game.factNames.forEach((name, f) => t.is(names[view.factPosition[f]!], name, where));
    }
    if (id.includes('Quest'))
      t.deepEqual(
        [...kinds].sort(),
        ['at', 'carried', 'eaten', 'in', 'on'],
        `${id}: every quest kind met`,
      );
  }
});

test('the default fact vector keeps the generator numbering, not roles, and leaves out the map and quest (why slots exist)', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k10-v0', { infoFacts: false });
  const starts = new Set<number>();
  const wins = new Set<number>();
  for (const seed of seeds()) {
    env.reset({ seed });
    const game = tw(env).currentGame;
    starts.add(game.startRoom);
    wins.add(game.winFacts[0]!);
  }
  t.is(starts.size, 10, 'the start is at every room position in some game');
  t.true(wins.size > 50, `the win fact is one of ${wins.size} indices`);
  // One (observation, action) pair, two games, two different next observations.
  const coins = make<Uint8Array, number>('TextWorld-Coins-L10-v0', { infoFacts: false });
  const next = new Map<string, string>();
  let conflicts = 0;
  for (const seed of seeds(50)) {
    const start = coins.reset({ seed }).observation;
    for (const direction of DIRECTIONS) {
      const action = tw(coins).currentGame.commandIndex.get(`go ${direction}`)!;
      coins.reset({ seed });
      const after = Buffer.from(coins.step(action).observation).toString('hex');
      const key = `${Buffer.from(start).toString('hex')}|${action}`;
      if (next.has(key) && next.get(key) !== after) conflicts++;
      next.set(key, after);
    }
  }
  t.true(conflicts > 0);
});

test('the slot encoding does not depend on how a game file orders its rooms, doors, objects and furniture', (t) => {
  const shuffled = (file: GameFile, rng: Rng): GameFile => {
    const f = structuredClone(file);
    f.rooms = rng.shuffle([...f.rooms]);
    f.doors = rng.shuffle([...(f.doors ?? [])]);
    f.objects = rng.shuffle([...(f.objects ?? [])]);
    // Furniture moves across rooms; within a room it keeps its order (ties keep file order).
    const byRoom = <T extends { room: string }>(list: T[]): T[] =>
      rng
        .shuffle([...new Set(list.map((x) => x.room))])
        .flatMap((room) => list.filter((x) => x.room === room));
    f.containers = byRoom(f.containers ?? []);
    f.supporters = byRoom(f.supporters ?? []);
    return f;
  };
  const rng = new Rng(11);
  let defaultsDiffer = 0;
  let games = 0;
  for (const id of [
    'TextWorld-Quest-k5-v0',
    'TextWorld-Quest-k10-v0',
    'TextWorld-Treasure-L25-v0',
    'TextWorld-Coins-L210-v0',
  ]) {
    const env = slotsEnv(id);
    for (let g = 0; g < 15; g++) {
      const seed = rng.integer(0, 1_000_000);
      const start = env.reset({ seed });
      let info = start.info;
      const original = tw(env).exportGame();
      const file = shuffled(original, rng);
      const other = new TextWorldEnv({
        family: 'file',
        game: file,
        observation: 'slots',
        infoFacts: false,
      });
      t.true(same(other.reset().observation, start.observation), `${id} seed ${seed}`);
      const facts = (game: GameFile): Uint8Array =>
        new TextWorldEnv({ family: 'file', game, infoFacts: false }).reset().observation;
      if (!same(facts(file), facts(original))) defaultsDiffer++;
      games++;
      for (let step = 0; step < 60; step++) {
        const action = env.actionSpace.sample(rng, info['actionMask']);
        const a = env.step(action);
        const b = other.step(action);
        t.true(same(a.observation, b.observation), `${id} seed ${seed} step ${step}`);
        t.true(same(a.info['actionMask'] as Uint8Array, b.info['actionMask'] as Uint8Array));
        t.is(a.reward, b.reward);
        t.is(a.terminated, b.terminated);
        info = a.info;
        if (a.terminated) break;
      }
    }
  }
  t.is(defaultsDiffer, games, 'the shuffles do change the default fact vector');
});

test('a slot observation is a complete state: slotGame rebuilds the world, which predicts the next observation, mask, reward and end', (t) => {
  const rng = new Rng(5);
  for (const id of [
    'TextWorld-Quest-k5-v0',
    'TextWorld-Quest-k10-v0',
    'TextWorld-Coins-L110-v0',
    'TextWorld-Treasure-L25-v0',
    'TextWorld-File-v0',
  ]) {
    const env = slotsEnv(id);
    const L = tw(env).slotLayout!;
    for (let g = 0; g < 10; g++) {
      let { observation, info } = env.reset({ seed: rng.integer(0, 1_000_000) });
      for (let step = 0; step < 50; step++) {
        const world = slotGame(L, observation);
        t.true(same(world.view.observe(world.state), observation));
        const mask = new Uint8Array(world.game.commands.length);
        world.game.admissible(world.state, world.room, mask);
        t.true(same(world.view.actionMask(mask), info['actionMask'] as Uint8Array), `${id} mask`);
        const action =
          rng.random() < 0.8
            ? env.actionSpace.sample(rng, info['actionMask'])
            : env.actionSpace.sample(rng);
        const result = env.step(action);
        const command = world.view.actionCommand[action]!;
        const i = command < 0 ? -1 : world.game.applicable(world.state, command, world.room);
        if (i >= 0) world.game.apply(world.state, i);
        t.true(same(world.view.observe(world.state), result.observation), `${id} step ${step}`);
        const lost = world.game.anyHolds(world.state, world.game.failFacts);
        const won = !lost && world.game.allHold(world.state, world.game.winFacts);
        t.is(result.terminated, won || lost);
        t.is(result.reward, won ? 1 : 0);
        observation = result.observation;
        info = result.info;
        if (result.terminated || result.truncated) break;
      }
    }
  }
});

test('slots and facts play one game alike: the state block is the fact vector in slot order, actions are the same commands', (t) => {
  const rng = new Rng(3);
  for (const id of ['TextWorld-Quest-k10-v0', 'TextWorld-Treasure-L14-v0', 'TextWorld-File-v0']) {
    const facts = make<Uint8Array, number>(id);
    const slots = slotsEnv(id, { infoFacts: true });
    for (const seed of [1, 2, 3]) {
      let a = facts.reset({ seed });
      let b = slots.reset({ seed });
      const view = tw(slots).slotView!;
      for (let step = 0; step < 40; step++) {
        const expected = new Uint8Array(view.layout.stateSize);
        a.observation.forEach((v, f) => (expected[view.factPosition[f]!] = v));
        t.true(same(b.observation.subarray(0, view.layout.stateSize), expected));
        t.deepEqual(b.info['admissibleCommands'], a.info['admissibleCommands']);
        t.deepEqual(b.info['facts'], a.info['facts']);
        const mask = b.info['actionMask'] as Uint8Array;
        t.deepEqual(
          tw(slots)
            .commandTexts.filter((_, j) => mask[j] === 1)
            .sort(),
          [...(a.info['admissibleCommands'] as string[])].sort(),
        );
        const text = tw(facts).commandTexts[facts.actionSpace.sample(rng)]!;
        const action = slots.parseCommand(text);
        t.is(tw(slots).commandTexts[action], text);
        const ra = facts.step(facts.parseCommand(text));
        const rb = slots.step(action);
        t.is(rb.info['feedback'], ra.info['feedback']);
        t.is(rb.reward, ra.reward);
        t.is(rb.terminated, ra.terminated);
        a = ra;
        b = rb;
        if (ra.terminated || ra.truncated) break;
      }
    }
  }
});

test('a command form the game lacks is a legal move that changes nothing, with the feedback typing it gets', (t) => {
  const env = new TextWorldEnv({ family: 'file', observation: 'slots' });
  const { observation } = env.reset();
  const view = env.slotView!;
  const texts = env.commandTexts;
  const missing = [...view.actionCommand.keys()].filter((a) => view.actionCommand[a]! < 0);
  t.true(missing.length > 0);
  for (const a of missing) {
    const result = env.step(a);
    t.true(same(result.observation, observation));
    t.is((result.info['actionMask'] as Uint8Array)[a], 0);
    t.is(result.info['command'], texts[a]);
    t.is(result.reward, 0);
    const feedback = result.info['feedback'] as string;
    if (texts[a]!.startsWith('eat ')) t.is(feedback, "That's plainly inedible.");
    else t.regex(feedback, /^The .+ (doesn't fit the .+|has no lock)\.$/, texts[a]);
  }
  t.is(env.stepText('look').info['moves'], missing.length + 1);
});

test('checkEnv is quiet with observation slots, and two environments with one seed play alike', (t) => {
  for (const id of [
    'TextWorld-Coins-L5-v0',
    'TextWorld-Coins-L130-v0',
    'TextWorld-Treasure-L3-v0',
    'TextWorld-Treasure-L26-v0',
    'TextWorld-Quest-k5-v0',
    'TextWorld-Quest-k10-v0',
    'TextWorld-Quest-k20-v0',
    'TextWorld-File-v0',
  ]) {
    t.notThrows(() => checkEnv(slotsEnv(id, { infoFacts: true })), id);
  }
  t.notThrows(() =>
    checkEnv(
      new TextWorldEnv({
        family: 'quest',
        questLength: 7,
        intermediateReward: true,
        observation: 'slots',
        renderMode: 'ansi',
      }),
    ),
  );
  const play = (): string[] => {
    const env = slotsEnv('TextWorld-Quest-k10-v0');
    const rng = new Rng(9);
    const start = env.reset({ seed: 77 });
    let info = start.info;
    const seen = [Buffer.from(start.observation).toString('hex')];
    for (let step = 0; step < 100; step++) {
      const r = env.step(env.actionSpace.sample(rng, info['actionMask']));
      seen.push(`${Buffer.from(r.observation).toString('hex')}|${r.reward}`);
      info = r.terminated || r.truncated ? env.reset().info : r.info;
    }
    return seen;
  };
  t.deepEqual(play(), play());
});

test('with intermediate rewards, the subgoal block holds the sub-goals not yet paid, so rewards follow from observations', (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const env = slotsEnv('TextWorld-Quest-k10-v0', { intermediateReward: true });
    const L = tw(env).slotLayout!;
    let { observation } = env.reset({ seed });
    const pending = (obs: Uint8Array): number[] => ones(obs, L.subgoal, L.subgoal + L.stateSize);
    t.true(pending(observation).length > 0);
    for (const command of tw(env).walkthrough()!) {
      const before = pending(observation);
      const result = env.step(env.parseCommand(command));
      const reached = before.filter((f) => result.observation[f] === 1);
      t.is(result.reward, reached.length, command);
      t.deepEqual(
        pending(result.observation),
        before.filter((f) => !reached.includes(f)),
      );
      observation = result.observation;
    }
    t.deepEqual(pending(observation), []);
    t.is(L.size, L.subgoal + L.stateSize);
  }
});

test('observation is "facts" by default and validated', (t) => {
  const facts = make<Uint8Array, number>('TextWorld-Quest-k10-v0');
  const env = tw(facts);
  t.is(env.observationMode, 'facts');
  t.is(env.slotLayout, undefined);
  facts.reset({ seed: 1 });
  t.is(env.slotView, undefined);
  t.is(facts.observationSpace.shape[0], env.currentGame.factNames.length);
  t.throws(() => new TextWorldEnv({ observation: 'pixels' as 'slots' }), {
    instanceOf: InvalidOptionError,
    message: /options\.observation: expected "facts" or "slots", received "pixels"/,
  });
  const slots = slotsEnv('TextWorld-Quest-k10-v0');
  const L = tw(slots).slotLayout!;
  t.is(slots.observationSpace.shape[0], L.size);
  slots.reset({ seed: 1 });
  t.is(tw(slots).factNames.length, L.size);
  t.is(tw(slots).commandTexts.length, L.actions);
  const vocabulary = L.commandNames();
  t.is(vocabulary.length, L.actions);
  for (const name of ['go north', 'take o1 from c0', 'unlock d0 with o1', 'eat o0', 'inventory'])
    t.true(vocabulary.includes(name), name);
  t.deepEqual(tw(slotsEnv('TextWorld-Quest-k10-v0')).slotLayout!.commandNames(), vocabulary);
});
