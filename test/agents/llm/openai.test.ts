import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import {
  EndpointUnreachableError,
  HttpStatusError,
  LanguageModelError,
  LanguageModelTimeoutError,
  MalformedAnswerError,
  UnsupportedCapabilityError,
  createLanguageModel,
  type CompletionRequest,
} from '../../../agents/llm/language-model.js';
import {
  OpenAiLanguageModel,
  PLACEHOLDER_API_KEY,
  type OpenAiProviderOptions,
} from '../../../agents/llm/providers/openai.js';
import { CassetteLanguageModel } from '../../../agents/llm/providers/cassette.js';

// ---- a loopback server speaking the chat-completions and completions protocols ------------------

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

type Handler = (request: Received, response: ServerResponse, attempt: number) => void;

interface FakeServer {
  baseUrl: string;
  requests: Received[];
  /** Requests being handled now, and the most at once. */
  inFlight: { now: number; max: number };
}

async function fakeServer(t: ExecutionContext, handler: Handler): Promise<FakeServer> {
  const requests: Received[] = [];
  const inFlight = { now: 0, max: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        at: performance.now(),
      };
      requests.push(received);
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      res.on('close', () => inFlight.now--);
      handler(received, res, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, requests, inFlight };
}

function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function chatReply(content: unknown, model = 'tiny-1'): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  };
}

/** Fast settings: no waiting between retries beyond a few ms. */
function options(server: FakeServer, extra: OpenAiProviderOptions = {}): OpenAiProviderOptions {
  return {
    baseUrl: server.baseUrl,
    model: 'tiny',
    apiKey: 'sk-test-key',
    backoffMs: 1,
    maxBackoffMs: 5,
    ...extra,
  };
}

const ASK: CompletionRequest = { messages: [{ role: 'user', content: 'Go north?' }] };

// ---- complete -----------------------------------------------------------------------------------

test('complete sends the request parameters and returns text, usage, provider and model', async (t) => {
  const server = await fakeServer(t, (_req, res) =>
    json(res, 200, chatReply('north', 'tiny-2024')),
  );
  const lm = new OpenAiLanguageModel(options(server));
  const completion = await lm.complete({
    messages: [
      { role: 'system', content: 'You play a text adventure.' },
      { role: 'user', content: 'Go north?' },
    ],
    temperature: 0.5,
    maxTokens: 12,
    stop: ['\n'],
    seed: 42,
  });
  t.is(completion.text, 'north');
  t.deepEqual(completion.usage, { promptTokens: 7, completionTokens: 3 });
  t.is(completion.provider, 'openai');
  t.is(completion.model, 'tiny-2024');
  t.true(completion.latencyMs >= 0);
  t.is(server.requests.length, 1);
  const [received] = server.requests;
  t.is(received!.method, 'POST');
  t.is(received!.path, '/v1/chat/completions');
  t.is(received!.headers.authorization, 'Bearer sk-test-key');
  t.like(received!.body, {
    model: 'tiny',
    temperature: 0.5,
    max_tokens: 12,
    stop: ['\n'],
    seed: 42,
  });
  t.deepEqual(received!.body['messages'], [
    { role: 'system', content: 'You play a text adventure.' },
    { role: 'user', content: 'Go north?' },
  ]);
});

test('complete sends temperature 0 when the request has none, and omits absent parameters', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, chatReply('ok')));
  await new OpenAiLanguageModel(options(server)).complete(ASK);
  const body = server.requests[0]!.body;
  t.is(body['temperature'], 0);
  t.false('max_tokens' in body);
  t.false('stop' in body);
  t.false('seed' in body);
});

test('a 429 is retried and the next answer is returned', async (t) => {
  const server = await fakeServer(t, (_req, res, attempt) =>
    attempt === 1
      ? json(res, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '0' })
      : json(res, 200, chatReply('after the wait')),
  );
  const completion = await new OpenAiLanguageModel(options(server)).complete(ASK);
  t.is(completion.text, 'after the wait');
  t.is(server.requests.length, 2);
});

