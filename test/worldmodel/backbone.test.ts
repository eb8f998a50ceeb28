import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { initBackend, tf } from '../../agents/nn/backend.js';
import { ParameterSet } from '../../agents/nn/params.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import { Box, Discrete } from '../../envs/core/space.js';
import { GridBackbone } from '../../worldmodel/backbone.js';
import { StateLayout } from '../../worldmodel/state-layout.js';
import { WorldModelTrainer } from '../../worldmodel/trainer.js';
import { WorldModel } from '../../worldmodel/world-model.js';
import { MOVER_SIZE, moverData, moverSpaces } from './helpers.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const grid = {
  stateKind: 'discrete' as const,
  backbone: 'grid' as const,
  grid: [MOVER_SIZE, MOVER_SIZE, 1],
  hiddenSize: 32,
  backboneSizes: [32, 32],
};

function exactMatch(model: WorldModel, data: ReturnType<typeof moverData>): number {
  const p = model.predict(data.states, data.actions);
  const d = model.stateSize;
  let exact = 0;
  for (let r = 0; r < data.size; r++) {
    let same = true;
    for (let j = 0; j < d; j++)
      if (p.nextStates[r * d + j] !== data.nextStates[r * d + j]) same = false;
    if (same) exact++;
  }
  return exact / data.size;
}

test('the grid backbone learns local dynamics that hold on layouts it has never seen', async (t) => {
  const model = WorldModel.create(moverSpaces, { ...grid, ensembleSize: 2, elites: 2, seed: 4 });
  await model.ready();
  const result = await new WorldModelTrainer(model, { batchSize: 64, learningRate: 3e-3 }).fit(
    moverData(3000, 1),
    { epochs: 40, patience: 40, maxUpdates: 400 },
  );
  const held = moverData(400, 99);
  const exact = exactMatch(model, held);
  t.log(`exact ${exact}, ${result.updates} updates`);
  t.true(
    exact >= 0.9,
    `exact next states on held-out layouts ${exact} after ${result.updates} updates`,
  );
  // An imagined step halts only where the model broke the data's counts (one agent, the walls):
  // never on a row it predicted exactly.
  const step = model.step({ states: held.states, n: held.size }, held.actions);
  const d = model.stateSize;
  for (let r = 0; r < held.size; r++) {
    let same = true;
    for (let j = 0; j < d; j++)
      if (step.states.states[r * d + j] !== held.nextStates[r * d + j]) same = false;
    if (same) t.false(step.dones[r] === 1 && step.rewards[r] === 0, `exact row ${r} halted`);
  }
  // Reward (bumping) is read off the pooled cell features.
  const p = model.predict(held.states, held.actions);
  let rewardError = 0;
  for (let r = 0; r < held.size; r++) rewardError += Math.abs(p.rewards[r]! - held.rewards[r]!);
  t.true(rewardError / held.size < 0.2, `mean reward error ${rewardError / held.size}`);
});

test('grid predictions are the same in one call and in chunks, and save -> load keeps them', async (t) => {
  const model = WorldModel.create(moverSpaces, { ...grid, ensembleSize: 3, elites: 3, seed: 5 });
  await model.ready();
  const data = moverData(model.rowsPerPass * 2 + 7, 3);
  model.fitStatistics(data.states, data.nextStates, data.rewards, data.size);
  // A few updates, so the saved weights are no longer the seed's initialisation.
  const trainer = new WorldModelTrainer(model, { batchSize: 16, learningRate: 1e-2 });
  for (let i = 0; i < 3; i++) await trainer.trainStep(moverData(16, 10 + i));
  const all = model.predict(data.states, data.actions, { members: 'ts' });
  const d = model.stateSize;
  const half = model.rowsPerPass + 3;
  const first = model.predict(data.states.subarray(0, half * d), data.actions.subarray(0, half));
  const mean = model.predict(data.states, data.actions);
  t.deepEqual(
    Array.from(first.doneProbabilities),
    Array.from(mean.doneProbabilities.subarray(0, half)),
  );
  t.is(all.nextStates.length, data.size * d);
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-grid-'));
  try {
    await model.save(dir);
    const copy = WorldModel.create(moverSpaces, { ...grid, ensembleSize: 3, elites: 3, seed: 5 });
    await copy.load(dir);
    t.deepEqual(
      Array.from(copy.predict(data.states, data.actions).doneProbabilities),
      Array.from(mean.doneProbabilities),
    );
    copy.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
});

/**
 * Network inputs of `rows` rows on a `w x h` grid of (5-valued, binary, 4-valued) cells: each
 * row a random layout drawn from `kinds` cell kinds, with repeated rows, then extras and action.
 */
function gridInputs(
  layout: StateLayout,
  cells: number,
  cellInputs: number,
  rows: number,
  kinds: number,
  seed: number,
): Float32Array {
  const rng = new Rng(seed);
  const width = layout.inputSize + 3;
  const palette = Array.from({ length: kinds }, (_, k) => [
    k % 5,
    Math.floor(k / 5) % 2,
    Math.floor(k / 10) % 4,
  ]);
  const x = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * width, (r + 1) * width);
    if (r % 4 === 3) {
      row.set(x.subarray((r - 1) * width, r * width)); // a repeated row with another action
      row.fill(0, width - 3);
    } else {
      for (let c = 0; c < cells; c++) {
        const [a, b, d] = palette[rng.integer(kinds)]!;
        row[c * cellInputs + a!] = 1;
        row[c * cellInputs + 5] = b!;
        row[c * cellInputs + 6 + d!] = 1;
      }
      for (let j = cells * cellInputs; j < layout.inputSize; j++) row[j] = rng.random();
    }
    row[layout.inputSize + rng.integer(3)] = 1;
  }
  return x;
}

