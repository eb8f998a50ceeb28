/**
 * wmgym-lm's tokenizer: byte-level byte-pair encoding in the manner of GPT-2, trained on the
 * suite's own game text, so that ANY string encodes and decodes losslessly.
 *
 * - **Base tokens** are the 256 byte values (ids 0–255). Text becomes bytes as UTF-8, or rather
 *   WTF-8: a lone surrogate (a JavaScript string may hold one) becomes its 3-byte form instead of
 *   U+FFFD, so `decode(encode(s)) === s` for every string `s`, the empty one included.
 * - **Pre-tokenisation** splits text before merging, so no token spans two words:
 *   English contractions (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`), an optional space and a run
 *   of letters and combining marks, an optional space and ONE digit (numbers are spelled digit by
 *   digit, which a small model generalises better), an optional space and a run of other symbols,
 *   whitespace (a run before a non-space leaves its last space to the next word) — GPT-2's split
 *   with marks kept on their letters and single digits. A pre-token longer than 64 bytes is merged
 *   in chunks of 64 bytes (long runs of spaces or dashes cannot make encoding quadratic).
 * - **Merges** are learned from a corpus ({@link Tokenizer.train}): repeatedly the most frequent
 *   adjacent pair of tokens (ties: the pair with the smaller ids) becomes a new token, ids 256, 257,
 *   … in merge order. Counting runs over the corpus's UNIQUE pre-tokens with their counts, and each
 *   merge updates only the pair counts of the words that contain the pair (a heap with lazy
 *   deletion picks the next one), so a corpus of tens of megabytes trains in seconds to minutes.
 *   Encoding applies the merges by rank within each pre-token, cached per pre-token.
 * - **Special tokens** follow the merges: `<|endoftext|>` ({@link Tokenizer.endOfText}), which
 *   separates documents and starts every prompt, and `<|pad|>` ({@link Tokenizer.padding}), which
 *   fills batches. {@link Tokenizer.encode} never produces them (text that spells
 *   `<|endoftext|>` is encoded as its bytes); they are added by id.
 *
 * Saved as `tokenizer.json` ({@link Tokenizer.toJSON}, {@link Tokenizer.fromJSON}): the merges as
 * a flat `[a₀, b₀, a₁, b₁, …]` list and the special tokens' texts.
 *
 * @see Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units" (BPE).
 * @see Radford et al. 2019, "Language Models are Unsupervised Multitask Learners" (byte-level BPE).
 * @example
 * const tokenizer = Tokenizer.train(transcripts, { vocabSize: 4096 });
 * const ids = tokenizer.encode('You are in the cellar.'); // Int32Array
 * tokenizer.decode(ids); // 'You are in the cellar.'
 */
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../../envs/core/atomic.js';
import {
  InvalidOptionError,
  InvalidValueError,
  MalformedFileError,
  formatValue,
} from '../../envs/core/errors.js';

/** Text of the end-of-text token. */
export const END_OF_TEXT = '<|endoftext|>';
/** Text of the padding token. */
export const PADDING = '<|pad|>';
/** The special tokens, in id order (after the merges). */
const SPECIAL_TOKENS: readonly string[] = [END_OF_TEXT, PADDING];

/** Number of base (byte) tokens. */
const BYTE_TOKENS = 256;
/** Longest chunk of a pre-token merged as one word, in bytes. */
const MAX_WORD_BYTES = 64;
/** Largest vocabulary (pair keys `a·2²⁰ + b` stay exact doubles). */
const MAX_VOCAB_SIZE = 1 << 20;
/** Pre-tokens the encoder caches before it starts afresh. */
const CACHE_LIMIT = 1 << 18;
/** Name of the pre-tokenisation rule in `tokenizer.json` (a new rule gets a new name). */
const PRETOKENIZER = 'wmgym-bpe-v1';

/**
 * The pre-token pattern (see the module comment). Every character matches one alternative, so the
 * matches tile the text; `y` makes a gap impossible to skip unnoticed.
 */
const PRETOKEN =
  /'(?:s|t|re|ve|m|ll|d)| ?[\p{L}\p{M}]+| ?\p{N}| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+/uy;

