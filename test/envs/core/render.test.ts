import test from 'ava';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import type { RgbArray } from '../../../envs/core/env.js';
import { InvalidOptionError, InvalidValueError } from '../../../envs/core/errors.js';
import {
  Canvas,
  contactSheet,
  encodePng,
  framesToAnimatedSvg,
  sampleFrameIndices,
  saveEpisode,
} from '../../../envs/core/render.js';

interface DecodedPng {
  width: number;
  height: number;
  colorType: number;
  rgba: Uint8Array;
  chunkTypes: string[];
}

/** A minimal PNG reader (filter type 0 only, 8-bit RGB/RGBA) that checks every CRC. */
function decodePng(bytes: Uint8Array): DecodedPng {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  signature.forEach((b, i) => {
    if (bytes[i] !== b) throw new Error(`bad signature byte ${i}`);
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Uint8Array[] = [];
  const chunkTypes: string[] = [];
  while (offset < bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = view.getUint32(offset + 8 + length);
    if (crc !== crc32(bytes.subarray(offset + 4, offset + 8 + length)) >>> 0)
      throw new Error(`bad CRC in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      if (body[8] !== 8) throw new Error('expected bit depth 8');
      colorType = body[9]!;
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const channels = colorType === 6 ? 4 : 3;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const rowStart = y * (width * channels + 1);
    if (raw[rowStart] !== 0) throw new Error('expected filter type 0');
    for (let x = 0; x < width; x++) {
      const s = rowStart + 1 + x * channels;
      const d = (y * width + x) * 4;
      rgba[d] = raw[s]!;
      rgba[d + 1] = raw[s + 1]!;
      rgba[d + 2] = raw[s + 2]!;
      rgba[d + 3] = channels === 4 ? raw[s + 3]! : 255;
    }
  }
  return { width, height, colorType, rgba, chunkTypes };
}

function pixel(frame: RgbArray, x: number, y: number): number[] {
  const i = (y * frame.width + x) * 4;
  return Array.from(frame.data.subarray(i, i + 4));
}

function solidFrame(width: number, height: number, value: number): RgbArray {
  const canvas = new Canvas(width, height, [value, value, value]);
  return canvas.toRgbArray();
}

test('a new canvas is filled with its background colour, opaque', (t) => {
  const frame = new Canvas(3, 2, [10, 20, 30]).toRgbArray();
  t.is(frame.width, 3);
  t.is(frame.height, 2);
  t.is(frame.data.length, 3 * 2 * 4);
  for (let y = 0; y < 2; y++)
    for (let x = 0; x < 3; x++) t.deepEqual(pixel(frame, x, y), [10, 20, 30, 255]);
});

test('fillRect covers exactly the pixels whose centres lie inside it and clips at the edges', (t) => {
  const canvas = new Canvas(6, 4, [0, 0, 0]);
  canvas.fillRect(1, 1, 2, 2, [255, 0, 0]);
  canvas.fillRect(4, -3, 10, 4, [0, 255, 0]); // mostly off-canvas
  const frame = canvas.toRgbArray();
  t.deepEqual(pixel(frame, 1, 1), [255, 0, 0, 255]);
  t.deepEqual(pixel(frame, 2, 2), [255, 0, 0, 255]);
  t.deepEqual(pixel(frame, 3, 1), [0, 0, 0, 255]);
  t.deepEqual(pixel(frame, 0, 0), [0, 0, 0, 255]);
  t.deepEqual(pixel(frame, 4, 0), [0, 255, 0, 255]);
  t.deepEqual(pixel(frame, 5, 0), [0, 255, 0, 255]);
  t.deepEqual(pixel(frame, 4, 1), [0, 0, 0, 255]);
});

test('fillCircle fills a disc and leaves the corners of its bounding box alone', (t) => {
  const canvas = new Canvas(21, 21, [0, 0, 0]);
  canvas.fillCircle(10.5, 10.5, 8, [0, 0, 255]);
  canvas.fillCircle(-100, -100, 5, [255, 255, 255]); // fully off-canvas: nothing happens
  const frame = canvas.toRgbArray();
  t.deepEqual(pixel(frame, 10, 10), [0, 0, 255, 255]);
  t.deepEqual(pixel(frame, 10, 3), [0, 0, 255, 255]);
  t.deepEqual(pixel(frame, 3, 10), [0, 0, 255, 255]);
  t.deepEqual(pixel(frame, 4, 4), [0, 0, 0, 255]);
  t.deepEqual(pixel(frame, 10, 1), [0, 0, 0, 255]);
  t.deepEqual(pixel(frame, 0, 0), [0, 0, 0, 255]);
});

test('fillPolygon fills a triangle and only its inside', (t) => {
  const canvas = new Canvas(10, 10, [0, 0, 0]);
  canvas.fillPolygon(
    [
      [0, 0],
      [10, 0],
      [0, 10],
    ],
    [9, 9, 9],
  );
  const frame = canvas.toRgbArray();
  t.deepEqual(pixel(frame, 0, 0), [9, 9, 9, 255]);
  t.deepEqual(pixel(frame, 8, 0), [9, 9, 9, 255]);
  t.deepEqual(pixel(frame, 0, 8), [9, 9, 9, 255]);
  t.deepEqual(pixel(frame, 9, 9), [0, 0, 0, 255]);
  t.deepEqual(pixel(frame, 6, 6), [0, 0, 0, 255]);
});

test('a one-pixel line leaves no gaps along a diagonal', (t) => {
  const canvas = new Canvas(20, 20, [0, 0, 0]);
  canvas.line(0, 0, 20, 20, 1, [255, 255, 255]);
  const frame = canvas.toRgbArray();
  for (let i = 0; i < 20; i++)
    t.deepEqual(pixel(frame, i, i), [255, 255, 255, 255], `pixel ${i},${i}`);
  t.deepEqual(pixel(frame, 15, 2), [0, 0, 0, 255]);
});

test('a thick line is as wide as asked', (t) => {
  const canvas = new Canvas(20, 20, [0, 0, 0]);
  canvas.line(0, 10, 20, 10, 4, [1, 2, 3]);
  const frame = canvas.toRgbArray();
  const column = Array.from({ length: 20 }, (_, y) => pixel(frame, 5, y)[0] === 1);
  t.is(column.filter(Boolean).length, 4);
  t.true(column[8] && column[9] && column[10] && column[11]);
});

test('toRgbArray returns a copy the caller owns', (t) => {
  const canvas = new Canvas(2, 2, [0, 0, 0]);
  const frame = canvas.toRgbArray();
  frame.data[0] = 200;
  t.is(canvas.toRgbArray().data[0], 0);
});

test('the canvas rejects bad sizes, colours and non-finite coordinates with typed errors', (t) => {
  t.throws(() => new Canvas(0, 5), {
    instanceOf: InvalidOptionError,
    message: /width.*positive integer.*received 0/,
  });
  t.throws(() => new Canvas(5, 2.5), {
    instanceOf: InvalidOptionError,
    message: /height.*received 2\.5/,
  });
  const canvas = new Canvas(4, 4);
  t.throws(() => canvas.fillCircle(Number.NaN, 1, 1, [0, 0, 0]), {
    instanceOf: InvalidValueError,
    message: /NaN/,
  });
  t.throws(() => canvas.fillRect(0, 0, 1, 1, [0, 0, 300]), {
    instanceOf: InvalidValueError,
    message: /0\.\.255.*300/,
  });
});

test('encodePng writes a PNG that decodes back to the same pixels', (t) => {
  const canvas = new Canvas(7, 5, [12, 34, 56]);
  canvas.fillRect(1, 1, 3, 2, [200, 100, 0]);
  canvas.line(0, 4, 6, 0, 1, [1, 2, 3]);
  const frame = canvas.toRgbArray();
  const decoded = decodePng(encodePng(frame));
  t.deepEqual(decoded.chunkTypes, ['IHDR', 'IDAT', 'IEND']);
  t.is(decoded.width, 7);
  t.is(decoded.height, 5);
  t.is(decoded.colorType, 2, 'opaque frames are stored as RGB');
  t.deepEqual(decoded.rgba, new Uint8Array(frame.data));
});

test('encodePng keeps the alpha channel of a translucent frame', (t) => {
  const data = new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 9, 9, 255]);
  const decoded = decodePng(encodePng({ width: 2, height: 2, data }));
  t.is(decoded.colorType, 6);
  t.deepEqual(decoded.rgba, new Uint8Array(data));
});

test('encodePng rejects a frame whose data does not match its size', (t) => {
  t.throws(() => encodePng({ width: 3, height: 3, data: new Uint8ClampedArray(10) }), {
    instanceOf: InvalidValueError,
    message: /Uint8ClampedArray\(10\)/,
  });
  t.throws(() => encodePng({ width: 0, height: 3, data: new Uint8ClampedArray(0) }), {
    instanceOf: InvalidValueError,
  });
});

test('the animated SVG holds one PNG image per frame and loops', (t) => {
  const frames = [solidFrame(4, 3, 0), solidFrame(4, 3, 100), solidFrame(4, 3, 200)];
  const svg = framesToAnimatedSvg(frames, 10);
  t.true(svg.startsWith('<svg'));
  t.is(svg.match(/<image /g)?.length, 3);
  t.is(svg.match(/data:image\/png;base64,/g)?.length, 3);
  t.is(svg.match(/<animate /g)?.length, 3);
  t.is(svg.match(/repeatCount="indefinite"/g)?.length, 3);
  t.true(svg.includes('dur="0.3s"'));
  const second = /href="data:image\/png;base64,([^"]+)"/g;
  second.exec(svg);
  const match = second.exec(svg);
  t.truthy(match);
  const decoded = decodePng(new Uint8Array(Buffer.from(match![1]!, 'base64')));
  t.deepEqual(Array.from(decoded.rgba.subarray(0, 4)), [100, 100, 100, 255]);
});

test('a single-frame SVG is a still image', (t) => {
  const svg = framesToAnimatedSvg([solidFrame(2, 2, 50)], 30);
  t.is(svg.match(/<image /g)?.length, 1);
  t.false(svg.includes('<animate'));
});

test('framesToAnimatedSvg rejects no frames and a bad fps', (t) => {
  t.throws(() => framesToAnimatedSvg([], 30), {
    instanceOf: InvalidOptionError,
    message: /at least one/,
  });
  t.throws(() => framesToAnimatedSvg([solidFrame(2, 2, 0)], 0), {
    instanceOf: InvalidOptionError,
    message: /fps.*received 0/,
  });
  t.throws(() => framesToAnimatedSvg([solidFrame(2, 2, 0)], Number.NaN), {
    instanceOf: InvalidOptionError,
  });
});

test('long episodes are sampled to at most 16 frames, first and last included', (t) => {
  t.deepEqual(sampleFrameIndices(3), [0, 1, 2]);
  const picked = sampleFrameIndices(100);
  t.is(picked.length, 16);
  t.is(picked[0], 0);
  t.is(picked[15], 99);
  t.deepEqual(
    [...picked].sort((a, b) => a - b),
    picked,
  );
  t.is(new Set(picked).size, 16);
});

test('a contact sheet tiles the frames in a grid', (t) => {
  const frames = [solidFrame(4, 3, 10), solidFrame(4, 3, 20), solidFrame(4, 3, 30)];
  const sheet = contactSheet(frames, 2);
  // 2 columns x 2 rows of 4x3 tiles with a 4-pixel gap around each.
  t.is(sheet.width, 2 * 4 + 3 * 4);
  t.is(sheet.height, 2 * 3 + 3 * 4);
  t.deepEqual(pixel(sheet, 4, 4), [10, 10, 10, 255]);
  t.deepEqual(pixel(sheet, 4 + 4 + 4, 4), [20, 20, 20, 255]);
  t.deepEqual(pixel(sheet, 4, 4 + 3 + 4), [30, 30, 30, 255]);
  t.notDeepEqual(pixel(sheet, 0, 0), [10, 10, 10, 255]);
});

test('saveEpisode writes an animated SVG or a PNG contact sheet by extension', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-render-'));
  try {
    const frames = Array.from({ length: 20 }, (_, i) => solidFrame(5, 4, i * 10));
    const svgPath = join(dir, 'nested', 'episode.svg');
    saveEpisode(svgPath, frames, { fps: 20 });
    const svg = readFileSync(svgPath, 'utf8');
    t.is(svg.match(/<image /g)?.length, 20);
    t.true(svg.includes('dur="1s"'));

    const pngPath = join(dir, 'episode.PNG');
    saveEpisode(pngPath, frames, { columns: 4 });
    const decoded = decodePng(new Uint8Array(readFileSync(pngPath)));
    t.is(decoded.width, 4 * 5 + 5 * 4);
    t.is(decoded.height, 4 * 4 + 5 * 4, '16 sampled frames in 4 rows');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saveEpisode rejects unknown extensions, empty episodes and bad options before writing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-render-'));
  try {
    const frames = [solidFrame(2, 2, 0)];
    t.throws(() => saveEpisode(join(dir, 'a.gif'), frames), {
      instanceOf: InvalidOptionError,
      message: /\.svg.*\.png.*a\.gif/,
    });
    t.throws(() => saveEpisode(join(dir, 'b.svg'), []), {
      instanceOf: InvalidOptionError,
      message: /at least one/,
    });
    t.throws(() => saveEpisode(join(dir, 'c.png'), frames, { columns: 0 }), {
      instanceOf: InvalidOptionError,
      message: /columns/,
    });
    t.throws(() => saveEpisode(join(dir, 'd.svg'), frames, { fps: -1 }), {
      instanceOf: InvalidOptionError,
      message: /fps/,
    });
    for (const name of ['a.gif', 'b.svg', 'c.png', 'd.svg']) t.false(existsSync(join(dir, name)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
