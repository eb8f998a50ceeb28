import test from 'ava';
import { join } from 'node:path';
import { initBackend } from '../../agents/nn/backend.js';
import { WmgymLm } from '../../agents/llm/wmgym-lm.js';
import { shippedModelPath } from '../../agents/llm/providers/local.js';
import { InvalidOptionError, MalformedFileError } from '../../envs/core/errors.js';
import { Box } from '../../envs/core/space.js';
import { WorldModelTrainer } from '../../worldmodel/trainer.js';
import { WorldModel, type WorldModelOptions } from '../../worldmodel/world-model.js';
import { tempRunDir } from '../helpers/run-dir.js';
import { velocityData } from '../helpers/velocity-data.js';

test.before(async () => {
  await initBackend({ quiet: true });
});

const spaces = {
  observationSpace: new Box({ low: -10, high: 10, shape: [1] }),
  actionSpace: new Box({ low: -1, high: 1, shape: [1] }),
};

/** A saved wmgym-lm, 24 wide with 2 blocks, its weights drawn from `seed`. */
function savedLm(t: { teardown(f: () => void): void }, seed = 5): { dir: string; lm: WmgymLm } {
  const dir = join(tempRunDir(t, 'lm-backbone'), 'lm');
  const lm = WmgymLm.create(
    { vocabSize: 50, modelSize: 24, heads: 2, layers: 2, contextLength: 16 },
    seed,
  );
  lm.save(dir);
  t.teardown(() => lm.dispose());
  return { dir, lm };
}

const options = (dir: string, extra: WorldModelOptions = {}): WorldModelOptions => ({
  backbone: 'lm',
  languageModel: dir,
  hiddenSize: 24,
  contextLength: 4,
  ensembleSize: 2,
  elites: 2,
  seed: 3,
  ...extra,
});

/** The values of piece `name` of a parameter set's flat vector. */
function piece(
  set: { pieces: readonly { name: string; offset: number; size: number }[]; read(): Float32Array },
  name: string,
): Float32Array {
  const p = set.pieces.find((q) => q.name === name);
  if (p === undefined) throw new Error(`no piece ${name}`);
  return set.read().slice(p.offset, p.offset + p.size);
}

test('the lm backbone starts from the pretrained blocks: the lower ones frozen and shared, the top one copied per member', async (t) => {
  const { dir, lm } = savedLm(t);
  const model = WorldModel.create(spaces, options(dir));
  await model.ready();
  t.teardown(() => model.dispose());
  const names = model.params.pieces.map((p) => p.name);
  // Trained: encoders, heads, the top block (h1 of the language model) and ln_f; not the lower block.
  t.true(names.includes('lmtrain.h0.qkv.w'));
  t.true(names.includes('lmtrain.lnf.gain'));
  t.false(names.some((n) => n.startsWith('lm.')));
  for (const [mine, theirs] of [
    ['lmtrain.h0.qkv.w', 'lm.h1.qkv.w'],
    ['lmtrain.h0.fc.b', 'lm.h1.fc.b'],
    ['lmtrain.lnf.gain', 'lm.lnf.gain'],
  ] as const) {
    const one = piece(lm.params, theirs);
    const both = piece(model.params, mine);
    t.is(both.length, 2 * one.length, mine);
    t.deepEqual(Array.from(both.subarray(0, one.length)), Array.from(one), `${mine}, member 0`);
    t.deepEqual(Array.from(both.subarray(one.length)), Array.from(one), `${mine}, member 1`);
  }

  // Training moves the encoders, heads and top block, never the frozen block.
  const frozenBefore = piece(lm.params, 'lm.h0.qkv.w');
  const topBefore = piece(model.params, 'lmtrain.h0.qkv.w');
  const fit = await new WorldModelTrainer(model, { batchSize: 64, learningRate: 3e-3 }).fit(
    velocityData(100, 10, 2),
    { epochs: 3 },
  );
  t.true(fit.updates > 0);
  const lmAfter = WmgymLm.load(dir);
  t.teardown(() => lmAfter.dispose());
  t.deepEqual(Array.from(piece(lmAfter.params, 'lm.h0.qkv.w')), Array.from(frozenBefore));
  t.notDeepEqual(Array.from(piece(model.params, 'lmtrain.h0.qkv.w')), Array.from(topBefore));
});

