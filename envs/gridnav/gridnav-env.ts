/**
 * GridNavEnv: the environment every GridNav generator extends. It owns the options (action set,
 * observation, view size, step budget), the seeding rule, `step` on the shared {@link GridWorld},
 * rewards, action masks, the oracle (`optimalPlan`, `info.optimalSteps`), the text face, rendering
 * and snapshots; a generator only lays out a level in {@link GridNavEnv.generate}.
 *
 * ## Action space   absolute (default): Discrete(8) | 0 north | 1 south | 2 east | 3 west | 4 pickup
 *                   | 5 drop | 6 toggle | 7 done |; a move turns to its direction and steps there if
 *                   it can, so with a blocked cell it only turns. egocentric: MiniGrid's Discrete(7)
 *                   | 0 left | 1 right | 2 forward | 3 pickup | 4 drop | 5 toggle | 6 done |.
 *                   pickup, drop and toggle act on the cell the agent faces; `done` does nothing (no
 *                   GridNav task uses it, as in MiniGrid).
 * ## Observation    symbolic (default): Box of `width*height*3 + 6` floats, the full grid as
 *                   (object, colour, state) codes plus agent x, y, direction and the carried object;
 *                   egocentric: MiniGrid's `view x view x 3` image with occlusion (see observation.ts).
 * ## Reward         `1 - 0.9 * steps / maxSteps` on success, 0 otherwise (lava included).
 * ## Start / end    the seed alone fixes the layout; terminates on success or lava; `make` applies a
 *                   TimeLimit of `maxSteps` (the environment itself never truncates).
 * ## Info           `mission`, `actionMask` (1 where the action changes something), `direction`,
 *                   `success`; on reset also `optimalSteps` (the breadth-first-search optimum).
 */
import {
  BaseEnv,
  type BaseEnvOptions,
  type EnvMetadata,
  type Info,
  type JsonValue,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
  type TextView,
} from '../core/env.js';
import {
  InvalidOptionError,
  InvalidStateError,
  ResetNeededError,
  formatValue,
} from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Box, Discrete } from '../core/space.js';
import {
  SYMBOLIC_EXTRA,
  ViewScratch,
  egocentricSpace,
  encodeEgocentric,
  encodeSymbolic,
  symbolicSpace,
  visibleCells,
} from './observation.js';
import { renderAnsi, renderRgb } from './render.js';
import { solve, type SolveResult } from './solver.js';
import { describeWorld, parseWorldCommand, worldCommands } from './text.js';
import {
  EMPTY,
  EVENT,
  OP,
  GridWorld,
  isPassable,
  isValidCarriedCode,
  isValidCellCode,
  isPickable,
  objectOf,
  type Objective,
} from './world.js';

/** Which actions the agent has. */
export type GridNavActionSet = 'absolute' | 'egocentric';

/** What the agent observes. */
export type GridNavObservation = 'symbolic' | 'egocentric';

/** Options every GridNav environment accepts. */
export interface GridNavOptions extends BaseEnvOptions {
  /** Action set: compass moves (`absolute`) or MiniGrid's turn/forward (`egocentric`). @defaultValue 'absolute' */
  actions?: GridNavActionSet;
  /** Full grid (`symbolic`) or MiniGrid's partial view (`egocentric`). @defaultValue 'symbolic' */
  observation?: GridNavObservation;
  /** Side of the egocentric view in cells; odd, at least 3. @defaultValue 7 */
  viewSize?: number;
  /**
   * Step budget of the reward formula. Its default is also the TimeLimit `make` applies; when
   * changing it, pass the same number to `make` as `maxEpisodeSteps`. @defaultValue MiniGrid's for the family
   */
  maxSteps?: number;
  /** ANSI colours in `render()` text. @defaultValue true only when stdout is a terminal */
  ansiColor?: boolean;
  /** Pixels per cell in `rgb_array` frames. @defaultValue 32 */
  tileSize?: number;
}

/** Resolved {@link GridNavOptions}. */
export interface GridNavConfig {
  /** Action set. @defaultValue 'absolute' */
  actions: GridNavActionSet;
  /** Observation kind. @defaultValue 'symbolic' */
  observation: GridNavObservation;
  /** Egocentric view side. @defaultValue 7 */
  viewSize: number;
  /** Step budget of the reward formula. */
  maxSteps: number;
  /** ANSI colours in text frames. */
  ansiColor: boolean;
  /** Pixels per cell. @defaultValue 32 */
  tileSize: number;
}

