import test from 'ava';
import '../../../envs/index.js';
import type { Env, Info } from '../../../envs/core/env.js';
import { InvalidOptionError, MalformedFileError } from '../../../envs/core/errors.js';
import { make } from '../../../envs/core/registry.js';
import { AsyncVectorEnv, SyncVectorEnv, makeVec } from '../../../envs/core/vector.js';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { spacesOf, type ActContext, type ActPhase } from '../../../agents/agent.js';
import { LlmAgent, type LlmOptions } from '../../../agents/llm/llm-agent.js';
import { HttpStatusError, deriveSeed } from '../../../agents/llm/language-model.js';
import { evaluate, train, withoutWallTime } from '../../../agents/loop.js';
import { RandomAgent } from '../../../agents/random.js';
import { initBackend } from '../../../agents/nn/backend.js';
import { KillAt } from '../../helpers/kill-at.js';
import { ScriptedModel, commandsOf, gridNavMove, pendulumMove } from './fake-model.js';
import { metricLines, tempRunDir } from '../../helpers/run-dir.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const tempDir = (t: { teardown(f: () => void): void }): string => tempRunDir(t, 'llm');

function lines(runDir: string): Record<string, unknown>[] {
  return metricLines(runDir);
}

/** The context the loop would pass for `env` in the state of `info` (for driving act by hand). */
function contextFor(
  env: Env,
  info: Info,
  episodeStep: number,
  phase: ActPhase = 'evaluate',
): ActContext {
  const max = env.spec?.maxEpisodeSteps ?? null;
  return {
    textView: env,
    info,
    envId: env.spec?.id ?? 'unknown',
    description: env.spec?.description ?? '',
    phase,
    episodeStep,
    stepsLeft: max === null ? null : max - episodeStep,
    maxEpisodeSteps: max,
    autoreset: false,
  };
}

const walkthroughOf = (env: Env): string => {
  const game = env.unwrapped;
  if (!(game instanceof TextWorldEnv)) throw new Error('not a TextWorld env');
  const plan = game.walkthrough();
  if (plan === null || plan.length === 0) throw new Error('no walkthrough');
  return plan[0]!;
};

const garbage = (): string => 'Hmm, that is a hard one. Let me think about the colours.';

// ---- full episodes ----------------------------------------------------------------------------

test('plays TextWorld to the win through evaluate() when the model answers the walkthrough', async (t) => {
  const env = make('TextWorld-Treasure-L5-v0');
  const model = new ScriptedModel('walkthrough', { reply: () => `Action: ${walkthroughOf(env)}` });
  const agent = LlmAgent.create(spacesOf(env), { model, seed: 3 });
  const result = await evaluate(agent, env, { episodes: 3, seed: 21 });
  t.deepEqual(result.successes, [true, true, true]);
  t.true(result.meanReturn > 0);
  const metrics = result.episodeMetrics!;
  t.is(metrics.length, 3);
  metrics.forEach((m, i) => {
    t.is(m['llm/steps'], result.lengths[i]);
    t.is(m['llm/calls'], result.lengths[i]);
    t.is(m['llm/latency_ms'], 7 * result.lengths[i]!);
    t.is(m['llm/invalid_actions'], 0);
    t.is(m['llm/retries'], 0);
    t.true(m['llm/prompt_tokens']! > 0 && m['llm/completion_tokens']! >= 2 * result.lengths[i]!);
  });
  t.is(
    model.requests.length,
    result.lengths.reduce((a, b) => a + b, 0),
  );
  // The second prompt of an episode shows the first command and the game's answer to it.
  const second = model.requests[1]!.messages[0]!.content;
  t.regex(second, /History:\n> \S.*\n.+/);
  t.regex(second, /^Environment: TextWorld-Treasure-L5-v0\nTask: Treasure Hunter level 5/);
  t.regex(second, /Steps taken: 1\. Steps left: \d+ of \d+\./);
  t.deepEqual(model.requests[0]!.stop, ['\n']);
});

