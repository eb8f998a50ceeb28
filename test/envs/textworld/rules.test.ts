import test from 'ava';
import { Rng } from '../../../envs/core/rng.js';
import { DIRECTIONS } from '../../../envs/textworld/rules.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import type { Game } from '../../../envs/textworld/game.js';

/**
 * What a command must do, read from its text and the rules of the genre (not from the engine's
 * tables): the facts it removes and adds, or `look` for commands that only describe.
 */
function expectedEffect(
  game: Game,
  state: Uint8Array,
  room: number,
  command: string,
): { del: string[]; add: string[] } | 'look' {
  const byName = (name: string) => game.things.find((t) => t.name === name)!;
  const here = game.rooms[room]!.id;
  const where = (id: string): string => {
    const at = game.factNames.find(
      (f, i) => state[i] === 1 && new RegExp(`^(at|in|on)\\(${id},`).test(f),
    );
    return at ?? `carried(${id})`;
  };
  let m: RegExpExecArray | null;
  if ((m = /^go (\w+)$/.exec(command))) {
    const to = game.rooms[room]!.exits[DIRECTIONS.indexOf(m[1] as 'north')]!;
    return { del: [`at(player, ${here})`], add: [`at(player, ${game.rooms[to]!.id})`] };
  }
  if ((m = /^take (.+) from (.+)$/.exec(command))) {
    const o = byName(m[1]!),
      s = byName(m[2]!);
    return {
      del: [`${s.kind === 'container' ? 'in' : 'on'}(${o.id}, ${s.id})`],
      add: [`carried(${o.id})`],
    };
  }
  if ((m = /^take (.+)$/.exec(command)))
    return { del: [`at(${byName(m[1]!).id}, ${here})`], add: [`carried(${byName(m[1]!).id})`] };
  if ((m = /^drop (.+)$/.exec(command)))
    return { del: [`carried(${byName(m[1]!).id})`], add: [`at(${byName(m[1]!).id}, ${here})`] };
  if ((m = /^put (.+) on (.+)$/.exec(command)))
    return {
      del: [`carried(${byName(m[1]!).id})`],
      add: [`on(${byName(m[1]!).id}, ${byName(m[2]!).id})`],
    };
  if ((m = /^insert (.+) into (.+)$/.exec(command)))
    return {
      del: [`carried(${byName(m[1]!).id})`],
      add: [`in(${byName(m[1]!).id}, ${byName(m[2]!).id})`],
    };
  if ((m = /^eat (.+)$/.exec(command)))
    return { del: [where(byName(m[1]!).id)], add: [`eaten(${byName(m[1]!).id})`] };
  if ((m = /^open (.+)$/.exec(command)))
    return { del: [`closed(${byName(m[1]!).id})`], add: [`open(${byName(m[1]!).id})`] };
  if ((m = /^close (.+)$/.exec(command)))
    return { del: [`open(${byName(m[1]!).id})`], add: [`closed(${byName(m[1]!).id})`] };
  if ((m = /^unlock (.+) with (.+)$/.exec(command)))
    return { del: [`locked(${byName(m[1]!).id})`], add: [`closed(${byName(m[1]!).id})`] };
  if ((m = /^lock (.+) with (.+)$/.exec(command)))
    return { del: [`closed(${byName(m[1]!).id})`], add: [`locked(${byName(m[1]!).id})`] };
  if (/^(examine .+|look|inventory)$/.test(command)) return 'look';
  throw new Error(`unexpected command ${command}`);
}

const SUCCESS =
  /^(-= |You pick up|You take|You drop|You put|You eat|You open|You close|You unlock|You lock|You are carrying|You see nothing special|[A-Z])/;

/** Steps every action from states along a random walk; returns how many admissible commands with effects were checked. */
function checkEveryAction(
  t: import('ava').ExecutionContext,
  env: TextWorldEnv,
  walkSeed: number,
  steps: number,
): number {
  let checked = 0;
  const rng = new Rng(walkSeed);
  let info = env.reset({ seed: walkSeed }).info;
  for (let s = 0; s < steps; s++) {
    const game = env.currentGame;
    const snapshot = env.getState();
    const state = stateOf(env);
    const room = game.roomOf(state);
    const mask = info['actionMask'] as Uint8Array;
    const moves = info['moves'] as number;
    const admissible = info['admissibleCommands'] as string[];
    t.deepEqual(
      admissible,
      game.commands.filter((_, a) => mask[a] === 1),
      'admissibleCommands lists the masked commands',
    );
    for (let a = 0; a < env.actionSpace.n; a++) {
      env.setState(snapshot);
      const command = game.commands[a]!;
      const result = env.step(a);
      const after = result.observation;
      t.is(result.info['moves'], moves + 1, `${command}: one move`);
      const changed = game.factNames.filter((_, f) => after[f] !== state[f]);
      if (mask[a] === 0) {
        t.deepEqual(changed, [], `${command}: inadmissible, state unchanged`);
        t.is(result.reward, 0);
        t.false(result.terminated);
        t.true((result.info['feedback'] as string).length > 0);
        t.notRegex(
          result.info['feedback'] as string,
          /^(-= |You pick up|You take the|You drop|You put|You eat|You open|You close|You unlock|You lock)/,
          `${command}: failure feedback`,
        );
        continue;
      }
      const effect = expectedEffect(game, state, room, command);
      if (effect === 'look') {
        t.deepEqual(changed, [], `${command}: describes only`);
        t.regex(result.info['feedback'] as string, SUCCESS);
        continue;
      }
      t.deepEqual(
        changed.sort(),
        [...effect.del, ...effect.add].sort(),
        `${command}: exactly its effects`,
      );
      t.true(
        effect.del.every((f) => state[game.factIndex.get(f)!] === 1) &&
          effect.add.every((f) => after[game.factIndex.get(f)!] === 1),
        `${command}: deletes true facts, adds them`,
      );
      t.regex(result.info['feedback'] as string, SUCCESS, `${command}: success feedback`);
      checked++;
    }
    env.setState(snapshot);
    const next = env.actionSpace.sample(rng, mask);
    const result = env.step(next);
    info = result.info;
    if (result.terminated) info = env.reset({ seed: walkSeed + s + 1 }).info;
  }
  return checked;
}

