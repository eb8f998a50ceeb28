/**
 * The on-disk form of a saved agent, shared by every neural agent: `agent.json` (kind, config,
 * spaces, JSON state: counters, generator states, normalisation statistics) and `agent.bin`
 * (float32 tensors: network parameters and optimiser moments), each written atomically. Replay
 * buffers add `replay-buffer.{json,bin}` beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../envs/core/atomic.js';
import type { JsonValue } from '../envs/core/env.js';
import { InvalidStateError, MalformedFileError, formatValue } from '../envs/core/errors.js';
import { Rng, isRngState } from '../envs/core/rng.js';
import type { AnySpace } from '../envs/core/space.js';
import type { EnvSpaces, Metrics } from './agent.js';
import { backendInfo } from './nn/backend.js';
import type { Adam } from './nn/optimizer.js';

/** What an agent writes with {@link writeAgentFile}. */
export interface AgentFileContent {
  kind: string;
  config: Readonly<object>;
  spaces: EnvSpaces;
  /** Float32 tensors by name. */
  tensors: Record<string, Float32Array>;
  /** Everything else, plain JSON. */
  state: Record<string, unknown>;
}

interface AgentJson {
  format: 'wmgym-agent';
  version: 1;
  kind: string;
  config: JsonValue;
  spaces: { observationSpace: JsonValue; actionSpace: JsonValue; numEnvs: number };
  tensors: Record<string, { offset: number; length: number }>;
  state: JsonValue;
  backend: JsonValue;
}

/** What {@link readAgentFile} returns. */
export interface AgentFile {
  /** The `agent.json` path (for messages). */
  file: string;
  config: Record<string, unknown>;
  state: Record<string, unknown>;
  tensors: Record<string, Float32Array>;
  /** Rebuilds a saved generator state (throws `MalformedFileError` on a bad one). */
  rng(state: unknown): Rng;
}

/** Writes `agent.json` + `agent.bin` into `dir` (atomically per file). */
export function writeAgentFile(dir: string, content: AgentFileContent): void {
  const entries: Record<string, { offset: number; length: number }> = {};
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, values] of Object.entries(content.tensors)) {
    entries[name] = { offset, length: values.length };
    chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    offset += values.length;
  }
  writeFileAtomic(join(dir, 'agent.bin'), Buffer.concat(chunks));
  const json: AgentJson = {
    format: 'wmgym-agent',
    version: 1,
    kind: content.kind,
    config: content.config as JsonValue,
    spaces: spacesJson(content.spaces),
    tensors: entries,
    state: content.state as JsonValue,
    backend: (backendInfo() ?? null) as unknown as JsonValue,
  };
  writeJsonAtomic(join(dir, 'agent.json'), json);
}

/** What {@link readAgentFile} checks the saved agent against. */
export interface AgentFileExpectation {
  kind: string;
  config: Readonly<object>;
  spaces: EnvSpaces;
  /** Required tensors and their lengths. */
  tensors: Record<string, number>;
}

/**
 * Reads `dir/agent.json` + `agent.bin` and checks them against the loading agent: same kind,
 * spaces, config and tensor sizes.
 *
 * @throws {@link MalformedFileError} for missing, unreadable or truncated files.
 * @throws {@link InvalidStateError} when the saved agent differs from the one loading it
 * (the message lists the differing config fields; create the agent with {@link readAgentConfig}).
 */
export function readAgentFile(dir: string, expected: AgentFileExpectation): AgentFile {
  const file = join(dir, 'agent.json');
  const bin = join(dir, 'agent.bin');
  const saved = readJson(file);
  if (saved.kind !== expected.kind)
    throw new InvalidStateError(
      `agent in ${file}`,
      `a saved ${expected.kind} agent`,
      `a ${saved.kind} agent`,
    );
  const spaces = spacesJson(expected.spaces);
  for (const key of ['observationSpace', 'actionSpace', 'numEnvs'] as const) {
    if (JSON.stringify(saved.spaces[key]) !== JSON.stringify(spaces[key])) {
      throw new InvalidStateError(
        `agent in ${file}`,
        `${key} ${JSON.stringify(spaces[key])}`,
        JSON.stringify(saved.spaces[key]),
      );
    }
  }
  const differences = diffConfig(
    expected.config as Record<string, unknown>,
    saved.config as Record<string, unknown>,
  );
  if (differences.length > 0) {
    throw new InvalidStateError(
      `agent in ${file}`,
      `the config of the loading agent (${differences.map((d) => d.expected).join('; ')})`,
      differences.map((d) => d.received).join('; '),
    );
  }
  if (!existsSync(bin))
    throw new MalformedFileError(bin, '$', 'expected the tensors file agent.bin, received no file');
  const bytes = readFileSync(bin);
  const floats = new Float32Array(
    bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4),
    ),
  );
  const tensors: Record<string, Float32Array> = {};
  for (const [name, length] of Object.entries(expected.tensors)) {
    const entry = saved.tensors[name];
    if (entry === undefined)
      throw new MalformedFileError(
        file,
        `$.tensors.${name}`,
        'expected a saved tensor, received none',
      );
    if (entry.length !== length)
      throw new InvalidStateError(`tensor ${name} in ${file}`, `${length} values`, entry.length);
    if (entry.offset + entry.length > floats.length)
      throw new MalformedFileError(
        bin,
        '$',
        `expected at least ${(entry.offset + entry.length) * 4} bytes, received ${bytes.byteLength}`,
      );
    tensors[name] = floats.slice(entry.offset, entry.offset + entry.length);
  }
  return {
    file,
    config: saved.config as Record<string, unknown>,
    state: saved.state as Record<string, unknown>,
    tensors,
    rng: (state: unknown) => {
      if (!isRngState(state))
        throw new MalformedFileError(
          file,
          '$.state.rng',
          `expected a generator state, received ${formatValue(state)}`,
        );
      return Rng.fromState(state);
    },
  };
}

