/** Shared checks for the GridNav generator tests. */
import type { ExecutionContext } from 'ava';
import '../../../envs/index.js';
import { make } from '../../../envs/core/registry.js';
import type { Env } from '../../../envs/core/env.js';
import type { GridNavEnv } from '../../../envs/gridnav/gridnav-env.js';

/** The GridNav environment under the wrappers `make` applies. */
export function inner(env: Env): GridNavEnv {
  return env.unwrapped as unknown as GridNavEnv;
}

/**
 * Over `seeds` seeds of `id` (through `make`): the level is solvable as drawn (no redraw), the
 * oracle plan is `info.optimalSteps` long, and executing it ends the episode with success on its
 * last action, with the reward `1 - 0.9 * steps / maxSteps`, and not before.
 */
export function checkSolvableLevels(
  t: ExecutionContext,
  id: string,
  seeds: number,
  options: Record<string, unknown> = {},
): number[] {
  const env = make(id, options);
  const grid = inner(env);
  const lengths: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const { info } = env.reset({ seed });
    const optimal = info['optimalSteps'] as number;
    if (grid.levelAttempts !== 1) t.fail(`${id} seed ${seed}: the first layout was unsolvable`);
    const plan = grid.optimalPlan();
    if (plan?.length !== optimal || optimal < 1) {
      t.fail(
        `${id} seed ${seed}: plan of ${plan?.length ?? 'null'} actions for optimalSteps ${optimal}`,
      );
      continue;
    }
    plan.forEach((action, i) => {
      const r = env.step(action);
      const last = i === plan.length - 1;
      if (r.terminated !== last || r.truncated)
        t.fail(`${id} seed ${seed}: step ${i + 1} of ${plan.length} ended=${r.terminated}`);
      if (last) {
        const expected = 1 - (0.9 * plan.length) / grid.config.maxSteps;
        if (Math.abs(r.reward - expected) > 1e-12 || r.info['success'] !== true) {
          t.fail(`${id} seed ${seed}: final reward ${r.reward}, expected ${expected}`);
        }
      } else if (r.reward !== 0) {
        t.fail(`${id} seed ${seed}: reward ${r.reward} before the end`);
      }
    });
    lengths.push(optimal);
  }
  t.is(lengths.length, seeds);
  return lengths;
}
