/**
 * Backbones of the world model with a structure of their own: the grid backbone and the `lm`
 * backbone (below, {@link LmBackbone}).
 *
 * The grid backbone: for discrete states whose first entries are a
 * `width × height` grid of cells with `channels` entries each (GridNav's symbolic observation:
 * `(object, colour, state)` per cell in `x * height + y` order, then the agent's position,
 * direction and carried object).
 *
 * An MLP over the whole flattened grid has to learn "the agent moves into the cell in front
 * unless it is a wall" once for every cell and direction, and a layout it has never seen is new
 * to it. The grid backbone has the study's structure, applied per cell with weights shared by
 * every cell (a convolution):
 * - the state encoder reads each cell's `(2r+1) × (2r+1)` neighbourhood (its one-hot codes and
 *   an "inside the grid" flag, so the border is visible) into `hiddenSize` features; the action
 *   encoder reads the action and the state's other entries (position, direction, carried object)
 *   into the same size, and `combined = cellEmb + actionEmb` at every cell;
 * - the backbone is a ReLU MLP of `backboneSizes` run on every cell (one product for all cells of
 *   all rows of all members);
 * - the per-cell heads give each cell entry's change logit and class logits; the heads of the
 *   other entries, the reward, the termination (and the mask head's allowed actions) read the
 *   max- and mean-pooled cell features with the action encoder's input.
 *
 * The output is laid out exactly as {@link WorldModel}'s MLP output (change logits of every
 * entry, then the class logits group by group, then reward and termination), so losses,
 * snapping, probabilities and fusion are the same code for both backbones. Training runs
 * {@link GridBackbone.apply}: slices, reshapes and concatenations of dense tensors, no gather, so
 * every op has a gradient on every tensorflow.js backend. Predictions run
 * {@link GridBackbone.predict}, the same function computed once per distinct neighbourhood.
 */
import { InvalidOptionError } from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { tf } from '../agents/nn/backend.js';
import { Mlp } from '../agents/nn/mlp.js';
import { ParameterSet, type ParameterTensors } from '../agents/nn/params.js';
import { Transformer } from '../agents/nn/transformer.js';
import { WmgymLm, type WmgymLmConfig } from '../agents/llm/wmgym-lm.js';
import type { StateLayout } from './state-layout.js';

/** Sizes of {@link GridBackbone}. */
export interface GridBackboneOptions {
  /** `[width, height, channels]` of the grid at the start of the state. */
  grid: readonly number[];
  /** Neighbourhood radius r: each cell reads `(2r+1)²` cells. */
  radius: number;
  /** Network inputs per row (the encoded state, then the encoded action). */
  inputSize: number;
  /** Width of the cell and action embeddings. */
  hiddenSize: number;
  /** Hidden sizes of the per-cell MLP (its last size is the pooled feature size). */
  backboneSizes: readonly number[];
  /** Members of the batched ensemble. */
  ensemble: number;
  /** Outputs after the class logits, read from the pooled features: reward, termination and the mask head's logits (if any). */
  tailOutputs: number;
  /** The option name errors report. */
  option: string;
}

/** A contiguous run of the flat output: a slice of the per-cell or of the global output. */
interface Piece {
  source: 'cell' | 'global';
  offset: number;
  size: number;
}

/** The grid backbone; see the module comment. */
export class GridBackbone {
  /** Cells in the grid. */
  readonly cells: number;
  /** Network inputs per cell (one-hot codes, without the "inside" flag). */
  readonly cellInputs: number;
  /** Per-cell outputs (change logits of the cell's entries, then their class logits). */
  readonly cellOutputs: number;
  /** Outputs of the global head (other entries' logits, reward, termination). */
  readonly globalOutputs: number;
  private readonly width: number;
  private readonly height: number;
  private readonly radius: number;
  private readonly globalInputs: number;
  private readonly ensemble: number;
  private readonly cellEncoder: Mlp;
  private readonly actionEncoder: Mlp;
  private readonly body: Mlp;
  private readonly cellHead: Mlp;
  private readonly globalHead: Mlp;
  private readonly pieces: readonly Piece[];

