/**
 * TextWorld: procedurally generated text adventures (Coin Collector, Treasure Hunter, general quests
 * of exact length k) and hand-written JSON games, in pure TypeScript, with the Gym contract.
 *
 * ## Action space   `Discrete(n)`: every command the game could ever admit (verbs grounded in its
 *                   things: `go north`, `take brass key from wooden chest`, `unlock oak door with
 *                   brass key`, …). `info.actionMask` marks the ones admissible now. An action inside
 *                   the space but outside the mask is a legal move: the player gets the feedback the
 *                   game gives ("The oak door is locked."), the state does not change, a move is
 *                   counted. Free text goes through `parseCommand` (see `parser.ts`) or `stepText`.
 *                   With `observation: 'slots'`: every command form over every slot (`take o2 from
 *                   c0`), the same list in every game; a form the game lacks (eating a non-food, a
 *                   key that is not the lock's) is such a legal move too.
 * ## Observation    `MultiBinary(f)`, by `observation`:
 *                   `'facts'` (default): the game's fact vector, one entry per ground fact that can
 *                   change (`at(player, r)`, `at/in/on(object, place)`, `carried(o)`, `eaten(o)`,
 *                   `open/closed/locked(x)`), in the layout of `game.ts`; `factNames` names them.
 *                   Every game of one generated family and level has the same length and the same
 *                   predicate over the same entity position at index i, but positions follow the
 *                   order the generator made things in, not their roles: over 200 Quest-k10 seeds
 *                   the start is any of the 10 room positions (at most 14% of games agree), the quest
 *                   object any of 6 object positions, the win fact one of 83; only keys keep a role
 *                   (key i opens the i-th lockable). The map and the quest are not in the vector, so
 *                   across games one (observation, action) pair can lead to different observations
 *                   (Coins-L10: 43 of 73 pairs met in two games). Right for learning one game.
 *                   `'slots'`: entities in typed slots by role (`r0` the start, rooms breadth-first
 *                   from it; `o0` the quest object, then the keys by the lock they open; a put or
 *                   insert destination `s0` / `c0`; ...), the state as predicates over slots, and the
 *                   map (`exit`, `doorway`, `located`, `key`, `edible`) and the quest (`win`, `fail`,
 *                   with intermediate rewards `subgoal`) in the vector too; the action space is every
 *                   command form over every slot. Index i and action j mean the same in every game of
 *                   the family and level, and the observation is a complete state (`slotGame`
 *                   rebuilds the world from it): for a world model trained on many games and tested
 *                   on new ones. Larger (Quest-k10: 1514 entries, 283 actions, against 173 and 156).
 *                   See `slots.ts` for the slot order and the blocks.
 * ## Reward         +1 on completing the quest (score 1 of 1). With `intermediateReward: true`, +1 for
 *                   each sub-goal the first time it holds (the quest's landmarks — facts every winning
 *                   sequence must make true — or the file's `subgoals`), the win facts last; `maxScore`
 *                   is their number. Losing gives 0.
 * ## Start / end    `reset({seed})` plays game number `seed` of the family (a later `reset()` draws the
 *                   next game from the seeded generator); a file game always starts the same.
 *                   Terminated on winning, or on a failure event (`info.lost`: eating the quest object,
 *                   taking the wrong object in Treasure Hunter). TimeLimit truncates (see
 *                   `envs/index.ts`).
 * ## Info           `feedback` (the text response), `command`, `admissibleCommands`, `actionMask`
 *                   (Uint8Array over the actions), `score`, `maxScore`, `won`, `lost`, `success`
 *                   (= `won`, false until the winning step, as GridNav's), `moves`, and
 *                   `facts` (readable true facts, the map's fixed ones included; building the list
 *                   costs about a third of a step, so `infoFacts: false` leaves it out for speed).
 * ## Versions       v0: first version.
 * @example
 * const env = make('TextWorld-Treasure-L12-v0');
 * const { info } = env.reset({ seed: 7 });
 * env.step(env.parseCommand('open the wooden chest'));
 */
