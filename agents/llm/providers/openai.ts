/**
 * The `openai` provider: any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
 * llama.cpp's server, LM Studio) through the official `openai` SDK.
 *
 * - Options come from {@link OpenAiProviderOptions}, else the environment: `WMGYM_LLM_BASE_URL`,
 *   `WMGYM_LLM_MODEL`, `OPENAI_API_KEY`. A server other than OpenAI's that needs no key gets a
 *   placeholder one; OpenAI's own API without a key is an {@link InvalidOptionError}.
 * - The retry policy is ours (the SDK's retries are off): a network error, a timeout, a 429 or a
 *   5xx is retried up to `maxRetries` times after a jittered exponential backoff (`backoffMs`,
 *   doubled per retry, drawn in [½, 1] of that, at most `maxBackoffMs`); a `Retry-After` (or
 *   `retry-after-ms`) header replaces the backoff, capped at `maxBackoffMs`. Any other 4xx fails
 *   at once.
 * - Each attempt has its own deadline, `timeoutMs`, over the whole exchange (headers and body);
 *   at most `concurrency` attempts are in flight at once (a retry waiting out its backoff holds
 *   no slot).
 * - Failures are typed: {@link EndpointUnreachableError} (connection refused, DNS, reset),
 *   {@link HttpStatusError} (a 404 for a chat request says the model name is wrong),
 *   {@link LanguageModelTimeoutError}, {@link MalformedAnswerError} (a body that is not JSON, no
 *   choices, an empty or non-string reply, missing usage). Messages name the endpoint and the
 *   model, never the key: it is removed from any text the server sends back, and a wrapped cause
 *   that shows it is replaced by a redacted copy.
 * - `score` (only with `scoreWithLogprobs: true`, for servers that return prompt log-probabilities:
 *   vLLM, llama.cpp's server, OpenAI's legacy completions) asks the completions endpoint for
 *   `prompt + continuation` with `echo: true, logprobs: 1, max_tokens: 0`, one request per
 *   continuation, and sums the log-probabilities of the tokens whose text offset is at or after
 *   the prompt's end. Offsets count Unicode code points, as those servers (Python) do. A token
 *   that straddles the prompt's end belongs to the prompt; a continuation left with no token of
 *   its own is a {@link MalformedAnswerError} (end the prompt at a word boundary).
 *
 * `complete` sends `temperature` (0 when absent), `max_tokens`, `stop` and `seed`, and returns the
 * model name the server reports (e.g. a dated snapshot) with the usage; `latencyMs` is the wall
 * time of the call, retries included.
 *
 * @example
 * const lm = await createLanguageModel({
 *   provider: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', model: 'qwen2.5:0.5b' });
 * const { text } = await lm.complete({ messages: [{ role: 'user', content: 'Say hi' }], seed: 1 });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import { resolveConfig, type ConfigRules } from '../../options.js';
import {
  EndpointUnreachableError,
  HttpStatusError,
  LanguageModelError,
  LanguageModelTimeoutError,
  MalformedAnswerError,
  UnsupportedCapabilityError,
  checkCompletionRequest,
  checkScoreArguments,
  registerLanguageModelProvider,
  type Completion,
  type CompletionRequest,
  type LanguageModel,
  type LanguageModelCapabilities,
  type ScoredContinuation,
} from '../language-model.js';

declare module '../language-model.js' {
  interface LanguageModelProviderOptions {
    openai: OpenAiProviderOptions;
  }
}

/** Options of the `openai` provider; every field is optional. */
export interface OpenAiProviderOptions {
  /** API root, up to and including `/v1`. @defaultValue `WMGYM_LLM_BASE_URL`, else OpenAI's */
  baseUrl?: string;
  /** Model name as the server knows it (needed here or there). @defaultValue `WMGYM_LLM_MODEL` */
  model?: string;
  /** API key. @defaultValue `OPENAI_API_KEY`, else a placeholder for servers that need none */
  apiKey?: string;
  /** Deadline of one attempt (headers and body), ms. @defaultValue 120000 */
  timeoutMs?: number;
  /** Retries after a network error, a timeout, a 429 or a 5xx. @defaultValue 3 */
  maxRetries?: number;
  /** Most requests in flight at once. @defaultValue 4 */
  concurrency?: number;
  /** Backoff before the first retry, ms (doubled per retry, jittered). @defaultValue 500 */
  backoffMs?: number;
  /** Longest wait between attempts, ms; caps `Retry-After` too. @defaultValue 30000 */
  maxBackoffMs?: number;
  /** The server returns prompt log-probs with `echo` (enables `score`). @defaultValue false */
  scoreWithLogprobs?: boolean;
}

