import test from 'ava';
import '../../envs/index.js';
import {
  BaseEnv,
  readNumbers,
  type EnvMetadata,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
} from '../../envs/core/env.js';
import {
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
} from '../../envs/core/errors.js';
import { make } from '../../envs/core/registry.js';
import { Rng } from '../../envs/core/rng.js';
import { Box, Discrete, MultiDiscrete } from '../../envs/core/space.js';
import { TrueModel, type TrueModelBatch } from '../../worldmodel/true-model.js';
import { LineWalkEnv } from '../helpers/line-env.js';

/** GridNav's absolute actions. */
const NORTH = 0;
const SOUTH = 1;
const EAST = 2;
const WEST = 3;

/** A walk whose step adds noise drawn from the environment's generator. */
class NoisyWalkEnv extends BaseEnv<Float32Array, Float32Array> {
  readonly observationSpace = new Box({ low: [-Infinity], high: [Infinity] });
  readonly actionSpace = new Box({ low: [-1], high: [1] });
  readonly metadata: EnvMetadata = { renderModes: [] };
  private position = 0;

  reset({ seed }: ResetArgs = {}): ResetResult<Float32Array> {
    this.seedRng(seed);
    this.position = 0;
    return { observation: Float32Array.of(this.position), info: {} };
  }

  step(action: Float32Array): StepResult<Float32Array> {
    this.checkAction(action);
    this.position += action[0]! + this.rng.normal(0, 0.1);
    const observation = Float32Array.of(this.position);
    return {
      observation,
      reward: -Math.abs(this.position),
      terminated: false,
      truncated: false,
      info: {},
    };
  }

  render(): RenderFrame | undefined {
    return undefined;
  }

  describe(): string {
    return `at ${this.position}`;
  }

  commands(): string[] {
    return ['move <-1..1>'];
  }

  parseCommand(): Float32Array {
    return Float32Array.of(0);
  }

  protected saveState(): JsonValue {
    return { position: this.position };
  }

  protected loadState(state: JsonValue): void {
    this.position = readNumbers(this.id, state, ['position']).position;
  }
}

function stepOne(model: TrueModel, batch: TrueModelBatch, action: number): TrueModelBatch {
  return model.step(batch, Float32Array.of(action)).states;
}

test('a step from a snapshot equals stepping the environment itself (Box and Discrete with masks)', (t) => {
  const rng = new Rng(7);
  for (const id of ['Pendulum-v1', 'GridNav-Task-k10-v0']) {
    const env = make(id);
    let mask = env.reset({ seed: 3 }).info['actionMask'] as Uint8Array | undefined;
    const model = TrueModel.copyOf(env);
    const space = model.actionSpace;
    for (let i = 0; i < 25; i++) {
      const before = TrueModel.snapshot(env);
      const action = space instanceof Discrete ? space.sample(rng, mask) : space.sample(rng);
      const out = model.step(
        model.batch([before]),
        typeof action === 'number' ? Float32Array.of(action) : action,
      );
      const real = env.step(action);
      t.deepEqual(out.states.states[0], TrueModel.snapshot(env), `${id} step ${i}: next state`);
      t.is(out.rewards[0], Math.fround(real.reward), `${id} step ${i}: reward`);
      t.is(out.dones[0], real.terminated ? 1 : 0, `${id} step ${i}: termination`);
      t.is(out.disagreement[0], 0);
      mask = real.info['actionMask'] as Uint8Array | undefined;
      if (space instanceof Discrete) t.deepEqual(out.actionMasks, mask);
      else t.is(out.actionMasks, undefined, 'a Box environment has no masks');
      if (real.terminated || real.truncated) break;
    }
  }
});

