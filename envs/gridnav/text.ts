/**
 * The text face of GridNav: what the agent sees in words ({@link describeWorld}), the commands
 * that do something now ({@link worldCommands}) and a forgiving parser from free text to an action
 * index ({@link parseWorldCommand}). Positions are given in compass terms with the absolute action
 * set ("2 steps west") and relative to the agent with the egocentric one ("2 steps to the left").
 */
import { CommandParseError, formatValue } from '../core/errors.js';
import {
  COLORS,
  DIRECTION_NAMES,
  DOOR,
  DOOR_STATE_NAMES,
  DX,
  DY,
  MOVE_DIRECTION,
  OBJECT,
  OP,
  colorOf,
  isPassable,
  stateOf,
  typeOf,
  type GridWorld,
} from './world.js';

/** Which action set the text face speaks for. */
export type TextActionSet = 'absolute' | 'egocentric';

/** Options of {@link describeWorld}. */
export interface DescribeOptions {
  /** The action set, which decides compass or relative wording. */
  actions: TextActionSet;
  /** Cells the agent sees (1 = seen); every cell when undefined. */
  visible?: Uint8Array | undefined;
  /** Most lava cells listed one by one. @defaultValue 6 */
  maxLava?: number;
}

/** Words for an object code: "a locked yellow door", "a red ball", "the green goal", "lava". */
export function objectPhrase(code: number): string {
  const t = typeOf(code);
  const color = COLORS[colorOf(code)]!;
  switch (t) {
    case OBJECT.door:
      return `a ${DOOR_STATE_NAMES[stateOf(code)]!} ${color} door`;
    case OBJECT.key:
    case OBJECT.ball:
    case OBJECT.box:
      return `a ${color} ${TYPE_WORDS[t]!}`;
    case OBJECT.goal:
      return 'the green goal';
    case OBJECT.lava:
      return 'lava';
    case OBJECT.wall:
      return 'a wall';
    case OBJECT.floor:
      return `a ${color} floor tile`;
    default:
      return 'nothing';
  }
}

const TYPE_WORDS: Record<number, string> = {
  [OBJECT.door]: 'door',
  [OBJECT.key]: 'key',
  [OBJECT.ball]: 'ball',
  [OBJECT.box]: 'box',
  [OBJECT.goal]: 'goal',
  [OBJECT.lava]: 'lava',
  [OBJECT.wall]: 'wall',
};

/** How far (dx east, dy south) lies from the agent, in the words of the action set. */
export function relativePosition(
  world: GridWorld,
  dx: number,
  dy: number,
  actions: TextActionSet,
): string {
  if (actions === 'absolute') {
    const parts: string[] = [];
    if (dy !== 0) parts.push(steps(Math.abs(dy), dy < 0 ? 'north' : 'south'));
    if (dx !== 0) parts.push(steps(Math.abs(dx), dx < 0 ? 'west' : 'east'));
    return parts.length === 0 ? 'here' : parts.join(' and ');
  }
  const d = world.dir;
  const ahead = dx * DX[d]! + dy * DY[d]!;
  const right = -dx * DY[d]! + dy * DX[d]!;
  const parts: string[] = [];
  if (ahead !== 0) parts.push(steps(Math.abs(ahead), ahead > 0 ? 'ahead' : 'behind'));
  if (right !== 0) parts.push(steps(Math.abs(right), right > 0 ? 'to the right' : 'to the left'));
  return parts.length === 0 ? 'here' : parts.join(' and ');
}

