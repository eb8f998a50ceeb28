/**
 * The language-model contract of the suite: one interface for a hosted or local
 * OpenAI-compatible endpoint, a cassette that records and replays another provider, and
 * wmgym-lm (the small model the suite trains on its own games' text and ships, the offline
 * default).
 *
 * - `complete(request)` returns the reply text, token usage, latency, and the provider and model
 *   that produced it (reports name both for every row).
 * - `score(prompt, continuations)` returns, per continuation, the sum of its tokens'
 *   log-probabilities after the prompt; only providers whose `capabilities.score` is true have it
 *   (wmgym-lm; servers that return `logprobs`), the others throw {@link UnsupportedCapabilityError}.
 * - `createLanguageModel({ provider, ... })` builds one by provider name; providers register
 *   themselves with {@link registerLanguageModelProvider} (`./providers/index.ts` loads all).
 *
 * Seeds are derived from what a request is about (run, env, task, episode, step; see
 * {@link deriveSeed}), never from the clock, so a rerun asks the same questions.
 *
 * Errors are {@link LanguageModelError}s: an unreachable endpoint, an HTTP error with its status,
 * a malformed or empty answer, a timeout, a capability the provider lacks, a cassette miss. Their
 * messages name the endpoint and the model, never an API key.
 */
import { InvalidOptionError, WmgymError, type WmgymErrorOptions } from '../../envs/core/errors.js';

/** One chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A completion request. */
export interface CompletionRequest {
  /** The conversation, oldest first; at least one message. */
  messages: readonly ChatMessage[];
  /** Sampling temperature (0 = greedy). @defaultValue 0 */
  temperature?: number;
  /** Most tokens of the reply. @defaultValue the provider's */
  maxTokens?: number;
  /** The reply ends before the first of these strings (not included). */
  stop?: readonly string[];
  /** Seed of the provider's sampling, where it has one (see {@link deriveSeed}). */
  seed?: number;
}

/** Tokens a request used. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A completion. */
export interface Completion {
  /** The reply (never silently empty: an empty answer is a {@link MalformedAnswerError}). */
  text: string;
  usage: TokenUsage;
  /** Wall time of the request, ms (for a replayed cassette: the recorded request's). */
  latencyMs: number;
  /** Provider name (`openai`, `cassette`, `local`, ...). */
  provider: string;
  /** Model name as the provider names it. */
  model: string;
}

/** What a provider can do. */
export interface LanguageModelCapabilities {
  /** `complete` (every provider). */
  complete: true;
  /** `score`: log-probabilities of given continuations. */
  score: boolean;
}

/** A language model; see the module comment. */
export interface LanguageModel {
  /** Provider name (`openai`, `cassette`, `local`, ...). */
  readonly provider: string;
  /** Model name as the provider names it. */
  readonly model: string;
  readonly capabilities: LanguageModelCapabilities;
  /** @throws {@link LanguageModelError} */
  complete(request: CompletionRequest): Promise<Completion>;
  /**
   * Per continuation, the sum of its tokens' log-probabilities (natural log) after `prompt`, and
   * its number of tokens (for length normalisation).
   * @throws {@link UnsupportedCapabilityError} when `capabilities.score` is false.
   */
  score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]>;
  /** Frees what the model holds (tensors, sockets). */
  close(): Promise<void>;
}

/** One continuation's score. */
export interface ScoredContinuation {
  /** Sum of its tokens' log-probabilities (natural log). */
  logProb: number;
  /** Its tokens. */
  tokens: number;
}

/** Options every provider takes, by provider name; providers add theirs by declaration merging. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface LanguageModelProviderOptions {}

/** Options of {@link createLanguageModel}: a provider name and that provider's options. */
export type LanguageModelOptions = {
  [P in keyof LanguageModelProviderOptions]: { provider: P } & LanguageModelProviderOptions[P];
}[keyof LanguageModelProviderOptions];

/** Builds a provider's model from its options. */
export type LanguageModelFactory = (options: Record<string, unknown>) => Promise<LanguageModel>;

const PROVIDERS = new Map<string, LanguageModelFactory>();

