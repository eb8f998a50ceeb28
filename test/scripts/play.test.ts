import test from 'ava';
import { PassThrough, Readable } from 'node:stream';
import { make, register } from '../../envs/core/registry.js';
import { play } from '../../scripts/play.js';
import { LineWalkEnv } from '../helpers/line-env.js';

register({ id: 'test/PlayLine-v0', entryPoint: (o) => new LineWalkEnv(o), maxEpisodeSteps: 50 });

async function session(lines: string[], seed = 0): Promise<{ text: string; total: number }> {
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (c: Buffer) => chunks.push(c.toString()));
  const env = make('test/PlayLine-v0', { renderMode: 'ansi' });
  const total = await play(env, { seed, input: Readable.from(lines.map((l) => `${l}\n`)), output });
  return { text: chunks.join(''), total };
}

test('typed commands step the environment and show its text view', async (t) => {
  const { text } = await session(['right', 'left', 'quit']);
  t.regex(text, /Playing test\/PlayLine-v0/);
  t.regex(text, /You stand at -?\d on a line/);
  t.regex(text, /> right/);
});

test('an unknown command gets the parse error and changes nothing', async (t) => {
  const { text } = await session(['dance', 'quit']);
  t.regex(
    text,
    /Unknown command for test\/PlayLine-v0: expected "left" or "right", received "dance"/,
  );
});

test('the episode ends with its return, and restart begins a new one', async (t) => {
  const { text, total } = await session([
    ...Array<string>(12).fill('right'),
    'right',
    'restart',
    'history',
    'quit',
  ]);
  t.regex(text, /The episode has ended\. Return: /);
  t.regex(text, /The episode is over: type "restart"/);
  t.regex(text, /1\. right/);
  t.true(total > 0.8);
});
