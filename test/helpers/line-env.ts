/**
 * LineWalk: a small, correct environment for testing the core contract. The agent walks on the
 * integers -5..5 from a random start in -2..2; reaching +5 terminates with reward 1, -5 with -1;
 * every other step costs 0.01.
 */
import { CommandParseError, InvalidStateError } from '../../envs/core/errors.js';
import { Box, Discrete } from '../../envs/core/space.js';
import {
  BaseEnv,
  readNumbers,
  type BaseEnvOptions,
  type EnvMetadata,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
} from '../../envs/core/env.js';

export class LineWalkEnv extends BaseEnv<Float32Array, number> {
  readonly observationSpace = new Box({ low: [-5], high: [5] });
  readonly actionSpace = new Discrete(2);
  readonly metadata: EnvMetadata = { renderModes: ['ansi'] };
  protected position = 0;

  constructor(options: BaseEnvOptions = {}) {
    super(options);
  }

  reset({ seed }: ResetArgs = {}): ResetResult<Float32Array> {
    this.seedRng(seed);
    this.position = this.rng.integer(-2, 3);
    return { observation: Float32Array.of(this.position), info: {} };
  }

  step(action: number): StepResult<Float32Array> {
    this.checkAction(action);
    this.position += action === 1 ? 1 : -1;
    const terminated = Math.abs(this.position) === 5;
    const reward = terminated ? Math.sign(this.position) : -0.01;
    return {
      observation: Float32Array.of(this.position),
      reward,
      terminated,
      truncated: false,
      info: {},
    };
  }

  render(): RenderFrame | undefined {
    if (this.renderMode !== 'ansi') return undefined;
    return Array.from({ length: 11 }, (_, i) => (i - 5 === this.position ? '@' : '.')).join('');
  }

  describe(): string {
    return `You stand at ${this.position} on a line from -5 to 5.`;
  }

  commands(): string[] {
    return ['left', 'right'];
  }

  parseCommand(text: string): number {
    const word = text.trim().toLowerCase();
    if (word === 'left') return 0;
    if (word === 'right') return 1;
    throw new CommandParseError(this.id, text, '"left" or "right"');
  }

  protected saveState(): JsonValue {
    return { position: this.position };
  }

  protected loadState(state: JsonValue): void {
    const { position } = readNumbers(this.id, state, ['position']);
    if (!Number.isInteger(position) || Math.abs(position) > 5)
      throw new InvalidStateError(this.id, 'an integer position in -5..5', position);
    this.position = position;
  }
}
