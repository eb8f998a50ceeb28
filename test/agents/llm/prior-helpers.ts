/**
 * Scripted language models for the language-prior tests: one that answers from an environment's
 * true dynamics (it restores the snapshot of the state asked about and steps the command), and
 * one that answers whatever a function says. Both record their requests and how many ran at once.
 */
import type { Env, JsonValue } from '../../../envs/core/env.js';
import {
  UnsupportedCapabilityError,
  type Completion,
  type CompletionRequest,
  type LanguageModel,
  type ScoredContinuation,
} from '../../../agents/llm/language-model.js';
import { formatPriorAnswer, type StateTextCodec } from '../../../agents/llm/prior.js';

/** A LanguageModel whose replies come from `answer`. */
export class ScriptedModel implements LanguageModel {
  readonly provider = 'scripted';
  readonly model: string;
  readonly capabilities = { complete: true as const, score: false };
  /** Every request, in the order received. */
  readonly requests: CompletionRequest[] = [];
  /** Most requests in flight at once. */
  maxInFlight = 0;
  private inFlight = 0;
  private readonly answer: (request: CompletionRequest) => string;

  constructor(model: string, answer: (request: CompletionRequest) => string) {
    this.model = model;
    this.answer = answer;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve)); // let other requests start
      const text = this.answer(request);
      const prompt = request.messages.map((m) => m.content).join('\n');
      return {
        text,
        usage: { promptTokens: prompt.length, completionTokens: text.length },
        latencyMs: 0,
        provider: this.provider,
        model: this.model,
      };
    } finally {
      this.inFlight--;
    }
  }

  score(): Promise<ScoredContinuation[]> {
    return Promise.reject(
      new UnsupportedCapabilityError(this.provider, '', this.model, 'no log-probabilities'),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The state text and the command of a prior request's user message. */
export function readPrompt(request: CompletionRequest): { state: string; command: string } {
  const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
  const match = /^State:\n([\s\S]*)\nCommand: (.*)\nNext state:$/.exec(user);
  if (match === null) throw new Error(`not a prior prompt: ${user}`);
  return { state: match[1]!, command: match[2]! };
}

/**
 * A model that knows the true dynamics of the states it was shown: `remember(state)` keeps the
 * environment's snapshot under the state's text; a request restores it, maps the command to an
 * action with `actionOf` and steps. A state it was not shown gets a reply that does not parse.
 */
export class TruthModel<O, A> extends ScriptedModel {
  private readonly snapshots = new Map<string, JsonValue>();
  private readonly codec: StateTextCodec;
  private readonly env: Env;

  constructor(
    env: Env<O, A>,
    codec: StateTextCodec,
    actionOf: (command: string) => A = (command) => env.parseCommand(command),
  ) {
    super('truth', (request) => {
      const { state, command } = readPrompt(request);
      const snapshot = this.snapshots.get(state);
      if (snapshot === undefined) return 'I have not seen this state.';
      env.setState(snapshot);
      const step = env.step(actionOf(command));
      return formatPriorAnswer({
        nextState: codec.encode(step.observation as ArrayLike<number>),
        reward: step.reward,
        done: step.terminated,
      });
    });
    this.codec = codec;
    this.env = env;
  }

  /** Keeps the environment's current snapshot as the truth about `state` (its current observation). */
  remember(state: ArrayLike<number>): void {
    this.snapshots.set(this.codec.encode(state), this.env.getState());
  }
}
