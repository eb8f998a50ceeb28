/**
 * The world model: the source study's `WorldModelLLM`, an ensemble of learned models of an
 * environment's transitions, rewards and terminations.
 *
 * Per member: a state encoder (Linear stateDim → hidden) and an action encoder (Linear actionDim
 * → hidden; one-hot for discrete actions), `combined = sEmb + aEmb` (the two encoders are stored
 * as one weight `[stateDim + actionDim, hidden]`, so the sum is one product), a backbone (the
 * study's `llm.prepare_context`: an MLP of ReLU layers by default; the grid backbone; a small
 * causal transformer trained from scratch; or, with `backbone: 'lm'`, the pretrained blocks of
 * wmgym-lm, a real language model, frozen but for its top block, see `LmBackbone`) and linear heads read off the
 * backbone's last features: the transition head predicts the state DELTA (`next = state + delta`),
 * the reward head the reward, the termination head a termination logit. The heads share one
 * output product.
 *
 * The K members of the ensemble are ONE batched network (weights `[K, in, out]`, one product per
 * layer for all members); each member has its own initialisation and trains on its own bootstrap
 * of the data ({@link WorldModelTrainer}). Their spread is the model's `disagreement`.
 *
 * States (see {@link StateLayout}):
 * - continuous: inputs z-scored with the data's statistics, the delta regressed in z-units of the
 *   data's deltas (MSE; or, with `gaussian`, a mean and a log-variance with PETS' soft bounds
 *   trained by negative log-likelihood). Quantities the observation already gives as sin/cos stay
 *   as they are (no angle wrapping is needed).
 * - discrete: per entry a change logit (Bernoulli: does it change?) and, for entries with more
 *   than two values, a categorical over the values it can become (the current value excluded).
 *   Unchanged entries are copied exactly and every prediction is snapped to a valid state; the
 *   change mask is the discrete form of the delta.
 *
 * Rewards are regressed in z-units of the data's rewards. Statistics are set from the training
 * data at each fit and saved with the model.
 *
 * @example
 * const model = WorldModel.create(spacesOf(env), { ensembleSize: 5 });
 * await new WorldModelTrainer(model).fit(replay, { epochs: 50 });
 * const { nextStates, rewards, dones, disagreement } = model.predict(states, actions);
 */
import { mkdirSync } from 'node:fs';
import {
  InvalidOptionError,
  InvalidStateError,
  InvalidValueError,
  formatValue,
} from '../envs/core/errors.js';
import { Rng } from '../envs/core/rng.js';
import { Box, Discrete, type AnySpace } from '../envs/core/space.js';
import type { EnvSpaces } from '../agents/agent.js';
import { readAgentFile, writeAgentFile } from '../agents/checkpoint.js';
import { initBackend, tf } from '../agents/nn/backend.js';
import { Mlp } from '../agents/nn/mlp.js';
import { Transformer } from '../agents/nn/transformer.js';
import { ParameterSet, type ParameterTensors } from '../agents/nn/params.js';
import { resolveConfig, type ConfigRules } from '../agents/options.js';
import type { ImaginationModel, ImaginedStep, ImagineStepOptions, MemberChoice } from './model.js';
import { GridBackbone, LmBackbone, type LmTuning } from './backbone.js';
import { shippedModelPath } from '../agents/llm/providers/local.js';
import { StateLayout, type ClassGroup, type StateKind } from './state-layout.js';

/** Config of {@link WorldModel}; every field has a default ({@link WORLD_MODEL_DEFAULTS}). */
export interface WorldModelConfig {
  /** Seed of the initialisation (and of sampling from Gaussian heads). @defaultValue 1 */
  seed: number;
  /** Size of the state and action embeddings (the study's `hidden_dim`). @defaultValue 200 */
  hiddenSize: number;
  /**
   * Backbone: `mlp` (ReLU layers of `backboneSizes` over the whole state), `grid` (discrete
   * states that start with a grid, see `grid`: the same network at every cell, over the cell's
   * neighbourhood; see {@link GridBackbone}), or `transformer` (a causal transformer of
   * `layers` blocks over the last `contextLength` (state, action) embeddings of an imagined
   * trajectory; width `hiddenSize`), or `lm` (the same over a saved wmgym-lm's pretrained blocks,
   * `languageModel`, tuned as `lmTuning` says; `hiddenSize` must be the language model's width;
   * see {@link LmBackbone}). @defaultValue 'mlp'
   */
  backbone: 'mlp' | 'grid' | 'transformer' | 'lm';
  /** Folder of the saved wmgym-lm of the `lm` backbone; `''` for the shipped one (`models/wmgym-lm`). @defaultValue '' */
  languageModel: string;
  /** What of the language model the `lm` backbone trains ({@link LmTuning}): its top block (`top`), nothing (`frozen`) or everything (`full`). @defaultValue 'top' */
  lmTuning: LmTuning;
  /** Hidden layer sizes of the backbone (per cell for `grid`; not used by `transformer`). @defaultValue [200, 200] */
  backboneSizes: number[];
  /** Positions the transformer backbone attends over (training windows have this length). @defaultValue 8 */
  contextLength: number;
  /** Attention heads of the transformer backbone (`hiddenSize` must be a multiple). @defaultValue 4 */
  heads: number;
  /** Blocks of the transformer backbone. @defaultValue 2 */
  layers: number;
  /** `[width, height, channels]` of the grid at the start of the state (`backbone: 'grid'`). @defaultValue [] */
  grid: number[];
  /** Neighbourhood radius of the grid backbone: each cell reads `(2r+1)²` cells. @defaultValue 1 */
  gridRadius: number;
  /** Ensemble members. @defaultValue 5 */
  ensembleSize: number;
  /** Members used for prediction, the best on the holdout (PETS' elites). @defaultValue 5 */
  elites: number;
  /** Continuous states: Gaussian transition heads (mean, log-variance) trained by NLL. @defaultValue false */
  gaussian: boolean;
  /** How states are modelled ({@link StateKind}); `discrete` for GridNav's symbolic grid. @defaultValue 'auto' */
  stateKind: StateKind;
  /** Initial upper soft bound of the log-variance (Gaussian heads; learned). @defaultValue 0.5 */
  maxLogVar: number;
  /** Initial lower soft bound of the log-variance (Gaussian heads; learned). @defaultValue -10 */
  minLogVar: number;
  /**
   * A head that predicts the allowed actions of each next state (one Bernoulli per action of a
   * Discrete action space), trained on the transitions' `nextActionMask` (the env's
   * `info.actionMask`). A search planner then expands, below its root, only the actions the
   * model allows, as it does with the env's mask at the root: an env whose random exploration
   * follows its mask (GridNav's pickup, drop and done where they do nothing; TextWorld's
   * commands that do not apply) never shows the model what a masked action does, and asked
   * about one the model predicts whatever its heads say about an unseen input. @defaultValue false
   */
  actionMasks: boolean;
}

/** Options of {@link WorldModel.create}: any subset of {@link WorldModelConfig}. */
export type WorldModelOptions = Partial<WorldModelConfig>;

/** Defaults of {@link WorldModelConfig} (PETS' network size). */
export const WORLD_MODEL_DEFAULTS: Readonly<WorldModelConfig> = Object.freeze({
  seed: 1,
  hiddenSize: 200,
  backbone: 'mlp',
  backboneSizes: [200, 200],
  languageModel: '',
  lmTuning: 'top',
  grid: [],
  gridRadius: 1,
  contextLength: 8,
  heads: 4,
  layers: 2,
  ensembleSize: 5,
  elites: 5,
  gaussian: false,
  stateKind: 'auto',
  maxLogVar: 0.5,
  minLogVar: -10,
  actionMasks: false,
});

/** How each {@link WorldModelConfig} field is checked (the world-model agent reuses them). */
export const WORLD_MODEL_RULES: ConfigRules<WorldModelConfig> = {
  seed: { kind: 'seed' },
  hiddenSize: { kind: 'number', min: 1, integer: true },
  backbone: { kind: 'choice', values: ['mlp', 'grid', 'transformer', 'lm'] },
  languageModel: { kind: 'string', allowEmpty: true },
  lmTuning: { kind: 'choice', values: ['frozen', 'top', 'full'] },
  backboneSizes: { kind: 'sizes' },
  grid: { kind: 'sizes', allowEmpty: true },
  gridRadius: { kind: 'number', min: 1, max: 8, integer: true },
  contextLength: { kind: 'number', min: 1, max: 256, integer: true },
  heads: { kind: 'number', min: 1, integer: true },
  layers: { kind: 'number', min: 1, max: 48, integer: true },
  ensembleSize: { kind: 'number', min: 1, max: 64, integer: true },
  elites: { kind: 'number', min: 1, max: 64, integer: true },
  gaussian: { kind: 'boolean' },
  stateKind: { kind: 'choice', values: ['auto', 'continuous', 'discrete'] },
  maxLogVar: { kind: 'number' },
  minLogVar: { kind: 'number' },
  actionMasks: { kind: 'boolean' },
};

