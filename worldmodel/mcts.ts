/**
 * Monte Carlo tree search over model states, for discrete actions where the branching is wide
 * (TextWorld's commands) and rewards are sparse: PUCT selection (AlphaZero, Silver et al. 2018)
 * with uniform priors and min–max normalised values (MuZero, Schrittwieser et al. 2020), over any
 * {@link ImaginationModel} — the learned {@link WorldModel} or {@link TrueModel}.
 *
 * ## A simulation
 * 1. **Select**: from the root, follow the child maximising
 *    `q̂(c) + exploration · (1 / children) · √N(parent) / (1 + N(c))`, where `q̂` is the child's mean
 *    sampled return `r + γ · (what follows)` scaled to [0, 1] by the smallest and largest values
 *    seen in this search (a child never visited counts its initial value, below). A *closed* child
 *    — a predicted termination, a node at `maxDepth`, a node whose actions were all pruned, or one
 *    all of whose children are closed — has nothing left to expand and gets no exploration bonus;
 *    when every root child is closed the search stops. The descent stops at the first node that is
 *    unexpanded or closed; a closed one backs its mean up again (a simulation without a model call).
 * 2. **Expand**: the leaf's allowed actions — the plan's `actionMask` at the root, the model's
 *    {@link ImaginedStep.actionMasks} below where it gives them, every action otherwise — are stepped
 *    together; each result not pruned (below) becomes a child with its predicted reward and
 *    termination, and the initial value `r + γ · value(child)` (`r` without a `value` hook, or for a
 *    termination).
 * 3. **Evaluate**: one child of the leaf, drawn uniformly, is visited: its sample is `r + γ · G`,
 *    with `G` the discounted return of a uniformly random rollout of `rolloutDepth` steps from it
 *    (among the model's masks where given; stopped by a predicted termination) plus
 *    `γ^rolloutDepth · value(end)` when a `value` hook is given; with `rolloutDepth: 0`, `G` is
 *    `value(child)`, or 0. A terminal child's sample is its reward alone: nothing the model predicts
 *    after a termination is counted.
 * 4. **Back up**: the sample is discounted up the path (`g ← r + γ · g` at each parent) and added to
 *    every node's visit count and return sum; each node also keeps the best sample through it.
 *
 * The action is the root child with the best sampled return (`decision: 'best'`, the first action
 * of the best imagined trajectory: on a sparse task, of the shortest success found) or the most
 * visited one (`decision: 'visits'`, AlphaZero's robust child). Over a deterministic model (the true
 * dynamics, a learned ensemble's mean) the best sample is a return the model can achieve, which is
 * why it is the default; `visits` is the safer choice over a model whose errors can promise a
 * return by luck. When every root action was pruned, the action is drawn among the allowed ones.
 *
 * ## Batching: one `model.step` per round
 * Simulations run in rounds. Each round descends repeatedly; after each descent every node on its
 * path carries a virtual loss (one more visit valued at the smallest value seen), so the next
 * descent is steered elsewhere, until `parallel` leaves are gathered (or `4 × parallel` descents
 * were made). The gathered leaves are expanded in ONE `model.step` call, every allowed action of
 * every leaf a row, and their rollouts advance together, one `model.step` per rollout step; the
 * `value` hook, when given, is called once on the expanded children and once on the rollouts' ends.
 *
 * {@link ImaginationModel} has no way to join two batches, so one call can only step rows of one
 * batch — and the children a round creates share that round's output batch. A round therefore
 * gathers the leaves whose states lie in the batch of its first leaf (the exact PUCT choice): a
 * descent that ends on a leaf of another batch, or on a leaf already gathered, keeps its virtual
 * loss for the rest of the round and adds no leaf. {@link MctsStats.expanded} over
 * {@link MctsStats.rounds} is the number of leaves an expansion call carried on average.
 *
 * ## Transpositions: pruned, not shared
 * A child whose state key ({@link ImaginationModel.key}) is already in the tree at the same or a
 * smaller depth is pruned, as in {@link SearchPlanner}: the tree stays a tree (a backup follows one
 * path, no cycles), a state reached twice is searched once from its shallowest path, turning in
 * place or walking back and forth adds nothing, and an action whose predicted next state is the
 * current one is never tried — the pruning a learned model without masks relies on. A state
 * reached again by a strictly shorter path is added anew. Predicted terminations are never pruned
 * (their rewards may differ). As in the search planner, a second path to a state that collected
 * more reward on the way is lost when it is not shorter.
 *
 * Each plan searches afresh: no tree is kept between plans (a tree holds model batches, which have
 * no JSON form, so a kept tree could not be saved with the planner). Rollout actions and the
 * evaluated children are drawn from the planner's seeded {@link Rng}, which is the whole planner
 * state: a restored planner plans exactly as the saved one would have. The model is stepped with
 * its default members (`mean` for a learned ensemble).
 *
 * @example
 * const env = make('TextWorld-Quest-k5-v0');
 * const { info } = env.reset({ seed: 500_000 });
 * const planner = new MctsPlanner(TrueModel.copyOf(env), { simulations: 300, seed: 1 });
 * const action = planner.plan(TrueModel.snapshot(env), { actionMask: info['actionMask'] as Uint8Array });
 * @see Silver et al. 2018, "A general reinforcement learning algorithm that masters chess, shogi, and Go through self-play" (PUCT)
 * @see Chaslot, Winands, van den Herik 2008, "Parallel Monte-Carlo Tree Search" (virtual loss)
 */
