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
export * from './envs/classic/classic-env.js';
export * from './envs/classic/cartpole.js';
export * from './envs/classic/pendulum.js';
export * from './envs/classic/mountain-car-continuous.js';
export * from './envs/classic/acrobot.js';
/** The grid-navigation family (MiniGrid-class worlds, exact k-step tasks). */
export * as gridnav from './envs/gridnav/index.js';
/** The text-adventure family (facts, rules, parser, generator, game files). */
export * as textworld from './envs/textworld/index.js';
export * from './agents/agent.js';
export * from './agents/loop.js';
export * from './agents/checkpoint.js';
export * from './agents/presets.js';
export * from './agents/spaces.js';
export * from './agents/options.js';
export * from './agents/normalization.js';
export * from './agents/ppo.js';
export * from './agents/off-policy.js';
export * from './agents/sac.js';
export * from './agents/dqn.js';
export * from './agents/random.js';
export * from './agents/buffers/replay-buffer.js';
export * from './agents/buffers/rollout-buffer.js';
export * from './agents/nn/backend.js';
export * from './agents/nn/distributions.js';
export * from './agents/nn/mlp.js';
export * from './agents/nn/polyak.js';
export * from './agents/nn/params.js';
export * from './agents/nn/optimizer.js';
export * from './agents/nn/transformer.js';
export * from './envs/classic/state-text.js';
export * from './agents/llm/language-model.js';
export * from './agents/llm/providers/openai.js';
export * from './agents/llm/providers/cassette.js';
export * from './agents/llm/providers/local.js';
export * from './agents/llm/tokenizer.js';
export * from './agents/llm/wmgym-lm.js';
export * from './agents/llm/lm-trainer.js';
export * from './agents/llm/prompts.js';
export * from './agents/llm/llm-agent.js';
export * from './agents/llm/prior.js';
export * from './worldmodel/model.js';
export * from './worldmodel/state-layout.js';
export * from './worldmodel/backbone.js';
export * from './worldmodel/world-model.js';
export * from './worldmodel/trainer.js';
export * from './worldmodel/evaluate.js';
export * from './worldmodel/planner.js';
export * from './worldmodel/mcts.js';
export * from './worldmodel/true-model.js';
export * from './worldmodel/known-rewards.js';
export * from './worldmodel/knowledge.js';
export * from './worldmodel/dyna.js';
export * from './worldmodel/agent.js';
import './worldmodel/presets.js';
