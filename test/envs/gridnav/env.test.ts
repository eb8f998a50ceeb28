import test from 'ava';
import type { JsonValue, RgbArray } from '../../../envs/core/env.js';
import {
  CommandParseError,
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { listEnvs, make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { DoorKeyEnv } from '../../../envs/gridnav/door-key.js';
import { KeyCorridorEnv } from '../../../envs/gridnav/key-corridor.js';
import { BlockedUnlockPickupEnv } from '../../../envs/gridnav/blocked-unlock-pickup.js';
import type { GridNavEnv } from '../../../envs/gridnav/gridnav-env.js';
import { LAVA, OP, type GridWorld } from '../../../envs/gridnav/world.js';
import { inner } from './helpers.js';

const IDS = listEnvs(/^GridNav-/);

test('every GridNav family is registered under MiniGrid-like ids', (t) => {
  t.is(IDS.length, 28);
  for (const id of [
    'GridNav-Empty-5x5-v0',
    'GridNav-Empty-Random-16x16-v0',
    'GridNav-FourRooms-v0',
    'GridNav-DoorKey-8x8-v0',
    'GridNav-MultiRoom-N6-v0',
    'GridNav-LavaCrossing-S11N5-v0',
    'GridNav-KeyCorridor-S6R3-v0',
    'GridNav-Unlock-v0',
    'GridNav-BlockedUnlockPickup-v0',
    'GridNav-Task-k20-v0',
  ]) {
    t.true(IDS.includes(id), id);
  }
});

test('make applies MiniGrid’s step budget as the TimeLimit, and the reward uses the same budget', (t) => {
  const budgets: Record<string, number> = {
    'GridNav-Empty-8x8-v0': 256,
    'GridNav-FourRooms-v0': 100,
    'GridNav-DoorKey-16x16-v0': 2560,
    'GridNav-MultiRoom-N4-v0': 80,
    'GridNav-LavaCrossing-S9N1-v0': 324,
    'GridNav-KeyCorridor-S4R3-v0': 480,
    'GridNav-Unlock-v0': 288,
    'GridNav-BlockedUnlockPickup-v0': 576,
  };
  for (const [id, budget] of Object.entries(budgets)) {
    const env = make(id);
    t.is(env.spec?.maxEpisodeSteps, budget, id);
    t.is(inner(env).config.maxSteps, budget, id);
  }
  const env = make('GridNav-Empty-5x5-v0');
  env.reset({ seed: 0 });
  const done = inner(env).actionNames.indexOf('done');
  for (let i = 1; i < 100; i++) t.false(env.step(done).truncated);
  const last = env.step(done);
  t.true(last.truncated);
  t.false(last.terminated);
  t.throws(() => env.step(done), {
    instanceOf: ResetNeededError,
    message: /after the episode ended/,
  });
});

test('reaching the goal pays 1 - 0.9 * steps / maxSteps and ends the episode', (t) => {
  const env = make('GridNav-Empty-8x8-v0');
  const { info } = env.reset({ seed: 1 });
  t.is(info['optimalSteps'], 10);
  const east = 2;
  const south = 1;
  let r = env.step(east);
  for (let i = 0; i < 4; i++) r = env.step(east);
  for (let i = 0; i < 4; i++) r = env.step(south);
  t.is(r.reward, 0);
  r = env.step(south);
  t.true(r.terminated);
  t.is(r.reward, 1 - (0.9 * 10) / 256);
  t.true(r.info['success']);
  t.throws(() => env.step(east), { instanceOf: ResetNeededError });
});

test('stepping into lava ends the episode with reward 0', (t) => {
  const env = make('GridNav-LavaCrossing-S9N1-v0');
  for (let seed = 0; seed < 50; seed++) {
    env.reset({ seed });
    const world = inner(env).snapshotWorld();
    // The agent starts at (1, 1); find lava east or south of it.
    const east = world.get(2, 1) === LAVA;
    const south = world.get(1, 2) === LAVA;
    if (!east && !south) continue;
    const r = env.step(east ? 2 : 1);
    t.true(r.terminated);
    t.is(r.reward, 0);
    t.false(r.info['success']);
    t.is(inner(env).optimalPlan(), null, 'nothing can be achieved any more');
    return;
  }
  t.fail('no level with lava next to the start among 50 seeds');
});

test('reset info carries the mission, the action mask, the direction and the optimal length', (t) => {
  const env = make('GridNav-DoorKey-8x8-v0');
  const { info } = env.reset({ seed: 3 });
  t.is(info['mission'], 'use the key to open the door and then get to the goal');
  t.true(info['actionMask'] instanceof Uint8Array);
  t.is((info['actionMask'] as Uint8Array).length, 8);
  t.is(typeof info['direction'], 'number');
  t.is(typeof info['optimalSteps'], 'number');
  const step = env.step(0).info;
  t.is(step['mission'], info['mission']);
  t.false('optimalSteps' in step);
});

/** The parts of the world an action can change. */
function fingerprint(world: GridWorld): string {
  return `${String(world.grid)}|${world.agentX},${world.agentY},${world.dir}|${world.carried}`;
}

test('the action mask is 1 exactly for the actions that change the state', (t) => {
  const rng = new Rng(3);
  let checked = 0;
  const envs: GridNavEnv[] = [
    new DoorKeyEnv({ size: 6 }),
    new DoorKeyEnv({ size: 6, actions: 'egocentric' }),
    new KeyCorridorEnv({ roomSize: 4, rows: 2 }),
    new BlockedUnlockPickupEnv({ actions: 'egocentric' }),
    new BlockedUnlockPickupEnv(),
  ];
  for (const env of envs) {
    for (let seed = 0; seed < 6; seed++) {
      let { info } = env.reset({ seed });
      for (let s = 0; s < 80; s++) {
        const mask = info['actionMask'] as Uint8Array;
        const saved = env.getState();
        const before = fingerprint(env.snapshotWorld());
        for (let a = 0; a < env.actionSpace.n; a++) {
          env.step(a);
          const changed = fingerprint(env.snapshotWorld()) !== before;
          t.is(mask[a], changed ? 1 : 0, `${env.constructor.name} ${env.actionNames[a]!}`);
          env.setState(saved);
          checked++;
        }
        const r = env.step(env.actionSpace.sample(rng, mask));
        if (r.terminated) break;
        info = r.info;
      }
    }
  }
  t.true(checked > 10000);
});

test('actions outside the action space are InvalidActionErrors naming the space', (t) => {
  const env = make('GridNav-DoorKey-8x8-v0');
  env.reset({ seed: 0 });
  for (const bad of [8, -1, 0.5, Number.NaN, '0', null]) {
    t.throws(() => env.step(bad as number), {
      instanceOf: InvalidActionError,
      message: /Discrete\(8\)/,
    });
  }
  const ego = make('GridNav-DoorKey-8x8-v0', { actions: 'egocentric' });
  ego.reset({ seed: 0 });
  t.throws(() => ego.step(7), {
    instanceOf: InvalidActionError,
    message: /expected Discrete\(7\), received 7/,
  });
});

test('stepping before reset or after the end is a ResetNeededError, raw or through make', (t) => {
  const raw = new DoorKeyEnv();
  t.throws(() => raw.step(0), { instanceOf: ResetNeededError, message: /before reset/ });
  t.throws(() => raw.describe(), { instanceOf: ResetNeededError });
  for (const env of [make('GridNav-Unlock-v0'), inner(make('GridNav-Unlock-v0'))]) {
    env.reset({ seed: 2 });
    const plan = inner(env as never).optimalPlan()!;
    for (const a of plan) env.step(a);
    t.throws(() => env.step(0), {
      instanceOf: ResetNeededError,
      message: /after the episode ended/,
    });
  }
});

test('unknown commands are CommandParseErrors', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-8x8-v0');
  env.reset({ seed: 0 });
  t.throws(() => env.parseCommand('dance a jig'), {
    instanceOf: CommandParseError,
    message: /received "dance a jig"/,
  });
});

test('unknown or out-of-range options are InvalidOptionErrors', (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ sise: 9 }, /options\.sise of DoorKeyEnv.*"sise" is not an option/],
    [
      { actions: 'diagonal' },
      /options\.actions of DoorKeyEnv: expected "absolute" or "egocentric"/,
    ],
    [{ observation: 'pixels' }, /expected "symbolic" or "egocentric"/],
    [{ viewSize: 6 }, /options\.viewSize.*an odd integer in 3\.\.99, received 6/],
    [{ maxSteps: 0 }, /options\.maxSteps.*a positive integer/],
    [{ size: 4 }, /options\.size of DoorKeyEnv: expected an integer in 5\.\.64/],
    [{ ansiColor: 'yes' }, /options\.ansiColor/],
    [{ tileSize: 2 }, /options\.tileSize/],
  ];
  for (const [options, message] of cases) {
    t.throws(() => make('GridNav-DoorKey-8x8-v0', options), {
      instanceOf: InvalidOptionError,
      message,
    });
  }
  t.throws(() => make('GridNav-LavaCrossing-S9N1-v0', { size: 10 }), {
    instanceOf: InvalidOptionError,
    message: /odd/,
  });
  t.throws(() => make('GridNav-LavaCrossing-S9N1-v0', { crossings: 7 }), {
    instanceOf: InvalidOptionError,
  });
  t.throws(() => make('GridNav-MultiRoom-N2-v0', { maxRooms: 1 }), {
    instanceOf: InvalidOptionError,
    message: /at least minRooms/,
  });
  const env = make('GridNav-Empty-8x8-v0');
  t.throws(() => env.reset({ seed: 0, options: { startX: 3 } }), {
    instanceOf: InvalidOptionError,
    message: /reset options/,
  });
});