test('the lm backbone learns a system that needs the history, and saves and loads to the same predictions', async (t) => {
  const { dir } = savedLm(t, 8);
  const model = WorldModel.create(spaces, options(dir));
  await model.ready();
  t.teardown(() => model.dispose());
  const data = velocityData(300, 10, 4);
  const trainer = new WorldModelTrainer(model, { batchSize: 128, learningRate: 3e-3 });
  await trainer.fit(data, { epochs: 40, patience: 8 });
  // With a real history the velocity is known: x' = 2·x − x_prev, which copying x cannot give.
  const prev = Float32Array.of(-0.2, 0.5, 0.1, -0.6);
  const now = Float32Array.of(0.05, 0.3, -0.15, -0.4);
  const actions = new Float32Array(4);
  const predicted = model.step(
    model.historyBatch(now, { states: prev, actions, steps: 1 }),
    actions,
  ).states.states;
  let error = 0;
  let copy = 0;
  for (let r = 0; r < 4; r++) {
    const expected = 2 * now[r]! - prev[r]!;
    error += (predicted[r]! - expected) ** 2;
    copy += (now[r]! - expected) ** 2;
  }
  t.log(`squared error ${error.toFixed(5)}, copying the state ${copy.toFixed(5)}`);
  t.true(error < 0.1 * copy, `${error} against ${copy}`);

  const saved = join(tempRunDir(t, 'lm-backbone-save'), 'model');
  await model.save(saved);
  const again = WorldModel.create(spaces, options(dir));
  await again.load(saved);
  t.teardown(() => again.dispose());
  const batch = () => model.historyBatch(now, { states: prev, actions, steps: 1 });
  t.deepEqual(
    Array.from(
      again.step(again.historyBatch(now, { states: prev, actions, steps: 1 }), actions).states
        .states,
    ),
    Array.from(model.step(batch(), actions).states.states),
  );
});

test('lm tuning: frozen trains nothing of the language model, full trains every block per member', async (t) => {
  const { dir } = savedLm(t);
  const frozen = WorldModel.create(spaces, options(dir, { lmTuning: 'frozen' }));
  const full = WorldModel.create(spaces, options(dir, { lmTuning: 'full' }));
  await frozen.ready();
  await full.ready();
  t.teardown(() => {
    frozen.dispose();
    full.dispose();
  });
  t.false(frozen.params.pieces.some((p) => p.name.startsWith('lm')));
  const fullNames = full.params.pieces.map((p) => p.name);
  for (const name of ['lmtrain.pos', 'lmtrain.h0.qkv.w', 'lmtrain.h1.out.w', 'lmtrain.lnf.bias'])
    t.true(fullNames.includes(name), name);
  // Both predict finite states from the start.
  const out = frozen.predict(Float32Array.of(0.1, 0.2), new Float32Array(2)).nextStates;
  t.true(Array.from(out).every(Number.isFinite));
});

test('lm backbone options are checked', (t) => {
  const { dir } = savedLm(t);
  t.throws(() => WorldModel.create(spaces, options(dir, { hiddenSize: 32 })), {
    instanceOf: InvalidOptionError,
    message: /hiddenSize.*24, the width of the language model/s,
  });
  t.throws(() => WorldModel.create(spaces, options(dir, { contextLength: 17 })), {
    instanceOf: InvalidOptionError,
    message: /at most 16/,
  });
  t.throws(() => WorldModel.create(spaces, options(join(dir, 'missing'))), {
    instanceOf: MalformedFileError,
  });
  t.throws(() => WorldModel.create(spaces, options(dir, { lmTuning: 'lora' as 'top' })), {
    instanceOf: InvalidOptionError,
  });
});

test("the world model's lm backbone runs on the shipped model by default", async (t) => {
  const spaces = {
    observationSpace: new Box({ low: -10, high: 10, shape: [3] }),
    actionSpace: new Box({ low: -1, high: 1, shape: [1] }),
  };
  const model = WorldModel.create(spaces, {
    backbone: 'lm',
    hiddenSize: WmgymLm.savedConfig(shippedModelPath()).modelSize,
    contextLength: 4,
    ensembleSize: 2,
    elites: 2,
  });
  await model.ready();
  t.teardown(() => model.dispose());
  const out = model.predict(Float32Array.of(0.1, -0.2, 0.3), Float32Array.of(0.5));
  t.is(out.nextStates.length, 3);
  t.true(Array.from(out.nextStates).every(Number.isFinite));
});