/** Makes `createLanguageModel({ provider: name, ... })` build with `factory`. */
export function registerLanguageModelProvider(name: string, factory: LanguageModelFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new InvalidOptionError('provider name', name, 'lower-case letters, digits and dashes');
  if (PROVIDERS.has(name))
    throw new InvalidOptionError('provider name', name, 'a provider not registered yet');
  PROVIDERS.set(name, factory);
}

/** Names of the registered providers. */
export function languageModelProviders(): string[] {
  return [...PROVIDERS.keys()].sort();
}

/**
 * Builds a language model by provider name. Without options: the endpoint configured in the
 * environment (`openai`, when `WMGYM_LLM_BASE_URL` is set), else the offline default, `local`
 * (the shipped wmgym-lm).
 * @throws {@link InvalidOptionError} for an unknown provider or a bad option.
 */
export async function createLanguageModel(options?: LanguageModelOptions): Promise<LanguageModel> {
  const chosen = options ?? {
    provider: (process.env['WMGYM_LLM_BASE_URL'] ?? '') === '' ? 'local' : 'openai',
  };
  const { provider, ...rest } = chosen as { provider: unknown } & Record<string, unknown>;
  const factory = typeof provider === 'string' ? PROVIDERS.get(provider) : undefined;
  if (factory === undefined)
    throw new InvalidOptionError(
      'createLanguageModel provider',
      provider,
      `one of ${languageModelProviders().join(', ') || '(none registered: import the package index or agents/llm/providers/index.js)'}`,
    );
  return factory(rest);
}

/**
 * A seed for a request, from what it is about (never from the clock): a 31-bit FNV-1a hash of
 * the parts joined, e.g. `deriveSeed(runSeed, envId, task, episode, step)`.
 */
export function deriveSeed(...parts: readonly (string | number)[]): number {
  let hash = 2166136261;
  const text = parts.map(String).join('\u0000');
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0) & 0x7fffffff;
}

// ---- checks at the boundary ---------------------------------------------------------------------

const REQUEST_KEYS: readonly string[] = ['messages', 'temperature', 'maxTokens', 'stop', 'seed'];
const ROLES: readonly string[] = ['system', 'user', 'assistant'];

/**
 * Checks a completion request as a provider receives it (unknown keys included) and returns it
 * with `temperature` resolved (0 when absent) and fresh arrays the provider may keep.
 * @throws {@link InvalidOptionError} naming the field, the value received and what is allowed.
 */
export function checkCompletionRequest(request: unknown, where: string): CompletionRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new InvalidOptionError(where, request, 'an object {messages, temperature?, ...}');
  const fields = request as Record<string, unknown>;
  for (const key of Object.keys(fields))
    if (!REQUEST_KEYS.includes(key))
      throw new InvalidOptionError(
        `${where}.${key}`,
        fields[key],
        `one of the request fields (${REQUEST_KEYS.join(', ')})`,
        'Unknown field',
      );
  const { messages, temperature, maxTokens, stop, seed } = fields;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new InvalidOptionError(`${where}.messages`, messages, 'a non-empty array of messages');
  const checked = messages.map((message: unknown, i): ChatMessage => {
    const at = `${where}.messages[${i}]`;
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      throw new InvalidOptionError(at, message, 'an object {role, content}');
    const { role, content, ...extra } = message as Record<string, unknown>;
    const unknown = Object.keys(extra)[0];
    if (unknown !== undefined)
      throw new InvalidOptionError(`${at}.${unknown}`, extra[unknown], 'only role and content');
    if (typeof role !== 'string' || !ROLES.includes(role))
      throw new InvalidOptionError(`${at}.role`, role, `one of ${ROLES.join(', ')}`);
    if (typeof content !== 'string')
      throw new InvalidOptionError(`${at}.content`, content, 'a string');
    return { role: role as ChatMessage['role'], content };
  });
  const out: CompletionRequest = { messages: checked, temperature: 0 };
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)
      throw new InvalidOptionError(`${where}.temperature`, temperature, 'a finite number >= 0');
    out.temperature = temperature;
  }
  if (maxTokens !== undefined) {
    if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 1)
      throw new InvalidOptionError(`${where}.maxTokens`, maxTokens, 'an integer >= 1');
    out.maxTokens = maxTokens;
  }
  if (stop !== undefined) {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s.length > 0))
      throw new InvalidOptionError(`${where}.stop`, stop, 'an array of non-empty strings');
    out.stop = [...(stop as string[])];
  }
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
      throw new InvalidOptionError(`${where}.seed`, seed, 'a safe integer (see deriveSeed)');
    out.seed = seed;
  }
  return out;
}

