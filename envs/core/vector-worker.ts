/**
 * The worker thread of {@link AsyncVectorEnv}: imports `envs/index.js` and the listed modules,
 * builds its block of sub-environments with `make(id, makeOptions)`, then serves commands. The
 * main thread writes a command into `control[2w]` and waits on `control[2w + 1]`; payloads and
 * replies that do not fit the shared typed arrays travel over a MessagePort, read synchronously
 * with `receiveMessageOnPort`.
 * @internal
 * @module
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { InvalidOptionError, InvalidValueError } from './errors.js';
import type { Env, Info, JsonValue } from './env.js';
import { make } from './registry.js';
import {
  COMMAND,
  EnvGroup,
  STATUS,
  batchCodec,
  serializeError,
  viewOf,
  type StepOutputs,
  type WorkerBuffers,
  type WorkerReady,
  type WorkerReply,
  type WorkerSetup,
} from './vector.js';

const setup = workerData as WorkerSetup;
const control = new Int32Array(setup.control);
const commandSlot = 2 * setup.worker;
const statusSlot = commandSlot + 1;
const { port } = setup;

function answer(status: number, message?: unknown): void {
  if (message !== undefined) port.postMessage(message);
  Atomics.store(control, statusSlot, status);
  Atomics.notify(control, statusSlot);
}

function payload(): unknown {
  const received = receiveMessageOnPort(port);
  if (received === undefined) {
    throw new InvalidValueError(
      'command payload',
      'no message',
      'a message posted before the command',
    );
  }
  return received.message;
}

async function build(): Promise<Env[]> {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  await import(new URL(`../index.${extension}`, import.meta.url).href);
  for (const module of setup.modules) await import(module);
  const envs: Env[] = [];
  for (let j = 0; j < setup.count; j++) envs.push(make(setup.id, setup.makeOptions));
  const first = JSON.stringify([envs[0]!.observationSpace.toJSON(), envs[0]!.actionSpace.toJSON()]);
  envs.forEach((env, j) => {
    const spaces = JSON.stringify([env.observationSpace.toJSON(), env.actionSpace.toJSON()]);
    if (spaces !== first) {
      throw new InvalidOptionError(
        `sub-environment ${setup.first + j} of ${setup.id}`,
        spaces,
        `the spaces of the other sub-environments (${first})`,
      );
    }
  });
  return envs;
}

let envs: Env[];
try {
  envs = await build();
  const env0 = envs[0]!;
  const ready: WorkerReady = {
    observationSpace: env0.observationSpace.toJSON(),
    actionSpace: env0.actionSpace.toJSON(),
    metadata: { ...env0.metadata },
    envId: env0.spec?.id ?? setup.id,
  };
  answer(STATUS.message, { reply: ready });
} catch (error) {
  answer(STATUS.error, { error: serializeError(error) });
  envs = [];
}

if (envs.length > 0) serve(envs);
port.close();

function serve(envs: Env[]): void {
  const group = new EnvGroup(envs, setup.first, setup.autoresetMode);
  const observationCodec = batchCodec(envs[0]!.observationSpace);
  const actionCodec = batchCodec(envs[0]!.actionSpace);
  const n = setup.numEnvs;
  const { first, count } = setup;
  let out: StepOutputs | undefined;
  let actions: Float32Array | Int32Array | Uint8Array | unknown[] | null = null;

  for (;;) {
    // Loop: a wake-up is only a hint; the command slot is the truth.
    let command = Atomics.load(control, commandSlot);
    while (command === COMMAND.idle) {
      Atomics.wait(control, commandSlot, COMMAND.idle);
      command = Atomics.load(control, commandSlot);
    }
    Atomics.store(control, commandSlot, COMMAND.idle);
    try {
      switch (command) {
        case COMMAND.init: {
          const buffers = payload() as WorkerBuffers;
          out = {
            observations:
              viewOf(observationCodec, buffers.observations) ?? observationCodec.create(n),
            rewards: new Float64Array(buffers.rewards),
            terminations: new Uint8Array(buffers.terminations),
            truncations: new Uint8Array(buffers.truncations),
            infos: new Array<Info>(n),
          };
          actions = viewOf(actionCodec, buffers.actions) ?? actionCodec.create(n);
          answer(STATUS.ok);
          break;
        }
        case COMMAND.reset: {
          const { seeds, options } = payload() as {
            seeds: (number | undefined)[];
            options: Record<string, unknown> | undefined;
          };
          const o = out!;
          group.reset(seeds, options, o);
          reply(o);
          break;
        }
        case COMMAND.step: {
          const o = out!;
          // This block's rewards and flags start at zero, as a fresh array's would.
          o.rewards.fill(0, first, first + count);
          o.terminations.fill(0, first, first + count);
          o.truncations.fill(0, first, first + count);
          if (actionCodec.kind === 'items') {
            const block = payload() as unknown[];
            const items = actions as unknown[];
            for (let j = 0; j < count; j++) items[first + j] = block[j];
          }
          group.step(actions!, o);
          reply(o);
          break;
        }
        case COMMAND.getState:
          answer(STATUS.message, { reply: group.getState() });
          break;
        case COMMAND.setState: {
          const { envs: states, pending } = payload() as { envs: JsonValue[]; pending: number[] };
          group.setState(states, pending);
          answer(STATUS.ok);
          break;
        }
        case COMMAND.call: {
          const { name, args, indices } = payload() as {
            name: string;
            args: unknown[];
            indices?: number[];
          };
          const results = group.call(name, args, indices);
          try {
            answer(STATUS.message, { reply: structuredClone(results) });
          } catch (error) {
            throw new InvalidValueError(
              `result of call("${name}")`,
              String(error),
              'structured-cloneable values (numbers, strings, plain objects, arrays, typed arrays)',
            );
          }
          break;
        }
        case COMMAND.close:
          for (const env of envs) env.close();
          answer(STATUS.ok);
          return;
        default:
          throw new InvalidValueError('vector worker command', String(command), 'a command code');
      }
    } catch (error) {
      answer(STATUS.error, { error: serializeError(error) });
    }
  }

  /** Posts the infos that are not empty (and Text/Dict/Tuple observations); typed data is already shared. */
  function reply(o: StepOutputs): void {
    let infos: [number, Info][] | undefined;
    for (let i = first; i < first + count; i++) {
      const info = o.infos[i]!;

      for (const _ in info) {
        (infos ??= []).push([i, info]);
        break;
      }
    }
    let observations: [number, unknown][] | undefined;
    if (observationCodec.kind === 'items') {
      observations = [];
      for (let i = first; i < first + count; i++)
        observations.push([i, (o.observations as unknown[])[i]]);
    }
    if (infos === undefined && observations === undefined) {
      answer(STATUS.ok);
      return;
    }
    const message: WorkerReply = {};
    if (infos !== undefined) message.infos = infos;
    if (observations !== undefined) message.observations = observations;
    try {
      port.postMessage({ reply: message });
    } catch (error) {
      throw new InvalidValueError(
        `info or observation of ${setup.id}`,
        String(error),
        'structured-cloneable values (numbers, strings, plain objects, arrays, typed arrays)',
      );
    }
    Atomics.store(control, statusSlot, STATUS.message);
    Atomics.notify(control, statusSlot);
  }
}