test('snapshots restore the exact state, across instances, generator included', (t) => {
  const a = make('GridNav-KeyCorridor-S3R3-v0');
  a.reset({ seed: 5 });
  const rng = new Rng(1);
  for (let i = 0; i < 7; i++) a.step(rng.integer(8));
  const saved = JSON.parse(JSON.stringify(a.getState())) as JsonValue;
  const actions = Array.from({ length: 30 }, () => rng.integer(8));
  const run = (env: typeof a): unknown[] => {
    const out: unknown[] = [];
    for (const action of actions) {
      const r = env.step(action);
      out.push([Array.from(r.observation as Float32Array), r.reward, r.terminated]);
      if (r.terminated || r.truncated) break;
    }
    out.push(Array.from(env.reset().observation as Float32Array));
    return out;
  };
  const described = a.describe();
  const first = run(a);
  const b = make('GridNav-KeyCorridor-S3R3-v0');
  b.setState(saved);
  t.is(b.describe(), described);
  t.deepEqual(run(b), first);
});

test('malformed snapshots are InvalidStateErrors and leave the environment unchanged', (t) => {
  const env = new DoorKeyEnv();
  env.reset({ seed: 0 });
  const good = env.getState() as { rng: JsonValue; env: Record<string, JsonValue> };
  const before = env.describe();
  const broken: [Record<string, JsonValue>, RegExp][] = [
    [{ ...good.env, grid: [1, 2, 3] }, /\.grid as an array of 64 cell codes/],
    [
      { ...good.env, grid: (good.env['grid'] as number[]).map((c, i) => (i === 9 ? 99999 : c)) },
      /valid cell code at \.grid\[9\]/,
    ],
    [{ ...good.env, agent: [0, 0, 0] }, /the agent on a cell it can stand on/],
    [{ ...good.env, agent: [3, 3, 4] }, /direction in 0\.\.3/],
    [{ ...good.env, carried: 2 }, /\.carried/],
    [{ ...good.env, objective: { kind: 'dance' } }, /\.objective/],
    [{ ...good.env, steps: -1 }, /\.steps as a non-negative integer/],
    [{ ...good.env, ended: 'no' }, /\.ended and \.success as booleans/],
  ];
  for (const [state, message] of broken) {
    t.throws(() => env.setState({ rng: good.rng, env: state }), {
      instanceOf: InvalidStateError,
      message,
    });
  }
  t.is(env.describe(), before);
});

