import test from 'ava';
import '../../envs/index.js';
import { make } from '../../envs/core/registry.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { spacesOf } from '../../agents/agent.js';
import { DqnAgent } from '../../agents/dqn.js';
import { PRESETS, getPreset, listPresets, type Preset } from '../../agents/presets.js';
import { PpoAgent } from '../../agents/ppo.js';
import { SacAgent } from '../../agents/sac.js';

test('every preset is a valid config for its algorithm on its registered environment', (t) => {
  // (the world-model agent's presets, registered by worldmodel/presets.ts, have their own test)
  const modelFree = PRESETS.filter(
    (p): p is Preset<'ppo' | 'dqn' | 'sac'> =>
      p.algo === 'ppo' || p.algo === 'dqn' || p.algo === 'sac',
  );
  t.true(modelFree.length > 0);
  for (const preset of modelFree) {
    const env = make(preset.env);
    const spaces = { ...spacesOf(env), numEnvs: preset.numEnvs };
    const create = {
      ppo: (o: object) => PpoAgent.create(spaces, o),
      dqn: (o: object) => DqnAgent.create(spaces, o),
      sac: (o: object) => SacAgent.create(spaces, o),
    }[preset.algo];
    const agent = create(preset.options);
    for (const [key, value] of Object.entries(preset.options))
      t.deepEqual(
        (agent.config as Record<string, unknown>)[key],
        value,
        `${preset.algo} ${preset.env} ${key}`,
      );
    t.true(preset.steps > 0 && preset.numEnvs > 0);
    t.regex(preset.notes, /rl-baselines3-zoo/);
  }
});

test('presets carry the rl-baselines3-zoo values', (t) => {
  const ppo = getPreset('ppo', 'CartPole-v1');
  t.is(ppo.numEnvs, 8);
  t.like(ppo.options, {
    numSteps: 32,
    minibatchSize: 256,
    gaeLambda: 0.8,
    gamma: 0.98,
    updateEpochs: 20,
    learningRate: 1e-3,
    annealLearningRate: true,
    annealClipCoef: true,
  });
  t.like(getPreset('dqn', 'CartPole-v1').options, {
    learningRate: 2.3e-3,
    batchSize: 64,
    trainFrequency: 256,
    gradientSteps: 128,
    targetUpdateInterval: 10,
    explorationFraction: 0.16,
    explorationFinalEps: 0.04,
  });
  t.like(getPreset('sac', 'Pendulum-v1').options, {
    policyLr: 1e-3,
    qLr: 1e-3,
    learningStarts: 100,
  });
  t.like(getPreset('ppo', 'Acrobot-v1').options, {
    normalizeObservations: true,
    normalizeRewards: true,
    numSteps: 256,
  });
  t.deepEqual(
    listPresets('sac').map((p) => p.env),
    ['Pendulum-v1', 'MountainCarContinuous-v0'],
  );
  // A copy: changing it does not change the table.
  ppo.options.numSteps = 1;
  t.is(getPreset('ppo', 'CartPole-v1').options.numSteps, 32);
});

test('an unknown preset is an InvalidOptionError listing the presets that exist', (t) => {
  t.throws(() => getPreset('dqn', 'Pendulum-v1'), {
    instanceOf: InvalidOptionError,
    message:
      /Invalid option dqn preset: expected one of "CartPole-v1", "Acrobot-v1", received "Pendulum-v1"/,
  });
  t.throws(() => getPreset('a2c' as 'ppo', 'CartPole-v1'), {
    instanceOf: InvalidOptionError,
    message: /one of "ppo", "dqn", "sac"/,
  });
});