/** The kind and config of a saved agent, to create a matching agent before `load`. */
export function readAgentConfig(dir: string): { kind: string; config: Record<string, unknown> } {
  const saved = readJson(join(dir, 'agent.json'));
  return { kind: saved.kind, config: saved.config as Record<string, unknown> };
}

/** Adam's moments as named tensors for the agent file. */
export function adamTensors(optimizer: Adam, prefix: string): Record<string, Float32Array> {
  const s = optimizer.getState();
  return { [`${prefix}.m`]: s.m, [`${prefix}.v`]: s.v };
}

/** Restores Adam from tensors written by {@link adamTensors}. */
export function restoreAdam(optimizer: Adam, file: AgentFile, prefix: string, step: unknown): void {
  if (typeof step !== 'number')
    throw new MalformedFileError(
      file.file,
      `$.state.${prefix}Step`,
      `expected an integer, received ${formatValue(step)}`,
    );
  optimizer.setState({ step, m: file.tensors[`${prefix}.m`]!, v: file.tensors[`${prefix}.v`]! });
}

function readJson(file: string): AgentJson {
  if (!existsSync(file))
    throw new MalformedFileError(file, '$', 'expected a saved agent, received no file');
  let saved: { [K in keyof AgentJson]?: unknown } | null;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as { [K in keyof AgentJson]?: unknown } | null;
  } catch (error) {
    throw new MalformedFileError(file, '$', 'not valid JSON', { cause: error });
  }
  if (saved?.format !== 'wmgym-agent' || saved.version !== 1) {
    throw new MalformedFileError(
      file,
      '$.format',
      `expected "wmgym-agent" version 1, received ${formatValue(saved?.format)}`,
    );
  }
  if (
    typeof saved.kind !== 'string' ||
    typeof saved.tensors !== 'object' ||
    saved.tensors === null ||
    typeof saved.spaces !== 'object' ||
    saved.spaces === null
  ) {
    throw new MalformedFileError(
      file,
      '$.tensors',
      'expected the tensor index and spaces written by save()',
    );
  }
  return saved as unknown as AgentJson;
}

function spacesJson(spaces: EnvSpaces): AgentJson['spaces'] {
  return {
    observationSpace: (spaces.observationSpace as AnySpace).toJSON(),
    actionSpace: (spaces.actionSpace as AnySpace).toJSON(),
    numEnvs: spaces.numEnvs ?? 1,
  };
}

function diffConfig(
  expected: Record<string, unknown>,
  saved: Record<string, unknown>,
): { expected: string; received: string }[] {
  const keys = new Set([...Object.keys(expected), ...Object.keys(saved)]);
  const out: { expected: string; received: string }[] = [];
  for (const key of keys) {
    const a = JSON.stringify(expected[key] ?? null);
    const b = JSON.stringify(saved[key] ?? null);
    if (a !== b) out.push({ expected: `${key}=${a}`, received: `${key}=${b}` });
  }
  return out;
}

/** Averages metrics over the updates since the last {@link MetricAccumulator.drain}. */
export class MetricAccumulator {
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();

  /** Adds one update's metrics (non-finite values are skipped). */
  add(metrics: Metrics): void {
    for (const [key, value] of Object.entries(metrics)) {
      if (!Number.isFinite(value)) continue;
      this.sums.set(key, (this.sums.get(key) ?? 0) + value);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }

  /** Means since the last drain, then clears. */
  drain(): Metrics {
    const out: Metrics = {};
    for (const [key, sum] of this.sums) out[key] = sum / this.counts.get(key)!;
    this.sums.clear();
    this.counts.clear();
    return out;
  }

  /** Plain-JSON state (to resume the averages exactly). */
  toJSON(): { sums: [string, number][]; counts: [string, number][] } {
    return { sums: [...this.sums], counts: [...this.counts] };
  }

  /** Restores {@link MetricAccumulator.toJSON}. */
  fromJSON(json: unknown): void {
    const j = json as { sums?: unknown; counts?: unknown } | null;
    if (typeof j !== 'object' || j === null || !Array.isArray(j.sums) || !Array.isArray(j.counts)) {
      throw new InvalidStateError('MetricAccumulator', '{sums, counts}', json);
    }
    this.sums = new Map(j.sums as [string, number][]);
    this.counts = new Map(j.counts as [string, number][]);
  }
}