  /**
   * Adds the backbone's weights to `params`.
   * @throws {@link InvalidOptionError} when the grid does not fit the layout: not a discrete
   * layout, more cell entries than state entries, or a channel whose number of values differs
   * between cells.
   */
  constructor(params: ParameterSet, layout: StateLayout, options: GridBackboneOptions, rng: Rng) {
    const { option } = options;
    const grid = options.grid;
    if (grid.length !== 3 || !grid.every((v) => Number.isSafeInteger(v) && v > 0))
      throw new InvalidOptionError(
        option,
        grid,
        '[width, height, channels]: three positive integers (the grid at the start of the state)',
      );
    const [width, height, channels] = grid as [number, number, number];
    if (layout.kind !== 'discrete')
      throw new InvalidOptionError(
        option,
        grid,
        'a grid backbone only for a discrete state (stateKind "discrete" or a MultiBinary space)',
      );
    const cells = width * height;
    if (cells * channels > layout.size)
      throw new InvalidOptionError(
        option,
        grid,
        `a grid of at most ${layout.size} entries (the state's size); ${width} x ${height} x ${channels} = ${cells * channels}`,
      );
    const classes = Array.from({ length: channels }, (_, ch) => layout.classes[ch]!);
    for (let c = 0; c < cells; c++) {
      for (let ch = 0; ch < channels; ch++) {
        if (layout.classes[c * channels + ch] !== classes[ch])
          throw new InvalidOptionError(
            option,
            grid,
            `a grid whose channel ${ch} has the same values in every cell (cell ${c} has ${layout.classes[c * channels + ch]}, cell 0 ${classes[ch]})`,
          );
      }
    }
    this.width = width;
    this.height = height;
    this.cells = cells;
    this.radius = options.radius;
    this.ensemble = options.ensemble;
    this.cellInputs = classes.reduce((s, k) => s + (k <= 2 ? 1 : k), 0);
    // The action is always part of the global input, so it is never empty.
    this.globalInputs = options.inputSize - cells * this.cellInputs;
    const extras = layout.size - cells * channels;

    // Per-cell outputs: the channels' change logits, then per class group (ascending K, as the
    // layout orders its groups) the channels with K values, K logits each.
    const cellClassOffset = new Map<number, number>();
    let cellOut = channels;
    for (const g of layout.groups) {
      cellClassOffset.set(g.classes, cellOut);
      cellOut += classes.filter((k) => k === g.classes).length * g.classes;
    }
    this.cellOutputs = cellOut;
    // Global outputs: the other entries' change logits, their class logits group by group, then
    // reward, termination and the mask logits (`tailOutputs`).
    const pieces: Piece[] = [
      { source: 'cell', offset: 0, size: channels },
      { source: 'global', offset: 0, size: extras },
    ];
    let globalOut = extras;
    const classPieces: Piece[] = [];
    for (const g of layout.groups) {
      const perCell = classes.filter((k) => k === g.classes).length * g.classes;
      classPieces.push({ source: 'cell', offset: cellClassOffset.get(g.classes)!, size: perCell });
      let tail = 0;
      for (const entry of g.entries) if (entry >= cells * channels) tail++;
      classPieces.push({ source: 'global', offset: globalOut, size: tail * g.classes });
      globalOut += tail * g.classes;
    }
    pieces.push(...classPieces, { source: 'global', offset: globalOut, size: options.tailOutputs });
    this.globalOutputs = globalOut + options.tailOutputs;
    this.pieces = pieces.filter((p) => p.size > 0);

    const sizes = options.backboneSizes;
    const features = sizes[sizes.length - 1]!;
    const side = 2 * this.radius + 1;
    const layer = (
      name: string,
      inputSize: number,
      hiddenSizes: readonly number[],
      outputSize: number,
    ): Mlp =>
      new Mlp(
        params,
        {
          name: `grid.${name}`,
          inputSize,
          hiddenSizes,
          outputSize,
          activation: 'relu',
          init: 'fan-in-uniform',
          ensemble: this.ensemble,
        },
        rng,
      );
    this.cellEncoder = layer(
      'cellEncoder',
      side * side * (this.cellInputs + 1),
      [],
      options.hiddenSize,
    );
    this.actionEncoder = layer('actionEncoder', this.globalInputs, [], options.hiddenSize);
    this.body = layer('body', options.hiddenSize, sizes.slice(0, -1), features);
    this.cellHead = layer('cellHead', features, [], this.cellOutputs);
    this.globalHead = layer(
      'globalHead',
      2 * features + this.globalInputs,
      [features],
      this.globalOutputs,
    );
  }

