/**
 * A network's parameters as ONE flat float32 variable: the forward pass splits it into shaped
 * pieces (one `SplitV` kernel; its gradient is one `Concat`), so the optimiser, gradient clipping,
 * Polyak averaging and checkpoints each handle a single tensor instead of one per weight.
 * Initial values are computed in JavaScript from a seeded {@link Rng}, so a seed fixes them exactly.
 */
import { InvalidStateError } from '../../envs/core/errors.js';
import type { Rng } from '../../envs/core/rng.js';
import { tf } from './backend.js';

/** One named piece of a {@link ParameterSet}. */
export interface ParameterPiece {
  /** Name, e.g. `actor.w0`. */
  readonly name: string;
  /** Shape of the piece. */
  readonly shape: readonly number[];
  /** Offset in the flat vector. */
  readonly offset: number;
  /** Number of values. */
  readonly size: number;
}

/** Named parameter tensors, shaped, from {@link ParameterSet.unpack}. */
export type ParameterTensors = Readonly<Record<string, tf.Tensor>>;

/** Flat parameter storage with named, shaped pieces. Add pieces, then {@link ParameterSet.build}. */
export class ParameterSet {
  /** Name used in messages and files. */
  readonly name: string;
  private readonly list: ParameterPiece[] = [];
  private initial: Float32Array[] = [];
  private flat: tf.Variable | undefined;
  private cached: ParameterTensors | undefined;
  private total = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Adds a piece with its initial values (before {@link ParameterSet.build}). */
  add(name: string, shape: readonly number[], values: Float32Array): void {
    if (this.flat !== undefined)
      throw new InvalidStateError(this.name, 'add() before build()', 'add() after build()');
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size)
      throw new InvalidStateError(`${this.name}.${name}`, `${size} initial values`, values.length);
    this.list.push({ name, shape: [...shape], offset: this.total, size });
    this.initial.push(values);
    this.total += size;
  }

  /** The pieces, in storage order. */
  get pieces(): readonly ParameterPiece[] {
    return this.list;
  }

  /** Total number of values. */
  get size(): number {
    return this.total;
  }

  /** True once the variable exists. */
  get built(): boolean {
    return this.flat !== undefined;
  }

  /** Creates the flat variable from the initial values (needs the backend ready). */
  build(): void {
    if (this.flat !== undefined) return;
    const values = new Float32Array(this.total);
    this.list.forEach((piece, i) => values.set(this.initial[i]!, piece.offset));
    this.initial = [];
    this.flat = tf.variable(tf.tensor1d(values), true, undefined, 'float32');
  }

  /** The flat variable. */
  get variable(): tf.Variable {
    if (this.flat === undefined)
      throw new InvalidStateError(this.name, 'build() before use', 'an unbuilt parameter set');
    return this.flat;
  }

  /**
   * Splits `source` (the variable, or any tensor of the same size such as a target copy) into
   * shaped pieces. Inside a gradient scope the gradient flows back to `source` as one tensor.
   */
  unpack(source: tf.Tensor = this.variable): ParameterTensors {
    const parts = tf.split(
      source,
      this.list.map((p) => p.size),
    );
    const out: Record<string, tf.Tensor> = {};
    this.list.forEach((piece, i) => {
      out[piece.name] =
        piece.shape.length === 1 ? parts[i]! : tf.reshape(parts[i]!, [...piece.shape]);
    });
    return out;
  }

  /** Shaped pieces of the current values, cached until the next {@link ParameterSet.assign} (for acting without a gradient). */
  views(): ParameterTensors {
    if (this.cached === undefined) {
      const views = tf.tidy(() => this.unpack());
      for (const t of Object.values(views)) tf.keep(t);
      this.cached = views;
    }
    return this.cached;
  }

  /**
   * `loss` evaluated on the cached {@link ParameterSet.views}, and its gradient with respect to the
   * flat vector: the same values as `tf.variableGrads` through {@link ParameterSet.unpack} (whose
   * gradient is the pieces' gradients concatenated in storage order), but the weights are the same
   * tensors acting used and other passes use until the next {@link ParameterSet.assign}, so work a
   * backend keeps per tensor (XNNPACK's packed weights on wasm) is done once per version. A piece
   * the loss does not use gets a zero gradient.
   */
  valueAndGrad(loss: (params: ParameterTensors) => tf.Scalar): {
    value: tf.Scalar;
    grad: tf.Tensor1D;
  } {
    const views = this.views();
    const pieces = this.list.map((p) => views[p.name]!);
    const result = tf.engine().gradients(() => loss(views), pieces, undefined, true);
    // With allowNoGradients, a piece the loss does not reach has no gradient (undefined).
    const grads = result.grads as (tf.Tensor | undefined)[];
    const grad = tf.tidy(() =>
      tf.concat<tf.Tensor1D>(
        grads.map((g, i) => {
          const size = this.list[i]!.size;
          return g === undefined ? tf.zeros<tf.Rank.R1>([size]) : tf.reshape<tf.Rank.R1>(g, [size]);
        }),
      ),
    );
    tf.dispose(result.grads);
    return { value: result.value, grad };
  }

  /** Replaces the values (the old tensor is disposed) and drops cached views. */
  assign(values: tf.Tensor): void {
    this.variable.assign(values);
    this.invalidate();
  }

  /** Reads all values (one download). */
  read(): Float32Array {
    return this.variable.dataSync() as Float32Array;
  }

  /** Writes all values; throws `InvalidStateError` on a length mismatch. */
  write(values: Float32Array): void {
    if (values.length !== this.total) {
      throw new InvalidStateError(this.name, `${this.total} float32 values`, values.length);
    }
    if (this.flat === undefined) {
      this.build();
    }
    const t = tf.tensor1d(values);
    this.variable.assign(t);
    t.dispose();
    this.invalidate();
  }

  /** Drops cached views (call after changing the variable in place). */
  invalidate(): void {
    if (this.cached !== undefined) tf.dispose(Object.values(this.cached));
    this.cached = undefined;
  }

  /** Releases the variable and cached views. */
  dispose(): void {
    this.invalidate();
    this.flat?.dispose();
    this.flat = undefined;
  }

  /** Describes the layout (for checks on load). */
  describe(): string {
    return this.list.map((p) => `${p.name}[${p.shape.join('x')}]`).join(', ');
  }
}

