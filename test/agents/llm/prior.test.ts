import test from 'ava';
import '../../../envs/index.js';
import {
  EndpointUnreachableError,
  MalformedAnswerError,
  deriveSeed,
  type CompletionRequest,
} from '../../../agents/llm/language-model.js';
import {
  LanguagePrior,
  PRIOR_STOP,
  PRIOR_SYSTEM,
  formatPriorAnswer,
  formatPriorPrompt,
  formatPriorReward,
  parsePriorAnswer,
  priorMessages,
  renderPriorExample,
  stateTextCodec,
  type StateTextCodec,
} from '../../../agents/llm/prior.js';
import { ClassicStateText } from '../../../envs/classic/state-text.js';
import type { Env } from '../../../envs/core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
} from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { Rng } from '../../../envs/core/rng.js';
import { GridNavStateText } from '../../../envs/gridnav/state-text.js';
import { TextWorldStateText } from '../../../envs/textworld/state-text.js';
import { ScriptedModel, TruthModel, readPrompt } from './prior-helpers.js';

// ---- the prior format ---------------------------------------------------------------------------

test('the prompt and the answer follow the documented template', (t) => {
  t.is(
    formatPriorPrompt('x: 0.1000\ny: 2.0000', 'push left'),
    'State:\nx: 0.1000\ny: 2.0000\nCommand: push left\nNext state:',
  );
  t.is(
    formatPriorAnswer({ nextState: 'x: 0.2000', reward: 0.94376, done: false }),
    '\nx: 0.2000\nReward: 0.9438\nDone: no',
  );
  t.deepEqual(priorMessages('a', 'go'), [
    { role: 'system', content: PRIOR_SYSTEM },
    { role: 'user', content: 'State:\na\nCommand: go\nNext state:' },
  ]);
  const example = {
    state: 'a\nb',
    command: 'go north',
    nextState: 'c',
    reward: -16.27361,
    done: true,
  };
  t.is(
    renderPriorExample(example),
    `${PRIOR_SYSTEM}\nState:\na\nb\nCommand: go north\nNext state:\nc\nReward: -16.2736\nDone: yes`,
  );
  t.is(
    renderPriorExample(example, { system: false }),
    'State:\na\nb\nCommand: go north\nNext state:\nc\nReward: -16.2736\nDone: yes',
  );
  t.deepEqual([1, 0, -0, 0.5, 2e-5, -1e-5].map(formatPriorReward), [
    '1',
    '0',
    '0',
    '0.5',
    '0',
    '0',
  ]);
  t.throws(() => formatPriorPrompt('a', 'go\nnorth'), {
    instanceOf: InvalidValueError,
    message: /one non-empty line/,
  });
  t.throws(() => formatPriorReward(NaN), { instanceOf: InvalidValueError });
});

test('a rendered example parses back to its transition', (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const codec = stateTextCodec(env);
  let state = env.reset({ seed: 8 }).observation;
  const rng = new Rng(8);
  for (let k = 0; k < 30; k++) {
    const action = rng.integer(8);
    const step = env.step(action);
    const text = renderPriorExample({
      state: codec.encode(state),
      command: codec.commandText(action),
      nextState: codec.encode(step.observation),
      reward: step.reward,
      done: step.terminated,
    });
    const answer = text.slice(text.indexOf('Next state:') + 'Next state:'.length);
    const parsed = parsePriorAnswer(answer, codec, state);
    t.deepEqual(parsed.nextState, step.observation);
    t.true(Math.abs(parsed.reward - step.reward) <= 5e-5);
    t.is(parsed.done, step.terminated);
    if (step.terminated || step.truncated) break;
    state = step.observation;
  }
});

test('the answer parser accepts a model’s harmless habits', (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const ref = new Float32Array(3);
  const body = 'cos_theta: 1.0000\nsin_theta: 0.0000\ntheta_dot: 0.5000';
  for (const answer of [
    `\n${body}\nReward: -0.25\nDone: no`,
    `${body}\nreward: -2.5e-1\n\nDONE: No.`,
    `\n\nNext state:\n${body}\nReward: -0.25\nDone: no\n\nState:\nmore text the model went on with`,
  ]) {
    const parsed = parsePriorAnswer(answer, codec, ref);
    t.deepEqual(parsed.nextState, Float32Array.of(1, 0, 0.5));
    t.is(parsed.reward, -0.25);
    t.false(parsed.done);
  }
});

