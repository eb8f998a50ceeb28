/**
 * CartPole: balance a pole hinged on a cart by pushing the cart left or right. Gymnasium
 * CartPole-v1 dynamics (Barto, Sutton & Anderson 1983; explicit Euler, τ = 0.02 s).
 * ## Action space   Discrete(2): | 0 | push the cart left (−10 N) | 1 | push the cart right (+10 N) |
 * ## Observation    x ∈ [-4.8, 4.8] m, ẋ ∈ ℝ m/s, θ ∈ [-0.419, 0.419] rad (positive: leaning right), θ̇ ∈ ℝ rad/s
 * ## Reward         +1 every step, the terminating step included (`suttonBartoReward`: 0 per step, −1 on termination);
 *                   steps taken after termination (only possible on the raw env) give 0 (−1)
 * ## Start / end    every state variable ~ U(-0.05, 0.05) (reset options `low`/`high` change the bounds);
 *                   terminates when |x| > 2.4 m or |θ| > 12°; TimeLimit(500) truncates
 * ## Versions       v1: Gymnasium 1.0 parity (same start state as Gymnasium for the same seed)
 * @example
 * const env = make('CartPole-v1');
 * env.reset({ seed: 42 }); // observation [0.0273956, -0.00611216, 0.03585979, 0.0197368]
 * env.step(1);             // observation [0.02727336, 0.18847767, 0.03625453, -0.26141977], reward 1
 */
import type {
  BaseEnvOptions,
  RenderFrame,
  ResetArgs,
  ResetResult,
  StepResult,
} from '../core/env.js';
import { InvalidOptionError, InvalidStateError } from '../core/errors.js';
import { Canvas } from '../core/render.js';
import { Box, Discrete } from '../core/space.js';
import { ClassicControlEnv, type ClassicControlSpec, degrees, fixed } from './classic-env.js';
import { TextGrid, rotate } from './drawing.js';

/** Options of {@link CartPoleEnv} (Gymnasium's keyword arguments). */
export interface CartPoleOptions extends BaseEnvOptions {
  /** Sutton & Barto's reward: 0 per step and −1 on termination, instead of +1 per step. @defaultValue false */
  suttonBartoReward?: boolean;
}

/** Resolved {@link CartPoleOptions}. */
export interface CartPoleConfig {
  /** Sutton & Barto's reward. @defaultValue false */
  suttonBartoReward: boolean;
}

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_POLE + MASS_CART;
/** Half the pole's length, in metres. */
const LENGTH = 0.5;
const POLEMASS_LENGTH = MASS_POLE * LENGTH;
const FORCE_MAG = 10.0;
/** Seconds between state updates. */
const TAU = 0.02;
/** Angle at which the episode fails (12°), in radians. */
export const CARTPOLE_THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
/** Cart position at which the episode fails, in metres. */
export const CARTPOLE_X_THRESHOLD = 2.4;

type StateKey = 'x' | 'xDot' | 'theta' | 'thetaDot';
const SPEC: ClassicControlSpec<StateKey, 'stepsBeyondTerminated'> = {
  name: 'CartPoleEnv',
  optionKeys: ['suttonBartoReward'],
  stateKeys: ['x', 'xDot', 'theta', 'thetaDot'],
  extraKeys: ['stepsBeyondTerminated'],
  renderFps: 50,
  commands: ['push left', 'push right'],
  allowedCommands: '"push left" or "push right" (also "left", "right", "0", "1")',
};

const SCREEN_WIDTH = 600;
const SCREEN_HEIGHT = 400;

/** Gymnasium's CartPole-v1, computed in float64 and observed as float32; state (x, ẋ, θ, θ̇). */
export class CartPoleEnv extends ClassicControlEnv<number, StateKey, 'stepsBeyondTerminated'> {
  readonly actionSpace = new Discrete(2);
  readonly observationSpace = new Box({
    low: [-CARTPOLE_X_THRESHOLD * 2, -Infinity, -CARTPOLE_THETA_THRESHOLD * 2, -Infinity],
    high: [CARTPOLE_X_THRESHOLD * 2, Infinity, CARTPOLE_THETA_THRESHOLD * 2, Infinity],
  });
  /** The resolved options. */
  readonly config: Readonly<CartPoleConfig>;
  /** Gymnasium's `steps_beyond_terminated`: null until the step that terminates, then steps since. */
  private stepsBeyondTerminated: number | null = null;