  /**
   * The network's raw outputs `[members, rows, outputSize]` for inputs `[1 | members, rows,
   * inputSize]` (the {@link WorldModel} input encoding), in the MLP backbone's output layout.
   */
  apply(params: ParameterTensors, x: tf.Tensor): tf.Tensor3D {
    const [m, rows] = x.shape as [number, number, number];
    const e = this.ensemble;
    const w = this.width;
    const h = this.height;
    const p = this.cellInputs;
    const r = this.radius;
    const side = 2 * r + 1;
    const cells = this.cells;
    // Each cell's neighbourhood: the one-hot codes plus an "inside" flag, zero-padded outside.
    const grid = tf.reshape(tf.slice(x, [0, 0, 0], [m, rows, cells * p]), [m * rows, w, h, p]);
    const flagged = tf.concat([grid, tf.ones([m * rows, w, h, 1])], 3);
    const padded = tf.pad(flagged, [
      [0, 0],
      [r, r],
      [r, r],
      [0, 0],
    ]);
    const shifts: tf.Tensor[] = [];
    for (let dx = 0; dx < side; dx++)
      for (let dy = 0; dy < side; dy++)
        shifts.push(tf.slice(padded, [0, dx, dy, 0], [m * rows, w, h, p + 1]));
    const patches = tf.reshape(tf.concat(shifts, 3), [m, rows * cells, side * side * (p + 1)]);
    const globalIn = tf.slice(x, [0, 0, cells * p], [m, rows, this.globalInputs]);
    const hidden = this.cellEncoder.outputSize;
    const cellEmb = tf.reshape(this.cellEncoder.apply(params, patches), [e, rows, cells, hidden]);
    const actionEmb = tf.reshape(this.actionEncoder.apply(params, globalIn), [e, rows, 1, hidden]);
    const combined = tf.reshape(tf.add(cellEmb, actionEmb), [e, rows * cells, hidden]);
    const features = tf.relu(this.body.apply(params, combined, { inputGradient: true }));
    return this.heads(params, features, globalIn, rows);
  }

