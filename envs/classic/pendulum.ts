/**
 * Pendulum: swing a pendulum up and keep it balanced with a bounded torque. Gymnasium Pendulum-v1
 * dynamics (semi-implicit Euler, dt = 0.05 s, m = l = 1).
 * ## Action space   Box(1): | 0 | torque (N·m, positive = counter-clockwise) | -2 | 2 |
 * ## Observation    cos θ ∈ [-1, 1], sin θ ∈ [-1, 1], θ̇ ∈ [-8, 8] rad/s (θ = 0 upright, positive counter-clockwise)
 * ## Reward         −(normalize(θ)² + 0.1·θ̇² + 0.001·u²), from the state before the step (θ wrapped to [-π, π))
 * ## Start / end    θ ~ U(-π, π), θ̇ ~ U(-1, 1) (reset options `x_init`, `y_init` change the bounds to ±x, ±y);
 *                   never terminates; TimeLimit(200) truncates
 * ## Versions       v1: Gymnasium 1.0 parity (same start state as Gymnasium for the same seed)
 * @example
 * const env = make('Pendulum-v1');
 * env.reset({ seed: 42 });                    // observation [-0.14995256, 0.9886932, -0.12224312]
 * env.step(Float32Array.of(1)).reward;        // -2.965425241287541
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
  TORQUE_UNIT_PATTERN,
  degrees,
  fixed,
} from './classic-env.js';
import { TextGrid, rotate } from './drawing.js';

/** Options of {@link PendulumEnv} (Gymnasium's keyword arguments). */
export interface PendulumOptions extends BaseEnvOptions {
  /** Gravity in m/s². @defaultValue 10 */
  g?: number;
}

/** Resolved {@link PendulumOptions}. */
export interface PendulumConfig {
  /** Gravity in m/s². @defaultValue 10 */
  g: number;
}

const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;
const MASS = 1.0;
const LENGTH = 1.0;
const DEFAULT_X = Math.PI;
const DEFAULT_Y = 1.0;

type StateKey = 'theta' | 'thetaDot';
const SPEC: ClassicControlSpec<StateKey, 'lastU'> = {
  name: 'PendulumEnv',
  optionKeys: ['g'],
  stateKeys: ['theta', 'thetaDot'],
  extraKeys: ['lastU'],
  renderFps: 30,
  commands: ['torque <-2..2>'],
  allowedCommands:
    '"torque <u>" with u a number of N·m in [-2, 2] (e.g. "torque 1.5", "torque -0.5 N·m", "clockwise 1", "no torque")',
};

const SCREEN_DIM = 500;
const ROD_COLOR = [204, 77, 77] as const;

/** Gymnasium's Pendulum-v1, computed in float64 and observed as float32; state (θ, θ̇). */
export class PendulumEnv extends ClassicControlEnv<Float32Array, StateKey, 'lastU'> {
  readonly actionSpace = new Box({ low: [-MAX_TORQUE], high: [MAX_TORQUE] });
  readonly observationSpace = new Box({ low: [-1, -1, -MAX_SPEED], high: [1, 1, MAX_SPEED] });
  /** The resolved options. */
  readonly config: Readonly<PendulumConfig>;
  /** The last torque applied (drawn as an arrow; null right after reset). */
  private lastU: number | null = null;

  /** @throws {@link InvalidOptionError} for an unknown option or a `g` that is not a finite number > 0. */
  constructor(options: PendulumOptions = {}) {
    super(options, SPEC);
    const g = options.g ?? 10.0;
    if (typeof g !== 'number' || !Number.isFinite(g) || g <= 0) {
      throw new InvalidOptionError(
        'options.g of PendulumEnv',
        g,
        'a finite number > 0 (gravity in m/s²)',
      );
    }
    this.config = Object.freeze({ g });
  }

  /**
   * Draws θ ~ U(−x, x) then θ̇ ~ U(−y, y), with x = `options.x_init` (default π) and y =
   * `options.y_init` (default 1), as Gymnasium.
   * @throws {@link InvalidOptionError} for other options, non-finite values or |y_init| > 8.
   */
  reset({ seed, options }: ResetArgs = {}): ResetResult<Float32Array> {
    // Options are checked before seeding, so a bad call leaves the environment as it was.
    this.checkResetOptionKeys(options, ['x_init', 'y_init']);
    const x = this.finiteResetOption(options, 'x_init', DEFAULT_X);
    const y = this.finiteResetOption(options, 'y_init', DEFAULT_Y);
    if (Math.abs(y) > MAX_SPEED) {
      // Gymnasium lets it through; here θ̇ would start outside the observation space.
      throw new InvalidOptionError(
        `reset options.y_init of ${this.id}`,
        y,
        `a number in [-${MAX_SPEED}, ${MAX_SPEED}] (θ̇ starts in U(-y_init, y_init) and is observed within ±${MAX_SPEED} rad/s)`,
      );
    }
    this.seedRng(seed);
    const rng = this.rng;
    this.state[0] = rng.uniform(-x, x);
    this.state[1] = rng.uniform(-y, y);
    this.lastU = null;
    return this.started();
  }

