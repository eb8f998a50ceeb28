/** The two drawing helpers the classic environments' pictures share: a character grid and a rotation. */

/** A character grid for `ansi` pictures; (column, row) with row 0 at the top. */
export class TextGrid {
  private readonly rows: string[][];

  /** A `width` x `height` grid filled with `fill`. */
  constructor(width: number, height: number, fill = ' ') {
    this.rows = Array.from({ length: height }, () => Array.from({ length: width }, () => fill));
  }

  /** Puts `ch` at (column, row), rounded; off-grid is ignored (clipping, like the canvas). */
  put(column: number, row: number, ch: string): void {
    const r = this.rows[Math.round(row)];
    const c = Math.round(column);
    if (r !== undefined && c >= 0 && c < r.length) r[c] = ch;
  }

  /** Writes `text` from (column, row) to the right. */
  write(column: number, row: number, text: string): void {
    for (let i = 0; i < text.length; i++) this.put(column + i, row, text[i]!);
  }

  /** Marks the segment from (c0, r0) to (c1, r1) with `ch`. */
  line(c0: number, r0: number, c1: number, r1: number, ch: string): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(c1 - c0), Math.abs(r1 - r0))));
    for (let i = 0; i <= steps; i++)
      this.put(c0 + ((c1 - c0) * i) / steps, r0 + ((r1 - r0) * i) / steps, ch);
  }

  /** The grid as lines of text, trailing spaces removed. */
  toString(): string {
    return this.rows.map((r) => r.join('').replace(/\s+$/, '')).join('\n');
  }
}

/** Rotates (x, y) by `angle` radians counter-clockwise (y up), as pygame's `Vector2.rotate_rad`. */
export function rotate(x: number, y: number, angle: number): [number, number] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [x * c - y * s, x * s + y * c];
}
