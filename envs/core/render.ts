/**
 * Frames for people: a small raster {@link Canvas} the environments draw their `rgb_array` frames
 * with (rectangles, circles, polygons, thick lines; pixel coordinates, y down, everything clipped to
 * the canvas), a PNG encoder, an animated-SVG writer and {@link saveEpisode}, which saves an
 * episode's frames as an animation (`.svg`) or a contact sheet (`.png`).
 *
 * @example
 * const env = make('CartPole-v1', { renderMode: 'rgb_array' });
 * env.reset({ seed: 0 });
 * const frames = [env.render() as RgbArray];
 * saveEpisode('runs/cartpole.svg', frames, { fps: 50 });
 */
import { crc32, deflateSync } from 'node:zlib';
import { extname } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { RgbArray } from './env.js';
import { InvalidOptionError, InvalidValueError, formatValue } from './errors.js';

/** A colour: red, green, blue, each 0..255. */
export type Rgb = readonly [number, number, number];

/** A point in pixels, `[x, y]`, y down. */
export type Point = readonly [number, number];

/** Options of {@link saveEpisode}. */
export interface SaveEpisodeOptions {
  /** Frames per second of the animation (`.svg`). @defaultValue 30 */
  fps?: number;
  /** Tiles per row of the contact sheet (`.png`). @defaultValue ceil(sqrt(number of tiles)) */
  columns?: number;
}

const WHITE: Rgb = [255, 255, 255];
const SHEET_BACKGROUND: Rgb = [64, 64, 64];
const SHEET_GAP = 4;
/** The most frames a contact sheet shows; longer episodes are sampled evenly. */
export const MAX_SHEET_FRAMES = 16;

/**
 * An RGBA raster to draw frames on. A pixel is covered by a shape when its centre
 * (`x + 0.5`, `y + 0.5`) lies inside the shape; shapes partly or wholly off the canvas are clipped.
 */
export class Canvas {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  private readonly data: Uint8ClampedArray;

  /** A `width` x `height` canvas filled with `background` (white by default). */
  constructor(width: number, height: number, background: Rgb = WHITE) {
    if (!Number.isInteger(width) || width < 1)
      throw new InvalidOptionError('Canvas width', width, 'a positive integer');
    if (!Number.isInteger(height) || height < 1) {
      throw new InvalidOptionError('Canvas height', height, 'a positive integer');
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8ClampedArray(width * height * 4);
    this.clear(background);
  }

  /** Fills the whole canvas with `color`. */
  clear(color: Rgb): void {
    checkColor(color);
    const [r, g, b] = color;
    const d = this.data;
    for (let i = 0; i < d.length; i += 4) {
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
      d[i + 3] = 255;
    }
  }

  /** Fills the axis-aligned rectangle with corner (`x`, `y`) and size `w` x `h` (negative sizes extend left/up). */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    checkCoordinates('fillRect', [x, y, w, h]);
    checkColor(color);
    const x0 = Math.min(x, x + w);
    const x1 = Math.max(x, x + w);
    const y0 = Math.min(y, y + h);
    const y1 = Math.max(y, y + h);
    const rowFrom = Math.max(0, Math.ceil(y0 - 0.5));
    const rowTo = Math.min(this.height, Math.ceil(y1 - 0.5));
    for (let row = rowFrom; row < rowTo; row++) this.span(row, x0, x1, color);
  }

  /** Fills the disc of radius `r` centred on (`cx`, `cy`). */
  fillCircle(cx: number, cy: number, r: number, color: Rgb): void {
    checkCoordinates('fillCircle', [cx, cy, r]);
    checkColor(color);
    if (r <= 0) return;
    const rowFrom = Math.max(0, Math.ceil(cy - r - 0.5));
    const rowTo = Math.min(this.height - 1, Math.floor(cy + r - 0.5));
    for (let row = rowFrom; row <= rowTo; row++) {
      const dy = row + 0.5 - cy;
      const half = Math.sqrt(Math.max(0, r * r - dy * dy));
      this.spanInclusive(row, cx - half, cx + half, color);
    }
  }