test('plays GridNav through train(): episodes reach the goal, metrics are on the run lines', async (t) => {
  const runDir = tempDir(t);
  const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
  const model = new ScriptedModel('oracle', {
    reply: ({ prompt }) => `I will ${gridNavMove(prompt)}.`,
  });
  const agent = LlmAgent.create(spacesOf(env), { model, seed: 5 });
  const result = await train(agent, env, {
    steps: 90,
    seed: 30,
    logEvery: 45,
    evalEvery: 45,
    evalEpisodes: 2,
    evalEnv: () => make<Float32Array, number>('GridNav-Empty-Random-8x8-v0'),
    runDir,
  });
  t.is(result.envSteps, 90);
  const all = lines(runDir);
  const episodes = all.filter((l) => l['kind'] === 'episode');
  t.true(episodes.length >= 5);
  for (const e of episodes) {
    t.true((e['charts/episodic_return'] as number) > 0.8, 'reached the goal quickly');
    t.is(e['llm/calls'], e['charts/episodic_length']);
    t.is(e['llm/invalid_actions'], 0);
  }
  const trainLines = all.filter((l) => l['kind'] === 'train');
  t.is(trainLines.length, 2);
  t.is(
    trainLines.reduce((n, l) => n + (l['llm/steps'] as number), 0),
    90,
  );
  for (const l of trainLines) t.is(l['llm/calls'], l['llm/steps']);
  const evals = all.filter((l) => l['kind'] === 'eval');
  t.is(evals.length, 2);
  for (const e of evals) {
    t.true((e['eval/mean_return'] as number) > 0.8);
    t.is(e['eval/llm/calls'], e['eval/mean_length']);
    t.is(e['eval/llm/invalid_actions'], 0);
  }
  // The task line is the env's mission; the step budget is the TimeLimit's.
  const prompt = model.requests[0]!.messages[0]!.content;
  t.regex(prompt, /Task: get to the green goal square\nSteps taken: 0\. Steps left: 256 of 256\./);
});

test('plays Pendulum from torque commands parsed from the reply; garbage replies fall back to random torques', async (t) => {
  const oracle = new ScriptedModel('oracle', { reply: ({ prompt }) => pendulumMove(prompt) });
  const env = make('Pendulum-v1');
  const good = await evaluate(LlmAgent.create(spacesOf(env), { model: oracle }), env, {
    episodes: 2,
    seed: 11,
  });
  t.true(good.meanReturn > -400, `swung up and held: ${good.meanReturn}`);
  t.deepEqual(
    good.episodeMetrics!.map((m) => m['llm/invalid_actions']),
    [0, 0],
  );
  t.regex(
    oracle.requests[0]!.messages[0]!.content,
    /- torque <-2\.\.2>\n\nReply with exactly one admissible command\.\nIn a command of the form <low\.\.high>, write a number in that range\.\nAction:$/,
  );

  const babbler = new ScriptedModel('garbage', { reply: garbage });
  const bad = await evaluate(
    LlmAgent.create(spacesOf(env), { model: babbler, maxRetries: 1 }),
    make('Pendulum-v1'),
    { episodes: 2, seed: 11 },
  );
  t.true(bad.meanReturn < good.meanReturn - 400, `random torques: ${bad.meanReturn}`);
  for (const m of bad.episodeMetrics!) {
    t.is(m['llm/steps'], 200);
    t.is(m['llm/calls'], 400);
    t.is(m['llm/retries'], 200);
    t.is(m['llm/parse_failures'], 400);
    t.is(m['llm/invalid_actions'], 200);
  }
});

// ---- retries and the random fallback ------------------------------------------------------------

