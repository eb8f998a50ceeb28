/**
 * Scripted language models for the agent's tests: a class implementing the LanguageModel contract
 * whose replies (and scores) come from a function of the request, recording every request; and
 * oracles that read the move from the prompt text the agent wrote.
 */
import type {
  ChatMessage,
  Completion,
  CompletionRequest,
  LanguageModel,
  LanguageModelCapabilities,
  ScoredContinuation,
} from '../../../agents/llm/language-model.js';
import {
  MalformedAnswerError,
  UnsupportedCapabilityError,
} from '../../../agents/llm/language-model.js';

/** What a scripted reply function sees: the conversation, and the first (prompt) message's text. */
export interface ReplyRequest {
  request: CompletionRequest;
  prompt: string;
  /** 0 for the first question of a step, then 1, 2, ... for the follow-ups. */
  attempt: number;
}

/** Options of {@link ScriptedModel}. */
export interface ScriptedModelOptions {
  /** The reply to a request; `null` answers with a MalformedAnswerError (an empty answer). */
  reply?: (request: ReplyRequest) => string | null;
  /** Log-probability and token count of a continuation after the prompt (gives the model `score`). */
  score?: (prompt: string, continuation: string) => ScoredContinuation;
  /** Latency every completion reports, ms. @defaultValue 7 */
  latencyMs?: number;
}

/** A LanguageModel whose replies and scores are functions of the request; it records requests. */
export class ScriptedModel implements LanguageModel {
  readonly provider = 'scripted';
  readonly model: string;
  readonly capabilities: LanguageModelCapabilities;
  /** Every completion request, in order. */
  readonly requests: CompletionRequest[] = [];
  /** Every score request, in order. */
  readonly scoreRequests: { prompt: string; continuations: string[] }[] = [];
  private readonly replyOf: ((request: ReplyRequest) => string | null) | undefined;
  private readonly scoreOf: ScriptedModelOptions['score'];
  private readonly latencyMs: number;

  constructor(model: string, options: ScriptedModelOptions) {
    this.model = model;
    this.replyOf = options.reply;
    this.scoreOf = options.score;
    this.latencyMs = options.latencyMs ?? 7;
    this.capabilities = { complete: true, score: options.score !== undefined };
  }

  complete(request: CompletionRequest): Promise<Completion> {
    this.requests.push(structuredClone<CompletionRequest>(request));
    if (this.replyOf === undefined)
      return Promise.reject(new Error('ScriptedModel has no reply function'));
    const prompt = request.messages[0]?.content ?? '';
    const attempt = request.messages.filter((m) => m.role === 'user').length - 1;
    const text = this.replyOf({ request, prompt, attempt });
    if (text === null)
      return Promise.reject(
        new MalformedAnswerError(this.provider, '', this.model, 'the answer is empty'),
      );
    return Promise.resolve({
      text,
      usage: { promptTokens: words(request.messages), completionTokens: countWords(text) },
      latencyMs: this.latencyMs,
      provider: this.provider,
      model: this.model,
    });
  }

  score(prompt: string, continuations: readonly string[]): Promise<ScoredContinuation[]> {
    this.scoreRequests.push({ prompt, continuations: [...continuations] });
    const scoreOf = this.scoreOf;
    if (scoreOf === undefined)
      return Promise.reject(
        new UnsupportedCapabilityError(this.provider, '', this.model, 'score is not supported'),
      );
    return Promise.resolve(continuations.map((c) => scoreOf(prompt, c)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

function words(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + countWords(m.content), 0);
}

/** The observation block of a prompt (between "Observation:" and "Admissible commands"). */
export function observationOf(prompt: string): string {
  const match = /\nObservation:\n([\s\S]*?)\n\nAdmissible commands/.exec(prompt);
  if (match === null) throw new Error(`no observation block in the prompt:\n${prompt}`);
  return match[1]!;
}

/** The admissible commands a prompt lists. */
export function commandsOf(prompt: string): string[] {
  const match = /\nAdmissible commands:\n((?:- .*\n?)*)/.exec(prompt);
  if (match === null) return [];
  return match[1]!
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2));
}

/**
 * GridNav oracle for rooms without obstacles: a step toward the goal, read from "The green goal
 * is 2 steps south and 3 steps east." in the prompt.
 */
export function gridNavMove(prompt: string): string {
  const observation = observationOf(prompt);
  const goal = /The green goal is ([^.]*)\./.exec(observation);
  if (goal === null) throw new Error(`no goal in the observation:\n${observation}`);
  const direction = /\d+ steps? (north|south|east|west)/.exec(goal[1]!);
  if (direction === null) throw new Error(`no direction to the goal in "${goal[1]!}"`);
  return `go ${direction[1]!}`;
}

/**
 * Pendulum oracle: reads the angle and the turning rate from the prompt; pumps energy while the
 * pendulum is low, balances it (a PD law) near upright. Answers a torque command.
 */
export function pendulumMove(prompt: string): string {
  const text = observationOf(prompt);
  let theta = 0;
  const angle = /The pendulum is ([\d.]+)° (counter-clockwise|clockwise)/.exec(text);
  if (angle !== null)
    theta = ((Number(angle[1]) * Math.PI) / 180) * (angle[2] === 'clockwise' ? -1 : 1);
  else if (text.includes('hangs straight down')) theta = Math.PI;
  let omega = 0;
  const rate = /turning (counter-clockwise|clockwise) at ([\d.]+) rad\/s/.exec(text);
  if (rate !== null) omega = Number(rate[2]) * (rate[1] === 'clockwise' ? -1 : 1);
  let u: number;
  if (Math.abs(theta) < 0.5) u = -(10 * theta + 2 * omega);
  else {
    const energy = (omega * omega) / 6 + 5 * (Math.cos(theta) - 1);
    u = energy < 0 ? 2 * Math.sign(omega || 1) : -0.5 * Math.sign(omega);
  }
  return `torque ${Math.max(-2, Math.min(2, u)).toFixed(2)}`;
}
