import test from 'ava';
import '../../../envs/index.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { Discrete } from '../../../envs/core/space.js';
import type { Env } from '../../../envs/core/env.js';
import { GridNavEnv } from '../../../envs/gridnav/gridnav-env.js';
import { symbolicSpace } from '../../../envs/gridnav/observation.js';
import { GridNavStateText, gridNavStateText } from '../../../envs/gridnav/state-text.js';
import { OBJECT } from '../../../envs/gridnav/world.js';

const IDS = [
  'GridNav-DoorKey-5x5-v0',
  'GridNav-DoorKey-8x8-v0',
  'GridNav-Unlock-v0',
  'GridNav-BlockedUnlockPickup-v0',
  'GridNav-KeyCorridor-S3R1-v0',
  'GridNav-LavaCrossing-S9N1-v0',
  'GridNav-MultiRoom-N2-v0',
  'GridNav-Task-k5-v0',
];

interface Transition {
  state: Float32Array;
  action: number;
  next: Float32Array;
}

/** Transitions of play that follows the oracle half the time (so keys, doors and boxes get used) and acts at random otherwise. */
function play(id: string, seeds: readonly number[], steps: number, options = {}): Transition[] {
  const env = make<Float32Array, number>(id, options);
  const raw = gridNav(env);
  const rng = new Rng(seeds[0]! + 17);
  const out: Transition[] = [];
  for (const seed of seeds) {
    let state = env.reset({ seed }).observation;
    for (let k = 0; k < steps; k++) {
      const plan = rng.uniform() < 0.5 ? raw.optimalPlan() : null;
      const action = plan !== null && plan.length > 0 ? plan[0]! : rng.integer(actionCount(env));
      const step = env.step(action);
      out.push({ state, action, next: step.observation });
      if (step.terminated || step.truncated) break;
      state = step.observation;
    }
  }
  return out;
}

const SEEDS = [3, 1_041, 52_700, 999_999];

/** The GridNav environment under the wrappers. */
function gridNav(env: Env): GridNavEnv {
  const raw = env.unwrapped;
  if (!(raw instanceof GridNavEnv)) throw new TypeError('not a GridNav environment');
  return raw;
}

/** The number of actions of a Discrete action space. */
function actionCount(env: Env): number {
  const space = env.actionSpace;
  if (!(space instanceof Discrete)) throw new TypeError('not a Discrete action space');
  return space.n;
}

test('the text lists the agent, the walls beside it, doors, objects, the goal and lava, not the other walls', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const { observation } = env.reset({ seed: 1 });
  const codec = gridNavStateText(env);
  t.is(
    codec.encode(observation),
    [
      'agent: 1,2',
      'facing: west',
      'carrying: nothing',
      'walls: east, west',
      'key at 1,3: yellow',
      'door at 2,1: yellow locked',
      'goal at 3,3: green',
    ].join('\n'),
  );
  t.notRegex(codec.encode(observation), /wall at/);
});

test('states and transitions of play read back: a state with itself, the next state with the state before', (t) => {
  let carried = 0;
  let doors = 0;
  for (const id of IDS) {
    const env = make(id);
    const codec = gridNavStateText(env);
    for (const { state, next } of play(id, SEEDS, 60)) {
      t.deepEqual(codec.decode(codec.encode(state), state), state, id);
      const decoded = codec.decode(codec.encode(next), state);
      if (!decoded.every((v, i) => v === next[i])) {
        t.fail(`${id}: next state\n${codec.encode(next)}\nfrom\n${codec.encode(state)}`);
        return;
      }
      const tail = codec.size - 6;
      if (state[tail + 3] !== next[tail + 3]) carried++;
      for (let i = 0; i < tail; i += 3)
        if (state[i] === OBJECT.door && next[i] === OBJECT.door && state[i + 2] !== next[i + 2])
          doors++;
    }
  }
  t.true(carried > 10, `objects picked up or dropped (${carried})`);
  t.true(doors > 5, `doors opened, closed or unlocked (${doors})`);
});

