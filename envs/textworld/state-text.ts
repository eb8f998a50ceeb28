/**
 * The canonical state text of TextWorld observations: the true facts, one per line, sorted (by
 * UTF-16 code units, so the order is the same everywhere). What a language prior is shown and
 * answers in, and what wmgym-lm's corpus is written in.
 *
 * ```
 * at(o0, r4)
 * at(player, r0)
 * carried(o2)
 * closed(c0)
 * exit(r0, north, r1)
 * key(o1, d0)
 * win(at(o0, r1))
 * ```
 *
 * ## Observations   `'slots'` (what the world model uses for Quest-k): an entry per fact over slots,
 *                   named with the slot vocabulary's names (`at(player, r0)`, `in(o3, c1)`; see
 *                   `slots.ts`), game-independent: one codec serves every game of a family level.
 *                   The vector holds the state, the map (`exit`, `doorway`, `located`, `key`,
 *                   `edible`), the quest (`win(f)`, `fail(f)`) and, with intermediate rewards, the
 *                   pending sub-goals (`subgoal(f)`); the true ones of each are listed.
 *                   `'facts'` (the default): an entry per changing fact of one game, named with the
 *                   game's ids (`at(player, kitchen)`; `factNames`); the codec belongs to the game
 *                   being played when it is made (make a new one after a reset to another game).
 *                   The map and the quest are not in this vector, so the text adds them as fixed
 *                   lines: the game's static facts and `win(f)` / `fail(f)` for its quest facts.
 * ## Fixed facts    The map and the quest never change within a game. Decoding takes them from the
 *                   reference state (slots) or the game (facts); the text may repeat them (the
 *                   encoder writes them, so a prompt shows the map) or leave them out, but a fixed
 *                   fact it lists must hold in the reference (or the game): one that does not throws.
 * ## Decode         `decode(text, reference)`: every other fact listed is true, every fact not listed
 *                   false. Blank lines and all spaces are ignored (`at(player,r0)` reads as
 *                   `at(player, r0)`); each fact at most once; an unknown fact throws
 *                   {@link StateTextParseError} naming the line. No consistency between facts is
 *                   required (the player in two rooms is a vector of the space, and reads back).
 * ## Commands       `commandText(action)`: the action's command in the same names as the facts
 *                   (slots: `take o2 from c1`; facts: the game's commands, `take brass key`).
 * @example
 * const env = make('TextWorld-Quest-k5-v0', { observation: 'slots' });
 * const codec = textWorldStateText(env);
 * const { observation } = env.reset({ seed: 3 });
 * codec.encode(observation); // "at(o0, r4)\nat(o1, r1)\n...\nwin(at(o0, r1))"
 */
import { envId, type Env } from '../core/env.js';
import {
  InvalidOptionError,
  InvalidValueError,
  StateTextParseError,
  formatValue,
} from '../core/errors.js';
import type { Game } from './game.js';
import type { SlotLayout } from './slots.js';
import { TextWorldEnv } from './textworld.js';

/** What a {@link TextWorldStateText} reads and writes. */
export interface TextWorldStateTextSpec {
  /** The environment the text speaks of (for messages). */
  envId: string;
  /** Name of each entry of the vector. */
  names: readonly string[];
  /** 1 for entries that never change within a game (taken from the reference). @defaultValue none */
  fixed?: Uint8Array;
  /** True facts outside the vector, written with the others and accepted back. @defaultValue none */
  context?: readonly string[];
  /** Command of each action index. */
  commands: readonly string[];
}

/** The state-text codec of a TextWorld observation; see the module comment. */
export class TextWorldStateText {
  /** The environment the text speaks of (for messages). */
  readonly envId: string;
  /** Entries in a state. */
  readonly size: number;
  /** Name of each entry. */
  readonly names: readonly string[];
  private readonly fixed: Uint8Array;
  private readonly context: readonly string[];
  private readonly contextKeys: ReadonlySet<string>;
  private readonly index: ReadonlyMap<string, number>;
  private readonly commands: readonly string[];

  /** @throws {@link InvalidOptionError} for names that repeat or a `fixed` mask of another length. */
  constructor(spec: TextWorldStateTextSpec) {
    const keys = spec.names.map(compact);
    const index = new Map(keys.map((k, i) => [k, i]));
    if (index.size !== keys.length || keys.some((k) => k === ''))
      throw new InvalidOptionError(
        'TextWorldStateText names',
        spec.names,
        'distinct, non-empty fact names',
      );
    const fixed = spec.fixed ?? new Uint8Array(spec.names.length);
    if (fixed.length !== spec.names.length)
      throw new InvalidOptionError(
        'TextWorldStateText fixed',
        `${fixed.length} entries`,
        `${spec.names.length} entries, one per name`,
      );
    const context = [...(spec.context ?? [])];
    const contextKeys = new Set(context.map(compact));
    if (contextKeys.size !== context.length || context.some((c) => index.has(compact(c))))
      throw new InvalidOptionError(
        'TextWorldStateText context',
        context,
        'distinct facts that are not entries of the vector',
      );
    this.envId = spec.envId;
    this.size = spec.names.length;
    this.names = Object.freeze([...spec.names]);
    this.fixed = fixed;
    this.context = Object.freeze(context);
    this.contextKeys = contextKeys;
    this.index = index;
    this.commands = Object.freeze([...spec.commands]);
  }