  /**
   * {@link GridBackbone.apply}'s outputs, as numbers `[ensemble, rows, outputSize]`, for the rows
   * `first .. first + rows` of every member of `inputs` (`[members, rowsPerMember, inputSize]`,
   * members 1 or the ensemble), computed without gradients and without repeating work:
   * - the cell encoder runs once per distinct neighbourhood of the whole batch (a grid repeats
   *   most of its neighbourhoods — walls, open floor — and the states a planner expands share
   *   their layout);
   * - the per-cell network runs once per distinct neighbourhood of each row (its features are a
   *   function of the neighbourhood and the row's action input), and the pooled mean weighs each
   *   by the cells that have it.
   *
   * The result is `apply`'s up to rounding. Rows are copied by index in plain arrays: wasm's
   * gather copies ~75 ns per element, slower than the products it would save. For predictions
   * only: training uses `apply`, every op of which has a gradient.
   */
  predict(
    params: ParameterTensors,
    inputs: Float32Array,
    members: number,
    rowsPerMember: number,
    first: number,
    rows: number,
  ): Float32Array {
    const e = this.ensemble;
    const cells = this.cells;
    const g = this.globalInputs;
    const hidden = this.cellEncoder.outputSize;
    const width = cells * this.cellInputs + g;
    const plan = this.deduplicate(inputs, members, rowsPerMember, first, rows);
    const slots = plan.slotsPerRow;
    const globalData = new Float32Array(members * rows * g);
    for (let mem = 0; mem < members; mem++)
      for (let r = 0; r < rows; r++) {
        const at = (mem * rowsPerMember + first + r) * width + cells * this.cellInputs;
        globalData.set(inputs.subarray(at, at + g), (mem * rows + r) * g);
      }
    const patchCount = plan.patches.length / this.cellEncoder.inputSize;
    const globalIn = tf.tensor3d(globalData, [members, rows, g]);
    // The distinct neighbourhoods' embeddings, copied to every (row, slot) that has them; then
    // combined = cellEmb + actionEmb.
    const patchEmb = tf.tidy(() =>
      this.cellEncoder.apply(
        params,
        tf.tensor3d(plan.patches, [1, patchCount, this.cellEncoder.inputSize]),
      ),
    );
    const patchValues = patchEmb.dataSync() as Float32Array;
    patchEmb.dispose();
    const cellEmb = new Float32Array(e * rows * slots * hidden);
    for (let m = 0; m < e; m++) {
      const table = (members === 1 ? 0 : m) * rows * slots;
      for (let s = 0; s < rows * slots; s++) {
        const patch = (m * patchCount + plan.slotPatch[table + s]!) * hidden;
        cellEmb.set(patchValues.subarray(patch, patch + hidden), (m * rows * slots + s) * hidden);
      }
    }
    const [cellOut, globalOut] = tf.tidy(() => {
      const actionEmb = tf.reshape(this.actionEncoder.apply(params, globalIn), [
        e,
        rows,
        1,
        hidden,
      ]);
      const combined = tf.add(tf.tensor4d(cellEmb, [e, rows, slots, hidden]), actionEmb);
      const features = tf.relu(
        this.body.apply(params, tf.reshape(combined, [e, rows * slots, hidden])),
      );
      const f = features.shape[2];
      const perRow = tf.reshape(features, [e, rows, slots, f]);
      const weights = tf.tensor4d(plan.slotWeight, [members, rows, slots, 1]);
      const pooled = tf.concat(
        [
          tf.max(perRow, 2),
          tf.div(tf.sum(tf.mul(perRow, weights), 2), cells),
          members === e ? globalIn : tf.tile(globalIn, [e, 1, 1]),
        ],
        2,
      );
      return [this.cellHead.apply(params, features), this.globalHead.apply(params, pooled)];
    });
    globalIn.dispose();
    const cellValues = cellOut.dataSync() as Float32Array;
    const globalValues = globalOut.dataSync() as Float32Array;
    cellOut.dispose();
    globalOut.dispose();
    // The MLP backbone's output layout, piece by piece.
    const co = this.cellOutputs;
    const go = this.globalOutputs;
    const o = this.pieces.reduce(
      (n, piece) => n + (piece.source === 'cell' ? cells : 1) * piece.size,
      0,
    );
    const out = new Float32Array(e * rows * o);
    for (let m = 0; m < e; m++) {
      const table = members === 1 ? 0 : m;
      for (let r = 0; r < rows; r++) {
        const cellSlot = plan.cellSlot.subarray(
          (table * rows + r) * cells,
          (table * rows + r + 1) * cells,
        );
        const row = m * rows + r;
        let at = row * o;
        for (const piece of this.pieces) {
          if (piece.source === 'global') {
            const from = row * go + piece.offset;
            out.set(globalValues.subarray(from, from + piece.size), at);
            at += piece.size;
            continue;
          }
          for (let c = 0; c < cells; c++) {
            const from = (row * slots + cellSlot[c]!) * co + piece.offset;
            for (let i = 0; i < piece.size; i++) out[at++] = cellValues[from + i]!;
          }
        }
      }
    }
    return out;
  }

