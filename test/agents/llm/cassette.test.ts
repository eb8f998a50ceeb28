import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidOptionError, MalformedFileError } from '../../../envs/core/errors.js';
import {
  CassetteMissError,
  MalformedAnswerError,
  UnsupportedCapabilityError,
  createLanguageModel,
  type Completion,
  type CompletionRequest,
  type LanguageModel,
  type ScoredContinuation,
} from '../../../agents/llm/language-model.js';
import {
  CassetteLanguageModel,
  canonicalJson,
  cassetteKey,
} from '../../../agents/llm/providers/cassette.js';
import '../../../agents/llm/providers/openai.js';

// No test here may lean on a key from the machine's environment.
delete process.env['OPENAI_API_KEY'];

/** A deterministic inner model that counts its calls. */
class EchoModel implements LanguageModel {
  readonly provider = 'echo';
  readonly model: string;
  readonly capabilities: { complete: true; score: boolean };
  calls = 0;
  closed = false;

  constructor(model = 'echo-1', score = true) {
    this.model = model;
    this.capabilities = { complete: true, score };
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const last = request.messages[request.messages.length - 1]!;
    return {
      text: `${last.content} -> ${request.seed ?? 'noseed'} @${request.temperature ?? 0}`,
      usage: { promptTokens: last.content.length, completionTokens: 4 },
      latencyMs: 12.5 + this.calls,
      provider: this.provider,
      model: `${this.model}-snapshot`,
    };
  }