import type { ConfigRules } from '../agents/options.js';
import type { JsonValue } from '../envs/core/env.js';
import { InvalidStateError, InvalidValueError } from '../envs/core/errors.js';
import { Rng, isRngState } from '../envs/core/rng.js';
import { Discrete } from '../envs/core/space.js';
import type { ImaginationModel } from './model.js';
import {
  checkDiscreteModel,
  checkRootMask,
  nonFinite,
  pickMasks,
  resolvePlannerConfig,
  sampleAllowed,
} from './planner-common.js';
import type { PlanOptions, Planner, PlannerHooks, ValueFunction } from './planner.js';

/** Resolved options of {@link MctsPlanner}. */
export interface MctsConfig {
  /** Simulations per plan (leaf expansions, and descents that end on a closed node). @defaultValue 256 */
  simulations: number;
  /** Leaves gathered per round at most (kept apart by virtual loss), expanded in one `model.step`. @defaultValue 8 */
  parallel: number;
  /** Deepest node expanded, in actions from the root (rollouts may go further). @defaultValue 64 */
  maxDepth: number;
  /** Exploration constant of PUCT (0: greedy in the normalised values). @defaultValue 1.25 */
  exploration: number;
  /** Discount γ of imagined rewards. @defaultValue 0.99 */
  gamma: number;
  /** Uniformly random steps per leaf evaluation (0: the `value` hook or 0 evaluates). @defaultValue 5 */
  rolloutDepth: number;
  /**
   * The action taken: `best`, the root child through which the highest return was sampled (the
   * first action of the best imagined trajectory; ties: more visits), or `visits`, the most visited
   * root child (AlphaZero's robust child; ties: the higher mean). @defaultValue 'best'
   */
  decision: MctsDecision;
  /** Seed of the planner's generator (rollouts and the evaluated child). @defaultValue 0 */
  seed: number;
}

/** How {@link MctsPlanner} picks the action from the root's children (see {@link MctsConfig.decision}). */
export type MctsDecision = 'best' | 'visits';

/** Options of {@link MctsPlanner}: any config field, and a critic for the leaves (`value`). */
export type MctsOptions<B> = Partial<MctsConfig> & Pick<PlannerHooks<B>, 'value'>;

/** Defaults of {@link MctsConfig}. */
export const MCTS_DEFAULTS: Readonly<MctsConfig> = Object.freeze({
  simulations: 256,
  parallel: 8,
  maxDepth: 64,
  exploration: 1.25,
  gamma: 0.99,
  rolloutDepth: 5,
  decision: 'best',
  seed: 0,
});

const MCTS_RULES: ConfigRules<MctsConfig> = {
  simulations: { kind: 'number', min: 1, max: 10_000_000, integer: true },
  parallel: { kind: 'number', min: 1, max: 100_000, integer: true },
  maxDepth: { kind: 'number', min: 1, max: 100_000, integer: true },
  exploration: { kind: 'number', min: 0 },
  gamma: { kind: 'number', min: 0, max: 1 },
  rolloutDepth: { kind: 'number', min: 0, max: 10_000, integer: true },
  decision: { kind: 'choice', values: ['best', 'visits'] },
  seed: { kind: 'seed' },
};