/** Batched predictions for N (state, action) rows. */
export interface WorldModelPrediction {
  /** Next states, `[N × stateSize]` (snapped to valid values for discrete states). */
  nextStates: Float32Array;
  /** Rewards, `[N]`. */
  rewards: Float32Array;
  /** 1 where a termination is predicted (probability > ½), `[N]`. */
  dones: Uint8Array;
  /** Termination probabilities, `[N]`. */
  doneProbabilities: Float32Array;
  /**
   * Ensemble disagreement per row: continuous, the mean over state entries of the members'
   * standard deviation of the predicted delta in z-units of the data's deltas; discrete, the sum
   * over entries of the standard deviation of the members' change probabilities. 0 with one
   * elite, and in `ts` mode (one member per row).
   */
  disagreement: Float32Array;
  /**
   * Allowed actions of each next state, `[N × actions]` (1 where the mask head's probability is
   * over ½), for a model with `actionMasks`; undefined otherwise.
   */
  actionMasks?: Uint8Array | undefined;
}

/** Normalisation statistics of the data the model was fitted on. */
export interface WorldModelStatistics {
  /** Mean of the states (continuous), per entry. */
  stateMean: number[];
  /** Standard deviation of the states (continuous), per entry. */
  stateStd: number[];
  /** Mean of the deltas `next − state` (continuous), per entry. */
  deltaMean: number[];
  /** Standard deviation of the deltas (continuous), per entry. */
  deltaStd: number[];
  /** Mean reward. */
  rewardMean: number;
  /** Reward standard deviation. */
  rewardStd: number;
  /** Transitions the statistics were computed from (0 before the first fit). */
  count: number;
  /**
   * Discrete states: the conservation laws of the data — (class group, value) pairs, flat as
   * `[group, value, group, value, …]` (the value as an index from each entry's lowest), whose
   * count over the group's entries is present in the data and changed in no transition (GridNav
   * Task-k5 random play: the one agent and the walls; the goal and the lava are not laws, a step
   * onto them covers them with the agent). {@link WorldModel.step} halts an imagined step
   * that breaks one. Empty for continuous states (and in models saved before it existed).
   */
  conserved: number[];
}

/** A batch of learned-model states: `n` flat rows of `stateSize`. */
export interface ModelBatch {
  /** `[n × stateSize]` rows. */
  states: Float32Array;
  /** Rows. */
  n: number;
  /**
   * Sequence backbones (`transformer`): the network inputs of the imagined steps that led to
   * each row, `[n × contextSteps × inputSize]`, oldest first (at most `contextLength − 1`
   * steps). Absent at a batch's root; {@link WorldModel.step} extends it.
   */
  context?: Float32Array | undefined;
  /** Steps held in `context` per row (0 without it). */
  contextSteps?: number | undefined;
}

/** One batch of training rows for {@link WorldModel.loss}: per member `rows` transitions. */
export interface EncodedBatch {
  /** Network inputs `[members × rows × inputSize]`. */
  inputs: Float32Array;
  /** Targets `[members × rows × targetSize]`. */
  targets: Float32Array;
  /** Rows per member (windows × steps for a sequence backbone). */
  rows: number;
  /** Consecutive rows that form one training window (1 unless the backbone is a sequence model or the loss is open-loop). */
  steps: number;
  /** Open-loop windows: each step after the first starts from the model's own prediction. */
  openLoop?: boolean;
}

/** The losses of one pass, as scalars (tensors inside a gradient scope). */
export interface WorldModelLosses<T> {
  /** Sum of the three (plus the log-variance bound penalty of Gaussian heads). */
  total: T;
  /** Transition loss: MSE in delta z-units, NLL (Gaussian) or cross-entropy (discrete), per member. */
  transition: T;
  /** Reward MSE in reward z-units. */
  reward: T;
  /** Termination binary cross-entropy. */
  done: T;
  /**
   * Mask head binary cross-entropy, summed over actions and averaged over rows, as the discrete
   * change heads' over entries (0 without `actionMasks`). A mean over actions would weigh each
   * action's Bernoulli 1/n of a state entry's: on TextWorld Quest (142 commands, ~9 allowed) the
   * head then stayed near "nothing allowed" (59 % of the allowed commands of its own training rows
   * missed after 2,414 gradient steps).
   */
  mask: T;
}

const STD_FLOOR = 1e-6;
const LOG_VAR_PENALTY = 0.01;

/** The learned world model; see the module comment. */
export class WorldModel implements ImaginationModel<Float32Array, ModelBatch> {
  /** The resolved config. */
  readonly config: Readonly<WorldModelConfig>;
  /** The spaces of the environment the model learns. */
  readonly spaces: EnvSpaces;
  /** The state layout. */
  readonly layout: StateLayout;
  /** The environment's action space. */
  readonly actionSpace: Discrete | Box;
  /** Entries of a state. */
  readonly stateSize: number;
  /** Entries of an encoded action (one-hot size for a discrete action). */
  readonly actionSize: number;
  /** Members of the batched ensemble network. */
  readonly ensembleSize: number;
  /** Network inputs per row (encoded state + encoded action). */
  readonly inputSize: number;
  /** Network outputs per row. */
  readonly outputSize: number;
  /** Target values per training row. */
  readonly targetSize: number;
  /** The parameters of every member (one flat variable). */
  readonly params: ParameterSet;
  /** Rows one network pass holds at most (predictions and holdout losses run in chunks of it). */
  readonly rowsPerPass: number;
  /**
   * Consecutive transitions a training window holds: `contextLength` for the `transformer` and
   * `lm` backbones, 1 (independent rows) for the others.
   */
  readonly sequenceLength: number;
  /** The `lm` backbone (its frozen weights live outside {@link WorldModel.params}). */
  private readonly lmBackbone: LmBackbone | undefined;
  /**
   * The network: raw outputs `[members, rows, outputSize]` of inputs `[1 | members, rows,
   * inputSize]`, where every `steps` consecutive rows are one sequence (oldest first).
   */
  private readonly network: (params: ParameterTensors, x: tf.Tensor, steps: number) => tf.Tensor3D;
  /**
   * The network's raw outputs as numbers `[ensemble, rows, outputSize]`, for prediction only (no
   * gradients), where a backbone has a faster path than {@link WorldModel.network}: rows `first ..
   * first + rows` of every member of `inputs` (`[members, rowsPerMember, inputSize]`). Only for
   * backbones without sequences and without Gaussian heads (the grid backbone).
   */
  private readonly predictNetwork:
    | ((
        params: ParameterTensors,
        inputs: Float32Array,
        members: number,
        rowsPerMember: number,
        first: number,
        rows: number,
      ) => Float32Array)
    | null = null;
  private readonly transitionOutputs: number;
  /** Mask logits after reward and termination (the action count with `actionMasks`, else 0). */
  private readonly maskOutputs: number;
  private statistics: WorldModelStatistics;
  private eliteList: Int32Array;
  private rng: Rng;
  /** Input-column index of each class logit (the current value's one-hot input), discrete. */
  private readonly classInputColumn: Int32Array;
  /** Entry of each class logit, discrete. */
  private readonly classEntry: Int32Array;
  /** Offset of each entry's class logits in the class-logit block (entries with more than two values). */
  private readonly classLogitOffset: Int32Array;