test('a batch of rows steps each row from its own snapshot, in order', (t) => {
  const env = make('Pendulum-v1');
  env.reset({ seed: 1 });
  const model = TrueModel.copyOf(env);
  const a = TrueModel.snapshot(env);
  env.step(Float32Array.of(2));
  const b = TrueModel.snapshot(env);
  const batch = model.select(model.batch([a, b]), Int32Array.of(1, 0, 1));
  t.is(model.size(batch), 3);
  const out = model.step(batch, Float32Array.of(-1, 0.5, 2));
  for (const [row, from, u] of [
    [0, b, -1],
    [1, a, 0.5],
    [2, b, 2],
  ] as const) {
    env.unwrapped.setState(from);
    const real = env.unwrapped.step(Float32Array.of(u));
    t.deepEqual(out.states.states[row], env.unwrapped.getState(), `row ${row}`);
    t.is(out.rewards[row], Math.fround(real.reward));
  }
});

test('keys are equal for two paths to the same grid state and differ for different states', (t) => {
  const env = make('GridNav-Empty-8x8-v0'); // top-left corner, facing east, in an empty room
  env.reset({ seed: 0 });
  const model = TrueModel.copyOf(env);
  const root = model.batch([TrueModel.snapshot(env)]);
  const east = stepOne(model, root, EAST);
  const eastWestEast = stepOne(model, stepOne(model, east, WEST), EAST);
  const south = stepOne(model, root, SOUTH);
  t.notDeepEqual(east.states[0], eastWestEast.states[0], 'the snapshots differ in the step count');
  t.is(model.key(east, 0), model.key(eastWestEast, 0));
  t.not(model.key(east, 0), model.key(south, 0));
  t.not(model.key(east, 0), model.key(root, 0));
  // Facing another way is another state (the next pickup or toggle acts elsewhere).
  const turned = stepOne(model, root, NORTH); // a wall to the north: only turns
  t.not(model.key(turned, 0), model.key(root, 0));
  // Exact snapshots as keys: the longer path is another key.
  const exact = TrueModel.copyOf(env, { keyIgnores: [] });
  const e1 = stepOne(exact, exact.batch([TrueModel.snapshot(env)]), EAST);
  const e3 = stepOne(exact, stepOne(exact, e1, WEST), EAST);
  t.not(exact.key(e1, 0), exact.key(e3, 0));
});

test('keys do not depend on the generator state or the order of snapshot fields', (t) => {
  const env = make('GridNav-Task-k10-v0');
  env.reset({ seed: 4 });
  const model = TrueModel.copyOf(env);
  const snapshot = TrueModel.snapshot(env) as { rng: JsonValue; env: Record<string, JsonValue> };
  const otherGenerator = { rng: new Rng(99).getState() as unknown as JsonValue, env: snapshot.env };
  const reordered = Object.fromEntries(Object.entries(snapshot.env).reverse());
  const batch = model.batch([snapshot, otherGenerator, { rng: null, env: reordered }]);
  t.is(model.key(batch, 0), model.key(batch, 1));
  t.is(model.key(batch, 0), model.key(batch, 2));
  const custom = TrueModel.copyOf(env, {
    key: (s) => JSON.stringify((s as { env: { agent: JsonValue } }).env.agent),
  });
  t.is(custom.key(custom.batch([snapshot]), 0), JSON.stringify(snapshot.env['agent']));
});

test('a row that has ended is absorbing: reward 0, still done, same key, no allowed action', (t) => {
  const env = make('GridNav-Task-k10-v0');
  env.reset({ seed: 2 });
  const plan = (env.unwrapped as unknown as { optimalPlan(): number[] }).optimalPlan();
  const model = TrueModel.copyOf(env);
  let batch = model.batch([TrueModel.snapshot(env)]);
  let last = model.step(batch, Float32Array.of(plan[0]!));
  for (const action of plan.slice(1)) last = model.step(last.states, Float32Array.of(action));
  t.is(last.dones[0], 1, 'the last planned action reaches the goal');
  t.true(last.rewards[0]! > 0);
  batch = last.states;
  const after = model.step(batch, Float32Array.of(EAST));
  t.is(after.rewards[0], 0);
  t.is(after.dones[0], 1);
  t.is(model.key(after.states, 0), model.key(batch, 0));
  t.deepEqual(after.actionMasks, new Uint8Array(8));
  // A snapshot of a finished episode, given as a root, is absorbing too.
  for (const action of plan) env.step(action);
  const finished = model.step(model.batch([TrueModel.snapshot(env)]), Float32Array.of(EAST));
  t.is(finished.dones[0], 1);
  t.is(finished.rewards[0], 0);
});