  /**
   * One semi-implicit Euler step of 0.05 s; the reward is computed from the state before it.
   * @throws {@link InvalidActionError} unless `action` is a Float32Array [u] with −2 ≤ u ≤ 2 (never clipped).
   * @throws {@link ResetNeededError} before the first reset.
   */
  step(action: Float32Array): StepResult<Float32Array> {
    const u = action instanceof Float32Array && action.length === 1 ? action[0]! : Number.NaN;
    if (!(u >= -MAX_TORQUE && u <= MAX_TORQUE)) this.checkAction(action);
    this.requireState();
    const s = this.state;
    const th = s[0]!;
    const thDot = s[1]!;
    const g = this.config.g;
    this.lastU = u;
    const normalized = angleNormalize(th);
    const cost = normalized * normalized + 0.1 * (thDot * thDot) + controlCost(u);
    let newThDot =
      thDot + (((3 * g) / (2 * LENGTH)) * Math.sin(th) + (3.0 / (MASS * LENGTH * LENGTH)) * u) * DT;
    if (newThDot > MAX_SPEED) newThDot = MAX_SPEED;
    else if (newThDot < -MAX_SPEED) newThDot = -MAX_SPEED;
    s[0] = th + newThDot * DT;
    s[1] = newThDot;
    return this.stepped(-cost, false);
  }

  /** (cos θ, sin θ, θ̇). */
  protected override observe(): Float32Array {
    const obs = new Float32Array(3);
    obs[0] = Math.cos(this.state[0]!);
    obs[1] = Math.sin(this.state[0]!);
    obs[2] = this.state[1]!;
    return obs;
  }

  /** The pendulum in words, with units. */
  protected describeState(): string {
    const { theta, thetaDot } = this.stateByName();
    const angle = angleNormalize(theta);
    const shown = fixed(Math.abs(degrees(angle)), 1);
    const where =
      Number(shown) === 0
        ? 'The pendulum is upright'
        : Number(shown) === 180
          ? 'The pendulum hangs straight down (180° from upright)'
          : `The pendulum is ${shown}° ${angle > 0 ? 'counter-clockwise (left)' : 'clockwise (right)'} from upright`;
    const rate = fixed(Math.abs(thetaDot), 2);
    const turning =
      Number(rate) === 0
        ? 'not turning'
        : `turning ${thetaDot > 0 ? 'counter-clockwise' : 'clockwise'} at ${rate} rad/s`;
    const last =
      this.lastU === null ? 'no torque applied yet' : `last torque ${fixed(this.lastU, 2)} N·m`;
    return `${where}, ${turning} (max 8 rad/s); ${last}. Torque is limited to ±2 N·m, positive counter-clockwise.`;
  }

  /**
   * "torque 1.5" → [1.5]; also "1.5", "torque -0.5 N·m", "apply torque of 1 Nm", "clockwise 1" (→ −1),
   * "counter-clockwise 1", "no torque" (→ 0).
   * @throws {@link CommandParseError} for other text or a torque outside [-2, 2] (nothing is clipped).
   */
  protected parseNormalized(t: string, text: string): Float32Array {
    if (/^(?:no torque|none|nothing|wait|coast|torque none)$/.test(t)) return Float32Array.of(0);
    const plain = new RegExp(
      `^(?:apply\\s+)?(?:(?:a\\s+)?torque\\s*(?:of|:|=)?\\s*)?(${NUMBER_PATTERN})${TORQUE_UNIT_PATTERN}$`,
    ).exec(t);
    const turn = new RegExp(
      `^(?:apply\\s+)?(?:(?:a\\s+)?torque\\s+)?(clockwise|cw|counter-?clockwise|anti-?clockwise|ccw)\\s*(${NUMBER_PATTERN})${TORQUE_UNIT_PATTERN}$`,
    ).exec(t);
    let value: number;
    if (plain !== null) value = Number(plain[1]);
    else if (turn !== null) value = (/^c(?:w|lockwise)$/.test(turn[1]!) ? -1 : 1) * Number(turn[2]);
    else throw this.unknownCommand(text);
    if (!(value >= -MAX_TORQUE && value <= MAX_TORQUE)) {
      throw this.unknownCommand(
        text,
        `A torque of ${value} N·m is outside [-2, 2]; nothing is clipped`,
      );
    }
    return Float32Array.of(value);
  }

  protected override saveExtras(): { lastU: number | null } {
    return { lastU: this.lastU };
  }

  protected override restoreExtras(extras: { lastU: number | null } | null): void {
    this.lastU = extras?.lastU ?? null;
  }