function stateOf(env: TextWorldEnv): Uint8Array {
  const snapshot = env.getState() as { env: { facts: number[] } };
  const state = new Uint8Array(env.observationSpace.size);
  for (const f of snapshot.env.facts) state[f] = 1;
  return state;
}

test('every admissible command does exactly what its rule says; every other action leaves the state unchanged with a failure message', (t) => {
  t.true(checkEveryAction(t, new TextWorldEnv({ family: 'file', infoFacts: false }), 1, 25) > 40);
  t.true(
    checkEveryAction(
      t,
      new TextWorldEnv({ family: 'quest', questLength: 10, infoFacts: false }),
      2,
      25,
    ) > 40,
  );
  t.true(
    checkEveryAction(
      t,
      new TextWorldEnv({ family: 'treasure', level: 24, infoFacts: false }),
      3,
      12,
    ) > 12,
  );
});

test('failed commands give the feedback a player expects', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  env.reset();
  const say = (command: string): string =>
    env.step(env.currentGame.commandIndex.get(command)!).info['feedback'] as string;
  t.is(say('go down'), 'The trapdoor is locked.');
  t.is(say('open trapdoor'), 'The trapdoor is locked.');
  t.is(say('unlock trapdoor with iron key'), "You aren't carrying the iron key.");
  t.is(say('go west'), "You can't go that way.");
  t.is(say('drop red apple'), "You aren't carrying the red apple.");
  t.is(say('take gold coin from wooden chest'), "You can't see any such thing.");
  t.is(say('open wooden chest'), "You can't see any such thing.");
  t.is(say('eat grey mushroom'), "You aren't carrying the grey mushroom.");
  t.is(
    say('go north'),
    '-= Kitchen =-\nThe kitchen smells of soup and wood smoke.\nYou see a kitchen table with an iron key on it.\nExits: south, east (pantry door, closed).',
  );
  t.is(say('take iron key'), "You'll have to take the iron key from the kitchen table.");
  t.is(say('go east'), 'The pantry door is closed.');
  t.is(say('close pantry door'), 'The pantry door is already closed.');
  t.is(say('take iron key from kitchen table'), 'You take the iron key from the kitchen table.');
  t.is(say('take iron key from kitchen table'), 'You already have the iron key.');
  t.is(
    say('go south'),
    '-= Entrance Hall =-\nA narrow hall with a worn rug. A trapdoor is set into the floor.\nOn the floor you see a red apple.\nExits: north, down (trapdoor, closed).',
  );
  t.is(say('open trapdoor'), 'The trapdoor is locked.');
  t.is(say('unlock trapdoor with iron key'), 'You unlock the trapdoor with the iron key.');
  t.is(say('unlock trapdoor with iron key'), "The trapdoor isn't locked.");
  t.is(say('go down'), 'The trapdoor is closed.');
  t.is(say('open trapdoor'), 'You open the trapdoor.');
  t.is(say('open trapdoor'), 'The trapdoor is already open.');
  t.is(say('lock trapdoor with iron key'), 'You need to close the trapdoor first.');
  t.regex(say('go down'), /^-= Cellar =-/);
  t.is(say('open wooden chest'), 'The wooden chest is locked.');
  t.is(say('take gold coin from wooden chest'), 'The wooden chest is closed.');
  t.is(say('take grey mushroom'), 'You pick up the grey mushroom.');
  t.is(say('examine grey mushroom'), 'It does not look safe to eat.');
  t.is(say('inventory'), 'You are carrying an iron key and a grey mushroom.');
});

test('look, examine and inventory describe without changing anything', (t) => {
  const env = new TextWorldEnv({ family: 'file' });
  const { observation } = env.reset();
  for (const command of ['look', 'inventory', 'examine red apple', 'examine trapdoor']) {
    const result = env.step(env.currentGame.commandIndex.get(command)!);
    t.deepEqual(result.observation, observation);
  }
  t.is(
    env.step(env.currentGame.commandIndex.get('examine trapdoor')!).info['feedback'],
    'A heavy oak trapdoor with an iron lock. It is locked.',
  );
});
