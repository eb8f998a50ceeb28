import test from 'ava';
import '../../../envs/index.js';
import type { Env } from '../../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  ResetNeededError,
  StateTextParseError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { Discrete } from '../../../envs/core/space.js';
import { TextWorldStateText, textWorldStateText } from '../../../envs/textworld/state-text.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';

interface Transition {
  state: Uint8Array;
  action: number;
  next: Uint8Array;
}

/** Transitions of random play, admissible commands nine times in ten. */
function play(env: Env<Uint8Array, number>, seeds: readonly number[], steps: number): Transition[] {
  const rng = new Rng(seeds[0]! + 5);
  const out: Transition[] = [];
  for (const seed of seeds) {
    const reset = env.reset({ seed });
    let state = reset.observation;
    let mask = reset.info['actionMask'] as Uint8Array;
    for (let k = 0; k < steps; k++) {
      const admissible = [...mask.keys()].filter((a) => mask[a] === 1);
      const action =
        admissible.length > 0 && rng.uniform() < 0.9
          ? admissible[rng.integer(admissible.length)]!
          : rng.integer(actionCount(env));
      const step = env.step(action);
      out.push({ state, action, next: step.observation });
      if (step.terminated || step.truncated) break;
      state = step.observation;
      mask = step.info['actionMask'] as Uint8Array;
    }
  }
  return out;
}

const SEEDS = [7, 4_096, 310_000];

/** The TextWorld environment under the wrappers. */
function textWorld(env: Env): TextWorldEnv {
  const raw = env.unwrapped;
  if (!(raw instanceof TextWorldEnv)) throw new TypeError('not a TextWorld environment');
  return raw;
}

/** The number of actions of a Discrete action space. */
function actionCount(env: Env): number {
  const space = env.actionSpace;
  if (!(space instanceof Discrete)) throw new TypeError('not a Discrete action space');
  return space.n;
}

test('the slot text is the true facts in slot names, sorted, map and quest included', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { observation: 'slots' });
  const codec = textWorldStateText(env);
  const { observation } = env.reset({ seed: 3 });
  const lines = codec.encode(observation).split('\n');
  t.deepEqual(lines, [...lines].sort());
  t.true(lines.includes('at(player, r0)'), 'the player starts in r0');
  t.true(lines.some((l) => l.startsWith('exit(r0, ')));
  t.true(lines.some((l) => l.startsWith('win(')));
  t.is(
    lines.length,
    observation.reduce((a, b) => a + b, 0),
  );
  t.true(
    lines.every((l) => !/[A-Z_]/.test(l)),
    'slot names, not the game ids',
  );
  t.is(codec.commandText(6), 'take o0');
});

test('slot states and transitions of play read back, with and without sub-goals', (t) => {
  for (const [id, options] of [
    ['TextWorld-Quest-k5-v0', {}],
    ['TextWorld-Quest-k5-v0', { intermediateReward: true }],
    ['TextWorld-Treasure-L15-v0', {}],
    ['TextWorld-Coins-L105-v0', {}],
  ] as const) {
    const env = make<Uint8Array, number>(id, {
      observation: 'slots',
      infoFacts: false,
      ...options,
    });
    const codec = textWorldStateText(env);
    let changed = 0;
    for (const { state, next } of play(env, SEEDS, 40)) {
      t.deepEqual(codec.decode(codec.encode(state), state), Float32Array.from(state));
      t.deepEqual(codec.decode(codec.encode(next), state), Float32Array.from(next), id);
      if (!state.every((v, i) => v === next[i])) changed++;
    }
    t.true(changed > 20, `${id}: states changed (${changed})`);
  }
});

test('fact-vector states and transitions read back, with the map and quest as fixed lines', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { infoFacts: false });
  for (const seed of SEEDS) {
    for (const { state, next } of play(env, [seed], 40)) {
      const codec = textWorldStateText(env); // the game being played
      t.deepEqual(codec.decode(codec.encode(next), state), Float32Array.from(next));
    }
    const codec = textWorldStateText(env);
    const game = textWorld(env).currentGame;
    const text = codec.encode(game.initialState);
    for (const fact of game.staticFacts) t.true(text.includes(`${fact}\n`) || text.endsWith(fact));
    t.regex(text, /^win\(/m);
  }
});

