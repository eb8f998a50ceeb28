/**
 * How a world model reads and writes one environment's states: continuous vectors (classic
 * control), or discrete entries that take one of a few integer values (GridNav's symbolic grid:
 * `(object, colour, state)` codes per cell plus the agent's position, direction and carried object;
 * TextWorld's binary fact vectors).
 *
 * A continuous state is a regression target (the model predicts a normalised delta). A discrete
 * state is not: per entry the model predicts whether it changes (a Bernoulli) and, for entries
 * with more than two values, what it becomes (a categorical over the entry's values); unchanged
 * entries are copied exactly and every imagined state is snapped to a valid discrete state.
 *
 * Network inputs: binary entries as 0/1, entries with K > 2 values one-hot (K inputs), so a code
 * such as "door" is not read as a magnitude.
 */
import { InvalidOptionError, InvalidValueError, formatValue } from '../envs/core/errors.js';
import { Box, MultiBinary, type AnySpace } from '../envs/core/space.js';

/** How states are modelled: `auto` = MultiBinary discrete, Box continuous. */
export type StateKind = 'auto' | 'continuous' | 'discrete';

/** A group of discrete entries with the same number of values K > 2 (one softmax shape). */
export interface ClassGroup {
  /** Values per entry. */
  classes: number;
  /** Entries of the state in this group. */
  entries: Int32Array;
  /** Offset of this group's logits in the model's class-logit block. */
  offset: number;
}

/** The layout of a state vector; see the module comment. */
export class StateLayout {
  /** `continuous` or `discrete`. */
  readonly kind: 'continuous' | 'discrete';
  /** Entries in a state. */
  readonly size: number;
  /** Lowest value of each entry (discrete). */
  readonly low: Int32Array;
  /** Number of values of each entry (discrete; 0 for continuous). */
  readonly classes: Int32Array;
  /** Offset of each entry's values in a probability row of {@link StateLayout.probabilitySize} (discrete). */
  readonly probabilityOffset: Int32Array;
  /** Length of a per-row probability vector: Σ classes (discrete). */
  readonly probabilitySize: number;
  /** Offset of each entry in the network input. */
  readonly inputOffset: Int32Array;
  /** Network inputs per state. */
  readonly inputSize: number;
  /** Entries with more than two values, grouped by their number of values. */
  readonly groups: readonly ClassGroup[];
  /** Class logits per state (Σ over groups of entries × classes). */
  readonly classLogits: number;

  private constructor(
    kind: 'continuous' | 'discrete',
    size: number,
    low: Int32Array,
    classes: Int32Array,
  ) {
    this.kind = kind;
    this.size = size;
    this.low = low;
    this.classes = classes;
    this.probabilityOffset = new Int32Array(size);
    this.inputOffset = new Int32Array(size);
    let p = 0;
    let input = 0;
    const byClasses = new Map<number, number[]>();
    for (let i = 0; i < size; i++) {
      this.probabilityOffset[i] = p;
      this.inputOffset[i] = input;
      const k = classes[i]!;
      p += k;
      input += kind === 'continuous' || k <= 2 ? 1 : k;
      if (k > 2) {
        const list = byClasses.get(k) ?? [];
        list.push(i);
        byClasses.set(k, list);
      }
    }
    this.probabilitySize = p;
    this.inputSize = input;
    const groups: ClassGroup[] = [];
    let offset = 0;
    for (const k of [...byClasses.keys()].sort((a, b) => a - b)) {
      const entries = Int32Array.from(byClasses.get(k)!);
      groups.push({ classes: k, entries, offset });
      offset += entries.length * k;
    }
    this.groups = groups;
    this.classLogits = offset;
  }