/** What the last {@link MctsPlanner.plan} did. */
export interface MctsStats {
  /** Simulations run (the budget spent). */
  simulations: number;
  /** Expansion rounds, one `model.step` each. */
  rounds: number;
  /** Leaves expanded (over `rounds`: the leaves one expansion call carried on average). */
  expanded: number;
  /** Nodes in the tree, the root included. */
  nodes: number;
  /** Children pruned as duplicates (key already in the tree at the same or a smaller depth). */
  pruned: number;
  /** `model.step` calls: the expansions and every rollout step. */
  modelCalls: number;
}

/** Descents a round may make per leaf it is to gather (see the module documentation). */
const DESCENTS_PER_LEAF = 4;

const NO_STATS: Readonly<MctsStats> = Object.freeze({
  simulations: 0,
  rounds: 0,
  expanded: 0,
  nodes: 0,
  pruned: 0,
  modelCalls: 0,
});

/**
 * Monte Carlo tree search with PUCT, batched expansion under virtual loss, duplicate pruning and
 * random rollouts or a critic at the leaves, for Discrete action spaces (see the module
 * documentation).
 */
export class MctsPlanner<S, B> implements Planner<S, number> {
  /** The model imagined with. */
  readonly model: ImaginationModel<S, B>;
  /** The resolved options. */
  readonly config: Readonly<MctsConfig>;
  /** What the last plan did (all zeros before the first). */
  lastStats: Readonly<MctsStats> = NO_STATS;
  private readonly space: Discrete;
  private readonly value: ValueFunction<B> | undefined;
  private rng: Rng;

  /** @throws {@link InvalidOptionError} for a bad option or a model without a Discrete action space. */
  constructor(model: ImaginationModel<S, B>, options: MctsOptions<B> = {}) {
    const { config, hooks } = resolvePlannerConfig<MctsConfig, Pick<PlannerHooks<B>, 'value'>>(
      'MctsPlanner',
      MCTS_DEFAULTS,
      MCTS_RULES,
      options,
      ['value'],
    );
    this.space = checkDiscreteModel('MctsPlanner', model);
    this.model = model;
    this.config = Object.freeze(config);
    this.value = hooks.value;
    this.rng = new Rng(config.seed);
  }

  /**
   * The root action chosen by `decision` after `simulations` simulations (fewer when every root
   * child is closed); when every root action was pruned, one drawn uniformly among the allowed ones.
   * @throws {@link InvalidOptionError} for a bad mask.
   * @throws {@link InvalidValueError} for a non-finite predicted reward or value.
   */
  plan(state: S, options?: PlanOptions): number {
    const n = this.space.n;
    const mask = checkRootMask('MctsPlanner', options?.actionMask, n);
    const search = new Search(this.model, this.config, this.value, this.rng, n);
    const action = search.run(this.model.batch([state]), mask);
    this.lastStats = Object.freeze(search.stats);
    return this.space.start + action;
  }

  /** Nothing to forget: no tree is kept between plans. The generator continues. */
  reset(): void {
    // Every plan searches afresh.
  }

  /** The generator, plain JSON. */
  getState(): JsonValue {
    return { planner: 'MctsPlanner', rng: this.rng.getState() as unknown as JsonValue };
  }

  /** Restores {@link MctsPlanner.getState}. @throws {@link InvalidStateError} for a malformed state. */
  setState(state: JsonValue): void {
    const s = state as { planner?: unknown; rng?: unknown } | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      Array.isArray(s) ||
      s.planner !== 'MctsPlanner' ||
      !isRngState(s.rng)
    ) {
      throw new InvalidStateError(
        'MctsPlanner',
        '{planner: "MctsPlanner", rng} from getState()',
        state,
      );
    }
    this.rng = Rng.fromState(s.rng);
  }
}

// ---- the tree -------------------------------------------------------------------------------------

/** A batch of states the model produced, with the masks it gave for them. */
interface StoredBatch<B> {
  states: B;
  masks: Uint8Array | undefined;
}

/**
 * One search: the tree as parallel arrays indexed by node (node 0 is the root). A node's children
 * are created together and stored contiguously (`first`, `count`); `first` is -1 until the node is
 * expanded. `reward` is the predicted reward of the edge into the node, and `total` sums the
 * sampled returns `reward + γ · (what follows)` of its `visits`.
 */