test('an environment that draws from its generator in step is stepped with each row’s own generator', (t) => {
  const env = new NoisyWalkEnv();
  env.reset({ seed: 5 });
  const model = new TrueModel(new NoisyWalkEnv());
  const start = env.getState();
  const batch = model.batch([start, start]);
  const out = model.step(batch, Float32Array.of(0.5, 0.5));
  const real = env.step(Float32Array.of(0.5));
  t.deepEqual(out.states.states[0], env.getState(), 'same noise as the environment');
  t.is(out.rewards[0], Math.fround(real.reward));
  t.deepEqual(out.states.states[0], out.states.states[1]);
  // The generator is part of the state now: same position, different generator, different key.
  const moved = out.states.states[0] as { rng: JsonValue; env: JsonValue };
  const startRng = (start as { rng: JsonValue }).rng;
  const twin = model.batch([moved, { rng: startRng, env: moved.env }]);
  t.not(model.key(twin, 0), model.key(twin, 1));
});

test('the environment played on is untouched: the model steps its own copy', (t) => {
  const env = make('Pendulum-v1');
  env.reset({ seed: 9 });
  const before = env.getState();
  const model = TrueModel.copyOf(env);
  const root = model.batch([TrueModel.snapshot(env)]);
  model.step(model.select(root, new Int32Array(4)), new Float32Array(4).fill(1));
  t.deepEqual(env.getState(), before);
  t.not(model.env, env.unwrapped);
  t.is(model.members, 1);
});

test('bad environments, states, actions and options get typed errors naming what was received', (t) => {
  t.throws(() => new TrueModel({ unwrapped: {}, actionSpace: new Discrete(2) } as never), {
    instanceOf: InvalidOptionError,
    message: /env of TrueModel: expected an environment with snapshots/,
  });
  const multi = new LineWalkEnv();
  Object.defineProperty(multi, 'actionSpace', { value: new MultiDiscrete([2, 2]) });
  t.throws(() => new TrueModel(multi), {
    instanceOf: InvalidOptionError,
    message: /expected an environment with a Discrete or Box action space, received "MultiDiscrete/,
  });
  t.throws(() => TrueModel.copyOf(new LineWalkEnv()), {
    instanceOf: InvalidOptionError,
    message: /TrueModel\.copyOf: expected an environment made by make\(\)/,
  });
  const env = make('Pendulum-v1');
  env.reset({ seed: 0 });
  t.throws(() => TrueModel.copyOf(env, { keyIgnore: ['rng'] } as never), {
    instanceOf: InvalidOptionError,
    message: /TrueModel\.keyIgnore: expected one of the known options/,
  });
  t.throws(() => TrueModel.copyOf(env, { keyIgnores: 'rng' } as never), {
    instanceOf: InvalidOptionError,
    message: /TrueModel\.keyIgnores: .* received "rng"/,
  });
  const model = TrueModel.copyOf(env);
  t.throws(() => model.batch([]), {
    instanceOf: InvalidValueError,
    message: /states for TrueModel\.batch: expected a non-empty array/,
  });
  t.throws(() => model.batch([{ theta: 1 }]), { instanceOf: InvalidStateError });
  const batch = model.batch([TrueModel.snapshot(env)]);
  t.throws(() => model.step(batch, Float32Array.of(1, 2)), {
    instanceOf: InvalidValueError,
    message:
      /actions for TrueModel\.step: expected a Float32Array of 1 × 1 values, received Float32Array\[1, 2\]/,
  });
  t.throws(() => model.step(batch, Float32Array.of(3.5)), {
    instanceOf: InvalidActionError,
    message: /3\.5/,
  });
  t.throws(() => model.step(batch, Float32Array.of(Number.NaN)), {
    instanceOf: InvalidActionError,
  });
  t.throws(() => model.select(batch, Int32Array.of(1)), {
    instanceOf: InvalidValueError,
    message: /rows for TrueModel\.select: expected row indices in 0\.\.0, received Int32Array\[1\]/,
  });
});