  protected renderRgb(): RenderFrame {
    const { theta } = this.stateByName();
    const up = (y: number): number => SCREEN_DIM - y;
    const canvas = new Canvas(SCREEN_DIM, SCREEN_DIM, [255, 255, 255]);
    const bound = 2.2;
    const scale = SCREEN_DIM / (bound * 2);
    const offset = Math.floor(SCREEN_DIM / 2);
    const rodLength = 1 * scale;
    const rodWidth = 0.2 * scale;
    const angle = theta + Math.PI / 2;
    const corners: Point[] = [
      [0, -rodWidth / 2],
      [0, rodWidth / 2],
      [rodLength, rodWidth / 2],
      [rodLength, -rodWidth / 2],
    ];
    canvas.fillPolygon(
      corners.map(([x, y]) => {
        const [rx, ry] = rotate(x, y, angle);
        return [rx + offset, up(ry + offset)] as const;
      }),
      ROD_COLOR,
    );
    const radius = Math.trunc(rodWidth / 2);
    canvas.fillCircle(offset + 0.5, up(offset) - 0.5, radius, ROD_COLOR);
    const [endX, endY] = rotate(rodLength, 0, angle);
    canvas.fillCircle(
      Math.trunc(endX + offset) + 0.5,
      up(Math.trunc(endY + offset)) - 0.5,
      radius,
      ROD_COLOR,
    );
    if (this.lastU !== null && this.lastU !== 0) this.drawTorqueArrow(canvas, offset, scale);
    canvas.fillCircle(offset + 0.5, up(offset) - 0.5, Math.trunc(0.05 * scale), [0, 0, 0]);
    return canvas.toRgbArray();
  }

  /** Gymnasium blits a curved-arrow image sized by |u|; this draws a circular arc with a head, as big. */
  private drawTorqueArrow(canvas: Canvas, offset: number, scale: number): void {
    const u = this.lastU ?? 0;
    const radius = (scale * Math.abs(u)) / 4;
    const direction = u > 0 ? 1 : -1; // counter-clockwise for positive torque (y up)
    const start = -Math.PI / 2 - direction * (Math.PI * 0.75);
    const sweep = direction * Math.PI * 1.3;
    const segments = 24;
    const color = [0, 0, 0] as const;
    const point = (a: number): [number, number] => [
      offset + radius * Math.cos(a),
      SCREEN_DIM - (offset + radius * Math.sin(a)),
    ];
    for (let i = 0; i < segments; i++) {
      const [x0, y0] = point(start + (sweep * i) / segments);
      const [x1, y1] = point(start + (sweep * (i + 1)) / segments);
      canvas.line(x0, y0, x1, y1, Math.max(2, radius / 8), color);
    }
    const end = start + sweep;
    const [tipX, tipY] = point(end);
    // Head: a triangle pointing along the tangent at the end of the arc.
    const tangentX = -Math.sin(end) * direction;
    const tangentY = Math.cos(end) * direction; // in y-up coordinates
    const head = Math.max(6, radius / 3);
    const normalX = Math.cos(end);
    const normalY = Math.sin(end);
    const baseX = tipX - tangentX * head;
    const baseY = tipY + tangentY * head;
    canvas.fillPolygon(
      [
        [tipX + tangentX * head * 0.3, tipY - tangentY * head * 0.3],
        [baseX + normalX * head * 0.6, baseY - normalY * head * 0.6],
        [baseX - normalX * head * 0.6, baseY + normalY * head * 0.6],
      ],
      color,
    );
  }

  protected renderText(): string {
    const { theta, thetaDot } = this.stateByName();
    const size = 11;
    const centre = (size - 1) / 2;
    const grid = new TextGrid(2 * size - 1, size);
    const reach = centre - 0.5;
    // θ = 0 points up; text rows grow downwards and a column is about half a row wide.
    const endColumn = 2 * centre - 2 * reach * Math.sin(theta);
    const endRow = centre - reach * Math.cos(theta);
    grid.line(2 * centre, centre, endColumn, endRow, '*');
    grid.put(endColumn, endRow, 'O');
    grid.put(2 * centre, centre, '+');
    const torque = this.lastU === null ? 'none' : `${fixed(this.lastU, 2)} N·m`;
    return `${grid.toString()}\nθ=${fixed(degrees(angleNormalize(theta)), 1)}°  ω=${fixed(thetaDot, 3)} rad/s  torque=${torque}`;
  }
}

const CONTROL_COST_WEIGHT = Math.fround(0.001);

/**
 * 0.001·u² as Gymnasium evaluates it under NumPy 2: `u` is a float32 scalar, so `u**2` and
 * `0.001 * u**2` are float32 operations. This reproduces Gymnasium's reward to the last digit
 * (seed 42, action [1]: −2.965425241287541); under NumPy 1 the term is float64 and differs by < 3e-10.
 */
function controlCost(u: number): number {
  return Math.fround(CONTROL_COST_WEIGHT * Math.fround(u * u));
}

/** Wraps an angle to [-π, π) the way NumPy's `%` does (the result takes the divisor's sign). */
export function angleNormalize(x: number): number {
  const period = 2 * Math.PI;
  let m = (x + Math.PI) % period;
  if (m !== 0 && m < 0) m += period;
  return m - Math.PI;
}
