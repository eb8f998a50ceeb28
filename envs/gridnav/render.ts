/**
 * Drawing GridNav worlds for people: {@link renderAnsi} prints the grid two characters per cell
 * (as MiniGrid's `pprint_grid`) with a legend and a status line, coloured with ANSI escapes only
 * when asked; {@link renderRgb} draws MiniGrid-like tiles on a {@link Canvas}.
 */
import type { RgbArray } from '../core/env.js';
import { Canvas, type Point, type Rgb } from '../core/render.js';
import { objectPhrase } from './text.js';
import {
  DIRECTION_NAMES,
  DOOR,
  OBJECT,
  colorOf,
  stateOf,
  typeOf,
  type GridWorld,
} from './world.js';

/** MiniGrid's colours, by colour code. */
export const COLOR_RGB: readonly Rgb[] = Object.freeze([
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [112, 39, 195],
  [255, 255, 0],
  [100, 100, 100],
]);

/** One letter per colour code in text frames (grey is "e", as in grEy, to stay apart from green). */
const COLOR_LETTERS = ['r', 'g', 'b', 'p', 'y', 'e'] as const;
const AGENT_GLYPHS = ['>>', 'vv', '<<', '^^'] as const;
/** ANSI foreground colour per colour code. */
const ANSI_COLORS = [
  '\x1b[91m',
  '\x1b[92m',
  '\x1b[94m',
  '\x1b[95m',
  '\x1b[93m',
  '\x1b[37m',
] as const;
const ANSI_RESET = '\x1b[0m';
const ANSI_DIM = '\x1b[2m';

/** Options of {@link renderAnsi}. */
export interface AnsiOptions {
  /** Use ANSI colour escapes. */
  color: boolean;
  /** Cells the agent sees (1 = seen); the others are dimmed when `color` is on. */
  visible?: Uint8Array | undefined;
  /** The action set, named in the status line. */
  actions: 'absolute' | 'egocentric';
  /** Steps taken so far, shown in the status line. */
  steps: number;
}

function glyph(code: number): string {
  const t = typeOf(code);
  const c = COLOR_LETTERS[colorOf(code)]!;
  switch (t) {
    case OBJECT.wall:
      return '##';
    case OBJECT.floor:
      return `.${c}`;
    case OBJECT.goal:
      return 'GG';
    case OBJECT.lava:
      return '~~';
    case OBJECT.door: {
      const s = stateOf(code);
      return `${s === DOOR.open ? '_' : s === DOOR.closed ? 'D' : 'L'}${c}`;
    }
    case OBJECT.key:
      return `K${c}`;
    case OBJECT.ball:
      return `O${c}`;
    case OBJECT.box:
      return `B${c}`;
    default:
      return '  ';
  }
}

function paint(text: string, code: number): string {
  const t = typeOf(code);
  if (t === OBJECT.wall) return `\x1b[90m${text}${ANSI_RESET}`;
  if (t === OBJECT.goal) return `\x1b[42;30m${text}${ANSI_RESET}`;
  if (t === OBJECT.lava) return `\x1b[41;33m${text}${ANSI_RESET}`;
  if (t === OBJECT.empty) return text;
  return `${ANSI_COLORS[colorOf(code)]!}${text}${ANSI_RESET}`;
}

/**
 * The grid as text, one row per line and two characters per cell, then a legend of what is on the
 * grid and a status line (mission, heading, carried object, steps).
 */
export function renderAnsi(world: GridWorld, options: AnsiOptions): string {
  const { color, visible } = options;
  const rows: string[] = [];
  const legend = new Map<string, string>();
  for (let y = 0; y < world.height; y++) {
    let row = '';
    for (let x = 0; x < world.width; x++) {
      const cell = world.index(x, y);
      const code = world.grid[cell]!;
      let text: string;
      if (x === world.agentX && y === world.agentY) {
        text = AGENT_GLYPHS[world.dir]!;
        legend.set(text, `you, facing ${DIRECTION_NAMES[world.dir]!}`);
        if (color) text = `\x1b[1;91m${text}${ANSI_RESET}`;
      } else {
        text = glyph(code);
        const t = typeOf(code);
        if (t !== OBJECT.empty && t !== OBJECT.wall)
          legend.set(text, objectPhrase(code).replace(/^(a|the) /, ''));
        if (color) {
          text = paint(text, code);
          if (visible?.[cell] === 0) text = `${ANSI_DIM}${text}${ANSI_RESET}`;
        }
      }
      row += text;
    }
    rows.push(row);
  }
  const keys = [...legend.entries()].sort(([a], [b]) =>
    a === AGENT_GLYPHS[world.dir] ? -1 : b === AGENT_GLYPHS[world.dir] ? 1 : a.localeCompare(b),
  );
  const legendLine = keys.map(([g, what]) => `${g} ${what}`).join(' | ');
  const carried = world.carried === 0 ? 'nothing' : objectPhrase(world.carried);
  rows.push(`${legendLine} | ## wall`);
  rows.push(
    `Mission: ${world.mission} | carrying ${carried} | step ${options.steps} | ${options.actions} actions`,
  );
  return rows.join('\n');
}

/** Options of {@link renderRgb}. */
export interface RgbOptions {
  /** Pixels per cell. */
  tileSize: number;
  /** Cells the agent sees (1 = seen), drawn lighter as MiniGrid highlights them. */
  visible?: Uint8Array | undefined;
}

const BLACK: Rgb = [0, 0, 0];
const GRID_LINE: Rgb = [100, 100, 100];
const HIGHLIGHT: Rgb = [76, 76, 76];
const LAVA: Rgb = [255, 128, 0];