  score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]> {
    this.calls++;
    if (!this.capabilities.score)
      return Promise.reject(new UnsupportedCapabilityError('echo', '', this.model, 'no score'));
    return Promise.resolve(
      continuations.map((c) => ({ logProb: -(prompt.length + c.length) / 7, tokens: c.length })),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function tempFile(t: ExecutionContext, name = 'llm.jsonl'): string {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-cassette-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

const REQUESTS: CompletionRequest[] = [
  { messages: [{ role: 'user', content: 'You are in a hall. Exits: north.' }], seed: 1 },
  {
    messages: [
      { role: 'system', content: 'Answer with one command.' },
      { role: 'user', content: 'You see a key.' },
    ],
    temperature: 0.7,
    maxTokens: 8,
    stop: ['\n'],
    seed: 2,
  },
  { messages: [{ role: 'user', content: 'Where now?' }] },
];

/** The records of a cassette file, which must end with a full line. */
function lines(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`${path} does not end with a newline`);
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as unknown);
}

async function record(path: string, inner = new EchoModel()): Promise<Completion[]> {
  const cassette = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  const results = [];
  for (const request of REQUESTS) results.push(await cassette.complete(request));
  await cassette.close();
  return results;
}

test('record then replay returns equal results without asking the inner model', async (t) => {
  const path = tempFile(t);
  const inner = new EchoModel();
  const recorded = await record(path, inner);
  t.is(inner.calls, 3);
  t.is(recorded[0]!.text, 'You are in a hall. Exits: north. -> 1 @0');
  t.is(recorded[0]!.provider, 'cassette');
  t.is(recorded[0]!.model, 'echo-1-snapshot');
  t.is(recorded[0]!.latencyMs, 13.5);
  t.false(inner.closed, 'an instance given as inner is the caller’s to close');

  const file = lines(path) as Record<string, Record<string, unknown>>[];
  t.is(file.length, 3);
  t.like(file[1], {
    v: 1,
    kind: 'complete',
    request: {
      model: 'echo-1',
      parameters: { temperature: 0.7, maxTokens: 8, stop: ['\n'], seed: 2 },
    },
    response: { provider: 'echo', model: 'echo-1-snapshot' },
  });
  t.deepEqual(file[2]!['request']!['parameters'], {
    temperature: 0,
    maxTokens: null,
    stop: null,
    seed: null,
  });

  for (const mode of ['strict', 'replay', 'record'] as const) {
    const again = new EchoModel();
    const cassette = await CassetteLanguageModel.open(
      mode === 'record' ? { path, mode, inner: again } : { path, mode },
    );
    t.is(cassette.model, 'echo-1');
    t.is(cassette.provider, 'cassette');
    const replayed = [];
    for (const request of REQUESTS) replayed.push(await cassette.complete(request));
    t.deepEqual(replayed, recorded, mode);
    t.is(again.calls, 0, mode);
    await cassette.close();
  }
  t.is(lines(path).length, 3, 'replays append nothing');
});

test('a request asked twice, or twice at once, is asked of the inner model once', async (t) => {
  const path = tempFile(t);
  const inner = new EchoModel();
  const cassette = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  const [a, b] = await Promise.all([
    cassette.complete(REQUESTS[0]!),
    cassette.complete(REQUESTS[0]!),
  ]);
  const c = await cassette.complete({ ...REQUESTS[0]!, temperature: 0 }); // temperature 0 is the default
  t.deepEqual(a, b);
  t.deepEqual(a, c);
  t.is(inner.calls, 1);
  await cassette.close();
  t.is(lines(path).length, 1);
});

test('a strict miss is a CassetteMissError naming the request, and never asks the inner model', async (t) => {
  const path = tempFile(t);
  await record(path);
  const inner = new EchoModel();
  const cassette = await CassetteLanguageModel.open({ path, mode: 'strict', inner });
  const request: CompletionRequest = {
    messages: [{ role: 'user', content: 'A door you never opened.' }],
    seed: 9,
  };
  const error = await t.throwsAsync(cassette.complete(request), {
    instanceOf: CassetteMissError,
    message:
      /no recorded answer for request [0-9a-f]{64} \(1 message\(s\), last user: "A door you never opened\.", temperature 0, seed 9\); record it with mode "record"/,
  });
  t.is(
    error.key,
    cassetteKey({
      kind: 'complete',
      model: 'echo-1',
      messages: [{ role: 'user', content: 'A door you never opened.' }],
      parameters: { temperature: 0, maxTokens: null, stop: null, seed: 9 },
    }),
  );
  t.is(error.endpoint, path);
  t.is(error.model, 'echo-1');
  t.is(inner.calls, 0);
  // A different seed is a different request.
  await t.throwsAsync(cassette.complete({ ...REQUESTS[0]!, seed: 3 }), {
    instanceOf: CassetteMissError,
  });
  await cassette.close();
});

test('replay without an inner model: a miss is a CassetteMissError', async (t) => {
  const path = tempFile(t);
  await record(path);
  const cassette = await CassetteLanguageModel.open({ path });
  t.is(cassette.mode, 'replay');
  await t.throwsAsync(cassette.complete({ messages: [{ role: 'user', content: 'new' }] }), {
    instanceOf: CassetteMissError,
  });
});

test('replay with an inner model records its misses', async (t) => {
  const path = tempFile(t);
  await record(path);
  const inner = new EchoModel();
  const cassette = await CassetteLanguageModel.open({ path, mode: 'replay', inner });
  await cassette.complete(REQUESTS[0]!);
  await cassette.complete({ messages: [{ role: 'user', content: 'new' }] });
  await cassette.close();
  t.is(inner.calls, 1);
  t.is(lines(path).length, 4);
});

test('a truncated last line (a killed run) is ignored, then cut off before the next append', async (t) => {
  const path = tempFile(t);
  const recorded = await record(path);
  const intact = readFileSync(path, 'utf8');
  const lastLine = intact.split('\n')[2]!;
  // The run recording a fourth answer was killed mid-write.
  writeFileSync(path, intact.split('\n').slice(0, 2).join('\n') + '\n' + lastLine.slice(0, 40));
  const cut = readFileSync(path);

  const strict = await CassetteLanguageModel.open({ path, mode: 'strict' });
  t.is(strict.truncatedBytes, 40);
  t.deepEqual(await strict.complete(REQUESTS[0]!), recorded[0]);
  t.deepEqual(await strict.complete(REQUESTS[1]!), recorded[1]);
  await t.throwsAsync(strict.complete(REQUESTS[2]!), { instanceOf: CassetteMissError });
  await strict.close();
  t.deepEqual(readFileSync(path), cut, 'reading never changes the file');

  const inner = new EchoModel();
  const recording = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  t.deepEqual(await recording.complete(REQUESTS[2]!), { ...recorded[2]!, latencyMs: 13.5 });
  await recording.close();
  t.is(inner.calls, 1);
  const file = lines(path);
  t.is(file.length, 3, 'the cut line is gone and the new record is a full line');
  const reopened = await CassetteLanguageModel.open({ path, mode: 'strict' });
  t.is(reopened.truncatedBytes, 0);
  t.is((await reopened.complete(REQUESTS[2]!)).text, recorded[2]!.text);
});

test('a corrupt or edited complete line is a MalformedFileError naming the line', async (t) => {
  const path = tempFile(t);
  await record(path);
  const good = readFileSync(path, 'utf8').split('\n');

  writeFileSync(path, [good[0], '{"v":1,"key":', good[2], ''].join('\n'));
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'strict' }), {
    instanceOf: MalformedFileError,
    message: /Malformed file .*llm\.jsonl at line 2: not valid JSON/,
  });

  const edited = JSON.parse(good[1]!) as {
    response: { text: string };
    request: { messages: { content: string }[] };
  };
  edited.request.messages[1]!.content = 'You see a sword.';
  writeFileSync(path, [good[0], JSON.stringify(edited), ''].join('\n'));
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'strict' }), {
    instanceOf: MalformedFileError,
    message: /at line 2 \$\.key: expected the key of the request/,
  });

  const emptied = JSON.parse(good[0]!) as { response: { text: string } };
  emptied.response.text = '';
  writeFileSync(path, [JSON.stringify(emptied), ''].join('\n'));
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'strict' }), {
    instanceOf: MalformedFileError,
    message: /at line 1 \$\.response\.text: expected a non-empty string/,
  });
});

