import test from 'ava';
import { CommandParseError } from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { ABSOLUTE_OPS, EGOCENTRIC_OPS } from '../../../envs/gridnav/gridnav-env.js';
import { describeWorld, parseWorldCommand, worldCommands } from '../../../envs/gridnav/text.js';
import { COLOR, keyCode } from '../../../envs/gridnav/world.js';
import { worldFrom } from './fixtures.js';
import { inner } from './helpers.js';

const ROOM = ['#######', '#..L..#', '#.....#', '#.....#', '#k..^.#', '#######'];

test('describe gives the mission, what the agent carries and sees, with compass positions', (t) => {
  const w = worldFrom(ROOM, 'use the key to open the door and then get to the goal');
  const text = describeWorld(w, { actions: 'absolute' });
  t.regex(text, /^Mission: use the key to open the door and then get to the goal\.$/m);
  t.regex(text, /You are facing north\. You carry nothing\./);
  t.regex(text, /^A yellow key is 3 steps west\.$/m);
  t.regex(text, /^A locked yellow door is 3 steps north and 1 step west\.$/m);
  t.regex(text, /There is a wall to the south\./);
  w.carried = keyCode(COLOR.red);
  t.regex(describeWorld(w, { actions: 'absolute' }), /You carry a red key\./);
});

test('with the egocentric action set positions are relative to the agent', (t) => {
  const w = worldFrom(ROOM);
  const text = describeWorld(w, { actions: 'egocentric' });
  t.regex(text, /^A yellow key is 3 steps to the left\.$/m);
  t.regex(text, /^A locked yellow door is 3 steps ahead and 1 step to the left\.$/m);
  t.regex(text, /There is a wall behind\./);
});

test('with egocentric observations describe names only what the agent sees', (t) => {
  const env = make('GridNav-DoorKey-16x16-v0', { observation: 'egocentric', viewSize: 3 });
  env.reset({ seed: 0 });
  const full = make('GridNav-DoorKey-16x16-v0');
  full.reset({ seed: 0 });
  t.regex(full.describe(), /green goal/);
  t.notRegex(env.describe(), /green goal/, 'the far goal is out of a 3x3 view');
});

test('describe lists lava, nearest first, and says what lies in front', (t) => {
  const w = worldFrom(['#######', '#.~~~.#', '#..>..#', '#######']);
  const text = describeWorld(w, { actions: 'absolute', maxLava: 2 });
  t.regex(
    text,
    /Lava \(stepping in ends the episode\) is 1 step north; 1 step north and 1 step west; and 1 more cell further away\./,
  );
  t.regex(text, /The cell in front of you is empty\./);
});

test('every listed command parses back to the action it was made for, and only those act', (t) => {
  const rng = new Rng(9);
  let checked = 0;
  for (const [id, options] of [
    ['GridNav-DoorKey-8x8-v0', {}],
    ['GridNav-BlockedUnlockPickup-v0', { actions: 'egocentric' }],
    ['GridNav-KeyCorridor-S3R3-v0', {}],
    ['GridNav-Task-k10-v0', { actions: 'egocentric' }],
  ] as const) {
    const env = make<Float32Array, number>(id, options);
    for (let seed = 0; seed < 5; seed++) {
      let mask = env.reset({ seed }).info['actionMask'] as Uint8Array;
      for (let s = 0; s < 60; s++) {
        const parsed = env.commands().map((c) => env.parseCommand(c));
        const acting = [...mask.keys()].filter((a) => mask[a] === 1);
        t.deepEqual(parsed, acting, `${id}: ${env.commands().join(', ')}`);
        checked++;
        const r = env.step(env.actionSpace.sample(rng, mask));
        if (r.terminated || r.truncated) break;
        mask = r.info['actionMask'] as Uint8Array;
      }
    }
  }
  t.true(checked > 400);
});

test('the oracle plan can be played as text commands', (t) => {
  const env = make('GridNav-BlockedUnlockPickup-v0');
  env.reset({ seed: 3 });
  const plan = inner(env).optimalPlan()!;
  let last = false;
  for (const action of plan) {
    const command = env.commands().find((c) => env.parseCommand(c) === action);
    t.truthy(command, `action ${action} has a command`);
    last = env.step(env.parseCommand(command!)).terminated;
  }
  t.true(last);
});

function parse(
  rows: readonly string[],
  text: string,
  actions: 'absolute' | 'egocentric' = 'absolute',
): number {
  return parseWorldCommand(
    worldFrom(rows),
    actions === 'absolute' ? ABSOLUTE_OPS : EGOCENTRIC_OPS,
    actions,
    text,
    'test',
  );
}

