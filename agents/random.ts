/**
 * The random agent: uniform actions from the action space (only allowed ones under an action
 * mask), from its own seeded generator. The baseline every learning curve is read against.
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../envs/core/atomic.js';
import { InvalidStateError, MalformedFileError, formatValue } from '../envs/core/errors.js';
import { Rng, isRngState, type RngState } from '../envs/core/rng.js';
import { Discrete, type AnySpace } from '../envs/core/space.js';
import type { ActBatchOptions, ActOptions, Agent, EnvSpaces, Transition } from './agent.js';
import { resolveConfig, type ConfigRules } from './options.js';
import { checkMask } from './spaces.js';

/** Config of {@link RandomAgent}. */
export interface RandomConfig {
  /** Seed of the action generator. @defaultValue 1 */
  seed: number;
}

/** Options of {@link RandomAgent.create}: any subset of {@link RandomConfig}. */
export type RandomOptions = Partial<RandomConfig>;

/** Defaults of {@link RandomConfig}. */
export const RANDOM_DEFAULTS: Readonly<RandomConfig> = Object.freeze({ seed: 1 });

const RULES: ConfigRules<RandomConfig> = { seed: { kind: 'seed' } };

interface RandomSave {
  format: 'wmgym-agent';
  kind: 'random';
  config: RandomConfig;
  actionSpace: unknown;
  rng: RngState;
}

/** Acts uniformly at random, respecting action masks; learns nothing. */
export class RandomAgent<O = unknown, A = unknown> implements Agent<O, A> {
  readonly kind = 'random';
  readonly config: Readonly<RandomConfig>;
  private readonly actionSpace: AnySpace;
  private rng: Rng;

  private constructor(spaces: EnvSpaces<O, A>, config: RandomConfig) {
    this.config = Object.freeze(config);
    this.actionSpace = spaces.actionSpace as AnySpace;
    this.rng = new Rng(config.seed);
  }

  /**
   * A random agent for `spaces`.
   * @throws {@link InvalidOptionError} for an unknown option or a bad seed.
   */
  static create<O, A>(spaces: EnvSpaces<O, A>, options: RandomOptions = {}): RandomAgent<O, A> {
    return new RandomAgent(spaces, resolveConfig('RandomAgent', RANDOM_DEFAULTS, RULES, options));
  }

  act(_observation: O, options: ActOptions = {}): Promise<A> {
    try {
      return Promise.resolve(this.sample(options.actionMask));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  actBatch(observations: readonly O[], options: ActBatchOptions = {}): Promise<A[]> {
    try {
      return Promise.resolve(observations.map((_, i) => this.sample(options.actionMasks?.[i])));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  observe(_transition: Transition<O, A>): Promise<void> {
    return Promise.resolve();
  }

  observeBatch(_transitions: readonly (Transition<O, A> | null)[]): Promise<void> {
    return Promise.resolve();
  }

  save(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const saved: RandomSave = {
      format: 'wmgym-agent',
      kind: 'random',
      config: { ...this.config },
      actionSpace: this.actionSpace.toJSON(),
      rng: this.rng.getState(),
    };
    writeJsonAtomic(join(dir, 'agent.json'), saved);
    return Promise.resolve();
  }

  load(dir: string): Promise<void> {
    const file = join(dir, 'agent.json');
    if (!existsSync(file))
      return Promise.reject(
        new MalformedFileError(file, '$', 'expected a saved agent, received no file'),
      );
    let parsed: { [K in keyof RandomSave]?: unknown } | null;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as
        { [K in keyof RandomSave]?: unknown } | null;
    } catch (error) {
      return Promise.reject(new MalformedFileError(file, '$', 'not valid JSON', { cause: error }));
    }
    if (parsed?.format !== 'wmgym-agent' || parsed.kind !== 'random') {
      return Promise.reject(
        new MalformedFileError(
          file,
          '$.kind',
          `expected a saved random agent, received ${formatValue(parsed?.kind)}`,
        ),
      );
    }
    const saved = parsed as unknown as RandomSave;
    if (JSON.stringify(saved.actionSpace) !== JSON.stringify(this.actionSpace.toJSON())) {
      return Promise.reject(
        new InvalidStateError(
          `RandomAgent from ${file}`,
          `action space ${String(this.actionSpace)}`,
          saved.actionSpace,
        ),
      );
    }
    if (!isRngState(saved.rng))
      return Promise.reject(new MalformedFileError(file, '$.rng', 'expected a generator state'));
    (this as { config: Readonly<RandomConfig> }).config = Object.freeze({ ...saved.config });
    this.rng = Rng.fromState(saved.rng);
    return Promise.resolve();
  }

  private sample(mask: Uint8Array | undefined): A {
    if (mask !== undefined && this.actionSpace instanceof Discrete) {
      const allowed = checkMask(mask, this.actionSpace.n);
      if (allowed !== undefined) return this.actionSpace.sample(this.rng, allowed) as A;
    }
    return this.actionSpace.sample(this.rng) as A;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