test('score is recorded and replayed', async (t) => {
  const path = tempFile(t);
  const inner = new EchoModel();
  const cassette = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  t.true(cassette.capabilities.score);
  const scores = await cassette.score('You are in a hall.', [' go north', ' take key']);
  t.is(scores.length, 2);
  t.is(scores[1]!.tokens, 9);
  await cassette.close();
  t.is(inner.calls, 1);
  t.like(lines(path)[0], {
    kind: 'score',
    request: {
      model: 'echo-1',
      prompt: 'You are in a hall.',
      continuations: [' go north', ' take key'],
    },
    response: { provider: 'echo', model: 'echo-1' },
  });

  const replay = await CassetteLanguageModel.open({ path, mode: 'strict' });
  t.true(replay.capabilities.score);
  t.deepEqual(await replay.score('You are in a hall.', [' go north', ' take key']), scores);
  // Order matters: another order is another request.
  await t.throwsAsync(replay.score('You are in a hall.', [' take key', ' go north']), {
    instanceOf: CassetteMissError,
    message: /score of 2 continuation\(s\) after "You are in a hall\."/,
  });
  await t.throwsAsync(replay.complete(REQUESTS[0]!), { instanceOf: CassetteMissError });
});

test('a score miss with an inner model that cannot score is its UnsupportedCapabilityError', async (t) => {
  const path = tempFile(t);
  const cassette = await CassetteLanguageModel.open({
    path,
    mode: 'record',
    inner: new EchoModel('echo-1', false),
  });
  t.false(cassette.capabilities.score);
  await t.throwsAsync(cassette.score('a', [' b']), { instanceOf: UnsupportedCapabilityError });
  await cassette.close();
  t.false(existsSync(path), 'nothing recorded for a failed request');
});

test('an inner answer a cassette could not read back is a MalformedAnswerError, not recorded', async (t) => {
  const path = tempFile(t);
  const inner = new EchoModel();
  inner.complete = (): Promise<Completion> =>
    Promise.resolve({
      text: '',
      usage: { promptTokens: 1, completionTokens: 0 },
      latencyMs: 1,
      provider: 'echo',
      model: 'echo-1',
    });
  inner.score = (): Promise<ScoredContinuation[]> =>
    Promise.resolve([{ logProb: Number.NaN, tokens: 1 }]);
  const cassette = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  await t.throwsAsync(cassette.complete(REQUESTS[0]!), {
    instanceOf: MalformedAnswerError,
    message:
      /inner model \(echo\) answered what a cassette cannot record: .*\$\.response\.text: expected a non-empty string/,
  });
  await t.throwsAsync(cassette.score('p', [' a']), {
    instanceOf: MalformedAnswerError,
    message: /\$\.response\.scores/,
  });
  await cassette.close();
  t.false(existsSync(path));
});

test('bad options are InvalidOptionErrors', async (t) => {
  const path = tempFile(t);
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'record' }), {
    instanceOf: InvalidOptionError,
    message: /cassette\.inner: expected a LanguageModel or provider options/,
  });
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'strict' }), {
    instanceOf: InvalidOptionError,
    message: /cassette\.path: expected an existing cassette file, received ".*llm\.jsonl"/,
  });
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'rewind' as 'record' }), {
    instanceOf: InvalidOptionError,
    message: /cassette\.mode: expected one of record, replay, strict, received "rewind"/,
  });
  await t.throwsAsync(
    CassetteLanguageModel.open({ path, mode: 'record', inner: new EchoModel(), model: 'other' }),
    {
      instanceOf: InvalidOptionError,
      message: /cassette\.model: expected the inner model's name "echo-1"/,
    },
  );
  await t.throwsAsync(
    CassetteLanguageModel.open({ path, mode: 'record', inner: { apiKey: 'sk-zzz' } as never }),
    {
      instanceOf: InvalidOptionError,
      message: /cassette\.inner: .*received "<object, not shown>"/,
    },
  );
  await record(path);
  await record(path, new EchoModel('echo-2'));
  await t.throwsAsync(CassetteLanguageModel.open({ path, mode: 'strict' }), {
    instanceOf: InvalidOptionError,
    message: /one of the models recorded in .*: echo-1, echo-2/,
  });
  const two = await CassetteLanguageModel.open({ path, mode: 'strict', model: 'echo-2' });
  t.is((await two.complete(REQUESTS[0]!)).model, 'echo-2-snapshot');
});

