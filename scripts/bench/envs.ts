/**
 * `npm run bench -- envs [filter] [--repeats 5] [--seconds 1] [--table]`: environment steps per
 * second through `make()` (default wrappers on), random actions from the action space (under the
 * action mask where the env gives one), resets on episode end; single env, and 8 sync / 8 async
 * vectorised. Median of the repeats; JSON on stdout (or a markdown table with --table).
 * `--options '{"observation":"egocentric"}'` passes make() options to every single env.
 * `--same-seed` resets with seed 0 at every episode end (one level or game, generated once).
 * `--ignore-mask` samples uniformly from the whole action space (MiniGrid's random-action measure).
 */
import { parseArgs } from 'node:util';
import '../../envs/index.js';
import { listEnvs, make } from '../../envs/core/registry.js';
import { Rng } from '../../envs/core/rng.js';
import { makeVec } from '../../envs/core/vector.js';
import { machineInfo, median } from './machine.js';

/** Gymnasium 1.0 / MiniGrid 2.5 figures measured the same way on a machine like this one (issue texts). */
const REFERENCE: Record<string, { stepsPerSecond: number; source: string }> = {
  'CartPole-v1': { stepsPerSecond: 107_717, source: 'Gymnasium 1.0' },
  'Pendulum-v1': { stepsPerSecond: 21_660, source: 'Gymnasium 1.0' },
  'MountainCarContinuous-v0': { stepsPerSecond: 34_468, source: 'Gymnasium 1.0' },
  'Acrobot-v1': { stepsPerSecond: 18_638, source: 'Gymnasium 1.0' },
  'GridNav-Empty-8x8-v0': { stepsPerSecond: 10_403, source: 'MiniGrid 2.5 Empty-8x8' },
  'GridNav-DoorKey-8x8-v0': { stepsPerSecond: 9_332, source: 'MiniGrid 2.5 DoorKey-8x8' },
  'GridNav-FourRooms-v0': { stepsPerSecond: 8_217, source: 'MiniGrid 2.5 FourRooms' },
};
const VECTOR_REFERENCE: Record<string, number> = { 'CartPole-v1': 110_609 };

/** One measured row. */
export interface EnvBenchRow {
  id: string;
  mode: 'single' | 'sync-8' | 'async-8';
  stepsPerSecond: number;
  runs: number[];
  reference?: { stepsPerSecond: number; source: string; ratio: number };
}

/** Entry point of `npm run bench -- envs`. */
export function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      repeats: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '1' },
      table: { type: 'boolean', default: false },
      'ignore-mask': { type: 'boolean', default: false },
      'same-seed': { type: 'boolean', default: false },
      options: { type: 'string', default: '{}' },
      'no-vector': { type: 'boolean', default: false },
      vector: {
        type: 'string',
        default: 'CartPole-v1,Pendulum-v1,GridNav-DoorKey-8x8-v0,TextWorld-Quest-k10-v0',
      },
    },
    allowPositionals: true,
  });
  const makeOptions = JSON.parse(values.options) as Record<string, unknown>;
  const repeats = Number(values.repeats);
  const seconds = Number(values.seconds);
  const ids = listEnvs(positionals[0]).filter((id) => !id.startsWith('test/'));
  const rows: EnvBenchRow[] = [];
  for (const id of ids) {
    rows.push(
      withReference(
        {
          id,
          mode: 'single',
          ...measure(
            () => singleRun(id, seconds, values['ignore-mask'], values['same-seed'], makeOptions),
            repeats,
          ),
        },
        REFERENCE[id],
      ),
    );
  }
  if (!values['no-vector']) {
    for (const id of values.vector.split(',').filter((v) => ids.includes(v))) {
      for (const mode of ['sync', 'async'] as const) {
        const m = measure(() => vectorRun(id, mode, seconds), repeats);
        const ref = mode === 'sync' ? VECTOR_REFERENCE[id] : undefined; // Gymnasium's figure is for SyncVectorEnv
        rows.push(
          withReference(
            { id, mode: `${mode}-8`, ...m },
            ref === undefined
              ? undefined
              : { stepsPerSecond: ref, source: 'Gymnasium 1.0 SyncVectorEnv(8)' },
          ),
        );
      }
    }
  }
  const report = {
    benchmark: 'envs',
    machine: machineInfo(),
    repeats,
    secondsPerRun: seconds,
    rows,
  };
  if (values.table) console.log(toMarkdown(rows));
  else console.log(JSON.stringify(report, null, 2));
  return Promise.resolve();
}

function measure(run: () => number, repeats: number): { stepsPerSecond: number; runs: number[] } {
  const runs = Array.from({ length: repeats }, run);
  return { stepsPerSecond: Math.round(median(runs)), runs: runs.map(Math.round) };
}

function withReference(
  row: EnvBenchRow,
  ref: { stepsPerSecond: number; source: string } | undefined,
): EnvBenchRow {
  if (ref === undefined) return row;
  return {
    ...row,
    reference: { ...ref, ratio: Math.round((row.stepsPerSecond / ref.stepsPerSecond) * 10) / 10 },
  };
}

/** Steps per second of one env for about `seconds` seconds (after a short warm-up). */
function singleRun(
  id: string,
  seconds: number,
  ignoreMask: boolean,
  sameSeed: boolean,
  makeOptions: Record<string, unknown>,
): number {
  const env = make(id, makeOptions);
  const rng = new Rng(0);
  let info = env.reset({ seed: 0 }).info;
  const space = env.actionSpace;
  const stepOnce = () => {
    const mask = ignoreMask ? undefined : info['actionMask'];
    const result = env.step(
      mask instanceof Uint8Array ? space.sample(rng, mask) : space.sample(rng),
    );
    info =
      result.terminated || result.truncated
        ? env.reset(sameSeed ? { seed: 0 } : {}).info
        : result.info;
  };
  for (let i = 0; i < 2000; i++) stepOnce();
  let steps = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) stepOnce();
    steps += 1000;
    now = performance.now();
  }
  env.close();
  return steps / ((now - start) / 1000);
}

/** Env steps per second (steps × 8) of 8 vectorised copies. */
function vectorRun(id: string, mode: 'sync' | 'async', seconds: number): number {
  const vec = makeVec(id, 8, { mode });
  try {
    vec.reset({ seed: 0 });
    const rng = new Rng(0);
    for (let i = 0; i < 200; i++) vec.step(vec.actionSpace.sample(rng));
    let steps = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 100; i++) vec.step(vec.actionSpace.sample(rng));
      steps += 100 * vec.numEnvs;
      now = performance.now();
    }
    return steps / ((now - start) / 1000);
  } finally {
    vec.close();
  }
}

function toMarkdown(rows: readonly EnvBenchRow[]): string {
  const lines = [
    '| environment | mode | steps/s (median) | reference | ratio |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ref = r.reference;
    lines.push(
      `| ${r.id} | ${r.mode} | ${r.stepsPerSecond.toLocaleString('en-US')} | ${ref ? `${ref.stepsPerSecond.toLocaleString('en-US')} (${ref.source})` : '—'} | ${ref ? `${ref.ratio}x` : '—'} |`,
    );
  }
  return lines.join('\n');
}
