/**
 * Acrobot: a two-link pendulum actuated only at the middle joint; swing the free end above a line
 * one link length over the pivot. Gymnasium Acrobot-v1 dynamics (Sutton 1996; Sutton & Barto's
 * book equations, one RK4 step of 0.2 s per action).
 * ## Action space   Discrete(3): | 0 | torque −1 N·m | 1 | torque 0 | 2 | torque +1 N·m | (on the joint between the links)
 * ## Observation    cos θ1, sin θ1, cos θ2, sin θ2 ∈ [-1, 1]; θ̇1 ∈ [-4π, 4π] rad/s, θ̇2 ∈ [-9π, 9π] rad/s
 *                   (θ1 from straight down, θ2 relative to link 1)
 * ## Reward         −1 every step that does not reach the goal, 0 on the step that does
 * ## Start / end    θ1, θ2, θ̇1, θ̇2 ~ U(-0.1, 0.1) rounded to float32 (reset options `low`/`high` change the bounds);
 *                   terminates when −cos θ1 − cos(θ1 + θ2) > 1; TimeLimit(500) truncates
 * ## Versions       v1: Gymnasium 1.0 parity (same start state as Gymnasium for the same seed); `bookOrNips: 'nips'`
 *                   selects the paper's equations, as Gymnasium's class attribute `book_or_nips`
 * @example
 * const env = make('Acrobot-v1');
 * env.reset({ seed: 0 });
 * env.step(2); // +1 N·m on the middle joint; reward -1
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
import { Box, Discrete } from '../core/space.js';
import {
  ClassicControlEnv,
  type ClassicControlSpec,
  NUMBER_PATTERN,
  TORQUE_UNIT_PATTERN,
  degrees,
  fixed,
} from './classic-env.js';
import { TextGrid, rotate } from './drawing.js';

/** Which equations of motion: Sutton & Barto's book (Gymnasium's default) or the NIPS paper's. */
export type AcrobotDynamics = 'book' | 'nips';

/** Options of {@link AcrobotEnv}. */
export interface AcrobotOptions extends BaseEnvOptions {
  /** Equations of motion (Gymnasium's `book_or_nips`). @defaultValue 'book' */
  bookOrNips?: AcrobotDynamics;
}

/** Resolved {@link AcrobotOptions}. */
export interface AcrobotConfig {
  /** Equations of motion. @defaultValue 'book' */
  bookOrNips: AcrobotDynamics;
}

const DT = 0.2;
const LINK_LENGTH_1 = 1.0;
const LINK_LENGTH_2 = 1.0;
const LINK_MASS_1 = 1.0;
const LINK_MASS_2 = 1.0;
/** Position of the centre of mass of link 1, in metres. */
const LINK_COM_POS_1 = 0.5;
/** Position of the centre of mass of link 2, in metres. */
const LINK_COM_POS_2 = 0.5;
/** Moment of inertia of both links. */
const LINK_MOI = 1.0;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const GRAVITY = 9.8;
/** Torque of each action, in N·m. */
const AVAIL_TORQUE = [-1.0, 0.0, 1.0] as const;

type StateKey = 'theta1' | 'theta2' | 'dtheta1' | 'dtheta2';
const SPEC: ClassicControlSpec<StateKey> = {
  name: 'AcrobotEnv',
  optionKeys: ['bookOrNips'],
  stateKeys: ['theta1', 'theta2', 'dtheta1', 'dtheta2'],
  renderFps: 15,
  commands: ['torque -1', 'torque 0', 'torque +1'],
  allowedCommands:
    '"torque -1", "torque 0" or "torque +1" (N·m on the middle joint; also "-1", "0", "+1", "action 0|1|2")',
};

const SCREEN_DIM = 500;

/** Gymnasium's Acrobot-v1, computed in float64 and observed as float32; state (θ1, θ2, θ̇1, θ̇2). */
export class AcrobotEnv extends ClassicControlEnv<number, StateKey> {
  readonly actionSpace = new Discrete(3);
  readonly observationSpace = new Box({
    low: [-1, -1, -1, -1, -MAX_VEL_1, -MAX_VEL_2],
    high: [1, 1, 1, 1, MAX_VEL_1, MAX_VEL_2],
  });
  /** The resolved options. */
  readonly config: Readonly<AcrobotConfig>;
  private readonly book: boolean;
  /** Scratch for the RK4 stages: k1..k4, four values each. */
  private readonly k = new Float64Array(16);

