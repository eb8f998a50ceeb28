/**
 * Presets of the world-model agent (`getPreset('wm', id)`), registered with the other agents'
 * presets when this module loads (the package index loads it). The values were chosen here, not
 * taken from a zoo: the network size and ensemble follow PETS (5 members; 128-wide instead of
 * 200-wide layers, and a smaller CEM population, so an action is planned in under 100 ms on two
 * cores), refits every 200 env steps as PETS refits every episode; discrete tasks with sparse
 * rewards plan by search over the model's states.
 */
import { taskKSize } from '../envs/gridnav/task-k.js';
import { registerPresets, type Preset } from '../agents/presets.js';
import type { WorldModelAgentOptions } from './agent.js';

declare module '../agents/presets.js' {
  interface PresetOptions {
    wm: WorldModelAgentOptions;
  }
}

const PETS_NOTE =
  'wmgym world-model preset: PETS-style 5-member ensemble (128x128 ReLU backbone), CEM with 5 particles (TS-inf), refit every 200 env steps after 200 random steps';

/**
 * Why the sparse task presets oversample events and floor rewards: on GridNav Task-k5, 20,000
 * random steps reward 56 transitions; fitted (500 gradient steps) on the plain bootstrap, the
 * model gave the goal a termination probability of 0.01–0.04 and a reward of about 0 on 20
 * held-out levels, and 0.5–0.99 and 0.23–0.66 with a fifth of every bootstrap drawn from the
 * events; the floor keeps the search from following the remaining reward noise (up to ~0.3 on
 * non-terminal states). The mask head: the agent explores within the env's action mask, so the
 * model never sees what a masked action does (GridNav's pickup, drop and done where they do
 * nothing); asked about one below the search root it predicts anything (on held-out Task-k5 levels
 * those three actions were predicted exactly in 0 of 100 states), so the search expands only the
 * actions the model's mask head allows.
 */
const SPARSE_NOTE =
  'a fifth of every bootstrap drawn from rewarded or terminal transitions (fitEventFraction 0.2), predicted rewards under the search floor (minReward) count as 0, and a mask head (actionMasks) gives the allowed actions below the search root';

/** What the continuous-control presets share: the model, its refits and CEM. */
const PETS_OPTIONS = {
  randomSteps: 200,
  trainEvery: 200,
  hiddenSize: 128,
  backboneSizes: [128, 128],
  ensembleSize: 5,
  elites: 5,
  fitEpochs: 50,
  planner: 'cem',
} as const satisfies WorldModelAgentOptions;

const WM_PRESETS: Preset<'wm'>[] = [
  {
    algo: 'wm',
    env: 'Pendulum-v1',
    numEnvs: 1,
    steps: 3000,
    options: {
      ...PETS_OPTIONS,
      plannerOptions: { population: 100, elites: 10, iterations: 2, horizon: 30 },
    },
    notes: `${PETS_NOTE}; population 100, 2 iterations, horizon 30 (1.5 s ahead, what a swing-up needs); learned reward (rewardSource "known" with env "Pendulum-v1" for the known-reward row)`,
  },
  {
    algo: 'wm',
    env: 'CartPole-v1',
    numEnvs: 1,
    steps: 5000,
    options: {
      ...PETS_OPTIONS,
      plannerOptions: { population: 100, elites: 10, iterations: 3, horizon: 20 },
    },
    notes: `${PETS_NOTE}; categorical CEM over the two pushes, horizon 20; the termination head ends imagined episodes`,
  },
  ...[5, 10, 20].map((k): Preset<'wm'> => ({
    algo: 'wm',
    env: `GridNav-Task-k${k}-v0`,
    numEnvs: 1,
    steps: 20_000,
    options: {
      randomSteps: 2000,
      trainEvery: 2000,
      stateKind: 'discrete',
      backbone: 'grid',
      grid: [taskKSize(k), taskKSize(k), 3],
      hiddenSize: 64,
      backboneSizes: [64, 64],
      ensembleSize: 3,
      elites: 3,
      batchSize: 64,
      fitEpochs: 30,
      fitEventFraction: 0.2,
      actionMasks: true,
      planner: 'search',
      plannerOptions: { maxDepth: 2 * k + 4, maxNodes: 20_000, minReward: 0.2 },
    },
    notes: `wmgym world-model preset: discrete change/value heads on the symbolic grid through the grid backbone (one 64x64 network at every cell over its 3x3 neighbourhood, 3 members), breadth-first search over predicted states to depth ${2 * k + 4}; a new layout every episode; ${SPARSE_NOTE}`,
  })),
  ...[5, 10, 20].map((k): Preset<'wm'> => ({
    algo: 'wm',
    env: `TextWorld-Quest-k${k}-v0`,
    numEnvs: 1,
    steps: 20_000,
    envOptions: { observation: 'slots' },
    options: {
      randomSteps: 2000,
      trainEvery: 2000,
      hiddenSize: 256,
      backboneSizes: [256],
      ensembleSize: 3,
      elites: 3,
      fitEpochs: 30,
      fitEventFraction: 0.2,
      actionMasks: true,
      planner: 'search',
      plannerOptions: { maxDepth: 2 * k + 4, maxNodes: 20_000, minReward: 0.3 },
    },
    notes: `wmgym world-model preset: Bernoulli change heads on the slot observation (make(id, { observation: 'slots' }), one fact layout for every game of the level), 3 members, breadth-first search to depth ${2 * k + 4}; ${SPARSE_NOTE}`,
  })),
];

registerPresets(WM_PRESETS);
