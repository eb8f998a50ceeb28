/**
 * MountainCarContinuous: drive an under-powered car up a valley side to the flag by rocking it back
 * and forth. Gymnasium MountainCarContinuous-v0 dynamics (Moore 1990; continuous version).
 * ## Action space   Box(1): | 0 | force (multiplied by the power 0.0015) | -1 | 1 |
 * ## Observation    position ∈ [-1.2, 0.6] m, velocity ∈ [-0.07, 0.07] m/s (stored as float32 after every step, as Gymnasium)
 * ## Reward         −0.1·a² every step (a: the action received), +100 on reaching the flag
 * ## Start / end    position ~ U(-0.6, -0.4), velocity 0 (reset options `low`/`high` change the position bounds);
 *                   terminates at position ≥ 0.45 with velocity ≥ `goalVelocity`; TimeLimit(999) truncates
 * ## Versions       v0: Gymnasium 1.0 parity (same start state as Gymnasium for the same seed)
 * @example
 * const env = make('MountainCarContinuous-v0');
 * env.reset({ seed: 0 });            // observation [-0.47260767, 0]
 * env.step(Float32Array.of(1));      // push right at full force
 */
import type {
  BaseEnvOptions,
  RenderFrame,
  ResetArgs,
  ResetResult,
  StepResult,
} from '../core/env.js';
import { InvalidOptionError } from '../core/errors.js';
import { Canvas, type Point } from '../core/render.js';
import { Box } from '../core/space.js';
import {
  ClassicControlEnv,
  type ClassicControlSpec,
  NUMBER_PATTERN,
  fixed,
} from './classic-env.js';
import { TextGrid, rotate } from './drawing.js';

/** Options of {@link MountainCarContinuousEnv} (Gymnasium's keyword arguments). */
export interface MountainCarContinuousOptions extends BaseEnvOptions {
  /** The velocity the car must have (at least) on reaching the flag. @defaultValue 0 */
  goalVelocity?: number;
}

/** Resolved {@link MountainCarContinuousOptions}. */
export interface MountainCarContinuousConfig {
  /** The velocity the car must have (at least) on reaching the flag. @defaultValue 0 */
  goalVelocity: number;
}

const MIN_ACTION = -1.0;
const MAX_ACTION = 1.0;
const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
/** Position of the flag. */
const GOAL_POSITION = 0.45;
const POWER = 0.0015;

type StateKey = 'position' | 'velocity';
const SPEC: ClassicControlSpec<StateKey> = {
  name: 'MountainCarContinuousEnv',
  optionKeys: ['goalVelocity'],
  stateKeys: ['position', 'velocity'],
  renderFps: 30,
  commands: ['force <-1..1>', 'push left', 'push right', 'coast'],
  allowedCommands:
    '"force <f>" with f a number in [-1, 1] (e.g. "force 0.5", "-0.3"), "push left" (-1), "push right" (+1) or "coast" (0)',
};

const SCREEN_WIDTH = 600;
const SCREEN_HEIGHT = 400;

/** The valley's height profile, as Gymnasium's `_height`. */
function height(position: number): number {
  return Math.sin(3 * position) * 0.45 + 0.55;
}

/** Gymnasium's MountainCarContinuous-v0: float64 arithmetic, state rounded to float32 after each step. */
export class MountainCarContinuousEnv extends ClassicControlEnv<Float32Array, StateKey> {
  readonly actionSpace = new Box({ low: [MIN_ACTION], high: [MAX_ACTION] });
  readonly observationSpace = new Box({
    low: [MIN_POSITION, -MAX_SPEED],
    high: [MAX_POSITION, MAX_SPEED],
  });
  /** The resolved options. */
  readonly config: Readonly<MountainCarContinuousConfig>;

  /** @throws {@link InvalidOptionError} for an unknown option or a non-finite `goalVelocity`. */
  constructor(options: MountainCarContinuousOptions = {}) {
    super(options, SPEC);
    const goalVelocity = options.goalVelocity ?? 0;
    if (typeof goalVelocity !== 'number' || !Number.isFinite(goalVelocity)) {
      throw new InvalidOptionError(
        'options.goalVelocity of MountainCarContinuousEnv',
        goalVelocity,
        'a finite number',
      );
    }
    this.config = Object.freeze({ goalVelocity });
  }