test('an answer that does not parse throws StateTextParseError with the answer’s line numbers', (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const ref = new Float32Array(3);
  const body = 'cos_theta: 1\nsin_theta: 0\ntheta_dot: 0';
  const cases: [string, RegExp][] = [
    [
      body,
      /prior answer for Pendulum-v1: expected the next state, then a "Reward: <number>" line and a "Done: yes\|no" line, received .*There is no "Reward:" line/s,
    ],
    [
      `${body}\nReward: lots\nDone: no`,
      /at line 4: expected "Reward: <a finite number>", received "Reward: lots"/,
    ],
    [`${body}\nReward: 1`, /expected "Done: yes" or "Done: no" right after the "Reward:" line/],
    [`${body}\nReward: 1\nDone: maybe`, /at line 5: .*received "Done: maybe"/],
    [
      `\n\ncos_theta: 1\nsin_theta: zero\ntheta_dot: 0\nReward: 1\nDone: no`,
      /prior answer for Pendulum-v1 at line 4: expected a finite float32 number after "sin_theta:", received "sin_theta: zero"/,
    ],
  ];
  for (const [answer, message] of cases)
    t.throws(
      () => parsePriorAnswer(answer, codec, ref),
      { instanceOf: StateTextParseError, message },
      answer,
    );
});

// ---- LanguagePrior ------------------------------------------------------------------------------

interface Row {
  state: Float32Array;
  action: number;
  next: Float32Array;
  reward: number;
  done: boolean;
}

/** Rows of random play on `env`, each state remembered by `model` with its true outcome. */
function recordPlay<A>(
  env: Env<ArrayLike<number>, A>,
  model: TruthModel<ArrayLike<number>, A>,
  seeds: readonly number[],
  steps: number,
  toAction: (a: number) => A,
  actions: number,
): Row[] {
  const rng = new Rng(seeds[0]! + 1);
  const rows: Row[] = [];
  for (const seed of seeds) {
    let state = env.reset({ seed }).observation;
    for (let k = 0; k < steps; k++) {
      model.remember(state);
      const action = rng.integer(actions);
      const step = env.step(toAction(action));
      rows.push({
        state: Float32Array.from(state),
        action,
        next: Float32Array.from(step.observation),
        reward: step.reward,
        done: step.terminated,
      });
      if (step.terminated || step.truncated) break;
      state = step.observation;
    }
  }
  return rows;
}

function batch(
  rows: readonly Row[],
  size: number,
): { states: Float32Array; actions: Float32Array } {
  const states = new Float32Array(rows.length * size);
  rows.forEach((r, i) => states.set(r.state, i * size));
  return { states, actions: Float32Array.from(rows, (r) => r.action) };
}

test('with right answers the prior gives the true next states, rewards and terminations', async (t) => {
  const cases: { id: string; options?: Record<string, unknown>; slots?: boolean }[] = [
    { id: 'CartPole-v1' },
    { id: 'GridNav-DoorKey-5x5-v0' },
    {
      id: 'TextWorld-Quest-k5-v0',
      options: { observation: 'slots', infoFacts: false },
      slots: true,
    },
  ];
  for (const { id, options, slots } of cases) {
    const env = make<ArrayLike<number>, number>(id, options ?? {});
    const codec = stateTextCodec(env);
    const commands = Array.from(
      { length: (env.actionSpace as unknown as { n: number }).n },
      (_, a) => codec.commandText(a),
    );
    const model = new TruthModel(
      env,
      codec,
      slots === true ? (c) => commands.indexOf(c) : undefined,
    );
    const rows = recordPlay(env, model, [11, 250_000], 25, (a) => a, commands.length);
    const prior = LanguagePrior.create({ model, codec, concurrency: 3 });
    const { states, actions } = batch(rows, codec.size);
    const p = await prior.predict(states, actions);
    t.is(prior.counters.failedParses, 0, id);
    const tolerance = codec instanceof ClassicStateText ? 1e-4 : 0;
    rows.forEach((row, r) => {
      for (let j = 0; j < codec.size; j++) {
        const error = Math.abs(p.nextStates[r * codec.size + j]! - row.next[j]!);
        if (error > tolerance)
          t.fail(
            `${id} row ${r} entry ${j}: ${p.nextStates[r * codec.size + j]!} for ${row.next[j]!}`,
          );
      }
      t.true(Math.abs(p.rewards[r]! - row.reward) <= 5e-5);
      t.is(p.doneProbabilities[r], row.done ? 1 : 0);
    });
    t.is(p.probabilities, undefined);
    if (id === 'CartPole-v1')
      t.true(
        rows.some((r) => r.done),
        'a termination was asked about',
      );
  }
});