class Search<S, B> {
  readonly stats: MctsStats = { ...NO_STATS };
  private readonly model: ImaginationModel<S, B>;
  private readonly config: Readonly<MctsConfig>;
  private readonly value: ValueFunction<B> | undefined;
  private readonly rng: Rng;
  private readonly n: number;
  private readonly start: number;
  private readonly parent: number[] = [];
  private readonly depth: number[] = [];
  private readonly action: number[] = [];
  private readonly reward: number[] = [];
  private readonly done: number[] = [];
  private readonly visits: number[] = [];
  private readonly total: number[] = [];
  /** The best sample through the node (its initial value before any visit). */
  private readonly top: number[] = [];
  /** Value before any visit: `reward + γ · value(node)` (or `reward`). */
  private readonly initial: number[] = [];
  private readonly virtual: number[] = [];
  private readonly batchOf: number[] = [];
  private readonly rowOf: number[] = [];
  private readonly first: number[] = [];
  private readonly count: number[] = [];
  /** 1 when nothing below the node can be expanded (terminal, at `maxDepth`, or all children closed). */
  private readonly closed: number[] = [];
  private readonly batches: StoredBatch<B>[] = [];
  /** Smallest depth at which each non-terminal state key is in the tree. */
  private readonly seen = new Map<string, number>();
  private low = Infinity;
  private high = -Infinity;

  constructor(
    model: ImaginationModel<S, B>,
    config: Readonly<MctsConfig>,
    value: ValueFunction<B> | undefined,
    rng: Rng,
    n: number,
  ) {
    this.model = model;
    this.config = config;
    this.value = value;
    this.rng = rng;
    this.n = n;
    this.start = (model.actionSpace as Discrete).start;
  }

  /** Runs the simulations from `root` (a batch of one row); the chosen action index (0-based). */
  run(root: B, mask: Uint8Array | undefined): number {
    const { simulations, parallel } = this.config;
    this.batches.push({ states: root, masks: mask });
    this.addNode(-1, 0, -1, 0, 0, 0, 0, 0);
    this.seen.set(this.model.key(root, 0), 0);
    const stats = this.stats;
    while (stats.simulations < simulations) {
      if (this.closed[0] === 1) break; // the whole tree is known
      // Select up to `parallel` leaves whose states share one batch (see the module documentation).
      const pending: number[][] = [];
      const marked: number[][] = [];
      const chosen = new Set<number>();
      let batch = -1;
      for (
        let d = 0;
        d < DESCENTS_PER_LEAF * parallel &&
        pending.length < parallel &&
        stats.simulations + pending.length < simulations;
        d++
      ) {
        const path = this.descend();
        const leaf = path[path.length - 1]!;
        if (this.closed[leaf] === 1) {
          this.backup(path, this.mean(leaf));
          stats.simulations++;
          continue;
        }
        for (const node of path) this.virtual[node]!++;
        marked.push(path);
        if (chosen.has(leaf) || (batch !== -1 && this.batchOf[leaf] !== batch)) continue;
        batch = this.batchOf[leaf]!;
        chosen.add(leaf);
        pending.push(path);
      }
      for (const path of marked) for (const node of path) this.virtual[node]!--;
      if (pending.length > 0) this.expand(pending);
    }
    stats.nodes = this.depth.length;
    return this.choose(mask);
  }

  private addNode(
    parent: number,
    depth: number,
    action: number,
    reward: number,
    done: number,
    initial: number,
    batch: number,
    row: number,
  ): number {
    const node = this.depth.length;
    this.parent.push(parent);
    this.depth.push(depth);
    this.action.push(action);
    this.reward.push(reward);
    this.done.push(done);
    this.visits.push(0);
    this.total.push(0);
    this.top.push(initial);
    this.initial.push(initial);
    this.virtual.push(0);
    this.batchOf.push(batch);
    this.rowOf.push(row);
    this.first.push(-1);
    this.count.push(0);
    this.closed.push(done === 1 || depth >= this.config.maxDepth ? 1 : 0);
    return node;
  }

  /**
   * Closes `node` (its value is known: nothing below it can be expanded) and every ancestor all of
   * whose children are now closed.
   */
  private close(node: number): void {
    this.closed[node] = 1;
    for (let p = this.parent[node]!; p >= 0 && this.closed[p] === 0; p = this.parent[p]!) {
      const first = this.first[p]!;
      for (let c = first; c < first + this.count[p]!; c++) if (this.closed[c] === 0) return;
      this.closed[p] = 1;
    }
  }

  /** The node's mean sampled return (its initial value before any visit). */
  private mean(node: number): number {
    const v = this.visits[node]!;
    return v === 0 ? this.initial[node]! : this.total[node]! / v;
  }

  /** The path from the root to the first node that is unexpanded or closed, following PUCT. */
  private descend(): number[] {
    const path = [0];
    let node = 0;
    while (this.closed[node] === 0 && this.first[node] !== -1) {
      node = this.bestChild(node);
      path.push(node);
    }
    return path;
  }

