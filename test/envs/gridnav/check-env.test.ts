import test from 'ava';
import '../../../envs/index.js';
import { checkEnv } from '../../../envs/core/check-env.js';
import { listEnvs, make } from '../../../envs/core/registry.js';

const IDS = listEnvs(/^GridNav-/);

test('checkEnv is quiet for every registered GridNav id', (t) => {
  for (const id of IDS) t.notThrows(() => checkEnv(make(id)), id);
});

test('checkEnv is quiet for every GridNav id with egocentric actions and observations', (t) => {
  for (const id of IDS)
    t.notThrows(
      () => checkEnv(make(id, { actions: 'egocentric', observation: 'egocentric', viewSize: 5 })),
      id,
    );
});
