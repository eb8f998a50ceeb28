/**
 * `npm run bench -- updates`: gradient updates per second of the two hot loops —
 * the PPO minibatch (64x64 tanh MLPs, minibatch 64, CartPole-v1 spaces) and the SAC update
 * (256x256 relu MLPs, batch 256, Pendulum-v1 spaces: twin critics, actor, temperature, targets) —
 * plus the kernels each dispatches (`tf.profile`). `--stock-kernels` measures with tfjs's own wasm
 * kernels ("before" the kernel fixes of agents/nn/backend.ts). Prints JSON to stdout.
 *
 * Options: `--algo ppo|sac` (default both), `--seconds N` time budget per measurement (default 5),
 * `--stock-kernels`.
 */
import { Box, Discrete } from '../../envs/core/space.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import type { Transition } from '../../agents/agent.js';
import { PpoAgent } from '../../agents/ppo.js';
import { SacAgent } from '../../agents/sac.js';
import { countKernels, initBackend } from '../../agents/nn/backend.js';
import { Rng } from '../../envs/core/rng.js';
import { machineInfo } from './machine.js';

interface UpdateFigure {
  what: string;
  updatesPerSecond: number;
  updates: number;
  seconds: number;
  kernelsPerUpdate: number;
  kernelsByName: Record<string, number>;
}

/** Runs the benchmark with CLI arguments (after `updates`). */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const backend = await initBackend({ kernelFixes: !args.stockKernels, quiet: true });
  const figures: UpdateFigure[] = [];
  if (args.algo === undefined || args.algo === 'ppo')
    figures.push(await ppoMinibatch(args.seconds));
  if (args.algo === undefined || args.algo === 'sac') figures.push(await sacUpdate(args.seconds));
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'updates', backend, stockKernels: args.stockKernels, machine: machineInfo(), figures }, null, 2)}\n`,
  );
}

/** PPO: a rollout of 64 x 8 steps, 4 epochs of minibatches of 64 = 32 minibatch steps per update. */
async function ppoMinibatch(seconds: number): Promise<UpdateFigure> {
  const spaces = {
    observationSpace: new Box({ low: -5, high: 5, shape: [4] }),
    actionSpace: new Discrete(2),
    numEnvs: 1,
  };
  const numSteps = 512;
  const minibatchSize = 64;
  const epochs = 4;
  const agent = PpoAgent.create(spaces, {
    numSteps,
    minibatchSize,
    updateEpochs: epochs,
    hiddenSizes: [64, 64],
    annealLearningRate: false,
  });
  const rng = new Rng(0);
  const obs = (): Float32Array => Float32Array.from({ length: 4 }, () => rng.uniform(-1, 1));
  const feed = async (steps: number): Promise<void> => {
    for (let i = 0; i < steps; i++) {
      const observation = obs();
      const action = await agent.act(observation, { explore: true });
      const t: Transition<Float32Array, number | Float32Array> = {
        observation,
        action,
        reward: rng.uniform(-1, 1),
        nextObservation: obs(),
        terminated: rng.random() < 0.02,
        truncated: false,
        info: {},
        envIndex: 0,
      };
      await agent.observe(t);
    }
  };
  const perUpdate = epochs * (numSteps / minibatchSize);
  await feed(numSteps); // warm-up update
  await feed(numSteps - 1);
  const kernels = await countKernels(() => feed(1));
  let updates = 0;
  let spent = 0;
  while (spent < seconds) {
    await feed(numSteps - 1);
    const t0 = performance.now();
    await feed(1); // this observe() runs the update
    spent += (performance.now() - t0) / 1000;
    updates += perUpdate;
  }
  agent.dispose();
  return {
    what: 'PPO minibatch (64x64 tanh actor and critic, minibatch 64)',
    updatesPerSecond: round(updates / spent),
    updates,
    seconds: round(spent),
    kernelsPerUpdate: Math.round(kernels.total / perUpdate),
    kernelsByName: scale(kernels.byName, 1 / perUpdate),
  };
}

/** SAC: one gradient step per env step after warm-up (SB3 Pendulum preset: actor every step). */
async function sacUpdate(seconds: number): Promise<UpdateFigure> {
  const spaces = {
    observationSpace: new Box({ low: [-1, -1, -8], high: [1, 1, 8] }),
    actionSpace: new Box({ low: [-2], high: [2] }),
    numEnvs: 1,
  };
  const agent = SacAgent.create(spaces, {
    learningStarts: 300,
    batchSize: 256,
    hiddenSizes: [256, 256],
    policyFrequency: 1,
    policyLr: 1e-3,
    qLr: 1e-3,
    bufferSize: 10_000,
  });
  const rng = new Rng(0);
  const obs = (): Float32Array =>
    Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-8, 8));
  const feed = async (steps: number): Promise<void> => {
    for (let i = 0; i < steps; i++) {
      const observation = obs();
      const action = await agent.act(observation, { explore: true });
      await agent.observe({
        observation,
        action,
        reward: rng.uniform(-16, 0),
        nextObservation: obs(),
        terminated: false,
        truncated: false,
        info: {},
        envIndex: 0,
      });
    }
  };
  await feed(310); // warm-up (and the first updates)
  const kernels = await countKernels(() => feed(1));
  let updates = 0;
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < seconds) {
    await feed(1);
    updates++;
  }
  const spent = (performance.now() - t0) / 1000;
  agent.dispose();
  return {
    what: 'SAC update (256x256 relu actor and twin critics, batch 256)',
    updatesPerSecond: round(updates / spent),
    updates,
    seconds: round(spent),
    kernelsPerUpdate: kernels.total,
    kernelsByName: kernels.byName,
  };
}

function parseArgs(argv: string[]): {
  algo: 'ppo' | 'sac' | undefined;
  seconds: number;
  stockKernels: boolean;
} {
  let algo: 'ppo' | 'sac' | undefined;
  let seconds = 5;
  let stockKernels = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--stock-kernels') stockKernels = true;
    else if (arg === '--algo') {
      const v = argv[++i];
      if (v !== 'ppo' && v !== 'sac') throw new InvalidOptionError('--algo', v, '"ppo" or "sac"');
      algo = v;
    } else if (arg === '--seconds') {
      seconds = Number(argv[++i]);
      if (!(seconds > 0)) throw new InvalidOptionError('--seconds', argv[i], 'a positive number');
    } else
      throw new InvalidOptionError(
        'updates benchmark argument',
        arg,
        '--algo ppo|sac, --seconds N, --stock-kernels',
      );
  }
  return { algo, seconds, stockKernels };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function scale(counts: Record<string, number>, factor: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v * factor)]));
}