import {
  CommandParseError,
  InvalidOptionError,
  InvalidStateError,
  RenderError,
  ResetNeededError,
  formatValue,
} from '../core/errors.js';
import {
  BaseEnv,
  type BaseEnvOptions,
  type EnvMetadata,
  type JsonValue,
  type ResetArgs,
  type ResetResult,
  type StepResult,
  type TextView,
  type Info,
} from '../core/env.js';
import { Discrete, MultiBinary } from '../core/space.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { EXAMPLE_GAME } from './example-game.js';
import { loadGameFile, parseGameFile, type GameFile, type OpenState } from './game-file.js';
import { Game } from './game.js';
import {
  coinLayout,
  coinLevel,
  generateCoinGame,
  generateCompiledGame,
  layoutOf,
  questLayout,
  resolveGeneratorOptions,
  treasureConfig,
  type GameLayout,
  type GeneratorConfig,
  type GeneratorOptions,
} from './generator.js';
import { parseCommand, parseCommands } from './parser.js';
import { landmarks, solveQuest } from './search.js';
import { SlotLayout, slotView, type SlotView } from './slots.js';

/** Families of TextWorld games. */
export type TextWorldFamily = 'coins' | 'treasure' | 'quest' | 'file';

/**
 * Observation and action encodings: `facts`, the game's own fact vector and command list (entities
 * in the order the generator made them); `slots`, entities in typed slots by role, with the map and
 * the quest in the vector (see `slots.ts`).
 */
export type TextWorldObservation = 'facts' | 'slots';

/** Options of {@link TextWorldEnv} (all optional). Generator options apply to the `quest` family. */
export interface TextWorldOptions extends BaseEnvOptions, GeneratorOptions {
  /** Which games to play. @defaultValue 'quest' */
  family?: TextWorldFamily;
  /** Level: Coin Collector 1..300, Treasure Hunter 1..30 (see `generator.ts` for the mapping). */
  level?: number;
  /** A game file to play (family `file`). */
  path?: string;
  /** A game as a parsed JSON value (family `file`), validated like a file. @defaultValue the example game "The Lost Coin" */
  game?: unknown;
  /** Reward each sub-goal (TextWorld's intermediate reward) instead of only the win. @defaultValue false */
  intermediateReward?: boolean;
  /** Put the readable facts in `info.facts` on every step (about a third of a step's cost). @defaultValue true */
  infoFacts?: boolean;
  /** The observation and action encoding (see {@link TextWorldObservation}). @defaultValue 'facts' */
  observation?: TextWorldObservation;
}

const OPTION_KEYS = new Set([
  'renderMode',
  'family',
  'level',
  'path',
  'game',
  'intermediateReward',
  'infoFacts',
  'observation',
  'questLength',
  'rooms',
  'objects',
  'food',
  'distractors',
  'containerDensity',
  'doorDensity',
  'lockDensity',
  'loopDensity',
  'keysInInventory',
  'questKinds',
  'wrongObject',
  'textVariety',
]);
const GENERATOR_KEYS = [
  'questLength',
  'rooms',
  'objects',
  'food',
  'distractors',
  'containerDensity',
  'doorDensity',
  'lockDensity',
  'loopDensity',
  'keysInInventory',
  'questKinds',
  'wrongObject',
] as const;

/** Where games come from: a generator (a game per seed) or one fixed game. */
type GameSource =
  | { kind: 'generated'; key: string; make: (seed: number) => Game; layout: GameLayout }
  | { kind: 'file'; game: Game };

const CACHE_LIMIT = 64;
const cache = new Map<string, Game>();

/** A compiled game from the shared cache (most recently used kept; at most 64). */
function cachedGame(key: string, make: () => Game): Game {
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const game = make();
  cache.set(key, game);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return game;
}

const subgoalCache = new WeakMap<Game, Int32Array>();

/** Sub-goal facts of a game's quest: the file's (plus the win facts), or the landmarks of a shortest plan. */
export function questSubgoals(game: Game): Int32Array {
  let subgoals = subgoalCache.get(game);
  if (subgoals === undefined) {
    if (game.declaredSubgoals !== null) {
      const listed = [...game.declaredSubgoals];
      for (const f of game.winFacts) if (!listed.includes(f)) listed.push(f);
      subgoals = Int32Array.from(listed);
    } else {
      const plan = solveQuest(game, game.initialState);
      subgoals =
        plan.status === 'found'
          ? landmarks(game, game.initialState, plan.instances)
          : Int32Array.from(game.winFacts);
    }
    subgoalCache.set(game, subgoals);
  }
  return subgoals;
}