/** Options of {@link Tokenizer.train}. */
export interface TokenizerTrainOptions {
  /**
   * Size of the vocabulary: 256 bytes + merges + the 2 special tokens, from 258 to 2²⁰. Training
   * stops early (a smaller vocabulary) when no pair occurs `minFrequency` times any more.
   */
  vocabSize: number;
  /** A pair is merged only if it occurs at least this often. @defaultValue 2 */
  minFrequency?: number;
  /** Called every 256 merges and at the end with the merges learned and the merges wanted. */
  onProgress?: (merges: number, target: number) => void;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Special tokens as their text (`<|endoftext|>`) or left out. @defaultValue 'text' */
  special?: 'text' | 'skip';
}

/** The JSON form of a {@link Tokenizer} (`tokenizer.json`). */
export interface TokenizerJson {
  format: 'wmgym-bpe';
  version: 1;
  /** The pre-tokenisation rule. */
  pretokenizer: typeof PRETOKENIZER;
  /** Total number of tokens. */
  vocabSize: number;
  /** The merges as a flat list `[a₀, b₀, a₁, b₁, …]`: merge i makes token 256 + i from a, b. */
  merges: number[];
  /** Special tokens' texts, ids following the merges. */
  special: string[];
}

/** A byte-level BPE tokenizer; see the module comment. */
export class Tokenizer {
  /** Total number of tokens (bytes, merges, special tokens). */
  readonly vocabSize: number;
  /** Id of `<|endoftext|>`. */
  readonly endOfText: number;
  /** Id of `<|pad|>`. */
  readonly padding: number;
  /** Merge i (token 256 + i) is the pair `merges[2i], merges[2i + 1]`. */
  private readonly merges: Int32Array;
  /** Rank of a pair, by key `a·2²⁰ + b`. */
  private readonly ranks = new Map<number, number>();
  /** The bytes of every token (special tokens: their text's). */
  private readonly bytes: Uint8Array[];
  private readonly cache = new Map<string, Int32Array>();
  /** Scratch space of one pre-token's bytes. */
  private scratch = new Int32Array(256);

  private constructor(merges: Int32Array) {
    this.merges = merges;
    const count = merges.length / 2;
    this.bytes = [];
    for (let b = 0; b < BYTE_TOKENS; b++) this.bytes.push(Uint8Array.of(b));
    for (let i = 0; i < count; i++) {
      const a = merges[2 * i]!;
      const b = merges[2 * i + 1]!;
      this.ranks.set(pairKey(a, b), i);
      const left = this.bytes[a]!;
      const right = this.bytes[b]!;
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      this.bytes.push(joined);
    }
    for (const text of SPECIAL_TOKENS) this.bytes.push(Buffer.from(text, 'utf8'));
    this.endOfText = BYTE_TOKENS + count;
    this.padding = BYTE_TOKENS + count + 1;
    this.vocabSize = BYTE_TOKENS + count + SPECIAL_TOKENS.length;
  }

  /**
   * Learns merges from `texts` (deterministic: the same texts in the same order give the same
   * tokenizer). Each text is pre-tokenised on its own (nothing is merged across texts).
   * @throws {@link InvalidOptionError} for a vocabulary size outside [258, 2²⁰] or a bad option.
   * @throws {@link InvalidValueError} when an item of `texts` is not a string.
   */
  static train(texts: Iterable<string>, options: TokenizerTrainOptions): Tokenizer {
    const vocabSize = options.vocabSize;
    const least = BYTE_TOKENS + SPECIAL_TOKENS.length;
    if (!Number.isSafeInteger(vocabSize) || vocabSize < least || vocabSize > MAX_VOCAB_SIZE)
      throw new InvalidOptionError(
        'Tokenizer.train vocabSize',
        vocabSize,
        `an integer from ${least} (256 bytes + ${SPECIAL_TOKENS.length} special tokens) to ${MAX_VOCAB_SIZE}`,
      );
    const minFrequency = options.minFrequency ?? 2;
    if (!Number.isSafeInteger(minFrequency) || minFrequency < 1)
      throw new InvalidOptionError('Tokenizer.train minFrequency', minFrequency, 'an integer ≥ 1');
    const counts = countPretokens(texts);
    const merges = learnMerges(counts, vocabSize - least, minFrequency, options.onProgress);
    return new Tokenizer(merges);
  }