function steps(n: number, where: string): string {
  return `${n} step${n === 1 ? '' : 's'} ${where}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

interface Seen {
  code: number;
  dx: number;
  dy: number;
  distance: number;
}

/**
 * The mission, the agent's heading, what it carries, what is in front of it, every object it sees
 * with its position relative to the agent, and the walls next to it.
 */
export function describeWorld(world: GridWorld, options: DescribeOptions): string {
  const { actions, visible } = options;
  const maxLava = options.maxLava ?? 6;
  const lines: string[] = [];
  lines.push(`Mission: ${world.mission}.`);
  const heading = `You are facing ${DIRECTION_NAMES[world.dir]!}.`;
  const carrying =
    world.carried === 0 ? 'You carry nothing.' : `You carry ${objectPhrase(world.carried)}.`;
  lines.push(`${heading} ${carrying}`);
  const front = world.front();
  const frontType = typeOf(front);
  lines.push(
    frontType === OBJECT.empty
      ? 'The cell in front of you is empty.'
      : `In front of you is ${objectPhrase(front)}.`,
  );

  const seen: Seen[] = [];
  const lava: Seen[] = [];
  for (let x = 0; x < world.width; x++) {
    for (let y = 0; y < world.height; y++) {
      if (x === world.agentX && y === world.agentY) continue;
      const cell = world.index(x, y);
      if (visible?.[cell] === 0) continue;
      const code = world.grid[cell]!;
      const t = typeOf(code);
      const dx = x - world.agentX;
      const dy = y - world.agentY;
      const entry = { code, dx, dy, distance: Math.abs(dx) + Math.abs(dy) };
      if (t === OBJECT.lava) lava.push(entry);
      else if (
        t === OBJECT.door ||
        t === OBJECT.key ||
        t === OBJECT.ball ||
        t === OBJECT.box ||
        t === OBJECT.goal
      ) {
        seen.push(entry);
      }
    }
  }
  const order = (a: Seen, b: Seen): number => a.distance - b.distance || a.dy - b.dy || a.dx - b.dx;
  seen.sort(order);
  for (const s of seen) {
    lines.push(
      `${capitalize(objectPhrase(s.code))} is ${relativePosition(world, s.dx, s.dy, actions)}.`,
    );
  }
  if (lava.length > 0) {
    lava.sort(order);
    const listed = lava.slice(0, maxLava).map((s) => relativePosition(world, s.dx, s.dy, actions));
    const more = lava.length - listed.length;
    lines.push(
      `Lava (stepping in ends the episode) is ${listed.join('; ')}${more > 0 ? `; and ${more} more cell${more === 1 ? '' : 's'} further away` : ''}.`,
    );
  }
  if (seen.length === 0 && lava.length === 0) lines.push('You see no objects.');

  const walls: string[] = [];
  for (const d of [3, 0, 1, 2]) {
    if (typeOf(world.front(d)) !== OBJECT.wall) continue;
    walls.push(
      actions === 'absolute'
        ? `to the ${DIRECTION_NAMES[d]!}`
        : RELATIVE_SIDES[(d - world.dir + 4) & 3]!,
    );
  }
  if (walls.length > 0) lines.push(`There is a wall ${joinWords(walls)}.`);
  return lines.join('\n');
}

/** Side names relative to the heading: same direction, clockwise, opposite, counter-clockwise. */
const RELATIVE_SIDES = ['ahead', 'to the right', 'behind', 'to the left'] as const;

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]!}`;
}

/**
 * The commands that change something now, one per action, e.g. "go north", "face west" (a move
 * that only turns), "pick up the yellow key", "unlock the yellow door", "turn left".
 * `ops[a]` is the world operation of action index `a`.
 */
export function worldCommands(world: GridWorld, ops: ArrayLike<number>): string[] {
  const out: string[] = [];
  for (const op of Array.from(ops)) {
    if (!world.changes(op)) continue;
    out.push(commandFor(world, op));
  }
  if (out.length === 0) out.push('done');
  return out;
}

/** The command text for one world operation in the current state. */
export function commandFor(world: GridWorld, op: number): string {
  switch (op) {
    case OP.left:
      return 'turn left';
    case OP.right:
      return 'turn right';
    case OP.forward:
      return 'go forward';
    case OP.north:
    case OP.south:
    case OP.east:
    case OP.west: {
      const d = MOVE_DIRECTION[op - OP.north]!;
      const name = DIRECTION_NAMES[d]!;
      return world.dir !== d && !isPassable(world.front(d)) ? `face ${name}` : `go ${name}`;
    }
    case OP.pickup:
      return `pick up ${definite(world.front())}`;
    case OP.drop:
      return world.carried === 0 ? 'drop' : `drop ${definite(world.carried)}`;
    case OP.toggle: {
      const front = world.front();
      if (typeOf(front) === OBJECT.door) {
        const state = stateOf(front);
        const verb = state === DOOR.locked ? 'unlock' : state === DOOR.closed ? 'open' : 'close';
        return `${verb} the ${COLORS[colorOf(front)]!} door`;
      }
      if (typeOf(front) === OBJECT.box) return `open ${definite(front)}`;
      return 'toggle';
    }
    default:
      return 'done';
  }
}