  /**
   * The layout of observations of `space` (Box or MultiBinary), modelled as `kind`.
   * @throws {@link InvalidOptionError} for another space, or `discrete` on a Box whose bounds are
   * not finite integers with at most 256 values per entry.
   */
  static of(space: AnySpace, kind: StateKind, option = 'stateKind'): StateLayout {
    if (space instanceof MultiBinary) {
      if (kind === 'continuous')
        throw new InvalidOptionError(
          option,
          kind,
          '"auto" or "discrete" for a MultiBinary observation space',
        );
      return new StateLayout(
        'discrete',
        space.size,
        new Int32Array(space.size),
        new Int32Array(space.size).fill(2),
      );
    }
    if (!(space instanceof Box)) {
      throw new InvalidOptionError(
        'world model observation space',
        String(space),
        'a Box or MultiBinary observation space (flatten others with FlattenObservation into a Box)',
      );
    }
    const n = space.size;
    if (kind !== 'discrete')
      return new StateLayout('continuous', n, new Int32Array(n), new Int32Array(n));
    const low = new Int32Array(n);
    const classes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const lo = space.low[i]!;
      const hi = space.high[i]!;
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi - lo + 1 > 256) {
        throw new InvalidOptionError(
          option,
          kind,
          `"continuous" for ${String(space)}: entry ${i} has bounds [${lo}, ${hi}], a discrete state needs integer bounds with at most 256 values per entry`,
        );
      }
      low[i] = lo;
      classes[i] = hi - lo + 1;
    }
    return new StateLayout('discrete', n, low, classes);
  }

  /**
   * Writes the network input of state row `row` of `states` into `out[offset ..
   * offset + inputSize)` (discrete layouts; the caller zeroes that range first).
   */
  encodeDiscrete(states: Float32Array, row: number, out: Float32Array, offset: number): void {
    const n = this.size;
    const base = offset;
    const s = row * n;
    for (let i = 0; i < n; i++) {
      const k = this.classes[i]!;
      const v = states[s + i]! - this.low[i]!;
      if (k <= 2) out[base + this.inputOffset[i]!] = v;
      else out[base + this.inputOffset[i]! + v] = 1;
    }
  }

  /** The value of each entry with the highest probability (a valid discrete state), rows of `probabilities` → `out`. */
  snap(probabilities: Float32Array, rows: number, out: Float32Array): void {
    const n = this.size;
    const p = this.probabilitySize;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < n; i++) {
        const o = r * p + this.probabilityOffset[i]!;
        const k = this.classes[i]!;
        let best = 0;
        let bestP = -1;
        for (let v = 0; v < k; v++) {
          const q = probabilities[o + v]!;
          if (q > bestP) {
            bestP = q;
            best = v;
          }
        }
        out[r * n + i] = best + this.low[i]!;
      }
    }
  }

  /** A probability row that puts all mass on the values of state row `row` (the "no change" prediction). */
  oneHot(states: Float32Array, row: number, out: Float32Array, outRow: number): void {
    const n = this.size;
    const p = this.probabilitySize;
    out.fill(0, outRow * p, (outRow + 1) * p);
    for (let i = 0; i < n; i++)
      out[outRow * p + this.probabilityOffset[i]! + states[row * n + i]! - this.low[i]!] = 1;
  }

  /** Throws unless every entry of the `rows` states is a value the layout allows. */
  checkStates(states: Float32Array, rows: number, what: string): void {
    if (this.kind === 'continuous') {
      for (let j = 0; j < rows * this.size; j++) {
        if (!Number.isFinite(states[j]!))
          throw new InvalidValueError(
            `${what} (row ${Math.floor(j / this.size)}, entry ${j % this.size})`,
            formatValue(states[j]),
            'a finite number',
          );
      }
      return;
    }
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < this.size; i++) {
        const v = states[r * this.size + i]! - this.low[i]!;
        if (!Number.isInteger(v) || v < 0 || v >= this.classes[i]!)
          throw new InvalidValueError(
            `${what} (row ${r}, entry ${i})`,
            formatValue(states[r * this.size + i]),
            `an integer in [${this.low[i]!}, ${this.low[i]! + this.classes[i]! - 1}]`,
          );
      }
    }
  }
}
