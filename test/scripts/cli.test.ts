import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../scripts/cli.js';
import { InvalidOptionError, EnvNotFoundError } from '../../envs/core/errors.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test.serial('envs lists every registered id with its spaces, or as JSON', async (t) => {
  const { code, out } = await capture(['envs', 'CartPole']);
  t.is(code, 0);
  t.regex(out, /CartPole-v1\s+Discrete\(2\)\s+Box\(.*500\s+475/);
  const json = await capture(['envs', 'Pendulum', '--json']);
  const parsed = JSON.parse(json.out) as { id: string; maxEpisodeSteps: number }[];
  t.deepEqual(
    parsed.map((e) => [e.id, e.maxEpisodeSteps]),
    [['Pendulum-v1', 200]],
  );
});

test.serial('check reports ok for a correct environment', async (t) => {
  const { code, out } = await capture(['check', 'Acrobot-v1']);
  t.is(code, 0);
  t.is(out.trim(), 'ok     Acrobot-v1');
});

test.serial('check and rollout name a misspelt id', async (t) => {
  const { code, out } = await capture(['check', 'CartPol-v1']);
  t.is(code, 1);
  t.regex(out, /FAILED CartPol-v1: No environment "CartPol-v1"\. Did you mean "CartPole-v1"\?/);
  await t.throwsAsync(() => main(['rollout', 'CartPol-v1']), { instanceOf: EnvNotFoundError });
});

test.serial('rollout runs a seeded random policy and saves its frames', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'wmgym-cli-')), 'cartpole.svg');
  const first = await capture([
    'rollout',
    'CartPole-v1',
    '--seed',
    '3',
    '--steps',
    '40',
    '--save',
    file,
  ]);
  const second = await capture(['rollout', 'CartPole-v1', '--seed', '3', '--steps', '40']);
  t.is(first.code, 0);
  t.is(first.out.split('\n')[0], second.out);
  t.regex(first.out, /2 episode\(s\) ended/);
  t.regex(first.out, /saved 43 frames/); // the first frame, one per step, one per reset
  t.true(readFileSync(file, 'utf8').startsWith('<svg'));
});

test.serial('bad options are typed errors naming the option', async (t) => {
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--steps', '0']), {
    instanceOf: InvalidOptionError,
    message: /--steps: expected a positive integer, received "0"/,
  });
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--seed=-2']), {
    instanceOf: InvalidOptionError,
    message: /--seed/,
  });
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--seed', 'abc']), {
    instanceOf: InvalidOptionError,
    message: /--seed: expected a non-negative integer.*, received "abc"/,
  });
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--seed=', '--steps', '3']), {
    instanceOf: InvalidOptionError,
    message: /--seed: .*received ""/,
  });
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--steps', ' 1e2']), {
    instanceOf: InvalidOptionError,
    message: /--steps: expected a positive integer, received " 1e2"/,
  });
  // Named as --save (checked before the rollout runs), not as saveEpisode's path afterwards.
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--steps', '3', '--save', 'x.gif']), {
    instanceOf: InvalidOptionError,
    message: /--save: expected a file path ending in \.svg .* received "x\.gif"/,
  });
  await t.throwsAsync(() => main(['rollout', 'CartPole-v1', '--sed', '1']), {
    instanceOf: InvalidOptionError,
    message: /Unknown option '--sed'/,
  });
  const { code, err } = await capture(['fly']);
  t.is(code, 2);
  t.regex(err, /Unknown command "fly"/);
});
