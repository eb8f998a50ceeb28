/**
 * `npm run bench -- lm <success | prior | speed> [options]`: the figures of wmgym-lm (or of the
 * wmgym-lm saved in the folder `--path` names), on held-out seeds (500,000 on: below the corpus's
 * 1,000,000, and never trained on).
 *
 * - `success`: the pure-LLM agent (`LlmAgent`) on GridNav Task-k5/k10/k20 and TextWorld
 *   Quest-k5/k10/k20, `--tasks N` tasks each (default 100; task i is the episode of seed
 *   500,000 + i), in `--modes rank,generate,random` (default all three; `random` is the baseline
 *   measured in the same run: `RandomAgent`, uniform over the allowed actions); an episode is cut
 *   after 2k steps (the study's k-step tasks; the prompt states that budget). Success rate,
 *   invalid-action rate (random fallbacks per step), seconds.
 * - `prior`: the language prior (`LanguagePrior`) on `--transitions N` random-play transitions per
 *   environment (default 200; held-out seeds): exact match of the whole next state and F1 over the
 *   entries that changed (in the truth or the prediction) for GridNav Task-k10 and TextWorld
 *   Quest-k10 (slot observation); for Pendulum and CartPole the z-scored MSE of the next state
 *   (per-entry standard deviation of the true next states) and its ratio to the "no change"
 *   prediction's; failed parses.
 * - `speed`: generation tokens/s (greedy, 64 tokens after a 200-token prompt) and scoring
 *   tokens/s (10 continuations after the same prompt), median of 5.
 *
 * `--env <id>[,<id>...]` restricts `success` and `prior`. Results are JSON on stdout; progress on
 * stderr.
 */
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import type { Env } from '../../envs/core/env.js';
import { Rng } from '../../envs/core/rng.js';
import { spacesOf } from '../../agents/agent.js';
import { evaluate } from '../../agents/loop.js';
import { initBackend } from '../../agents/nn/backend.js';
import { LlmAgent, type LlmMode } from '../../agents/llm/llm-agent.js';
import { RandomAgent } from '../../agents/random.js';
import { LanguagePrior, stateTextCodec } from '../../agents/llm/prior.js';
import { createLanguageModel, type LanguageModel } from '../../agents/llm/language-model.js';
import '../../agents/llm/providers/index.js';

const HELD_OUT = 500_000;
const TASK_ENVS = [5, 10, 20].flatMap((k) => [
  { id: `GridNav-Task-k${k}-v0`, k },
  { id: `TextWorld-Quest-k${k}-v0`, k },
]);
const PRIOR_ENVS = ['GridNav-Task-k10-v0', 'TextWorld-Quest-k10-v0', 'Pendulum-v1', 'CartPole-v1'];

interface Args {
  part: string;
  tasks: number;
  transitions: number;
  modes: (LlmMode | 'random')[];
  envs: string[];
  path: string | undefined;
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  await initBackend();
  const model = await createLanguageModel(
    args.path === undefined ? { provider: 'local' } : { provider: 'local', path: args.path },
  );
  let result: unknown;
  if (args.part === 'success') result = await success(model, args);
  else if (args.part === 'prior') result = await prior(model, args);
  else result = await speed(model);
  process.stdout.write(
    `${JSON.stringify({ provider: model.provider, model: model.model, [args.part]: result }, null, 2)}\n`,
  );
}