  /**
   * The distinct neighbourhoods of a batch, and per input row its distinct neighbourhoods
   * (slots, padded to the batch's most with copies of the first, weighed 0), each cell's slot and
   * each slot's weight (the cells that have it). Cells are told apart by their encoded entries
   * (compared exactly), neighbourhoods by their cells (outside the grid is a kind of its own).
   */
  private deduplicate(
    inputs: Float32Array,
    members: number,
    rowsPerMember: number,
    first: number,
    rows: number,
  ): {
    patches: Float32Array;
    slotsPerRow: number;
    slotPatch: Int32Array;
    slotWeight: Float32Array;
    cellSlot: Int32Array;
  } {
    const cells = this.cells;
    const p = this.cellInputs;
    const w = this.width;
    const h = this.height;
    const r = this.radius;
    const area = (2 * r + 1) * (2 * r + 1);
    const width = cells * p + this.globalInputs;
    const bits = new Uint32Array(inputs.buffer, inputs.byteOffset, inputs.length);
    const total = members * rows;
    // 1. A kind per cell (1-based; 0 is "outside the grid"), by hash and exact comparison.
    const kindOf = new Int32Array(total * cells);
    const kindStart: number[] = []; // offset in `inputs` of each kind's first cell
    const buckets = new Map<number, number[]>();
    for (let t = 0; t < total; t++) {
      const base = ((t - (t % rows)) / rows) * rowsPerMember * width + (first + (t % rows)) * width;
      for (let c = 0; c < cells; c++) {
        const at = base + c * p;
        let hash = 2166136261;
        for (let i = 0; i < p; i++) hash = Math.imul(hash ^ bits[at + i]!, 16777619);
        let bucket = buckets.get(hash);
        if (bucket === undefined) buckets.set(hash, (bucket = []));
        let kind = 0;
        for (const k of bucket) {
          const other = kindStart[k - 1]!;
          let same = true;
          for (let i = 0; i < p && same; i++) same = bits[at + i] === bits[other + i];
          if (same) {
            kind = k;
            break;
          }
        }
        if (kind === 0) {
          kindStart.push(at);
          kind = kindStart.length;
          bucket.push(kind);
        }
        kindOf[t * cells + c] = kind;
      }
    }
    // 2. A neighbourhood per cell; per row its distinct ones.
    const radix = kindStart.length + 1;
    const exact = Math.pow(radix, area) <= Number.MAX_SAFE_INTEGER;
    const patchIds = new Map<number | string, number>();
    const patchKinds: number[] = []; // `area` kinds per distinct neighbourhood
    const cellPatch = new Int32Array(total * cells);
    const neighbours = new Int32Array(area);
    const stamp: number[] = []; // per neighbourhood: the last row that had it, and its slot there
    const slotOf: number[] = [];
    const rowSlots = new Int32Array(total);
    const cellSlot = new Int32Array(total * cells);
    for (let t = 0; t < total; t++) {
      const kinds = kindOf.subarray(t * cells, (t + 1) * cells);
      for (let x = 0; x < w; x++)
        for (let y = 0; y < h; y++) {
          let key = 0;
          let n = 0;
          for (let dx = -r; dx <= r; dx++)
            for (let dy = -r; dy <= r; dy++) {
              const nx = x + dx;
              const ny = y + dy;
              const kind = nx < 0 || ny < 0 || nx >= w || ny >= h ? 0 : kinds[nx * h + ny]!;
              neighbours[n++] = kind;
              key = key * radix + kind;
            }
          const mapKey = exact ? key : neighbours.join(',');
          let patch = patchIds.get(mapKey);
          if (patch === undefined) {
            patch = stamp.length;
            patchIds.set(mapKey, patch);
            for (const kind of neighbours) patchKinds.push(kind);
            stamp.push(-1);
            slotOf.push(0);
          }
          if (stamp[patch] !== t) {
            stamp[patch] = t;
            slotOf[patch] = rowSlots[t]!;
            rowSlots[t]!++;
          }
          cellPatch[t * cells + x * h + y] = patch;
          cellSlot[t * cells + x * h + y] = slotOf[patch]!;
        }
    }
    let slotsPerRow = 0;
    for (let t = 0; t < total; t++) slotsPerRow = Math.max(slotsPerRow, rowSlots[t]!);
    const slotPatch = new Int32Array(total * slotsPerRow);
    const slotWeight = new Float32Array(total * slotsPerRow);
    for (let t = 0; t < total; t++) {
      for (let c = 0; c < cells; c++) {
        const at = t * slotsPerRow + cellSlot[t * cells + c]!;
        slotPatch[at] = cellPatch[t * cells + c]!;
        slotWeight[at] = slotWeight[at]! + 1;
      }
      // Padding repeats the row's first slot: the max is unchanged, the weight is 0.
      for (let s = rowSlots[t]!; s < slotsPerRow; s++)
        slotPatch[t * slotsPerRow + s] = slotPatch[t * slotsPerRow]!;
    }
    // 3. The distinct neighbourhoods' encoder inputs: each cell's entries and an "inside" flag.
    const patchCount = stamp.length;
    const patches = new Float32Array(patchCount * area * (p + 1));
    for (let q = 0; q < patchCount; q++)
      for (let n = 0; n < area; n++) {
        const kind = patchKinds[q * area + n]!;
        if (kind === 0) continue;
        const at = (q * area + n) * (p + 1);
        patches.set(inputs.subarray(kindStart[kind - 1], kindStart[kind - 1]! + p), at);
        patches[at + p] = 1;
      }
    return { patches, slotsPerRow, slotPatch, slotWeight, cellSlot };
  }

