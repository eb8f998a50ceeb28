import test from 'ava';
import {
  InvalidActionError,
  InvalidOptionError,
  InvalidStateError,
} from '../../../envs/core/errors.js';
import { RewardWrapper, type JsonValue } from '../../../envs/core/env.js';
import {
  OrderEnforcing,
  RecordEpisodeStatistics,
  TimeLimit,
  type EpisodeStatistics,
} from '../../../envs/core/wrappers/common.js';
import { PassiveEnvChecker } from '../../../envs/core/wrappers/env-checker.js';
import { EnvCheckError } from '../../../envs/core/errors.js';
import { LineWalkEnv } from '../../helpers/line-env.js';

test('the first seeded reset fixes the start; unseeded resets continue the generator', (t) => {
  const a = new LineWalkEnv();
  const b = new LineWalkEnv();
  const startsA = [a.reset({ seed: 5 }), a.reset(), a.reset(), a.reset()].map(
    (r) => r.observation[0],
  );
  const startsB = [b.reset({ seed: 5 }), b.reset(), b.reset(), b.reset()].map(
    (r) => r.observation[0],
  );
  t.deepEqual(startsA, startsB);
  t.is(a.npRandom.seed, 5);
});

test('reset refuses a negative or fractional seed', (t) => {
  t.throws(() => new LineWalkEnv().reset({ seed: -1 }), {
    instanceOf: InvalidOptionError,
    message: /reset\(\{seed\}\): expected a non-negative integer, received -1/,
  });
  t.throws(() => new LineWalkEnv().reset({ seed: 0.5 }), { instanceOf: InvalidOptionError });
});

test('an action outside the space is refused, not clipped', (t) => {
  const env = new LineWalkEnv();
  env.reset({ seed: 0 });
  t.throws(() => env.step(2), {
    instanceOf: InvalidActionError,
    message: /Invalid action for LineWalkEnv: expected Discrete\(2\), received 2/,
  });
  t.throws(() => env.step(Number.NaN), { instanceOf: InvalidActionError, message: /received NaN/ });
});

test('a snapshot restores the env, its generator and every wrapper', (t) => {
  const env = new RecordEpisodeStatistics(new TimeLimit(new OrderEnforcing(new LineWalkEnv()), 20));
  env.reset({ seed: 3 });
  env.step(1);
  const snapshot = JSON.parse(JSON.stringify(env.getState())) as JsonValue;
  const play = () => {
    const out: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const r = env.step(i % 3 === 0 ? 0 : 1);
      out.push([
        r.observation[0],
        r.reward,
        r.terminated,
        r.truncated,
        (r.info['episode'] as EpisodeStatistics | undefined)?.l,
      ]);
      if (r.terminated || r.truncated) out.push(env.reset().observation[0]);
    }
    return out;
  };
  const first = play();
  env.setState(snapshot);
  t.deepEqual(play(), first);
});

test('a malformed snapshot is refused before anything changes', (t) => {
  const env = new TimeLimit(new LineWalkEnv(), 10);
  env.reset({ seed: 1 });
  const before = env.getState();
  t.throws(() => env.setState({ env: null, wrapper: { elapsed: -1, ended: false } }), {
    instanceOf: InvalidStateError,
    message: /TimeLimit/,
  });
  t.throws(() => env.setState([1, 2] as JsonValue), { instanceOf: InvalidStateError });
  t.throws(
    () =>
      env.setState({
        env: { rng: null, env: { position: 9 } },
        wrapper: { elapsed: 0, ended: false },
      }),
    { instanceOf: InvalidStateError, message: /-5\.\.5/ },
  );
  t.deepEqual(env.getState(), before);
});

test('TimeLimit truncates exactly at the limit and counts from each reset', (t) => {
  const env = new TimeLimit(new LineWalkEnv(), 3);
  env.reset({ seed: 2 });
  const flags = [env.step(1), env.step(0), env.step(1)].map((r) => r.truncated);
  t.deepEqual(flags, [false, false, true]);
  env.reset();
  t.is(env.elapsedSteps, 0);
  t.false(env.step(1).truncated);
});

test('RecordEpisodeStatistics reports return, length and time at the end of each episode', (t) => {
  const env = new RecordEpisodeStatistics(new LineWalkEnv(), { bufferLength: 2 });
  for (let episode = 0; episode < 3; episode++) {
    const { observation } = env.reset({ seed: episode });
    const steps = 5 - observation[0]!;
    let result = env.step(1);
    for (let i = 1; i < steps; i++) result = env.step(1);
    t.true(result.terminated);
    const stats = result.info['episode'] as EpisodeStatistics;
    t.is(stats.l, steps);
    t.true(Math.abs(stats.r - (1 - 0.01 * (steps - 1))) < 1e-9);
    t.true(stats.t >= 0);
  }
  t.is(env.returnQueue.length, 2);
  t.is(env.episodeCount, 3);
  t.throws(() => new RecordEpisodeStatistics(new LineWalkEnv(), { bufferLength: 0 }), {
    instanceOf: InvalidOptionError,
  });
});

test('a RewardWrapper changes rewards and leaves the rest', (t) => {
  class Double extends RewardWrapper<Float32Array, number> {
    reward(r: number): number {
      return 2 * r;
    }
  }
  const env = new Double(new LineWalkEnv());
  env.reset({ seed: 0 });
  t.is(env.step(1).reward, -0.02);
  t.is(env.describe(), env.unwrapped.describe());
  t.is(env.parseCommand('left'), 0);
});

test('the passive checker refuses an observation outside the space on the first reset', (t) => {
  class Broken extends LineWalkEnv {
    override reset() {
      super.reset({ seed: 0 });
      return { observation: Float32Array.of(99), info: {} };
    }
  }
  const env = new PassiveEnvChecker(new Broken());
  t.throws(() => env.reset(), {
    instanceOf: EnvCheckError,
    message: /"reset-observation".*element 0 \(99\) is above high \(5\)/,
  });
});