test('canonical JSON sorts keys at every depth, so the key ignores key order', (t) => {
  t.is(
    canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 'x' } }),
    '{"a":{"c":"x","d":[2,{"e":0,"f":1}]},"b":1}',
  );
  const one = cassetteKey({ kind: 'score', model: 'm', prompt: 'p', continuations: ['a'] });
  const two = cassetteKey({ continuations: ['a'], prompt: 'p', model: 'm', kind: 'score' });
  t.is(one, two);
  t.regex(one, /^[0-9a-f]{64}$/);
});

// ---- over the openai provider: the key never reaches the file -------------------------------

test('a cassette over the openai provider never writes the key, and strict replay needs none', async (t) => {
  const key = `sk-secret-${randomBytes(12).toString('hex')}`;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          model: 'tiny-2024',
          choices: [{ index: 0, message: { role: 'assistant', content: 'go north' } }],
          usage: { prompt_tokens: 5, completion_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const path = tempFile(t);
  const inner = {
    provider: 'openai' as const,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: 'tiny',
    apiKey: key,
  };
  const recording = await createLanguageModel({
    provider: 'cassette',
    path,
    mode: 'record',
    inner,
  });
  t.is(recording.model, 'tiny');
  const answer = await recording.complete(REQUESTS[0]!);
  await recording.close();
  t.deepEqual(seen, [`Bearer ${key}`]);
  t.is(answer.text, 'go north');
  t.is(answer.model, 'tiny-2024');
  const text = readFileSync(path, 'utf8');
  t.true(text.includes('"provider":"openai"'));
  t.false(text.includes(key));
  t.false(text.includes('apiKey'));

  // Strict mode does not build the inner model: OpenAI's own API without a key would refuse.
  const strict = await CassetteLanguageModel.open({
    path,
    mode: 'strict',
    inner: { provider: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'tiny' },
  });
  t.deepEqual(await strict.complete(REQUESTS[0]!), answer);
  t.is(seen.length, 1);
});

test('appends are full JSON lines, one per record', async (t) => {
  const path = tempFile(t, 'nested/dir/llm.jsonl');
  const cassette = await CassetteLanguageModel.open({
    path,
    mode: 'record',
    inner: new EchoModel(),
  });
  await Promise.all(REQUESTS.map((r) => cassette.complete(r)));
  await cassette.score('p', [' a']);
  await cassette.close();
  const text = readFileSync(path, 'utf8');
  t.true(text.endsWith('\n'));
  const records = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string });
  t.is(records.length, 4);
  t.is(new Set(records.map((r) => r.key)).size, 4);
  appendFileSync(path, '\n'); // a blank line is harmless
  const reopened = await CassetteLanguageModel.open({ path, mode: 'strict' });
  t.is(reopened.truncatedBytes, 0);
  await t.notThrowsAsync(reopened.complete(REQUESTS[1]!));
});

test('a run killed while recording leaves a cassette that reopens and records on', async (t) => {
  const path = tempFile(t);
  const script = join(dirname(path), 'record-forever.mts');
  const module = pathToFileURL(
    join(dirname(fileURLToPath(import.meta.url)), '../../../agents/llm/providers/cassette.ts'),
  ).href;
  writeFileSync(
    script,
    `import { CassetteLanguageModel } from ${JSON.stringify(module)};
const inner = {
  provider: 'echo', model: 'echo-1', capabilities: { complete: true, score: false },
  complete: async (r) => ({ text: 'x'.repeat(4096) + r.seed, usage: { promptTokens: 1, completionTokens: 1 },
    latencyMs: 1, provider: 'echo', model: 'echo-1' }),
  score: async () => { throw new Error('no'); },
  close: async () => {},
};
const cassette = await CassetteLanguageModel.open({ path: ${JSON.stringify(path)}, mode: 'record', inner });
for (let seed = 0; seed < 5000; seed++)
  await cassette.complete({ messages: [{ role: 'user', content: 'go' }], seed });
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.teardown(() => child.kill('SIGKILL'));
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    if (existsSync(path) && completeLines(readFileSync(path, 'utf8')) >= 20) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited;
  const before = readFileSync(path, 'utf8');
  const complete = completeLines(before);
  t.true(complete >= 20, `${complete} records before the kill`);

  const inner = new EchoModel();
  const cassette = await CassetteLanguageModel.open({ path, mode: 'record', inner });
  t.is(cassette.truncatedBytes, before.length - before.lastIndexOf('\n') - 1);
  const hit = await cassette.complete({ messages: [{ role: 'user', content: 'go' }], seed: 3 });
  t.is(hit.text, `${'x'.repeat(4096)}3`);
  await cassette.complete({ messages: [{ role: 'user', content: 'after the kill' }] });
  await cassette.close();
  t.is(inner.calls, 1);
  t.is(lines(path).length, complete + 1);
});

function completeLines(text: string): number {
  return text.split('\n').length - 1;
}