/** Action names of the absolute action set, by index. */
export const ABSOLUTE_ACTIONS = Object.freeze([
  'north',
  'south',
  'east',
  'west',
  'pickup',
  'drop',
  'toggle',
  'done',
] as const);
/** Action names of the egocentric (MiniGrid) action set, by index. */
export const EGOCENTRIC_ACTIONS = Object.freeze([
  'left',
  'right',
  'forward',
  'pickup',
  'drop',
  'toggle',
  'done',
] as const);

/** World operation of each absolute action. */
export const ABSOLUTE_OPS: Readonly<Uint8Array> = Uint8Array.of(
  OP.north,
  OP.south,
  OP.east,
  OP.west,
  OP.pickup,
  OP.drop,
  OP.toggle,
  OP.done,
);
/** World operation of each egocentric action. */
export const EGOCENTRIC_OPS: Readonly<Uint8Array> = Uint8Array.of(
  OP.left,
  OP.right,
  OP.forward,
  OP.pickup,
  OP.drop,
  OP.toggle,
  OP.done,
);

// Module-local copies of values read on every step (see observation.ts).
const SUCCESS: number = EVENT.success;
const FAILURE: number = EVENT.failure;
const encodeSymbolicFast = encodeSymbolic;
const encodeEgocentricFast = encodeEgocentric;

const METADATA: EnvMetadata = Object.freeze({
  renderModes: Object.freeze(['ansi', 'rgb_array'] as const),
  renderFps: 10,
});
const BASE_OPTION_KEYS = [
  'renderMode',
  'actions',
  'observation',
  'viewSize',
  'maxSteps',
  'ansiColor',
  'tileSize',
] as const;
const MAX_GENERATION_ATTEMPTS = 1000;

/** How a generator reports a level it has already solved (Task-k verifies its own length). */
export interface GeneratedLevel {
  /** A shortest action sequence from the start state, found by the solver. */
  plan: number[];
}

interface Snapshot {
  grid: number[];
  agent: [number, number, number];
  carried: number;
  objective: Objective;
  mission: string;
  steps: number;
  ended: boolean;
  success: boolean;
  optimalSteps: number;
}

/** Base class of the GridNav environments; see the module documentation for spaces and rules. */
export abstract class GridNavEnv extends BaseEnv<Float32Array, number> implements TextView<number> {
  readonly actionSpace: Discrete;
  readonly observationSpace: Box;
  readonly metadata = METADATA;
  /** The resolved options. */
  readonly config: Readonly<GridNavConfig>;
  /** Action names, by action index. */
  readonly actionNames: readonly string[];
  /**
   * Layouts drawn for the current level: a layout the solver finds unsolvable is redrawn from the
   * continuing generator. MiniGrid's generators are solvable by construction, so this stays 1 for them.
   */
  levelAttempts = 0;
  /** The world the agent acts in (read it; change it only through `step`). */
  protected readonly world: GridWorld;
  private readonly ops: Uint8Array;
  private readonly scratch: ViewScratch;
  private readonly observationSize: number;
  private readonly symbolic: boolean;
  private started = false;
  private ended = false;
  private succeeded = false;
  private steps = 0;
  private optimalSteps = 0;
  /** The plan found at reset, valid while no step has been taken. */
  private initialPlan: number[] | null = null;