test('moves parse from many phrasings', (t) => {
  const room = ['#####', '#.^.#', '#####'];
  for (const [text, action] of [
    ['go north', 0],
    ['north', 0],
    ['n', 0],
    ['Go North.', 0],
    ['up', 0],
    ['move south', 1],
    ['s', 1],
    ['walk east', 2],
    ['e', 2],
    ['head west', 3],
    ['face west', 3],
    ['forward', 0],
    ['go forward', 0],
    ['done', 7],
    ['3', 3],
    ['left', 3],
    ['go right', 2],
    ['down', 1],
  ] as const) {
    t.is(parse(room, text), action, text);
  }
  for (const [text, action] of [
    ['turn left', 0],
    ['left', 0],
    ['l', 0],
    ['turn right', 1],
    ['r', 1],
    ['forward', 2],
    ['f', 2],
    ['go forward', 2],
    ['north', 2],
    ['done', 6],
  ] as const) {
    t.is(parse(room, text, 'egocentric'), action, text);
  }
});

test('interactions parse with or without the object named', (t) => {
  const key = ['#####', '#>k.#', '#####'];
  for (const text of [
    'pick up the yellow key',
    'pick up',
    'pickup',
    'take the key',
    'grab key',
    'pick the key up',
    'p',
  ]) {
    t.is(parse(key, text), 4, text);
  }
  const door = ['#####', '#>L.#', '#####'];
  for (const text of [
    'open the door',
    'unlock the yellow door',
    'unlock the door with the key',
    'toggle',
    'use the key on the door',
    'open',
    't',
  ]) {
    t.is(parse(door, text), 6, text);
  }
  for (const text of ['drop', 'drop it', 'put down', 'd']) t.is(parse(key, text), 5, text);
});

test('commands that name something the agent does not face are errors with feedback', (t) => {
  const key = ['#####', '#>k.#', '#####'];
  t.throws(() => parse(key, 'pick up the red ball'), {
    instanceOf: CommandParseError,
    message: /There is no such thing in front of you: in front of you is a yellow key/,
  });
  t.throws(() => parse(key, 'open the door'), {
    instanceOf: CommandParseError,
    message: /a yellow key/,
  });
  t.throws(() => parse(key, 'drop the key'), {
    instanceOf: CommandParseError,
    message: /You carry nothing/,
  });
  t.throws(() => parse(['#####', '#>_.#', '#####'], 'open the door'), {
    instanceOf: CommandParseError,
    message: /already open/,
  });
  t.throws(() => parse(['#####', '#>D.#', '#####'], 'unlock the door'), {
    instanceOf: CommandParseError,
    message: /closed, not locked/,
  });
});

test('turning in place is an error with the absolute action set, and compass moves that are not forward with the egocentric one', (t) => {
  const room = ['#####', '#.^.#', '#####'];
  t.throws(() => parse(room, 'turn left'), {
    instanceOf: CommandParseError,
    message: /no turning in place/,
  });
  t.throws(() => parse(room, 'east', 'egocentric'), {
    instanceOf: CommandParseError,
    message: /You face north/,
  });
  t.throws(() => parse(room, 'go left', 'egocentric'), {
    instanceOf: CommandParseError,
    message: /Turn first/,
  });
  t.throws(() => parse(room, 'xyzzy plugh'), {
    instanceOf: CommandParseError,
    message: /expected "go north"/,
  });
  t.throws(() => parse(room, ''), { instanceOf: CommandParseError, message: /empty/ });
  t.throws(() => parse(room, '9'), { instanceOf: CommandParseError, message: /numbered 0 to 7/ });
});

test('commands name the object: pick up, drop, unlock, open, close, face', (t) => {
  const w = worldFrom(['######', '#.^k.#', '#.L..#', '######']);
  // Facing the wall north, "north" would change nothing, so it is not offered.
  t.deepEqual(worldCommands(w, ABSOLUTE_OPS), ['face south', 'face east', 'go west']);
  w.dir = 0;
  t.deepEqual(worldCommands(w, ABSOLUTE_OPS), [
    'face north',
    'face south',
    'go west',
    'pick up the yellow key',
  ]);
  w.carried = keyCode(COLOR.yellow);
  w.dir = 1;
  t.deepEqual(worldCommands(w, ABSOLUTE_OPS), [
    'face north',
    'face east',
    'go west',
    'unlock the yellow door',
  ]);
});
