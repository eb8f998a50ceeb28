import test from 'ava';
import { resolveConfig, type ConfigRules } from '../../agents/options.js';
import { InvalidOptionError } from '../../envs/core/errors.js';

interface Demo {
  rate: number;
  steps: number;
  kind: 'a' | 'b';
  flag: boolean;
  sizes: number[];
  limit: number | undefined;
}
const DEFAULTS: Demo = {
  rate: 0.5,
  steps: 10,
  kind: 'a',
  flag: false,
  sizes: [4],
  limit: undefined,
};
const RULES: ConfigRules<Demo> = {
  rate: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  steps: { kind: 'number', min: 1, integer: true },
  kind: { kind: 'choice', values: ['a', 'b'] },
  flag: { kind: 'boolean' },
  sizes: { kind: 'sizes' },
  limit: { kind: 'number', min: 0, optional: true },
};

test('options fill in over the defaults', (t) => {
  t.deepEqual(resolveConfig('Demo', DEFAULTS, RULES, { rate: 1, kind: 'b', limit: 3 }), {
    ...DEFAULTS,
    rate: 1,
    kind: 'b',
    limit: 3,
  });
  t.deepEqual(resolveConfig('Demo', DEFAULTS, RULES, undefined), DEFAULTS);
  t.deepEqual(resolveConfig('Demo', DEFAULTS, RULES, { steps: undefined }), DEFAULTS);
});

test('each bad value names the option, the value and what is allowed', (t) => {
  const bad: [Partial<Record<keyof Demo, unknown>>, RegExp][] = [
    [{ rate: 0 }, /Demo\.rate: expected a finite number > 0 and <= 1, received 0/],
    [{ rate: Number.NaN }, /Demo\.rate: .* received NaN/],
    [{ steps: 1.5 }, /Demo\.steps: expected an integer >= 1, received 1\.5/],
    [{ kind: 'c' }, /Demo\.kind: expected one of "a", "b", received "c"/],
    [{ flag: 1 }, /Demo\.flag: expected true or false, received 1/],
    [
      { sizes: [4, 0] },
      /Demo\.sizes: expected a non-empty array of positive integers, received \[4, 0\]/,
    ],
    [{ limit: -1 }, /Demo\.limit: expected a finite number >= 0 \(or undefined\), received -1/],
  ];
  for (const [options, message] of bad)
    t.throws(() => resolveConfig('Demo', DEFAULTS, RULES, options), {
      instanceOf: InvalidOptionError,
      message,
    });
  t.throws(() => resolveConfig('Demo', DEFAULTS, RULES, { rat: 1 }), {
    instanceOf: InvalidOptionError,
    message:
      /Demo\.rat: expected one of the known options \(rate, steps, kind, flag, sizes, limit\), received 1\. Unknown option/,
  });
  t.throws(() => resolveConfig('Demo', DEFAULTS, RULES, 'fast'), {
    instanceOf: InvalidOptionError,
    message: /Demo options: expected an object of options/,
  });
});
