/**
 * ToyWalk: a small, complete environment for testing wrappers and vector environments. A walker on
 * the segment [-goal, goal] starts at x ~ U(-1, 1) (or at `reset({options: {start}})`) and moves
 * each step by its action plus Gaussian noise of scale `noise`; it is stopped at the ends.
 * ## Action space   `actions: 'discrete'`: Discrete(3) | 0 | left (−1) | 1 | stay | 2 | right (+1) |;
 *                   `actions: 'box'`: Box([-maxMove], [maxMove]), the move itself
 * ## Observation    `observation: 'box'`: Box [x, last displacement] in [-goal, goal] × [-2·goal, 2·goal];
 *                   `observation: 'dict'`: {position: Box([-goal], [goal]), direction: Discrete(3)} (0 left, 1 none, 2 right)
 * ## Reward         x / goal after the move (so +1 at the right end, −1 at the left end)
 * ## Start / end    terminates when an end is reached; `make('wmgym-test/ToyWalk-v0')` truncates after 20 steps
 *
 * Importing this module registers `wmgym-test/ToyWalk-v0`, so a vector environment's workers can
 * build it when the module is listed in `modules`.
 */
import {
  BaseEnv,
  type BaseEnvOptions,
  type EnvMetadata,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
  type TextView,
} from '../../envs/core/env.js';
import {
  CommandParseError,
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
} from '../../envs/core/errors.js';
import { register } from '../../envs/core/registry.js';
import { Box, Dict, Discrete, type Space } from '../../envs/core/space.js';

/** Options of {@link ToyWalkEnv}. */
export interface ToyWalkOptions extends BaseEnvOptions {
  /** Discrete(3) steps of ±1 or a Box move. @defaultValue 'discrete' */
  actions?: 'discrete' | 'box';
  /** A Box of [x, displacement] or a Dict {position, direction}. @defaultValue 'box' */
  observation?: 'box' | 'dict';
  /** Half the length of the segment; reaching ±goal ends the episode. @defaultValue 3 */
  goal?: number;
  /** Largest move of the Box action space. @defaultValue 1 */
  maxMove?: number;
  /** Standard deviation of the noise added to each move. @defaultValue 0.1 */
  noise?: number;
}

/** The Dict form of a ToyWalk observation. */
export interface ToyWalkDict {
  position: Float32Array;
  direction: number;
}

/** A ToyWalk observation: a Float32Array, or the Dict form. */
export type ToyWalkObservation = Float32Array | ToyWalkDict;

const KNOWN_OPTIONS = new Set(['actions', 'observation', 'goal', 'maxMove', 'noise', 'renderMode']);
const METADATA: EnvMetadata = Object.freeze({ renderModes: ['ansi'] as const });
const DISCRETE_COMMANDS = ['left', 'stay', 'right'];

/**
 * The ToyWalk environment (see the module summary). The type parameters follow the options:
 * `ToyWalkEnv<Float32Array, Float32Array>` for `actions: 'box'`, `ToyWalkEnv<ToyWalkDict>` for
 * `observation: 'dict'`.
 */
export class ToyWalkEnv<
  O extends ToyWalkObservation = Float32Array,
  A extends number | Float32Array = number,