async function success(model: LanguageModel, args: Args): Promise<unknown> {
  const rows = [];
  for (const { id, k } of TASK_ENVS.filter(
    (e) => args.envs.length === 0 || args.envs.includes(e.id),
  )) {
    for (const mode of args.modes) {
      const env = makeEnv(id);
      const agent =
        mode === 'random'
          ? RandomAgent.create(spacesOf(env), { seed: HELD_OUT })
          : LlmAgent.create(spacesOf(env), { model, mode });
      const started = performance.now();
      let solved = 0;
      let steps = 0;
      let invalid = 0;
      for (let i = 0; i < args.tasks; i++) {
        const r = await evaluate(agent, env, {
          episodes: 1,
          seed: HELD_OUT + i,
          maxEpisodeSteps: 2 * k,
        });
        if (r.successRate === 1) solved++;
        const m = r.episodeMetrics?.[0] ?? {};
        steps += m['llm/steps'] ?? 0;
        invalid += m['llm/invalid_actions'] ?? 0;
        if ((i + 1) % 10 === 0)
          process.stderr.write(`  ${id} ${mode}: ${solved}/${i + 1} solved\n`);
      }
      env.close();
      const row = {
        env: id,
        mode,
        tasks: args.tasks,
        seeds: [HELD_OUT, HELD_OUT + args.tasks - 1],
        maxEpisodeSteps: 2 * k,
        successRate: solved / args.tasks,
        invalidActionRate: mode === 'random' ? null : steps === 0 ? 0 : invalid / steps,
        steps,
        seconds: round((performance.now() - started) / 1000),
      };
      process.stderr.write(
        `${id} ${mode}: ${solved}/${args.tasks}, invalid ${row.invalidActionRate === null ? '-' : round(row.invalidActionRate)}\n`,
      );
      rows.push(row);
    }
  }
  return rows;
}

async function prior(model: LanguageModel, args: Args): Promise<unknown> {
  const rows = [];
  for (const id of PRIOR_ENVS.filter((e) => args.envs.length === 0 || args.envs.includes(e))) {
    const env = makeEnv(id);
    const rng = new Rng(HELD_OUT);
    const states: Float32Array[] = [];
    const actions: Float32Array[] = [];
    const nexts: Float32Array[] = [];
    const rewards: number[] = [];
    let seed = HELD_OUT;
    let { observation } = env.reset({ seed });
    // TextWorld's 'slots' codec serves every game of the level; the others have no per-game part.
    const codec = stateTextCodec(env);
    while (states.length < args.transitions) {
      const mask = (env as Env & { actionMask?: () => Uint8Array }).actionMask?.();
      const action =
        mask === undefined ? env.actionSpace.sample(rng) : env.actionSpace.sample(rng, mask);
      const r = env.step(action);
      states.push(Float32Array.from(observation as ArrayLike<number>));
      actions.push(
        typeof action === 'number'
          ? Float32Array.of(action)
          : Float32Array.from(action as ArrayLike<number>),
      );
      nexts.push(Float32Array.from(r.observation as ArrayLike<number>));
      rewards.push(r.reward);
      observation = r.observation;
      if (r.terminated || r.truncated || rng.random() < 0.05)
        ({ observation } = env.reset({ seed: ++seed }));
    }
    const size = states[0]!.length;
    const languagePrior = LanguagePrior.create({ model, codec });
    const started = performance.now();
    const predicted = await languagePrior.predict(concat(states), concat(actions));
    const seconds = (performance.now() - started) / 1000;
    const discrete = !id.startsWith('Pendulum') && !id.startsWith('CartPole');
    const row: Record<string, unknown> = {
      env: id,
      transitions: states.length,
      seeds: [HELD_OUT, seed],
      failedParses: languagePrior.counters.failedParses,
      seconds: round(seconds),
    };
    if (discrete) {
      let exact = 0;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < states.length; i++) {
        let same = true;
        for (let j = 0; j < size; j++) {
          const s = states[i]![j]!;
          const truth = nexts[i]![j]!;
          const guess = predicted.nextStates[i * size + j]!;
          if (guess !== truth) same = false;
          const changed = truth !== s;
          const guessedChange = guess !== s;
          if (changed && guessedChange && guess === truth) tp++;
          else {
            if (guessedChange) fp++;
            if (changed) fn++;
          }
        }
        if (same) exact++;
      }
      row['exactMatch'] = round(exact / states.length);
      row['changedF1'] = round(tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn));
    } else {
      const std = new Float64Array(size);
      const mean = new Float64Array(size);
      for (const n of nexts) for (let j = 0; j < size; j++) mean[j]! += n[j]! / nexts.length;
      for (const n of nexts)
        for (let j = 0; j < size; j++) std[j]! += (n[j]! - mean[j]!) ** 2 / nexts.length;
      let mse = 0;
      let copy = 0;
      for (let i = 0; i < nexts.length; i++)
        for (let j = 0; j < size; j++) {
          const sd = Math.sqrt(std[j]!) || 1;
          mse += ((predicted.nextStates[i * size + j]! - nexts[i]![j]!) / sd) ** 2;
          copy += ((states[i]![j]! - nexts[i]![j]!) / sd) ** 2;
        }
      row['zMse'] = round(mse / (nexts.length * size));
      row['ratioToNoChange'] = round(mse / copy);
    }
    let rewardHits = 0;
    for (let i = 0; i < rewards.length; i++)
      if (Math.abs(predicted.rewards[i]! - rewards[i]!) < 1e-3 * Math.max(1, Math.abs(rewards[i]!)))
        rewardHits++;
    row['rewardExact'] = round(rewardHits / rewards.length);
    process.stderr.write(`${id}: ${JSON.stringify(row)}\n`);
    rows.push(row);
    env.close();
  }
  return rows;
}