test('an unusable reply is answered with the parse error and asked again; seeds come from the step', async (t) => {
  const env = make<Uint8Array, number>('TextWorld-Treasure-L12-v0');
  const { observation, info } = env.reset({ seed: 7 });
  const replies = ['asdf', 'go west', 'Sure. Action: go down'];
  const model = new ScriptedModel('retry', { reply: ({ attempt }) => replies[attempt]! });
  const agent = LlmAgent.create(spacesOf(env), { model, seed: 9, maxRetries: 2 });
  const action = await agent.act(observation, {
    actionMask: info['actionMask'] as Uint8Array,
    context: contextFor(env, info, 0),
  });
  t.is(action, env.parseCommand('go down'));
  t.is(model.requests.length, 3);
  const [first, second, third] = model.requests;
  t.is(first!.messages.length, 1);
  t.deepEqual(
    second!.messages.map((m) => m.role),
    ['user', 'assistant', 'user'],
  );
  t.is(second!.messages[1]!.content, 'asdf');
  t.regex(
    second!.messages[2]!.content,
    /^Your reply "asdf" could not be used: Unknown command for TextWorld-Treasure-L12-v0: .*received "asdf"/,
  );
  t.regex(
    third!.messages[4]!.content,
    /"go west" is not admissible now \(admissible: examine red sideboard, go down, go up, inventory, look\)/,
  );
  t.deepEqual(
    model.requests.map((r) => r.seed),
    [0, 1, 2].map((attempt) =>
      deriveSeed(9, 'TextWorld-Treasure-L12-v0', 'evaluate', 0, 0, 0, attempt),
    ),
  );
  const m = agent.episodeMetrics(0, 'evaluate');
  t.like(m, {
    'llm/steps': 1,
    'llm/calls': 3,
    'llm/retries': 2,
    'llm/parse_failures': 2,
    'llm/invalid_actions': 0,
  });
  t.deepEqual(agent.metrics(), {}, 'evaluation steps are not in the train metrics');
});

test('after maxRetries unusable replies a seeded random admissible command is taken and counted', async (t) => {
  const env = make<Uint8Array, number>('TextWorld-Treasure-L12-v0');
  const { observation, info } = env.reset({ seed: 7 });
  const mask = info['actionMask'] as Uint8Array;
  const pick = async (
    seed: number,
  ): Promise<{ action: number; model: ScriptedModel; agent: LlmAgent<unknown, number> }> => {
    // An empty answer (MalformedAnswerError) first, then babble.
    const model = new ScriptedModel('babble', {
      reply: ({ attempt }) => (attempt === 0 ? null : garbage()),
    });
    const agent = LlmAgent.create<unknown, number>(spacesOf(env) as never, {
      model,
      seed,
      maxRetries: 2,
    });
    const action = await agent.act(observation, {
      actionMask: mask,
      context: contextFor(env, info, 0, 'train'),
    });
    return { action, model, agent };
  };
  const a = await pick(4);
  t.is(mask[a.action], 1, 'the random command is admissible');
  t.is(a.model.requests.length, 3);
  t.deepEqual(
    a.model.requests[1]!.messages.map((m) => m.role),
    ['user', 'user'],
    'an empty reply is not echoed back',
  );
  t.regex(a.model.requests[1]!.messages[1]!.content, /^Your reply was empty\./);
  t.like(a.agent.metrics(), {
    'llm/steps': 1,
    'llm/calls': 3,
    'llm/retries': 2,
    'llm/parse_failures': 3,
    'llm/invalid_actions': 1,
    'llm/latency_ms': 14,
  });
  const b = await pick(4);
  t.is(b.action, a.action, 'the same seed draws the same command');
  const draws = new Set<number>();
  for (let seed = 10; seed < 30; seed++) draws.add((await pick(seed)).action);
  t.true(draws.size > 1, 'other seeds draw other commands');
  for (const d of draws) t.is(mask[d], 1);
});

test('an error of the model other than an unusable answer is not hidden', async (t) => {
  const env = make<Uint8Array, number>('TextWorld-Treasure-L12-v0');
  const { observation, info } = env.reset({ seed: 7 });
  const model = new ScriptedModel('down', {
    reply: () => {
      throw new HttpStatusError('scripted', 'http://localhost:1', 'down', 503, 'unavailable');
    },
  });
  const agent = LlmAgent.create(spacesOf(env), { model });
  await t.throwsAsync(agent.act(observation, { context: contextFor(env, info, 0) }), {
    instanceOf: HttpStatusError,
    message: /HTTP 503/,
  });
});

// ---- rank mode ------------------------------------------------------------------------------------

const RANK_SCORES: Record<string, { logProb: number; tokens: number }> = {
  ' look': { logProb: -1.5, tokens: 1 },
  ' go down': { logProb: -2, tokens: 2 },
  ' examine red sideboard': { logProb: -2.5, tokens: 5 },
  ' go up': { logProb: -4, tokens: 2 },
  ' inventory': { logProb: -3, tokens: 1 },
};