  private constructor(spaces: EnvSpaces, config: WorldModelConfig) {
    if (config.elites > config.ensembleSize)
      throw new InvalidOptionError(
        'WorldModel.elites',
        config.elites,
        `an integer <= ensembleSize (${config.ensembleSize})`,
      );
    this.config = Object.freeze({ ...config, backboneSizes: [...config.backboneSizes] });
    this.spaces = spaces;
    this.layout = StateLayout.of(
      spaces.observationSpace as AnySpace,
      config.stateKind,
      'WorldModel.stateKind',
    );
    if (config.gaussian && this.layout.kind === 'discrete')
      throw new InvalidOptionError(
        'WorldModel.gaussian',
        true,
        'false for a discrete state (its heads are Bernoulli and categorical)',
      );
    const action = spaces.actionSpace as AnySpace;
    if (action instanceof Discrete) this.actionSpace = action;
    else if (action instanceof Box) this.actionSpace = action;
    else
      throw new InvalidOptionError(
        'world model action space',
        String(action),
        'a Discrete or Box action space',
      );
    this.stateSize = this.layout.size;
    this.actionSize = action instanceof Discrete ? action.n : action.size;
    this.ensembleSize = config.ensembleSize;
    const stateInputs = this.layout.kind === 'continuous' ? this.stateSize : this.layout.inputSize;
    this.inputSize = stateInputs + this.actionSize;
    if (this.layout.kind === 'continuous') {
      this.transitionOutputs = this.stateSize * (config.gaussian ? 2 : 1);
      this.targetSize = this.stateSize + 2;
    } else {
      this.transitionOutputs = this.stateSize + this.layout.classLogits;
      this.targetSize = this.stateSize + this.layout.inputSize + 2;
    }
    if (config.actionMasks && !(action instanceof Discrete))
      throw new InvalidOptionError(
        'WorldModel.actionMasks',
        true,
        `false for a ${String(action)} action space (masks are over Discrete actions)`,
      );
    this.maskOutputs = config.actionMasks ? this.actionSize : 0;
    this.targetSize += this.maskOutputs;
    this.outputSize = this.transitionOutputs + 2 + this.maskOutputs;
    const init = new Rng(config.seed);
    this.rng = init.spawn();
    this.params = new ParameterSet('worldmodel');
    const mlp = (name: string, inputSize: number, hiddenSizes: number[], outputSize: number) =>
      new Mlp(
        this.params,
        {
          name,
          inputSize,
          hiddenSizes,
          outputSize,
          activation: 'relu',
          init: 'fan-in-uniform',
          ensemble: this.ensembleSize,
        },
        init,
      );
    if (config.backbone === 'grid') {
      const grid = new GridBackbone(
        this.params,
        this.layout,
        {
          grid: config.grid,
          radius: config.gridRadius,
          inputSize: this.inputSize,
          hiddenSize: config.hiddenSize,
          backboneSizes: config.backboneSizes,
          tailOutputs: 2 + this.maskOutputs,
          ensemble: this.ensembleSize,
          option: 'WorldModel.grid',
        },
        init,
      );
      this.network = (params, x) => grid.apply(params, x);
      this.predictNetwork = (params, inputs, members, rowsPerMember, first, rows) =>
        grid.predict(params, inputs, members, rowsPerMember, first, rows);
      // Per pass at most ~2^15 cell rows per member: bounded memory on any grid.
      this.rowsPerPass = Math.max(1, Math.floor(32_768 / grid.cells));
      this.sequenceLength = 1;
    } else if (config.backbone === 'transformer' || config.backbone === 'lm') {
      // sEmb + aEmb (one weight), a causal transformer over the window, then the heads.
      const encoder = mlp('encoder', this.inputSize, [], config.hiddenSize);
      let body: (params: ParameterTensors, embedded: tf.Tensor) => tf.Tensor;
      if (config.backbone === 'lm') {
        const lm = new LmBackbone(
          this.params,
          {
            path: config.languageModel === '' ? shippedModelPath() : config.languageModel,
            tuning: config.lmTuning,
            ensemble: this.ensembleSize,
          },
          init,
        );
        if (config.hiddenSize !== lm.modelSize)
          throw new InvalidOptionError(
            'WorldModel.hiddenSize',
            config.hiddenSize,
            `${lm.modelSize}, the width of the language model of the lm backbone`,
          );
        if (config.contextLength > lm.contextLength)
          throw new InvalidOptionError(
            'WorldModel.contextLength',
            config.contextLength,
            `at most ${lm.contextLength}, the context of the language model of the lm backbone`,
          );
        this.lmBackbone = lm;
        body = (params, embedded) => lm.apply(params, embedded);
      } else {
        if (config.hiddenSize % config.heads !== 0)
          throw new InvalidOptionError(
            'WorldModel.hiddenSize',
            config.hiddenSize,
            `a multiple of heads (${config.heads}) for the transformer backbone`,
          );
        const block = new Transformer(
          this.params,
          {
            name: 'backbone',
            modelSize: config.hiddenSize,
            heads: config.heads,
            layers: config.layers,
            contextLength: config.contextLength,
            ensemble: this.ensembleSize,
          },
          init,
        );
        body = (params, embedded) => block.apply(params, embedded);
      }
      const head = mlp('head', config.hiddenSize, [], this.outputSize);
      const d = config.hiddenSize;
      this.network = (params, x, steps) => {
        const e = this.ensembleSize;
        const rows = x.shape[1]!;
        const embedded = tf.reshape(encoder.apply(params, x), [e, rows / steps, steps, d]);
        const hidden = tf.reshape(body(params, embedded), [e, rows, d]);
        return head.apply(params, hidden, { inputGradient: true });
      };
      this.rowsPerPass = 1024;
      this.sequenceLength = config.contextLength;
    } else {
      if (config.grid.length > 0)
        throw new InvalidOptionError(
          'WorldModel.grid',
          config.grid,
          '[] unless backbone is "grid"',
        );
      // sEmb + aEmb: the state and action encoders are one weight, so their sum is one product.
      const encoder = mlp('encoder', this.inputSize, [], config.hiddenSize);
      const trunk = mlp('backbone', config.hiddenSize, config.backboneSizes, this.outputSize);
      // The encoders train with the backbone: the gradient flows through the trunk's first layer.
      this.network = (params, x) =>
        trunk.apply(params, encoder.apply(params, x), { inputGradient: true });
      this.rowsPerPass = 1024;
      this.sequenceLength = 1;
    }
    if (config.gaussian) {
      const e = this.ensembleSize;
      const d = this.stateSize;
      this.params.add('maxLogVar', [e, 1, d], new Float32Array(e * d).fill(config.maxLogVar));
      this.params.add('minLogVar', [e, 1, d], new Float32Array(e * d).fill(config.minLogVar));
    }
    this.statistics = emptyStatistics(this.stateSize);
    this.eliteList = Int32Array.from({ length: config.elites }, (_, i) => i);
    // Discrete: where each class logit's "current value" one-hot sits in the input.
    this.classInputColumn = new Int32Array(this.layout.classLogits);
    this.classEntry = new Int32Array(this.layout.classLogits);
    this.classLogitOffset = new Int32Array(this.layout.size).fill(-1);
    for (const g of this.layout.groups) {
      g.entries.forEach((entry, j) => {
        this.classLogitOffset[entry] = g.offset + j * g.classes;
        for (let v = 0; v < g.classes; v++) {
          this.classInputColumn[g.offset + j * g.classes + v] = this.layout.inputOffset[entry]! + v;
          this.classEntry[g.offset + j * g.classes + v] = entry;
        }
      });
    }
  }

  /**
   * A world model for `spaces` (Box or MultiBinary observations; Discrete or Box actions).
   * @throws {@link InvalidOptionError} for an unknown option, a value out of range, or unsupported spaces.
   */
  static create(spaces: EnvSpaces, options: WorldModelOptions = {}): WorldModel {
    return new WorldModel(
      spaces,
      resolveConfig('WorldModel', WORLD_MODEL_DEFAULTS, WORLD_MODEL_RULES, options),
    );
  }

  /** Creates the parameters on the tensor backend (once). */
  async ready(): Promise<void> {
    if (this.params.built) return;
    await initBackend();
    this.params.build();
    this.lmBackbone?.loadPretrained(this.params);
  }

  /** The statistics of the data last fitted on. */
  get stats(): Readonly<WorldModelStatistics> {
    return this.statistics;
  }

  /**
   * Members a particle can follow: the elites (in `ts` mode row r follows elite r mod members).
   */
  get members(): number {
    return this.eliteList.length;
  }

  /** The members used for prediction, best first. */
  get elites(): Int32Array {
    return this.eliteList.slice();
  }

  /** Sets the members used for prediction (the trainer picks them on the holdout). */
  setElites(members: readonly number[] | Int32Array): void {
    const list = Int32Array.from(members);
    if (
      list.length < 1 ||
      list.some((m) => !Number.isInteger(m) || m < 0 || m >= this.ensembleSize) ||
      new Set(list).size !== list.length
    )
      throw new InvalidValueError(
        'world model elites',
        formatValue(members),
        `distinct member indices in 0..${this.ensembleSize - 1}`,
      );
    this.eliteList = list;
  }

  /**
   * Sets the normalisation statistics from `count` transitions (rows of states, next states, rewards).
   * Standard deviations are floored at 1e-6 (a constant entry stays 0 in z-units).
   */
  fitStatistics(
    states: Float32Array,
    nextStates: Float32Array,
    rewards: Float32Array,
    count: number,
  ): void {
    const d = this.stateSize;
    const s = emptyStatistics(d);
    s.count = count;
    if (count === 0) {
      this.statistics = s;
      return;
    }
    if (this.layout.kind === 'continuous') {
      const m = new Float64Array(d);
      const dm = new Float64Array(d);
      for (let r = 0; r < count; r++) {
        for (let j = 0; j < d; j++) {
          m[j] = m[j]! + states[r * d + j]!;
          dm[j] = dm[j]! + (nextStates[r * d + j]! - states[r * d + j]!);
        }
      }
      for (let j = 0; j < d; j++) {
        m[j] = m[j]! / count;
        dm[j] = dm[j]! / count;
      }
      const v = new Float64Array(d);
      const dv = new Float64Array(d);
      for (let r = 0; r < count; r++) {
        for (let j = 0; j < d; j++) {
          const a = states[r * d + j]! - m[j]!;
          const b = nextStates[r * d + j]! - states[r * d + j]! - dm[j]!;
          v[j] = v[j]! + a * a;
          dv[j] = dv[j]! + b * b;
        }
      }
      for (let j = 0; j < d; j++) {
        s.stateMean[j] = m[j]!;
        s.stateStd[j] = Math.max(Math.sqrt(v[j]! / count), STD_FLOOR);
        s.deltaMean[j] = dm[j]!;
        s.deltaStd[j] = Math.max(Math.sqrt(dv[j]! / count), STD_FLOOR);
      }
    }
    let rm = 0;
    for (let r = 0; r < count; r++) rm += rewards[r]!;
    rm /= count;
    let rv = 0;
    for (let r = 0; r < count; r++) rv += (rewards[r]! - rm) ** 2;
    s.rewardMean = rm;
    s.rewardStd = Math.max(Math.sqrt(rv / count), STD_FLOOR);
    if (this.layout.kind === 'discrete')
      s.conserved = conservedCounts(this.layout, states, nextStates, count);
    this.statistics = s;
  }