test.serial('Retry-After is honoured and capped at maxBackoffMs', async (t) => {
  const server = await fakeServer(t, (_req, res, attempt) =>
    attempt === 1
      ? json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '5' })
      : json(res, 200, chatReply('ok')),
  );
  await new OpenAiLanguageModel(options(server, { backoffMs: 1, maxBackoffMs: 200 })).complete(ASK);
  const gap = server.requests[1]!.at - server.requests[0]!.at;
  t.true(gap >= 190, `waited ${gap} ms, expected the capped Retry-After of 200 ms`);
  t.true(gap < 2000, `waited ${gap} ms: Retry-After (5 s) was not capped`);
});

test('5xx answers are retried until the retries are exhausted', async (t) => {
  const server = await fakeServer(t, (_req, res) =>
    json(res, 500, { error: { message: 'The server had an error' } }),
  );
  const lm = new OpenAiLanguageModel(options(server, { maxRetries: 2 }));
  const error = await t.throwsAsync(lm.complete(ASK), {
    instanceOf: HttpStatusError,
    message: /HTTP 500: The server had an error \(chat\.completions\) \(after 3 attempts\)/,
  });
  t.is(error.status, 500);
  t.is(error.endpoint, server.baseUrl);
  t.is(error.model, 'tiny');
  t.is(server.requests.length, 3);
});

test('a 4xx other than 429 is not retried', async (t) => {
  const server = await fakeServer(t, (_req, res) =>
    json(res, 400, { error: { message: "'messages' is too long" } }),
  );
  const lm = new OpenAiLanguageModel(options(server, { maxRetries: 3 }));
  const error = await t.throwsAsync(lm.complete(ASK), {
    instanceOf: HttpStatusError,
    message: /HTTP 400: 'messages' is too long/,
  });
  t.is(error.status, 400);
  t.is(server.requests.length, 1);
});

test('an unknown model (404) says the model name is wrong', async (t) => {
  const server = await fakeServer(t, (_req, res) =>
    json(res, 404, {
      error: {
        message: 'The model `nope` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      },
    }),
  );
  const lm = new OpenAiLanguageModel(options(server, { model: 'nope' }));
  const error = await t.throwsAsync(lm.complete(ASK), {
    instanceOf: HttpStatusError,
    message:
      /Language model nope \(openai at http:\/\/127\.0\.0\.1:\d+\/v1\).*HTTP 404.*the model name "nope" is wrong/,
  });
  t.is(error.status, 404);
  t.is(server.requests.length, 1);
});

// Timing tests run serially, before the concurrent ones load the machine.
test.serial('a request without an answer times out (and is retried)', async (t) => {
  const server = await fakeServer(t, () => {
    // never answers
  });
  const lm = new OpenAiLanguageModel(options(server, { timeoutMs: 300, maxRetries: 1 }));
  const started = performance.now();
  const error = await t.throwsAsync(lm.complete(ASK), {
    instanceOf: LanguageModelTimeoutError,
    message: /no answer within 300 ms/,
  });
  t.is(error.timeoutMs, 300);
  t.is(server.requests.length, 2);
  t.true(performance.now() - started < 3000);
});

test.serial('a body that stalls after the headers times out too', async (t) => {
  const server = await fakeServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"choices": [');
  });
  const lm = new OpenAiLanguageModel(options(server, { timeoutMs: 300, maxRetries: 0 }));
  await t.throwsAsync(lm.complete(ASK), { instanceOf: LanguageModelTimeoutError });
  t.is(server.requests.length, 1);
});

test('a body that is not JSON is a MalformedAnswerError, not retried', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, '{"choices": [ oops'));
  const lm = new OpenAiLanguageModel(options(server));
  await t.throwsAsync(lm.complete(ASK), {
    instanceOf: MalformedAnswerError,
    message:
      /tiny \(openai at http:\/\/127\.0\.0\.1:\d+\/v1\): malformed answer from chat\.completions: the body is not valid JSON/,
  });
  t.is(server.requests.length, 1);
});