test('rank mode takes the highest-scoring admissible command in one score call; length normalisation changes the pick', async (t) => {
  const env = make<Uint8Array, number>('TextWorld-Treasure-L12-v0');
  const { observation, info } = env.reset({ seed: 7 });
  const picks: Record<string, number> = {};
  for (const lengthNormalise of [true, false]) {
    const model = new ScriptedModel('ranker', {
      score: (_prompt, continuation) => RANK_SCORES[continuation] ?? { logProb: -50, tokens: 1 },
    });
    const agent = LlmAgent.create(spacesOf(env), { model, mode: 'rank', lengthNormalise });
    picks[String(lengthNormalise)] = (await agent.act(observation, {
      actionMask: info['actionMask'] as Uint8Array,
      context: contextFor(env, info, 0, 'train'),
    })) as number;
    t.is(model.scoreRequests.length, 1);
    t.is(model.requests.length, 0);
    t.deepEqual(model.scoreRequests[0]!.continuations, [
      ' examine red sideboard',
      ' go down',
      ' go up',
      ' inventory',
      ' look',
    ]);
    t.true(model.scoreRequests[0]!.prompt.endsWith('\nAction:'));
    const m = agent.metrics();
    t.is(m['llm/calls'], 1);
    t.is(m['llm/scored_tokens'], 11);
    t.is(typeof m['time/llm_latency_ms'], 'number');
  }
  t.is(picks['true'], env.parseCommand('examine red sideboard'), '-0.5 per token is the best');
  t.is(picks['false'], env.parseCommand('look'), '-1.5 in total is the best');
});

test('rank mode in train(): one score call per step, its measured latency only under time/', async (t) => {
  const run = async (runDir: string): Promise<ScriptedModel> => {
    const model = new ScriptedModel('ranker', {
      score: (_prompt, continuation) => RANK_SCORES[continuation] ?? { logProb: -9, tokens: 3 },
    });
    const env = make<Uint8Array, number>('TextWorld-Treasure-L12-v0');
    const agent = LlmAgent.create(spacesOf(env), { model, mode: 'rank' });
    await train(agent, env, {
      steps: 20,
      seed: 7,
      logEvery: 10,
      evalEvery: 10,
      evalEpisodes: 1,
      evalEnv: () => make('TextWorld-Treasure-L12-v0', { maxEpisodeSteps: 5 }),
      runDir,
    });
    return model;
  };
  const [a, b] = [tempDir(t), tempDir(t)];
  const model = await run(a);
  await run(b);
  t.is(model.scoreRequests.length, 20 + 2 * 5);
  t.deepEqual(lines(a).map(withoutWallTime), lines(b).map(withoutWallTime));
  const evalLine = lines(a).find((l) => l['kind'] === 'eval')!;
  t.is(evalLine['eval/llm/calls'], 5);
  t.is(typeof evalLine['time/eval/llm_latency_ms'], 'number');
  t.false('eval/time/llm_latency_ms' in evalLine);
  const trainLine = lines(a).find((l) => l['kind'] === 'train')!;
  t.like(trainLine, { 'llm/steps': 10, 'llm/calls': 10, 'llm/invalid_actions': 0 });
  t.false('llm/prompt_tokens' in trainLine, 'rank mode reports what it measures');
});

test('rank mode refuses a model without score, ReAct, and a continuous action space without candidates', (t) => {
  const env = make('Pendulum-v1');
  t.throws(
    () =>
      LlmAgent.create(spacesOf(env), {
        model: new ScriptedModel('m', { reply: garbage }),
        mode: 'rank',
        candidates: ['torque 0'],
      }),
    {
      instanceOf: InvalidOptionError,
      message:
        /LlmAgent\.mode: expected "generate" for m \(scripted\), whose capabilities\.score is false, received "rank"/,
    },
  );
  const ranker = new ScriptedModel('r', { score: () => ({ logProb: -1, tokens: 1 }) });
  t.throws(() => LlmAgent.create(spacesOf(env), { model: ranker, mode: 'rank' }), {
    instanceOf: InvalidOptionError,
    message:
      /LlmAgent\.candidates: expected a list of concrete commands to rank .* continuous action space Box/,
  });
  t.throws(
    () =>
      LlmAgent.create(spacesOf(env), {
        model: ranker,
        mode: 'rank',
        react: true,
        candidates: ['torque 0'],
      }),
    { instanceOf: InvalidOptionError, message: /LlmAgent\.react/ },
  );
});