  /**
   * The tokenizer of a {@link Tokenizer.toJSON} value.
   * @throws {@link MalformedFileError} (naming `file` and the JSON path) when `json` is not one.
   */
  static fromJSON(json: unknown, file = 'tokenizer.json'): Tokenizer {
    const fail = (path: string, problem: string): never => {
      throw new MalformedFileError(file, path, problem);
    };
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      fail('$', `expected a wmgym-bpe tokenizer object, received ${formatValue(json)}`);
    const j = json as Partial<Record<keyof TokenizerJson, unknown>>;
    if (j.format !== 'wmgym-bpe')
      fail('$.format', `expected "wmgym-bpe", received ${formatValue(j.format)}`);
    if (j.version !== 1) fail('$.version', `expected 1, received ${formatValue(j.version)}`);
    if (j.pretokenizer !== PRETOKENIZER)
      fail('$.pretokenizer', `expected "${PRETOKENIZER}", received ${formatValue(j.pretokenizer)}`);
    if (!Array.isArray(j.merges) || j.merges.length % 2 !== 0)
      fail('$.merges', `expected a list of pairs of token ids, received ${formatValue(j.merges)}`);
    const list = j.merges as unknown[];
    const merges = new Int32Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      const limit = BYTE_TOKENS + (i >> 1);
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= limit)
        fail(
          `$.merges[${i}]`,
          `expected a token id from 0 to ${limit - 1} (merge ${i >> 1} may use bytes and earlier merges), received ${formatValue(id)}`,
        );
      merges[i] = id as number;
    }
    if (
      !Array.isArray(j.special) ||
      j.special.length !== SPECIAL_TOKENS.length ||
      j.special.some((s, i) => s !== SPECIAL_TOKENS[i])
    )
      fail(
        '$.special',
        `expected ${JSON.stringify(SPECIAL_TOKENS)}, received ${formatValue(j.special)}`,
      );
    const tokenizer = new Tokenizer(merges);
    if (j.vocabSize !== tokenizer.vocabSize)
      fail(
        '$.vocabSize',
        `expected ${tokenizer.vocabSize} (256 + ${merges.length / 2} merges + ${SPECIAL_TOKENS.length}), received ${formatValue(j.vocabSize)}`,
      );
    return tokenizer;
  }

  /**
   * Reads a `tokenizer.json`.
   * @throws {@link MalformedFileError} for a missing, unreadable or malformed file.
   */
  static load(path: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new MalformedFileError(path, '$', 'expected a readable tokenizer file, received none', {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new MalformedFileError(path, '$', `expected JSON, received ${String(error)}`, {
        cause: error,
      });
    }
    return Tokenizer.fromJSON(json, path);
  }

  /** Writes `tokenizer.json` to `path` atomically. */
  save(path: string): void {
    writeJsonAtomic(path, this.toJSON());
  }

  /** The JSON form (see {@link TokenizerJson}). */
  toJSON(): TokenizerJson {
    return {
      format: 'wmgym-bpe',
      version: 1,
      pretokenizer: PRETOKENIZER,
      vocabSize: this.vocabSize,
      merges: Array.from(this.merges),
      special: [...SPECIAL_TOKENS],
    };
  }

  /** Number of learned merges. */
  get mergeCount(): number {
    return this.merges.length / 2;
  }

  /** True for the ids of special tokens. */
  isSpecial(id: number): boolean {
    return id >= this.endOfText && id < this.vocabSize;
  }

  /** The bytes token `id` stands for (a special token: its text's); the caller must not change them. */
  tokenBytes(id: number): Uint8Array {
    const bytes = this.bytes[id];
    if (bytes === undefined || !Number.isInteger(id))
      throw new InvalidValueError(
        'token id',
        formatValue(id),
        `an integer from 0 to ${this.vocabSize - 1}`,
      );
    return bytes;
  }

  /**
   * The tokens of `text` (never special tokens). Lossless: `decode(encode(s)) === s`.
   * @throws {@link InvalidValueError} when `text` is not a string.
   */
  encode(text: string): Int32Array {
    if (typeof text !== 'string')
      throw new InvalidValueError('text to encode', formatValue(text), 'a string');
    const out = new TokenList(text.length + 16);
    this.encodeInto(text, out);
    return out.take();
  }

  /**
   * One token stream of several documents, each preceded by `<|endoftext|>` (the layout wmgym-lm
   * is trained on: a document starts after an end-of-text token, as every prompt does).
   * @throws {@link InvalidValueError} when a document is not a string.
   */
  encodeDocuments(documents: Iterable<string>): Int32Array {
    const out = new TokenList(1 << 16);
    let index = 0;
    for (const text of documents) {
      if (typeof text !== 'string')
        throw new InvalidValueError(`document ${index}`, formatValue(text), 'a string');
      out.push(this.endOfText);
      this.encodeInto(text, out);
      index++;
    }
    return out.take();
  }

  /**
   * The text of `ids`. Byte sequences that are not UTF-8 (a generation cut inside a character)
   * decode to U+FFFD, as `TextDecoder` does; lone surrogates encoded by {@link Tokenizer.encode}
   * come back as they were.
   * @throws {@link InvalidValueError} for an id outside the vocabulary.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.special === 'skip';
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const bytes = this.bytes[id];
      if (bytes === undefined || !Number.isInteger(id))
        throw new InvalidValueError(
          `token id at index ${i}`,
          formatValue(id),
          `an integer from 0 to ${this.vocabSize - 1}`,
        );
      if (!(skip && id >= this.endOfText)) length += bytes.length;
    }
    const buffer = new Uint8Array(length);
    let at = 0;
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- an ArrayLike has no iterator
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skip && id >= this.endOfText) continue;
      const bytes = this.bytes[id]!;
      buffer.set(bytes, at);
      at += bytes.length;
    }
    return decodeWtf8(buffer);
  }

  /** Appends the tokens of `text` to `out`. */
  private encodeInto(text: string, out: TokenList): void {
    const pattern = new RegExp(PRETOKEN);
    let at = 0;
    while (at < text.length) {
      pattern.lastIndex = at;
      const match = pattern.exec(text);
      if (match === null) throw new Error(`wmgym tokenizer: no pre-token at offset ${at}`); // cannot happen: the alternatives cover every character
      const piece = match[0];
      at += piece.length;
      let tokens = this.cache.get(piece);
      if (tokens === undefined) {
        tokens = this.encodePretoken(piece);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, tokens);
      }
      out.pushAll(tokens);
    }
  }

  /** The tokens of one pre-token: its bytes, merged by rank in chunks of {@link MAX_WORD_BYTES}. */
  private encodePretoken(piece: string): Int32Array {
    if (this.scratch.length < 4 * piece.length) this.scratch = new Int32Array(4 * piece.length);
    const bytes = this.scratch;
    const n = wtf8Bytes(piece, bytes);
    const out = new TokenList(n);
    for (let start = 0; start < n; start += MAX_WORD_BYTES) {
      const word = Array.from(bytes.subarray(start, Math.min(n, start + MAX_WORD_BYTES)));
      this.mergeWord(word);
      for (const id of word) out.push(id);
    }
    return out.take();
  }

  /** Applies the merges to `word` in place: the lowest-ranked pair first, all its occurrences left to right. */
  private mergeWord(word: number[]): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(pairKey(word[i]!, word[i + 1]!));
        if (rank !== undefined && (best < 0 || rank < best)) best = rank;
      }
      if (best < 0) return;
      const a = this.merges[2 * best]!;
      const b = this.merges[2 * best + 1]!;
      const merged = BYTE_TOKENS + best;
      let write = 0;
      for (let read = 0; read < word.length; read++) {
        if (read + 1 < word.length && word[read] === a && word[read + 1] === b) {
          word[write++] = merged;
          read++;
        } else word[write++] = word[read]!;
      }
      word.length = write;
    }
  }
}