  /** @throws {@link InvalidOptionError} for an unknown option or a non-boolean `suttonBartoReward`. */
  constructor(options: CartPoleOptions = {}) {
    super(options, SPEC);
    const suttonBartoReward = options.suttonBartoReward ?? false;
    if (typeof suttonBartoReward !== 'boolean') {
      throw new InvalidOptionError(
        'options.suttonBartoReward of CartPoleEnv',
        suttonBartoReward,
        'a boolean',
      );
    }
    this.config = Object.freeze({ suttonBartoReward });
  }

  /**
   * Draws x, ẋ, θ, θ̇ ~ U(low, high) in that order (defaults −0.05, 0.05).
   * @throws {@link InvalidOptionError} for options other than finite `low <= high` within ±0.4189 (the observed θ range).
   */
  reset({ seed, options }: ResetArgs = {}): ResetResult<Float32Array> {
    // Options are checked before seeding, so a bad call leaves the environment as it was.
    const [low, high] = this.resetBounds(options, -0.05, 0.05, {
      min: -CARTPOLE_THETA_THRESHOLD * 2,
      max: CARTPOLE_THETA_THRESHOLD * 2,
      why: 'every state variable is drawn from them, and θ must start within the observed ±24°',
    });
    this.seedRng(seed);
    const rng = this.rng;
    for (let i = 0; i < 4; i++) this.state[i] = rng.uniform(low, high);
    this.stepsBeyondTerminated = null;
    return this.started();
  }