test('a garbage answer falls back to no change and is counted', async (t) => {
  const env = make<Float32Array, number>('GridNav-DoorKey-5x5-v0');
  const codec = stateTextCodec(env);
  const garbage = new ScriptedModel('garbage', () => 'The agent walks to the door and opens it.');
  const prior = LanguagePrior.create({ model: garbage, codec });
  const states = new Float32Array(3 * codec.size);
  let state = env.reset({ seed: 4 }).observation;
  for (let r = 0; r < 3; r++) {
    states.set(state, r * codec.size);
    state = env.step(r % 2 === 0 ? 2 : 1).observation;
  }
  const p = await prior.predict(states, Float32Array.of(0, 1, 6));
  t.deepEqual(p.nextStates, states);
  t.deepEqual(p.rewards, new Float32Array(3));
  t.deepEqual(p.doneProbabilities, new Float32Array(3));
  const counters = prior.counters;
  t.is(counters.calls, 3);
  t.is(counters.failedParses, 3);
  t.true(counters.promptTokens > 0 && counters.completionTokens > 0);
  t.true(prior.lastParseError instanceof StateTextParseError);
  t.regex(prior.lastParseError!.message, /prior answer for GridNav-DoorKey-5x5-v0/);
});

test('an empty answer counts as a failed parse; a model that cannot be reached throws and is asked again', async (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const empty = new ScriptedModel('empty', () => {
    throw new MalformedAnswerError('scripted', '', 'empty', 'the answer is empty');
  });
  const prior = LanguagePrior.create({ model: empty, codec });
  const state = Float32Array.of(1, 0, 0);
  const p = await prior.predict(state, Float32Array.of(0.5));
  t.deepEqual(p.nextStates, state);
  t.is(prior.counters.failedParses, 1);
  t.true(prior.lastParseError instanceof MalformedAnswerError);

  let up = false;
  const flaky = new ScriptedModel('flaky', (request) => {
    if (!up)
      throw new EndpointUnreachableError(
        'scripted',
        'http://localhost:1',
        'flaky',
        'connection refused',
      );
    return `${readPrompt(request).state}\nReward: -1\nDone: no`;
  });
  const second = LanguagePrior.create({ model: flaky, codec });
  await t.throwsAsync(second.predict(state, Float32Array.of(0.5)), {
    instanceOf: EndpointUnreachableError,
  });
  up = true;
  const again = await second.predict(state, Float32Array.of(0.5));
  t.is(again.rewards[0], -1, 'the failure was not cached');
  t.is(flaky.requests.length, 2);
});

test('repeated (state, action) rows are asked once: in a batch, across calls, and while in flight', async (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const echo = new ScriptedModel(
    'echo',
    (request) => `${readPrompt(request).state}\nReward: 0\nDone: no`,
  );
  const prior = LanguagePrior.create({ model: echo, codec });
  const s = Float32Array.of(1, 0, 0.25, 1, 0, 0.25, 0, 1, -1);
  const a = Float32Array.of(1, 1, 1);
  await prior.predict(s, a);
  t.is(echo.requests.length, 2, 'rows 0 and 1 are the same');
  await prior.predict(s, a);
  t.is(echo.requests.length, 2);
  const [x, y] = await Promise.all([
    prior.predict(s, Float32Array.of(2, 2, 2)),
    prior.predict(s, Float32Array.of(2, 2, 2)),
  ]);
  t.deepEqual(x, y);
  t.is(echo.requests.length, 4);
  t.is(prior.counters.calls, 4);
  t.is(prior.counters.cacheHits, 8);
  await prior.predict(s.subarray(0, 3), Float32Array.of(-1));
  t.is(echo.requests.length, 5, 'another action is another question');
});

test('the cache is bounded and keeps the most recently used rows', async (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const echo = new ScriptedModel(
    'echo',
    (request) => `${readPrompt(request).state}\nReward: 0\nDone: no`,
  );
  const prior = LanguagePrior.create({ model: echo, codec, cacheSize: 2 });
  const row = (v: number): Float32Array => Float32Array.of(1, 0, v);
  const u = Float32Array.of(0);
  await prior.predict(row(1), u);
  await prior.predict(row(2), u);
  await prior.predict(row(1), u); // refreshes row 1
  await prior.predict(row(3), u); // evicts row 2
  t.is(echo.requests.length, 3);
  await prior.predict(row(1), u);
  t.is(echo.requests.length, 3, 'row 1 is kept');
  await prior.predict(row(2), u);
  t.is(echo.requests.length, 4, 'row 2 was evicted');
});