test('rank mode plays Pendulum over a candidate list of torques', async (t) => {
  const torqueOf = (c: string): number => Number(/-?[\d.]+/.exec(c)![0]);
  const model = new ScriptedModel('ranker', {
    score: (prompt, continuation) => ({
      logProb: -((torqueOf(continuation) - torqueOf(pendulumMove(prompt))) ** 2) - 0.01,
      tokens: 2,
    }),
  });
  const env = make('Pendulum-v1');
  const candidates = ['torque -2', 'torque -1', 'torque 0', 'torque 1', 'torque 2'];
  const agent = LlmAgent.create(spacesOf(env), { model, mode: 'rank', candidates });
  const result = await evaluate(agent, env, { episodes: 1, seed: 11 });
  t.true(result.meanReturn > -600, `swung up: ${result.meanReturn}`);
  t.is(model.scoreRequests.length, 200);
  t.deepEqual(
    model.scoreRequests[0]!.continuations,
    candidates.map((c) => ` ${c}`),
  );
});

// ---- vector environments ----------------------------------------------------------------------

for (const mode of ['sync', 'async'] as const) {
  test(`plays every sub-env of ${mode === 'sync' ? 'a SyncVectorEnv (next-step autoreset)' : 'an AsyncVectorEnv (same-step autoreset)'} from its own TextView`, async (t) => {
    const vec =
      mode === 'sync'
        ? new SyncVectorEnv({ id: 'GridNav-Empty-Random-8x8-v0', n: 2 })
        : new AsyncVectorEnv(
            { id: 'GridNav-Empty-Random-8x8-v0', n: 2 },
            { workers: 2, autoresetMode: 'same-step' },
          );
    t.teardown(() => vec.close());
    const runDir = tempDir(t);
    const model = new ScriptedModel('oracle', {
      reply: ({ prompt }) => `Action: ${gridNavMove(prompt)}`,
    });
    const agent = LlmAgent.create(spacesOf(vec), { model, seed: 2 });
    const result = await train(agent, vec, { steps: 60, seed: 50, runDir, logEvery: 1000 });
    t.is(model.requests.length, result.envSteps, 'no question for a step the env ignores');
    const episodes = lines(runDir).filter((l) => l['kind'] === 'episode');
    t.true(episodes.length >= 4);
    t.deepEqual([...new Set(episodes.map((e) => e['env_index'] as number))].sort(), [0, 1]);
    for (const e of episodes) {
      t.true((e['charts/episodic_return'] as number) > 0.8);
      t.is(e['llm/calls'], e['charts/episodic_length']);
    }
    // Each prompt lists the commands of its own sub-environment: every answer was admissible.
    for (const r of model.requests) {
      const prompt = r.messages[0]!.content;
      t.true(commandsOf(prompt).includes(gridNavMove(prompt)));
    }
    t.is(
      lines(runDir)
        .filter((l) => l['kind'] === 'train')
        .at(-1)!['llm/invalid_actions'],
      0,
    );
  });
}

// ---- checkpoints --------------------------------------------------------------------------------

test('a killed run resumes from its checkpoint asking exactly what the uninterrupted run asked', async (t) => {
  const options = { steps: 60, seed: 8, checkpointEvery: 20, logEvery: 30 };
  const run = async (runDir: string, kill: boolean, resume = false): Promise<ScriptedModel> => {
    const env = make('TextWorld-Coins-L10-v0');
    const model = new ScriptedModel('walk', { reply: () => walkthroughOf(env) });
    const agent = LlmAgent.create(spacesOf(env), { model, seed: 6, historyLength: 4 });
    const go = train(agent, env, {
      ...options,
      runDir,
      resume,
      ...(kill ? { callbacks: [new KillAt(30)] } : {}),
    });
    if (kill) await t.throwsAsync(go, { message: /killed at 30/ });
    else await go;
    return model;
  };
  const whole = tempDir(t);
  const wholeModel = await run(whole, false);
  const killed = tempDir(t);
  await run(killed, true);
  const resumedModel = await run(killed, false, true);
  t.deepEqual(lines(killed).map(withoutWallTime), lines(whole).map(withoutWallTime));
  t.deepEqual(resumedModel.requests, wholeModel.requests.slice(20));
  t.true(
    wholeModel.requests.some((r) =>
      /\[\d+ earlier turns? not shown\]/.test(r.messages[0]!.content),
    ),
    'the history was truncated along the way',
  );
});