  /**
   * One Euler step of 0.02 s under a ±10 N push.
   * @throws {@link InvalidActionError} unless `action` is 0 or 1.
   * @throws {@link ResetNeededError} before the first reset.
   */
  step(action: number): StepResult<Float32Array> {
    if (action !== 0 && action !== 1) this.checkAction(action);
    this.requireState();
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const s = this.state;
    const x = s[0]!;
    const xDot = s[1]!;
    const theta = s[2]!;
    const thetaDot = s[3]!;
    const cosTheta = Math.cos(theta);
    const sinTheta = Math.sin(theta);
    // See Florian (2005), "Correct equations for the dynamics of the cart-pole system".
    const temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sinTheta) / TOTAL_MASS;
    const thetaAcc =
      (GRAVITY * sinTheta - cosTheta * temp) /
      (LENGTH * (4.0 / 3.0 - (MASS_POLE * (cosTheta * cosTheta)) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xAcc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaAcc;

    const terminated = failed(s[0], s[2]);
    const sutton = this.config.suttonBartoReward;
    let reward: number;
    if (!terminated) {
      reward = sutton ? 0.0 : 1.0;
    } else if (this.stepsBeyondTerminated === null) {
      this.stepsBeyondTerminated = 0;
      reward = sutton ? -1.0 : 1.0;
    } else {
      // Stepping on after termination: Gymnasium's raw env warns and pays 0; make() forbids it.
      this.stepsBeyondTerminated++;
      reward = sutton ? -1.0 : 0.0;
    }
    return this.stepped(reward, terminated);
  }

  /** The cart and pole in words, with units. */
  protected describeState(): string {
    const { x, xDot, theta, thetaDot } = this.stateByName();
    const position = fixed(Math.abs(x), 3);
    const cart =
      Number(position) === 0
        ? 'The cart is at the centre of the track'
        : `The cart is ${position} m ${x > 0 ? 'right' : 'left'} of centre`;
    const speed = fixed(Math.abs(xDot), 3);
    const moving =
      Number(speed) === 0 ? 'at rest' : `moving ${xDot > 0 ? 'right' : 'left'} at ${speed} m/s`;
    const angle = fixed(Math.abs(degrees(theta)), 1);
    const side = theta > 0 ? 'right' : 'left';
    const lean =
      Number(angle) === 0 ? 'the pole is upright' : `the pole leans ${angle}° ${side} of upright`;
    const rate = fixed(Math.abs(thetaDot), 3);
    const turning =
      Number(rate) === 0
        ? 'not rotating'
        : `${Number(angle) === 0 || thetaDot > 0 === theta > 0 ? 'falling' : 'swinging back'} ${thetaDot > 0 ? 'right' : 'left'} at ${rate} rad/s`;
    let text = `${cart}, ${moving}; ${lean}, ${turning}. The episode ends if the cart passes ±2.4 m or the pole ±12°.`;
    if (Math.abs(x) > CARTPOLE_X_THRESHOLD) text += ' The cart has left the track.';
    if (Math.abs(theta) > CARTPOLE_THETA_THRESHOLD) text += ' The pole has fallen past 12°.';
    return text;
  }

  /**
   * "push left" → 0, "push right" → 1; also "left", "right", "push the cart left", "0", "1", any case.
   */
  protected parseNormalized(t: string, text: string): number {
    const match =
      /^(?:push|move|go)?\s*(?:(?:the\s+)?cart\s+)?(?:to\s+(?:the\s+)?)?(left|right|l|r)$/.exec(t);
    if (match !== null) return match[1]!.startsWith('l') ? 0 : 1;
    if (t === '0' || t === '1') return Number(t);
    throw this.unknownCommand(text);
  }

  protected override saveExtras(): { stepsBeyondTerminated: number | null } {
    return { stepsBeyondTerminated: this.stepsBeyondTerminated };
  }

  protected override restoreExtras(extras: { stepsBeyondTerminated: number | null } | null): void {
    const beyond = extras?.stepsBeyondTerminated ?? null;
    if (beyond !== null && (!Number.isSafeInteger(beyond) || beyond < 0)) {
      throw new InvalidStateError(
        this.id,
        'a non-negative integer or null at .stepsBeyondTerminated',
        beyond,
      );
    }
    this.stepsBeyondTerminated = beyond;
  }

  protected renderRgb(): RenderFrame {
    const { x, theta } = this.stateByName();
    // Gymnasium draws with y up, then flips; `up` maps its y to canvas rows.
    const up = (y: number): number => SCREEN_HEIGHT - y;
    const canvas = new Canvas(SCREEN_WIDTH, SCREEN_HEIGHT, [255, 255, 255]);
    const scale = SCREEN_WIDTH / (CARTPOLE_X_THRESHOLD * 2);
    const poleWidth = 10.0;
    const poleLength = scale * (2 * LENGTH);
    const cartWidth = 50.0;
    const cartHeight = 30.0;
    const axleOffset = cartHeight / 4.0;
    const cartX = x * scale + SCREEN_WIDTH / 2.0;
    const cartY = 100; // top of the cart
    canvas.fillRect(
      cartX - cartWidth / 2,
      up(cartY + cartHeight / 2),
      cartWidth,
      cartHeight,
      [0, 0, 0],
    );
    const l = -poleWidth / 2;
    const r = poleWidth / 2;
    const t = poleLength - poleWidth / 2;
    const b = -poleWidth / 2;
    const pole = (
      [
        [l, b],
        [l, t],
        [r, t],
        [r, b],
      ] as const
    ).map(([px, py]) => {
      const [rx, ry] = rotate(px, py, -theta);
      return [rx + cartX, up(ry + cartY + axleOffset)] as const;
    });
    canvas.fillPolygon(pole, [202, 152, 101]);
    canvas.fillCircle(
      Math.trunc(cartX) + 0.5,
      up(cartY + axleOffset) - 0.5,
      poleWidth / 2,
      [129, 132, 203],
    );
    canvas.fillRect(0, up(cartY) - 1, SCREEN_WIDTH, 1, [0, 0, 0]);
    return canvas.toRgbArray();
  }

  protected renderText(): string {
    const { x, xDot, theta, thetaDot } = this.stateByName();
    const columns = 61;
    const perMetre = (columns - 1) / (CARTPOLE_X_THRESHOLD * 2);
    const poleRows = 6;
    const grid = new TextGrid(columns, poleRows + 2);
    const cartColumn = (x + CARTPOLE_X_THRESHOLD) * perMetre;
    const cartRow = poleRows;
    const trackRow = poleRows + 1;
    for (let c = 0; c < columns; c++) grid.put(c, trackRow, '=');
    grid.put(0, trackRow, '|');
    grid.put(columns - 1, trackRow, '|');
    const poleChar = theta > 0.05 ? '/' : theta < -0.05 ? '\\' : '|';
    // The pole is 1 m long; a text row is about two columns tall.
    const reach = 2 * LENGTH * perMetre;
    for (let k = 1; k <= poleRows; k++) {
      const along = k / poleRows;
      grid.put(
        cartColumn + Math.sin(theta) * reach * along,
        cartRow - k * Math.cos(theta),
        poleChar,
      );
    }
    grid.write(cartColumn - 1, cartRow, '[#]');
    const sign = (v: number, digits: number): string => (v >= 0 ? '+' : '') + fixed(v, digits);
    return `${grid.toString()}\nx=${sign(x, 3)} m  v=${sign(xDot, 3)} m/s  θ=${sign(degrees(theta), 2)}°  ω=${sign(thetaDot, 3)} rad/s`;
  }
}

/** Whether the cart has left the track or the pole has fallen past 12°. */
function failed(x: number, theta: number): boolean {
  return (
    x < -CARTPOLE_X_THRESHOLD ||
    x > CARTPOLE_X_THRESHOLD ||
    theta < -CARTPOLE_THETA_THRESHOLD ||
    theta > CARTPOLE_THETA_THRESHOLD
  );
}