  private bestChild(parent: number): number {
    const first = this.first[parent]!;
    const count = this.count[parent]!;
    const bonus =
      (this.config.exploration / count) * Math.sqrt(this.visits[parent]! + this.virtual[parent]!);
    const loss = Number.isFinite(this.low) ? this.low : 0;
    const span = this.high - this.low;
    let best = first;
    let bestScore = -Infinity;
    for (let c = first; c < first + count; c++) {
      const visits = this.visits[c]!;
      const virtual = this.virtual[c]!;
      const q =
        visits + virtual === 0
          ? this.initial[c]!
          : (this.total[c]! + virtual * loss) / (visits + virtual);
      let score = span > 0 ? (q - this.low) / span : 0;
      if (this.closed[c] === 0) score += bonus / (1 + visits + virtual);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best;
  }

  /** Adds the sample `g` (in the last node's terms) along `path`, discounted at each parent. */
  private backup(path: readonly number[], g: number): void {
    const gamma = this.config.gamma;
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i]!;
      this.visits[node]!++;
      this.total[node]! += g;
      if (g > this.top[node]! || this.visits[node] === 1) this.top[node] = g;
      if (i > 0) {
        this.bound(g);
        g = this.reward[path[i - 1]!]! + gamma * g;
      }
    }
  }

  private bound(q: number): void {
    if (q < this.low) this.low = q;
    if (q > this.high) this.high = q;
  }

  /** The node's allowed actions (undefined: all of them). */
  private maskOf(node: number): Uint8Array | undefined {
    const masks = this.batches[this.batchOf[node]!]!.masks;
    const row = this.rowOf[node]!;
    return masks?.subarray(row * this.n, row * this.n + this.n);
  }

  /** Expands the leaves at the ends of `paths` (their states share a batch) in one `model.step`. */
  private expand(paths: readonly number[][]): void {
    const { n, model, start, stats } = this;
    const gamma = this.config.gamma;
    const leaves = paths.map((p) => p[p.length - 1]!);
    const rows: number[] = [];
    const actions: number[] = [];
    const rowEnd: number[] = [];
    for (const leaf of leaves) {
      const mask = this.maskOf(leaf);
      for (let a = 0; a < n; a++) {
        if (mask === undefined || mask[a] === 1) {
          rows.push(this.rowOf[leaf]!);
          actions.push(a);
        }
      }
      rowEnd.push(rows.length);
    }
    stats.expanded += leaves.length;
    stats.simulations += leaves.length;
    if (rows.length === 0) {
      // No leaf has an allowed action: dead ends, no model call.
      for (let g = 0; g < leaves.length; g++) {
        this.first[leaves[g]!] = this.depth.length;
        this.close(leaves[g]!);
        this.backup(paths[g]!, this.mean(leaves[g]!));
      }
      return;
    }
    const source = this.batches[this.batchOf[leaves[0]!]!]!.states;
    const out = model.step(
      model.select(source, Int32Array.from(rows)),
      Float32Array.from(actions, (a) => start + a),
    );
    stats.rounds++;
    stats.modelCalls++;
    const values = this.value !== undefined ? this.critic(out.states, rows.length) : undefined;
    const batch = this.batches.push({ states: out.states, masks: out.actionMasks }) - 1;
    // Children: contiguous per leaf, pruned when their state is already in the tree no deeper.
    let from = 0;
    for (let g = 0; g < leaves.length; g++) {
      const leaf = leaves[g]!;
      const depth = this.depth[leaf]! + 1;
      this.first[leaf] = this.depth.length;
      for (let i = from; i < rowEnd[g]!; i++) {
        const reward = out.rewards[i]!;
        if (!Number.isFinite(reward)) throw nonFinite('reward', reward, i, depth - 1);
        const done = out.dones[i] === 1 ? 1 : 0;
        if (done === 0) {
          const key = model.key(out.states, i);
          const before = this.seen.get(key);
          if (before !== undefined && before <= depth) {
            stats.pruned++;
            continue;
          }
          this.seen.set(key, depth);
        }
        const initial = done === 1 || values === undefined ? reward : reward + gamma * values[i]!;
        this.bound(initial);
        this.addNode(leaf, depth, actions[i]!, reward, done, initial, batch, i);
        this.count[leaf]!++;
      }
      from = rowEnd[g]!;
      let open = false;
      for (let c = this.first[leaf]; c < this.depth.length; c++) open ||= this.closed[c] === 0;
      if (!open) this.close(leaf); // no children, or only terminal ones
    }
    // Evaluation: one child per leaf, drawn uniformly, rolled out (all rollouts together).
    const evaluated = leaves.map((leaf) =>
      this.count[leaf]! > 0 ? this.first[leaf]! + this.rng.integer(this.count[leaf]!) : -1,
    );
    const alive = evaluated.filter((c) => c >= 0 && this.done[c] === 0);
    const returns = this.evaluate(
      out.states,
      out.actionMasks,
      alive.map((c) => this.rowOf[c]!),
      values,
    );
    const returnOf = new Map<number, number>();
    alive.forEach((c, i) => returnOf.set(c, returns[i]!));
    for (let g = 0; g < leaves.length; g++) {
      const c = evaluated[g]!;
      if (c < 0) {
        this.backup(paths[g]!, this.mean(leaves[g]!)); // every action pruned: a dead end (closed)
        continue;
      }
      const sample = this.reward[c]! + (this.done[c] === 1 ? 0 : gamma * returnOf.get(c)!);
      this.backup([...paths[g]!, c], sample);
    }
  }

  /**
   * What follows each of the given rows of `states`: a uniformly random rollout of `rolloutDepth`
   * steps (one `model.step` per step for all rows) plus the discounted critic at its end, or, with
   * no rollout, the critic's value of the row (`values`) or 0.
   */
  private evaluate(
    states: B,
    masks: Uint8Array | undefined,
    rows: readonly number[],
    values: ArrayLike<number> | undefined,
  ): Float64Array {
    const m = rows.length;
    const returns = new Float64Array(m);
    if (m === 0) return returns;
    const { rolloutDepth, gamma } = this.config;
    if (rolloutDepth === 0) {
      if (values !== undefined) for (let r = 0; r < m; r++) returns[r] = values[rows[r]!]!;
      return returns;
    }
    const { model, n, start, rng } = this;
    let batch = model.select(states, Int32Array.from(rows));
    let below = pickMasks(masks, rows, n);
    const alive = new Uint8Array(m).fill(1);
    const actions = new Float32Array(m);
    let living = m;
    let discount = 1;
    for (let h = 0; h < rolloutDepth && living > 0; h++) {
      for (let r = 0; r < m; r++) actions[r] = start + sampleAllowed(rng, n, below, r * n);
      const out = model.step(batch, actions);
      this.stats.modelCalls++;
      for (let r = 0; r < m; r++) {
        if (alive[r] === 0) continue;
        const reward = out.rewards[r]!;
        if (!Number.isFinite(reward)) throw nonFinite('reward', reward, r, h);
        returns[r]! += discount * reward;
        if (out.dones[r] === 1) {
          alive[r] = 0;
          living--;
        }
      }
      discount *= gamma;
      batch = out.states;
      below = out.actionMasks;
    }
    if (this.value !== undefined && living > 0) {
      const end = this.critic(batch, m);
      for (let r = 0; r < m; r++) if (alive[r] === 1) returns[r]! += discount * end[r]!;
    }
    return returns;
  }

  /** The critic's values of `batch`, checked: one finite value per row. */
  private critic(batch: B, rows: number): ArrayLike<number> {
    const values = this.value!(batch);
    if (values.length !== rows) {
      throw new InvalidValueError(
        'values of the planner critic',
        `${values.length} values`,
        `one value per row (${rows})`,
      );
    }
    for (let r = 0; r < rows; r++) {
      if (!Number.isFinite(values[r]!)) throw nonFinite('value', values[r]!, r, 0);
    }
    return values;
  }

  /** The root child's action `decision` picks (all ties: the lower action). */
  private choose(mask: Uint8Array | undefined): number {
    const first = this.first[0]!;
    const count = this.count[0]!;
    if (first === -1 || count === 0) return sampleAllowed(this.rng, this.n, mask, 0);
    let best = first;
    if (this.config.decision === 'best') {
      for (let c = first + 1; c < first + count; c++) {
        const dt = this.top[c]! - this.top[best]!;
        if (dt > 0 || (dt === 0 && this.visits[c]! > this.visits[best]!)) best = c;
      }
      return this.action[best]!;
    }
    for (let c = first + 1; c < first + count; c++) {
      const dv = this.visits[c]! - this.visits[best]!;
      if (dv > 0 || (dv === 0 && this.mean(c) > this.mean(best))) best = c;
    }
    return this.action[best]!;
  }
}