test('render gives plain text by default, ANSI colours on request, and tiles as rgb_array', (t) => {
  const ansi = make('GridNav-DoorKey-8x8-v0', { renderMode: 'ansi' });
  ansi.reset({ seed: 0 });
  const text = ansi.render() as string;
  t.false(text.includes('\x1b['), 'no escapes when stdout is not a terminal');
  t.is(text.split('\n').slice(0, 8).join('').length, 8 * 8 * 2, 'two characters per cell');
  t.regex(text, /Ly locked yellow door/);
  t.regex(text, /Mission: use the key/);
  const coloured = make('GridNav-DoorKey-8x8-v0', { renderMode: 'ansi', ansiColor: true });
  coloured.reset({ seed: 0 });
  t.true((coloured.render() as string).includes('\x1b['));
  const rgb = make('GridNav-KeyCorridor-S3R2-v0', { renderMode: 'rgb_array', tileSize: 8 });
  rgb.reset({ seed: 0 });
  const frame = rgb.render() as RgbArray;
  t.is(frame.width, 7 * 8);
  t.is(frame.height, 5 * 8);
  t.is(frame.data.length, frame.width * frame.height * 4);
  const none = make('GridNav-FourRooms-v0');
  none.reset({ seed: 0 });
  t.is(none.render(), undefined, 'no render mode, no frame');
});

test('the done action never changes anything', (t) => {
  const env = new DoorKeyEnv();
  const { info } = env.reset({ seed: 4 });
  t.is((info['actionMask'] as Uint8Array)[7], 0);
  const before = env.snapshotWorld().grid.join();
  const r = env.step(7);
  t.is(env.snapshotWorld().grid.join(), before);
  t.is(r.reward, 0);
  t.false(r.terminated);
  t.is(OP.done, 6);
});