async function speed(model: LanguageModel): Promise<unknown> {
  const env = make('TextWorld-Quest-k10-v0');
  env.reset({ seed: HELD_OUT });
  const prompt = `${env.describe()}\n${env.commands().join('\n')}\nAction:`.slice(-600);
  const continuations = env
    .commands()
    .slice(0, 10)
    .map((c) => ` ${c}`);
  const generation: number[] = [];
  const scoring: number[] = [];
  for (let i = 0; i < 6; i++) {
    let started = performance.now();
    const c = await model.complete({
      messages: [{ role: 'user', content: prompt }],
      maxTokens: 64,
      temperature: 0,
    });
    const g = (c.usage.completionTokens * 1000) / (performance.now() - started);
    started = performance.now();
    const scored = await model.score(prompt, continuations);
    const tokens = c.usage.promptTokens + scored.reduce((a, s) => a + s.tokens, 0);
    const s = (tokens * 1000) / (performance.now() - started);
    if (i > 0) {
      generation.push(g);
      scoring.push(s);
    }
  }
  env.close();
  return {
    generationTokensPerSecond: round(median(generation)),
    scoringTokensPerSecond: round(median(scoring)),
    promptCharacters: prompt.length,
    continuations: continuations.length,
  };
}

function makeEnv(id: string): Env {
  return id.startsWith('TextWorld-') ? make(id, { observation: 'slots' }) : make(id);
}

function concat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * rows[0]!.length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function parseArgs(argv: string[]): Args {
  const [part, ...rest] = argv;
  if (part !== 'success' && part !== 'prior' && part !== 'speed')
    throw new Error(
      `bench lm: expected "success", "prior" or "speed", received ${JSON.stringify(part ?? '')}`,
    );
  const args: Args = {
    part,
    tasks: 100,
    transitions: 200,
    modes: ['rank', 'generate', 'random'],
    envs: [],
    path: undefined,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    const value = rest[++i];
    if (value === undefined) throw new Error(`bench lm: ${flag} needs a value`);
    if (flag === '--tasks' || flag === '--transitions') {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(
          `bench lm: ${flag} must be a positive integer, received ${JSON.stringify(value)}`,
        );
      if (flag === '--tasks') args.tasks = n;
      else args.transitions = n;
    } else if (flag === '--modes') {
      const modes = value.split(',');
      if (!modes.every((m) => m === 'rank' || m === 'generate' || m === 'random'))
        throw new Error(
          `bench lm: --modes takes rank, generate and/or random, received ${JSON.stringify(value)}`,
        );
      args.modes = modes;
    } else if (flag === '--env') args.envs = value.split(',');
    else if (flag === '--path') args.path = value;
    else
      throw new Error(
        `bench lm: unknown flag ${JSON.stringify(flag)} (--tasks, --transitions, --modes, --env, --path)`,
      );
  }
  return args;
}
