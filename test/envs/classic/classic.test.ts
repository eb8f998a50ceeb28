/**
 * What the four classic-control ids share: the checker passes quietly in every render mode, the
 * metadata and frame sizes are Gymnasium's, text commands round-trip to actions, bad actions and
 * malformed snapshots get typed errors.
 */
import test from 'ava';
import '../../../envs/index.js';
import type { Env, RgbArray } from '../../../envs/core/env.js';
import { checkEnv, instantiateCommand } from '../../../envs/core/check-env.js';
import {
  CommandParseError,
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';

const CASES = [
  { id: 'CartPole-v1', size: [600, 400], fps: 50, maxSteps: 500, threshold: 475 },
  { id: 'Pendulum-v1', size: [500, 500], fps: 30, maxSteps: 200, threshold: undefined },
  { id: 'MountainCarContinuous-v0', size: [600, 400], fps: 30, maxSteps: 999, threshold: 90 },
  { id: 'Acrobot-v1', size: [500, 500], fps: 15, maxSteps: 500, threshold: -100 },
] as const;

for (const { id, size, fps, maxSteps, threshold } of CASES) {
  test(`${id} passes checkEnv quietly with and without a render mode`, (t) => {
    const warnings: unknown[] = [];
    const originalWarn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      t.notThrows(() => checkEnv(make<Float32Array, unknown>(id)));
      t.notThrows(() => checkEnv(make<Float32Array, unknown>(id, { renderMode: 'ansi' })));
      t.notThrows(() => checkEnv(make<Float32Array, unknown>(id, { renderMode: 'rgb_array' })));
    } finally {
      console.warn = originalWarn;
    }
    t.deepEqual(warnings, []);
  });

  test(`${id} is registered with Gymnasium's limits, render modes and fps`, (t) => {
    const env = make<Float32Array, unknown>(id);
    t.is(env.spec?.maxEpisodeSteps, maxSteps);
    t.is(env.spec?.rewardThreshold, threshold);
    t.true((env.spec?.description.length ?? 0) > 10);
    t.deepEqual([...env.metadata.renderModes], ['ansi', 'rgb_array']);
    t.is(env.metadata.renderFps, fps);
  });

  test(`${id} draws an opaque ${size[0]}x${size[1]} RGBA frame that changes with the state`, (t) => {
    const env = make<Float32Array, unknown>(id, { renderMode: 'rgb_array' });
    env.reset({ seed: 3 });
    const first = env.render() as RgbArray;
    t.is(first.width, size[0]);
    t.is(first.height, size[1]);
    t.is(first.data.length, size[0] * size[1] * 4);
    let opaque = true;
    for (let i = 3; i < first.data.length; i += 4) if (first.data[i] !== 255) opaque = false;
    t.true(opaque);
    let white = 0;
    for (let i = 0; i < first.data.length; i += 4)
      if (first.data[i] === 255 && first.data[i + 1] === 255 && first.data[i + 2] === 255) white++;
    t.true(white > 0.5 * size[0] * size[1], 'mostly white background');
    t.true(white < size[0] * size[1], 'something is drawn');
    const rng = new Rng(5);
    for (let i = 0; i < 10; i++) env.step(env.actionSpace.sample(rng));
    const later = env.render() as RgbArray;
    t.notDeepEqual(later.data, first.data);
  });

  test(`${id} draws a text picture in ansi mode and nothing without a render mode`, (t) => {
    const text = make<Float32Array, unknown>(id, { renderMode: 'ansi' });
    text.reset({ seed: 0 });
    const picture = text.render();
    t.is(typeof picture, 'string');
    t.true((picture as string).split('\n').length >= 3);
    const none = make<Float32Array, unknown>(id);
    none.reset({ seed: 0 });
    t.is(none.render(), undefined);
  });

  test(`${id} refuses describe, render and step before the first reset on the raw environment`, (t) => {
    const raw = make<Float32Array, unknown>(id, { renderMode: 'ansi' }).unwrapped;
    t.throws(() => raw.describe(), { instanceOf: ResetNeededError });
    t.throws(() => raw.render(), { instanceOf: ResetNeededError });
    t.throws(() => raw.step(raw.actionSpace.sample(new Rng(0))), { instanceOf: ResetNeededError });
  });

  test(`${id} turns every listed command into an action that steps`, (t) => {
    const env = make<Float32Array, unknown>(id);
    env.reset({ seed: 4 });
    const forms = env.commands();
    t.true(forms.length > 0);
    for (const form of forms) {
      const action = env.parseCommand(instantiateCommand(form));
      t.true(env.actionSpace.contains(action), form);
      t.notThrows(() => env.step(action));
    }
    t.throws(() => env.parseCommand('dance the tango'), {
      instanceOf: CommandParseError,
      message: /expected .*received "dance the tango"/,
    });
    t.throws(() => env.parseCommand(''), { instanceOf: CommandParseError });
  });

  test(`${id} rejects NaN, out-of-range and wrongly typed actions with InvalidActionError`, (t) => {
    const env = make<Float32Array, unknown>(id);
    env.reset({ seed: 0 });
    const continuous = env.actionSpace.shape.length > 0;
    const bad: unknown[] = continuous
      ? [
          Float32Array.of(Number.NaN),
          Float32Array.of(5),
          Float32Array.of(-5),
          Float32Array.of(0, 0),
          [0],
          0,
        ]
      : [Number.NaN, -1, 7, 0.5, '1', Float32Array.of(1)];
    for (const action of bad) {
      t.throws(
        () => env.step(action),
        { instanceOf: InvalidActionError, message: new RegExp(`${id}.*received`) },
        String(action),
      );
    }
    t.notThrows(
      () => env.step(env.actionSpace.sample(new Rng(1))),
      'a bad action leaves the environment usable',
    );
  });

  test(`${id} restores a snapshot exactly and refuses malformed ones`, (t) => {
    const env = make<Float32Array, unknown>(id);
    const rng = new Rng(9);
    env.reset({ seed: 11 });
    for (let i = 0; i < 5; i++) env.step(env.actionSpace.sample(rng));
    const saved = JSON.parse(JSON.stringify(env.getState())) as ReturnType<Env['getState']>;
    const actions = Array.from({ length: 20 }, () => env.actionSpace.sample(rng));
    const play = () =>
      actions.map((a) => {
        const r = env.step(a);
        return [Array.from(r.observation), r.reward, r.terminated];
      });
    const before = play();
    env.setState(saved);
    t.deepEqual(play(), before);
    const raw = env.unwrapped;
    const inner = raw.getState() as { rng: unknown; env: Record<string, unknown> };
    const field = Object.keys(inner.env)[0]!;
    t.throws(
      () => raw.setState({ rng: inner.rng, env: { ...inner.env, [field]: 'NaN' } } as never),
      {
        instanceOf: InvalidStateError,
        message: new RegExp(field),
      },
    );
    t.throws(() => raw.setState({ rng: inner.rng, env: { ...inner.env, extra: 1 } } as never), {
      instanceOf: InvalidStateError,
      message: /extra/,
    });
    t.throws(() => raw.setState({ rng: inner.rng, env: [1, 2] } as never), {
      instanceOf: InvalidStateError,
    });
  });

  test(`${id} rejects unknown constructor and reset options with InvalidOptionError`, (t) => {
    t.throws(() => make<Float32Array, unknown>(id, { nonsense: 1 }), {
      instanceOf: InvalidOptionError,
      message: /nonsense/,
    });
    const env = make<Float32Array, unknown>(id);
    t.throws(() => env.reset({ options: { nonsense: 1 } }), {
      instanceOf: InvalidOptionError,
      message: /nonsense/,
    });
    env.reset({ seed: 6 });
    const before = JSON.stringify(env.getState());
    t.throws(() => env.reset({ seed: 99, options: { nonsense: 1 } }), {
      instanceOf: InvalidOptionError,
    });
    t.is(
      JSON.stringify(env.getState()),
      before,
      'a refused reset changes nothing, generator included',
    );
  });

  test(`${id} refuses a snapshot of another classic environment, naming the missing field`, (t) => {
    const otherId = CASES[(CASES.findIndex((c) => c.id === id) + 1) % CASES.length]!.id;
    const other = make<Float32Array, unknown>(otherId);
    other.reset({ seed: 1 });
    const env = make<Float32Array, unknown>(id);
    env.reset({ seed: 1 });
    const before = JSON.stringify(env.getState());
    const error = t.throws(() => env.setState(other.getState()), {
      instanceOf: InvalidStateError,
      message: /expected a finite number at \.\w+ of \{.*\}, received undefined$/,
    });
    t.notRegex(error.message, /received "/, 'the received value is shown, not quoted twice');
    t.is(JSON.stringify(env.getState()), before);
  });

  test(`${id} refuses reset bounds that would start outside the observation space`, (t) => {
    const env = make<Float32Array, unknown>(id);
    const tooWide = id === 'Pendulum-v1' ? { y_init: 9 } : { low: -20, high: 20 };
    // Every reset is refused, not only the first one the passive checker sees.
    for (let k = 0; k < 2; k++) {
      t.throws(() => env.reset({ seed: 3, options: tooWide }), {
        instanceOf: InvalidOptionError,
        message: /reset options\.(low\/high|y_init) of .*expected .*received/,
      });
      env.reset({ seed: 3 });
    }
    const widest =
      id === 'Pendulum-v1'
        ? { x_init: 100, y_init: 8 }
        : id === 'MountainCarContinuous-v0'
          ? { low: -1.2, high: 0.6 }
          : id === 'CartPole-v1'
            ? { low: -0.41, high: 0.41 }
            : { low: -12.5, high: 12.5 };
    for (let seed = 0; seed < 20; seed++) {
      const { observation } = env.reset({ seed, options: widest });
      t.true(env.observationSpace.contains(observation), `seed ${seed}`);
    }
  });

  test(`${id} describes its state in words with units`, (t) => {
    const env = make<Float32Array, unknown>(id);
    env.reset({ seed: 2 });
    const text = env.describe();
    t.regex(text, /\d/);
    t.regex(text, /(m\/s|rad\/s|°| m\b)/);
  });
}