  // ---- encoding ---------------------------------------------------------------------------------

  /** Checks a batch of states and actions; returns the number of rows. */
  private checkBatch(states: Float32Array, actions: Float32Array, what: string): number {
    if (!(states instanceof Float32Array) || states.length % this.stateSize !== 0)
      throw new InvalidValueError(
        `states for ${what}`,
        formatValue(states),
        `a Float32Array of N × ${this.stateSize} values`,
      );
    const n = states.length / this.stateSize;
    const perAction = this.actionSpace instanceof Discrete ? 1 : this.actionSize;
    if (!(actions instanceof Float32Array) || actions.length !== n * perAction)
      throw new InvalidValueError(
        `actions for ${what}`,
        formatValue(actions),
        `a Float32Array of ${n} × ${perAction} values (one action per state row)`,
      );
    this.layout.checkStates(states, n, `state for ${what}`);
    this.checkActions(actions, n, what);
    return n;
  }

  private checkActions(actions: Float32Array, n: number, what: string): void {
    const space = this.actionSpace;
    if (space instanceof Discrete) {
      for (let r = 0; r < n; r++) {
        const a = actions[r]! - space.start;
        if (!Number.isInteger(a) || a < 0 || a >= space.n)
          throw new InvalidValueError(
            `action for ${what} (row ${r})`,
            formatValue(actions[r]),
            String(space),
          );
      }
      return;
    }
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < this.actionSize; j++) {
        const a = actions[r * this.actionSize + j]!;
        if (!(a >= space.low[j]! && a <= space.high[j]!))
          throw new InvalidValueError(
            `action for ${what} (row ${r}, entry ${j})`,
            formatValue(a),
            `${String(space)} (nothing is clipped)`,
          );
      }
    }
  }

  /** Writes the network input of (state row `r`, action row `r`) into `out` at row `outRow`. */
  private encodeRow(
    states: Float32Array,
    actions: Float32Array,
    r: number,
    out: Float32Array,
    outRow: number,
  ): void {
    const d = this.stateSize;
    const base = outRow * this.inputSize;
    let a0: number;
    if (this.layout.kind === 'continuous') {
      const { stateMean, stateStd } = this.statistics;
      for (let j = 0; j < d; j++)
        out[base + j] = (states[r * d + j]! - stateMean[j]!) / stateStd[j]!;
      a0 = base + d;
    } else {
      out.fill(0, base, base + this.inputSize);
      this.layout.encodeDiscrete(states, r, out, base);
      a0 = base + this.layout.inputSize;
    }
    const space = this.actionSpace;
    if (space instanceof Discrete) {
      out.fill(0, a0, a0 + this.actionSize);
      out[a0 + actions[r]! - space.start] = 1;
    } else {
      const m = this.actionSize;
      const bounded = space.isBounded();
      for (let j = 0; j < m; j++) {
        const a = actions[r * m + j]!;
        // Bounded actions are rescaled to [-1, 1]; unbounded ones enter as they are.
        out[a0 + j] = bounded
          ? (2 * (a - space.low[j]!)) / (space.high[j]! - space.low[j]!) - 1
          : a;
      }
    }
  }

  /**
   * Training rows for {@link WorldModel.loss}: `rows[e × perMember + i]` is the transition (an index
   * into the given arrays) that member `e` trains on at position `i`. With a sequence backbone
   * (`sequenceLength` T > 1) each index starts a window: transitions `r … r + T − 1`, which the
   * caller has checked follow each other within one episode ({@link contiguousWindows}).
   * `openLoopSteps` > 1 encodes windows of that many transitions for the open-loop loss (MLP
   * backbone, continuous states; see {@link WorldModel.checkOpenLoop}).
   */
  encodeTraining(
    data: {
      states: Float32Array;
      actions: Float32Array;
      nextStates: Float32Array;
      rewards: Float32Array;
      terminated: Float32Array;
      nextActionMasks?: Uint8Array | undefined;
    },
    rows: Int32Array,
    perMember: number,
    openLoopSteps = 1,
  ): EncodedBatch {
    if (openLoopSteps > 1) this.checkOpenLoop(openLoopSteps);
    const steps = openLoopSteps > 1 ? openLoopSteps : this.sequenceLength;
    const total = rows.length * steps;
    const inputs = new Float32Array(total * this.inputSize);
    const targets = new Float32Array(total * this.targetSize);
    const d = this.stateSize;
    const t = this.targetSize;
    const { deltaMean, deltaStd, rewardMean, rewardStd } = this.statistics;
    for (let k = 0; k < total; k++) {
      const r = rows[Math.floor(k / steps)]! + (k % steps);
      this.encodeRow(data.states, data.actions, r, inputs, k);
      const base = k * t;
      if (this.layout.kind === 'continuous') {
        for (let j = 0; j < d; j++)
          targets[base + j] =
            (data.nextStates[r * d + j]! - data.states[r * d + j]! - deltaMean[j]!) / deltaStd[j]!;
      } else {
        for (let j = 0; j < d; j++)
          targets[base + j] = data.nextStates[r * d + j] === data.states[r * d + j] ? 0 : 1;
        // The next state's encoding (its one-hot values) follows the change mask.
        const scratch = targets.subarray(base + d, base + d + this.layout.inputSize);
        this.layout.encodeDiscrete(data.nextStates, r, scratch, 0);
      }
      const tail = base + t - 2 - this.maskOutputs;
      targets[tail] = (data.rewards[r]! - rewardMean) / rewardStd;
      targets[tail + 1] = data.terminated[r]!;
      for (let a = 0; a < this.maskOutputs; a++)
        targets[tail + 2 + a] = data.nextActionMasks![r * this.maskOutputs + a]!;
    }
    return { inputs, targets, rows: perMember * steps, steps, openLoop: openLoopSteps > 1 };
  }

  /**
   * Throws unless an open-loop loss over `steps` transitions applies: continuous states, MSE
   * heads (not Gaussian) and a backbone without its own sequence (`mlp`).
   * @throws {@link InvalidOptionError} otherwise.
   */
  checkOpenLoop(steps: number): void {
    if (!Number.isSafeInteger(steps) || steps < 1)
      throw new InvalidOptionError('openLoopSteps', steps, 'a positive integer');
    if (steps === 1) return;
    if (this.layout.kind !== 'continuous' || this.config.gaussian || this.sequenceLength > 1)
      throw new InvalidOptionError(
        'openLoopSteps',
        steps,
        `1 for this model (an open-loop loss needs continuous states, MSE heads and the mlp backbone; it has ${this.layout.kind} states, gaussian ${this.config.gaussian}, backbone ${this.config.backbone})`,
      );
  }

  /**
   * The open-loop losses of windows of `batch.steps` transitions, per member: step 0 starts from
   * the true state, every later step from the state the model predicted (in the graph, so the
   * gradient runs through the whole window), with the true actions. Each step's error is the
   * predicted next state's distance to the true one in delta z-units (so step 0 is the one-step
   * loss); reward and termination losses are those of the predicted states. Means over steps.
   */
  private openLoopLosses(
    params: ParameterTensors,
    batch: EncodedBatch,
  ): WorldModelLosses<tf.Tensor1D> {
    const e = this.ensembleSize;
    const h = batch.steps;
    const windows = batch.rows / h;
    const d = this.stateSize;
    const width = this.inputSize;
    const { stateMean, stateStd, deltaMean, deltaStd } = this.statistics;
    const sm = tf.tensor1d(stateMean);
    const ss = tf.tensor1d(stateStd);
    const dm = tf.tensor1d(deltaMean);
    const ds = tf.tensor1d(deltaStd);
    const x = tf.reshape(tf.tensor3d(batch.inputs, [e, batch.rows, width]), [e, windows, h, width]);
    const y = tf.reshape(tf.tensor3d(batch.targets, [e, batch.rows, this.targetSize]), [
      e,
      windows,
      h,
      this.targetSize,
    ]);
    const at = (t: tf.Tensor, step: number, from: number, size: number): tf.Tensor3D =>
      tf.reshape(tf.slice(t, [0, 0, step, from], [e, windows, 1, size]), [e, windows, size]);
    // True and predicted states in env units.
    let truth: tf.Tensor = tf.add(tf.mul(at(x, 0, 0, d), ss), sm);
    let predicted: tf.Tensor = truth;
    let transition: tf.Tensor = tf.zeros([e]);
    let reward: tf.Tensor = tf.zeros([e]);
    let done: tf.Tensor = tf.zeros([e]);
    let mask: tf.Tensor = tf.zeros([e]);
    const m = this.maskOutputs;
    const meanOver = (t: tf.Tensor): tf.Tensor => tf.mean(tf.reshape(t, [e, -1]), 1);
    for (let step = 0; step < h; step++) {
      const input =
        step === 0
          ? at(x, 0, 0, width)
          : tf.concat([tf.div(tf.sub(predicted, sm), ss), at(x, step, d, width - d)], 2);
      const out = this.network(params, input, 1);
      const nextPredicted = tf.add(
        predicted,
        tf.add(dm, tf.mul(ds, tf.slice(out, [0, 0, 0], [e, windows, d]))),
      );
      const nextTruth = tf.add(truth, tf.add(dm, tf.mul(ds, at(y, step, 0, d))));
      transition = tf.add(
        transition,
        meanOver(tf.square(tf.div(tf.sub(nextPredicted, nextTruth), ds))),
      );
      reward = tf.add(
        reward,
        meanOver(tf.square(tf.sub(tf.slice(out, [0, 0, d], [e, windows, 1]), at(y, step, d, 1)))),
      );
      done = tf.add(
        done,
        meanOver(
          sigmoidCrossEntropy(tf.slice(out, [0, 0, d + 1], [e, windows, 1]), at(y, step, d + 1, 1)),
        ),
      );
      if (m > 0)
        mask = tf.add(
          mask,
          meanOver(
            tf.sum(
              sigmoidCrossEntropy(
                tf.slice(out, [0, 0, d + 2], [e, windows, m]),
                at(y, step, d + 2, m),
              ),
              2,
            ),
          ),
        );
      predicted = nextPredicted;
      truth = nextTruth;
    }
    const scale = (t: tf.Tensor): tf.Tensor1D => tf.div<tf.Tensor1D>(t, h);
    const l = {
      transition: scale(transition),
      reward: scale(reward),
      done: scale(done),
      mask: scale(mask),
    };
    return { ...l, total: tf.add(tf.add(tf.add(l.transition, l.reward), l.done), l.mask) };
  }

  // ---- the network ------------------------------------------------------------------------------

  /**
   * The losses of a training batch (inside `tf.tidy` or a gradient scope): each member's mean
   * over its rows, summed over members (so every member learns as a single model would).
   */
  loss(params: ParameterTensors, batch: EncodedBatch): WorldModelLosses<tf.Scalar> {
    const l = this.memberLosses(params, batch);
    return {
      total: tf.sum<tf.Scalar>(l.total),
      transition: tf.sum<tf.Scalar>(l.transition),
      reward: tf.sum<tf.Scalar>(l.reward),
      done: tf.sum<tf.Scalar>(l.done),
      mask: tf.sum<tf.Scalar>(l.mask),
    };
  }

  /** The losses of each member, `[members]` each (the trainer's holdout ranks members by `total`). */
  memberLosses(params: ParameterTensors, batch: EncodedBatch): WorldModelLosses<tf.Tensor1D> {
    if (batch.openLoop === true) return this.openLoopLosses(params, batch);
    const e = this.ensembleSize;
    const b = batch.rows;
    const d = this.stateSize;
    const x = tf.tensor3d(batch.inputs, [e, b, this.inputSize]);
    const y = tf.tensor3d(batch.targets, [e, b, this.targetSize]);
    const out = this.network(params, x, batch.steps);
    const perMember = (t: tf.Tensor): tf.Tensor1D =>
      tf.reshape(tf.mean(tf.reshape(t, [e, -1]), 1), [e]);
    const rewardOut = tf.slice(out, [0, 0, this.transitionOutputs], [e, b, 1]);
    const doneOut = tf.slice(out, [0, 0, this.transitionOutputs + 1], [e, b, 1]);
    const tail = this.targetSize - 2 - this.maskOutputs;
    const rewardTarget = tf.slice(y, [0, 0, tail], [e, b, 1]);
    const doneTarget = tf.slice(y, [0, 0, tail + 1], [e, b, 1]);
    const reward = perMember(tf.square(tf.sub(rewardOut, rewardTarget)));
    const done = perMember(sigmoidCrossEntropy(doneOut, doneTarget));
    const m = this.maskOutputs;
    const mask =
      m > 0
        ? perMember(
            tf.sum(
              sigmoidCrossEntropy(
                tf.slice(out, [0, 0, this.transitionOutputs + 2], [e, b, m]),
                tf.slice(y, [0, 0, tail + 2], [e, b, m]),
              ),
              2,
            ),
          )
        : tf.zeros<tf.Rank.R1>([e]);
    let transition: tf.Tensor1D;
    let penalty: tf.Tensor1D | undefined;
    if (this.layout.kind === 'continuous') {
      const target = tf.slice(y, [0, 0, 0], [e, b, d]);
      const mean = tf.slice(out, [0, 0, 0], [e, b, d]);
      if (this.config.gaussian) {
        const logVar = this.boundLogVar(params, tf.slice(out, [0, 0, d], [e, b, d]));
        const err = tf.square(tf.sub(mean, target));
        transition = perMember(tf.add(tf.mul(err, tf.exp(tf.neg(logVar))), logVar));
        penalty = tf.mul<tf.Tensor1D>(
          tf.sub(
            tf.sum(tf.reshape(params['maxLogVar']!, [e, d]), 1),
            tf.sum(tf.reshape(params['minLogVar']!, [e, d]), 1),
          ),
          LOG_VAR_PENALTY,
        );
      } else {
        transition = perMember(tf.square(tf.sub(mean, target)));
      }
    } else {
      // Bernoulli "does entry i change?" summed over entries, mean over rows.
      const changeLogit = tf.slice(out, [0, 0, 0], [e, b, d]);
      const changed = tf.slice(y, [0, 0, 0], [e, b, d]);
      let perRow = tf.sum(sigmoidCrossEntropy(changeLogit, changed), 2);
      if (this.layout.classLogits > 0) {
        // Categorical "what does it become?" over the values other than the current one, on changed entries.
        const logits = tf.slice(out, [0, 0, d], [e, b, this.layout.classLogits]);
        const columns = tf.tensor1d(this.classInputColumn, 'int32');
        const current = tf.gather(x, columns, 2);
        const nextEncoded = tf.slice(y, [0, 0, d], [e, b, this.layout.inputSize]);
        const entryChanged = tf.gather(changed, tf.tensor1d(this.classEntry, 'int32'), 2);
        const target = tf.mul(tf.gather(nextEncoded, columns, 2), entryChanged);
        const masked = tf.add(logits, tf.mul(current, -1e9));
        let ce: tf.Tensor = tf.zeros([e, b]);
        for (const g of this.layout.groups) {
          const size = g.entries.length * g.classes;
          const shape = [e, b, g.entries.length, g.classes];
          const logP = tf.logSoftmax(
            tf.reshape(tf.slice(masked, [0, 0, g.offset], [e, b, size]), shape),
          );
          const tg = tf.reshape(tf.slice(target, [0, 0, g.offset], [e, b, size]), shape);
          // the target is never the masked current value; the floor keeps 0·(−1e9) out of the sum
          ce = tf.sub(ce, tf.sum(tf.mul(tg, tf.maximum(logP, -1e4)), [2, 3]));
        }
        perRow = tf.add(perRow, ce);
      }
      transition = perMember(perRow);
    }
    let total: tf.Tensor1D = tf.add(tf.add(tf.add(transition, reward), done), mask);
    if (penalty !== undefined) total = tf.add(total, penalty);
    return { total, transition, reward, done, mask };
  }

  /** PETS' soft bounds: `max − softplus(max − x)`, then `min + softplus(· − min)`. */
  private boundLogVar(params: ParameterTensors, raw: tf.Tensor): tf.Tensor {
    const max = params['maxLogVar']!;
    const min = params['minLogVar']!;
    const upper = tf.sub(max, tf.softplus(tf.sub(max, raw)));
    return tf.add(min, tf.softplus(tf.sub(upper, min)));
  }

  /**
   * Runs the network on `n` rows of (states, actions): `[members, n, out]` (mean) or
   * `[members, ⌈n/elites⌉, out]` (ts). With `context` (sequence backbones), each row's sequence is
   * its context steps followed by the current (state, action), and the outputs are the last
   * position's; `current` holds each row's encoded (state, action), `[n × inputSize]`.
   */
  private forward(
    states: Float32Array,
    actions: Float32Array,
    n: number,
    ts: boolean,
    context?: { inputs: Float32Array; steps: number },
  ): { out: Float32Array; perMember: number; current: Float32Array } {
    const e = this.ensembleSize;
    const elites = this.eliteList;
    const width = this.inputSize;
    const past = context?.steps ?? 0;
    const steps = past + 1;
    const perMember = ts ? Math.ceil(n / elites.length) : n;
    const inputs = new Float32Array((ts ? e : 1) * perMember * steps * width);
    const current = new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      const slot = ts ? elites[r % elites.length]! * perMember + Math.floor(r / elites.length) : r;
      if (past > 0)
        inputs.set(
          context!.inputs.subarray(r * past * width, (r + 1) * past * width),
          slot * steps * width,
        );
      this.encodeRow(states, actions, r, inputs, slot * steps + past);
      current.set(
        inputs.subarray((slot * steps + past) * width, (slot * steps + steps) * width),
        r * width,
      );
    }
    const params = this.params.views();
    const logVarNeeded = ts && this.config.gaussian;
    const members = ts ? e : 1;
    const o = this.outputSize;
    const out = new Float32Array(e * perMember * o);
    const fast = this.predictNetwork !== null && steps === 1;
    const x = fast ? null : tf.tensor3d(inputs, [members, perMember * steps, width]);
    // In chunks of rowsPerPass rows per member (one pass for the MLP on a planner's batch).
    const chunkRows = Math.max(1, Math.floor(this.rowsPerPass / steps));
    for (let q0 = 0; q0 < perMember; q0 += chunkRows) {
      const q = Math.min(chunkRows, perMember - q0);
      let values: Float32Array;
      if (x === null) values = this.predictNetwork!(params, inputs, members, perMember, q0, q);
      else {
        const result = tf.tidy(() => {
          const chunk =
            q === perMember ? x : tf.slice(x, [0, q0 * steps, 0], [members, q * steps, width]);
          let raw = this.network(params, chunk, steps);
          if (steps > 1)
            raw = tf.reshape(
              tf.slice(tf.reshape(raw, [e, q, steps, o]), [0, 0, past, 0], [e, q, 1, o]),
              [e, q, o],
            );
          if (!logVarNeeded) return raw;
          // Replace the raw log-variance columns by their bounded values.
          const d = this.stateSize;
          const mean = tf.slice(raw, [0, 0, 0], [e, q, d]);
          const logVar = this.boundLogVar(params, tf.slice(raw, [0, 0, d], [e, q, d]));
          const rest = tf.slice(raw, [0, 0, 2 * d], [e, q, 2]);
          return tf.concat([mean, logVar, rest], 2);
        });
        values = result.dataSync() as Float32Array;
        result.dispose();
      }
      if (q === perMember) out.set(values);
      else
        for (let m = 0; m < e; m++)
          out.set(values.subarray(m * q * o, (m + 1) * q * o), (m * perMember + q0) * o);
    }
    x?.dispose();
    return { out, perMember, current };
  }

  // ---- prediction -------------------------------------------------------------------------------

  /**
   * Predicts next states, rewards, terminations and disagreement for N rows in one pass.
   * `states` `[N × stateSize]`, `actions` `[N × actionDim]` (Box, env units) or `[N]` (Discrete values).
   * @throws {@link InvalidValueError} for a malformed batch or an action outside the action space.
   */
  predict(
    states: Float32Array,
    actions: Float32Array,
    options: ImagineStepOptions = {},
  ): WorldModelPrediction {
    this.requireReady();
    const n = this.checkBatch(states, actions, 'WorldModel.predict');
    const { nextStates, rewards, dones, doneProbabilities, disagreement, actionMasks } =
      this.predictRows(states, actions, n, options.members ?? 'mean');
    return { nextStates, rewards, dones, doneProbabilities, disagreement, actionMasks };
  }

  /** The study's `predict_next_state`: next states `[N × stateSize]`. */
  predictNextState(states: Float32Array, actions: Float32Array): Float32Array {
    return this.predict(states, actions).nextStates;
  }

  /** The study's `predict_reward`: rewards `[N]`. */
  predictReward(states: Float32Array, actions: Float32Array): Float32Array {
    return this.predict(states, actions).rewards;
  }

  /**
   * Per-entry probabilities of the next state's values (discrete states), `[N × probabilitySize]`
   * in {@link StateLayout.probabilityOffset} order: the elites' mean of
   * `P(v) = (1 − p_change)·[v = current] + p_change·q(v)`, q the categorical over the other values.
   * Fusion with a prior blends these before snapping ({@link StateLayout.snap}).
   */
  predictProbabilities(
    states: Float32Array,
    actions: Float32Array,
  ): { probabilities: Float32Array; rewards: Float32Array; doneProbabilities: Float32Array } {
    this.requireReady();
    if (this.layout.kind !== 'discrete')
      throw new InvalidStateError(
        'WorldModel.predictProbabilities',
        'a discrete state layout',
        'a continuous one',
      );
    const n = this.checkBatch(states, actions, 'WorldModel.predictProbabilities');
    const { out } = this.forward(states, actions, n, false);
    const probabilities = new Float32Array(n * this.layout.probabilitySize);
    const rewards = new Float32Array(n);
    const doneProbabilities = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      this.discreteProbabilities(out, n, r, states, probabilities, r);
      const [rw, dp] = this.rewardAndDone(out, n, r);
      rewards[r] = rw;
      doneProbabilities[r] = dp;
    }
    return { probabilities, rewards, doneProbabilities };
  }

  private requireReady(): void {
    if (!this.params.built)
      throw new InvalidStateError(
        'WorldModel',
        'await model.ready() before predicting',
        'an unbuilt model',
      );
  }

  private predictRows(
    states: Float32Array,
    actions: Float32Array,
    n: number,
    members: MemberChoice,
    context?: { inputs: Float32Array; steps: number },
  ): WorldModelPrediction & { current: Float32Array } {
    const ts = members === 'ts';
    const { out, perMember, current } = this.forward(states, actions, n, ts, context);
    const d = this.stateSize;
    const o = this.outputSize;
    const nextStates = new Float32Array(n * d);
    const rewards = new Float32Array(n);
    const dones = new Uint8Array(n);
    const doneProbabilities = new Float32Array(n);
    const disagreement = new Float32Array(n);
    const elites = this.eliteList;
    const { deltaMean, deltaStd, rewardMean, rewardStd } = this.statistics;
    const m = this.maskOutputs;
    const actionMasks = m > 0 ? new Uint8Array(n * m) : undefined;
    const maskAt = this.transitionOutputs + 2;
    for (let r = 0; r < n; r++) {
      if (actionMasks !== undefined) {
        // Logit > 0 ⇔ probability > ½ (one member in ts mode, the elites' mean otherwise).
        const own = ts
          ? (elites[r % elites.length]! * perMember + Math.floor(r / elites.length)) * o + maskAt
          : 0;
        for (let a = 0; a < m; a++) {
          let allowed: boolean;
          if (ts) {
            allowed = out[own + a]! > 0;
          } else {
            let sum = 0;
            for (const member of elites) sum += sigmoid(out[(member * n + r) * o + maskAt + a]!);
            allowed = sum / elites.length > 0.5;
          }
          actionMasks[r * m + a] = allowed ? 1 : 0;
        }
      }
      if (ts) {
        const base = (elites[r % elites.length]! * perMember + Math.floor(r / elites.length)) * o;
        if (this.layout.kind === 'continuous') {
          for (let j = 0; j < d; j++) {
            let z = out[base + j]!;
            if (this.config.gaussian) z += Math.exp(0.5 * out[base + d + j]!) * this.rng.normal();
            nextStates[r * d + j] = states[r * d + j]! + deltaMean[j]! + deltaStd[j]! * z;
          }
        } else {
          this.snapMember(out, base, states, r, nextStates);
        }
        rewards[r] = rewardMean + rewardStd * out[base + this.transitionOutputs]!;
        doneProbabilities[r] = sigmoid(out[base + this.transitionOutputs + 1]!);
      } else {
        if (this.layout.kind === 'continuous') {
          let spread = 0;
          for (let j = 0; j < d; j++) {
            let sum = 0;
            let sq = 0;
            for (const member of elites) {
              const z = out[(member * n + r) * o + j]!;
              sum += z;
              sq += z * z;
            }
            const mean = sum / elites.length;
            spread += Math.sqrt(Math.max(sq / elites.length - mean * mean, 0));
            nextStates[r * d + j] = states[r * d + j]! + deltaMean[j]! + deltaStd[j]! * mean;
          }
          disagreement[r] = spread / d;
        } else {
          disagreement[r] = this.snapMean(out, n, r, states, nextStates);
        }
        const [rw, dp] = this.rewardAndDone(out, n, r);
        rewards[r] = rw;
        doneProbabilities[r] = dp;
      }
      dones[r] = doneProbabilities[r]! > 0.5 ? 1 : 0;
    }
    return { nextStates, rewards, dones, doneProbabilities, disagreement, actionMasks, current };
  }

  /** Rows of `p` whose next state breaks a conservation law of `states`: termination, no reward. */
  private haltBroken(states: Float32Array, p: WorldModelPrediction, n: number): void {
    const conserved = this.statistics.conserved;
    if (conserved.length === 0) return;
    const layout = this.layout;
    // Only the groups that hold a law are counted.
    const used = [...new Set(conserved.filter((_, i) => i % 2 === 0))];
    const before = layout.groups.map((g) => new Int32Array(g.classes));
    const after = layout.groups.map((g) => new Int32Array(g.classes));
    for (let r = 0; r < n; r++) {
      for (const gi of used) {
        histogram(layout, layout.groups[gi]!, states, r, before[gi]!);
        histogram(layout, layout.groups[gi]!, p.nextStates, r, after[gi]!);
      }
      let broken = false;
      for (let c = 0; c < conserved.length && !broken; c += 2)
        broken =
          before[conserved[c]!]![conserved[c + 1]!] !== after[conserved[c]!]![conserved[c + 1]!];
      if (!broken) continue;
      p.rewards[r] = 0;
      p.dones[r] = 1;
      p.doneProbabilities[r] = 1;
    }
  }

  /** The elites' mean reward and termination probability of row r (mean mode). */
  private rewardAndDone(out: Float32Array, n: number, r: number): [number, number] {
    const elites = this.eliteList;
    const o = this.outputSize;
    let reward = 0;
    let done = 0;
    for (const member of elites) {
      const base = (member * n + r) * o + this.transitionOutputs;
      reward += out[base]!;
      done += sigmoid(out[base + 1]!);
    }
    const { rewardMean, rewardStd } = this.statistics;
    return [rewardMean + (rewardStd * reward) / elites.length, done / elites.length];
  }

  /** Discrete, one member's output at `base`: the most likely next value per entry → `next` row r. */
  private snapMember(
    out: Float32Array,
    base: number,
    states: Float32Array,
    r: number,
    next: Float32Array,
  ): void {
    const d = this.stateSize;
    const layout = this.layout;
    for (let i = 0; i < d; i++) next[r * d + i] = states[r * d + i]!;
    for (let i = 0; i < d; i++) {
      const pc = sigmoid(out[base + i]!);
      if (pc <= 0.5) continue;
      if (layout.classes[i] === 2)
        next[r * d + i] = layout.low[i]! + 1 - (states[r * d + i]! - layout.low[i]!);
    }
    for (const g of layout.groups) {
      g.entries.forEach((entry, j) => {
        const pc = sigmoid(out[base + entry]!);
        if (pc <= 0.5) return; // P(current) = 1 − pc ≥ ½ beats every other value
        const cur = states[r * d + entry]! - layout.low[entry]!;
        const o0 = base + d + g.offset + j * g.classes;
        const q = softmaxExcept(out, o0, g.classes, cur);
        let best = cur;
        let bestP = 1 - pc;
        for (let v = 0; v < g.classes; v++) {
          if (v !== cur && pc * q[v]! > bestP) {
            bestP = pc * q[v]!;
            best = v;
          }
        }
        next[r * d + entry] = best + layout.low[entry]!;
      });
    }
  }

  /** Discrete, mean mode: the elites' mean distribution per entry, snapped → `next` row r; returns the disagreement. */
  private snapMean(
    out: Float32Array,
    n: number,
    r: number,
    states: Float32Array,
    next: Float32Array,
  ): number {
    const d = this.stateSize;
    const o = this.outputSize;
    const layout = this.layout;
    const elites = this.eliteList;
    const m = elites.length;
    let spread = 0;
    const pcMean = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let sum = 0;
      let sq = 0;
      for (let k = 0; k < m; k++) {
        const p = sigmoid(out[(elites[k]! * n + r) * o + i]!);
        sum += p;
        sq += p * p;
      }
      const mean = sum / m;
      pcMean[i] = mean;
      spread += Math.sqrt(Math.max(sq / m - mean * mean, 0));
      next[r * d + i] = states[r * d + i]!;
      if (layout.classes[i] === 2 && mean > 0.5)
        next[r * d + i] = layout.low[i]! + 1 - (states[r * d + i]! - layout.low[i]!);
    }
    for (const g of layout.groups) {
      g.entries.forEach((entry, j) => {
        const pc = pcMean[entry]!;
        if (pc <= 0.5) return;
        const cur = states[r * d + entry]! - layout.low[entry]!;
        const p = new Float64Array(g.classes);
        for (let k = 0; k < m; k++) {
          const base = (elites[k]! * n + r) * o;
          const pk = sigmoid(out[base + entry]!);
          const q = softmaxExcept(out, base + d + g.offset + j * g.classes, g.classes, cur);
          for (let v = 0; v < g.classes; v++) p[v] = p[v]! + (pk * q[v]!) / m;
        }
        let best = cur;
        let bestP = 1 - pc;
        for (let v = 0; v < g.classes; v++) {
          if (v !== cur && p[v]! > bestP) {
            bestP = p[v]!;
            best = v;
          }
        }
        next[r * d + entry] = best + layout.low[entry]!;
      });
    }
    return spread;
  }

  /** Discrete, mean mode: the full per-entry distribution of row r → `probs` row `outRow`. */
  private discreteProbabilities(
    out: Float32Array,
    n: number,
    r: number,
    states: Float32Array,
    probs: Float32Array,
    outRow: number,
  ): void {
    const d = this.stateSize;
    const o = this.outputSize;
    const layout = this.layout;
    const elites = this.eliteList;
    const m = elites.length;
    const p0 = outRow * layout.probabilitySize;
    probs.fill(0, p0, p0 + layout.probabilitySize);
    for (let i = 0; i < d; i++) {
      const cur = states[r * d + i]! - layout.low[i]!;
      const off = p0 + layout.probabilityOffset[i]!;
      if (layout.classes[i] === 1) {
        probs[off] = 1; // an entry with one value never changes
        continue;
      }
      for (let k = 0; k < m; k++) {
        const base = (elites[k]! * n + r) * o;
        const pc = sigmoid(out[base + i]!);
        probs[off + cur] = probs[off + cur]! + (1 - pc) / m;
        if (layout.classes[i] === 2) {
          probs[off + 1 - cur] = probs[off + 1 - cur]! + pc / m;
        } else {
          const classes = layout.classes[i]!;
          const q = softmaxExcept(out, base + d + this.classLogitOffset[i]!, classes, cur);
          for (let v = 0; v < classes; v++)
            if (v !== cur) probs[off + v] = probs[off + v]! + (pc * q[v]!) / m;
        }
      }
    }
  }

  // ---- imagination (the planner's interface) ----------------------------------------------------

  /** A batch of the given state rows. */
  batch(states: readonly Float32Array[]): ModelBatch {
    const d = this.stateSize;
    const out = new Float32Array(states.length * d);
    states.forEach((s, i) => {
      if (!(s instanceof Float32Array) || s.length !== d)
        throw new InvalidValueError(
          'state for WorldModel.batch',
          formatValue(s),
          `a Float32Array of ${d} values`,
        );
      out.set(s, i * d);
    });
    return { states: out, n: states.length };
  }

  /**
   * A batch of `states` whose rows carry the real (state, action) steps that led to them, for a
   * sequence backbone (`transformer`): `history.states` `[n × steps × stateSize]` and
   * `history.actions` `[n × steps × actionDim]`, oldest first; only the newest
   * `contextLength − 1` steps are kept (none for other backbones).
   * @throws {@link InvalidValueError} for arrays of other sizes or values outside the spaces.
   */
  historyBatch(
    states: Float32Array,
    history: { states: Float32Array; actions: Float32Array; steps: number },
  ): ModelBatch {
    const d = this.stateSize;
    const n = states.length / d;
    const { steps } = history;
    const perAction = this.actionSpace instanceof Discrete ? 1 : this.actionSize;
    if (!Number.isSafeInteger(n) || !Number.isSafeInteger(steps) || steps < 0)
      throw new InvalidValueError(
        'states for WorldModel.historyBatch',
        `${states.length} values, ${formatValue(steps)} history steps`,
        `N × ${d} values and a non-negative integer number of steps`,
      );
    this.layout.checkStates(states, n, 'state for WorldModel.historyBatch');
    if (history.states.length !== n * steps * d || history.actions.length !== n * steps * perAction)
      throw new InvalidValueError(
        'history for WorldModel.historyBatch',
        `${history.states.length} state and ${history.actions.length} action values`,
        `${n} × ${steps} × ${d} state and ${n} × ${steps} × ${perAction} action values`,
      );
    this.layout.checkStates(history.states, n * steps, 'history state');
    this.checkActions(history.actions, n * steps, 'WorldModel.historyBatch');
    const keep = Math.min(steps, this.sequenceLength - 1);
    if (keep === 0) return { states: states.slice(), n };
    const context = new Float32Array(n * keep * this.inputSize);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < keep; j++) {
        const source = r * steps + steps - keep + j;
        this.encodeRow(history.states, history.actions, source, context, r * keep + j);
      }
    return { states: states.slice(), n, context, contextSteps: keep };
  }

  /** Rows in a batch. */
  size(batch: ModelBatch): number {
    return batch.n;
  }

  /** The given rows of a batch, in order. */
  select(batch: ModelBatch, rows: Int32Array): ModelBatch {
    const d = this.stateSize;
    const out = new Float32Array(rows.length * d);
    for (let i = 0; i < rows.length; i++)
      out.set(batch.states.subarray(rows[i]! * d, rows[i]! * d + d), i * d);
    const steps = batch.contextSteps ?? 0;
    if (batch.context === undefined || steps === 0) return { states: out, n: rows.length };
    const w = steps * this.inputSize;
    const context = new Float32Array(rows.length * w);
    for (let i = 0; i < rows.length; i++)
      context.set(batch.context.subarray(rows[i]! * w, rows[i]! * w + w), i * w);
    return { states: out, n: rows.length, context, contextSteps: steps };
  }

  /**
   * One imagined step for every row (one network pass). A discrete step that breaks a
   * conservation law of the training data ({@link WorldModelStatistics.conserved}: an agent that
   * vanishes or doubles, a wall that moves) halts, as MOReL's pessimistic model does with states it
   * does not know: it is reported as a termination (probability 1) with no reward, so a planner
   * neither follows the impossible state nor credits what the heads predict there (a model asked
   * about a state it never saw, a grid without its agent, can predict a win). A model with
   * `actionMasks` also gives each next state's allowed actions ({@link ImaginedStep.actionMasks}).
   */
  step(
    batch: ModelBatch,
    actions: Float32Array,
    options: ImagineStepOptions = {},
  ): ImaginedStep<ModelBatch> {
    this.requireReady();
    const perAction = this.actionSpace instanceof Discrete ? 1 : this.actionSize;
    if (!(actions instanceof Float32Array) || actions.length !== batch.n * perAction)
      throw new InvalidValueError(
        'actions for WorldModel.step',
        formatValue(actions),
        `a Float32Array of ${batch.n} × ${perAction} values`,
      );
    this.checkActions(actions, batch.n, 'WorldModel.step');
    const past = batch.context === undefined ? 0 : (batch.contextSteps ?? 0);
    const p = this.predictRows(
      batch.states,
      actions,
      batch.n,
      options.members ?? 'mean',
      past > 0 ? { inputs: batch.context!, steps: past } : undefined,
    );
    this.haltBroken(batch.states, p, batch.n);
    const next: ModelBatch = { states: p.nextStates, n: batch.n };
    // A sequence backbone carries the imagined (state, action) inputs forward, at most T − 1.
    const keep = Math.min(past + 1, this.sequenceLength - 1);
    if (keep > 0) {
      const w = this.inputSize;
      const context = new Float32Array(batch.n * keep * w);
      for (let r = 0; r < batch.n; r++) {
        // The newest `keep` of (context steps, current), oldest first.
        const fromPast = keep - 1;
        if (fromPast > 0)
          context.set(
            batch.context!.subarray((r * past + past - fromPast) * w, (r * past + past) * w),
            r * keep * w,
          );
        context.set(p.current.subarray(r * w, (r + 1) * w), (r * keep + fromPast) * w);
      }
      next.context = context;
      next.contextSteps = keep;
    }
    return {
      states: next,
      rewards: p.rewards,
      dones: p.dones,
      doneProbabilities: p.doneProbabilities,
      disagreement: p.disagreement,
      actionMasks: p.actionMasks,
    };
  }

  /** The row's values as text (equal strings = equal states). */
  key(batch: ModelBatch, row: number): string {
    const d = this.stateSize;
    return Array.prototype.join.call(batch.states.subarray(row * d, row * d + d), ',');
  }

  /**
   * The study's `imagine`: from N start states, `horizon` steps following `policy` (a batched
   * function from state rows to action rows). Rewards after a predicted termination are 0 and
   * `alive` marks the steps taken before it.
   */
  imagine(
    states: Float32Array,
    policy: (states: Float32Array, n: number) => Float32Array,
    horizon: number,
    options: ImagineStepOptions = {},
  ): {
    states: Float32Array[];
    actions: Float32Array[];
    rewards: Float32Array[];
    alive: Uint8Array[];
  } {
    this.requireReady();
    if (!Number.isSafeInteger(horizon) || horizon < 1)
      throw new InvalidOptionError('WorldModel.imagine horizon', horizon, 'a positive integer');
    if (
      !(states instanceof Float32Array) ||
      states.length % this.stateSize !== 0 ||
      states.length === 0
    )
      throw new InvalidValueError(
        'states for WorldModel.imagine',
        formatValue(states),
        `a Float32Array of N × ${this.stateSize} values`,
      );
    const n = states.length / this.stateSize;
    this.layout.checkStates(states, n, 'state for WorldModel.imagine');
    const out = {
      states: [states.slice()] as Float32Array[],
      actions: [] as Float32Array[],
      rewards: [] as Float32Array[],
      alive: [] as Uint8Array[],
    };
    let current: Float32Array = out.states[0]!;
    let alive = new Uint8Array(n).fill(1);
    for (let h = 0; h < horizon; h++) {
      const actions = policy(current, n);
      const s = this.step({ states: current, n }, actions, options);
      const rewards = s.rewards.slice();
      for (let r = 0; r < n; r++) if (alive[r] === 0) rewards[r] = 0;
      out.actions.push(actions);
      out.rewards.push(rewards);
      out.alive.push(alive);
      const nextAlive = new Uint8Array(n);
      for (let r = 0; r < n; r++) nextAlive[r] = alive[r]! && !s.dones[r] ? 1 : 0;
      alive = nextAlive;
      current = s.states.states;
      out.states.push(current);
    }
    return out;
  }

  // ---- persistence ------------------------------------------------------------------------------

  /** Writes parameters, statistics, elites and the generator into `dir` (`agent.json` + `agent.bin`), atomically per file. */
  async save(dir: string): Promise<void> {
    await this.ready();
    mkdirSync(dir, { recursive: true });
    writeAgentFile(dir, {
      kind: 'worldmodel',
      config: this.config,
      spaces: this.spaces,
      tensors: { params: this.params.read() },
      state: { statistics: this.statistics, elites: [...this.eliteList], rng: this.rng.getState() },
    });
  }

  /**
   * Restores {@link WorldModel.save}.
   * @throws {@link InvalidStateError} when `dir` holds a model of another config or spaces.
   * @throws {@link MalformedFileError} for missing or damaged files.
   */
  async load(dir: string): Promise<void> {
    await this.ready();
    const saved = readAgentFile(dir, {
      kind: 'worldmodel',
      config: this.config,
      spaces: this.spaces,
      tensors: { params: this.params.size },
    });
    const state = saved.state as {
      statistics: WorldModelStatistics;
      elites: number[];
      rng: unknown;
    };
    this.params.write(saved.tensors['params']!);
    const conserved = (state.statistics as Partial<WorldModelStatistics>).conserved ?? [];
    this.statistics = { ...state.statistics, conserved };
    this.setElites(state.elites);
    this.rng = saved.rng(state.rng);
  }

  /** Releases the parameters. */
  dispose(): void {
    this.params.dispose();
    this.lmBackbone?.dispose();
  }
}

