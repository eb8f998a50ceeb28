import test from 'ava';
import '../../../envs/index.js';
import type { Env } from '../../../envs/core/env.js';
import { make } from '../../../envs/core/registry.js';
import { parseReply, type ReplyRung, type ReplyTarget } from '../../../agents/llm/llm-agent.js';

/**
 * The parse ladder on realistic replies, against real environments in fixed states:
 * - tw: TextWorld-Treasure-L12 seed 7 (go up, go down, examine red sideboard, look, inventory);
 * - gn: GridNav-DoorKey-5x5 seed 7, facing north (go south, face east, face west);
 * - pd: Pendulum-v1 (the form "torque <-2..2>"); cp: CartPole-v1 (push left, push right).
 */
type EnvKey = 'tw' | 'gn' | 'pd' | 'cp';

const ENVS: Record<EnvKey, { env: Env; target: ReplyTarget<unknown> }> = {
  tw: fixture('TextWorld-Treasure-L12-v0', 7),
  gn: fixture('GridNav-DoorKey-5x5-v0', 7),
  pd: fixture('Pendulum-v1', 3),
  cp: fixture('CartPole-v1', 3),
};

function fixture(id: string, seed: number): { env: Env; target: ReplyTarget<unknown> } {
  const env = make<unknown, unknown>(id);
  const { info } = env.reset({ seed });
  const mask = info['actionMask'];
  return {
    env,
    target: {
      commands: env.commands(),
      parseCommand: (text) => env.parseCommand(text),
      actionMask: mask instanceof Uint8Array ? mask : undefined,
    },
  };
}

interface Good {
  on: EnvKey;
  reply: string;
  /** The command whose action the reply must map to. */
  means: string;
  rung: ReplyRung;
  tagged?: boolean;
}

const GOOD: Good[] = [
  { on: 'tw', reply: 'go down', means: 'go down', rung: 'exact' },
  { on: 'tw', reply: 'Action: go down', means: 'go down', rung: 'exact', tagged: true },
  { on: 'tw', reply: 'Go Down.', means: 'go down', rung: 'exact' },
  { on: 'tw', reply: '  go   down  \n', means: 'go down', rung: 'exact' },
  { on: 'tw', reply: 'ACTION: GO UP', means: 'go up', rung: 'exact', tagged: true },
  { on: 'tw', reply: '**Action:** `inventory`', means: 'inventory', rung: 'exact', tagged: true },
  { on: 'tw', reply: 'Action:\ngo up', means: 'go up', rung: 'exact', tagged: true },
  { on: 'tw', reply: '"look"', means: 'look', rung: 'exact' },
  { on: 'tw', reply: '- go up', means: 'go up', rung: 'exact' },
  { on: 'tw', reply: 'I will go down.', means: 'go down', rung: 'exact' },
  { on: 'tw', reply: "Let's go up!", means: 'go up', rung: 'exact' },
  { on: 'tw', reply: 'I choose: look', means: 'look', rung: 'exact' },
  { on: 'tw', reply: 'My next action is: inventory', means: 'inventory', rung: 'exact' },
  { on: 'tw', reply: 'I think going down is best: go down', means: 'go down', rung: 'exact' },
  { on: 'tw', reply: 'go down\nThen I will look around.', means: 'go down', rung: 'exact' },
  {
    on: 'tw',
    reply: 'Thought: The candle is not here; I should explore below.\nAction: go down',
    means: 'go down',
    rung: 'exact',
    tagged: true,
  },
  {
    on: 'tw',
    reply: 'Thought: Let me look around first. Action: look',
    means: 'look',
    rung: 'exact',
    tagged: true,
  },
  {
    on: 'tw',
    reply:
      'Thought: I should go down.\nAction: go down\nObservation: You are in a cellar.\nAction: go up',
    means: 'go down',
    rung: 'exact',
    tagged: true,
  },
  {
    on: 'tw',
    reply: "I'll examine the red sideboard.",
    means: 'examine red sideboard',
    rung: 'parse',
  },
  { on: 'tw', reply: 'down', means: 'go down', rung: 'parse' },
  {
    on: 'tw',
    reply: 'The best move is to go down, since the candle might be below.',
    means: 'go down',
    rung: 'mention',
  },
  { on: 'tw', reply: 'I go down', means: 'go down', rung: 'mention' },
  { on: 'gn', reply: 'go south', means: 'go south', rung: 'exact' },
  { on: 'gn', reply: 'Action: face east', means: 'face east', rung: 'exact', tagged: true },
  { on: 'gn', reply: 'I will go south.', means: 'go south', rung: 'exact' },
  {
    on: 'gn',
    reply: 'Thought: The key is 2 steps south. Action: go south',
    means: 'go south',
    rung: 'exact',
    tagged: true,
  },
  { on: 'gn', reply: 'south', means: 'go south', rung: 'parse' },
  { on: 'pd', reply: 'torque 1.5', means: 'torque 1.5', rung: 'parse' },
  {
    on: 'pd',
    reply: 'Action: torque -0.5 N·m',
    means: 'torque -0.5',
    rung: 'parse',
    tagged: true,
  },
  { on: 'pd', reply: 'I will apply torque of 1 Nm', means: 'torque 1', rung: 'parse' },
  {
    on: 'pd',
    reply: 'Thought: it is falling clockwise, push counter-clockwise.\nAction: counter-clockwise 2',
    means: 'torque 2',
    rung: 'parse',
    tagged: true,
  },
  { on: 'pd', reply: 'no torque', means: 'torque 0', rung: 'parse' },
  { on: 'cp', reply: 'push right', means: 'push right', rung: 'exact' },
  { on: 'cp', reply: 'Action: Push Left.', means: 'push left', rung: 'exact', tagged: true },
];