/** The resolved retry, timeout and concurrency settings (endpoint and model are properties). */
export interface OpenAiConfig {
  /** Deadline of one attempt, ms. @defaultValue 120000 */
  timeoutMs: number;
  /** Retries after a network error, a timeout, a 429 or a 5xx. @defaultValue 3 */
  maxRetries: number;
  /** Most requests in flight at once. @defaultValue 4 */
  concurrency: number;
  /** Backoff before the first retry, ms. @defaultValue 500 */
  backoffMs: number;
  /** Longest wait between attempts, ms. @defaultValue 30000 */
  maxBackoffMs: number;
  /** `score` is enabled. @defaultValue false */
  scoreWithLogprobs: boolean;
}

/** Defaults of {@link OpenAiConfig}. */
export const OPENAI_DEFAULTS: Readonly<OpenAiConfig> = Object.freeze({
  timeoutMs: 120_000,
  maxRetries: 3,
  concurrency: 4,
  backoffMs: 500,
  maxBackoffMs: 30_000,
  scoreWithLogprobs: false,
});

const RULES: ConfigRules<OpenAiConfig> = {
  timeoutMs: { kind: 'number', integer: true, min: 1 },
  maxRetries: { kind: 'number', integer: true, min: 0, max: 100 },
  concurrency: { kind: 'number', integer: true, min: 1 },
  backoffMs: { kind: 'number', min: 0 },
  maxBackoffMs: { kind: 'number', min: 0 },
  scoreWithLogprobs: { kind: 'boolean' },
};

/** OpenAI's API root, the base URL when neither the option nor `WMGYM_LLM_BASE_URL` gives one. */
export const OPENAI_API_ROOT = 'https://api.openai.com/v1';
/** The key sent to a server other than OpenAI's when none is given (local servers ignore it). */
export const PLACEHOLDER_API_KEY = 'wmgym-no-key';

const OPTION_KEYS = ['baseUrl', 'model', 'apiKey', ...Object.keys(RULES)];
const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENETDOWN|ETIMEDOUT|EPIPE|ECONNABORTED|UND_ERR_\w+)$/;
const SHOWN_BODY = 300;
const TIMED_OUT = Symbol('timed out');

/** Why one attempt failed; `retryable` failures are tried again while retries remain. */
type Failure =
  | { kind: 'timeout'; cause: unknown }
  | { kind: 'unreachable'; code: string; cause: unknown }
  | {
      kind: 'status';
      status: number;
      detail: string;
      retryAfterMs: number | undefined;
      cause: unknown;
    }
  | { kind: 'closed'; cause: unknown }
  | { kind: 'other'; cause: unknown };

type Route = 'chat.completions' | 'completions';

/** A language model behind an OpenAI-compatible HTTP endpoint; see the module comment. */
export class OpenAiLanguageModel implements LanguageModel {
  readonly provider = 'openai';
  readonly model: string;
  readonly capabilities: LanguageModelCapabilities;
  /** The API root, without credentials, query or trailing slash (as errors show it). */
  readonly endpoint: string;
  /** Retry, timeout and concurrency settings. */
  readonly config: Readonly<OpenAiConfig>;
  // Private fields (not properties) so that neither util.inspect nor JSON.stringify of the model
  // shows the client, which holds the key.
  readonly #client: OpenAI;
  readonly #secret: string | undefined;
  readonly #limiter: Limiter;
  readonly #closing = new AbortController();

