/**
 * `npm run train-lm`: builds wmgym-lm's corpus (`corpus.ts`, seeds ≥ 1,000,000 only), trains its
 * tokenizer and the model, and writes the shipped model (`models/wmgym-lm/`: weights in float16,
 * `tokenizer.json`, `config.json`, `MODEL_CARD.md`).
 *
 * ```sh
 * npm run train-lm                       # the shipped model (about 60 minutes on 2 cores)
 * npm run train-lm -- --resume           # continue a killed run from its last checkpoint
 * npm run train-lm -- --steps 20 --episodes 1 --out /tmp/lm --run /tmp/lm-run   # a quick try
 * ```
 *
 * The run folder (`runs/wmgym-lm` by default) holds the tokenizer, the checkpoints (every
 * `--checkpoint-every` steps; SIGINT / SIGTERM checkpoint before exiting) and `log.json` (the
 * held-out evaluations and wall time so far); `--resume` rebuilds the same corpus (it is
 * deterministic), reloads the tokenizer and continues exactly. Without `--resume`, an existing
 * run folder is an error (nothing is overwritten). Progress: one plain line per `--print-every`
 * steps and per evaluation (step, loss, held-out perplexity, tokens/s, ETA).
 *
 * Loss weights (supervised fine-tuning's loss mask, `LmTrainer`'s `trainWeights`): each document is
 * encoded as a provider encodes a request — the end-of-text token, the request, then the answer
 * on its own — and every predicted token weighs `--prompt-weight` (0.1) in the request, 1 in an
 * agent's answer (the command) and `--prior-weight` (0.5) in the prior's answer (mostly a copy of
 * the state asked about), so the few tokens the agent is judged on are not drowned by the text
 * around them. Prior examples longer than the context are left out (no window could hold one
 * whole: the larger TextWorld games'); agent prompts keep their end, as the provider does. The
 * held-out evaluation also reports the loss on the agents' answers alone.
 *
 * Sizes (chosen by measurement, see MODEL_CARD.md): a 4-layer, 128-wide decoder with 256 tokens of
 * context and the corpus's BPE vocabulary (at most 4,096 tokens; about 1,800 on the default
 * corpus, whose every word becomes one token), about 1.06M parameters, trains at about 2,500
 * tokens/s here: in under an hour it sees 7.4M tokens, 7 per parameter, towards the
 * compute-optimal ratio for that budget (Hoffmann et al. 2022: ~20); 192- and 256-wide models
 * measured 1,650 and 920 tokens/s, so 2 and 5 tokens per parameter.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../envs/core/atomic.js';
import { InvalidOptionError } from '../../envs/core/errors.js';
import { Rng } from '../../envs/core/rng.js';
import { initBackend } from '../../agents/nn/backend.js';
import { Tokenizer } from '../../agents/llm/tokenizer.js';
import { WmgymLm, type WmgymLmOptions } from '../../agents/llm/wmgym-lm.js';
import {
  LmTrainer,
  type LmEvaluation,
  type LmTrainerOptions,
} from '../../agents/llm/lm-trainer.js';
import { CORPUS_SEED_MIN, corpusDocuments, type CorpusDocument } from './corpus.js';

/** Options of {@link trainLm} (the command's flags). */
export interface TrainLmOptions {
  /** Where the finished model goes. @defaultValue 'models/wmgym-lm' */
  out: string;
  /** The run folder (tokenizer, checkpoints, log). @defaultValue 'runs/wmgym-lm' */
  run: string;
  resume: boolean;
  /** Optimiser steps. @defaultValue 1800 */
  steps: number;
  /** Corpus episodes per environment of weight 1 (training). @defaultValue 20 */
  episodes: number;
  /** Held-out corpus episodes per environment of weight 1. @defaultValue 2 */
  validationEpisodes: number;
  evalEvery: number;
  checkpointEvery: number;
  printEvery: number;
  vocabSize: number;
  model: Omit<WmgymLmOptions, 'vocabSize'>;
  trainer: Omit<LmTrainerOptions, 'totalSteps'>;
  /** Seed of the model's initialisation. @defaultValue 0 */
  seed: number;
  /** Loss weight of the request's tokens (an answer's weigh 1). @defaultValue 0.1 */
  promptWeight: number;
  /** Loss weight of the prior's answers' tokens. @defaultValue 0.5 */
  priorWeight: number;
}

