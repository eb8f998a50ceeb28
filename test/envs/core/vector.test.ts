import test from 'ava';
import '../../../envs/index.js';
import { checkEnv } from '../../../envs/core/check-env.js';
import type { Env, JsonValue } from '../../../envs/core/env.js';
import {
  AsyncCallError,
  ClosedEnvError,
  CommandParseError,
  EnvNotFoundError,
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import {
  Box,
  Dict,
  Discrete,
  MultiBinary,
  MultiDiscrete,
  Text,
  Tuple,
  type AnySpace,
} from '../../../envs/core/space.js';
import {
  AsyncVectorEnv,
  SyncVectorEnv,
  batchSpace,
  concatenate,
  iterate,
  makeVec,
  type VectorEnv,
  type VectorStepResult,
} from '../../../envs/core/vector.js';
import { TOY_WALK_ID, ToyWalkEnv, type ToyWalkObservation } from '../../helpers/toy-env.js';

const TOY_MODULE = new URL('../../helpers/toy-env.ts', import.meta.url).href;
const RIGHT = 2;
const STAY = 1;
const LEFT = 0;

/** A vector of noise-free walkers on [-2, 2]: from start 1, one step right ends the episode. */
function toyVec(
  mode: 'sync' | 'async',
  autoresetMode: 'next-step' | 'same-step',
  n = 3,
): VectorEnv<Float32Array, number> {
  return makeVec(TOY_WALK_ID, n, {
    mode,
    autoresetMode,
    noise: 0,
    goal: 2,
    ...(mode === 'async' ? { modules: [TOY_MODULE], workers: 2 } : {}),
  });
}

/** What sub-env i's unseeded reset after `reset({seed, options: {start: 1}})` gives. */
function secondReset(seed: number): Float32Array {
  const env = make<Float32Array, number>(TOY_WALK_ID, { noise: 0, goal: 2 });
  env.reset({ seed, options: { start: 1 } });
  return env.reset().observation;
}

function row(batch: Float32Array, i: number, size = 2): number[] {
  return Array.from(batch.subarray(i * size, (i + 1) * size));
}

// ---- batched spaces --------------------------------------------------------------------------

test('batchSpace stacks a Box on a new leading axis and a Discrete into a MultiDiscrete', (t) => {
  const box = batchSpace(new Box({ low: [-1, 0], high: [1, 5] }), 3);
  t.true(
    box.equals(new Box({ low: [-1, 0, -1, 0, -1, 0], high: [1, 5, 1, 5, 1, 5], shape: [3, 2] })),
  );
  const discrete = batchSpace(new Discrete(4, { start: -1 }), 3);
  t.true(discrete.equals(new MultiDiscrete([4, 4, 4], { start: [-1, -1, -1] })));
  t.true(batchSpace(new MultiDiscrete([2, 3]), 2).equals(new MultiDiscrete([2, 3, 2, 3])));
  t.true(batchSpace(new MultiBinary([2, 2]), 3).equals(new MultiBinary([3, 2, 2])));
});

test('batchSpace makes a Tuple of n copies of a Text, Dict or Tuple space', (t) => {
  const dict = new Dict({ a: new Discrete(2), b: new Text(3) });
  const batched = batchSpace(dict, 2);
  t.true(batched instanceof Tuple);
  t.deepEqual(batched.toJSON(), { type: 'Tuple', spaces: [dict.toJSON(), dict.toJSON()] });
  const [a, b] = (batched as unknown as { spaces: readonly AnySpace[] }).spaces;
  t.not(a, b, 'copies, not one shared space');
  t.throws(() => batchSpace(dict, 0), {
    instanceOf: InvalidOptionError,
    message: /n: expected a positive integer, received 0/,
  });
});

test('a sample of a batched space is a valid batch, and iterate/concatenate convert both ways', (t) => {
  const single = new Box({ low: [-1, -2, -3], high: [1, 2, 3] });
  const batched = batchSpace(single, 4);
  batched.seed(3);
  const batch = batched.sample() as Float32Array;
  t.is(batch.length, 12);
  const items = [...iterate(single, batch)];
  t.is(items.length, 4);
  t.true(items.every((x) => single.contains(x)));
  t.deepEqual(concatenate(single, items), batch);
  const discrete = new Discrete(5);
  t.deepEqual([...iterate(discrete, Int32Array.of(4, 0, 2))], [4, 0, 2]);
  const out = new Int32Array(2);
  t.is(concatenate(discrete, [1, 3], out), out);
  t.deepEqual(out, Int32Array.of(1, 3));
  const text = new Text(4);
  t.deepEqual([...iterate(text, ['ab', 'c'])], ['ab', 'c']);
});

test('iterate and concatenate refuse a malformed batch or an item outside the space', (t) => {
  const single = new Box({ low: [0, 0], high: [1, 1] });
  t.throws(() => [...iterate(single, new Float32Array(3))], {
    instanceOf: InvalidValueError,
    message: /multiple of 2/,
  });
  t.throws(() => [...iterate(single, [1, 2] as never)], {
    instanceOf: InvalidValueError,
    message: /Float32Array/,
  });
  t.throws(() => concatenate(single, [Float32Array.of(0, 2)]), {
    instanceOf: InvalidValueError,
    message: /item 0 to concatenate/,
  });
  t.throws(() => concatenate(new Discrete(2), [0, 1], new Int32Array(3)), {
    instanceOf: InvalidValueError,
    message: /out of concatenate/,
  });
});

// ---- the test environment --------------------------------------------------------------------

test('the ToyWalk test environment passes checkEnv quietly in all its forms', (t) => {
  t.notThrows(() => checkEnv(make(TOY_WALK_ID)));
  t.notThrows(() => checkEnv(make(TOY_WALK_ID, { actions: 'box', observation: 'dict' })));
});

// ---- SyncVectorEnv ---------------------------------------------------------------------------

test('a vector env exposes batched spaces and the single ones', (t) => {
  const vec = makeVec<Float32Array, Float32Array>(TOY_WALK_ID, 3, { actions: 'box' });
  t.is(vec.numEnvs, 3);
  t.true(vec.singleActionSpace.equals(new Box({ low: [-1], high: [1] })));
  t.true(vec.actionSpace.equals(batchSpace(vec.singleActionSpace, 3)));
  t.true(vec.observationSpace.equals(batchSpace(vec.singleObservationSpace, 3)));
  t.is(vec.metadata.autoresetMode, 'next-step');
  t.deepEqual(vec.metadata.renderModes, ['ansi']);
  t.regex(vec.id, /SyncVectorEnv\(wmgym-test\/ToyWalk-v0 x 3\)/);
  const { observations } = vec.reset({ seed: 0 });
  t.true(vec.observationSpace.contains(observations));
  const result = vec.step(vec.actionSpace.sample());
  t.true(vec.observationSpace.contains(result.observations));
  t.true(
    result.rewards instanceof Float64Array &&
      result.terminations instanceof Uint8Array &&
      result.truncations instanceof Uint8Array,
  );
  vec.close();
});

test('reset({seed}) seeds sub-env i with seed + i; an array gives each its own seed', (t) => {
  const vec = makeVec<Float32Array, number>(TOY_WALK_ID, 3);
  const { observations } = vec.reset({ seed: 10 });
  for (let i = 0; i < 3; i++) {
    const single = make<Float32Array, number>(TOY_WALK_ID).reset({ seed: 10 + i }).observation;
    t.deepEqual(row(observations, i), Array.from(single), `sub-env ${i}`);
  }
  const chosen = vec.reset({ seed: [7, 3, 7] }).observations;
  t.deepEqual(row(chosen, 0), row(chosen, 2));
  t.deepEqual(
    row(chosen, 1),
    Array.from(make<Float32Array, number>(TOY_WALK_ID).reset({ seed: 3 }).observation),
  );
  t.throws(() => vec.reset({ seed: -1 }), {
    instanceOf: InvalidOptionError,
    message: /non-negative integer, received -1/,
  });
  t.throws(() => vec.reset({ seed: [1, 2] }), {
    instanceOf: InvalidOptionError,
    message: /an array of 3/,
  });
  vec.close();
});

test('a seed whose last sub-env seed passes 2^53 - 1 is refused before any sub-env resets', (t) => {
  const vec = makeVec<Float32Array, number>(TOY_WALK_ID, 2);
  const before = vec.reset({ seed: 4 }).observations;
  const saved = vec.getState();
  t.throws(() => vec.reset({ seed: Number.MAX_SAFE_INTEGER }), {
    instanceOf: InvalidOptionError,
    message: /seed \+ 1 for the last sub-environment.*received 9007199254740992/,
  });
  t.deepEqual(vec.getState(), saved, 'no sub-environment was reset');
  t.is(vec.reset({ seed: Number.MAX_SAFE_INTEGER - 1 }).observations.length, before.length);
  vec.close();
});

function checkNextStep(
  t: import('ava').ExecutionContext,
  vec: VectorEnv<Float32Array, number>,
): void {
  vec.reset({ seed: 5, options: { start: 1 } });
  // Step 1: sub-env 0 reaches the goal (terminated), 1 stays, 2 walks left.
  let r = vec.step(Int32Array.of(RIGHT, STAY, LEFT));
  t.deepEqual(Array.from(r.terminations), [1, 0, 0]);
  t.deepEqual(
    row(r.observations, 0),
    [2, 1],
    'the final observation is returned on the ending step',
  );
  t.deepEqual(Array.from(r.rewards), [1, 0.5, 0]);
  t.deepEqual(r.infos[0], { end: 'right' });
  // Step 2: sub-env 0 is reset (its action ignored), the others step.
  r = vec.step(Int32Array.of(LEFT, RIGHT, LEFT));
  t.deepEqual(row(r.observations, 0), Array.from(secondReset(5)), 'the reset observation');
  t.is(r.rewards[0], 0);
  t.deepEqual([r.terminations[0], r.truncations[0]], [0, 0]);
  t.deepEqual(Object.keys(r.infos[0]!), ['start'], 'the reset info');
  t.deepEqual(Array.from(r.terminations), [0, 1, 0]);
  t.deepEqual(row(r.observations, 2), [-1, -1]);
  // Step 3: sub-env 1 is reset; sub-env 0 steps again from its new start.
  r = vec.step(Int32Array.of(STAY, RIGHT, RIGHT));
  t.deepEqual(row(r.observations, 1), Array.from(secondReset(6)));
  t.is(r.rewards[1], 0);
  t.deepEqual(row(r.observations, 0), [secondReset(5)[0]!, 0]);
  t.deepEqual(row(r.observations, 2), [0, 1]);
}

test('next-step autoreset (default): the step after the end resets, ignoring the action, with reward 0', (t) => {
  const vec = toyVec('sync', 'next-step');
  checkNextStep(t, vec);
  vec.close();
});

function checkSameStep(
  t: import('ava').ExecutionContext,
  vec: VectorEnv<Float32Array, number>,
): void {
  vec.reset({ seed: 5, options: { start: 1 } });
  let r = vec.step(Int32Array.of(RIGHT, STAY, LEFT));
  t.deepEqual(Array.from(r.terminations), [1, 0, 0]);
  t.is(r.rewards[0], 1, 'the reward of the ending step');
  t.deepEqual(
    row(r.observations, 0),
    Array.from(secondReset(5)),
    'the reset observation, on the same step',
  );
  t.deepEqual(r.infos[0]!['finalObservation'], Float32Array.of(2, 1));
  t.deepEqual(r.infos[0]!['finalInfo'], { end: 'right' });
  t.is(typeof r.infos[0]!['start'], 'number', 'the reset info is there too');
  t.deepEqual(r.infos[1], {});
  r = vec.step(Int32Array.of(STAY, RIGHT, STAY));
  t.deepEqual(row(r.observations, 0), [secondReset(5)[0]!, 0], 'sub-env 0 stepped normally');
  t.deepEqual(Array.from(r.terminations), [0, 1, 0]);
  t.deepEqual(r.infos[1]!['finalObservation'], Float32Array.of(2, 1));
}

test('same-step autoreset: the ending step resets at once and puts the final observation and info in info', (t) => {
  const vec = toyVec('sync', 'same-step');
  t.is(vec.metadata.autoresetMode, 'same-step');
  checkSameStep(t, vec);
  vec.close();
});

test('a time limit shows as a truncation and is reset like a termination', (t) => {
  const vec = makeVec<Float32Array, number>(TOY_WALK_ID, 2, { noise: 0, maxEpisodeSteps: 2 });
  vec.reset({ seed: 0 });
  t.deepEqual(Array.from(vec.step(Int32Array.of(STAY, STAY)).truncations), [0, 0]);
  const end = vec.step(Int32Array.of(STAY, STAY));
  t.deepEqual(Array.from(end.truncations), [1, 1]);
  t.deepEqual(Array.from(end.terminations), [0, 0]);
  const after = vec.step(Int32Array.of(STAY, STAY));
  t.deepEqual(Array.from(after.rewards), [0, 0]);
  t.deepEqual(Array.from(after.truncations), [0, 0]);
  vec.close();
});

test('a batch with an action outside the space throws InvalidActionError before any sub-env steps', (t) => {
  const vec = toyVec('sync', 'next-step');
  vec.reset({ seed: 0 });
  const before = JSON.stringify(vec.getState());
  t.throws(() => vec.step(Int32Array.of(RIGHT, 3, LEFT)), {
    instanceOf: InvalidActionError,
    message: /actions for SyncVectorEnv.*element 1 \(3\) is outside 0\.\.2/,
  });
  t.throws(() => vec.step([0, 1, 2] as never), {
    instanceOf: InvalidActionError,
    message: /Int32Array/,
  });
  t.is(JSON.stringify(vec.getState()), before);
  vec.close();
});

test('step before reset and calls after close throw typed errors; close is idempotent', (t) => {
  const vec = toyVec('sync', 'next-step');
  t.throws(() => vec.step(Int32Array.of(1, 1, 1)), { instanceOf: ResetNeededError });
  vec.close();
  t.notThrows(() => vec.close());
  t.true(vec.closed);
  t.throws(() => vec.reset(), {
    instanceOf: ClosedEnvError,
    message: /Cannot call reset\(\) on SyncVectorEnv/,
  });
});

test('SyncVectorEnv takes factories of any environment and refuses mismatched spaces', (t) => {
  const vec = new SyncVectorEnv([
    () => new ToyWalkEnv({ noise: 0 }),
    () => new ToyWalkEnv({ noise: 0 }),
  ]);
  t.is(vec.numEnvs, 2);
  t.throws(() => new SyncVectorEnv([() => new ToyWalkEnv(), () => new ToyWalkEnv({ goal: 5 })]), {
    instanceOf: InvalidOptionError,
    message: /sub-environment 1 of SyncVectorEnv/,
  });
  t.throws(() => new SyncVectorEnv([]), { instanceOf: InvalidOptionError });
  t.throws(() => new SyncVectorEnv([() => 3 as unknown as Env]), {
    instanceOf: InvalidOptionError,
  });
  t.throws(
    () => new SyncVectorEnv({ id: TOY_WALK_ID, n: 2 }, { autoresetMode: 'later' as never }),
    { instanceOf: InvalidOptionError, message: /"next-step" or "same-step"/ },
  );
  t.throws(() => makeVec(TOY_WALK_ID, 2, { workers: 2 }), {
    instanceOf: InvalidOptionError,
    message: /AsyncVectorEnv option/,
  });
  t.throws(() => makeVec(TOY_WALK_ID, 2, { mode: 'threads' as never }), {
    instanceOf: InvalidOptionError,
  });
  t.throws(() => makeVec('ToyWlak-v0', 2), { instanceOf: EnvNotFoundError });
});

test('call reaches a method or property through the wrappers; render gives one frame per sub-env', (t) => {
  const vec = makeVec(TOY_WALK_ID, 2, { renderMode: 'ansi' });
  vec.reset({ seed: 1 });
  t.deepEqual(vec.call('commands'), [
    ['left', 'stay', 'right'],
    ['left', 'stay', 'right'],
  ]);
  t.deepEqual(vec.call('goal'), [3, 3]);
  t.deepEqual(vec.call('parseCommand', 'right'), [2, 2]);
  t.true(vec.render().every((frame) => typeof frame === 'string' && frame.includes('o')));
  t.throws(() => vec.call('fly'), { instanceOf: InvalidOptionError, message: /"fly"/ });
  vec.close();
});

test('getState/setState of a SyncVectorEnv restores every sub-env and the pending autoresets', (t) => {
  const vec = toyVec('sync', 'next-step');
  vec.reset({ seed: 2, options: { start: 1 } });
  vec.step(Int32Array.of(RIGHT, STAY, STAY)); // sub-env 0 ended: its reset is pending
  const snapshot = JSON.parse(JSON.stringify(vec.getState())) as JsonValue;
  const rng = new Rng(0);
  const actions = Array.from({ length: 6 }, () => vec.actionSpace.sample(rng));
  const play = (): VectorStepResult<Float32Array>[] => actions.map((a) => vec.step(a));
  const first = play();
  vec.setState(snapshot);
  t.deepEqual(play(), first);
  t.throws(() => vec.setState({ numEnvs: 2 }), {
    instanceOf: InvalidStateError,
    message: /numEnvs: 3/,
  });
  const broken = JSON.parse(JSON.stringify(snapshot)) as { envs: JsonValue[] };
  broken.envs[2] = { garbage: true };
  const before = JSON.stringify(vec.getState());
  t.throws(() => vec.setState(broken as unknown as JsonValue), { instanceOf: InvalidStateError });
  t.is(JSON.stringify(vec.getState()), before, 'a rejected snapshot changes nothing');
  vec.close();
});

// ---- AsyncVectorEnv --------------------------------------------------------------------------

test('AsyncVectorEnv follows next-step autoreset exactly as SyncVectorEnv does', (t) => {
  const vec = toyVec('async', 'next-step');
  t.true(vec instanceof AsyncVectorEnv);
  t.is((vec as unknown as AsyncVectorEnv).numWorkers, 2);
  checkNextStep(t, vec);
  vec.close();
});

test('AsyncVectorEnv follows same-step autoreset, final observation and info crossing threads', (t) => {
  const vec = toyVec('async', 'same-step');
  checkSameStep(t, vec);
  vec.close();
});

function rollout(vec: VectorEnv<Float32Array, number>, steps: number): unknown[] {
  const rng = new Rng(11);
  const out: unknown[] = [vec.reset({ seed: 100 })];
  for (let k = 0; k < steps; k++) out.push(vec.step(vec.actionSpace.sample(rng)));
  return out;
}

for (const autoresetMode of ['next-step', 'same-step'] as const) {
  test(`sync and async CartPole-v1 give identical trajectories for the same seeds (${autoresetMode})`, (t) => {
    const sync = makeVec<Float32Array, number>('CartPole-v1', 4, { autoresetMode });
    const async = makeVec<Float32Array, number>('CartPole-v1', 4, {
      mode: 'async',
      workers: 2,
      autoresetMode,
    });
    const a = rollout(sync, 150);
    const b = rollout(async, 150);
    const ended = (a.slice(1) as VectorStepResult<Float32Array>[]).filter((r) =>
      r.terminations.some((x) => x === 1),
    );
    t.true(ended.length > 3, 'episodes ended along the way');
    t.deepEqual(b, a);
    sync.close();
    async.close();
  });
}

test('AsyncVectorEnv re-throws a worker error as the same wmgym error class with the same message', (t) => {
  const message =
    /Invalid option options\.goal of ToyWalkEnv: expected a finite number > 0, received -1/;
  t.throws(() => makeVec(TOY_WALK_ID, 2, { goal: -1 }), {
    instanceOf: InvalidOptionError,
    message,
  });
  t.throws(() => makeVec(TOY_WALK_ID, 2, { mode: 'async', modules: [TOY_MODULE], goal: -1 }), {
    instanceOf: InvalidOptionError,
    message,
  });
  t.throws(() => makeVec(TOY_WALK_ID, 2, { mode: 'async' }), {
    instanceOf: EnvNotFoundError,
    message: /No environment "wmgym-test\/ToyWalk-v0"/,
  });

  const vec = toyVec('async', 'next-step');
  vec.reset({ seed: 0 });
  const error = t.throws(() => vec.call('parseCommand', 'fly away'), {
    instanceOf: CommandParseError,
    message:
      /Unknown command for wmgym-test\/ToyWalk-v0: expected "left", "stay" or "right", received "fly away"/,
  });
  t.is(error.code, 'COMMAND_PARSE');
  t.is(error.text, 'fly away');
  t.regex(error.stack ?? '', /worker \d of AsyncVectorEnv/);
  const broken = vec.getState() as { envs: JsonValue[] };
  broken.envs[1] = { nonsense: 1 };
  t.throws(() => vec.setState(broken as unknown as JsonValue), { instanceOf: InvalidStateError });
  t.throws(() => vec.step(Int32Array.of(0, 5, 0)), { instanceOf: InvalidActionError });
  t.throws(() => vec.reset({ options: { start: () => 1 } }), {
    instanceOf: InvalidOptionError,
    message: /reset\(\{options\}\) of an AsyncVectorEnv.*structured-cloneable/,
  });
  t.notThrows(() => vec.step(Int32Array.of(0, 1, 2)), 'still usable after the errors');
  vec.close();
});

test('AsyncVectorEnv snapshots are interchangeable with SyncVectorEnv ones', (t) => {
  const sync = toyVec('sync', 'next-step');
  const async = toyVec('async', 'next-step');
  sync.reset({ seed: 9, options: { start: 1 } });
  sync.step(Int32Array.of(RIGHT, LEFT, STAY));
  async.setState(sync.getState());
  t.deepEqual(async.getState(), sync.getState());
  const actions = Int32Array.of(STAY, RIGHT, LEFT);
  t.deepEqual(async.step(actions), sync.step(actions));
  sync.close();
  async.close();
});

test('stepAsync/stepWait split a step; out-of-order calls throw AsyncCallError', (t) => {
  const vec = toyVec('async', 'next-step') as unknown as AsyncVectorEnv<Float32Array, number>;
  t.throws(() => vec.stepWait(), {
    instanceOf: AsyncCallError,
    message: /expected a pending stepAsync\(\), received none/,
  });
  vec.reset({ seed: 0 });
  vec.stepAsync(Int32Array.of(RIGHT, RIGHT, RIGHT));
  t.throws(() => vec.step(Int32Array.of(0, 0, 0)), {
    instanceOf: AsyncCallError,
    message: /while stepAsync\(\) is pending/,
  });
  const result = vec.stepWait();
  t.is(result.rewards.length, 3);
  vec.close();
});

test('AsyncVectorEnv sends Dict observations and Box actions between threads', (t) => {
  const options = { actions: 'box', observation: 'dict', noise: 0, goal: 5 } as const;
  const sync = makeVec<ToyWalkObservation, Float32Array>(TOY_WALK_ID, 3, options);
  const async = makeVec<ToyWalkObservation, Float32Array>(TOY_WALK_ID, 3, {
    ...options,
    mode: 'async',
    modules: [TOY_MODULE],
    workers: 3,
  });
  t.deepEqual(async.reset({ seed: 1 }), sync.reset({ seed: 1 }));
  const actions = Float32Array.of(0.5, -1, 0.25);
  const result = async.step(actions);
  t.deepEqual(result, sync.step(actions));
  t.true(async.observationSpace.contains(result.observations));
  t.true(Array.isArray(result.observations) && result.observations.length === 3);
  sync.close();
  async.close();
});

test('AsyncVectorEnv close is idempotent and every worker thread exits', async (t) => {
  const vec = toyVec('async', 'next-step') as unknown as AsyncVectorEnv<Float32Array, number>;
  vec.reset({ seed: 0 });
  vec.close();
  vec.close();
  t.true(vec.closed);
  t.throws(() => vec.step(Int32Array.of(1, 1, 1)), { instanceOf: ClosedEnvError });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>(
    (resolve) => (timer = setTimeout(() => resolve('timed out'), 10_000)),
  );
  t.is(await Promise.race([vec.exited.then(() => 'exited'), timeout]), 'exited');
  clearTimeout(timer);
});

test('AsyncVectorEnv refuses bad options before starting workers', (t) => {
  t.throws(() => new AsyncVectorEnv({ id: TOY_WALK_ID, n: 2 }, { workers: 3 }), {
    instanceOf: InvalidOptionError,
    message: /integer in 1\.\.2/,
  });
  t.throws(() => new AsyncVectorEnv({ id: TOY_WALK_ID, n: 0 }), {
    instanceOf: InvalidOptionError,
    message: /n: expected a positive integer/,
  });
  t.throws(
    () =>
      new AsyncVectorEnv(
        { id: TOY_WALK_ID, n: 1, makeOptions: { f: () => 1 } },
        { modules: [TOY_MODULE] },
      ),
    {
      instanceOf: InvalidOptionError,
      message: /structured-cloneable/,
    },
  );
  t.throws(() => new AsyncVectorEnv({ id: TOY_WALK_ID, n: 1 }, { timeoutMs: 0 }), {
    instanceOf: InvalidOptionError,
  });
});

for (const mode of ['sync', 'async'] as const) {
  test(`textView(i) of ${mode === 'async' ? 'an AsyncVectorEnv' : 'a SyncVectorEnv'} is sub-env i's live TextView, its parse errors typed`, (t) => {
    const vec = makeVec(
      'GridNav-Empty-Random-8x8-v0',
      3,
      mode === 'async' ? { mode, workers: 2 } : {},
    );
    t.teardown(() => vec.close());
    vec.reset({ seed: 40 });
    const singles = [0, 1, 2].map((i) => {
      const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
      env.reset({ seed: 40 + i });
      return env;
    });
    const views = [0, 1, 2].map((i) => vec.textView(i));
    views.forEach((view, i) => {
      t.is(view.describe(), singles[i]!.describe(), `describe of sub-env ${i}`);
      t.deepEqual(view.commands(), singles[i]!.commands(), `commands of sub-env ${i}`);
    });
    t.not(views[0]!.describe(), views[1]!.describe(), 'each view answers for its own sub-env');
    // Live: after a step the same view describes the new state.
    const action = views[2]!.parseCommand(views[2]!.commands()[0]!) as number;
    t.is(action, singles[2]!.parseCommand(singles[2]!.commands()[0]!));
    vec.step(Int32Array.of(0, 0, action));
    singles[0]!.step(0);
    singles[1]!.step(0);
    singles[2]!.step(action);
    t.is(views[2]!.describe(), singles[2]!.describe());
    t.is(vec.callAt(1, 'describe'), singles[1]!.describe());
    t.throws(
      () => {
        views[1]!.parseCommand('fly to the moon');
      },
      {
        instanceOf: CommandParseError,
        message: /Unknown command for GridNav-Empty-Random-8x8-v0: .*received "fly to the moon"/,
      },
    );
    t.throws(() => vec.textView(3), {
      instanceOf: InvalidOptionError,
      message: /textView\(index\): expected an integer in 0\.\.2, received 3/,
    });
    t.throws(() => vec.callAt(-1, 'describe'), {
      instanceOf: InvalidOptionError,
      message: /callAt\(index\): expected an integer in 0\.\.2, received -1/,
    });
    t.throws(() => vec.callAt(0, 'fly'), { instanceOf: InvalidOptionError, message: /"fly"/ });
  });
}