>
  extends BaseEnv<O, A>
  implements TextView<A>
{
  readonly observationSpace: Space<O, unknown>;
  readonly actionSpace: Space<A, unknown>;
  readonly metadata = METADATA;
  readonly actions: 'discrete' | 'box';
  readonly observation: 'box' | 'dict';
  readonly goal: number;
  readonly maxMove: number;
  readonly noise: number;
  private x = 0;
  private lastMove = 0;
  private started = false;

  constructor(options: ToyWalkOptions = {}) {
    super(options);
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) {
        throw new InvalidOptionError(
          `options.${key} of ToyWalkEnv`,
          key,
          `one of ${[...KNOWN_OPTIONS].join(', ')}`,
        );
      }
    }
    this.actions = pick(options.actions, 'discrete', ['discrete', 'box'], 'actions');
    this.observation = pick(options.observation, 'box', ['box', 'dict'], 'observation');
    this.goal = positive(options.goal, 3, 'goal');
    this.maxMove = positive(options.maxMove, 1, 'maxMove');
    const noise = options.noise ?? 0.1;
    if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
      throw new InvalidOptionError('options.noise of ToyWalkEnv', noise, 'a finite number >= 0');
    }
    this.noise = noise;
    const g = this.goal;
    this.actionSpace = (this.actions === 'discrete'
      ? new Discrete(3)
      : new Box({ low: [-this.maxMove], high: [this.maxMove] })) as unknown as Space<A, unknown>;
    this.observationSpace = (this.observation === 'box'
      ? new Box({ low: [-g, -2 * g], high: [g, 2 * g] })
      : new Dict({
          position: new Box({ low: [-g], high: [g] }),
          direction: new Discrete(3),
        })) as unknown as Space<O, unknown>;
  }

  /** Starts at x ~ U(-1, 1) clamped to the segment, or at `options.start` (a number strictly inside it). */
  reset({ seed, options }: ResetArgs = {}): ResetResult<O> {
    let start: number | undefined;
    if (options !== undefined && 'start' in options) {
      const s = options['start'];
      if (typeof s !== 'number' || !Number.isFinite(s) || Math.abs(s) >= this.goal) {
        throw new InvalidOptionError(
          'reset options.start of ToyWalkEnv',
          s,
          `a number in (-${this.goal}, ${this.goal})`,
        );
      }
      start = s;
    }
    this.seedRng(seed);
    const drawn = this.rng.uniform(-1, 1);
    this.x = start ?? Math.max(-this.goal * 0.5, Math.min(this.goal * 0.5, drawn));
    this.lastMove = 0;
    this.started = true;
    return { observation: this.observe(), info: { start: this.x } };
  }

  /** Moves by the action plus noise, stopping at the ends. */
  step(action: A): StepResult<O> {
    this.checkAction(action);
    if (!this.started) throw new ResetNeededError(this.id, 'before-reset');
    const intended = typeof action === 'number' ? action - 1 : (action as Float32Array)[0]!;
    const noise = this.noise === 0 ? 0 : this.noise * this.rng.normal();
    const before = this.x;
    this.x = Math.max(-this.goal, Math.min(this.goal, before + intended + noise));
    this.lastMove = this.x - before;
    const terminated = Math.abs(this.x) >= this.goal;
    return {
      observation: this.observe(),
      reward: this.x / this.goal,
      terminated,
      truncated: false,
      info: terminated ? { end: this.x > 0 ? 'right' : 'left' } : {},
    };
  }

  render(): RenderFrame | undefined {
    if (this.renderMode === undefined) return undefined;
    if (!this.started) throw new ResetNeededError(this.id, 'before-reset', 'render');
    const cells = 21;
    const at = Math.round(((this.x + this.goal) / (2 * this.goal)) * (cells - 1));
    return `|${Array.from({ length: cells }, (_, i) => (i === at ? 'o' : '-')).join('')}|`;
  }

  describe(): string {
    if (!this.started)
      return `A walker on a line from -${this.goal} to ${this.goal}, not placed yet (reset first).`;
    const moved =
      this.lastMove === 0
        ? 'has not moved'
        : `last moved ${this.lastMove > 0 ? 'right' : 'left'} by ${Math.abs(this.lastMove).toFixed(2)}`;
    return `A walker at ${this.x.toFixed(2)} on a line from -${this.goal} to ${this.goal}; it ${moved}.`;
  }

  commands(): string[] {
    return this.actions === 'discrete'
      ? [...DISCRETE_COMMANDS]
      : [`move <-${this.maxMove}..${this.maxMove}>`];
  }

  parseCommand(text: string): A {
    const words = text.trim().toLowerCase().split(/\s+/);
    if (this.actions === 'discrete') {
      const index = DISCRETE_COMMANDS.indexOf(words.join(' '));
      if (index >= 0) return index as A;
      throw new CommandParseError(this.id, text, '"left", "stay" or "right"');
    }
    const amount = words.length === 2 && words[0] === 'move' ? Number(words[1]) : Number.NaN;
    if (Number.isFinite(amount) && Math.abs(amount) <= this.maxMove)
      return Float32Array.of(amount) as A;
    throw new CommandParseError(
      this.id,
      text,
      `"move <x>" with x in [-${this.maxMove}, ${this.maxMove}]`,
    );
  }

  protected saveState(): JsonValue {
    return { x: this.x, lastMove: this.lastMove, started: this.started };
  }

  protected loadState(state: JsonValue): void {
    const s = state as { x?: unknown; lastMove?: unknown; started?: unknown } | null;
    const inside = (v: unknown, limit: number): v is number =>
      typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= limit;
    if (
      typeof s !== 'object' ||
      s === null ||
      !inside(s.x, this.goal) ||
      !inside(s.lastMove, 2 * this.goal) ||
      typeof s.started !== 'boolean'
    ) {
      throw new InvalidStateError(
        this.id,
        `{x in [-${this.goal}, ${this.goal}], lastMove, started: boolean}`,
        state,
      );
    }
    this.x = s.x;
    this.lastMove = s.lastMove;
    this.started = s.started;
  }

  private observe(): O {
    if (this.observation === 'box') return Float32Array.of(this.x, this.lastMove) as O;
    return { position: Float32Array.of(this.x), direction: Math.sign(this.lastMove) + 1 } as O;
  }
}

function pick<T extends string>(
  value: unknown,
  fallback: T,
  allowed: readonly T[],
  name: string,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(
      `options.${name} of ToyWalkEnv`,
      value,
      allowed.map((a) => `"${a}"`).join(' or '),
    );
  }
  return value as T;
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`options.${name} of ToyWalkEnv`, value, 'a finite number > 0');
  }
  return value;
}

/** The registered id of {@link ToyWalkEnv}. */
export const TOY_WALK_ID = 'wmgym-test/ToyWalk-v0';

register({
  id: TOY_WALK_ID,
  entryPoint: (options) => new ToyWalkEnv(options),
  maxEpisodeSteps: 20,
  description: 'A walker on a segment, for tests of wrappers and vector environments.',
  override: true,
});
