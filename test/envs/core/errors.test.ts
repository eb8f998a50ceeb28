import test from 'ava';
import {
  EnvNotFoundError,
  InvalidActionError,
  InvalidOptionError,
  ResetNeededError,
  WmgymError,
  formatValue,
  isWmgymError,
} from '../../../envs/core/errors.js';

test('every error is a WmgymError with a stable code and its own name', (t) => {
  const error = new InvalidActionError(
    'action for Pendulum-v1',
    '[3.5]',
    'Box(low=[-2], high=[2], shape=[1])',
  );
  t.true(error instanceof WmgymError);
  t.true(error instanceof Error);
  t.is(error.code, 'INVALID_ACTION');
  t.is(error.name, 'InvalidActionError');
  t.true(isWmgymError(error));
  t.false(isWmgymError(new Error('plain')));
  t.false(isWmgymError('INVALID_ACTION'));
});

test('messages follow the template: what, where, expected, received', (t) => {
  t.is(
    new InvalidActionError('action for Pendulum-v1', '[3.5]', 'Box(low=[-2], high=[2], shape=[1])')
      .message,
    'Invalid action for Pendulum-v1: expected Box(low=[-2], high=[2], shape=[1]), received [3.5]',
  );
  t.is(
    new EnvNotFoundError('Pendelum-v1', ['Pendulum-v1']).message,
    'No environment "Pendelum-v1". Did you mean "Pendulum-v1"?',
  );
  t.regex(
    new InvalidOptionError('options.g', -1, 'a positive number').message,
    /Invalid option options\.g: expected a positive number, received -1/,
  );
  t.regex(new ResetNeededError('CartPole-v1', 'before-reset').message, /before reset\(\)/);
  t.regex(new ResetNeededError('CartPole-v1', 'after-end').message, /after the episode ended/);
});

test('a wrapped error is kept as the cause', (t) => {
  const cause = new SyntaxError('bad json');
  const error = new InvalidOptionError('path', 'x.json', 'a JSON file', '', { cause });
  t.is(error.cause, cause);
});

test('formatValue shows typed arrays, NaN, infinities and long arrays readably', (t) => {
  t.is(formatValue(Float32Array.of(1.5, Number.NaN, Infinity)), 'Float32Array[1.5, NaN, Infinity]');
  t.is(formatValue([1, 'a', null]), '[1, "a", null]');
  t.is(formatValue(undefined), 'undefined');
  t.regex(formatValue(Array.from({ length: 20 }, (_, i) => i)), /… 8 more\]$/);
  t.is(formatValue({ a: 1 }), '{a: 1}');
});
