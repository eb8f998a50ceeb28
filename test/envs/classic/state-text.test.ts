import test from 'ava';
import '../../../envs/index.js';
import { classicStateText, ClassicStateText } from '../../../envs/classic/state-text.js';
import { Box } from '../../../envs/core/space.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { TransformObservation } from '../../../envs/core/wrappers/transform.js';

const IDS = ['CartPole-v1', 'Pendulum-v1', 'MountainCarContinuous-v0', 'Acrobot-v1'];

test('the text names every entry with fixed decimals, in observation order', (t) => {
  const pendulum = classicStateText(make('Pendulum-v1'));
  t.is(
    pendulum.encode(Float32Array.of(0.995, -0.0998, 1.25)),
    'cos_theta: 0.9950\nsin_theta: -0.0998\ntheta_dot: 1.2500',
  );
  const car = classicStateText(make('MountainCarContinuous-v0'));
  t.is(car.encode(Float32Array.of(-0.5, 0.001234)), 'position: -0.5000\nvelocity: 0.00123');
  t.is(
    classicStateText(make('CartPole-v1')).encode(Float32Array.of(-0.00001, 0, 0, 0)),
    'x: 0.0000\nx_dot: 0.0000\ntheta: 0.0000\ntheta_dot: 0.0000',
    'a value that rounds to zero is written without a minus sign',
  );
  t.deepEqual(classicStateText(make('Acrobot-v1')).names, [
    'cos_theta1',
    'sin_theta1',
    'cos_theta2',
    'sin_theta2',
    'theta1_dot',
    'theta2_dot',
  ]);
});

test('states sampled from each observation space read back within the stated tolerance', (t) => {
  for (const id of IDS) {
    const env = make<Float32Array, unknown>(id);
    const codec = classicStateText(env);
    const space = env.observationSpace;
    if (!(space instanceof Box)) throw new TypeError(`${id}: not a Box observation space`);
    const rng = new Rng(4242);
    for (let k = 0; k < 400; k++) {
      const state = space.sample(rng);
      const back = codec.decode(codec.encode(state), state);
      for (let i = 0; i < codec.size; i++) {
        const error = Math.abs(back[i]! - state[i]!);
        if (error > codec.tolerance(i, state[i]!))
          t.fail(`${id} entry ${i}: ${state[i]!} read back as ${back[i]!}`);
      }
      t.is(codec.encode(back), codec.encode(state), `${id}: the text is stable`);
    }
  }
});

test('observations of random play and values outside the bounds read back too', (t) => {
  for (const id of IDS) {
    const env = make<Float32Array, unknown>(id);
    const codec = classicStateText(env);
    let { observation } = env.reset({ seed: 31 });
    for (let step = 0; step < 60; step++) {
      const back = codec.decode(codec.encode(observation), observation);
      for (let i = 0; i < codec.size; i++)
        t.true(Math.abs(back[i]! - observation[i]!) <= codec.tolerance(i, observation[i]!));
      const result = env.step(env.actionSpace.sample());
      observation = result.observation;
      if (result.terminated || result.truncated) observation = env.reset().observation;
    }
  }
  const cartPole = classicStateText(make('CartPole-v1'));
  const wild = Float32Array.of(123456.789, -3e9, 7.5, -1e-9);
  const back = cartPole.decode(cartPole.encode(wild), wild);
  for (let i = 0; i < 4; i++)
    t.true(Math.abs(back[i]! - wild[i]!) <= cartPole.tolerance(i, wild[i]!));
});

test('decode takes the names in any order, with blank lines and spaces', (t) => {
  const codec = classicStateText(make('Pendulum-v1'));
  const state = codec.decode(
    '\n  theta_dot:   -2.5\n\ncos_theta: 1e-1\nsin_theta:0.5  \n',
    new Float32Array(3),
  );
  t.deepEqual(state, Float32Array.of(0.1, 0.5, -2.5));
});

test('text that does not parse throws StateTextParseError with what was received and expected', (t) => {
  const codec = classicStateText(make('Pendulum-v1'));
  const ref = new Float32Array(3);
  t.throws(() => codec.decode('cos_theta: 1\nsin theta: 0\ntheta_dot: 0', ref), {
    instanceOf: StateTextParseError,
    message:
      /state text of Pendulum-v1 at line 2: expected "<name>: <number>" with a name of cos_theta, sin_theta, theta_dot, received "sin theta: 0"/,
  });
  t.throws(() => codec.decode('cos_theta: 1\ntheta_dot: 0', ref), {
    instanceOf: StateTextParseError,
    message: /Missing: sin_theta/,
  });
  t.throws(() => codec.decode('cos_theta: 1\ncos_theta: 1\nsin_theta: 0\ntheta_dot: 0', ref), {
    instanceOf: StateTextParseError,
    message: /at line 2: expected each name once \(cos_theta is already at line 1\)/,
  });
  for (const bad of ['NaN', 'Infinity', '1e39', 'one', '0x10', '1.2.3']) {
    const error = t.throws(
      () => codec.decode(`cos_theta: ${bad}\nsin_theta: 0\ntheta_dot: 0`, ref),
      {
        instanceOf: StateTextParseError,
        message: /a finite float32 number/,
      },
    );
    t.is(error.line, 1);
    t.is(error.received, `cos_theta: ${bad}`);
  }
  t.throws(() => codec.decode('cos_theta: 1\nsin_theta: 0\ntheta_dot: 0', new Float32Array(4)), {
    instanceOf: InvalidValueError,
    message: /expected 3 finite numbers/,
  });
  t.throws(() => codec.encode(Float32Array.of(1, NaN, 0)), {
    instanceOf: InvalidValueError,
    message: /sin_theta.*received NaN/,
  });
});

test('commands of actions parse back with the environment', (t) => {
  for (const id of IDS) {
    const env = make(id);
    env.reset({ seed: 5 });
    const codec = classicStateText(env);
    const rng = new Rng(77);
    for (let k = 0; k < 20; k++) {
      const action: unknown = env.actionSpace.sample(rng);
      const text = codec.commandText(action as number | Float32Array);
      const parsed: unknown = env.parseCommand(text);
      if (typeof action === 'number') t.is(parsed, action, text);
      else
        t.true(Math.abs((parsed as Float32Array)[0]! - (action as Float32Array)[0]!) < 6e-5, text);
    }
  }
  const cartPole = classicStateText(make('CartPole-v1'));
  t.is(cartPole.commandText(Float32Array.of(1)), 'push right');
  t.throws(() => cartPole.commandText(2), { instanceOf: InvalidValueError, message: /\[0, 1\]/ });
  t.is(classicStateText(make('Pendulum-v1')).commandText(Float32Array.of(-1.5)), 'torque -1.5000');
});

test('the codec is only for classic-control observations as the environment makes them', (t) => {
  t.true(classicStateText(make('Acrobot-v1')) instanceof ClassicStateText);
  t.throws(() => classicStateText(make('GridNav-Empty-5x5-v0')), {
    instanceOf: InvalidOptionError,
    message: /CartPole, Pendulum, MountainCarContinuous or Acrobot/,
  });
  const scaled = new TransformObservation(
    make<Float32Array, Float32Array>('Pendulum-v1'),
    (o) => o.map((v) => v / 8),
    new Box({ low: -1, high: 1, shape: [3] }),
  );
  t.throws(() => classicStateText(scaled), {
    instanceOf: InvalidOptionError,
    message: /no wrapper may change them/,
  });
});