/** The training seeds start here; the held-out games start at {@link VALIDATION_SEED_START}. */
export const TRAIN_SEED_START = CORPUS_SEED_MIN;
/** First seed of the held-out corpus (never trained on; still ≥ 1,000,000, so never evaluated on). */
export const VALIDATION_SEED_START = 1_500_000;

export const TRAIN_LM_DEFAULTS: TrainLmOptions = Object.freeze({
  out: 'models/wmgym-lm',
  run: 'runs/wmgym-lm',
  resume: false,
  steps: 1800,
  episodes: 20,
  validationEpisodes: 2,
  evalEvery: 200,
  checkpointEvery: 100,
  printEvery: 20,
  vocabSize: 4096,
  model: { modelSize: 128, heads: 4, layers: 4, contextLength: 256 },
  trainer: {
    batchSize: 16,
    learningRate: 2e-3,
    warmupSteps: 100,
    weightDecay: 0.1,
    seed: 0,
    evalTokens: 65_536,
  },
  seed: 0,
  promptWeight: 0.1,
  priorWeight: 0.5,
});

interface LogEntry {
  step: number;
  /** Training wall time so far, over every resumed part, seconds. */
  seconds: number;
  trainLoss: number;
  validation?: LmEvaluation;
}

/** What the run writes into `log.json`. */
interface RunLog {
  format: 'wmgym-lm-train-log';
  options: TrainLmOptions;
  corpus: { train: CorpusStats; validation: CorpusStats };
  tokenizerSeconds: number;
  /** The trained tokenizer's size (training stops early once every word of the corpus is a token). */
  vocabulary: number;
  entries: LogEntry[];
}

interface CorpusStats {
  documents: number;
  characters: number;
  tokens: number;
  seeds: [number, number];
  byFormat: Record<string, number>;
  /** Prior examples left out for being longer than the context. */
  tooLong?: number;
}

