/**
 * Hand-drawn worlds for the GridNav tests. One character per cell:
 * `#` wall, `.` empty, `G` goal, `~` lava, `>` `v` `<` `^` the agent (on an empty cell) facing
 * east/south/west/north, `D` closed yellow door, `L` locked yellow door, `_` open yellow door,
 * `R` locked red door, `k` yellow key, `r` red key, `b` blue ball, `x` empty red box,
 * `X` red box holding a yellow key.
 */
import {
  COLOR,
  EMPTY,
  GOAL,
  LAVA,
  WALL,
  GridWorld,
  ballCode,
  boxCode,
  doorCode,
  keyCode,
} from '../../../envs/gridnav/world.js';

const CODES: Record<string, number> = {
  '#': WALL,
  '.': EMPTY,
  G: GOAL,
  '~': LAVA,
  D: doorCode(COLOR.yellow, 'closed'),
  L: doorCode(COLOR.yellow, 'locked'),
  _: doorCode(COLOR.yellow, 'open'),
  R: doorCode(COLOR.red, 'locked'),
  k: keyCode(COLOR.yellow),
  r: keyCode(COLOR.red),
  b: ballCode(COLOR.blue),
  x: boxCode(COLOR.red),
  X: boxCode(COLOR.red, keyCode(COLOR.yellow)),
};
const AGENT: Record<string, number> = { '>': 0, v: 1, '<': 2, '^': 3 };

/** Builds a world from rows of characters (see the module documentation). */
export function worldFrom(rows: readonly string[], mission = 'test'): GridWorld {
  const height = rows.length;
  const width = rows[0]!.length;
  const world = new GridWorld(width, height);
  rows.forEach((row, y) => {
    if (row.length !== width)
      throw new Error(`row ${y} has ${row.length} cells, expected ${width}`);
    for (let x = 0; x < width; x++) {
      const ch = row.charAt(x);
      if (ch in AGENT) {
        world.agentX = x;
        world.agentY = y;
        world.dir = AGENT[ch]!;
        world.set(x, y, EMPTY);
        continue;
      }
      const code = CODES[ch];
      if (code === undefined) throw new Error(`unknown cell "${ch}"`);
      world.set(x, y, code);
    }
  });
  world.mission = mission;
  return world;
}