function emptyStatistics(d: number): WorldModelStatistics {
  return {
    stateMean: new Array<number>(d).fill(0),
    stateStd: new Array<number>(d).fill(1),
    deltaMean: new Array<number>(d).fill(0),
    deltaStd: new Array<number>(d).fill(1),
    rewardMean: 0,
    rewardStd: 1,
    count: 0,
    conserved: [],
  };
}

/** The (group, value) pairs of `layout` whose count no transition of the data changed; see {@link WorldModelStatistics.conserved}. */
function conservedCounts(
  layout: StateLayout,
  states: Float32Array,
  nextStates: Float32Array,
  count: number,
): number[] {
  const out: number[] = [];
  layout.groups.forEach((g, gi) => {
    const k = g.classes;
    const present = new Uint8Array(k);
    const changed = new Uint8Array(k);
    const before = new Int32Array(k);
    const after = new Int32Array(k);
    for (let r = 0; r < count; r++) {
      histogram(layout, g, states, r, before);
      histogram(layout, g, nextStates, r, after);
      for (let v = 0; v < k; v++) {
        if (before[v]! > 0) present[v] = 1;
        if (before[v] !== after[v]) changed[v] = 1;
      }
    }
    for (let v = 0; v < k; v++) if (present[v] === 1 && changed[v] === 0) out.push(gi, v);
  });
  return out;
}