/** Builds the corpus, trains (or resumes), saves the model and its card; returns the run log. */
export async function trainLm(options: TrainLmOptions): Promise<RunLog> {
  const logPath = join(options.run, 'log.json');
  const tokenizerPath = join(options.run, 'tokenizer.json');
  const checkpointDir = join(options.run, 'checkpoint');
  if (!options.resume && existsSync(options.run))
    throw new InvalidOptionError(
      '--run',
      options.run,
      'a folder that does not exist yet (or --resume to continue the run in it)',
    );
  if (options.resume && !existsSync(join(checkpointDir, 'checkpoint.json')))
    throw new InvalidOptionError('--resume', options.run, 'a run folder with a checkpoint');
  mkdirSync(options.run, { recursive: true });

  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  let resumedLog: RunLog | undefined;
  if (options.resume) {
    // The run continues as it began: its corpus, sizes and schedule come from its log.
    resumedLog = JSON.parse(readFileSync(logPath, 'utf8')) as RunLog;
    // A run logged before loss weights existed trained on every token alike.
    const logged: Partial<TrainLmOptions> = resumedLog.options;
    options = {
      ...resumedLog.options,
      promptWeight: logged.promptWeight ?? 1,
      priorWeight: logged.priorWeight ?? 1,
      out: options.out,
      run: options.run,
      resume: true,
    };
  }
  const train = collect(TRAIN_SEED_START, options.episodes);
  const validation = collect(VALIDATION_SEED_START, options.validationEpisodes);
  say(
    `corpus: ${train.docs.length} training documents (${mb(train.characters)} MB), ${validation.docs.length} held-out`,
  );

  let tokenizer: Tokenizer;
  let log: RunLog;
  if (resumedLog !== undefined) {
    tokenizer = Tokenizer.load(tokenizerPath);
    log = resumedLog;
  } else {
    const started = performance.now();
    tokenizer = Tokenizer.train(
      train.docs.map((d) => d.text),
      { vocabSize: options.vocabSize },
    );
    tokenizer.save(tokenizerPath);
    log = {
      format: 'wmgym-lm-train-log',
      options,
      corpus: { train: stats(train, 0), validation: stats(validation, 0) },
      tokenizerSeconds: (performance.now() - started) / 1000,
      vocabulary: tokenizer.vocabSize,
      entries: [],
    };
  }
  const weights = { prompt: options.promptWeight, agent: 1, prior: options.priorWeight };
  const encodedTrain = encodeCorpus(tokenizer, train.docs, options.model.contextLength, weights);
  // Held out: the loss on the agents' answers alone (and, unweighted, on everything).
  const encodedValidation = encodeCorpus(tokenizer, validation.docs, options.model.contextLength, {
    prompt: 0,
    agent: 1,
    prior: 0,
  });
  const unweighted = options.promptWeight === 1 && options.priorWeight === 1;
  const data = {
    train: encodedTrain.tokens,
    validation: encodedValidation.tokens,
    validationWeights: encodedValidation.weights,
    ...(unweighted ? {} : { trainWeights: encodedTrain.weights }),
  };
  log.corpus.train.tokens = data.train.length;
  log.corpus.validation.tokens = data.validation.length;
  log.corpus.train.tooLong = encodedTrain.tooLong;
  log.corpus.validation.tooLong = encodedValidation.tooLong;
  say(
    `tokens: ${data.train.length} training, ${data.validation.length} held-out (vocabulary ${tokenizer.vocabSize}); prior examples longer than the context left out: ${encodedTrain.tooLong} training, ${encodedValidation.tooLong} held-out`,
  );

  const trainer = options.resume
    ? LmTrainer.resume(checkpointDir, data)
    : new LmTrainer(
        WmgymLm.create(
          { ...options.model, vocabSize: tokenizer.vocabSize },
          options.seed,
          tokenizer,
        ),
        data,
        { ...options.trainer, totalSteps: options.steps },
      );
  const model = trainer.model;
  say(
    `model: ${model.parameterCount} parameters; ${trainer.tokensPerStep} tokens per step; from step ${trainer.step} to ${options.steps}`,
  );
  writeJsonAtomic(logPath, log);

  const secondsBefore = log.entries.at(-1)?.seconds ?? 0;
  let seconds = secondsBefore;
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summary = await trainer.train({
    untilStep: options.steps,
    evalEvery: options.evalEvery,
    checkpointDir,
    checkpointEvery: options.checkpointEvery,
    signal: abort.signal,
    onProgress: (p) => {
      seconds = secondsBefore + p.elapsedMs / 1000;
      const left = ((p.targetStep - p.step) * trainer.tokensPerStep) / p.tokensPerSecond;
      if (
        p.validation !== undefined ||
        p.step % options.printEvery === 0 ||
        p.step === p.targetStep
      ) {
        const held =
          p.validation === undefined
            ? ''
            : `, held-out loss ${p.validation.loss.toFixed(3)} (perplexity ${p.validation.perplexity.toFixed(2)}; agents' answers ${p.validation.weighted?.loss.toFixed(3) ?? '-'})`;
        say(
          `step ${p.step}/${p.targetStep}: loss ${p.loss.toFixed(3)}${held}, ${Math.round(p.tokensPerSecond)} tokens/s, ${minutes(seconds)} min so far, ETA ${minutes(left)} min`,
        );
      }
      if (p.validation !== undefined || p.step % options.checkpointEvery === 0) {
        const entry: LogEntry = { step: p.step, seconds, trainLoss: p.loss };
        if (p.validation !== undefined) entry.validation = p.validation;
        log.entries.push(entry);
        writeJsonAtomic(logPath, log);
      }
    },
  });
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
  if (summary.aborted) {
    say(
      `stopped at step ${summary.step}; checkpoint in ${checkpointDir} (npm run train-lm -- --resume)`,
    );
    trainer.dispose();
    process.exitCode = 130;
    return log;
  }
  const final = summary.validation ?? trainer.evaluate();
  model.save(options.out, {
    dtype: 'float16',
    metadata: {
      name: 'wmgym-lm',
      steps: summary.step,
      trainTokens: summary.step * trainer.tokensPerStep,
      heldOutLoss: final.loss,
      heldOutPerplexity: final.perplexity,
      corpusSeeds: log.corpus.train.seeds,
      heldOutSeeds: log.corpus.validation.seeds,
    },
  });
  writeFileAtomic(
    join(options.out, 'MODEL_CARD.md'),
    modelCard(log, model.parameterCount, final, seconds),
  );
  say(
    `saved ${options.out}: held-out perplexity ${final.perplexity.toFixed(2)} after ${summary.step} steps, ${minutes(seconds)} min`,
  );
  trainer.dispose();
  return log;
}

