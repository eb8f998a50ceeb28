/**
 * The README stays true: every TypeScript block in it runs (with `from 'wmgym'` pointing at this
 * checkout), and every `npx wmgym` command it shows names a command the CLI has.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README has runnable TypeScript examples', (t) => {
  t.true(blocks.length > 0);
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs`, (t) => {
    const dir = join(root, '.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-example-${i + 1}.ts`);
    writeFileSync(file, code.replaceAll("from 'wmgym'", `from '${join(root, 'index.js')}'`));
    try {
      const run = spawnSync(process.execPath, ['--import=tsx', file], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      t.is(run.status, 0, `${run.stderr}\n${run.stdout}`);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

test('every wmgym command the README shows exists', (t) => {
  const usage = spawnSync(
    process.execPath,
    ['--import=tsx', join(root, 'scripts/cli.ts'), 'help'],
    { cwd: root, encoding: 'utf8' },
  ).stdout;
  const commands = [...readme.matchAll(/npx wmgym (\w+)/g)].map((m) => m[1]!);
  t.true(commands.length > 0);
  for (const command of commands) t.regex(usage, new RegExp(`^  ${command}\\b`, 'm'), command);
});

test('the hand-written game in the README loads and can be won', async (t) => {
  const json = [...readme.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes('wmgym-textworld'));
  if (json === undefined) return t.fail('no game file in the README');
  const dir = join(root, '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-game.json');
  writeFileSync(file, json);
  try {
    await import('../envs/index.js');
    const { make } = await import('../envs/core/registry.js');
    const env = make('TextWorld-File-v0', { path: file });
    env.reset({ seed: 0 });
    const plan = (env.unwrapped as unknown as { walkthrough(): string[] }).walkthrough();
    let won = false;
    for (const command of plan) won = env.step(env.parseCommand(command)).info['won'] === true;
    t.true(won);
  } finally {
    rmSync(file, { force: true });
  }
});