test('grid predictions without gradients equal the trainable forward pass', (t) => {
  const [w, h] = [6, 4];
  const cells = w * h;
  const space = new Box({
    low: 0,
    high: Float32Array.from({ length: cells * 3 + 2 }, (_, i) =>
      i >= cells * 3 ? 5 : [4, 1, 3][i % 3]!,
    ),
    shape: [cells * 3 + 2],
  });
  const layout = StateLayout.of(space, 'discrete');
  const ensemble = 3;
  const params = new ParameterSet('test');
  const backbone = new GridBackbone(
    params,
    layout,
    {
      grid: [w, h, 3],
      radius: 1,
      inputSize: layout.inputSize + 3,
      hiddenSize: 16,
      backboneSizes: [16, 12],
      ensemble,
      tailOutputs: 2,
      option: 'grid',
    },
    new Rng(3),
  );
  params.build();
  const views = params.views();
  const width = layout.inputSize + 3;
  // 3 kinds: few distinct neighbourhoods (numeric keys); 60 kinds: 61^9 > 2^53 (string keys).
  for (const kinds of [3, 60]) {
    for (const members of [1, ensemble]) {
      const perMember = 24;
      const x = gridInputs(layout, cells, backbone.cellInputs, members * perMember, kinds, kinds);
      // Rows 5..21 of every member.
      const [first, rows] = [5, 16];
      const fast = backbone.predict(views, x, members, perMember, first, rows);
      const expected = tf.tidy(() =>
        backbone.apply(
          views,
          tf.slice(
            tf.tensor3d(x, [members, perMember, width]),
            [0, first, 0],
            [members, rows, width],
          ),
        ),
      );
      const want = expected.dataSync();
      expected.dispose();
      t.is(fast.length, want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - want[i]!));
      t.true(worst < 1e-5, `${kinds} kinds, ${members} input members: largest difference ${worst}`);
    }
  }
  params.dispose();
});

test('grid options that do not fit the state get typed errors', (t) => {
  const cases: [unknown, RegExp][] = [
    [{ ...grid, grid: [5, 5] }, /three positive integers/],
    [{ ...grid, grid: [6, 6, 1] }, /at most 27 entries/],
    [{ ...grid, stateKind: 'continuous' }, /discrete state/],
    [{ stateKind: 'discrete', grid: [5, 5, 1] }, /unless backbone is "grid"/],
    [{ ...grid, gridRadius: 0 }, /gridRadius/],
  ];
  for (const [options, message] of cases) {
    const error = t.throws(() => WorldModel.create(moverSpaces, options as object), {
      instanceOf: InvalidOptionError,
    });
    t.regex(error.message, message);
  }
  // A channel whose number of values differs between cells is not a grid.
  const uneven = {
    observationSpace: new Box({ low: 0, high: Float32Array.of(1, 1, 2, 1), shape: [4] }),
    actionSpace: new Discrete(2),
  };
  t.throws(() => WorldModel.create(uneven, { ...grid, grid: [2, 2, 1] }), {
    instanceOf: InvalidOptionError,
    message: /same values in every cell/,
  });
});