interface Collected {
  docs: CorpusDocument[];
  characters: number;
  seedStart: number;
}

/** Loss weights of a request's tokens and of each format's answer tokens. */
export interface CorpusTokenWeights {
  prompt: number;
  agent: number;
  prior: number;
}

/** What {@link encodeCorpus} returns. */
export interface EncodedCorpus {
  /** The token stream. */
  tokens: Int32Array;
  /** The loss weight of predicting each token. */
  weights: Float32Array;
  /** Prior examples left out for being longer than the context. */
  tooLong: number;
}

/**
 * The documents as one stream, each as a provider encodes a request — the end-of-text token, the
 * request (`text` up to `completionStart`), then the answer encoded on its own — with the weight
 * of each token (the end-of-text token that follows an answer weighs as the answer: it teaches
 * where an answer ends); prior examples longer than `context` tokens are left out.
 */
export function encodeCorpus(
  tokenizer: Tokenizer,
  documents: readonly Pick<CorpusDocument, 'text' | 'format' | 'completionStart'>[],
  context: number,
  weights: CorpusTokenWeights,
): EncodedCorpus {
  let tokens = new Int32Array(1 << 20);
  let weight = new Float32Array(1 << 20);
  let length = 0;
  let tooLong = 0;
  const push = (ids: Int32Array | readonly number[], w: number): void => {
    if (length + ids.length > tokens.length) {
      const size = Math.max(2 * tokens.length, length + ids.length);
      const grownTokens = new Int32Array(size);
      grownTokens.set(tokens.subarray(0, length));
      const grownWeights = new Float32Array(size);
      grownWeights.set(weight.subarray(0, length));
      tokens = grownTokens;
      weight = grownWeights;
    }
    for (const id of ids) {
      tokens[length] = id;
      weight[length++] = w;
    }
  };
  let previousAnswerWeight = weights.prompt;
  for (const { text, format, completionStart } of documents) {
    const request = tokenizer.encode(text.slice(0, completionStart));
    const answer = tokenizer.encode(text.slice(completionStart));
    if (format === 'prior' && 1 + request.length + answer.length > context) {
      tooLong++;
      continue;
    }
    const answerWeight = format === 'agent' ? weights.agent : weights.prior;
    // The end-of-text token is predicted after the previous document's answer.
    push([tokenizer.endOfText], previousAnswerWeight);
    push(request, weights.prompt);
    push(answer, answerWeight);
    previousAnswerWeight = answerWeight;
  }
  return { tokens: tokens.slice(0, length), weights: weight.slice(0, length), tooLong };
}

