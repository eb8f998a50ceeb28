/**
 * Registers every environment id of the suite. Importing `wmgym` runs this once; each family keeps
 * its ids in one block of `register({...})` data below.
 */
import { register } from './core/registry.js';
import { AcrobotEnv } from './classic/acrobot.js';
import { CartPoleEnv } from './classic/cartpole.js';
import { MountainCarContinuousEnv } from './classic/mountain-car-continuous.js';
import { PendulumEnv } from './classic/pendulum.js';

// ---- classic control (Gymnasium dynamics) ------------------------------------------------------

register({
  id: 'CartPole-v1',
  entryPoint: (options) => new CartPoleEnv(options),
  maxEpisodeSteps: 500,
  rewardThreshold: 475,
  description:
    'Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1 dynamics).',
});

register({
  id: 'Pendulum-v1',
  entryPoint: (options) => new PendulumEnv(options),
  maxEpisodeSteps: 200,
  description:
    'Swing a pendulum upright and hold it there with a torque in [-2, 2] (Gymnasium Pendulum-v1).',
});

register({
  id: 'MountainCarContinuous-v0',
  entryPoint: (options) => new MountainCarContinuousEnv(options),
  maxEpisodeSteps: 999,
  rewardThreshold: 90,
  description:
    'Rock an under-powered car out of a valley to the flag, continuous force (Gymnasium MountainCarContinuous-v0).',
});

register({
  id: 'Acrobot-v1',
  entryPoint: (options) => new AcrobotEnv(options),
  maxEpisodeSteps: 500,
  rewardThreshold: -100,
  description:
    'Swing the tip of a two-link arm, actuated at the elbow, above a line (Gymnasium Acrobot-v1).',
});

// ---- gridnav --------------------------------------------------------------------------------------

// ---- textworld ------------------------------------------------------------------------------------

export { register };