test('any 0/1 vector of the slot space reads back', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { observation: 'slots' });
  const codec = textWorldStateText(env);
  const rng = new Rng(123_456);
  for (let k = 0; k < 30; k++) {
    const state = new Float32Array(codec.size);
    for (let i = 0; i < state.length; i++) state[i] = rng.uniform() < 0.1 ? 1 : 0;
    t.deepEqual(codec.decode(codec.encode(state), state), state);
  }
});

test('the map and quest come from the reference when the text leaves them out', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { observation: 'slots' });
  const codec = textWorldStateText(env);
  const { observation } = env.reset({ seed: 3 });
  const layout = textWorld(env).slotLayout!;
  const stateOnly = codec
    .encode(observation)
    .split('\n')
    .filter((_, i, lines) => layout.stateNames().includes(lines[i]!))
    .join('\n');
  t.false(stateOnly.includes('exit('));
  t.deepEqual(codec.decode(stateOnly, observation), Float32Array.from(observation));
  t.throws(() => codec.decode(`${stateOnly}\nexit(r0, up, r1)`, observation), {
    instanceOf: StateTextParseError,
    message:
      /line \d+: expected a fact that can change, or a fact of the map or quest that holds in the reference state, received "exit\(r0, up, r1\)"/,
  });
});

test('decode ignores spaces and blank lines and rejects unknown or repeated facts', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { observation: 'slots' });
  const codec = textWorldStateText(env);
  const { observation } = env.reset({ seed: 3 });
  const text = codec.encode(observation);
  const loose = `\n${text.replace(/, /g, ',').replace(/\n/g, '\n\n  ')}\n`;
  t.deepEqual(codec.decode(loose, observation), Float32Array.from(observation));
  t.throws(() => codec.decode(`${text}\nat(player, kitchen)`, observation), {
    instanceOf: StateTextParseError,
    message:
      /expected one fact of TextWorld-Quest-k5-v0 per line, such as "at\(player, r0\)", received "at\(player, kitchen\)"/,
  });
  const error = t.throws(() => codec.decode(`at(player, r0)\nat(player,r0)`, observation), {
    instanceOf: StateTextParseError,
    message: /line 2: expected each fact once \(it is at line 1\)/,
  });
  t.is(error.line, 2);
  t.throws(() => codec.encode(new Float32Array(codec.size).fill(2)), {
    instanceOf: InvalidValueError,
    message: /entry 0, at\(player, r0\)\): expected 0 or 1, received 2/,
  });
});

test('the slot codec is one per family level; the facts codec needs a game', (t) => {
  const slots = make<Uint8Array, number>('TextWorld-Quest-k5-v0', { observation: 'slots' });
  const before = textWorldStateText(slots);
  slots.reset({ seed: 1 });
  t.deepEqual(textWorldStateText(slots).names, before.names);
  t.true(before instanceof TextWorldStateText);
  t.throws(() => textWorldStateText(make('TextWorld-Quest-k5-v0')), {
    instanceOf: ResetNeededError,
  });
  t.throws(() => textWorldStateText(make('Pendulum-v1')), {
    instanceOf: InvalidOptionError,
    message: /expected a TextWorld environment/,
  });
});

test('fact-vector commands are the game commands the environment parses', (t) => {
  const env = make<Uint8Array, number>('TextWorld-Treasure-L5-v0');
  env.reset({ seed: 11 });
  const codec = textWorldStateText(env);
  for (let a = 0; a < actionCount(env); a += 7) t.is(env.parseCommand(codec.commandText(a)), a);
  t.throws(() => codec.commandText(actionCount(env)), { instanceOf: InvalidValueError });
});