test('a JSON body without choices is a MalformedAnswerError', async (t) => {
  const server = await fakeServer(t, (_req, res) =>
    json(res, 200, { id: 'x', object: 'chat.completion' }),
  );
  await t.throwsAsync(new OpenAiLanguageModel(options(server)).complete(ASK), {
    instanceOf: MalformedAnswerError,
    message: /expected a non-empty array "choices"; received \{ id: 'x'/,
  });
});

test('an empty reply is a MalformedAnswerError, never an empty string', async (t) => {
  const replies: unknown[] = [
    chatReply(''),
    chatReply(null),
    { ...chatReply('x'), choices: [] },
    { ...chatReply('x'), usage: undefined },
  ];
  const server = await fakeServer(t, (_req, res, attempt) => json(res, 200, replies[attempt - 1]));
  const lm = new OpenAiLanguageModel(options(server));
  await t.throwsAsync(lm.complete(ASK), {
    instanceOf: MalformedAnswerError,
    message: /reply is empty/,
  });
  await t.throwsAsync(lm.complete(ASK), {
    instanceOf: MalformedAnswerError,
    message: /expected a string at choices\[0\]\.message\.content/,
  });
  await t.throwsAsync(lm.complete(ASK), { instanceOf: MalformedAnswerError, message: /"choices"/ });
  await t.throwsAsync(lm.complete(ASK), { instanceOf: MalformedAnswerError, message: /usage/ });
  t.is(server.requests.length, 4);
});

/** A loopback port nothing listens on (a server's, closed). */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

test('an unreachable port is an EndpointUnreachableError after the retries', async (t) => {
  const port = await closedPort();
  const lm = new OpenAiLanguageModel({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: 'tiny',
    apiKey: 'sk-test-key',
    maxRetries: 2,
    backoffMs: 1,
    maxBackoffMs: 5,
  });
  const error = await t.throwsAsync(lm.complete(ASK), {
    instanceOf: EndpointUnreachableError,
    message: new RegExp(
      `tiny \\(openai at http://127\\.0\\.0\\.1:${port}/v1\\): cannot reach the endpoint \\(ECONNREFUSED\\) \\(after 3 attempts\\)`,
    ),
  });
  t.is(error.endpoint, `http://127.0.0.1:${port}/v1`);
});

test('the concurrency limit holds: no more requests in flight than allowed', async (t) => {
  const handler: Handler = (_req, res) => {
    setTimeout(() => json(res, 200, chatReply('ok')), 40);
  };
  const limited = await fakeServer(t, handler);
  const lm = new OpenAiLanguageModel(options(limited, { concurrency: 2 }));
  await Promise.all(Array.from({ length: 8 }, () => lm.complete(ASK)));
  t.is(limited.requests.length, 8);
  t.is(limited.inFlight.max, 2);
  // The same load with a higher limit does overlap more: the counter sees parallel requests.
  const wide = await fakeServer(t, handler);
  const lmWide = new OpenAiLanguageModel(options(wide, { concurrency: 8 }));
  await Promise.all(Array.from({ length: 8 }, () => lmWide.complete(ASK)));
  t.true(wide.inFlight.max > 2, `max in flight ${wide.inFlight.max}`);
});

// ---- score --------------------------------------------------------------------------------------

/** Splits text into tokens "word" / " word" and gives each the log-prob −(its length)/10. */
function echoLogprobs(text: string): Record<string, unknown> {
  const tokens = text.match(/ ?[^ ]+/gu) ?? [];
  const offsets: number[] = [];
  let offset = 0; // in code points, as Python servers count
  for (const token of tokens) {
    offsets.push(offset);
    offset += Array.from(token).length;
  }
  return {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 0,
    model: 'tiny',
    choices: [
      {
        index: 0,
        text,
        finish_reason: 'length',
        logprobs: {
          tokens,
          token_logprobs: tokens.map((tok, i) => (i === 0 ? null : -Array.from(tok).length / 10)),
          text_offset: offsets,
          top_logprobs: null,
        },
      },
    ],
    usage: { prompt_tokens: tokens.length, completion_tokens: 0, total_tokens: tokens.length },
  };
}

test('score sums the log-probs of the tokens after the prompt (echo + logprobs)', async (t) => {
  const server = await fakeServer(t, (req, res) =>
    json(res, 200, echoLogprobs(req.body['prompt'] as string)),
  );
  const lm = new OpenAiLanguageModel(options(server, { scoreWithLogprobs: true }));
  t.true(lm.capabilities.score);
  // The emoji is 2 UTF-16 units but 1 code point: offsets are code points.
  const scores = await lm.score('Rain 🌧 falls', [' down today', ' up']);
  t.is(scores.length, 2);
  t.is(scores[0]!.tokens, 2);
  t.true(Math.abs(scores[0]!.logProb - -(5 + 6) / 10) < 1e-12);
  t.is(scores[1]!.tokens, 1);
  t.true(Math.abs(scores[1]!.logProb - -3 / 10) < 1e-12);
  t.is(server.requests.length, 2);
  const prompts = server.requests.map((r) => r.body['prompt']).sort();
  t.deepEqual(prompts, ['Rain 🌧 falls down today', 'Rain 🌧 falls up']);
  for (const r of server.requests) {
    t.is(r.path, '/v1/completions');
    t.like(r.body, { model: 'tiny', echo: true, logprobs: 1, max_tokens: 0 });
  }
});

test('score of a continuation merged into the prompt token is a MalformedAnswerError', async (t) => {
  const server = await fakeServer(t, (req, res) =>
    json(res, 200, echoLogprobs(req.body['prompt'] as string)),
  );
  const lm = new OpenAiLanguageModel(options(server, { scoreWithLogprobs: true }));
  await t.throwsAsync(lm.score('Go nor', ['th']), {
    instanceOf: MalformedAnswerError,
    message: /no token starts at or after the prompt's end \(offset 6\)/,
  });
});

test('score without scoreWithLogprobs is an UnsupportedCapabilityError', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, chatReply('x')));
  const lm = new OpenAiLanguageModel(options(server));
  t.false(lm.capabilities.score);
  await t.throwsAsync(lm.score('a', [' b']), {
    instanceOf: UnsupportedCapabilityError,
    message: /expected scoreWithLogprobs: true/,
  });
  t.is(server.requests.length, 0);
});

