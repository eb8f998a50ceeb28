/**
 * TextWorld: procedurally generated text adventures (Coin Collector, Treasure Hunter, quests of
 * exact length k) and hand-written JSON games, a command parser, and an exact solver.
 */
export * from './textworld.js';
export * from './game-file.js';
export * from './example-game.js';
export {
  Game,
  RULE_NAMES,
  RULE_VERBS,
  type Room,
  type Thing,
  type ThingKind,
  type ObjectLocation,
} from './game.js';
export * from './generator.js';
export {
  parseCommand as parseTextCommand,
  parseCommands as parseTextCommands,
  tokenize,
  visibleThings,
  whichQuestion,
  type ParseContext,
} from './parser.js';
export * from './rules.js';
export * from './search.js';
export {
  SlotLayout,
  SlotView,
  slotGame,
  slotName,
  slotOrder,
  slotView,
  type CommandForm,
  type SlotCounts,
  type SlotKind,
  type SlotNamer,
  type SlotOrder,
} from './slots.js';
export { TextMaker, type NameKind } from './text-grammar.js';
export * from './state-text.js';