  /**
   * Position ~ U(low, high) (defaults −0.6, −0.4), velocity 0; kept in float64 until the first step, as Gymnasium.
   * @throws {@link InvalidOptionError} for options other than finite `low <= high` within the track [-1.2, 0.6].
   */
  reset({ seed, options }: ResetArgs = {}): ResetResult<Float32Array> {
    // Options are checked before seeding, so a bad call leaves the environment as it was.
    const [low, high] = this.resetBounds(options, -0.6, -0.4, {
      min: MIN_POSITION,
      max: MAX_POSITION,
      why: 'the start position must be on the track',
    });
    this.seedRng(seed);
    this.state[0] = this.rng.uniform(low, high);
    this.state[1] = 0;
    return this.started();
  }

  /**
   * One step: velocity += a·0.0015 − 0.0025·cos(3·position), bounded; position += velocity, bounded
   * (a stop at the left wall); then the state is stored as float32.
   * @throws {@link InvalidActionError} unless `action` is a Float32Array [a] with −1 ≤ a ≤ 1 (never clipped).
   * @throws {@link ResetNeededError} before the first reset.
   */
  step(action: Float32Array): StepResult<Float32Array> {
    const force = action instanceof Float32Array && action.length === 1 ? action[0]! : Number.NaN;
    if (!(force >= MIN_ACTION && force <= MAX_ACTION)) this.checkAction(action);
    this.requireState();
    let position = this.state[0]!;
    let velocity = this.state[1]!;
    velocity += force * POWER - 0.0025 * Math.cos(3 * position);
    if (velocity > MAX_SPEED) velocity = MAX_SPEED;
    if (velocity < -MAX_SPEED) velocity = -MAX_SPEED;
    position += velocity;
    if (position > MAX_POSITION) position = MAX_POSITION;
    if (position < MIN_POSITION) position = MIN_POSITION;
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    const terminated = position >= GOAL_POSITION && velocity >= this.config.goalVelocity;
    // The action penalty uses the action as received (Gymnasium does not clip it here).
    const reward = (terminated ? 100.0 : 0) - force * force * 0.1;
    this.state[0] = Math.fround(position);
    this.state[1] = Math.fround(velocity);
    return this.stepped(reward, terminated);
  }

  /** The car in words, with units. */
  protected describeState(): string {
    const { position, velocity } = this.stateByName();
    const toFlag = GOAL_POSITION - position;
    const where =
      toFlag > 0
        ? `${fixed(toFlag, 3)} m left of the flag at 0.45 m`
        : `at or past the flag at 0.45 m`;
    const speed = fixed(Math.abs(velocity), 4);
    const moving =
      Number(speed) === 0 ? 'at rest' : `moving ${velocity > 0 ? 'right' : 'left'} at ${speed} m/s`;
    const slope = Math.cos(3 * position);
    const incline =
      Math.abs(slope) < 0.05
        ? 'near the bottom of the valley'
        : slope > 0
          ? 'on a slope rising to the right'
          : 'on a slope rising to the left';
    return (
      `The car is at position ${fixed(position, 3)} m (${where}), ${moving}, ${incline}; ` +
      `its height is ${fixed(height(position), 3)} m. The track runs from -1.2 m to 0.6 m; ` +
      `the speed limit is 0.07 m/s and the engine force is limited to [-1, 1].`
    );
  }

  /**
   * "force 0.5" → [0.5]; also "0.5", "force: -1", "push left" (→ −1), "push right" (→ +1), "coast" (→ 0),
   * "push right 0.3" (→ 0.3), "push left 0.3" (→ −0.3).
   * @throws {@link CommandParseError} for other text or a force outside [-1, 1] (nothing is clipped).
   */
  protected parseNormalized(t: string, text: string): Float32Array {
    if (/^(?:coast|none|nothing|wait|no force|force none)$/.test(t)) return Float32Array.of(0);
    const plain = new RegExp(
      `^(?:apply\\s+)?(?:(?:a\\s+)?force\\s*(?:of|:|=)?\\s*)?(${NUMBER_PATTERN})(?:\\s*n)?$`,
    ).exec(t);
    const push = new RegExp(
      `^(?:push|accelerate|drive|go)\\s+(?:to\\s+the\\s+)?(left|right)(?:\\s+(?:at\\s+|with\\s+)?(${NUMBER_PATTERN}))?$`,
    ).exec(t);
    let value: number;
    if (plain !== null) value = Number(plain[1]);
    else if (push !== null) {
      const magnitude = push[2] === undefined ? 1 : Number(push[2]);
      if (magnitude < 0)
        throw this.unknownCommand(text, 'Use a non-negative amount after "push left"/"push right"');
      value = (push[1] === 'left' ? -1 : 1) * magnitude;
    } else throw this.unknownCommand(text);
    if (!(value >= MIN_ACTION && value <= MAX_ACTION)) {
      throw this.unknownCommand(text, `A force of ${value} is outside [-1, 1]; nothing is clipped`);
    }
    return Float32Array.of(value);
  }