const TRANSCRIPT = 12;

interface TextWorldSnapshot {
  game: { seed: number } | { fingerprint: string };
  facts: number[];
  moves: number;
  score: number;
  achieved: number[];
  won: boolean;
  lost: boolean;
  transcript: [string, string][];
}

/** A TextWorld game as a Gym environment (see the module documentation). */
export class TextWorldEnv extends BaseEnv<Uint8Array, number> implements TextView<number> {
  readonly metadata: EnvMetadata = { renderModes: ['ansi'] };
  readonly observationSpace: MultiBinary;
  readonly actionSpace: Discrete;
  /** The family played. */
  readonly family: TextWorldFamily;
  /** Whether sub-goals are rewarded. */
  readonly intermediateReward: boolean;
  /** Whether `info.facts` is filled. */
  readonly infoFacts: boolean;
  /** The observation and action encoding (option `observation`). */
  readonly observationMode: TextWorldObservation;
  /** The slot vocabulary (`observation: 'slots'`), undefined otherwise. */
  readonly slotLayout: SlotLayout | undefined;
  private readonly source: GameSource;
  private game: Game | undefined;
  private view: SlotView | undefined;
  private seedOfGame = -1;
  private state = new Uint8Array(0);
  private room = 0;
  private moves = 0;
  private score = 0;
  private won = false;
  private lost = false;
  private subgoals: Int32Array = new Int32Array(0);
  private achieved = new Uint8Array(0);
  private readonly transcriptCommands: string[] = [];
  private readonly transcriptFeedback: string[] = [];
  private transcriptStart = 0;