// ---- training -----------------------------------------------------------------------------------

/** Each distinct pre-token of `texts` with its number of occurrences (in first-seen order). */
function countPretokens(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  const pattern = new RegExp(PRETOKEN);
  let index = 0;
  for (const text of texts) {
    if (typeof text !== 'string')
      throw new InvalidValueError(`training text ${index}`, formatValue(text), 'a string');
    let at = 0;
    while (at < text.length) {
      pattern.lastIndex = at;
      const match = pattern.exec(text);
      if (match === null) throw new Error(`wmgym tokenizer: no pre-token at offset ${at}`); // cannot happen
      const piece = match[0];
      at += piece.length;
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
    index++;
  }
  return counts;
}

/**
 * Learns up to `target` merges from pre-token counts. Words (chunks of pre-tokens) live in one
 * `Int32Array` and shrink in place; `pairCounts` holds every adjacent pair's weighted count,
 * `pairWords` the words a pair may occur in (stale entries are skipped), and a max-heap with lazy
 * deletion the candidates. A merge rewrites only the words that contain its pair and applies the
 * net change of their pair counts.
 */
function learnMerges(
  counts: Map<string, number>,
  target: number,
  minFrequency: number,
  onProgress: ((merges: number, target: number) => void) | undefined,
): Int32Array {
  // Words: every pre-token's bytes, in chunks of at most MAX_WORD_BYTES.
  let totalBytes = 0;
  let wordCount = 0;
  const pieces: Int32Array[] = [];
  const pieceCounts: number[] = [];
  let scratch = new Int32Array(256);
  for (const [piece, count] of counts) {
    if (scratch.length < 4 * piece.length) scratch = new Int32Array(4 * piece.length);
    const n = wtf8Bytes(piece, scratch);
    pieces.push(scratch.slice(0, n));
    pieceCounts.push(count);
    totalBytes += n;
    wordCount += Math.ceil(n / MAX_WORD_BYTES);
  }
  const symbols = new Int32Array(totalBytes);
  const start = new Int32Array(wordCount);
  const length = new Int32Array(wordCount);
  const weight = new Float64Array(wordCount);
  let w = 0;
  let at = 0;
  pieces.forEach((bytes, p) => {
    for (let s = 0; s < bytes.length; s += MAX_WORD_BYTES) {
      const n = Math.min(MAX_WORD_BYTES, bytes.length - s);
      symbols.set(bytes.subarray(s, s + n), at);
      start[w] = at;
      length[w] = n;
      weight[w] = pieceCounts[p]!;
      at += n;
      w++;
    }
  });

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const note = (key: number, word: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [word]);
    else if (list[list.length - 1] !== word) list.push(word);
  };
  for (let word = 0; word < wordCount; word++) {
    const s = start[word]!;
    for (let i = s; i + 1 < s + length[word]!; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + weight[word]!);
      note(key, word);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const merges = new Int32Array(2 * target);
  const visited = new Int32Array(wordCount).fill(-1);
  const delta = new Map<number, number>();
  let made = 0;
  while (made < target) {
    // The most frequent pair (ties: the smaller key); stale heap entries are skipped.
    let key = -1;
    while (heap.size > 0) {
      const count = heap.topCount();
      const top = heap.topKey();
      heap.pop();
      if (pairCounts.get(top) === count) {
        key = top;
        break;
      }
    }
    if (key < 0 || pairCounts.get(key)! < minFrequency) break;
    const a = Math.floor(key / MAX_VOCAB_SIZE);
    const b = key % MAX_VOCAB_SIZE;
    const merged = BYTE_TOKENS + made;
    merges[2 * made] = a;
    merges[2 * made + 1] = b;
    delta.clear();
    for (const word of pairWords.get(key)!) {
      if (visited[word] === made) continue;
      visited[word] = made;
      const s = start[word]!;
      const n = length[word]!;
      let found = false;
      for (let i = s; i + 1 < s + n; i++)
        if (symbols[i] === a && symbols[i + 1] === b) {
          found = true;
          break;
        }
      if (!found) continue;
      const c = weight[word]!;
      for (let i = s; i + 1 < s + n; i++) {
        const k = pairKey(symbols[i]!, symbols[i + 1]!);
        delta.set(k, (delta.get(k) ?? 0) - c);
      }
      let write = s;
      for (let read = s; read < s + n; read++) {
        if (read + 1 < s + n && symbols[read] === a && symbols[read + 1] === b) {
          symbols[write++] = merged;
          read++;
        } else symbols[write++] = symbols[read]!;
      }
      length[word] = write - s;
      for (let i = s; i + 1 < write; i++) {
        const left = symbols[i]!;
        const right = symbols[i + 1]!;
        const k = pairKey(left, right);
        delta.set(k, (delta.get(k) ?? 0) + c);
        if (left === merged || right === merged) note(k, word);
      }
    }
    for (const [k, change] of delta) {
      if (change === 0) continue;
      const count = (pairCounts.get(k) ?? 0) + change;
      if (count <= 0) {
        // A pair that vanished never comes back (merges only create pairs with the new token).
        pairCounts.delete(k);
        pairWords.delete(k);
      } else {
        pairCounts.set(k, count);
        heap.push(count, k);
      }
    }
    made++;
    if (onProgress !== undefined && made % 256 === 0) onProgress(made, target);
  }
  onProgress?.(made, target);
  return merges.slice(0, 2 * made);
}

/** A binary max-heap of (count, key) by count, then by smaller key; parallel arrays. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  topCount(): number {
    return this.counts[0]!;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  push(count: number, key: number): void {
    const counts = this.counts;
    const keys = this.keys;
    let i = counts.length;
    counts.push(count);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(count, key, counts[parent]!, keys[parent]!)) break;
      counts[i] = counts[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    counts[i] = count;
    keys[i] = key;
  }

  pop(): void {
    const counts = this.counts;
    const keys = this.keys;
    const lastCount = counts.pop()!;
    const lastKey = keys.pop()!;
    const n = counts.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && before(counts[right]!, keys[right]!, counts[left]!, keys[left]!)
          ? right
          : left;
      if (!before(counts[child]!, keys[child]!, lastCount, lastKey)) break;
      counts[i] = counts[child]!;
      keys[i] = keys[child]!;
      i = child;
    }
    counts[i] = lastCount;
    keys[i] = lastKey;
  }
}

function before(countA: number, keyA: number, countB: number, keyB: number): boolean {
  return countA > countB || (countA === countB && keyA < keyB);
}

function pairKey(a: number, b: number): number {
  return a * MAX_VOCAB_SIZE + b;
}

// ---- token lists and WTF-8 ----------------------------------------------------------------------

/** A growable list of token ids. */
class TokenList {
  private data: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }

  push(id: number): void {
    if (this.size === this.data.length) this.grow(1);
    this.data[this.size++] = id;
  }

  pushAll(ids: Int32Array): void {
    if (this.size + ids.length > this.data.length) this.grow(ids.length);
    this.data.set(ids, this.size);
    this.size += ids.length;
  }

  /** The ids, in an array of their exact length. */
  take(): Int32Array {
    return this.data.slice(0, this.size);
  }

  private grow(more: number): void {
    const next = new Int32Array(Math.max(2 * this.data.length, this.size + more));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

/**
 * Writes the WTF-8 bytes of `text` into `out` (at least 3 values per UTF-16 unit) and returns
 * their number: UTF-8, except that a lone surrogate takes its 3-byte form.
 */
function wtf8Bytes(text: string, out: Int32Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/**
 * Decodes WTF-8: UTF-8 as `TextDecoder` (WHATWG) decodes it, one U+FFFD per invalid or truncated
 * sequence, except that the 3-byte forms of surrogates (lead byte 0xED) are accepted and come back
 * as lone surrogates.
 */
function decodeWtf8(bytes: Uint8Array): string {
  const units: number[] = [];
  const chunks: string[] = [];
  const flush = (): void => {
    chunks.push(String.fromCharCode(...units));
    units.length = 0;
  };
  let needed = 0;
  let seen = 0;
  let code = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (needed === 0) {
      if (byte < 0x80) units.push(byte);
      else if (byte >= 0xc2 && byte <= 0xdf) {
        needed = 1;
        code = byte & 0x1f;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) lower = 0xa0;
        needed = 2;
        code = byte & 0xf;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) lower = 0x90;
        if (byte === 0xf4) upper = 0x8f;
        needed = 3;
        code = byte & 0x7;
      } else units.push(0xfffd);
    } else if (byte < lower || byte > upper) {
      // An invalid continuation: one U+FFFD for the sequence so far, then this byte afresh.
      needed = seen = code = 0;
      lower = 0x80;
      upper = 0xbf;
      units.push(0xfffd);
      i--;
    } else {
      lower = 0x80;
      upper = 0xbf;
      code = (code << 6) | (byte & 0x3f);
      if (++seen === needed) {
        if (code > 0xffff) {
          code -= 0x10000;
          units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
        } else units.push(code);
        needed = seen = code = 0;
      }
    }
    if (units.length >= 8192) flush();
  }
  if (needed !== 0) units.push(0xfffd);
  flush();
  return chunks.join('');
}
