/**
 * wmgym: Gym-style environments (classic control with Gymnasium dynamics, grid navigation, text
 * adventures) behind one reset/step contract that also speaks text, and agents that plug into any
 * of them.
 *
 * @example
 * import { make } from 'wmgym';
 * const env = make('CartPole-v1');
 * let { observation } = env.reset({ seed: 42 });
 *
 * @packageDocumentation
 */
import './envs/index.js';

export * from './envs/core/errors.js';
export * from './envs/core/rng.js';
export * from './envs/core/pcg64.js';
export * from './envs/core/space.js';
export * from './envs/core/env.js';
export * from './envs/core/registry.js';
export * from './envs/core/check-env.js';
export * from './envs/core/atomic.js';
export * from './envs/core/render.js';
export * from './envs/core/wrappers/common.js';
export * from './envs/core/wrappers/env-checker.js';
export * from './envs/core/wrappers/transform-action.js';
export * from './envs/core/wrappers/normalize.js';
export * from './envs/core/wrappers/flatten.js';
export * from './envs/core/wrappers/transform.js';
export * from './envs/core/wrappers/frame-stack.js';
export * from './envs/core/vector.js';
