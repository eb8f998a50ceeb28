import test from 'ava';
import { TextWorldEnv } from '../../../envs/textworld/textworld.js';
import { checkExactQuest } from './exact-quests.js';

test('Quest-k20: for 200 seeds the walkthrough wins in exactly 20 commands and the solver finds none shorter', (t) => {
  const env = new TextWorldEnv({ family: 'quest', questLength: 20 });
  for (let seed = 0; seed < 200; seed++) checkExactQuest(t, env, seed, 20, false, `seed ${seed}`);
});