function collect(seedStart: number, episodesPerEnv: number): Collected {
  const docs = [...corpusDocuments({ seedStart, episodesPerEnv })];
  // Shuffled (seeded), so the held-out evaluation's first windows mix every family.
  const rng = new Rng(seedStart);
  for (let i = docs.length - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  let characters = 0;
  for (const d of docs) characters += d.text.length;
  return { docs, characters, seedStart };
}

function stats(c: Collected, tokens: number): CorpusStats {
  const byFormat: Record<string, number> = {};
  let last = c.seedStart;
  for (const d of c.docs) {
    byFormat[d.format] = (byFormat[d.format] ?? 0) + 1;
    if (d.seed > last) last = d.seed;
  }
  return {
    documents: c.docs.length,
    characters: c.characters,
    tokens,
    seeds: [c.seedStart, last],
    byFormat,
  };
}

function modelCard(log: RunLog, parameters: number, final: LmEvaluation, seconds: number): string {
  const o = log.options;
  const { train, validation } = log.corpus;
  const evals = log.entries.filter((e) => e.validation !== undefined);
  const lastEntry = log.entries.at(-1);
  const steps = lastEntry?.step ?? 0;
  const tokensPerStep = (o.trainer.batchSize ?? 16) * o.model.contextLength;
  return `# wmgym-lm

A small decoder-only language model trained by wmgym on the text of wmgym's own environments, and
shipped with it so that every language-model path of the suite runs offline with a real language
model. **It is not a general-purpose language model**: it has read nothing but this suite's game
transcripts (TextWorld, GridNav, classic control) in the two formats the suite prompts in, and it
knows nothing else.

## What it is

| | |
|---|---|
| architecture | decoder-only transformer (\`agents/nn/transformer.ts\`): token and position embeddings, ${o.model.layers} pre-norm blocks, ${o.model.heads}-head causal attention, MLP ${4 * o.model.modelSize} wide, tied output layer |
| width / context | ${o.model.modelSize} / ${o.model.contextLength} tokens (a longer prompt keeps its end) |
| parameters | ${parameters.toLocaleString('en-US')} |
| tokenizer | byte-level BPE trained on the training corpus: ${log.vocabulary.toLocaleString('en-US')} tokens (asked for at most ${o.vocabSize.toLocaleString('en-US')}; merging stops once every word of the corpus is one token), \`tokenizer.json\`; any text encodes losslessly |
| weights | \`weights.bin\`, float16 |

## Corpus (\`scripts/lm/corpus.ts\`)

Episodes of every family — classic control (CartPole, Pendulum, MountainCarContinuous, Acrobot),
GridNav (Task-k5/k10/k20 and every MiniGrid generator the suite has), TextWorld (Quest-k5/k10/k20,
Coins, Treasure) — played by the oracle (GridNav \`optimalPlan()\`, TextWorld \`walkthrough()\`) with
ε = 0, 0.2, 0.5 and by random admissible play, cut at 40 steps, written as

- **agent examples** (${(train.byFormat['agent'] ?? 0).toLocaleString('en-US')} training documents): \`LlmAgent\`'s exact prompt of a step, then the
  oracle's command from that state (classic control, which has no oracle: the random action played,
  for the command syntax only);
- **prior examples** (${(train.byFormat['prior'] ?? 0).toLocaleString('en-US')}, of which the ${(train.tooLong ?? 0).toLocaleString('en-US')} longer than the context were left out): \`LanguagePrior\`'s request — the canonical state text and a command —
  then the next state, reward and termination.

**Seeds**: training games ${train.seeds[0].toLocaleString('en-US')}–${train.seeds[1].toLocaleString('en-US')}, held-out games
${validation.seeds[0].toLocaleString('en-US')}–${validation.seeds[1].toLocaleString('en-US')}. Every seed is at or above 1,000,000; every evaluation of the
suite (tests, benchmarks, experiments) uses seeds below, so no evaluated task was in the corpus.
Training corpus: ${train.documents.toLocaleString('en-US')} documents, ${train.characters.toLocaleString('en-US')} characters,
${train.tokens.toLocaleString('en-US')} tokens; held-out: ${validation.documents.toLocaleString('en-US')} documents, ${validation.tokens.toLocaleString('en-US')} tokens.

## Training (\`scripts/lm/train.ts\`)

\`npm run train-lm\` (resumable with \`-- --resume\`): AdamW (β = 0.9, 0.95; weight decay ${o.trainer.weightDecay ?? 0.1} on the
matrices), peak learning rate ${o.trainer.learningRate ?? 1e-3}, ${o.trainer.warmupSteps ?? 100} warm-up steps then a cosine to a tenth, batches of
${o.trainer.batchSize ?? 16} windows of ${o.model.contextLength} tokens, ${steps.toLocaleString('en-US')} steps (${(steps * tokensPerStep).toLocaleString('en-US')} tokens, ${(
    (steps * tokensPerStep) /
    train.tokens
  ).toFixed(
    2,
  )} epochs), seed ${o.seed}; ${minutes(seconds)} minutes of training on the wasm backend, 2 cores
(${Math.round((steps * tokensPerStep) / Math.max(seconds, 1e-9)).toLocaleString('en-US')} tokens/s; tokenizer ${log.tokenizerSeconds.toFixed(1)} s).
Loss weights: each document encoded as a provider encodes the request (end-of-text, the request,
then the answer on its own); a token of a request weighs ${o.promptWeight}, of an agent's answer 1, of the
prior's answer ${o.priorWeight}. Prior examples longer than the context were left out (${(train.tooLong ?? 0).toLocaleString('en-US')} training, ${(validation.tooLong ?? 0).toLocaleString('en-US')} held-out).

Held-out loss (nats per token, every token) and perplexity, and the loss on the agents' answers
(the commands) alone:

| step | held-out loss | perplexity | agents' answers |
|---:|---:|---:|---:|
${evals.map((e) => `| ${e.step} | ${e.validation!.loss.toFixed(3)} | ${e.validation!.perplexity.toFixed(2)} | ${e.validation!.weighted?.loss.toFixed(3) ?? '-'} |`).join('\n')}

Final: loss ${final.loss.toFixed(3)}, perplexity **${final.perplexity.toFixed(2)}** on ${final.tokens.toLocaleString('en-US')} held-out tokens${final.weighted === undefined ? '' : `; agents' answers ${final.weighted.loss.toFixed(3)} on ${final.weighted.tokens.toLocaleString('en-US')} tokens`}.
How well it plays and predicts is measured in BENCHMARKS.md ("wmgym-lm").
`;
}

function mb(chars: number): string {
  return (chars / 1e6).toFixed(1);
}

function minutes(seconds: number): string {
  return Number.isFinite(seconds) ? (seconds / 60).toFixed(1) : '?';
}

/** Parses the command's flags (see the module comment). */
export function parseTrainLmArgs(argv: readonly string[]): TrainLmOptions {
  const o = structuredClone<TrainLmOptions>(TRAIN_LM_DEFAULTS);
  const counts: Record<string, (n: number) => void> = {
    '--steps': (n) => (o.steps = n),
    '--episodes': (n) => (o.episodes = n),
    '--validation-episodes': (n) => (o.validationEpisodes = n),
    '--eval-every': (n) => (o.evalEvery = n),
    '--checkpoint-every': (n) => (o.checkpointEvery = n),
    '--print-every': (n) => (o.printEvery = n),
    '--seed': (n) => (o.seed = n),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--resume') o.resume = true;
    else if (flag === '--out' || flag === '--run') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--'))
        throw new InvalidOptionError(flag, value, 'a folder path');
      if (flag === '--out') o.out = value;
      else o.run = value;
    } else if (flag === '--prompt-weight' || flag === '--prior-weight') {
      const value = argv[++i];
      const w = Number(value);
      if (value === undefined || value.trim() === '' || !Number.isFinite(w) || w < 0 || w > 1)
        throw new InvalidOptionError(flag, value, 'a number from 0 to 1');
      if (flag === '--prompt-weight') o.promptWeight = w;
      else o.priorWeight = w;
    } else if (flag in counts) {
      const value = argv[++i];
      const n = Number(value);
      if (
        value === undefined ||
        !Number.isSafeInteger(n) ||
        n < (flag === '--eval-every' || flag === '--seed' ? 0 : 1)
      )
        throw new InvalidOptionError(flag, value, 'a positive integer');
      counts[flag]!(n);
    } else
      throw new InvalidOptionError(
        'train-lm flag',
        flag,
        `one of --out, --run, --resume, --prompt-weight, --prior-weight, ${Object.keys(counts).join(', ')}`,
      );
  }
  return o;
}

/** The command: `node dist/scripts/lm/train.js [flags]`. */
export async function main(argv: readonly string[]): Promise<void> {
  let options: TrainLmOptions;
  try {
    options = parseTrainLmArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const backend = await initBackend();
  process.stdout.write(`backend: ${backend.name}, ${backend.threads ?? 1} thread(s)\n`);
  await trainLm(options);
}

if (process.argv[1] !== undefined && /[\\/]train\.[jt]s$/.test(process.argv[1]))
  await main(process.argv.slice(2));
