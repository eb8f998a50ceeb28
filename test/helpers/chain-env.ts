/**
 * A tiny deterministic environment for agent tests: a chain of `length` cells, start at cell 0,
 * actions 0 = left, 1 = right, 2 = stay (masked out by `info.actionMask` when `masked`), reward 1
 * on reaching the last cell (terminated), -0.01 per other step, truncated after `maxSteps`.
 * Observation: the one-hot cell as a Box. Optimal return: 1 - 0.01 * (length - 2).
 */
import {
  BaseEnv,
  readNumbers,
  type EnvMetadata,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
} from '../../envs/core/env.js';
import { CommandParseError, InvalidStateError } from '../../envs/core/errors.js';
import { Box, Discrete } from '../../envs/core/space.js';

/** Options of {@link ChainEnv}. */
export interface ChainEnvOptions {
  length?: number;
  maxSteps?: number;
  masked?: boolean;
  /** Start in a random cell of the left half (uses the env generator). */
  randomStart?: boolean;
}

/** The chain environment. */
export class ChainEnv extends BaseEnv<Float32Array, number> {
  readonly metadata: EnvMetadata = { renderModes: ['ansi'] };
  readonly observationSpace: Box;
  readonly actionSpace = new Discrete(3);
  readonly length: number;
  private readonly maxSteps: number;
  private readonly masked: boolean;
  private readonly randomStart: boolean;
  private position = 0;
  private steps = 0;

  constructor(options: ChainEnvOptions = {}) {
    super();
    this.length = options.length ?? 5;
    this.maxSteps = options.maxSteps ?? 20;
    this.masked = options.masked ?? false;
    this.randomStart = options.randomStart ?? false;
    this.observationSpace = new Box({ low: 0, high: 1, shape: [this.length] });
  }

  reset({ seed }: ResetArgs = {}): ResetResult<Float32Array> {
    this.seedRng(seed);
    this.position = this.randomStart
      ? this.rng.integer(Math.max(1, Math.floor(this.length / 2)))
      : 0;
    this.steps = 0;
    return { observation: this.observe(), info: this.info() };
  }

  step(action: number): StepResult<Float32Array> {
    this.checkAction(action);
    if (this.masked && action === 2)
      throw new InvalidStateError(this.id, 'an action allowed by info.actionMask', action);
    if (action === 0) this.position = Math.max(0, this.position - 1);
    else if (action === 1) this.position = Math.min(this.length - 1, this.position + 1);
    this.steps++;
    const terminated = this.position === this.length - 1;
    return {
      observation: this.observe(),
      reward: terminated ? 1 : -0.01,
      terminated,
      truncated: !terminated && this.steps >= this.maxSteps,
      info: this.info(),
    };
  }

  render(): RenderFrame | undefined {
    return this.describe();
  }

  describe(): string {
    return Array.from({ length: this.length }, (_, i) => (i === this.position ? 'A' : '.')).join(
      '',
    );
  }

  commands(): string[] {
    return ['left', 'right', 'stay'];
  }

  parseCommand(text: string): number {
    const i = this.commands().indexOf(text.trim());
    if (i < 0) throw new CommandParseError(this.id, text, 'left, right or stay');
    return i;
  }

  protected saveState(): JsonValue {
    return { position: this.position, steps: this.steps };
  }

  protected loadState(state: JsonValue): void {
    const s = readNumbers(this.id, state, ['position', 'steps']);
    this.position = s.position;
    this.steps = s.steps;
  }

  private observe(): Float32Array {
    const o = new Float32Array(this.length);
    o[this.position] = 1;
    return o;
  }

  private info(): Record<string, unknown> {
    return this.masked ? { actionMask: Uint8Array.of(1, 1, 0) } : {};
  }
}