/**
 * Checks the arguments of `score`: a non-empty prompt and a non-empty array of non-empty
 * continuations.
 * @throws {@link InvalidOptionError} naming the argument, the value received and what is allowed.
 */
export function checkScoreArguments(prompt: unknown, continuations: unknown, where: string): void {
  if (typeof prompt !== 'string' || prompt.length === 0)
    throw new InvalidOptionError(`${where} prompt`, prompt, 'a non-empty string');
  if (!Array.isArray(continuations) || continuations.length === 0)
    throw new InvalidOptionError(
      `${where} continuations`,
      continuations,
      'a non-empty array of strings',
    );
  continuations.forEach((c: unknown, i) => {
    if (typeof c !== 'string' || c.length === 0)
      throw new InvalidOptionError(`${where} continuations[${i}]`, c, 'a non-empty string');
  });
}

// ---- errors -------------------------------------------------------------------------------------

/** Base class of a language model's errors; names the provider, endpoint and model (never a key). */
export class LanguageModelError extends WmgymError {
  override name = 'LanguageModelError';
  /** Provider name. */
  readonly provider: string;
  /** Endpoint (base URL, file) or `''`. */
  readonly endpoint: string;
  /** Model name. */
  readonly model: string;

  constructor(
    provider: string,
    endpoint: string,
    model: string,
    problem: string,
    options: WmgymErrorOptions = {},
  ) {
    super(
      'LANGUAGE_MODEL',
      `Language model ${model} (${provider}${endpoint ? ` at ${endpoint}` : ''}): ${problem}`,
      options,
    );
    this.provider = provider;
    this.endpoint = endpoint;
    this.model = model;
  }
}

/** The endpoint could not be reached (connection refused, DNS, reset) after the retries. */
export class EndpointUnreachableError extends LanguageModelError {
  override name = 'EndpointUnreachableError';
}

/** The endpoint answered with an HTTP error status (after the retries, for 429 and 5xx). */
export class HttpStatusError extends LanguageModelError {
  override name = 'HttpStatusError';
  /** The HTTP status. */
  readonly status: number;

  constructor(
    provider: string,
    endpoint: string,
    model: string,
    status: number,
    problem: string,
    options: WmgymErrorOptions = {},
  ) {
    super(provider, endpoint, model, `HTTP ${status}: ${problem}`, options);
    this.status = status;
  }
}

/** The answer was malformed or empty. */
export class MalformedAnswerError extends LanguageModelError {
  override name = 'MalformedAnswerError';
}

/** A request took longer than its timeout (after the retries). */
export class LanguageModelTimeoutError extends LanguageModelError {
  override name = 'LanguageModelTimeoutError';
  /** The timeout, ms. */
  readonly timeoutMs: number;

  constructor(
    provider: string,
    endpoint: string,
    model: string,
    timeoutMs: number,
    options: WmgymErrorOptions = {},
  ) {
    super(provider, endpoint, model, `no answer within ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** A capability the provider does not have (e.g. `score` without log-probabilities). */
export class UnsupportedCapabilityError extends LanguageModelError {
  override name = 'UnsupportedCapabilityError';
}

/** A strict cassette replay met a request it has no recording of. */
export class CassetteMissError extends LanguageModelError {
  override name = 'CassetteMissError';
  /** The request's key (content hash). */
  readonly key: string;

  constructor(file: string, model: string, key: string, request: string) {
    super(
      'cassette',
      file,
      model,
      `no recorded answer for request ${key} (${request}); record it with mode "record"`,
    );
    this.key = key;
  }
}
