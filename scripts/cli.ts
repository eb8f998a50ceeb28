#!/usr/bin/env node
/**
 * The `wmgym` command, and the composition root: the one place that knows every environment
 * family and every agent.
 *
 *   wmgym envs [filter] [--json]            list the registered environments
 *   wmgym check <id | all>                  run the environment checker
 *   wmgym rollout <id> [--seed N] [--steps N] [--save file.svg|file.png]
 *                                           a seeded random rollout (optionally saved as frames)
 *   wmgym play <id | game.json> [--seed N]  play in the terminal
 *   wmgym demo                              what `npm start` runs: envs + a rollout of every env
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../envs/index.js';
import { checkEnv } from '../envs/core/check-env.js';
import { InvalidOptionError, isWmgymError } from '../envs/core/errors.js';
import { listEnvs, make, spec } from '../envs/core/registry.js';
import { Rng, checkSeed } from '../envs/core/rng.js';
import type { Env, RgbArray } from '../envs/core/env.js';
import { saveEpisode } from '../envs/core/render.js';
import { play } from './play.js';

const USAGE = `Usage: wmgym <command> [options]

Commands:
  envs [filter] [--json]                 list registered environments
  check <id | all>                       run the environment checker on one id or on every id
  rollout <id> [--seed N] [--steps N] [--save FILE.svg|FILE.png]
                                         run a seeded random policy; --save writes the frames
  play <id | game.json> [--seed N]       play an environment in the terminal
  demo                                   list the environments and roll out each (npm start)
  help                                   this text`;

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'envs':
      return envsCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'rollout':
      return rolloutCommand(rest);
    case 'play':
      return playCommand(rest);
    case 'demo':
      return demoCommand();
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(
        `Unknown command "${command}": expected one of envs, check, rollout, play, demo, help.\n\n${USAGE}`,
      );
      return 2;
  }
}

function envsCommand(args: readonly string[]): number {
  const { values, positionals } = parseOptions({
    args: [...args],
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const ids = listEnvs(positionals[0]);
  if (values.json) {
    console.log(
      JSON.stringify(
        ids.map((id) => describeSpec(id)),
        null,
        2,
      ),
    );
    return 0;
  }
  const rows = ids.map((id) => {
    const s = describeSpec(id);
    return [
      id,
      s.actionSpace,
      s.observationSpace,
      String(s.maxEpisodeSteps ?? '-'),
      String(s.rewardThreshold ?? '-'),
    ];
  });
  printTable(['id', 'action space', 'observation space', 'max steps', 'threshold'], rows);
  console.log(`${ids.length} environments`);
  return 0;
}

function describeSpec(id: string) {
  const s = spec(id);
  const env = make(id);
  const out = {
    id,
    description: s.description,
    actionSpace: truncate(String(env.actionSpace), 40),
    observationSpace: truncate(String(env.observationSpace), 48),
    maxEpisodeSteps: s.maxEpisodeSteps,
    rewardThreshold: s.rewardThreshold,
    renderModes: env.metadata.renderModes,
  };
  env.close();
  return out;
}

function checkCommand(args: readonly string[]): number {
  const { positionals } = parseOptions({ args: [...args], allowPositionals: true });
  const target = positionals[0];
  if (target === undefined)
    throw new InvalidOptionError('check <id>', undefined, 'an environment id or "all"');
  const ids = target === 'all' ? listEnvs() : [target];
  let failed = 0;
  for (const id of ids) {
    try {
      checkEnv(make(id));
      console.log(`ok     ${id}`);
    } catch (error) {
      failed++;
      console.log(`FAILED ${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (ids.length > 1) console.log(`${ids.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function rolloutCommand(args: readonly string[]): number {
  const { values, positionals } = parseOptions({
    args: [...args],
    options: {
      seed: { type: 'string', default: '0' },
      steps: { type: 'string', default: '200' },
      save: { type: 'string' },
    },
    allowPositionals: true,
  });
  const id = positionals[0];
  if (id === undefined)
    throw new InvalidOptionError('rollout <id>', undefined, 'an environment id (see `wmgym envs`)');
  const seed = seedOption(values.seed, '--seed');
  const steps = positiveInteger(values.steps, '--steps');
  if (values.save !== undefined && !/\.(svg|png)$/i.test(values.save)) {
    // Checked before the rollout runs, not after.
    throw new InvalidOptionError(
      '--save',
      values.save,
      'a file path ending in .svg (animation) or .png (contact sheet)',
    );
  }
  const env = make(id, values.save === undefined ? {} : { renderMode: 'rgb_array' });
  const frames: RgbArray[] = [];
  const result = rollout(env, seed, steps, values.save === undefined ? undefined : frames);
  console.log(
    `${id}: ${result.steps} steps, ${result.episodes} episode(s) ended, mean return of ended episodes ${formatNumber(result.meanReturn)}, return so far ${formatNumber(result.openReturn)}`,
  );
  if (values.save !== undefined) {
    saveEpisode(values.save, frames, { fps: env.metadata.renderFps ?? 30 });
    console.log(`saved ${frames.length} frames to ${values.save}`);
  }
  env.close();
  return 0;
}

async function playCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: [...args],
    options: { seed: { type: 'string' } },
    allowPositionals: true,
  });
  const target = positionals[0];
  if (target === undefined)
    throw new InvalidOptionError(
      'play <id | game.json>',
      undefined,
      'an environment id or a game file',
    );
  const isFile = target.endsWith('.json') || existsSync(target);
  const base = isFile ? make('TextWorld-File-v0', { path: target }) : make(target);
  const modes = base.metadata.renderModes;
  base.close();
  const env = isFile
    ? make('TextWorld-File-v0', {
        path: target,
        ...(modes.includes('ansi') ? { renderMode: 'ansi' } : {}),
      })
    : make(target, modes.includes('ansi') ? { renderMode: 'ansi' } : {});
  const seed = values.seed === undefined ? undefined : seedOption(values.seed, '--seed');
  await play(env, seed === undefined ? {} : { seed });
  env.close();
  return 0;
}

function demoCommand(): number {
  console.log('wmgym: environments registered in this build\n');
  envsCommand([]);
  console.log('\nA seeded random policy (seed 0, 200 steps) on every environment:\n');
  const rows: string[][] = [];
  for (const id of listEnvs()) {
    const env = make(id);
    const start = performance.now();
    const r = rollout(env, 0, 200, undefined);
    const seconds = (performance.now() - start) / 1000;
    rows.push([
      id,
      String(r.episodes),
      formatNumber(r.meanReturn),
      formatNumber(r.openReturn),
      Math.round(r.steps / seconds).toLocaleString('en-US'),
    ]);
    env.close();
  }
  printTable(['id', 'episodes ended', 'mean return', 'open return', 'steps/s'], rows);
  console.log(
    '\nNext: `npx wmgym play GridNav-DoorKey-8x8-v0`, `npx wmgym check all`, or see README.md.',
  );
  return 0;
}

interface RolloutSummary {
  steps: number;
  episodes: number;
  meanReturn: number;
  openReturn: number;
}

function rollout(
  env: Env,
  seed: number,
  steps: number,
  frames: RgbArray[] | undefined,
): RolloutSummary {
  const rng = new Rng(seed);
  env.actionSpace.seed(seed);
  let info = env.reset({ seed }).info;
  const returns: number[] = [];
  let episodeReturn = 0;
  const capture = () => {
    if (frames === undefined) return;
    const frame = env.render();
    if (frame !== undefined && typeof frame !== 'string') frames.push(frame);
  };
  capture();
  for (let t = 0; t < steps; t++) {
    const mask = info['actionMask'];
    const action =
      mask instanceof Uint8Array ? env.actionSpace.sample(rng, mask) : env.actionSpace.sample(rng);
    const result = env.step(action);
    episodeReturn += result.reward;
    info = result.info;
    capture();
    if (result.terminated || result.truncated) {
      returns.push(episodeReturn);
      episodeReturn = 0;
      info = env.reset().info;
      capture();
    }
  }
  const meanReturn =
    returns.length === 0 ? Number.NaN : returns.reduce((a, b) => a + b, 0) / returns.length;
  return { steps, episodes: returns.length, meanReturn, openReturn: episodeReturn };
}

/** `util.parseArgs`, with its errors turned into InvalidOptionError. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidOptionError(
      'command-line arguments',
      config.args?.join(' ') ?? '',
      'the options listed by `wmgym help`',
      message,
      { cause: error },
    );
  }
}

function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

function positiveInteger(text: string, option: string): number {
  // Digits only: Number('') is 0 and Number(' 1e2 ') is 100, neither of which was typed as a count.
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidOptionError(option, text, 'a positive integer');
  return n;
}

/** A seed typed on the command line: digits only (`--seed=` is not seed 0), a safe integer. */
function seedOption(text: string, option: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new InvalidOptionError(option, text, 'a non-negative integer (at most 2^53 - 1)');
  return checkSeed(Number(text), option);
}

function formatNumber(x: number): string {
  return Number.isNaN(x) ? '-' : x.toFixed(2);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

const entry = process.argv[1];
if (
  entry !== undefined &&
  existsSync(entry) &&
  realpathSync(entry) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(isWmgymError(error) ? `wmgym: ${error.message}` : error);
      process.exitCode = 1;
    },
  );
}