function definite(code: number): string {
  const t = typeOf(code);
  return `the ${COLORS[colorOf(code)]!} ${TYPE_WORDS[t] ?? 'object'}`;
}

/** The command forms the parser accepts, for error messages. */
export function allowedCommands(actions: TextActionSet): string {
  const moves =
    actions === 'absolute'
      ? '"go north" / "south" / "east" / "west" (or n, s, e, w; up, down, left, right on the map), "go forward"'
      : '"turn left", "turn right", "go forward" (or l, r, f), "go north" when facing north';
  return `${moves}, "pick up [the yellow key]", "drop [the yellow key]", "open / unlock / close [the yellow door]" or "toggle", "done", or an action number`;
}

const FILLER = new Set([
  'the',
  'a',
  'an',
  'please',
  'my',
  'your',
  'this',
  'that',
  'it',
  'to',
  'towards',
  'toward',
  'one',
  'step',
]);
const COLOR_WORDS = new Set<string>(COLORS);
const STATE_WORDS = new Set(['open', 'opened', 'closed', 'shut', 'locked', 'unlocked']);
const NOUNS: Record<string, number> = {
  door: OBJECT.door,
  key: OBJECT.key,
  ball: OBJECT.ball,
  box: OBJECT.box,
  chest: OBJECT.box,
  goal: OBJECT.goal,
};
const GENERIC_NOUNS = new Set(['object', 'thing', 'item']);
const DIRECTION_WORDS: Record<string, number> = {
  north: 3,
  n: 3,
  up: 3,
  south: 1,
  s: 1,
  down: 1,
  east: 0,
  e: 0,
  west: 2,
  w: 2,
};

/**
 * Maps free text to an action index of the given action set (`ops[a]` = world operation of
 * action `a`). Object words are checked against what the agent faces (or carries, for drop).
 * @throws {@link CommandParseError} for text it cannot map, naming the accepted forms and, when
 * the text names something the agent does not face, what is there instead.
 */