test('the egocentric action set reads back too, and its commands parse back', (t) => {
  const id = 'GridNav-DoorKey-5x5-v0';
  const env = make<Float32Array, number>(id, { actions: 'egocentric' });
  const codec = gridNavStateText(env);
  for (const { state, next } of play(id, SEEDS, 40, { actions: 'egocentric' }))
    t.deepEqual(codec.decode(codec.encode(next), state), next);
  env.reset({ seed: 2 });
  for (let a = 0; a < actionCount(env); a++) t.is(env.parseCommand(codec.commandText(a)), a);
  const absolute = make<Float32Array, number>(id);
  absolute.reset({ seed: 2 });
  const names = gridNavStateText(absolute);
  for (let a = 0; a < 8; a++) t.is(absolute.parseCommand(names.commandText(Float32Array.of(a))), a);
});

test('any vector of the observation space reads back, odd markers and states included', (t) => {
  const codec = new GridNavStateText({ width: 4, height: 3 });
  const high = symbolicSpace(4, 3).high;
  const rng = new Rng(90_210);
  for (let k = 0; k < 500; k++) {
    const state = new Float32Array(codec.size);
    for (let i = 0; i < state.length; i++) state[i] = rng.integer(high[i]! + 1);
    const text = codec.encode(state);
    t.deepEqual(codec.decode(text, state), state, text);
  }
});

test('what the text leaves out (walls) comes from the reference state', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-8x8-v0');
  const { observation } = env.reset({ seed: 12 });
  const codec = gridNavStateText(env);
  const h = 8;
  const reference = observation.slice();
  // An interior wall in the reference that the state does not have, at an empty cell.
  let cell = -1;
  for (let i = 0; i < 64 && cell < 0; i++) if (observation[i * 3] === OBJECT.empty) cell = i;
  reference.set([OBJECT.wall, 5, 0], cell * 3);
  const decoded = codec.decode(codec.encode(observation), reference);
  t.deepEqual(Array.from(decoded.subarray(cell * 3, cell * 3 + 3)), [OBJECT.wall, 5, 0]);
  const rest = (v: Float32Array): number[] =>
    Array.from(v).filter((_, i) => Math.floor(i / 3) !== cell);
  t.deepEqual(rest(decoded), rest(observation));
  // An object the reference has where the text lists none is gone (picked up, say).
  const withBall = observation.slice();
  withBall.set([OBJECT.ball, 2, 0], cell * 3);
  t.deepEqual(codec.decode(codec.encode(observation), withBall), observation);
  t.is(h, codec.height);
});

test('a hand-written answer decodes: a moved agent, a dropped key, an opened door', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const { observation } = env.reset({ seed: 1 });
  const codec = gridNavStateText(env);
  const next = codec.decode(
    ' agent: 1,1\nfacing:north\ncarrying: nothing\nkey at 1,2: yellow\ndoor at 2,1: yellow open\ngoal at 3,3: green\n\n',
    observation,
  );
  const cell = (x: number, y: number): number[] =>
    Array.from(next.subarray((x * 5 + y) * 3, (x * 5 + y) * 3 + 3));
  t.deepEqual(cell(1, 1), [OBJECT.agent, 0, 3]);
  t.deepEqual(cell(1, 2), [OBJECT.key, 4, 0]);
  t.deepEqual(cell(1, 3), [OBJECT.empty, 0, 0], 'the key is no longer where it was');
  t.deepEqual(cell(2, 1), [OBJECT.door, 4, 0]);
  t.deepEqual(cell(0, 0), [OBJECT.wall, 5, 0]);
  t.deepEqual(Array.from(next.subarray(75)), [1, 1, 3, 0, 0, 0]);
});