// ---------------------------------------------------------------------------------------------
// Initialisers (seeded, in JavaScript)

/**
 * An orthogonal matrix `[rows, cols]` scaled by `gain` (as `torch.nn.init.orthogonal_`): QR of a
 * Gaussian matrix with the signs of R's diagonal folded in, transposed when rows < cols.
 */
export function orthogonal(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  const tall = rows >= cols;
  const r = tall ? rows : cols;
  const c = tall ? cols : rows;
  // Columns of a Gaussian r x c matrix, orthonormalised by modified Gram-Schmidt (= Q of QR with R's diagonal > 0).
  const q: Float64Array[] = [];
  for (let j = 0; j < c; j++) {
    const v = new Float64Array(r);
    for (let i = 0; i < r; i++) v[i] = rng.normal();
    q.push(v);
  }
  for (let j = 0; j < c; j++) {
    const v = q[j]!;
    for (let p = 0; p < j; p++) {
      const u = q[p]!;
      let dot = 0;
      for (let i = 0; i < r; i++) dot += u[i]! * v[i]!;
      for (let i = 0; i < r; i++) v[i] = v[i]! - dot * u[i]!;
    }
    let norm = 0;
    for (let i = 0; i < r; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < r; i++) v[i] = v[i]! / norm;
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = gain * (tall ? q[j]![i]! : q[i]![j]!);
    }
  }
  return out;
}

/** Values uniform in ±1/√fanIn (PyTorch's default for `nn.Linear` weights and biases). */
export function fanInUniform(count: number, fanIn: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** Checks a saved flat vector against a parameter set's size; throws `InvalidStateError` otherwise. */
export function checkFlatSize(set: ParameterSet, values: Float32Array, file: string): void {
  if (values.length !== set.size) {
    throw new InvalidStateError(
      `${set.name} in ${file}`,
      `${set.size} values (${set.describe()})`,
      values.length,
    );
  }
}