  /** The per-cell and pooled heads on the per-cell features `[members, rows × cells, f]`. */
  private heads(
    params: ParameterTensors,
    features: tf.Tensor,
    globalIn: tf.Tensor,
    rows: number,
  ): tf.Tensor3D {
    const e = this.ensemble;
    const cells = this.cells;
    const m = globalIn.shape[0];
    const f = features.shape[2]!;
    const cellOut = tf.reshape(this.cellHead.apply(params, features, { inputGradient: true }), [
      e,
      rows,
      cells,
      this.cellOutputs,
    ]);
    const perRow = tf.reshape(features, [e, rows, cells, f]);
    const pooled = tf.concat(
      [tf.max(perRow, 2), tf.mean(perRow, 2), m === e ? globalIn : tf.tile(globalIn, [e, 1, 1])],
      2,
    );
    const globalOut = this.globalHead.apply(params, pooled, { inputGradient: true });
    const parts = this.pieces.map((piece) =>
      piece.source === 'cell'
        ? tf.reshape(tf.slice(cellOut, [0, 0, 0, piece.offset], [e, rows, cells, piece.size]), [
            e,
            rows,
            cells * piece.size,
          ])
        : tf.slice(globalOut, [0, 0, piece.offset], [e, rows, piece.size]),
    );
    return tf.concat(parts, 2) as tf.Tensor3D;
  }
}

// ---- the language-model backbone ----------------------------------------------------------------

/** How much of the pretrained language model the `lm` backbone trains. */
export type LmTuning = 'frozen' | 'top' | 'full';

/** Options of {@link LmBackbone}. */
export interface LmBackboneOptions {
  /** Folder of a saved wmgym-lm (`WmgymLm.save`). */
  path: string;
  /** `frozen`: nothing of the language model trains; `top`: its top block and final LayerNorm train (one copy per member), the blocks below stay frozen; `full`: every block trains (one copy per member). */
  tuning: LmTuning;
  /** Members of the batched ensemble. */
  ensemble: number;
}

/**
 * The study's `WorldModelLLM(llm, ...)` with a real language model inside: the world model's
 * combined (state + action) embedding, `d` wide where `d` is the language model's width, enters
 * the pretrained transformer blocks of a saved wmgym-lm (with its learned position embeddings, the
 * study's `llm.prepare_context`), and the world model's heads read the output.
 *
 * - The frozen part (every block for `frozen`, every block but the top one for `top`) is one
 *   set of weights for all members, kept outside the world model's trained parameters (in
 *   {@link LmBackbone.frozen}; never saved with the world model: it is read again from `path`),
 *   and run once for all members' sequences, with no weight gradients.
 * - The trained part (`top`: the top block and `ln_f`; `full`: everything) is one copy per
 *   member, in the world model's parameters, initialised from the pretrained weights
 *   ({@link LmBackbone.loadPretrained}, once the parameters exist), and trained with the heads and
 *   encoders.
 * - The token embeddings and output layer of the language model are not used: the world model's
 *   encoders take their place (its inputs are state and action vectors, not tokens).
 */
export class LmBackbone {
  /** The language model's sizes. */
  readonly lm: WmgymLmConfig;
  /** The frozen blocks' weights (undefined for `full`). */
  readonly frozen: ParameterSet | undefined;
  private readonly lower: Transformer | undefined;
  private readonly upper: Transformer | undefined;
  private readonly options: LmBackboneOptions;