  /**
   * @param name Class name used in option errors.
   * @param width Grid width in cells.
   * @param height Grid height in cells.
   * @param defaultMaxSteps MiniGrid's step budget for this family.
   * @param options The user's options (base options plus `extraKeys`).
   * @param extraKeys Option names the subclass reads itself.
   * @throws {@link InvalidOptionError} for an unknown option or a value out of range.
   */
  protected constructor(
    name: string,
    width: number,
    height: number,
    defaultMaxSteps: number,
    options: GridNavOptions,
    extraKeys: readonly string[] = [],
  ) {
    checkOptionKeys(name, options, [...BASE_OPTION_KEYS, ...extraKeys]);
    super(options);
    const actions: unknown = options.actions ?? 'absolute';
    if (actions !== 'absolute' && actions !== 'egocentric') {
      throw new InvalidOptionError(
        `options.actions of ${name}`,
        actions,
        '"absolute" or "egocentric"',
      );
    }
    const observation: unknown = options.observation ?? 'symbolic';
    if (observation !== 'symbolic' && observation !== 'egocentric') {
      throw new InvalidOptionError(
        `options.observation of ${name}`,
        observation,
        '"symbolic" or "egocentric"',
      );
    }
    const viewSize = options.viewSize ?? 7;
    if (!Number.isSafeInteger(viewSize) || viewSize < 3 || viewSize % 2 === 0 || viewSize > 99) {
      throw new InvalidOptionError(
        `options.viewSize of ${name}`,
        viewSize,
        'an odd integer in 3..99',
      );
    }
    const maxSteps = options.maxSteps ?? defaultMaxSteps;
    if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) {
      throw new InvalidOptionError(`options.maxSteps of ${name}`, maxSteps, 'a positive integer');
    }
    const terminal: unknown = process.stdout.isTTY;
    const ansiColor: unknown = options.ansiColor ?? terminal === true;
    if (typeof ansiColor !== 'boolean') {
      throw new InvalidOptionError(`options.ansiColor of ${name}`, ansiColor, 'a boolean');
    }
    const tileSize = options.tileSize ?? 32;
    if (!Number.isSafeInteger(tileSize) || tileSize < 4 || tileSize > 256) {
      throw new InvalidOptionError(`options.tileSize of ${name}`, tileSize, 'an integer in 4..256');
    }
    this.config = Object.freeze({ actions, observation, viewSize, maxSteps, ansiColor, tileSize });
    this.ops = actions === 'absolute' ? ABSOLUTE_OPS : EGOCENTRIC_OPS;
    this.actionNames = actions === 'absolute' ? ABSOLUTE_ACTIONS : EGOCENTRIC_ACTIONS;
    this.actionSpace = new Discrete(this.ops.length);
    this.world = new GridWorld(width, height);
    this.scratch = new ViewScratch(viewSize);
    this.observationSpace =
      observation === 'symbolic' ? symbolicSpace(width, height) : egocentricSpace(viewSize);
    this.symbolic = observation === 'symbolic';
    this.observationSize =
      observation === 'symbolic' ? width * height * 3 + SYMBOLIC_EXTRA : viewSize * viewSize * 3;
  }

  /**
   * Lays out a level in `world` (already cleared: every cell empty, nothing carried, objective
   * "reach a goal cell") using only `rng`: walls, objects, the agent, the objective and the mission.
   * Return a {@link GeneratedLevel} when the generator has already solved the level.
   */
  protected abstract generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined;

  /**
   * Generates a new level (the seed, or the continuing generator, alone fixes it) and computes its
   * optimal length. No reset options are accepted.
   * @throws {@link InvalidOptionError} for any reset option.
   */
  reset({ seed, options }: ResetArgs = {}): ResetResult<Float32Array> {
    if (options !== undefined) {
      const keys = Object.keys(options);
      if (keys.length > 0)
        throw new InvalidOptionError(`reset options of ${this.id}`, keys, 'no options');
    }
    this.seedRng(seed);
    const world = this.world;
    const rng = this.rng;
    for (let attempt = 1; ; attempt++) {
      this.levelAttempts = attempt;
      world.fill(EMPTY);
      world.carried = 0;
      world.agentX = 0;
      world.agentY = 0;
      world.dir = 0;
      world.objective = { kind: 'goal' };
      world.mission = '';
      const level = this.generate(world, rng);
      const plan = level?.plan ?? solve(world, this.ops)?.actions;
      if (plan !== undefined) {
        this.initialPlan = plan;
        this.optimalSteps = plan.length;
        break;
      }
      if (attempt >= MAX_GENERATION_ATTEMPTS) {
        throw new InvalidOptionError(
          `options of ${this.id}`,
          this.config,
          'options under which solvable levels exist',
        );
      }
    }
    this.started = true;
    this.ended = false;
    this.succeeded = false;
    this.steps = 0;
    const info = this.info();
    info['optimalSteps'] = this.optimalSteps;
    return { observation: this.observe(), info };
  }

  /**
   * One action. Reward `1 - 0.9 * steps / maxSteps` on success, else 0.
   * @throws {@link InvalidActionError} for an action outside the action space.
   * @throws {@link ResetNeededError} before the first reset or after the episode terminated.
   */
  step(action: number): StepResult<Float32Array> {
    if (typeof action !== 'number' || action >>> 0 !== action || action >= this.ops.length) {
      this.checkAction(action);
    }
    if (!this.started) throw new ResetNeededError(this.id, 'before-reset');
    if (this.ended) throw new ResetNeededError(this.id, 'after-end');
    const event = this.world.apply(this.ops[action]!);
    this.steps++;
    let reward = 0;
    let terminated = false;
    if (event === SUCCESS) {
      const used = this.steps < this.config.maxSteps ? this.steps : this.config.maxSteps;
      reward = 1 - (0.9 * used) / this.config.maxSteps;
      terminated = true;
      this.succeeded = true;
    } else if (event === FAILURE) {
      terminated = true;
    }
    this.ended = terminated;
    return { observation: this.observe(), reward, terminated, truncated: false, info: this.info() };
  }

  /** The world operation of each action index (see `OP`), for generators that search. */
  protected get actionOps(): Readonly<Uint8Array> {
    return this.ops;
  }

  /** The mission in words. @throws {@link ResetNeededError} before the first reset. */
  get mission(): string {
    this.requireStarted('mission');
    return this.world.mission;
  }

  /** Steps taken in this episode. */
  get elapsedSteps(): number {
    return this.steps;
  }

  /** The action mask of the current state: 1 where the action changes something (all 0 once the episode has ended). */
  actionMask(): Uint8Array {
    const ops = this.ops;
    const mask = new Uint8Array(ops.length);
    if (this.ended) return mask;
    for (let a = 0; a < ops.length; a++) mask[a] = this.world.changes(ops[a]!) ? 1 : 0;
    return mask;
  }

  /**
   * A shortest action sequence from the current state to success (breadth-first search over the
   * full state); `[]` once the episode has succeeded, `null` when success is no longer possible
   * (lava, or a level made unsolvable).
   * @throws {@link ResetNeededError} before the first reset.
   */
  optimalPlan(): number[] | null {
    this.requireStarted('optimalPlan');
    if (this.ended) return this.succeeded ? [] : null;
    if (this.steps === 0 && this.initialPlan !== null) return [...this.initialPlan];
    return solve(this.world, this.ops)?.actions ?? null;
  }

  /** The solver's full answer for the current state (plan and states expanded), for diagnostics. */
  solveCurrent(options: { prune?: boolean } = {}): SolveResult | null {
    this.requireStarted('solveCurrent');
    return solve(this.world, this.ops, options);
  }

  /** A copy of the world (grid, agent, carried object, objective), for tools and tests. */
  snapshotWorld(): GridWorld {
    this.requireStarted('snapshotWorld');
    return this.world.clone();
  }

  /** `ansi`: a MiniGrid-style text grid; `rgb_array`: tiles. Undefined without a render mode. */
  render(): RenderFrame | undefined {
    if (this.renderMode === undefined) return undefined;
    this.requireStarted('render');
    const visible =
      this.config.observation === 'egocentric'
        ? visibleCells(this.world, this.config.viewSize)
        : undefined;
    if (this.renderMode === 'ansi') {
      return renderAnsi(this.world, {
        color: this.config.ansiColor,
        visible,
        actions: this.config.actions,
        steps: this.steps,
      });
    }
    return renderRgb(this.world, { tileSize: this.config.tileSize, visible });
  }

  /** The mission, heading, carried object and what the agent sees, with positions in words. */
  describe(): string {
    this.requireStarted('describe');
    const visible =
      this.config.observation === 'egocentric'
        ? visibleCells(this.world, this.config.viewSize)
        : undefined;
    const text = describeWorld(this.world, { actions: this.config.actions, visible });
    if (!this.ended) return text;
    return `${text}\n${this.succeeded ? 'The task is done.' : 'You fell into lava; the episode is over.'}`;
  }

  /** The commands that change something now ("go north", "pick up the yellow key", ...). */
  commands(): string[] {
    this.requireStarted('commands');
    return worldCommands(this.world, this.ops);
  }

  /**
   * Free text to an action index: "go north", "n", "turn left", "forward", "pick up the yellow key",
   * "open the door", "toggle", "drop", "done", or an action number.
   * @throws {@link CommandParseError} for text that names no action (with what is accepted).
   */
  parseCommand(text: string): number {
    this.requireStarted('parseCommand');
    return parseWorldCommand(this.world, this.ops, this.config.actions, text, this.id);
  }

  protected saveState(): JsonValue {
    if (!this.started) return null;
    const w = this.world;
    const snapshot: Snapshot = {
      grid: Array.from(w.grid),
      agent: [w.agentX, w.agentY, w.dir],
      carried: w.carried,
      objective: { ...w.objective },
      mission: w.mission,
      steps: this.steps,
      ended: this.ended,
      success: this.succeeded,
      optimalSteps: this.optimalSteps,
    };
    return snapshot as unknown as JsonValue;
  }

  protected loadState(state: JsonValue): void {
    if (state === null) {
      this.initialPlan = null;
      this.started = false;
      this.ended = false;
      this.succeeded = false;
      this.steps = 0;
      return;
    }
    const s = this.checkSnapshot(state);
    this.initialPlan = null;
    const w = this.world;
    for (let i = 0; i < s.grid.length; i++) w.grid[i] = s.grid[i]!;
    [w.agentX, w.agentY, w.dir] = s.agent;
    w.carried = s.carried;
    w.objective = { ...s.objective };
    w.mission = s.mission;
    this.steps = s.steps;
    this.ended = s.ended;
    this.succeeded = s.success;
    this.optimalSteps = s.optimalSteps;
    this.started = true;
  }

  private checkSnapshot(state: JsonValue): Snapshot {
    const owner = this.id;
    const w = this.world;
    if (typeof state !== 'object' || Array.isArray(state)) {
      throw new InvalidStateError(
        owner,
        'a GridNav snapshot object (grid, agent, carried, objective, mission, steps, ...)',
        state,
      );
    }
    const s = state as Partial<Record<keyof Snapshot, unknown>>;
    const cells = w.width * w.height;
    if (!Array.isArray(s.grid) || s.grid.length !== cells) {
      throw new InvalidStateError(owner, `.grid as an array of ${cells} cell codes`, s.grid);
    }
    const bad = s.grid.findIndex((c) => typeof c !== 'number' || !isValidCellCode(c));
    if (bad >= 0)
      throw new InvalidStateError(owner, `a valid cell code at .grid[${bad}]`, s.grid[bad]);
    const grid = s.grid as number[];
    const agent = s.agent;
    if (
      !Array.isArray(agent) ||
      agent.length !== 3 ||
      !agent.every((v) => Number.isSafeInteger(v)) ||
      !w.inside(agent[0] as number, agent[1] as number) ||
      (agent[2] as number) < 0 ||
      (agent[2] as number) > 3
    ) {
      throw new InvalidStateError(
        owner,
        `.agent as [x in 0..${w.width - 1}, y in 0..${w.height - 1}, direction in 0..3]`,
        agent,
      );
    }
    const [ax, ay] = agent as [number, number, number];
    if (!isPassable(grid[w.index(ax, ay)]!)) {
      throw new InvalidStateError(
        owner,
        'the agent on a cell it can stand on',
        formatValue(grid[w.index(ax, ay)]),
      );
    }
    if (typeof s.carried !== 'number' || !isValidCarriedCode(s.carried)) {
      throw new InvalidStateError(
        owner,
        '.carried as 0 or the code of a key, ball or box',
        s.carried,
      );
    }
    const objective = s.objective as
      Partial<{ kind: unknown; object: unknown; cell: unknown }> | null | undefined;
    const objectiveOk =
      typeof objective === 'object' &&
      objective !== null &&
      (objective.kind === 'goal' ||
        (objective.kind === 'pickup' &&
          typeof objective.object === 'number' &&
          isValidCarriedCode(objective.object) &&
          objectOf(objective.object) === objective.object &&
          isPickable(objective.object)) ||
        (objective.kind === 'open' &&
          Number.isSafeInteger(objective.cell) &&
          (objective.cell as number) >= 0 &&
          (objective.cell as number) < cells));
    if (!objectiveOk) {
      throw new InvalidStateError(
        owner,
        '.objective as {kind: "goal"}, {kind: "pickup", object} or {kind: "open", cell}',
        s.objective,
      );
    }
    if (typeof s.mission !== 'string')
      throw new InvalidStateError(owner, '.mission as a string', s.mission);
    for (const key of ['steps', 'optimalSteps'] as const) {
      const v = s[key];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw new InvalidStateError(owner, `.${key} as a non-negative integer`, v);
      }
    }
    if (typeof s.ended !== 'boolean' || typeof s.success !== 'boolean') {
      throw new InvalidStateError(owner, '.ended and .success as booleans', {
        ended: s.ended,
        success: s.success,
      });
    }
    return s as Snapshot;
  }

  private observe(): Float32Array {
    const out = new Float32Array(this.observationSize);
    return this.symbolic
      ? encodeSymbolicFast(this.world, out)
      : encodeEgocentricFast(this.world, this.scratch, out);
  }

  private info(): Info {
    return {
      mission: this.world.mission,
      direction: this.world.dir,
      actionMask: this.actionMask(),
      success: this.succeeded,
    };
  }

  private requireStarted(method: string): void {
    if (!this.started) throw new ResetNeededError(this.id, 'before-reset', method);
  }
}

/** Throws `InvalidOptionError` for an option name the environment does not read. */
export function checkOptionKeys(name: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`options of ${name}`, options, 'an object');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        `options.${key} of ${name}`,
        (options as Record<string, unknown>)[key],
        `one of the options ${allowed.join(', ')}`,
        `"${key}" is not an option of ${name}`,
      );
    }
  }
}

/** Throws `InvalidOptionError` unless `value` is an integer in [min, max]; returns it. */
export function integerOption(
  name: string,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      `options.${option} of ${name}`,
      value,
      `an integer in ${min}..${max}`,
    );
  }
  return value;
}