/** Counts of each value of group `g` in row `r` of `rows` → `into`. */
function histogram(
  layout: StateLayout,
  g: ClassGroup,
  rows: Float32Array,
  r: number,
  into: Int32Array,
): void {
  into.fill(0);
  const base = r * layout.size;
  for (const entry of g.entries) {
    const v = rows[base + entry]! - layout.low[entry]!;
    into[v] = into[v]! + 1;
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** max(x, 0) − x·z + log(1 + e^−|x|): binary cross-entropy on logits. */
function sigmoidCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(
    tf.sub(tf.relu(logits), tf.mul(logits, targets)),
    tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
  );
}

/** Softmax of `k` logits at `out[o0..]` over every value but `skip` (which gets 0). */
function softmaxExcept(out: Float32Array, o0: number, k: number, skip: number): Float64Array {
  const q = new Float64Array(k);
  let max = -Infinity;
  for (let v = 0; v < k; v++) if (v !== skip && out[o0 + v]! > max) max = out[o0 + v]!;
  let sum = 0;
  for (let v = 0; v < k; v++) {
    if (v === skip) continue;
    const e = Math.exp(out[o0 + v]! - max);
    q[v] = e;
    sum += e;
  }
  for (let v = 0; v < k; v++) q[v] = q[v]! / sum;
  return q;
}
