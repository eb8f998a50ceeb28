import test from 'ava';
import { checkEnv, instantiateCommand } from '../../../envs/core/check-env.js';
import { EnvCheckError } from '../../../envs/core/errors.js';
import { make, register } from '../../../envs/core/registry.js';
import type { JsonValue, ResetArgs, StepResult } from '../../../envs/core/env.js';
import { LineWalkEnv } from '../../helpers/line-env.js';

register({
  id: 'test/CheckedLineWalk-v0',
  entryPoint: (o) => new LineWalkEnv(o),
  maxEpisodeSteps: 20,
});

test('a correct environment passes quietly, raw or made', (t) => {
  t.notThrows(() => checkEnv(new LineWalkEnv()));
  t.notThrows(() => checkEnv(make('test/CheckedLineWalk-v0')));
  t.notThrows(() => checkEnv(make('test/CheckedLineWalk-v0', { renderMode: 'ansi' })));
});

const broken: [rule: string, env: () => LineWalkEnv][] = [
  [
    'step-observation',
    () =>
      new (class extends LineWalkEnv {
        override step(action: number): StepResult<Float32Array> {
          const r = super.step(action);
          return { ...r, observation: Float32Array.of(this.position * 10) };
        }
      })(),
  ],
  [
    'step-reward',
    () =>
      new (class extends LineWalkEnv {
        override step(action: number): StepResult<Float32Array> {
          return { ...super.step(action), reward: Number.NaN };
        }
      })(),
  ],
  [
    'step-flags',
    () =>
      new (class extends LineWalkEnv {
        override step(action: number): StepResult<Float32Array> {
          return { ...super.step(action), terminated: 0 as unknown as boolean };
        }
      })(),
  ],
  [
    'reset-determinism',
    () =>
      new (class extends LineWalkEnv {
        // Ignores the seed: each reset starts one cell further along, so two seeded resets differ.
        private resets = 0;
        override reset(args: ResetArgs = {}) {
          super.reset(args);
          this.position = (this.resets++ % 5) - 2;
          return { observation: Float32Array.of(this.position), info: {} };
        }
      })(),
  ],
  [
    'reset-rng-continues',
    () =>
      new (class extends LineWalkEnv {
        // Unseeded resets re-seed from a counter of their own instead of continuing the seeded
        // generator (as re-seeding from entropy would), so the same seeded start is not repeated.
        private reseeds = 0;
        override reset(args: ResetArgs = {}) {
          return super.reset({ seed: args.seed ?? 1000 + this.reseeds++ });
        }
      })(),
  ],
  [
    'observation-aliasing',
    () =>
      new (class extends LineWalkEnv {
        private readonly shared = new Float32Array(1);
        override step(action: number): StepResult<Float32Array> {
          const r = super.step(action);
          this.shared[0] = r.observation[0]!;
          return { ...r, observation: this.shared };
        }
      })(),
  ],
  [
    'invalid-action',
    () =>
      new (class extends LineWalkEnv {
        override step(action: number): StepResult<Float32Array> {
          return super.step(action >= 1 ? 1 : 0); // clips instead of refusing
        }
      })(),
  ],
  [
    'snapshot',
    () =>
      new (class extends LineWalkEnv {
        protected override loadState(_state: JsonValue): void {
          this.position = 0; // forgets the position
        }
      })(),
  ],
  [
    'textview',
    () =>
      new (class extends LineWalkEnv {
        override parseCommand(text: string): number {
          return text === 'left' ? 0 : 7;
        }
      })(),
  ],
  [
    'render',
    () =>
      new (class extends LineWalkEnv {
        override render() {
          return this.renderMode === 'ansi' ? '' : undefined;
        }
      })({ renderMode: 'ansi' }),
  ],
];

for (const [rule, makeBroken] of broken) {
  test(`a broken environment is named by the rule it breaks: ${rule}`, (t) => {
    const error = t.throws(() => checkEnv(makeBroken()), { instanceOf: EnvCheckError });
    t.is(error.rule, rule, error.message);
    t.regex(error.message, new RegExp(`Environment check "${rule}" failed: `));
  });
}

test('command forms with a numeric range are filled with the middle of the range', (t) => {
  t.is(instantiateCommand('torque <-2..2>'), 'torque 0');
  t.is(instantiateCommand('force <0..1> then <1..3>'), 'force 0.5 then 2');
  t.is(instantiateCommand('push left'), 'push left');
});