  protected renderRgb(): RenderFrame {
    const up = (y: number): number => SCREEN_HEIGHT - y;
    const canvas = new Canvas(SCREEN_WIDTH, SCREEN_HEIGHT, [255, 255, 255]);
    const scale = SCREEN_WIDTH / (MAX_POSITION - MIN_POSITION);
    const carWidth = 40;
    const carHeight = 20;
    const { position: pos } = this.stateByName();
    let previous: [number, number] | undefined;
    for (let i = 0; i < 100; i++) {
      const x = MIN_POSITION + ((MAX_POSITION - MIN_POSITION) * i) / 99;
      const point: [number, number] = [(x - MIN_POSITION) * scale, up(height(x) * scale)];
      if (previous !== undefined)
        canvas.line(previous[0], previous[1], point[0], point[1], 1, [0, 0, 0]);
      previous = point;
    }
    const clearance = 10;
    const tilt = Math.cos(3 * pos);
    const baseX = (pos - MIN_POSITION) * scale;
    const baseY = clearance + height(pos) * scale;
    const body: Point[] = (
      [
        [-carWidth / 2, 0],
        [-carWidth / 2, carHeight],
        [carWidth / 2, carHeight],
        [carWidth / 2, 0],
      ] as const
    ).map(([x, y]) => {
      const [rx, ry] = rotate(x, y, tilt);
      return [rx + baseX, up(ry + baseY)] as const;
    });
    canvas.fillPolygon(body, [0, 0, 0]);
    for (const wx of [carWidth / 4, -carWidth / 4]) {
      const [rx, ry] = rotate(wx, 0, tilt);
      canvas.fillCircle(
        Math.trunc(rx + baseX) + 0.5,
        up(Math.trunc(ry + baseY)) - 0.5,
        Math.trunc(carHeight / 2.5),
        [128, 128, 128],
      );
    }
    const flagX = Math.trunc((GOAL_POSITION - MIN_POSITION) * scale);
    const flagY1 = Math.trunc(height(GOAL_POSITION) * scale);
    const flagY2 = flagY1 + 50;
    canvas.fillRect(flagX, up(flagY2), 1, flagY2 - flagY1, [0, 0, 0]);
    canvas.fillPolygon(
      [
        [flagX, up(flagY2)],
        [flagX, up(flagY2 - 10)],
        [flagX + 25, up(flagY2 - 5)],
      ],
      [204, 204, 0],
    );
    return canvas.toRgbArray();
  }

  protected renderText(): string {
    const { position, velocity } = this.stateByName();
    const columns = 60;
    const rows = 8;
    // One spare row on top for the flag.
    const grid = new TextGrid(columns, rows + 1);
    const column = (x: number): number =>
      ((x - MIN_POSITION) / (MAX_POSITION - MIN_POSITION)) * (columns - 1);
    const row = (x: number): number => 1 + (rows - 1) * (1 - height(x));
    for (let c = 0; c < columns; c++) {
      const x = MIN_POSITION + ((MAX_POSITION - MIN_POSITION) * c) / (columns - 1);
      grid.put(c, row(x), '.');
    }
    grid.put(column(GOAL_POSITION), row(GOAL_POSITION) - 1, 'F');
    grid.put(column(position), row(position), 'C');
    return `${grid.toString()}\nposition=${fixed(position, 3)} m  velocity=${fixed(velocity, 4)} m/s  flag at 0.45 m`;
  }
}