  constructor(options: TextWorldOptions = {}) {
    super(options);
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key))
        throw new InvalidOptionError(
          `options.${key}`,
          (options as Record<string, unknown>)[key],
          `one of the options ${[...OPTION_KEYS].join(', ')}`,
          'Unknown option',
        );
    }
    if (options.renderMode !== undefined && options.renderMode !== 'ansi')
      throw new InvalidOptionError('options.renderMode', options.renderMode, '"ansi" or undefined');
    const family = options.family ?? 'quest';
    if (!['coins', 'treasure', 'quest', 'file'].includes(family))
      throw new InvalidOptionError(
        'options.family',
        family,
        '"coins", "treasure", "quest" or "file"',
      );
    this.family = family;
    this.intermediateReward = boolean(
      options.intermediateReward ?? false,
      'options.intermediateReward',
    );
    this.infoFacts = boolean(options.infoFacts ?? true, 'options.infoFacts');
    const observation: unknown = options.observation ?? 'facts';
    if (observation !== 'facts' && observation !== 'slots')
      throw new InvalidOptionError('options.observation', observation, '"facts" or "slots"');
    this.observationMode = observation;
    const variety = options.textVariety ?? 1;
    if (family !== 'quest') {
      const stray = GENERATOR_KEYS.filter((k) => options[k] !== undefined);
      if (stray.length > 0)
        throw new InvalidOptionError(
          `options.${stray[0]!}`,
          options[stray[0]!],
          `no value: the ${family} family fixes it (only the quest family takes generator options)`,
        );
    }
    if (family !== 'coins' && family !== 'treasure' && options.level !== undefined)
      throw new InvalidOptionError(
        'options.level',
        options.level,
        'no value: only the coins and treasure families have levels',
      );
    if (family !== 'file' && (options.path !== undefined || options.game !== undefined)) {
      throw new InvalidOptionError(
        options.path !== undefined ? 'options.path' : 'options.game',
        options.path ?? '(a game)',
        'no value unless family is "file"',
      );
    }

    if (family === 'file') {
      if (options.path !== undefined && options.game !== undefined)
        throw new InvalidOptionError(
          'options.game',
          '(a game)',
          'no value when options.path is given',
        );
      if (options.path !== undefined && typeof options.path !== 'string')
        throw new InvalidOptionError('options.path', options.path, 'a path to a game file');
      const file =
        options.path !== undefined
          ? loadGameFile(options.path)
          : parseGameFile(
              options.game ?? EXAMPLE_GAME,
              options.game === undefined ? 'example game' : '<options.game>',
            );
      this.source = { kind: 'file', game: new Game(file, options.path ?? '<options.game>') };
    } else if (family === 'coins') {
      const level = options.level ?? 1;
      coinLevel(level);
      share(variety, 'options.textVariety');
      this.source = {
        kind: 'generated',
        key: `coins:${level}:${variety}`,
        make: (seed) => new Game(generateCoinGame(level, seed, variety)),
        layout: coinLayout(level),
      };
    } else {
      const config: GeneratorConfig =
        family === 'treasure'
          ? treasureConfig(options.level ?? 1, variety)
          : resolveGeneratorOptions(options);
      this.source = {
        kind: 'generated',
        key: JSON.stringify(config),
        make: (seed) => generateCompiledGame(config, seed).game,
        layout: questLayout(config),
      };
    }
    const layout = this.source.kind === 'file' ? layoutOf(this.source.game) : this.source.layout;
    this.slotLayout =
      observation === 'slots' ? new SlotLayout(layout, this.intermediateReward) : undefined;
    this.observationSpace = new MultiBinary(this.slotLayout?.size ?? layout.facts);
    this.actionSpace = new Discrete(this.slotLayout?.actions ?? layout.commands);
  }

  /** The game being played (after `reset`). */
  get currentGame(): Game {
    return this.requireGame('currentGame');
  }

  /** The seed of the current generated game (-1 for a file game or before `reset`). */
  get gameSeed(): number {
    return this.seedOfGame;
  }

  /** Names of the observation's entries, by index, for the current game (its ids). */
  get factNames(): readonly string[] {
    const game = this.requireGame('factNames');
    return this.view === undefined ? game.factNames : this.view.factNames();
  }

  /** Commands (action texts), by action index, for the current game. */
  get commandTexts(): readonly string[] {
    const game = this.requireGame('commandTexts');
    return this.view === undefined ? game.commands : this.view.actionTexts;
  }

  /** The current game through the slot vocabulary (`observation: 'slots'`), undefined otherwise. */
  get slotView(): SlotView | undefined {
    this.requireGame('slotView');
    return this.view;
  }

  reset({ seed, options }: ResetArgs = {}): ResetResult<Uint8Array> {
    this.seedRng(seed);
    if (options !== undefined && Object.keys(options).length > 0) {
      throw new InvalidOptionError(
        'reset options',
        options,
        '{} (TextWorld takes no reset options; pass a seed to choose the game)',
      );
    }
    if (this.source.kind === 'file') {
      this.game = this.source.game;
      this.seedOfGame = -1;
    } else {
      const gameSeed = seed ?? this.rng.integer(0, 0x7fffffff);
      this.game = this.loadGenerated(gameSeed);
    }
    const game = this.game;
    this.view = this.slotLayout === undefined ? undefined : slotView(game, this.slotLayout);
    this.state = Uint8Array.from(game.initialState);
    this.room = game.startRoom;
    this.moves = 0;
    this.score = 0;
    this.won = false;
    this.lost = false;
    this.subgoals = this.intermediateReward ? questSubgoals(game) : game.winFacts;
    this.achieved = new Uint8Array(this.subgoals.length);
    this.transcriptCommands.length = 0;
    this.transcriptFeedback.length = 0;
    this.transcriptStart = 0;
    const opening = `${game.intro === '' ? '' : `${game.intro}\n\n`}${game.describeRoom(this.state, this.room)}\n\nObjective: ${game.objective}`;
    this.record('', opening);
    return { observation: this.observe(), info: this.info(opening, '') };
  }

  step(action: number): StepResult<Uint8Array> {
    this.checkAction(action);
    const game = this.requireGame('step');
    if (this.won || this.lost) throw new ResetNeededError(this.id, 'after-end');
    const view = this.view;
    return this.play(game, view === undefined ? action : view.actionCommand[action]!, action);
  }

  /** Plays game command `command` (-1: slot action `action`, which the game has no command for). */
  private play(game: Game, command: number, action: number): StepResult<Uint8Array> {
    const i = command < 0 ? -1 : game.applicable(this.state, command, this.room);
    let feedback: string;
    let reward = 0;
    let terminated = false;
    if (i < 0)
      feedback =
        command < 0 ? this.view!.missing(action) : game.failure(this.state, command, this.room);
    else {
      game.apply(this.state, i);
      const newRoom = game.instanceNewRoom[i]!;
      if (newRoom >= 0) this.room = newRoom;
      feedback = game.success(this.state, i, this.room);
      const outcome = this.judge();
      reward = outcome.reward;
      terminated = outcome.won || outcome.lost;
      if (reward > 0 && this.intermediateReward && !outcome.won)
        feedback += `\n\n(Your score has just gone up by ${reward === 1 ? 'one point' : `${reward} points`}.)`;
      if (outcome.won) feedback += '\n\n*** You won! ***';
      else if (outcome.lost) feedback += '\n\n*** You lost! ***';
    }
    this.moves++;
    const text = command < 0 ? this.view!.actionTexts[action]! : game.commands[command]!;
    this.record(text, feedback);
    return {
      observation: this.observe(),
      reward,
      terminated,
      truncated: false,
      info: this.info(feedback, text),
    };
  }

  /**
   * Plays free text as a player types it: parses it (one command, or several for `take all`) and
   * steps each. Text the parser cannot map returns its feedback ("You can't see any such thing.")
   * with the state unchanged and one move counted. This runs on this environment itself, outside
   * any wrapper (a TimeLimit around it does not see these moves).
   */
  stepText(text: string): StepResult<Uint8Array> {
    const game = this.requireGame('stepText');
    if (this.won || this.lost) throw new ResetNeededError(this.id, 'after-end', 'stepText');
    let actions: number[];
    try {
      actions = parseCommands(this.parseContext(), text);
    } catch (error) {
      if (!(error instanceof CommandParseError)) throw error;
      const feedback = error.feedback ?? "I didn't understand that.";
      this.moves++;
      this.record(typeof text === 'string' ? text.trim() : String(text), feedback);
      return {
        observation: this.observe(),
        reward: 0,
        terminated: false,
        truncated: false,
        info: this.info(feedback, ''),
      };
    }
    if (actions.length === 1) return this.play(game, actions[0]!, -1);
    let reward = 0;
    const lines: string[] = [];
    let last: StepResult<Uint8Array> | undefined;
    for (const action of actions) {
      const command = game.commands[action]!;
      last = this.play(game, action, -1);
      reward += last.reward;
      lines.push(`${command}: ${last.info['feedback'] as string}`);
      if (last.terminated) break;
    }
    const result = last!;
    result.reward = reward;
    result.info['feedback'] = lines.join('\n');
    return result;
  }

  /** Maps free text to one action (see `parser.ts`). @throws {@link CommandParseError} */
  parseCommand(text: string): number {
    const command = parseCommand(this.parseContext(), text);
    return this.view === undefined ? command : this.view.commandAction[command]!;
  }

  /** Maps free text to its actions: one, or several for `take all`. @throws {@link CommandParseError} */
  parseCommands(text: string): number[] {
    const commands = parseCommands(this.parseContext(), text);
    const view = this.view;
    return view === undefined ? commands : commands.map((c) => view.commandAction[c]!);
  }

  /** The room, what is in it, the exits, the inventory and the objective, as after `look` and `inventory`. */
  describe(): string {
    const game = this.requireGame('describe');
    let out = `${game.describeRoom(this.state, this.room)}\n\n${game.inventoryText(this.state)}\n\nObjective: ${game.objective}`;
    if (this.won) out += '\n\n*** You won! ***';
    else if (this.lost) out += '\n\n*** You lost! ***';
    return out;
  }

  /** The commands admissible now. */
  commands(): string[] {
    const game = this.requireGame('commands');
    const mask = new Uint8Array(game.commands.length);
    game.admissible(this.state, this.room, mask);
    const out: string[] = [];
    for (let a = 0; a < mask.length; a++) if (mask[a] === 1) out.push(game.commands[a]!);
    return out;
  }

  /**
   * One shortest winning command sequence from the current state (exact search; see `search.ts`);
   * `[]` once won; null when no winning sequence exists (lost, or the quest made unwinnable) or the
   * search exceeded its budget (only possible for very large hand-written games).
   */
  walkthrough(): string[] | null {
    const game = this.requireGame('walkthrough');
    if (this.won) return [];
    if (this.lost) return null;
    const result = solveQuest(game, this.state);
    return result.status === 'found' ? result.commands : null;
  }

  /**
   * The current game as a game file: as it starts, or (`fromCurrentState`) with the player, objects,
   * doors and containers where they are now.
   */
  exportGame(options: { fromCurrentState?: boolean } = {}): GameFile {
    const game = this.requireGame('exportGame');
    const file = structuredClone(game.file);
    if (options.fromCurrentState !== true) return file;
    const state = this.state;
    file.start = game.rooms[this.room]!.id;
    const lockState = (x: number): OpenState => game.openState(state, x);
    file.doors?.forEach((d, i) => (d.state = lockState(i)));
    file.containers?.forEach((c, i) => (c.state = lockState(game.doorCount + i)));
    file.objects = (file.objects ?? []).filter((o, i) => {
      const where = game.locationOf(state, i);
      if (where.kind === 'eaten') return false;
      o.location =
        where.kind === 'inventory'
          ? 'inventory'
          : where.kind === 'room'
            ? game.rooms[where.index]!.id
            : where.kind === 'container'
              ? game.things[game.doorCount + where.index]!.id
              : game.things[game.doorCount + game.containerCount + where.index]!.id;
      return true;
    });
    return file;
  }

  render(): string | undefined {
    if (this.renderMode === undefined) return undefined;
    if (this.renderMode !== 'ansi')
      throw new RenderError(
        `TextWorld renders in "ansi" mode only, received ${formatValue(this.renderMode)}`,
      );
    const game = this.requireGame('render');
    const lines = [`${game.title} — moves: ${this.moves}, score: ${this.score}/${this.maxScore()}`];
    for (let k = 0; k < this.transcriptCommands.length; k++) {
      const j = (this.transcriptStart + k) % this.transcriptCommands.length;
      const command = this.transcriptCommands[j]!;
      lines.push(
        command === ''
          ? this.transcriptFeedback[j]!
          : `> ${command}\n${this.transcriptFeedback[j]!}`,
      );
    }
    return lines.join('\n\n');
  }

  protected saveState(): JsonValue {
    const game = this.requireGame('getState');
    const facts: number[] = [];
    for (let f = 0; f < this.state.length; f++) if (this.state[f] === 1) facts.push(f);
    const achieved: number[] = [];
    this.achieved.forEach((a, i) => a === 1 && achieved.push(i));
    const transcript: [string, string][] = [];
    for (let k = 0; k < this.transcriptCommands.length; k++) {
      const j = (this.transcriptStart + k) % this.transcriptCommands.length;
      transcript.push([this.transcriptCommands[j]!, this.transcriptFeedback[j]!]);
    }
    const snapshot: TextWorldSnapshot = {
      game:
        this.source.kind === 'file' ? { fingerprint: game.fingerprint } : { seed: this.seedOfGame },
      facts,
      moves: this.moves,
      score: this.score,
      achieved,
      won: this.won,
      lost: this.lost,
      transcript,
    };
    return snapshot as unknown as JsonValue;
  }

  protected loadState(state: JsonValue): void {
    const owner = this.id;
    const s = state as Partial<TextWorldSnapshot> | null;
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      throw new InvalidStateError(
        owner,
        'a TextWorld snapshot {game, facts, moves, score, achieved, won, lost, transcript}',
        state,
      );
    const g: unknown = s.game;
    let game: Game;
    let seedOfGame = -1;
    if (this.source.kind === 'file') {
      if (!isRecord(g) || g['fingerprint'] !== this.source.game.fingerprint) {
        throw new InvalidStateError(
          owner,
          `a snapshot of this game (fingerprint ${this.source.game.fingerprint})`,
          g,
        );
      }
      game = this.source.game;
    } else {
      const seed = isRecord(g) ? g['seed'] : undefined;
      if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
        throw new InvalidStateError(owner, 'game: {seed: a non-negative integer}', g);
      }
      seedOfGame = seed;
      game = this.loadGenerated(seed);
    }
    const facts = s.facts;
    if (
      !Array.isArray(facts) ||
      !facts.every((f) => Number.isSafeInteger(f) && f >= 0 && f < game.factNames.length)
    ) {
      throw new InvalidStateError(
        owner,
        `facts: an array of fact indices in [0, ${game.factNames.length})`,
        facts,
      );
    }
    const vector = new Uint8Array(game.factNames.length);
    for (const f of facts) vector[f] = 1;
    const problem = consistency(game, vector);
    if (problem !== '')
      throw new InvalidStateError(owner, `facts describing one world (${problem})`, facts);
    const subgoals = this.intermediateReward ? questSubgoals(game) : game.winFacts;
    const maxScore = this.intermediateReward ? subgoals.length : 1;
    if (!isCount(s.moves))
      throw new InvalidStateError(owner, 'moves: a non-negative integer', s.moves);
    if (!isCount(s.score) || s.score > maxScore)
      throw new InvalidStateError(owner, `score: an integer in [0, ${maxScore}]`, s.score);
    const achievedList = s.achieved;
    if (
      !Array.isArray(achievedList) ||
      !achievedList.every((a) => Number.isSafeInteger(a) && a >= 0 && a < subgoals.length)
    ) {
      throw new InvalidStateError(
        owner,
        `achieved: sub-goal indices in [0, ${subgoals.length})`,
        achievedList,
      );
    }
    const lost = game.anyHolds(vector, game.failFacts);
    const won = !lost && game.allHold(vector, game.winFacts);
    if (s.won !== won || s.lost !== lost)
      throw new InvalidStateError(
        owner,
        `won: ${String(won)} and lost: ${String(lost)} (what these facts mean)`,
        { won: s.won, lost: s.lost },
      );
    const transcript: unknown = s.transcript;
    if (
      !Array.isArray(transcript) ||
      transcript.length > TRANSCRIPT ||
      !transcript.every(
        (e: unknown) =>
          Array.isArray(e) && e.length === 2 && e.every((x: unknown) => typeof x === 'string'),
      )
    ) {
      throw new InvalidStateError(
        owner,
        `transcript: at most ${TRANSCRIPT} [command, feedback] string pairs`,
        transcript,
      );
    }
    // Everything checked: restore.
    this.game = game;
    this.view = this.slotLayout === undefined ? undefined : slotView(game, this.slotLayout);
    this.seedOfGame = seedOfGame;
    this.state = vector;
    this.room = game.roomOf(vector);
    this.moves = s.moves;
    this.score = s.score;
    this.won = won;
    this.lost = lost;
    this.subgoals = subgoals;
    this.achieved = new Uint8Array(subgoals.length);
    for (const a of achievedList) this.achieved[a] = 1;
    this.transcriptCommands.length = 0;
    this.transcriptFeedback.length = 0;
    this.transcriptStart = 0;
    for (const [command, feedback] of transcript as [string, string][])
      this.record(command, feedback);
  }

  /** Updates score, won and lost after a state change; returns the reward (sub-goals first reached, or 1 for the win). */
  private judge(): { reward: number; won: boolean; lost: boolean } {
    const game = this.game!;
    let reward = 0;
    if (this.intermediateReward) {
      for (let j = 0; j < this.subgoals.length; j++) {
        if (this.achieved[j] === 0 && this.state[this.subgoals[j]!] === 1) {
          this.achieved[j] = 1;
          reward++;
        }
      }
    }
    if (game.anyHolds(this.state, game.failFacts)) this.lost = true;
    else if (game.allHold(this.state, game.winFacts)) {
      this.won = true;
      if (!this.intermediateReward) reward = 1;
    }
    this.score += reward;
    return { reward, won: this.won, lost: this.lost };
  }

  private maxScore(): number {
    return this.intermediateReward ? this.subgoals.length : 1;
  }

  private info(feedback: string, command: string): Info {
    const game = this.game!;
    const mask = new Uint8Array(game.commands.length);
    game.admissible(this.state, this.room, mask);
    const admissibleCommands: string[] = [];
    for (let a = 0; a < mask.length; a++)
      if (mask[a] === 1) admissibleCommands.push(game.commands[a]!);
    const info: Info = {
      feedback,
      command,
      admissibleCommands,
      actionMask: this.view === undefined ? mask : this.view.actionMask(mask),
      score: this.score,
      maxScore: this.maxScore(),
      won: this.won,
      lost: this.lost,
      success: this.won,
      moves: this.moves,
    };
    if (this.infoFacts) info['facts'] = game.factsOf(this.state);
    return info;
  }

  /** The observation of the current state: a fresh array the caller owns. */
  private observe(): Uint8Array {
    const view = this.view;
    if (view === undefined) return this.state.slice();
    return this.intermediateReward
      ? view.observe(this.state, this.subgoals, this.achieved)
      : view.observe(this.state);
  }

  private record(command: string, feedback: string): void {
    if (this.transcriptCommands.length < TRANSCRIPT) {
      this.transcriptCommands.push(command);
      this.transcriptFeedback.push(feedback);
      return;
    }
    this.transcriptCommands[this.transcriptStart] = command;
    this.transcriptFeedback[this.transcriptStart] = feedback;
    this.transcriptStart = (this.transcriptStart + 1) % TRANSCRIPT;
  }

  private parseContext(): { game: Game; state: Uint8Array; room: number; envId: string } {
    return {
      game: this.requireGame('parseCommand'),
      state: this.state,
      room: this.room,
      envId: this.id,
    };
  }

  private requireGame(method: string): Game {
    if (this.game === undefined) throw new ResetNeededError(this.id, 'before-reset', method);
    return this.game;
  }

  private loadGenerated(seed: number): Game {
    const source = this.source as Extract<GameSource, { kind: 'generated' }>;
    const game = cachedGame(`${source.key}#${seed}`, () => source.make(seed));
    const expected = source.layout;
    if (
      game.factNames.length !== expected.facts ||
      game.commands.length !== expected.commands ||
      game.roomCount !== expected.rooms ||
      game.doorCount !== expected.doors ||
      game.containerCount !== expected.containers ||
      game.supporterCount !== expected.supporters ||
      game.objectCount !== expected.objects
    ) {
      throw new Error(
        `TextWorld generator broke its layout for seed ${seed}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(layoutOf(game))}`,
      );
    }
    this.seedOfGame = seed;
    return game;
  }
}

