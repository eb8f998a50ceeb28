/**
 * PassiveEnvChecker: checks the spaces at construction and the first `reset`, `step` and `render`
 * results (as Gymnasium's does: the first call only, so it costs nothing afterwards). A broken
 * environment gets an `EnvCheckError` naming the broken rule.
 */
import { checkRenderResult, checkResetResult, checkSpaces, checkStepResult } from '../check-env.js';
import {
  Wrapper,
  type Env,
  type RenderFrame,
  type ResetArgs,
  type ResetResult,
  type StepResult,
} from '../env.js';

/** Checks the first reset, step and render of the wrapped environment. */
export class PassiveEnvChecker<O, A> extends Wrapper<O, A> {
  private checkedReset = false;
  private checkedStep = false;
  private checkedRender = false;

  constructor(env: Env<O, A>) {
    super(env);
    checkSpaces(env);
  }

  override reset(args?: ResetArgs): ResetResult<O> {
    const result = this.env.reset(args);
    if (!this.checkedReset) {
      checkResetResult(this.env, result);
      this.checkedReset = true;
    }
    return result;
  }

  override step(action: A): StepResult<O> {
    const result = this.env.step(action);
    if (!this.checkedStep) {
      checkStepResult(this.env, result);
      this.checkedStep = true;
    }
    return result;
  }

  override render(): RenderFrame | undefined {
    const frame = this.env.render();
    if (!this.checkedRender) {
      checkRenderResult(this.env, this.env.renderMode, frame);
      this.checkedRender = true;
    }
    return frame;
  }
}