  /** Fills a polygon (even-odd rule; convex or not, closed implicitly). Fewer than 3 points draw nothing. */
  fillPolygon(points: readonly Point[], color: Rgb): void {
    for (const p of points) checkCoordinates('fillPolygon', p);
    checkColor(color);
    const n = points.length;
    if (n < 3) return;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const [, py] of points) {
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
    }
    const rowFrom = Math.max(0, Math.ceil(minY - 0.5));
    const rowTo = Math.min(this.height, Math.ceil(maxY - 0.5));
    const crossings: number[] = [];
    for (let row = rowFrom; row < rowTo; row++) {
      const yc = row + 0.5;
      crossings.length = 0;
      for (let i = 0; i < n; i++) {
        const [ax, ay] = points[i]!;
        const [bx, by] = points[(i + 1) % n]!;
        if (ay <= yc !== by <= yc) crossings.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2)
        this.span(row, crossings[k]!, crossings[k + 1]!, color);
    }
  }

  /** Draws a straight segment `width` pixels thick (at least one pixel), with flat ends. */
  line(x0: number, y0: number, x1: number, y1: number, width: number, color: Rgb): void {
    checkCoordinates('line', [x0, y0, x1, y1, width]);
    checkColor(color);
    const half = Math.max(width, 1) / 2;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const length = Math.hypot(dx, dy);
    if (length === 0) {
      this.fillRect(x0 - half, y0 - half, 2 * half, 2 * half, color);
      return;
    }
    const nx = (-dy / length) * half;
    const ny = (dx / length) * half;
    this.fillPolygon(
      [
        [x0 + nx, y0 + ny],
        [x1 + nx, y1 + ny],
        [x1 - nx, y1 - ny],
        [x0 - nx, y0 - ny],
      ],
      color,
    );
  }

  /** A copy of the pixels as an {@link RgbArray} the caller owns. */
  toRgbArray(): RgbArray {
    return { width: this.width, height: this.height, data: this.data.slice() };
  }

  /** Pixels of `row` whose centres lie in [x0, x1). */
  private span(row: number, x0: number, x1: number, color: Rgb): void {
    const from = Math.max(0, Math.ceil(x0 - 0.5));
    const to = Math.min(this.width, Math.ceil(x1 - 0.5));
    this.paint(row, from, to, color);
  }

  /** Pixels of `row` whose centres lie in [x0, x1]. */
  private spanInclusive(row: number, x0: number, x1: number, color: Rgb): void {
    const from = Math.max(0, Math.ceil(x0 - 0.5));
    const to = Math.min(this.width, Math.floor(x1 - 0.5) + 1);
    this.paint(row, from, to, color);
  }

  private paint(row: number, from: number, to: number, color: Rgb): void {
    const d = this.data;
    const [r, g, b] = color;
    for (
      let i = (row * this.width + from) * 4, end = (row * this.width + to) * 4;
      i < end;
      i += 4
    ) {
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
      d[i + 3] = 255;
    }
  }
}

function checkCoordinates(method: string, values: readonly number[]): void {
  for (const v of values) {
    if (!Number.isFinite(v)) {
      throw new InvalidValueError(
        `coordinates for Canvas.${method}`,
        formatValue(values),
        'finite numbers',
      );
    }
  }
}

/** Colours come from callers' code, so they are checked at run time (typed `unknown` here for that reason). */
function checkColor(color: unknown): void {
  if (
    !Array.isArray(color) ||
    color.length !== 3 ||
    !color.every((c: unknown) => typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= 255)
  ) {
    throw new InvalidValueError('colour', formatValue(color), '[r, g, b] with integers in 0..255');
  }
}