export function parseWorldCommand(
  world: GridWorld,
  ops: ArrayLike<number>,
  actions: TextActionSet,
  text: string,
  envId: string,
): number {
  const allowed = allowedCommands(actions);
  const raw: unknown = text;
  const received = typeof raw === 'string' ? raw : formatValue(raw);
  const fail = (feedback?: string): never => {
    throw new CommandParseError(envId, received, allowed, feedback);
  };
  if (typeof text !== 'string') fail();
  const normalized = text
    .toLowerCase()
    .replace(/[.,!?;:'"]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (normalized === '') fail('The command is empty');
  const actionOf = (op: number): number => {
    for (let a = 0; a < ops.length; a++) if (ops[a] === op) return a;
    return -1;
  };

  if (/^\d+$/.test(normalized)) {
    const a = Number(normalized);
    if (a < ops.length) return a;
    fail(`There are ${ops.length} actions, numbered 0 to ${ops.length - 1}`);
  }
  if (/^(?:done|stop|finish|finished|end|i am done|im done|i m done)$/.test(normalized))
    return actionOf(OP.done);

  const words = normalized.split(' ').filter((w) => !FILLER.has(w));
  const head = words[0] ?? '';
  const rest = words.slice(1);

  // Moves and turns.
  const verbless = [
    'go',
    'move',
    'walk',
    'step',
    'head',
    'run',
    'face',
    'turn',
    'look',
    'rotate',
  ].includes(head)
    ? rest
    : words;
  if (verbless.length === 1) {
    const word = verbless[0]!;
    const isTurnVerb = head === 'turn' || head === 'face' || head === 'look' || head === 'rotate';
    if (word in DIRECTION_WORDS) {
      const d = DIRECTION_WORDS[word]!;
      if (actions === 'absolute') return actionOf(OP.north + MOVE_DIRECTION.indexOf(d));
      if (world.dir === d && !isTurnVerb) return actionOf(OP.forward);
      fail(
        `You face ${DIRECTION_NAMES[world.dir]!}; this environment turns with "turn left" / "turn right" and moves with "go forward"`,
      );
    }
    if (['forward', 'forwards', 'ahead', 'f', 'straight', 'on'].includes(word) && !isTurnVerb) {
      if (actions === 'egocentric') return actionOf(OP.forward);
      return actionOf(OP.north + MOVE_DIRECTION.indexOf(world.dir));
    }
    if (['left', 'right', 'l', 'r'].includes(word)) {
      const isLeft = word.startsWith('l');
      const isMoveVerb = ['go', 'move', 'walk', 'head', 'run'].includes(head);
      if (actions === 'egocentric') {
        if (!isMoveVerb) return actionOf(isLeft ? OP.left : OP.right);
        fail('Turn first ("turn left" / "turn right"), then "go forward"');
      }
      // Compass moves on a map drawn north-up: left is west, right is east. No turning in place.
      if (isTurnVerb) {
        fail(
          'This environment moves with "go north" / "south" / "east" / "west"; it has no turning in place',
        );
      }
      return actionOf(isLeft ? OP.west : OP.east);
    }
  }

  // Interactions: verb, then an optional object phrase.
  // "use the key on the door" names what is toggled last.
  const joined = words.join(' ').replace(/^use (?:.* )?(?:on|with) /, 'use ');
  let match = /^(?:pick up|pickup|pick|take|grab|get|lift|collect|p)(?: (.*?))?(?: up)?$/.exec(
    joined,
  );
  if (match !== null) {
    checkPhrase(match[1], world.front(), 'in front of you', fail);
    return actionOf(OP.pickup);
  }
  match = /^(?:drop|put down|put|place|release|leave|d)(?: (.*?))?(?: down)?$/.exec(joined);
  if (match !== null) {
    if (match[1] !== undefined && world.carried === 0) fail('You carry nothing');
    checkPhrase(match[1], world.carried, 'in your hands', fail);
    return actionOf(OP.drop);
  }
  match =
    /^(toggle|open|unlock|close|shut|use|activate|interact with|interact|t)(?: (.*?))?(?: (?:with|using) .*)?$/.exec(
      joined,
    );
  if (match !== null) {
    const verb = match[1]!;
    const front = world.front();
    checkPhrase(match[2], front, 'in front of you', fail);
    const t = typeOf(front);
    if ((verb === 'unlock' || verb === 'close' || verb === 'shut') && t !== OBJECT.door) {
      fail(`In front of you is ${objectPhrase(front)}, not a door`);
    }
    if (verb === 'unlock' && stateOf(front) !== DOOR.locked)
      fail(`The door in front of you is ${DOOR_STATE_NAMES[stateOf(front)]!}, not locked`);
    if ((verb === 'close' || verb === 'shut') && stateOf(front) !== DOOR.open)
      fail('The door in front of you is not open');
    if (verb === 'open' && t === OBJECT.door && stateOf(front) === DOOR.open)
      fail('The door in front of you is already open');
    return actionOf(OP.toggle);
  }
  return fail();
}

/** Checks an object phrase ("yellow key", "locked door", "it") against `code`; fails with feedback. */
function checkPhrase(
  phrase: string | undefined,
  code: number,
  where: string,
  fail: (feedback?: string) => never,
): void {
  if (phrase === undefined || phrase.trim() === '') return;
  let color: number | undefined;
  let type: number | undefined;
  let state: string | undefined;
  for (const word of phrase.split(' ')) {
    if (word === '' || FILLER.has(word) || GENERIC_NOUNS.has(word)) continue;
    if (COLOR_WORDS.has(word)) color = COLORS.indexOf(word as (typeof COLORS)[number]);
    else if (word in NOUNS) type = NOUNS[word];
    else if (STATE_WORDS.has(word)) state = word;
    else fail(`"${word}" is not a colour or an object this world has (door, key, ball, box)`);
  }
  const t = typeOf(code);
  const there = code === 0 ? 'nothing' : objectPhrase(code);
  if (type !== undefined && type !== t)
    fail(`There is no such thing ${where}: ${where} is ${there}`);
  if (
    color !== undefined &&
    (code === 0 || color !== colorOf(code) || t === OBJECT.wall || t === OBJECT.empty)
  ) {
    fail(`There is no such thing ${where}: ${where} is ${there}`);
  }
  if (state !== undefined) {
    if (t !== OBJECT.door) fail(`There is no such thing ${where}: ${where} is ${there}`);
    const s = stateOf(code);
    const ok =
      state === 'locked'
        ? s === DOOR.locked
        : state === 'unlocked'
          ? s !== DOOR.locked
          : state === 'open' || state === 'opened'
            ? s === DOOR.open
            : s !== DOOR.open;
    if (!ok) fail(`There is no such thing ${where}: ${where} is ${there}`);
  }
}