  /**
   * Adds the trained part's pieces to `params` (initial values are replaced by the pretrained ones
   * in {@link LmBackbone.loadPretrained}).
   * @throws {@link MalformedFileError} when `path` holds no saved wmgym-lm.
   */
  constructor(params: ParameterSet, options: LmBackboneOptions, rng: Rng) {
    this.options = options;
    this.lm = WmgymLm.savedConfig(options.path);
    const { modelSize, heads, layers, contextLength, mlpSize } = this.lm;
    const sizes = { modelSize, heads, contextLength, mlpSize };
    const frozenLayers =
      options.tuning === 'frozen' ? layers : options.tuning === 'top' ? layers - 1 : 0;
    if (frozenLayers > 0) {
      this.frozen = new ParameterSet('lm-frozen');
      this.lower = new Transformer(
        this.frozen,
        {
          ...sizes,
          name: 'lm',
          layers: frozenLayers,
          finalNorm: frozenLayers === layers,
        },
        new Rng(0), // replaced by the pretrained values
      );
    }
    if (frozenLayers < layers) {
      this.upper = new Transformer(
        params,
        {
          ...sizes,
          name: 'lmtrain',
          layers: layers - frozenLayers,
          positionEmbeddings: frozenLayers === 0,
          ensemble: options.ensemble,
        },
        rng,
      );
    }
    this.frozenLayers = frozenLayers;
  }

  private readonly frozenLayers: number;

  /** Width d of the embeddings it takes and gives. */
  get modelSize(): number {
    return this.lm.modelSize;
  }

  /** Longest sequence it takes. */
  get contextLength(): number {
    return this.lm.contextLength;
  }

  /**
   * Reads the pretrained weights from `path` into the frozen set (building it) and into the
   * trained pieces of `params` (built), every member the same copy.
   * @throws {@link MalformedFileError} for missing or damaged model files.
   */
  loadPretrained(params: ParameterSet): void {
    const lm = WmgymLm.load(this.options.path);
    try {
      const source = lm.params.read();
      const pieces = new Map(lm.params.pieces.map((p) => [p.name, p]));
      const valuesOf = (name: string): Float32Array => {
        const piece = pieces.get(name);
        if (piece === undefined)
          throw new InvalidOptionError(
            'WorldModel.languageModel',
            this.options.path,
            `a wmgym-lm whose weights include ${name}`,
          );
        return source.subarray(piece.offset, piece.offset + piece.size);
      };
      if (this.frozen !== undefined) {
        this.frozen.build();
        const values = new Float32Array(this.frozen.size);
        for (const p of this.frozen.pieces) values.set(valuesOf(p.name), p.offset);
        this.frozen.write(values);
      }
      if (this.upper !== undefined) {
        const values = params.read().slice();
        for (const p of params.pieces) {
          if (!p.name.startsWith('lmtrain.')) continue;
          // lmtrain.h<i> is the language model's block frozenLayers + i; pos and lnf keep their names.
          const name = `lm.${p.name.slice('lmtrain.'.length)}`.replace(
            /^lm\.h(\d+)\./,
            (_, i: string) => `lm.h${Number(i) + this.frozenLayers}.`,
          );
          const one = valuesOf(name);
          for (let m = 0; m < this.options.ensemble; m++)
            values.set(one, p.offset + m * one.length);
        }
        params.write(values);
      }
    } finally {
      lm.dispose();
    }
  }

  /**
   * Hidden states `[E, W, T, d]` of the combined embeddings `x` `[E, W, T, d]` (W windows of T
   * steps per member).
   */
  apply(params: ParameterTensors, x: tf.Tensor): tf.Tensor4D {
    const [e, w, t, d] = x.shape as [number, number, number, number];
    let h: tf.Tensor4D = x as tf.Tensor4D;
    if (this.lower !== undefined)
      h = tf.reshape(
        this.lower.apply(this.frozen!.views(), tf.reshape(h, [1, e * w, t, d]), {
          weightGradient: false,
        }),
        [e, w, t, d],
      );
    if (this.upper !== undefined) h = this.upper.apply(params, h);
    return h;
  }

  /** Releases the frozen weights. */
  dispose(): void {
    this.frozen?.dispose();
  }
}