/** Writes a game file (validated first, so a bad game throws `MalformedFileError`), atomically. */
export function writeGameFile(path: string, file: GameFile): void {
  parseGameFile(file, path);
  writeJsonAtomic(path, file);
}

/** Why a fact vector does not describe one world ('' when it does): one room, one place per object, one state per door or container. */
function consistency(game: Game, state: Uint8Array): string {
  let rooms = 0;
  for (let r = 0; r < game.roomCount; r++) rooms += state[game.playerAtFact[r]!]!;
  if (rooms !== 1) return `the player is in ${rooms} rooms`;
  const R = game.roomCount,
    C = game.containerCount,
    S = game.supporterCount;
  for (let o = 0; o < game.objectCount; o++) {
    let places = state[game.carriedFact[o]!]!;
    if (game.eatenFact[o]! >= 0) places += state[game.eatenFact[o]!]!;
    for (let r = 0; r < R; r++) places += state[game.objectAtFact[o * R + r]!]!;
    for (let c = 0; c < C; c++) places += state[game.objectInFact[o * C + c]!]!;
    for (let s = 0; s < S; s++) places += state[game.objectOnFact[o * S + s]!]!;
    if (places !== 1) return `${game.things[game.objectBase + o]!.id} is in ${places} places`;
  }
  for (let x = 0; x < game.lockableCount; x++) {
    const n =
      state[game.openFact[x]!]! +
      state[game.closedFact[x]!]! +
      (game.lockedFact[x]! >= 0 ? state[game.lockedFact[x]!]! : 0);
    if (n !== 1) return `${game.things[x]!.id} is in ${n} of open/closed/locked`;
  }
  return '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function boolean(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'true or false');
  return value;
}

function share(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw new InvalidOptionError(option, value, 'a number in [0, 1]');
  return value;
}
