import test from 'ava';
import { InvalidOptionError } from '../../../envs/core/errors.js';
import {
  ACTION_CUE,
  DEFAULT_HISTORY_LENGTH,
  continuationOf,
  renderPrompt,
  renderTrainingExample,
  retryMessage,
  sortCommands,
  taskOf,
  type HistoryTurn,
  type PromptInput,
} from '../../../agents/llm/prompts.js';

const base: PromptInput = {
  envId: 'TextWorld-Coins-L2-v0',
  task: 'Coin Collector level 2: walk a chain of 2 rooms and take the coin.',
  observation: '-= Cramped Bathroom =-\nExits: north.\n\n\nYou are carrying nothing.   ',
  commands: ['look', 'go north', 'inventory'],
  history: [],
  episodeStep: 0,
  stepsLeft: 70,
  maxEpisodeSteps: 70,
};

const turns = (n: number): HistoryTurn[] =>
  Array.from({ length: n }, (_, i) => ({
    command: `go ${i % 2 === 0 ? 'north' : 'south'}`,
    feedback: `You walk to room ${i + 1}.`,
  }));

test('a prompt has the task, the step budget, the observation and the sorted commands, ending in the cue', (t) => {
  const prompt = renderPrompt(base);
  t.is(
    prompt,
    [
      'Environment: TextWorld-Coins-L2-v0',
      'Task: Coin Collector level 2: walk a chain of 2 rooms and take the coin.',
      'Steps taken: 0. Steps left: 70 of 70.',
      '',
      'History: none yet.',
      '',
      'Observation:',
      '-= Cramped Bathroom =-',
      'Exits: north.',
      'You are carrying nothing.',
      '',
      'Admissible commands:',
      '- go north',
      '- inventory',
      '- look',
      '',
      'Reply with exactly one admissible command.',
      'Action:',
    ].join('\n'),
  );
  t.true(prompt.endsWith(ACTION_CUE));
});

test('equal inputs give equal prompts, whatever the order of the commands', (t) => {
  const a = renderPrompt({ ...base, history: turns(5), episodeStep: 5, stepsLeft: 65 });
  const b = renderPrompt({
    ...base,
    commands: ['inventory', 'look', 'go north', 'look'],
    history: turns(5),
    episodeStep: 5,
    stepsLeft: 65,
  });
  t.is(a, b);
  t.deepEqual(sortCommands(['b', 'B', 'a b', 'a', 'b']), ['B', 'a', 'a b', 'b']);
});

test('the history is bounded (16 turns by default) with a marker for the turns not shown', (t) => {
  t.is(DEFAULT_HISTORY_LENGTH, 16);
  const prompt = renderPrompt({ ...base, history: turns(20), episodeStep: 20, stepsLeft: 50 });
  t.regex(prompt, /History:\n\[4 earlier turns not shown\]\n> go north\nYou walk to room 5\./);
  t.is(prompt.match(/^> /gm)?.length, 16);
  t.false(prompt.includes('room 4.'));
  t.true(prompt.includes('room 20.'));
  // Turns the caller dropped already count in the marker; a bounded prompt stays bounded.
  const long = renderPrompt({
    ...base,
    history: turns(16),
    omittedTurns: 100,
    episodeStep: 116,
    stepsLeft: null,
    maxEpisodeSteps: null,
  });
  t.regex(long, /\[100 earlier turns not shown\]/);
  t.regex(long, /Steps taken: 116\. No step limit\./);
  const one = renderPrompt({ ...base, history: turns(3), historyLength: 2, episodeStep: 3 });
  t.regex(one, /\[1 earlier turn not shown\]\n> go south/);
  const none = renderPrompt({ ...base, history: turns(3), historyLength: 0, episodeStep: 3 });
  t.regex(none, /History:\n\[3 earlier turns not shown\]\n\nObservation:/);
  t.throws(() => renderPrompt({ ...base, historyLength: -1 }), {
    instanceOf: InvalidOptionError,
    message: /renderPrompt historyLength: expected a non-negative integer, received -1/,
  });
});

test('a ReAct prompt asks for a thought then an action; command forms get a line on ranges', (t) => {
  const react = renderPrompt({ ...base, react: true });
  t.regex(
    react,
    /then give exactly one admissible command on a line "Action: <command>"\.\nThought:$/,
  );
  const pendulum = renderPrompt({
    ...base,
    envId: 'Pendulum-v1',
    task: taskOf({}, 'Swing a pendulum upright and hold it there.'),
    commands: ['torque <-2..2>'],
    stepsLeft: 200,
    maxEpisodeSteps: 200,
  });
  t.regex(
    pendulum,
    /- torque <-2\.\.2>\n\nReply with exactly one admissible command\.\nIn a command of the form <low\.\.high>, write a number in that range\.\nAction:$/,
  );
  t.regex(
    pendulum,
    /^Environment: Pendulum-v1\nTask: Swing a pendulum upright and hold it there\.\n/,
  );
});

test('the task is the info mission when the env gives one, else the registry description', (t) => {
  t.is(
    taskOf({ mission: 'get to the  green goal square' }, 'An empty room.'),
    'get to the green goal square',
  );
  t.is(taskOf({ objective: 'find the coin' }, ''), 'find the coin');
  t.is(taskOf({ mission: '   ' }, 'An empty room.'), 'An empty room.');
  t.is(taskOf({}, ''), '');
  t.false(renderPrompt({ ...base, task: '' }).includes('Task:'));
});

test('a training example is the plain prompt, a space, the command and a newline', (t) => {
  const input = { ...base, history: turns(2), episodeStep: 2, stepsLeft: 68, react: true };
  const example = renderTrainingExample(input, 'go north');
  t.is(example, `${renderPrompt({ ...input, react: false })} go north\n`);
  t.true(example.endsWith('Action: go north\n'));
  t.is(continuationOf('take  coin'), ' take coin');
});

test('the follow-up after an unusable reply quotes it and gives the reason', (t) => {
  t.is(
    retryMessage('asdf', 'Unknown command for X: expected "go north", received "asdf"'),
    'Your reply "asdf" could not be used: Unknown command for X: expected "go north", received "asdf"\nAnswer again with exactly one admissible command, as "Action: <command>" on one line.',
  );
  t.regex(
    retryMessage('  ', 'the reply is empty', true),
    /^Your reply was empty\.\n.*"Thought: \.\.\." then a line "Action: <command>"/,
  );
});