  /** The codec of a slot vocabulary (`observation: 'slots'`): map and quest blocks fixed. */
  static slots(layout: SlotLayout, envId = 'TextWorld'): TextWorldStateText {
    const fixed = new Uint8Array(layout.size);
    fixed.fill(1, layout.stateSize, layout.subgoal);
    return new TextWorldStateText({
      envId,
      names: layout.factNames(),
      fixed,
      commands: layout.commandNames(),
    });
  }

  /** The codec of one game's fact vector (`observation: 'facts'`): its map and quest as fixed lines. */
  static facts(game: Game, envId = 'TextWorld'): TextWorldStateText {
    const names = game.factNames;
    const context = [
      ...game.staticFacts,
      ...Array.from(game.winFacts, (f) => `win(${names[f]!})`),
      ...Array.from(game.failFacts, (f) => `fail(${names[f]!})`),
    ];
    return new TextWorldStateText({
      envId,
      names,
      context: [...new Set(context)],
      commands: game.commands,
    });
  }

  /**
   * The canonical text of `state` (any 0/1 vector of the right length).
   * @throws {@link InvalidValueError} for another length or an entry other than 0 and 1.
   */
  encode(state: ArrayLike<number>): string {
    this.check(state, `state for the state text of ${this.envId}`);
    const lines = [...this.context];
    for (let i = 0; i < this.size; i++) if (state[i] === 1) lines.push(this.names[i]!);
    return lines.sort(byCodeUnits).join('\n');
  }

  /**
   * The state a text describes, fixed facts from `reference` (see the module comment).
   * @throws {@link StateTextParseError} for text that does not parse, or lists a fixed fact the reference does not hold.
   * @throws {@link InvalidValueError} for a reference that is not a 0/1 vector of the right length.
   */
  decode(text: string, reference: ArrayLike<number>): Float32Array {
    this.check(reference, `reference state for the state text of ${this.envId}`);
    const what = `state text of ${this.envId}`;
    if (typeof text !== 'string')
      throw new StateTextParseError(what, undefined, String(text), 'a string');
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) if (this.fixed[i] === 1) out[i] = reference[i]!;
    const seen = new Map<string, number>();
    const lines = text.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!.trim();
      const key = compact(line);
      if (key === '') continue;
      const earlier = seen.get(key);
      if (earlier !== undefined)
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          `each fact once (it is at line ${earlier})`,
        );
      seen.set(key, k + 1);
      const i = this.index.get(key);
      if (i === undefined) {
        if (this.contextKeys.has(key)) continue;
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          `one fact of ${this.envId} per line, such as ${JSON.stringify(this.names[0] ?? '')}`,
        );
      }
      if (this.fixed[i] === 1 && reference[i] !== 1)
        throw new StateTextParseError(
          what,
          k + 1,
          line,
          'a fact that can change, or a fact of the map or quest that holds in the reference state',
          'The map and the quest do not change within a game',
        );
      out[i] = 1;
    }
    return out;
  }

  /**
   * The command of an action index, in the names the facts use.
   * @throws {@link InvalidValueError} for an index out of range.
   */
  commandText(action: number | ArrayLike<number>): string {
    const a = typeof action === 'number' ? action : action[0];
    if (a === undefined || !Number.isInteger(a) || a < 0 || a >= this.commands.length)
      throw new InvalidValueError(
        `action for the commands of ${this.envId}`,
        formatValue(action),
        `an integer in [0, ${this.commands.length - 1}]`,
      );
    return this.commands[a]!;
  }

  private check(state: ArrayLike<number>, what: string): void {
    if (!isVector(state) || state.length !== this.size)
      throw new InvalidValueError(what, formatValue(state), `${this.size} values of 0 or 1`);
    for (let i = 0; i < this.size; i++) {
      const v = state[i];
      if (v !== 0 && v !== 1)
        throw new InvalidValueError(
          `${what} (entry ${i}, ${this.names[i]!})`,
          formatValue(v),
          '0 or 1',
        );
    }
  }
}

/**
 * The state-text codec of a TextWorld environment: of its slot vocabulary (`observation: 'slots'`),
 * or of the game being played (`'facts'`; after `reset`). Wrappers are allowed if they keep its
 * observations.
 * @throws {@link InvalidOptionError} for another environment or a wrapper that changes the observation space.
 * @throws ResetNeededError for the facts observation before the first reset.
 */
export function textWorldStateText(env: Env): TextWorldStateText {
  const inner = env.unwrapped;
  if (!(inner instanceof TextWorldEnv))
    throw new InvalidOptionError('textWorldStateText env', envId(env), 'a TextWorld environment');
  if (!env.observationSpace.equals(inner.observationSpace))
    throw new InvalidOptionError(
      'textWorldStateText env',
      String(env.observationSpace),
      `the observation space of ${envId(env)} itself: the text names its entries, so no wrapper may change them`,
    );
  const layout = inner.slotLayout;
  return layout !== undefined
    ? TextWorldStateText.slots(layout, envId(env))
    : TextWorldStateText.facts(inner.currentGame, envId(env));
}

/** A fact without its spaces (the key facts are matched on). */
function compact(fact: string): string {
  return fact.replace(/\s+/g, '');
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A typed array or an array (what a state vector may come as). */
function isVector(value: unknown): value is ArrayLike<number> {
  return (ArrayBuffer.isView(value) && !(value instanceof DataView)) || Array.isArray(value);
}