  /** @throws {@link InvalidOptionError} for an unknown option or `bookOrNips` other than 'book' / 'nips'. */
  constructor(options: AcrobotOptions = {}) {
    super(options, SPEC);
    const bookOrNips: unknown = options.bookOrNips ?? 'book';
    if (bookOrNips !== 'book' && bookOrNips !== 'nips') {
      throw new InvalidOptionError(
        'options.bookOrNips of AcrobotEnv',
        bookOrNips,
        '"book" or "nips"',
      );
    }
    this.config = Object.freeze({ bookOrNips });
    this.book = bookOrNips === 'book';
  }

  /**
   * Draws θ1, θ2, θ̇1, θ̇2 ~ U(low, high) in that order (defaults −0.1, 0.1), rounded to float32 as Gymnasium.
   * @throws {@link InvalidOptionError} for options other than finite `low <= high` within ±4π (the observed θ̇1 range).
   */
  reset({ seed, options }: ResetArgs = {}): ResetResult<Float32Array> {
    // Options are checked before seeding, so a bad call leaves the environment as it was.
    const [low, high] = this.resetBounds(options, -0.1, 0.1, {
      min: -MAX_VEL_1,
      max: MAX_VEL_1,
      why: 'the angular velocities are drawn from them, and θ̇1 must start within ±4π rad/s',
    });
    this.seedRng(seed);
    const rng = this.rng;
    for (let i = 0; i < 4; i++) this.state[i] = Math.fround(rng.uniform(low, high));
    return this.started();
  }