test('requests run concurrently, at most `concurrency` at once', async (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const echo = new ScriptedModel(
    'echo',
    (request) => `${readPrompt(request).state}\nReward: 0\nDone: no`,
  );
  const prior = LanguagePrior.create({ model: echo, codec, concurrency: 3 });
  const n = 20;
  const states = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) states.set([1, 0, r / 10], r * 3);
  const [p] = await Promise.all([
    prior.predict(states, new Float32Array(n)),
    prior.predict(
      states.map((v, i) => (i % 3 === 2 ? -v - 1 : v)),
      new Float32Array(n),
    ),
  ]);
  t.is(echo.requests.length, 2 * n);
  t.is(echo.maxInFlight, 3);
  t.deepEqual(
    p.nextStates,
    states.map((v) => Math.fround(Number(v.toFixed(4)))),
  );
});

test('seeds come from what is asked, not from the order or the clock', async (t) => {
  const codec = stateTextCodec(make('Pendulum-v1'));
  const answer = (request: CompletionRequest): string =>
    `${readPrompt(request).state}\nReward: 0\nDone: no`;
  const first = new ScriptedModel('a', answer);
  const second = new ScriptedModel('b', answer);
  const states = Float32Array.of(1, 0, 0.5, 0, 1, -0.5);
  await LanguagePrior.create({ model: first, codec, seed: 7 }).predict(
    states,
    Float32Array.of(1, -1),
  );
  const swapped = Float32Array.of(...states.subarray(3), ...states.subarray(0, 3));
  await LanguagePrior.create({ model: second, codec, seed: 7 }).predict(
    swapped,
    Float32Array.of(-1, 1),
  );
  const seedOf = (m: ScriptedModel): [string, number][] =>
    m.requests.map((r): [string, number] => [r.messages[1]!.content, r.seed!]).sort();
  t.deepEqual(seedOf(first), seedOf(second));
  const request = first.requests[0]!;
  const { state, command } = readPrompt(request);
  t.is(request.seed, deriveSeed(7, 'language-prior', state, command));
  t.not(first.requests[0]!.seed, first.requests[1]!.seed);
  t.is(request.temperature, 0);
  t.deepEqual(request.stop, PRIOR_STOP);
});

test('stateTextCodec picks the family codec and refuses what it cannot read', (t) => {
  t.true(stateTextCodec(make('Acrobot-v1')) instanceof ClassicStateText);
  t.true(stateTextCodec(make('GridNav-Unlock-v0')) instanceof GridNavStateText);
  t.true(
    stateTextCodec(make('TextWorld-Coins-L3-v0', { observation: 'slots' })) instanceof
      TextWorldStateText,
  );
  t.throws(() => stateTextCodec(make('GridNav-Unlock-v0', { observation: 'egocentric' })), {
    instanceOf: InvalidOptionError,
  });
});

test('bad rows and options are typed errors', async (t) => {
  const codec: StateTextCodec = stateTextCodec(make('Pendulum-v1'));
  const model = new ScriptedModel('echo', () => 'x');
  const prior = LanguagePrior.create({ model, codec });
  await t.throwsAsync(prior.predict(new Float32Array(4), new Float32Array(1)), {
    instanceOf: InvalidValueError,
    message: /expected a Float32Array of N × 3 values/,
  });
  await t.throwsAsync(prior.predict(new Float32Array(6), new Float32Array(3)), {
    instanceOf: InvalidValueError,
    message: /actions for the prior language-model:scripted\/echo/,
  });
  await t.throwsAsync(prior.predict(Float32Array.of(1, NaN, 0), new Float32Array(1)), {
    instanceOf: InvalidValueError,
    message: /sin_theta/,
  });
  t.is(model.requests.length, 0, 'nothing was asked');
  const empty = await prior.predict(new Float32Array(0), new Float32Array(0));
  t.is(empty.nextStates.length, 0);
  for (const [options, message] of [
    [{ concurrency: 0 }, /LanguagePrior concurrency: expected an integer >= 1, received 0/],
    [{ temperature: -1 }, /temperature/],
    [{ cacheSize: 1.5 }, /cacheSize/],
  ] as const)
    t.throws(() => LanguagePrior.create({ model, codec, ...options }), {
      instanceOf: InvalidOptionError,
      message,
    });
  t.throws(() => LanguagePrior.create({ model, codec: {} as StateTextCodec }), {
    instanceOf: InvalidOptionError,
    message: /LanguagePrior codec/,
  });
});