test('score of a server without logprobs is a MalformedAnswerError', async (t) => {
  const server = await fakeServer(t, (req, res) => {
    const reply = echoLogprobs(req.body['prompt'] as string);
    (reply['choices'] as Record<string, unknown>[])[0]!['logprobs'] = null;
    json(res, 200, reply);
  });
  const lm = new OpenAiLanguageModel(options(server, { scoreWithLogprobs: true }));
  await t.throwsAsync(lm.score('Go', [' north']), {
    instanceOf: MalformedAnswerError,
    message: /expected choices\[0\]\.logprobs/,
  });
});

// ---- the key stays secret -----------------------------------------------------------------------

test('the API key never appears in errors, their causes, the model, or files written', async (t) => {
  const key = `sk-secret-${randomBytes(12).toString('hex')}`;
  // A server that echoes the key back in its error messages and bodies (some do, masked or not).
  const server = await fakeServer(t, (req, res) => {
    const sent = req.headers.authorization ?? '';
    const content = (req.body['messages'] as { content: string }[] | undefined)?.[0]?.content;
    if (content === '401') json(res, 401, { error: { message: `Incorrect API key: ${sent}` } });
    else if (content === '500') json(res, 500, { error: { message: `boom for ${sent}` } });
    else if (content === 'malformed') json(res, 200, { choices: [], echo: sent });
    else if (content === 'timeout') return;
    else json(res, 200, chatReply(`hello ${content}`));
  });
  const lm = new OpenAiLanguageModel({ ...options(server), apiKey: key, maxRetries: 1 });
  const errors: unknown[] = [];
  for (const content of ['401', '500', 'malformed'])
    errors.push(await t.throwsAsync(lm.complete({ messages: [{ role: 'user', content }] })));
  const impatient = new OpenAiLanguageModel({ ...options(server), apiKey: key, timeoutMs: 300 });
  errors.push(
    await t.throwsAsync(impatient.complete({ messages: [{ role: 'user', content: 'timeout' }] })),
  );
  t.true(
    server.requests.every((r) => r.headers.authorization === `Bearer ${key}`),
    'the key was sent',
  );
  const unreachable = new OpenAiLanguageModel({
    baseUrl: `http://127.0.0.1:${await closedPort()}/v1`,
    model: 'tiny',
    apiKey: key,
    maxRetries: 0,
  });
  errors.push(await t.throwsAsync(unreachable.complete(ASK)));
  errors.push(
    t.throws(() => new OpenAiLanguageModel({ ...options(server), apikey: key } as never)),
  );
  t.is(errors.length, 6);
  t.true(errors[0] instanceof HttpStatusError);
  t.true(errors[2] instanceof MalformedAnswerError);
  t.true(errors[3] instanceof LanguageModelTimeoutError);
  t.true(errors[4] instanceof EndpointUnreachableError);
  t.true(errors[5] instanceof InvalidOptionError);
  for (const error of errors) {
    const shown = [
      (error as Error).message,
      String(error),
      inspect(error, { depth: Infinity, showHidden: true }),
      inspect((error as Error).cause, { depth: Infinity, showHidden: true }),
    ];
    for (const text of shown) t.false(text.includes(key), `key leaked in: ${text.slice(0, 300)}`);
  }
  t.regex((errors[0] as Error).message, /\[redacted\]/); // the echoed key was cut out, not the message
  t.false(inspect(lm, { depth: Infinity, showHidden: true }).includes(key));
  t.false(JSON.stringify(lm).includes(key));

  // A cassette recorded through this provider holds no trace of the key.
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-openai-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cassette = await CassetteLanguageModel.open({
    path: join(dir, 'llm.jsonl'),
    mode: 'record',
    inner: { provider: 'openai', ...options(server), apiKey: key },
  });
  t.is((await cassette.complete({ messages: [{ role: 'user', content: 'hi' }] })).text, 'hello hi');
  await cassette.close();
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    t.true(text.includes('hello hi'));
    t.false(text.includes(key));
  }
});

