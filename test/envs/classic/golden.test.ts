/**
 * Parity with Gymnasium 1.0: replays every trajectory recorded in ../shared/golden (beside the
 * repository) through make(), so TimeLimit truncation is exercised too, and compares every
 * observation, reward, flag and internal state. `seeded` trajectories start from reset({seed}),
 * which must draw Gymnasium's start state; `explicit_state` trajectories start from a state set
 * with the environment's public snapshot API (getState/setState on the unwrapped env).
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../../envs/index.js';
import type { Env, JsonValue } from '../../../envs/core/env.js';
import { make } from '../../../envs/core/registry.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const goldenDir = path.resolve(repoRoot, '../shared/golden');
const RELATIVE_TOLERANCE = 1e-5;
const ABSOLUTE_FLOOR = 1e-7;
const EXPECTED_IDS = ['Acrobot-v1', 'CartPole-v1', 'MountainCarContinuous-v0', 'Pendulum-v1'];

interface Trajectory {
  reset_seed: number;
  set_state?: number[];
  initial_obs: number[];
  initial_state: number[];
  length: number;
  scheme: string;
  actions: (number | number[])[];
  obs: number[][];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  states: number[][];
}

interface GoldenFile {
  format: string;
  env_id: string;
  env_spec: { max_episode_steps: number; reward_threshold: number | null };
  state_fields: string[];
  seeded: Trajectory[];
  explicit_state: Trajectory[];
}

/** The classic environments' extra public method: the observation of the current state. */
interface Observable {
  currentObservation(): Float32Array;
}

interface Snapshot {
  rng: JsonValue;
  env: Record<string, JsonValue>;
}

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= RELATIVE_TOLERANCE * Math.abs(expected) + ABSOLUTE_FLOOR;
}

function camelCase(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function compareVector(
  where: string,
  actual: ArrayLike<number>,
  expected: readonly number[],
  out: string[],
): void {
  if (actual.length !== expected.length) {
    out.push(`${where}: length ${actual.length}, expected ${expected.length}`);
    return;
  }
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i]!, expected[i]!))
      out.push(`${where}[${i}]: ${actual[i]} vs Gymnasium ${expected[i]}`);
  }
}

function rawState(env: Env, fields: readonly string[]): number[] {
  const snapshot = env.unwrapped.getState() as unknown as Snapshot;
  return fields.map((f) => snapshot.env[camelCase(f)] as number);
}

/** Replays one trajectory; returns the mismatches (empty when every value agrees). */
function replay(file: GoldenFile, trajectory: Trajectory, explicit: boolean): string[] {
  const env = make<Float32Array, unknown>(file.env_id);
  const mismatches: string[] = [];
  const { observation } = env.reset({ seed: trajectory.reset_seed });
  let initial: Float32Array = observation;
  if (explicit) {
    const raw = env.unwrapped;
    const snapshot = raw.getState() as unknown as Snapshot;
    const values: Record<string, JsonValue> = {};
    file.state_fields.forEach((f, i) => (values[camelCase(f)] = trajectory.set_state![i]!));
    raw.setState({ rng: snapshot.rng, env: { ...snapshot.env, ...values } });
    initial = (raw as unknown as Observable).currentObservation();
  }
  compareVector('initial observation', initial, trajectory.initial_obs, mismatches);
  compareVector(
    'initial state',
    rawState(env, file.state_fields),
    trajectory.initial_state,
    mismatches,
  );
  let steps = 0;
  for (let t = 0; t < trajectory.length; t++) {
    const a = trajectory.actions[t]!;
    const action = typeof a === 'number' ? a : Float32Array.from(a);
    const r = env.step(action);
    steps++;
    compareVector(`obs[${t}]`, r.observation, trajectory.obs[t]!, mismatches);
    compareVector(
      `state[${t}]`,
      rawState(env, file.state_fields),
      trajectory.states[t]!,
      mismatches,
    );
    if (!close(r.reward, trajectory.rewards[t]!))
      mismatches.push(`reward[${t}]: ${r.reward} vs Gymnasium ${trajectory.rewards[t]}`);
    if (r.terminated !== trajectory.terminated[t])
      mismatches.push(`terminated[${t}]: ${r.terminated} vs Gymnasium ${trajectory.terminated[t]}`);
    if (r.truncated !== trajectory.truncated[t])
      mismatches.push(`truncated[${t}]: ${r.truncated} vs Gymnasium ${trajectory.truncated[t]}`);
    if (mismatches.length > 20) break;
    if (r.terminated || r.truncated) break;
  }
  if (steps !== trajectory.length)
    mismatches.push(`replayed ${steps} steps, Gymnasium recorded ${trajectory.length}`);
  env.close();
  return mismatches;
}

if (!existsSync(goldenDir)) {
  test('the golden trajectories from Gymnasium are present', (t) => {
    t.fail(
      `No golden folder at ${goldenDir}: Gymnasium parity cannot be checked. ` +
        'Clone the shared/ folder beside the repository (CI does) so that ../shared/golden/*.json exists.',
    );
  });
} else {
  const files = readdirSync(goldenDir)
    .filter((name) => name.endsWith('.json'))
    .sort();

  test('there is a golden file for every classic-control id', (t) => {
    t.deepEqual(
      files.map((name) => name.replace(/\.json$/, '')),
      EXPECTED_IDS,
    );
  });

  for (const name of files) {
    const file = JSON.parse(readFileSync(path.join(goldenDir, name), 'utf8')) as GoldenFile;

    test(`${file.env_id} is registered with Gymnasium's time limit and reward threshold`, (t) => {
      t.is(file.format, 'wmgym-golden-trajectories/1');
      const env = make(file.env_id);
      t.is(env.spec?.maxEpisodeSteps, file.env_spec.max_episode_steps);
      t.is(env.spec?.rewardThreshold, file.env_spec.reward_threshold ?? undefined);
    });

    const groups: [string, Trajectory[], boolean][] = [
      ['seeded', file.seeded, false],
      ['explicit_state', file.explicit_state, true],
    ];
    for (const [group, trajectories, explicit] of groups) {
      trajectories.forEach((trajectory, i) => {
        const start = explicit
          ? `state ${JSON.stringify(trajectory.set_state)}`
          : `reset({seed: ${trajectory.reset_seed}})`;
        test(`${file.env_id} replays Gymnasium's ${group} trajectory ${i} (${start}, ${trajectory.scheme} actions, ${trajectory.length} steps)`, (t) => {
          t.true(trajectory.length > 0 && trajectory.obs.length === trajectory.length);
          t.deepEqual(replay(file, trajectory, explicit), []);
        });
      });
    }
  }
}