/** Throws `InvalidValueError` unless `frame` is a well-formed {@link RgbArray}. */
function checkFrame(value: unknown, what: string): asserts value is RgbArray {
  const frame = value as Partial<RgbArray> | null;
  const ok =
    typeof frame === 'object' &&
    frame !== null &&
    typeof frame.width === 'number' &&
    typeof frame.height === 'number' &&
    Number.isInteger(frame.width) &&
    frame.width >= 1 &&
    Number.isInteger(frame.height) &&
    frame.height >= 1 &&
    frame.data instanceof Uint8ClampedArray &&
    frame.data.length === frame.width * frame.height * 4;
  if (!ok) {
    const received =
      typeof frame === 'object' && frame !== null
        ? `{width: ${formatValue(frame.width)}, height: ${formatValue(frame.height)}, data: ${describeData(frame.data)}}`
        : formatValue(frame);
    throw new InvalidValueError(
      what,
      received,
      '{width, height, data: Uint8ClampedArray of width*height*4 RGBA bytes}',
    );
  }
}

function describeData(data: unknown): string {
  if (data instanceof Uint8ClampedArray) return `Uint8ClampedArray(${data.length})`;
  if (ArrayBuffer.isView(data)) return `${data.constructor.name}(${(data as Uint8Array).length})`;
  return formatValue(data);
}

const PNG_SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

/**
 * Encodes a frame as a PNG file (8-bit RGB when every pixel is opaque, RGBA otherwise).
 * @throws {@link InvalidValueError} if the frame's size and data disagree.
 */
export function encodePng(frame: RgbArray): Uint8Array {
  checkFrame(frame, 'frame for encodePng');
  const { width, height, data } = frame;
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const channels = opaque ? 3 : 4;
  const stride = width * channels + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0, o = 0, s = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++, s += 4) {
      raw[o++] = data[s]!;
      raw[o++] = data[s + 1]!;
      raw[o++] = data[s + 2]!;
      if (!opaque) raw[o++] = data[s + 3]!;
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = opaque ? 2 : 6; // colour type: truecolour (+ alpha)
  // compression, filter and interlace methods: 0
  const chunks = [
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(PNG_SIGNATURE.length + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set(PNG_SIGNATURE, 0);
  let offset = PNG_SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** length, type, data, CRC-32 of type + data. */
function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + body.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(body, 8);
  view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)) >>> 0);
  return chunk;
}

function checkFps(fps: unknown, option: string): number {
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) {
    throw new InvalidOptionError(option, fps, 'a finite number of frames per second > 0');
  }
  return fps;
}

function checkFrames(frames: unknown, where: string): asserts frames is readonly RgbArray[] {
  if (!Array.isArray(frames) || frames.length === 0) {
    throw new InvalidOptionError(`frames for ${where}`, frames, 'at least one RgbArray frame');
  }
  frames.forEach((frame: unknown, i) => {
    checkFrame(frame, `frame ${i} for ${where}`);
  });
}

/**
 * An SVG that shows the frames in turn at `fps` frames per second, looping forever (SMIL
 * `<animate>`; viewers without SMIL show the first frame). Each frame is embedded as a PNG data URI.
 * @throws {@link InvalidOptionError} on no frames or a bad `fps`; {@link InvalidValueError} on a malformed frame.
 */
export function framesToAnimatedSvg(frames: readonly RgbArray[], fps: number): string {
  checkFrames(frames, 'framesToAnimatedSvg');
  checkFps(fps, 'fps for framesToAnimatedSvg');
  const n = frames.length;
  const width = Math.max(...frames.map((f) => f.width));
  const height = Math.max(...frames.map((f) => f.height));
  const duration = `${formatNumberForSvg(n / fps)}s`;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  ];
  frames.forEach((frame, i) => {
    const href = `data:image/png;base64,${Buffer.from(encodePng(frame)).toString('base64')}`;
    const attrs = `width="${frame.width}" height="${frame.height}" href="${href}"`;
    if (n === 1) {
      lines.push(`  <image ${attrs}/>`);
      return;
    }
    const start = formatNumberForSvg(i / n);
    const end = formatNumberForSvg((i + 1) / n);
    const [values, keyTimes] =
      i === 0
        ? ['visible;hidden', `0;${end}`]
        : i === n - 1
          ? ['hidden;visible', `0;${start}`]
          : ['hidden;visible;hidden', `0;${start};${end}`];
    lines.push(
      `  <image ${attrs} visibility="${i === 0 ? 'visible' : 'hidden'}">`,
      `    <animate attributeName="visibility" values="${values}" keyTimes="${keyTimes}" calcMode="discrete" dur="${duration}" repeatCount="indefinite"/>`,
      '  </image>',
    );
  });
  lines.push('</svg>', '');
  return lines.join('\n');
}

