/**
 * The conformance suite, run over every registered id: the checker (spaces, seeding, determinism,
 * typed errors, TextView, snapshots, render modes), the order of calls enforced by make(), and
 * seeded determinism over 50 steps through make()'s wrappers.
 */
import test from 'ava';
import '../../envs/index.js';
import { checkEnv, deepEqual } from '../../envs/core/check-env.js';
import { listEnvs, make, spec } from '../../envs/core/registry.js';
import { InvalidActionError, ResetNeededError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import type { Env } from '../../envs/core/env.js';

const ids = listEnvs().filter((id) => !id.startsWith('test/'));

test('the suite registers environments of every family', (t) => {
  t.true(ids.length > 0, 'no environment registered');
});

for (const id of ids) {
  test(`${id} passes the environment checker`, (t) => {
    t.notThrows(() => checkEnv(make(id)));
  });

  test(`${id} refuses step before reset and after the end, and out-of-space actions`, (t) => {
    const env = make(id);
    const rng = new Rng(0);
    t.throws(() => env.step(env.actionSpace.sample(rng)), { instanceOf: ResetNeededError });
    env.reset({ seed: 0 });
    t.throws(() => env.step(Symbol('not an action') as never), { instanceOf: InvalidActionError });
    const limit = spec(id).maxEpisodeSteps ?? 1000;
    let ended = false;
    for (let i = 0; i < limit + 1 && !ended; i++) {
      const r = env.step(env.actionSpace.sample(rng));
      ended = r.terminated || r.truncated;
    }
    t.true(ended, `no episode end within ${limit + 1} steps`);
    t.throws(() => env.step(env.actionSpace.sample(rng)), {
      instanceOf: ResetNeededError,
      message: /after the episode ended/,
    });
  });

  test(`${id} is deterministic over 50 seeded steps through make()`, (t) => {
    const run = (env: Env) => {
      const rng = new Rng(7);
      const out: unknown[] = [env.reset({ seed: 123 }).observation];
      for (let i = 0; i < 50; i++) {
        const r = env.step(env.actionSpace.sample(rng));
        out.push([r.observation, r.reward, r.terminated, r.truncated]);
        if (r.terminated || r.truncated) out.push(env.reset().observation);
      }
      return out;
    };
    const a = run(make(id));
    const b = run(make(id));
    t.true(deepEqual(a, b));
  });

  test(`${id} speaks text: every listed command parses to an action in the space`, (t) => {
    const env = make(id);
    env.reset({ seed: 1 });
    t.true(env.describe().length > 0);
    for (const command of env.commands()) {
      if (command.includes('<')) continue; // a form with a range; the checker fills it
      t.true(env.actionSpace.contains(env.parseCommand(command)), command);
    }
  });
}