// ---- options ------------------------------------------------------------------------------------

test('options default to WMGYM_LLM_BASE_URL, WMGYM_LLM_MODEL and a placeholder key', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, chatReply('ok')));
  const saved = { ...process.env };
  let lm: OpenAiLanguageModel;
  try {
    process.env['WMGYM_LLM_BASE_URL'] = server.baseUrl;
    process.env['WMGYM_LLM_MODEL'] = 'env-model';
    delete process.env['OPENAI_API_KEY'];
    lm = new OpenAiLanguageModel({ backoffMs: 1, maxBackoffMs: 5 });
  } finally {
    process.env = saved;
  }
  t.is(lm.model, 'env-model');
  t.is(lm.endpoint, server.baseUrl);
  await lm.complete(ASK);
  t.is(server.requests[0]!.headers.authorization, `Bearer ${PLACEHOLDER_API_KEY}`);
  t.is(server.requests[0]!.body['model'], 'env-model');
});

test('bad options are InvalidOptionErrors saying what was received and what is allowed', (t) => {
  const base = { baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: 'k' };
  t.throws(() => new OpenAiLanguageModel({ ...base, concurrency: 0 }), {
    instanceOf: InvalidOptionError,
    message: /openai\.concurrency: expected an integer >= 1, received 0/,
  });
  t.throws(() => new OpenAiLanguageModel({ ...base, maxRetries: -1 }), {
    instanceOf: InvalidOptionError,
    message: /openai\.maxRetries/,
  });
  t.throws(() => new OpenAiLanguageModel({ ...base, baseUrl: 'localhost:11434' }), {
    instanceOf: InvalidOptionError,
    message: /openai\.baseUrl: expected an http\(s\) URL/,
  });
  t.throws(() => new OpenAiLanguageModel({ ...base, baseUrl: 'http://u:secret@host/v1' }), {
    instanceOf: InvalidOptionError,
    message: /without user:password@, received "http:\/\/\*\*\*@host\/v1"/,
  });
  t.throws(() => new OpenAiLanguageModel({ ...base, timeout: 5 } as never), {
    instanceOf: InvalidOptionError,
    message: /openai\.timeout: expected one of the known options.*received "<number, not shown>"/,
  });
  t.throws(() => new OpenAiLanguageModel({ ...base, backoffMs: 10, maxBackoffMs: 5 }), {
    instanceOf: InvalidOptionError,
    message: /maxBackoffMs: expected a number >= backoffMs \(10\), received 5/,
  });
  const saved = { ...process.env };
  try {
    delete process.env['WMGYM_LLM_MODEL'];
    delete process.env['WMGYM_LLM_BASE_URL'];
    delete process.env['OPENAI_API_KEY'];
    t.throws(() => new OpenAiLanguageModel({ baseUrl: base.baseUrl }), {
      instanceOf: InvalidOptionError,
      message: /openai\.model: expected a model name.*WMGYM_LLM_MODEL/,
    });
    t.throws(() => new OpenAiLanguageModel({ model: 'gpt-4o-mini' }), {
      instanceOf: InvalidOptionError,
      message:
        /openai\.apiKey: expected an API key for https:\/\/api\.openai\.com\/v1.*OPENAI_API_KEY/,
    });
  } finally {
    process.env = saved;
  }
});