function formatNumberForSvg(x: number): string {
  return String(Number(x.toFixed(6)));
}

/** The indices of at most `max` frames out of `n`, evenly spread, first and last included. */
export function sampleFrameIndices(n: number, max = MAX_SHEET_FRAMES): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

/**
 * One image with the frames tiled left to right, top to bottom (at most 16, sampled evenly),
 * separated by a thin dark border.
 */
export function contactSheet(frames: readonly RgbArray[], columns?: number): RgbArray {
  checkFrames(frames, 'contactSheet');
  const chosen = sampleFrameIndices(frames.length).map((i) => frames[i]!);
  const cols = columns ?? Math.ceil(Math.sqrt(chosen.length));
  if (!Number.isInteger(cols) || cols < 1)
    throw new InvalidOptionError('columns', columns, 'a positive integer');
  const usedCols = Math.min(cols, chosen.length);
  const rows = Math.ceil(chosen.length / usedCols);
  const tileW = Math.max(...chosen.map((f) => f.width));
  const tileH = Math.max(...chosen.map((f) => f.height));
  const sheetW = usedCols * tileW + (usedCols + 1) * SHEET_GAP;
  const sheetH = rows * tileH + (rows + 1) * SHEET_GAP;
  const sheet = new Canvas(sheetW, sheetH, SHEET_BACKGROUND).toRgbArray();
  chosen.forEach((frame, k) => {
    const left = SHEET_GAP + (k % usedCols) * (tileW + SHEET_GAP);
    const top = SHEET_GAP + Math.floor(k / usedCols) * (tileH + SHEET_GAP);
    for (let y = 0; y < frame.height; y++) {
      const src = frame.data.subarray(y * frame.width * 4, (y + 1) * frame.width * 4);
      sheet.data.set(src, ((top + y) * sheetW + left) * 4);
    }
  });
  return sheet;
}

/**
 * Saves an episode's frames: `.svg` as a looping animation, `.png` as a contact sheet of at most
 * 16 evenly sampled frames. Written atomically; missing directories are created.
 * @throws {@link InvalidOptionError} on another extension, no frames, or a bad `fps`/`columns`.
 */
export function saveEpisode(
  path: string,
  frames: readonly RgbArray[],
  options: SaveEpisodeOptions = {},
): void {
  if (typeof path !== 'string' || path.length === 0)
    throw new InvalidOptionError('path', path, 'a file path ending in .svg or .png');
  const extension = extname(path).toLowerCase();
  if (extension !== '.svg' && extension !== '.png') {
    throw new InvalidOptionError(
      'path',
      path,
      'a file path ending in .svg (animation) or .png (contact sheet)',
    );
  }
  checkFrames(frames, 'saveEpisode');
  const fps = checkFps(options.fps ?? 30, 'options.fps');
  if (
    options.columns !== undefined &&
    (!Number.isInteger(options.columns) || options.columns < 1)
  ) {
    throw new InvalidOptionError('options.columns', options.columns, 'a positive integer');
  }
  if (extension === '.svg') writeFileAtomic(path, framesToAnimatedSvg(frames, fps));
  else writeFileAtomic(path, encodePng(contactSheet(frames, options.columns)));
}