interface Bad {
  on: EnvKey;
  reply: string;
  reason: RegExp;
}

const BAD: Bad[] = [
  { on: 'tw', reply: '', reason: /^the reply is empty$/ },
  { on: 'tw', reply: '  \n ', reason: /^the reply is empty$/ },
  {
    on: 'tw',
    reply: 'asdfgh qwerty',
    reason: /Unknown command for TextWorld-Treasure-L12-v0: .*received "asdfgh qwerty"/,
  },
  { on: 'tw', reply: 'Action:', reason: /the Action: tag is followed by nothing/ },
  {
    on: 'tw',
    reply: 'go west',
    reason:
      /"go west" is not admissible now \(admissible: examine red sideboard, go down, go up, inventory, look\)/,
  },
  { on: 'tw', reply: 'Action: go west', reason: /"go west" is not admissible now/ },
  { on: 'tw', reply: 'take old candle', reason: /"take old candle" is not admissible now/ },
  {
    on: 'tw',
    reply: 'go up or go down',
    reason: /names several admissible commands \(go down, go up\); give exactly one/,
  },
  { on: 'tw', reply: 'I am not sure what to do.', reason: /no admissible command in the reply/ },
  { on: 'tw', reply: 'Thought: I need to think more.', reason: /Unknown command/ },
  { on: 'tw', reply: 'I will head downstairs.', reason: /Unknown command/ },
  { on: 'tw', reply: 'The answer is 42.', reason: /Unknown command/ },
  { on: 'gn', reply: 'face north', reason: /"face north" is not admissible now/ },
  { on: 'gn', reply: 'go north', reason: /"go north" is not admissible now/ },
  { on: 'gn', reply: 'done', reason: /"done" is not admissible now/ },
  { on: 'gn', reply: 'I am not sure what to do.', reason: /no admissible command/ },
  { on: 'pd', reply: 'torque 3', reason: /A torque of 3 N·m is outside \[-2, 2\]/ },
  { on: 'pd', reply: 'torque <-2..2>', reason: /Unknown command for Pendulum-v1/ },
  { on: 'pd', reply: 'swing it up hard', reason: /Unknown command for Pendulum-v1/ },
  { on: 'cp', reply: 'push up', reason: /Unknown command for CartPole-v1/ },
];

test('the corpus holds more than 30 realistic replies, good and bad', (t) => {
  t.true(GOOD.length + BAD.length >= 50);
  t.true(GOOD.length >= 25 && BAD.length >= 15);
});

for (const c of GOOD) {
  test(`${c.on}: ${JSON.stringify(c.reply)} is read as "${c.means}" (${c.rung}${c.tagged === true ? ', tagged' : ''})`, (t) => {
    const { env, target } = ENVS[c.on];
    const parsed = parseReply(c.reply, target);
    if (!parsed.ok) {
      t.fail(`unusable: ${parsed.reason}`);
      return;
    }
    t.deepEqual(parsed.action, env.parseCommand(c.means));
    t.is(parsed.rung, c.rung);
    t.is(parsed.tagged, c.tagged === true);
    if (parsed.rung === 'exact') t.true(target.commands.includes(parsed.command));
  });
}

for (const c of BAD) {
  test(`${c.on}: ${JSON.stringify(c.reply)} is unusable, with the reason`, (t) => {
    const parsed = parseReply(c.reply, ENVS[c.on].target);
    t.false(parsed.ok);
    if (!parsed.ok) t.regex(parsed.reason, c.reason);
  });
}

test('without an action mask any action the parser accepts is taken', (t) => {
  const { env } = ENVS.tw;
  const parsed = parseReply('go west', {
    commands: env.commands(),
    parseCommand: (text) => env.parseCommand(text),
  });
  t.true(parsed.ok);
  if (parsed.ok) t.is(parsed.action, env.parseCommand('go west'));
});