test('text that does not parse throws StateTextParseError naming the line, received and expected', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const { observation } = env.reset({ seed: 1 });
  const codec = gridNavStateText(env);
  const head = 'agent: 1,2\nfacing: west\ncarrying: nothing\n';
  const cases: [string, RegExp][] = [
    ['agent: 1,2\ncarrying: nothing', /Missing: "facing:"/],
    [
      `${head}key at 9,1: yellow`,
      /line 4: expected a cell x,y with x in 0\.\.4 and y in 0\.\.4, received "key at 9,1: yellow"/,
    ],
    [
      `${head}door at 2,1: yellow`,
      /line 4: expected a door line ending in its state: open, closed or locked/,
    ],
    [`${head}spoon at 2,1: yellow`, /line 4: expected an object of unseen, empty, wall/],
    [
      `${head}key at 2,2: pink`,
      /line 4: expected a colour of red, green, blue, purple, yellow, grey/,
    ],
    [
      `${head}key at 2,2: red shiny`,
      /line 4: expected nothing after the colour, or "state <0\.\.3>"/,
    ],
    [
      `${head}key at 2,2: red\nball at 2,2: blue`,
      /line 5: expected one line per cell \(2,2 is at line 4\)/,
    ],
    [
      'agent: 1,2\nagent: 1,3\nfacing: west\ncarrying: nothing',
      /line 2: expected one "agent:" line/,
    ],
    [
      'agent: 7,2\nfacing: west\ncarrying: nothing',
      /line 1: expected "agent: x,y" with x in 0\.\.4/,
    ],
    [
      'agent: 1,2\nfacing: up\ncarrying: nothing',
      /line 2: expected "facing: east\|south\|west\|north"/,
    ],
    [
      'agent: 1,2\nfacing: west\ncarrying: a key',
      /line 3: expected "carrying: nothing" or "carrying: <colour> <object>"/,
    ],
    ['agent: 1,2\nfacing: west\ncarrying: red goal', /line 3: expected "carrying: nothing"/],
    ['The agent moves west.', /line 1: expected "agent: x,y", "facing: <direction>"/],
  ];
  for (const [text, message] of cases)
    t.throws(
      () => codec.decode(text, observation),
      { instanceOf: StateTextParseError, message },
      text,
    );
  t.throws(() => codec.decode(head, observation.subarray(1)), { instanceOf: InvalidValueError });
  const bad = observation.slice();
  bad[2] = 3.5;
  t.throws(() => codec.encode(bad), {
    instanceOf: InvalidValueError,
    message: /entry 2\): expected an integer in \[0, 3\], received 3\.5/,
  });
});

test('the codec needs the symbolic observation', (t) => {
  t.throws(() => gridNavStateText(make('GridNav-DoorKey-5x5-v0', { observation: 'egocentric' })), {
    instanceOf: InvalidOptionError,
    message: /observation: expected "symbolic"/,
  });
  t.throws(() => gridNavStateText(make('CartPole-v1')), {
    instanceOf: InvalidOptionError,
    message: /expected a GridNav environment, received "CartPole-v1"/,
  });
  const codec = gridNavStateText(make('GridNav-MultiRoom-N2-v0'));
  t.is(codec.size, codec.width * codec.height * 3 + 6);
});

test('the walls line is checked but never written: the walls come from the reference', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const { observation } = env.reset({ seed: 1 });
  const codec = gridNavStateText(env);
  const text = codec.encode(observation);
  const without = text.replace('walls: east, west\n', '');
  t.deepEqual(codec.decode(without, observation), observation);
  // A wrong list of walls changes nothing either: what blocks a move is the reference's cells.
  t.deepEqual(
    codec.decode(text.replace('walls: east, west', 'walls: none'), observation),
    observation,
  );
  for (const bad of ['walls: up', 'walls: east,, west', 'walls:']) {
    const error = t.throws(
      () => codec.decode(text.replace('walls: east, west', bad), observation),
      {
        instanceOf: StateTextParseError,
      },
    );
    t.regex(error.message, /walls/, bad);
  }
});