  /** @throws {@link InvalidOptionError} for an unknown option, a bad value, or no model. */
  constructor(options: OpenAiProviderOptions = {}) {
    const raw: unknown = options;
    if (!isRecord(raw)) throw new InvalidOptionError('openai options', raw, 'an object of options');
    const fields = raw;
    for (const key of Object.keys(fields))
      if (!OPTION_KEYS.includes(key))
        throw new InvalidOptionError(
          `openai.${key}`,
          hidden(fields[key]),
          `one of the known options (${OPTION_KEYS.join(', ')})`,
          'Unknown option',
        );
    const { baseUrl: baseOption, model: modelOption, apiKey: keyOption, ...rest } = fields;
    this.config = Object.freeze(resolveConfig('openai', OPENAI_DEFAULTS, RULES, rest));
    if (this.config.maxBackoffMs < this.config.backoffMs)
      throw new InvalidOptionError(
        'openai.maxBackoffMs',
        this.config.maxBackoffMs,
        `a number >= backoffMs (${this.config.backoffMs})`,
      );

    const baseUrl =
      pickString('openai.baseUrl', baseOption, 'WMGYM_LLM_BASE_URL') ?? OPENAI_API_ROOT;
    const url = parseBaseUrl(baseUrl);
    this.endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    const model = pickString('openai.model', modelOption, 'WMGYM_LLM_MODEL');
    if (model === undefined)
      throw new InvalidOptionError(
        'openai.model',
        undefined,
        'a model name the server serves',
        'Pass options.model or set WMGYM_LLM_MODEL',
      );
    this.model = model;

    if (keyOption !== undefined && (typeof keyOption !== 'string' || keyOption.length === 0))
      throw new InvalidOptionError('openai.apiKey', hidden(keyOption), 'a non-empty string');
    const envKey = process.env['OPENAI_API_KEY'];
    const key = keyOption ?? (envKey === undefined || envKey === '' ? undefined : envKey);
    if (key === undefined && url.hostname === 'api.openai.com')
      throw new InvalidOptionError(
        'openai.apiKey',
        undefined,
        `an API key for ${this.endpoint}`,
        'Pass options.apiKey or set OPENAI_API_KEY',
      );
    this.#secret = key;
    this.#client = new OpenAI({
      baseURL: url.href.replace(/\/+$/, ''),
      apiKey: key ?? PLACEHOLDER_API_KEY,
      maxRetries: 0,
      timeout: this.config.timeoutMs,
      logLevel: 'off',
    });
    this.#limiter = new Limiter(this.config.concurrency);
    this.capabilities = Object.freeze({ complete: true, score: this.config.scoreWithLogprobs });
  }

  /**
   * Asks the chat-completions endpoint for a reply.
   * @throws {@link InvalidOptionError} for a bad request; {@link LanguageModelError} otherwise.
   */
  async complete(request: CompletionRequest): Promise<Completion> {
    const checked = checkCompletionRequest(request, 'complete request');
    this.checkOpen('complete');
    const started = performance.now();
    const body = {
      model: this.model,
      messages: checked.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: checked.temperature ?? 0,
      ...(checked.maxTokens === undefined ? {} : { max_tokens: checked.maxTokens }),
      ...(checked.stop === undefined ? {} : { stop: [...checked.stop] }),
      ...(checked.seed === undefined ? {} : { seed: checked.seed }),
    };
    const answer = await this.send('chat.completions', (signal) =>
      this.#client.chat.completions.create(body, { signal, maxRetries: 0 }),
    );
    const malformed = (problem: string): MalformedAnswerError =>
      new MalformedAnswerError(
        this.provider,
        this.endpoint,
        this.model,
        `malformed answer from chat.completions: ${problem}; received ${this.show(answer)}`,
      );
    if (!isRecord(answer)) throw malformed('expected a JSON object');
    const choices = answer['choices'];
    if (!Array.isArray(choices) || choices.length === 0)
      throw malformed('expected a non-empty array "choices"');
    const first: unknown = choices[0];
    const message = isRecord(first) ? first['message'] : undefined;
    const content = isRecord(message) ? message['content'] : undefined;
    if (typeof content !== 'string')
      throw malformed('expected a string at choices[0].message.content');
    if (content.length === 0) throw malformed('the reply is empty (choices[0].message.content "")');
    const usage = answer['usage'];
    const promptTokens = isRecord(usage) ? usage['prompt_tokens'] : undefined;
    const completionTokens = isRecord(usage) ? usage['completion_tokens'] : undefined;
    if (!isCount(promptTokens) || !isCount(completionTokens))
      throw malformed('expected usage.prompt_tokens and usage.completion_tokens (integers >= 0)');
    const served = answer['model'];
    return {
      text: content,
      usage: { promptTokens, completionTokens },
      latencyMs: performance.now() - started,
      provider: this.provider,
      model: typeof served === 'string' && served.length > 0 ? served : this.model,
    };
  }

  /**
   * Log-probabilities of continuations from the completions endpoint (`echo` + `logprobs`).
   * @throws {@link UnsupportedCapabilityError} unless `scoreWithLogprobs` is true.
   */
  async score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]> {
    if (!this.capabilities.score)
      throw new UnsupportedCapabilityError(
        this.provider,
        this.endpoint,
        this.model,
        'score needs prompt log-probabilities: expected scoreWithLogprobs: true (for servers that return them with echo: vLLM, llama.cpp, OpenAI legacy completions), received false',
      );
    checkScoreArguments(prompt, continuations, 'score');
    this.checkOpen('score');
    return Promise.all(continuations.map((c) => this.scoreOne(prompt, c)));
  }

  /** Aborts requests in flight; later calls fail. */
  close(): Promise<void> {
    this.#closing.abort();
    return Promise.resolve();
  }

  private async scoreOne(prompt: string, continuation: string): Promise<ScoredContinuation> {
    const text = prompt + continuation;
    const answer = await this.send('completions', (signal) =>
      this.#client.completions.create(
        { model: this.model, prompt: text, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 },
        { signal, maxRetries: 0 },
      ),
    );
    const malformed = (problem: string): MalformedAnswerError =>
      new MalformedAnswerError(
        this.provider,
        this.endpoint,
        this.model,
        `malformed answer from completions (echo + logprobs): ${problem}; received ${this.show(answer)}`,
      );
    if (!isRecord(answer)) throw malformed('expected a JSON object');
    const choices = answer['choices'];
    const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
    if (!isRecord(first)) throw malformed('expected a non-empty array "choices"');
    const logprobs = first['logprobs'];
    if (!isRecord(logprobs))
      throw malformed('expected choices[0].logprobs (does the server support echo with logprobs?)');
    const offsets = logprobs['text_offset'];
    const values = logprobs['token_logprobs'];
    if (
      !Array.isArray(offsets) ||
      !Array.isArray(values) ||
      offsets.length !== values.length ||
      !offsets.every(isCount)
    )
      throw malformed('expected arrays text_offset (integers) and token_logprobs of one length');
    const start = codePoints(prompt);
    const end = start + codePoints(continuation);
    let logProb = 0;
    let tokens = 0;
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i]!;
      if (offset < start || offset >= end) continue;
      const value: unknown = values[i];
      if (typeof value !== 'number' || Number.isNaN(value))
        throw malformed(`expected a number at token_logprobs[${i}] (offset ${offset})`);
      logProb += value;
      tokens += 1;
    }
    if (tokens === 0)
      throw malformed(
        `no token starts at or after the prompt's end (offset ${start}): the continuation ${JSON.stringify(continuation)} merged into the prompt's last token; end the prompt at a word boundary`,
      );
    return { logProb, tokens };
  }

  /** One request under the retry policy; returns the parsed body or throws a typed error. */
  private async send(
    route: Route,
    call: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<unknown> {
    const { maxRetries, backoffMs, maxBackoffMs } = this.config;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#limiter.run(() => this.attempt(call));
      if (outcome.ok) return outcome.value;
      const failure = outcome.failure;
      const retryable =
        failure.kind === 'timeout' ||
        failure.kind === 'unreachable' ||
        (failure.kind === 'status' && (failure.status === 429 || failure.status >= 500));
      if (!retryable || attempt > maxRetries) throw this.toError(route, failure, attempt);
      const backoff = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
      const wait =
        failure.kind === 'status' && failure.retryAfterMs !== undefined
          ? Math.min(maxBackoffMs, failure.retryAfterMs)
          : backoff * (0.5 + 0.5 * Math.random());
      try {
        await sleep(wait, undefined, { signal: this.#closing.signal });
      } catch (error) {
        throw this.toError(route, { kind: 'closed', cause: error }, attempt);
      }
    }
  }

  private async attempt(
    call: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<{ ok: true; value: unknown } | { ok: false; failure: Failure }> {
    if (this.#closing.signal.aborted)
      return { ok: false, failure: { kind: 'closed', cause: undefined } };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(TIMED_OUT), this.config.timeoutMs);
    const onClose = (): void => controller.abort();
    this.#closing.signal.addEventListener('abort', onClose, { once: true });
    try {
      return { ok: true, value: await call(controller.signal) };
    } catch (error) {
      if (controller.signal.reason === TIMED_OUT)
        return { ok: false, failure: { kind: 'timeout', cause: error } };
      if (this.isClosed()) return { ok: false, failure: { kind: 'closed', cause: error } };
      return { ok: false, failure: classify(error) };
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener('abort', onClose);
    }
  }

  private toError(route: Route, failure: Failure, attempts: number): LanguageModelError {
    const after = attempts === 1 ? '' : ` (after ${attempts} attempts)`;
    const cause = this.sanitize(failure.cause);
    const options = cause === undefined ? {} : { cause };
    const { provider, endpoint, model } = this;
    switch (failure.kind) {
      case 'timeout':
        return new LanguageModelTimeoutError(
          provider,
          endpoint,
          model,
          this.config.timeoutMs,
          options,
        );
      case 'unreachable':
        return new EndpointUnreachableError(
          provider,
          endpoint,
          model,
          `cannot reach the endpoint (${this.redact(failure.code)})${after}; is the server running at this base URL (options.baseUrl or WMGYM_LLM_BASE_URL)?`,
          options,
        );
      case 'status': {
        const detail = failure.detail ? this.redact(failure.detail) : 'no error message';
        let hint = '';
        if (failure.status === 404 && route === 'chat.completions')
          hint = /model/i.test(failure.detail)
            ? `; the model name "${model}" is wrong: the endpoint does not serve it (options.model or WMGYM_LLM_MODEL)`
            : `; the model name "${model}" is wrong, or the base URL is not the API root (it usually ends in /v1)`;
        else if (failure.status === 404)
          hint = `; the model "${model}" or the completions endpoint (needed by score) is not served here`;
        else if (failure.status === 401 || failure.status === 403)
          hint = '; check the API key (options.apiKey or OPENAI_API_KEY)';
        return new HttpStatusError(
          provider,
          endpoint,
          model,
          failure.status,
          `${detail} (${route})${after}${hint}`,
          options,
        );
      }
      case 'closed':
        return new LanguageModelError(
          provider,
          endpoint,
          model,
          `closed: expected an open model, received a ${route} request after close()`,
          options,
        );
      case 'other':
        if (failure.cause instanceof SyntaxError)
          return new MalformedAnswerError(
            provider,
            endpoint,
            model,
            `malformed answer from ${route}: the body is not valid JSON (${this.redact(failure.cause.message)})`,
            options,
          );
        return new LanguageModelError(
          provider,
          endpoint,
          model,
          `unexpected failure of a ${route} request: ${this.redact(failure.cause instanceof Error ? String(failure.cause) : inspect(failure.cause))}`,
          options,
        );
    }
  }

  private isClosed(): boolean {
    return this.#closing.signal.aborted;
  }

  private checkOpen(method: string): void {
    if (this.#closing.signal.aborted)
      throw new LanguageModelError(
        this.provider,
        this.endpoint,
        this.model,
        `closed: expected an open model, received ${method}() after close()`,
      );
  }

  /** The text with the key cut out (servers sometimes echo what they were sent). */
  private redact(text: string): string {
    const secret = this.#secret;
    return secret === undefined ? text : text.split(secret).join('[redacted]');
  }

  /** A cause as it is, or a redacted copy when any part of it shows the key. */
  private sanitize(cause: unknown): unknown {
    const secret = this.#secret;
    if (cause === undefined || secret === undefined) return cause;
    if (!inspect(cause, { depth: Infinity, showHidden: true }).includes(secret)) return cause;
    const copy = new Error(this.redact(cause instanceof Error ? cause.message : inspect(cause)));
    copy.name = cause instanceof Error ? cause.name : 'Error';
    copy.stack = this.redact(cause instanceof Error ? (cause.stack ?? copy.message) : copy.message);
    return copy;
  }

  /** A short, redacted rendering of a body for an error message. */
  private show(value: unknown): string {
    const text = this.redact(inspect(value, { depth: 4, breakLength: Infinity }));
    return text.length > SHOWN_BODY ? `${text.slice(0, SHOWN_BODY)}…` : text;
  }
}

registerLanguageModelProvider('openai', (options) =>
  Promise.resolve(new OpenAiLanguageModel(options)),
);

/** At most `limit` tasks at once, the others queued in order. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next(); // hands the slot over: `active` stays the same
    }
  }
}

function classify(error: unknown): Failure {
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout', cause: error };
  if (error instanceof APIUserAbortError) return { kind: 'closed', cause: error };
  if (error instanceof APIConnectionError)
    return { kind: 'unreachable', code: networkCode(error) ?? causeMessages(error), cause: error };
  if (error instanceof APIError && typeof error.status === 'number') {
    const body: unknown = error.error;
    const message = isRecord(body) ? body['message'] : undefined;
    return {
      kind: 'status',
      status: error.status,
      detail: typeof message === 'string' ? message : error.message.replace(/^\d+\s+/, ''),
      retryAfterMs: retryAfterMs(error.headers as Headers | undefined),
      cause: error,
    };
  }
  // A socket closed while the body was read surfaces from fetch, not as an APIConnectionError.
  const code = networkCode(error);
  if (code !== undefined) return { kind: 'unreachable', code, cause: error };
  return { kind: 'other', cause: error };
}

/** The first network error code (ECONNREFUSED, UND_ERR_SOCKET, ...) down a cause chain. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 8) return undefined;
  const code = error['code'];
  if (typeof code === 'string' && NETWORK_CODES.test(code)) return code;
  const inner = Array.isArray(error['errors']) ? (error['errors'] as unknown[]) : [];
  for (const e of [error['cause'], ...inner]) {
    const found = networkCode(e, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The messages down a cause chain, e.g. `fetch failed: bad port`. */
function causeMessages(error: unknown): string {
  const messages: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    if (!(e instanceof APIConnectionError)) messages.push(e.message);
  return messages.join(': ') || 'connection error';
}

/** Milliseconds from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date). */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms != null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = headers?.get('retry-after');
  if (after == null || after.trim() === '') return undefined;
  if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function pickString(option: string, value: unknown, envName: string): string | undefined {
  if (value !== undefined) {
    if (typeof value !== 'string' || value.length === 0)
      throw new InvalidOptionError(option, value, 'a non-empty string');
    return value;
  }
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionError(
      'openai.baseUrl',
      hideCredentials(text),
      'an http(s) URL such as http://127.0.0.1:11434/v1',
      'Pass options.baseUrl or set WMGYM_LLM_BASE_URL',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidOptionError(
      'openai.baseUrl',
      hideCredentials(text),
      'an http(s) URL such as http://127.0.0.1:11434/v1',
    );
  if (url.username !== '' || url.password !== '')
    throw new InvalidOptionError(
      'openai.baseUrl',
      hideCredentials(text),
      'a URL without user:password@',
      'Pass the key as options.apiKey or OPENAI_API_KEY',
    );
  return url;
}

/** A URL's text with any `user:password@` part masked. */
function hideCredentials(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@');
}

/** What an error shows for an option that may be a secret: its type only. */
function hidden(value: unknown): string {
  return `<${value === null ? 'null' : typeof value}, not shown>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
