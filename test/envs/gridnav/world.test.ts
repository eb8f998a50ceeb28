import test from 'ava';
import {
  COLOR,
  DOOR,
  EMPTY,
  EVENT,
  OBJECT,
  OP,
  GridWorld,
  boxCode,
  colorOf,
  contentOf,
  doorCode,
  isValidCellCode,
  keyCode,
  stateOf,
  typeOf,
} from '../../../envs/gridnav/world.js';
import { Rng } from '../../../envs/core/rng.js';
import { worldFrom } from './fixtures.js';

test('cell codes pack MiniGrid type, colour, state and box content', (t) => {
  const door = doorCode(COLOR.purple, 'locked');
  t.is(typeOf(door), OBJECT.door);
  t.is(colorOf(door), COLOR.purple);
  t.is(stateOf(door), DOOR.locked);
  const box = boxCode(COLOR.green, keyCode(COLOR.blue));
  t.is(typeOf(box), OBJECT.box);
  t.is(contentOf(box), keyCode(COLOR.blue));
  t.true(isValidCellCode(box));
  t.false(isValidCellCode(0), 'unseen is not a cell of the world');
  t.false(isValidCellCode(keyCode(COLOR.red) | (1 << 7)), 'only doors have a state');
  t.false(isValidCellCode((6 << 4) | OBJECT.key), 'colours stop at grey');
});

test('turning changes only the direction, clockwise for right', (t) => {
  const w = worldFrom(['###', '#>#', '###']);
  t.is(w.apply(OP.right), EVENT.changed);
  t.is(w.dir, 1);
  t.is(w.apply(OP.left), EVENT.changed);
  t.is(w.apply(OP.left), EVENT.changed);
  t.is(w.dir, 3);
  t.deepEqual([w.agentX, w.agentY], [1, 1]);
});

test('forward enters empty cells and stops at walls, objects and shut doors', (t) => {
  const w = worldFrom(['######', '#>.kD#', '######']);
  t.is(w.apply(OP.forward), EVENT.changed);
  t.is(w.agentX, 2);
  t.is(w.apply(OP.forward), EVENT.none, 'a key blocks the way');
  t.false(w.changes(OP.forward));
  t.is(w.agentX, 2);
});

test('an absolute move turns and steps in one action, and only turns when blocked', (t) => {
  const w = worldFrom(['#####', '#.>.#', '#.#.#', '#####']);
  t.true(w.changes(OP.south), 'turning south changes the direction');
  t.is(w.apply(OP.south), EVENT.changed);
  t.is(w.dir, 1);
  t.deepEqual([w.agentX, w.agentY], [2, 1], 'the wall south stops the step');
  t.false(w.changes(OP.south), 'facing the wall, south does nothing');
  t.is(w.apply(OP.south), EVENT.none);
  t.is(w.apply(OP.west), EVENT.changed);
  t.deepEqual([w.agentX, w.agentY, w.dir], [1, 1, 2]);
});

test('pickup takes the object in front into empty hands only', (t) => {
  const w = worldFrom(['#####', '#>kb#', '#####']);
  t.is(w.apply(OP.pickup), EVENT.changed);
  t.is(w.carried, keyCode(COLOR.yellow));
  t.is(w.get(2, 1), EMPTY);
  w.apply(OP.forward);
  t.false(w.changes(OP.pickup), 'hands are full');
  t.is(w.apply(OP.pickup), EVENT.none);
  t.is(typeOf(w.get(3, 1)), OBJECT.ball);
});

test('drop puts the carried object on the empty cell in front only', (t) => {
  const w = worldFrom(['#####', '#>.G#', '#####']);
  w.carried = keyCode(COLOR.red);
  w.apply(OP.forward);
  t.false(w.changes(OP.drop), 'nothing can be dropped on the goal');
  w.apply(OP.left);
  t.false(w.changes(OP.drop), 'nor on a wall');
  w.apply(OP.left);
  t.is(w.apply(OP.drop), EVENT.changed);
  t.is(w.get(1, 1), keyCode(COLOR.red));
  t.is(w.carried, 0);
  t.is(w.apply(OP.drop), EVENT.none, 'empty hands drop nothing');
});

test('a locked door opens only with a key of its colour in hand, which stays in hand', (t) => {
  const w = worldFrom(['####', '#>L#', '####']);
  t.false(w.changes(OP.toggle));
  t.is(w.apply(OP.toggle), EVENT.none);
  w.carried = keyCode(COLOR.red);
  t.is(w.apply(OP.toggle), EVENT.none, 'a red key does not open a yellow door');
  w.carried = keyCode(COLOR.yellow);
  t.is(w.apply(OP.toggle), EVENT.changed);
  t.is(stateOf(w.get(2, 1)), DOOR.open);
  t.is(w.carried, keyCode(COLOR.yellow));
  t.is(w.apply(OP.toggle), EVENT.changed, 'an open door closes');
  t.is(stateOf(w.get(2, 1)), DOOR.closed);
  w.carried = 0;
  t.is(w.apply(OP.toggle), EVENT.changed, 'a closed door opens without a key');
  t.is(w.apply(OP.forward), EVENT.changed, 'and can be walked through');
});

test('toggling a box replaces it with its content', (t) => {
  const w = worldFrom(['#####', '#>X.#', '#####']);
  t.is(w.apply(OP.toggle), EVENT.changed);
  t.is(w.get(2, 1), keyCode(COLOR.yellow));
  const empty = worldFrom(['####', '#>x#', '####']);
  empty.apply(OP.toggle);
  t.is(empty.get(2, 1), EMPTY);
});

test('the goal ends with success, lava with failure', (t) => {
  const w = worldFrom(['#####', '#G>~#', '#####']);
  t.is(w.apply(OP.east), EVENT.failure);
  t.deepEqual([w.agentX, w.agentY], [3, 1], 'the agent steps into the lava');
  const g = worldFrom(['#####', '#G>~#', '#####']);
  t.is(g.apply(OP.west), EVENT.success);
});

test('picking up the target object and opening the target door are successes', (t) => {
  const w = worldFrom(['#####', '#>bL#', '#####']);
  w.objective = { kind: 'pickup', object: w.get(2, 1) };
  t.is(w.apply(OP.pickup), EVENT.success);
  const u = worldFrom(['####', '#>L#', '####']);
  u.objective = { kind: 'open', cell: u.index(2, 1) };
  u.carried = keyCode(COLOR.yellow);
  t.is(u.apply(OP.toggle), EVENT.success);
  t.is(u.apply(OP.toggle), EVENT.changed, 'closing it again is no success');
});

test('placement draws only empty cells away from the agent', (t) => {
  const w = worldFrom(['#####', '#>..#', '#####']);
  const rng = new Rng(1);
  for (let i = 0; i < 2; i++) w.placeObject(rng, keyCode(COLOR.red));
  t.is(w.get(2, 1), keyCode(COLOR.red));
  t.is(w.get(3, 1), keyCode(COLOR.red));
  t.throws(() => w.placeObject(rng, keyCode(COLOR.red)), { message: /free empty cell/ });
});

test('clone copies everything and shares nothing', (t) => {
  const w = worldFrom(['####', '#>k#', '####']);
  const c = w.clone();
  c.apply(OP.pickup);
  t.is(w.carried, 0);
  t.is(w.get(2, 1), keyCode(COLOR.yellow));
  t.true(c instanceof GridWorld);
});
