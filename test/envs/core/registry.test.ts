import test from 'ava';
import { listEnvs, make, register, spec, unregister } from '../../../envs/core/registry.js';
import {
  EnvNotFoundError,
  InvalidOptionError,
  RegistrationError,
  ResetNeededError,
} from '../../../envs/core/errors.js';
import { OrderEnforcing, TimeLimit } from '../../../envs/core/wrappers/common.js';
import { PassiveEnvChecker } from '../../../envs/core/wrappers/env-checker.js';
import { LineWalkEnv } from '../../helpers/line-env.js';

const ID = 'test/LineWalk-v3';
register({
  id: ID,
  entryPoint: (o) => new LineWalkEnv(o),
  maxEpisodeSteps: 7,
  rewardThreshold: 1,
  description: 'walk to +5',
});
register({ id: 'test/LineWalk-v4', entryPoint: (o) => new LineWalkEnv(o) });

test('make wraps PassiveEnvChecker -> OrderEnforcing -> TimeLimit, outermost last', (t) => {
  const env = make(ID);
  if (!(env instanceof TimeLimit)) return t.fail('the outermost wrapper is not TimeLimit');
  const order = env.env;
  if (!(order instanceof OrderEnforcing)) return t.fail('TimeLimit does not wrap OrderEnforcing');
  t.true(order.env instanceof PassiveEnvChecker);
  t.true(env.unwrapped instanceof LineWalkEnv);
  t.is(env.spec?.id, ID);
  t.is(env.unwrapped.spec?.maxEpisodeSteps, 7);
});

test('make passes options to the entry point and can change or drop the time limit', (t) => {
  const env = make(ID, { renderMode: 'ansi', maxEpisodeSteps: null, disableEnvChecker: true });
  t.is(env.renderMode, 'ansi');
  t.false(env instanceof TimeLimit);
  t.is(env.spec?.maxEpisodeSteps, undefined);
  const limited = make<Float32Array, number>(ID, { maxEpisodeSteps: 2 });
  limited.reset({ seed: 0 });
  limited.step(1);
  t.true(limited.step(0).truncated);
});

test('make refuses a render mode the environment cannot draw and a bad time limit', (t) => {
  t.throws(() => make(ID, { renderMode: 'rgb_array' }), {
    instanceOf: InvalidOptionError,
    message: /renderMode: expected one of \["ansi"\]/,
  });
  t.throws(() => make(ID, { renderMode: 'human' as never }), { instanceOf: InvalidOptionError });
  t.throws(() => make(ID, { maxEpisodeSteps: 0 }), {
    instanceOf: InvalidOptionError,
    message: /received 0/,
  });
});

test('an unknown id names the closest ids', (t) => {
  t.throws(() => make('test/LineWalx-v3'), {
    instanceOf: EnvNotFoundError,
    message: /Did you mean "test\/LineWalk-v3"/,
  });
  const error = t.throws(() => make('test/LineWalk-v9'), { instanceOf: EnvNotFoundError });
  t.regex(error.message, /registered versions of test\/LineWalk: v3, v4/);
  t.deepEqual(error.suggestions, ['test/LineWalk-v3', 'test/LineWalk-v4']);
  t.throws(() => spec('test/LineWalk'), { instanceOf: EnvNotFoundError, message: /Did you mean/ });
  t.throws(() => make('Completely-Different-Thing-v0'), {
    instanceOf: EnvNotFoundError,
    message: /^No environment "Completely-Different-Thing-v0"\.$/,
  });
});

test('register refuses malformed ids, duplicates and bad limits', (t) => {
  t.throws(() => register({ id: 'NoVersion', entryPoint: () => new LineWalkEnv() }), {
    instanceOf: RegistrationError,
    message: /Name-vN/,
  });
  t.throws(() => register({ id: ID, entryPoint: () => new LineWalkEnv() }), {
    instanceOf: RegistrationError,
    message: /already registered/,
  });
  t.throws(
    () =>
      register({ id: 'test/Other-v0', entryPoint: () => new LineWalkEnv(), maxEpisodeSteps: -3 }),
    { instanceOf: RegistrationError },
  );
  register({ id: 'test/Temp-v0', entryPoint: () => new LineWalkEnv() });
  register({
    id: 'test/Temp-v0',
    entryPoint: () => new LineWalkEnv(),
    override: true,
    description: 'again',
  });
  t.is(spec('test/Temp-v0').description, 'again');
  t.true(unregister('test/Temp-v0'));
});

test('listEnvs filters by substring or pattern and is sorted', (t) => {
  t.deepEqual(listEnvs('linewalk'), ['test/LineWalk-v3', 'test/LineWalk-v4']);
  t.deepEqual(
    listEnvs(/-v4$/).filter((id) => id.startsWith('test/')),
    ['test/LineWalk-v4'],
  );
});

test('a made environment enforces reset before step and after the end', (t) => {
  const env = make(ID);
  t.throws(() => env.step(1), { instanceOf: ResetNeededError, message: /before reset\(\)/ });
  env.reset({ seed: 1 });
  let result = env.step(1);
  while (!result.terminated && !result.truncated) result = env.step(1);
  t.throws(() => env.step(1), { instanceOf: ResetNeededError, message: /after the episode ended/ });
  env.reset();
  t.notThrows(() => env.step(0));
});
