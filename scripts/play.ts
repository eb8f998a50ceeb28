/**
 * `wmgym play <id | game.json>`: play any environment in the terminal through its TextView.
 * Type a command (Enter), or use the arrow keys where the environment understands
 * north/south/east/west (or left/right). `look`, `commands`, `history`, `restart` and `quit` are
 * handled here when the environment has no meaning of its own for them.
 */
import { createInterface } from 'node:readline';
import { emitKeypressEvents } from 'node:readline';
import { CommandParseError, isWmgymError } from '../envs/core/errors.js';
import type { Env, Info } from '../envs/core/env.js';

/** Options of {@link play}. */
export interface PlayOptions {
  /** Seed of the first reset; later restarts continue the generator. @defaultValue unseeded */
  seed?: number;
  /** Where commands come from; a TTY also gets arrow keys. @defaultValue process.stdin */
  input?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Where the game is written. @defaultValue process.stdout */
  output?: NodeJS.WritableStream;
}

interface TextStepper {
  stepText(text: string): {
    observation: unknown;
    reward: number;
    terminated: boolean;
    truncated: boolean;
    info: Info;
  };
}

const ARROWS: Record<string, readonly string[]> = {
  up: ['north', 'forward'],
  down: ['south'],
  left: ['west', 'left'],
  right: ['east', 'right'],
};

/** Plays `env` interactively until the player quits or the input ends. Resolves with the total return. */
export async function play(env: Env, options: PlayOptions = {}): Promise<number> {
  const input = options.input ?? process.stdin;
  const out = options.output ?? process.stdout;
  const write = (text: string): void => {
    out.write(`${text}\n`);
  };
  const history: string[] = [];
  let total = 0;
  let episodeOver = false;
  let seed = options.seed;

  // The picture (ansi render) and the description; the description is left out when the picture
  // already tells it (text adventures render their transcript).
  const show = () => {
    const frame = env.renderMode === 'ansi' ? env.render() : undefined;
    const description = env.describe();
    if (typeof frame === 'string') write(frame);
    const firstLine = description.split('\n', 1)[0]!;
    if (typeof frame !== 'string' || !frame.includes(firstLine)) write(description);
  };
  const restart = () => {
    env.reset(seed === undefined ? {} : { seed });
    seed = undefined; // later restarts continue the seeded generator, as Gymnasium
    episodeOver = false;
    show();
  };
  const act = (text: string): void => {
    const command = text.trim();
    if (command === '') return;
    const word = command.toLowerCase();
    if (word === 'quit' || word === 'exit' || word === 'q') throw new QuitSignal();
    if (word === 'restart') return restart();
    if (word === 'history')
      return write(
        history.length === 0
          ? '(no commands yet)'
          : history.map((c, i) => `${i + 1}. ${c}`).join('\n'),
      );
    if (word === 'commands' || word === 'help')
      return write(`Commands: ${env.commands().join(', ')}\n(also: history, restart, quit)`);
    if (episodeOver) return write('The episode is over: type "restart" or "quit".');
    history.push(command);
    let result;
    try {
      const stepper = env.unwrapped as Partial<TextStepper>;
      result =
        typeof stepper.stepText === 'function' && env === env.unwrapped
          ? stepper.stepText(command)
          : env.step(env.parseCommand(command));
    } catch (error) {
      if (error instanceof CommandParseError) return write(error.feedback ?? error.message);
      if (isWmgymError(error)) return write(error.message);
      throw error;
    }
    total += result.reward;
    const feedback = result.info['feedback'];
    if (typeof feedback === 'string' && feedback !== '') write(feedback);
    if (result.reward !== 0)
      write(`(reward ${result.reward.toFixed(3)}, total ${total.toFixed(3)})`);
    if (result.terminated || result.truncated) {
      episodeOver = true;
      write(
        result.terminated
          ? `*** The episode has ended. Return: ${total.toFixed(3)} ***`
          : `*** Out of time. Return: ${total.toFixed(3)} ***`,
      );
      write('Type "restart" to play again or "quit".');
    } else if (typeof feedback !== 'string' || feedback === '') {
      show(); // environments that answer in words (text adventures) have said it in the feedback
    }
  };

  write(
    `Playing ${env.spec?.id ?? env.unwrapped.constructor.name}. Type "commands" for help, "quit" to leave.`,
  );
  restart();

  if (input.isTTY === true && typeof input.setRawMode === 'function') {
    const arrowCommand = (words: readonly string[]) =>
      words.find((word) => {
        try {
          env.parseCommand(word);
          return true;
        } catch {
          return false;
        }
      });
    return playRaw(input as NodeJS.ReadStream, out, act, arrowCommand, () => total);
  }
  const lines = createInterface({ input, terminal: false });
  try {
    for await (const line of lines) {
      out.write(`> ${line}\n`);
      act(line);
    }
  } catch (error) {
    if (!(error instanceof QuitSignal)) throw error;
  } finally {
    lines.close();
  }
  return total;
}

class QuitSignal extends Error {}

function playRaw(
  input: NodeJS.ReadStream,
  out: NodeJS.WritableStream,
  act: (text: string) => void,
  arrowCommand: (words: readonly string[]) => string | undefined,
  total: () => number,
): Promise<number> {
  emitKeypressEvents(input);
  input.setRawMode(true);
  input.resume();
  let buffer = '';
  out.write('> ');
  return new Promise((resolve, reject) => {
    const finish = () => {
      input.setRawMode(false);
      input.pause();
      input.off('keypress', onKey);
      out.write('\n');
      resolve(total());
    };
    const run = (text: string) => {
      try {
        act(text);
        out.write('> ');
      } catch (error) {
        if (error instanceof QuitSignal) finish();
        else reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onKey = (
      chunk: string | undefined,
      key: { name?: string; ctrl?: boolean } | undefined,
    ) => {
      if (key?.ctrl === true && (key.name === 'c' || key.name === 'd')) {
        finish();
        return;
      }
      const name = key?.name;
      if (name === 'return' || name === 'enter') {
        out.write('\n');
        const text = buffer;
        buffer = '';
        run(text);
        return;
      }
      if (name === 'backspace') {
        if (buffer.length > 0) {
          buffer = buffer.slice(0, -1);
          out.write('\b \b');
        }
        return;
      }
      if (name !== undefined && name in ARROWS && buffer === '') {
        const command = arrowCommand(ARROWS[name]!);
        if (command === undefined) return;
        out.write(`${command}\n`);
        run(command);
        return;
      }
      if (typeof chunk === 'string' && chunk >= ' ' && !chunk.startsWith('\u001b')) {
        buffer += chunk;
        out.write(chunk);
      }
    };
    input.on('keypress', onKey);
  });
}