test("load refuses another agent's checkpoint with a typed error", async (t) => {
  const dir = tempDir(t);
  const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
  await RandomAgent.create(spacesOf(env)).save(dir);
  const agent = LlmAgent.create(spacesOf(env), {
    model: new ScriptedModel('m', { reply: garbage }),
  });
  await t.throwsAsync(agent.load(dir), {
    instanceOf: MalformedFileError,
    message: /expected a saved llm agent, received "random"/,
  });
});

// ---- options and misuse ---------------------------------------------------------------------------

test('ReAct mode asks for a thought, stops nowhere, and reads the action line', async (t) => {
  const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
  const model = new ScriptedModel('react', {
    reply: ({ prompt }) => `Thought: The goal is that way.\nAction: ${gridNavMove(prompt)}`,
  });
  const agent = LlmAgent.create(spacesOf(env), { model, react: true });
  t.like(agent.config, {
    react: true,
    maxTokens: 256,
    stop: [],
    provider: 'scripted',
    model: 'react',
  });
  const result = await evaluate(agent, env, { episodes: 1, seed: 12 });
  t.true(result.meanReturn > 0.8);
  t.regex(model.requests[0]!.messages[0]!.content, /\nThought:$/);
  t.deepEqual(model.requests[0]!.stop, []);
  t.is(model.requests[0]!.maxTokens, 256);
});

test('two agents with the same config ask the same questions with the same seeds', async (t) => {
  const ask = async (): Promise<ScriptedModel> => {
    const model = new ScriptedModel('oracle', { reply: ({ prompt }) => gridNavMove(prompt) });
    const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
    await evaluate(LlmAgent.create(spacesOf(env), { model, seed: 17 }), env, {
      episodes: 2,
      seed: 4,
    });
    return model;
  };
  const a = await ask();
  const b = await ask();
  t.deepEqual(a.requests, b.requests);
  const seeds = a.requests.map((r) => r.seed);
  t.is(new Set(seeds).size, seeds.length, 'every step has its own seed');
});

test('create and act refuse bad input with typed errors', async (t) => {
  const env = make<Float32Array, number>('GridNav-Empty-Random-8x8-v0');
  const model = new ScriptedModel('m', { reply: garbage });
  t.throws(() => LlmAgent.create(spacesOf(env), {} as LlmOptions), {
    instanceOf: InvalidOptionError,
    message: /LlmAgent\.model: expected a LanguageModel/,
  });
  t.throws(
    () => LlmAgent.create(spacesOf(env), { model, temprature: 1 } as unknown as LlmOptions),
    {
      instanceOf: InvalidOptionError,
      message: /LlmAgent\.temprature/,
    },
  );
  t.throws(() => LlmAgent.create(spacesOf(env), { model, maxRetries: -1 }), {
    instanceOf: InvalidOptionError,
    message: /LlmAgent\.maxRetries: expected an integer >= 0 and <= 100, received -1/,
  });
  t.throws(() => LlmAgent.create(spacesOf(env), { model, stop: [''] }), {
    instanceOf: InvalidOptionError,
    message: /LlmAgent\.stop/,
  });
  const agent = LlmAgent.create(spacesOf(env), { model });
  const { observation } = env.reset({ seed: 1 });
  await t.throwsAsync(agent.act(observation), {
    instanceOf: InvalidOptionError,
    message: /LlmAgent act options\.context: expected the observation's ActContext/,
  });
  const vec = makeVec('GridNav-Empty-Random-8x8-v0', 2);
  t.teardown(() => vec.close());
  const { infos } = vec.reset({ seed: 1 });
  await t.throwsAsync(
    agent.act(observation, { envIndex: 1, context: contextFor(env, infos[1]!, 0) }),
    { instanceOf: InvalidOptionError, message: /envIndex/ },
  );
});