function scale(color: Rgb, factor: number): Rgb {
  return [
    Math.round(color[0] * factor),
    Math.round(color[1] * factor),
    Math.round(color[2] * factor),
  ];
}

/** MiniGrid-like tiles: walls grey, goal green, lava orange with waves, doors, keys, balls, boxes, a red triangle for the agent. */
export function renderRgb(world: GridWorld, options: RgbOptions): RgbArray {
  const s = options.tileSize;
  const canvas = new Canvas(world.width * s, world.height * s, BLACK);
  for (let x = 0; x < world.width; x++) {
    for (let y = 0; y < world.height; y++) {
      const cell = world.index(x, y);
      const lit = options.visible?.[cell] === 1;
      drawTile(canvas, world.grid[cell]!, x * s, y * s, s, lit);
    }
  }
  drawAgent(canvas, world.agentX * s, world.agentY * s, s, world.dir);
  if (world.carried !== 0) {
    // The carried object, small, in the agent's tile corner.
    const q = s / 3;
    drawObject(canvas, world.carried, world.agentX * s + s - q, world.agentY * s + s - q, q);
  }
  return canvas.toRgbArray();
}

function drawTile(
  canvas: Canvas,
  code: number,
  x: number,
  y: number,
  s: number,
  lit: boolean,
): void {
  const t = typeOf(code);
  const background = lit ? HIGHLIGHT : BLACK;
  if (t === OBJECT.wall) {
    canvas.fillRect(x, y, s, s, COLOR_RGB[colorOf(code)]!);
    return;
  }
  canvas.fillRect(x, y, s, s, background);
  // Grid lines on the top and left edges, as MiniGrid draws them.
  const line = Math.max(1, Math.round(s / 32));
  canvas.fillRect(x, y, s, line, GRID_LINE);
  canvas.fillRect(x, y, line, s, GRID_LINE);
  drawObject(canvas, code, x, y, s);
}

function drawObject(canvas: Canvas, code: number, x: number, y: number, s: number): void {
  const t = typeOf(code);
  const color = COLOR_RGB[colorOf(code)]!;
  const at = (fx: number, fy: number): Point => [x + fx * s, y + fy * s];
  switch (t) {
    case OBJECT.goal:
      canvas.fillRect(x + s * 0.03, y + s * 0.03, s * 0.97, s * 0.97, COLOR_RGB[1]!);
      return;
    case OBJECT.floor:
      canvas.fillRect(x + s * 0.03, y + s * 0.03, s * 0.97, s * 0.97, scale(color, 0.5));
      return;
    case OBJECT.lava: {
      canvas.fillRect(x, y, s, s, LAVA);
      for (const fy of [0.3, 0.5, 0.7]) {
        const points = [0.1, 0.3, 0.5, 0.7, 0.9].map((fx, i) =>
          at(fx, fy + (i % 2 === 0 ? -0.03 : 0.03)),
        );
        for (let i = 0; i + 1 < points.length; i++) {
          canvas.line(
            points[i]![0],
            points[i]![1],
            points[i + 1]![0],
            points[i + 1]![1],
            Math.max(1, s * 0.03),
            BLACK,
          );
        }
      }
      return;
    }
    case OBJECT.door: {
      const state = stateOf(code);
      if (state === DOOR.open) {
        canvas.fillRect(x + s * 0.88, y, s * 0.12, s, color);
        return;
      }
      canvas.fillRect(x, y, s, s, color);
      canvas.fillRect(
        x + s * 0.06,
        y + s * 0.06,
        s * 0.88,
        s * 0.88,
        state === DOOR.locked ? scale(color, 0.45) : BLACK,
      );
      if (state === DOOR.locked) {
        canvas.fillRect(x + s * 0.52, y + s * 0.48, s * 0.23, s * 0.05, color); // key slot
      } else {
        canvas.fillCircle(x + s * 0.75, y + s * 0.5, s * 0.08, color); // handle
      }
      return;
    }
    case OBJECT.key:
      canvas.fillRect(x + s * 0.5, y + s * 0.31, s * 0.13, s * 0.57, color); // shaft
      canvas.fillRect(x + s * 0.38, y + s * 0.59, s * 0.12, s * 0.07, color); // teeth
      canvas.fillRect(x + s * 0.38, y + s * 0.81, s * 0.12, s * 0.07, color);
      canvas.fillCircle(x + s * 0.56, y + s * 0.28, s * 0.19, color); // ring
      canvas.fillCircle(x + s * 0.56, y + s * 0.28, s * 0.064, BLACK);
      return;
    case OBJECT.ball:
      canvas.fillCircle(x + s * 0.5, y + s * 0.5, s * 0.31, color);
      return;
    case OBJECT.box:
      canvas.fillRect(x + s * 0.12, y + s * 0.12, s * 0.76, s * 0.76, color);
      canvas.fillRect(x + s * 0.18, y + s * 0.18, s * 0.64, s * 0.64, BLACK);
      canvas.fillRect(x + s * 0.12, y + s * 0.47, s * 0.76, s * 0.06, color);
      return;
    default:
      return;
  }
}

function drawAgent(canvas: Canvas, x: number, y: number, s: number, dir: number): void {
  // A triangle pointing east, rotated by the direction (90° clockwise per step, y down).
  const tip: [number, number][] = [
    [0.12, 0.19],
    [0.87, 0.5],
    [0.12, 0.81],
  ];
  const angle = (Math.PI / 2) * dir;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const points: Point[] = tip.map(([fx, fy]) => {
    const px = fx - 0.5;
    const py = fy - 0.5;
    return [x + s * (0.5 + px * cos - py * sin), y + s * (0.5 + px * sin + py * cos)];
  });
  canvas.fillPolygon(points, COLOR_RGB[0]!);
}