test('bad requests are InvalidOptionErrors before anything is sent', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, chatReply('ok')));
  const lm = new OpenAiLanguageModel(options(server));
  await t.throwsAsync(lm.complete({ messages: [] }), {
    instanceOf: InvalidOptionError,
    message: /complete request\.messages: expected a non-empty array/,
  });
  await t.throwsAsync(lm.complete({ ...ASK, temperature: Number.NaN }), {
    instanceOf: InvalidOptionError,
    message: /temperature: expected a finite number >= 0, received NaN/,
  });
  await t.throwsAsync(lm.complete({ messages: [{ role: 'robot' as 'user', content: 'x' }] }), {
    instanceOf: InvalidOptionError,
    message: /messages\[0\]\.role: expected one of system, user, assistant/,
  });
  await t.throwsAsync(lm.complete({ ...ASK, topP: 1 } as CompletionRequest), {
    instanceOf: InvalidOptionError,
    message: /complete request\.topP/,
  });
  t.is(server.requests.length, 0);
});

test('createLanguageModel builds the provider by name', async (t) => {
  const server = await fakeServer(t, (_req, res) => json(res, 200, chatReply('via registry')));
  const lm = await createLanguageModel({ provider: 'openai', ...options(server) });
  t.true(lm instanceof OpenAiLanguageModel);
  t.is((await lm.complete(ASK)).text, 'via registry');
});

test('close aborts requests in flight and refuses later ones', async (t) => {
  const server = await fakeServer(t, () => {
    // never answers
  });
  const lm = new OpenAiLanguageModel(options(server));
  const pending = lm.complete(ASK);
  while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await lm.close();
  await t.throwsAsync(pending, { instanceOf: LanguageModelError, message: /closed/ });
  await t.throwsAsync(lm.complete(ASK), {
    instanceOf: LanguageModelError,
    message: /after close\(\)/,
  });
});