  /**
   * One RK4 step of 0.2 s with the action's torque held; angles wrapped to [-π, π], velocities bounded.
   * @throws {@link InvalidActionError} unless `action` is 0, 1 or 2.
   * @throws {@link ResetNeededError} before the first reset.
   */
  step(action: number): StepResult<Float32Array> {
    if (action !== 0 && action !== 1 && action !== 2) this.checkAction(action);
    this.requireState();
    const torque = AVAIL_TORQUE[action]!;
    const k = this.k;
    const s = this.state;
    const y0 = s[0]!;
    const y1 = s[1]!;
    const y2 = s[2]!;
    const y3 = s[3]!;
    const dt2 = DT / 2.0;
    this.derivatives(y0, y1, y2, y3, torque, 0);
    this.derivatives(
      y0 + dt2 * k[0]!,
      y1 + dt2 * k[1]!,
      y2 + dt2 * k[2]!,
      y3 + dt2 * k[3]!,
      torque,
      4,
    );
    this.derivatives(
      y0 + dt2 * k[4]!,
      y1 + dt2 * k[5]!,
      y2 + dt2 * k[6]!,
      y3 + dt2 * k[7]!,
      torque,
      8,
    );
    this.derivatives(
      y0 + DT * k[8]!,
      y1 + DT * k[9]!,
      y2 + DT * k[10]!,
      y3 + DT * k[11]!,
      torque,
      12,
    );
    const w = DT / 6.0;
    const n0 = y0 + w * (k[0]! + 2 * k[4]! + 2 * k[8]! + k[12]!);
    const n1 = y1 + w * (k[1]! + 2 * k[5]! + 2 * k[9]! + k[13]!);
    const n2 = y2 + w * (k[2]! + 2 * k[6]! + 2 * k[10]! + k[14]!);
    const n3 = y3 + w * (k[3]! + 2 * k[7]! + 2 * k[11]! + k[15]!);
    s[0] = wrap(n0, -Math.PI, Math.PI);
    s[1] = wrap(n1, -Math.PI, Math.PI);
    s[2] = bound(n2, -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(n3, -MAX_VEL_2, MAX_VEL_2);
    const terminated = tipHeight(s[0], s[1]) > 1.0;
    return this.stepped(terminated ? 0.0 : -1.0, terminated);
  }

  /** (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2). */
  protected override observe(): Float32Array {
    const s = this.state;
    const obs = new Float32Array(6);
    obs[0] = Math.cos(s[0]!);
    obs[1] = Math.sin(s[0]!);
    obs[2] = Math.cos(s[1]!);
    obs[3] = Math.sin(s[1]!);
    obs[4] = s[2]!;
    obs[5] = s[3]!;
    return obs;
  }

  /** The two links in words, with units. */
  protected describeState(): string {
    const { theta1, theta2, dtheta1, dtheta2 } = this.stateByName();
    const tip = tipHeight(theta1, theta2);
    const side = (angle: number): string =>
      Number(fixed(degrees(angle), 1)) === 0 ? '' : angle > 0 ? ' counter-clockwise' : ' clockwise';
    const rate = (v: number): string => `${fixed(v, 3)} rad/s`;
    const shown = fixed(Math.abs(tip), 3);
    const height =
      Number(shown) === 0
        ? 'level with the pivot'
        : `${shown} m ${tip > 0 ? 'above' : 'below'} the pivot`;
    const reached = tip > 1.0 ? ' The free end is above the goal line: the task is done.' : '';
    return (
      `Link 1 is ${fixed(Math.abs(degrees(theta1)), 1)}°${side(theta1)} from hanging straight down, ` +
      `turning at ${rate(dtheta1)}; link 2 is bent ${fixed(Math.abs(degrees(theta2)), 1)}°${side(theta2)} ` +
      `relative to link 1, turning at ${rate(dtheta2)}. The free end is ${height}; ` +
      `the goal is to lift it more than 1 m above the pivot. ` +
      `Each link is 1 m long; the torque on the middle joint is -1, 0 or +1 N·m.${reached}`
    );
  }

  /**
   * "torque -1" → 0, "torque 0" → 1, "torque +1" → 2; also "-1", "+1", "torque 1 N·m", "action 2", any case.
   * @throws {@link CommandParseError} for other text or another torque value.
   */
  protected parseNormalized(t: string, text: string): number {
    const index = /^action\s*([012])$/.exec(t);
    if (index !== null) return Number(index[1]);
    if (/^(?:no torque|none|nothing|wait)$/.test(t)) return 1;
    const match = new RegExp(
      `^(?:apply\\s+)?(?:torque\\s*(?:of|:|=)?\\s*)?(${NUMBER_PATTERN})${TORQUE_UNIT_PATTERN}$`,
    ).exec(t);
    if (match === null) throw this.unknownCommand(text);
    const value = Number(match[1]);
    const action = AVAIL_TORQUE.indexOf(value as -1 | 0 | 1);
    if (action < 0) {
      throw this.unknownCommand(text, `A torque of ${value} N·m is not one of -1, 0, +1`);
    }
    return action;
  }

  /** Gymnasium's `_dsdt`: writes (θ̇1, θ̇2, θ̈1, θ̈2) into `this.k` at `at`. */
  private derivatives(
    theta1: number,
    theta2: number,
    dtheta1: number,
    dtheta2: number,
    a: number,
    at: number,
  ): void {
    const m1 = LINK_MASS_1;
    const m2 = LINK_MASS_2;
    const l1 = LINK_LENGTH_1;
    const lc1 = LINK_COM_POS_1;
    const lc2 = LINK_COM_POS_2;
    const I1 = LINK_MOI;
    const I2 = LINK_MOI;
    const g = GRAVITY;
    const cos2 = Math.cos(theta2);
    const sin2 = Math.sin(theta2);
    const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + I1 + I2;
    const d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + I2;
    const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - Math.PI / 2.0);
    const phi1 =
      -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin2 -
      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 +
      (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - Math.PI / 2) +
      phi2;
    const ddtheta2 = this.book
      ? (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin2 - phi2) /
        (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1)
      : (a + (d2 / d1) * phi1 - phi2) / (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    const k = this.k;
    k[at] = dtheta1;
    k[at + 1] = dtheta2;
    k[at + 2] = ddtheta1;
    k[at + 3] = ddtheta2;
  }

  protected renderRgb(): RenderFrame {
    const up = (y: number): number => SCREEN_DIM - y;
    const canvas = new Canvas(SCREEN_DIM, SCREEN_DIM, [255, 255, 255]);
    const boundary = LINK_LENGTH_1 + LINK_LENGTH_2 + 0.2;
    const scale = SCREEN_DIM / (boundary * 2);
    const offset = SCREEN_DIM / 2;
    const { theta1: s0, theta2: s1 } = this.stateByName();
    const p1: [number, number] = [
      -LINK_LENGTH_1 * Math.cos(s0) * scale,
      LINK_LENGTH_1 * Math.sin(s0) * scale,
    ];
    const p2: [number, number] = [
      p1[0] - LINK_LENGTH_2 * Math.cos(s0 + s1) * scale,
      p1[1] + LINK_LENGTH_2 * Math.sin(s0 + s1) * scale,
    ];
    // Gymnasium swaps the coordinates of each joint ([:, ::-1]) before drawing.
    const joints: [number, number][] = [
      [0, 0],
      [p1[1], p1[0]],
      [p2[1], p2[0]],
    ];
    const thetas = [s0 - Math.PI / 2, s0 + s1 - Math.PI / 2];
    const lengths = [LINK_LENGTH_1 * scale, LINK_LENGTH_2 * scale];
    canvas.line(
      -2.2 * scale + offset,
      up(1 * scale + offset),
      2.2 * scale + offset,
      up(1 * scale + offset),
      1,
      [0, 0, 0],
    );
    for (let i = 0; i < 2; i++) {
      const x = joints[i]![0] + offset;
      const y = joints[i]![1] + offset;
      const corners: Point[] = [
        [0, -0.1 * scale],
        [0, 0.1 * scale],
        [lengths[i]!, 0.1 * scale],
        [lengths[i]!, -0.1 * scale],
      ];
      canvas.fillPolygon(
        corners.map(([cx, cy]) => {
          const [rx, ry] = rotate(cx, cy, thetas[i]!);
          return [rx + x, up(ry + y)] as const;
        }),
        [0, 204, 204],
      );
      canvas.fillCircle(
        Math.trunc(x) + 0.5,
        up(Math.trunc(y)) - 0.5,
        Math.trunc(0.1 * scale),
        [204, 204, 0],
      );
    }
    return canvas.toRgbArray();
  }

  protected renderText(): string {
    const { theta1, theta2, dtheta1, dtheta2 } = this.stateByName();
    const size = 13;
    const centre = (size - 1) / 2;
    const grid = new TextGrid(2 * size - 1, size);
    const perMetre = (centre - 0.5) / 2;
    // Text rows grow downwards; a column is about half a row wide. θ1 = 0 hangs straight down.
    const column = (x: number): number => 2 * centre + 2 * x * perMetre;
    const row = (y: number): number => centre - y * perMetre;
    const x1 = Math.sin(theta1);
    const y1 = -Math.cos(theta1);
    const x2 = x1 + Math.sin(theta1 + theta2);
    const y2 = y1 - Math.cos(theta1 + theta2);
    for (let c = 0; c < 2 * size - 1; c++) grid.put(c, row(1), '-');
    grid.line(column(0), row(0), column(x1), row(y1), '#');
    grid.line(column(x1), row(y1), column(x2), row(y2), '#');
    grid.put(column(0), row(0), '+');
    grid.put(column(x1), row(y1), 'o');
    grid.put(column(x2), row(y2), '*');
    return `${grid.toString()}\nθ1=${fixed(degrees(theta1), 1)}°  θ2=${fixed(degrees(theta2), 1)}°  ω1=${fixed(dtheta1, 3)}  ω2=${fixed(dtheta2, 3)} rad/s  tip height=${fixed(tipHeight(theta1, theta2), 3)} m (goal > 1)`;
  }
}

/** Height of the free end above the pivot, in metres. */
function tipHeight(theta1: number, theta2: number): number {
  return -Math.cos(theta1) - Math.cos(theta2 + theta1);
}

/** Gymnasium's `wrap`: shifts `x` by whole periods into [m, M]. */
function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

/** Gymnasium's `bound`: clamps `x` to [m, M]. */
function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}
