import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../../envs/index.js';
import { CartPoleEnv } from '../../../envs/classic/cartpole.js';
import type { JsonValue, RgbArray } from '../../../envs/core/env.js';
import {
  CommandParseError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { saveEpisode } from '../../../envs/core/render.js';

function near(
  t: { true(v: boolean, m?: string): void },
  actual: ArrayLike<number>,
  expected: readonly number[],
  tolerance = 1e-7,
): void {
  t.true(
    expected.every((e, i) => Math.abs(actual[i]! - e) <= tolerance),
    `${Array.from(actual).join(', ')} vs ${expected.join(', ')}`,
  );
}

/** A raw env at a chosen state, set through the public snapshot API. */
function at(
  state: { x: number; xDot: number; theta: number; thetaDot: number },
  options = {},
): CartPoleEnv {
  const env = new CartPoleEnv(options);
  env.reset({ seed: 0 });
  const snapshot = env.getState() as { rng: JsonValue };
  env.setState({ rng: snapshot.rng, env: { ...state, stepsBeyondTerminated: null } });
  return env;
}

test('reset with seed 42 gives Gymnasium’s start state, and action 1 its next state', (t) => {
  const env = make<Float32Array, number>('CartPole-v1');
  const { observation } = env.reset({ seed: 42 });
  t.true(observation instanceof Float32Array);
  near(t, observation, [0.0273956, -0.00611216, 0.03585979, 0.0197368]);
  const r = env.step(1);
  near(t, r.observation, [0.02727336, 0.18847767, 0.03625453, -0.26141977]);
  t.is(r.reward, 1);
  t.false(r.terminated);
  t.false(r.truncated);
});

test('later unseeded resets continue the seeded generator', (t) => {
  const a = make<Float32Array, number>('CartPole-v1');
  const b = make<Float32Array, number>('CartPole-v1');
  a.reset({ seed: 7 });
  b.reset({ seed: 7 });
  const second = a.reset().observation;
  t.deepEqual(b.reset().observation, second);
  t.notDeepEqual(second, make<Float32Array, number>('CartPole-v1').reset({ seed: 7 }).observation);
});

test('the terminating step still pays +1; the raw env then pays 0 as Gymnasium, while make() refuses the step', (t) => {
  const raw = at({ x: 0, xDot: 0, theta: 0.2, thetaDot: 2 });
  const last = raw.step(1);
  t.true(last.terminated);
  t.is(last.reward, 1);
  const beyond = raw.step(1);
  t.true(beyond.terminated);
  t.is(beyond.reward, 0);
  t.is((raw.getState() as { env: { stepsBeyondTerminated: number } }).env.stepsBeyondTerminated, 1);

  const env = make<Float32Array, number>('CartPole-v1');
  env.reset({ seed: 0 });
  env.unwrapped.setState({
    rng: null,
    env: { x: 0, xDot: 0, theta: 0.2, thetaDot: 2, stepsBeyondTerminated: null },
  });
  t.true(env.step(0).terminated);
  t.throws(() => env.step(0), { instanceOf: ResetNeededError, message: /after the episode ended/ });
});

test('the episode terminates when the cart leaves ±2.4 m', (t) => {
  const env = at({ x: 2.39, xDot: 1, theta: 0, thetaDot: 0 });
  const r = env.step(1);
  t.true(r.terminated);
  t.regex(env.describe(), /left the track/);
});

test('suttonBartoReward pays 0 per step and -1 on termination', (t) => {
  const env = make<Float32Array, number>('CartPole-v1', { suttonBartoReward: true });
  env.reset({ seed: 1 });
  t.is(env.step(0).reward, 0);
  const raw = at({ x: 0, xDot: 0, theta: 0.2, thetaDot: 2 }, { suttonBartoReward: true });
  t.is(raw.step(1).reward, -1);
  t.is(raw.step(1).reward, -1);
  t.throws(() => new CartPoleEnv({ suttonBartoReward: 'yes' as never }), {
    instanceOf: InvalidOptionError,
    message: /suttonBartoReward.*boolean.*"yes"/,
  });
});

test('reset options low/high change the start bounds and are validated', (t) => {
  const env = make<Float32Array, number>('CartPole-v1');
  const { observation } = env.reset({ seed: 123, options: { low: 0.2, high: 0.3 } });
  for (const v of observation) t.true(v >= 0.2 - 1e-7 && v <= 0.3 + 1e-7);
  t.deepEqual(
    env.reset({ seed: 123, options: {} }).observation,
    env.reset({ seed: 123 }).observation,
  );
  t.throws(() => env.reset({ options: { low: 0.3, high: 0.2 } }), {
    instanceOf: InvalidOptionError,
    message: /low <= high/,
  });
  t.throws(() => env.reset({ options: { low: '0.1' } }), {
    instanceOf: InvalidOptionError,
    message: /finite number.*"0\.1"/,
  });
  t.throws(() => env.reset({ options: { high: Number.NaN } }), {
    instanceOf: InvalidOptionError,
    message: /NaN/,
  });
});

test('observations are fresh arrays the caller owns', (t) => {
  const env = make<Float32Array, number>('CartPole-v1');
  const first = env.reset({ seed: 5 }).observation;
  const copy = Float32Array.from(first);
  const next = env.step(0).observation;
  t.not(next, first);
  t.deepEqual(first, copy);
});

test('parseCommand accepts push left/right and variants, and names what it received otherwise', (t) => {
  const env = new CartPoleEnv();
  t.deepEqual(env.commands(), ['push left', 'push right']);
  const cases: [string, number][] = [
    ['push left', 0],
    ['push right', 1],
    ['  Push   RIGHT ', 1],
    ['left', 0],
    ['Right.', 1],
    ['push the cart left', 0],
    ['move right', 1],
    ['0', 0],
    ['1', 1],
  ];
  for (const [text, action] of cases) t.is(env.parseCommand(text), action, text);
  t.throws(() => env.parseCommand('push up'), {
    instanceOf: CommandParseError,
    message: /expected "push left" or "push right".*received "push up"/,
  });
  t.throws(() => env.parseCommand('2'), { instanceOf: CommandParseError, message: /received "2"/ });
});

test('describe() states position, speed, lean and turn rate with units', (t) => {
  const env = at({ x: 0.5, xDot: -0.25, theta: 0.1, thetaDot: 0.3 });
  const text = env.describe();
  t.regex(text, /0\.500 m right of centre/);
  t.regex(text, /moving left at 0\.250 m\/s/);
  t.regex(text, /5\.7° right of upright/);
  t.regex(text, /falling right at 0\.300 rad\/s/);
  const back = at({ x: -1, xDot: 0, theta: -0.05, thetaDot: 0.2 }).describe();
  t.regex(back, /1\.000 m left of centre, at rest/);
  t.regex(back, /2\.9° left of upright, swinging back right at 0\.200 rad\/s/);
});

test('snapshots keep steps beyond termination and refuse a negative count', (t) => {
  const env = at({ x: 0, xDot: 0, theta: 0.2, thetaDot: 2 });
  env.step(0);
  const saved = env.getState();
  const fresh = new CartPoleEnv();
  fresh.setState(saved);
  t.is(fresh.step(0).reward, 0, 'the restored env knows the pole already fell');
  const s = saved as { rng: JsonValue; env: Record<string, JsonValue> };
  t.throws(() => fresh.setState({ rng: s.rng, env: { ...s.env, stepsBeyondTerminated: -1 } }), {
    instanceOf: InvalidStateError,
    message: /stepsBeyondTerminated/,
  });
  fresh.setState({ rng: null, env: null });
  t.throws(() => fresh.step(0), { instanceOf: ResetNeededError });
});

test('the rgb frame shows the black cart at its position and the pole above it', (t) => {
  const env = new CartPoleEnv({ renderMode: 'rgb_array' });
  env.reset({ seed: 0 });
  env.setState({
    rng: null,
    env: { x: 1.2, xDot: 0, theta: 0, thetaDot: 0, stepsBeyondTerminated: null },
  });
  const frame = env.render() as RgbArray;
  const px = (x: number, y: number) =>
    Array.from(frame.data.subarray((y * 600 + x) * 4, (y * 600 + x) * 4 + 3));
  // 1.2 m right of centre is 150 px right of the middle; the cart's top is 100 px above the bottom.
  t.deepEqual(px(450 + 20, 400 - 100), [0, 0, 0]);
  t.deepEqual(px(450, 400 - 200), [202, 152, 101]);
  t.deepEqual(px(300, 200), [255, 255, 255]);
  t.deepEqual(px(10, 399 - 100), [0, 0, 0], 'the track line (pygame row 100 from the bottom)');
  t.deepEqual(px(10, 399 - 110), [255, 255, 255]);
});

test('the ansi picture shows the cart on the track and the numbers', (t) => {
  const env = new CartPoleEnv({ renderMode: 'ansi' });
  env.reset({ seed: 0 });
  const text = env.render() as string;
  t.regex(text, /\[#\]/);
  t.regex(text, /\|=+\|/);
  t.regex(text, /x=[+-]0\.\d{3} m/);
});

test('an episode of frames saves as an animated SVG and a PNG contact sheet', (t) => {
  const env = make<Float32Array, number>('CartPole-v1', { renderMode: 'rgb_array' });
  env.reset({ seed: 0 });
  const frames = [env.render() as RgbArray];
  for (let i = 0; i < 5; i++) {
    env.step(i % 2);
    frames.push(env.render() as RgbArray);
  }
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-cartpole-'));
  try {
    saveEpisode(join(dir, 'episode.svg'), frames, { fps: env.metadata.renderFps ?? 50 });
    const svg = readFileSync(join(dir, 'episode.svg'), 'utf8');
    t.is(svg.match(/<image /g)?.length, 6);
    t.true(svg.includes('width="600" height="400"'));
    saveEpisode(join(dir, 'episode.png'), frames, { columns: 3 });
    const png = readFileSync(join(dir, 'episode.png'));
    t.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    t.is(png.readUInt32BE(16), 3 * 600 + 4 * 4, 'three tiles per row');
    t.is(png.readUInt32BE(20), 2 * 400 + 3 * 4, 'two rows');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
