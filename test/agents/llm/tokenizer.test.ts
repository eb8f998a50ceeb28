import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidOptionError,
  InvalidValueError,
  MalformedFileError,
} from '../../../envs/core/errors.js';
import { Rng } from '../../../envs/core/rng.js';
import { END_OF_TEXT, PADDING, Tokenizer } from '../../../agents/llm/tokenizer.js';

/** A small game-like corpus. */
const CORPUS: string[] = [];
{
  const rooms = ['cellar', 'kitchen', 'attic', 'hall', 'garden'];
  const things = ['coin', 'key', 'lamp', 'book'];
  for (let i = 0; i < 60; i++) {
    const room = rooms[i % rooms.length]!;
    const thing = things[(i * 3) % things.length]!;
    CORPUS.push(
      `-= ${room} =-\nYou are in the ${room}. There is a ${thing} here.\nExits: north, south.\n` +
        `> take ${thing}\nYou take the ${thing}. Score: ${i % 10}/10\n> go north\n`,
    );
  }
}
const tokenizer = Tokenizer.train(CORPUS, { vocabSize: 340 });

/** Strings unlike the corpus, the awkward corners of Unicode and of JavaScript strings included. */
const AWKWARD = [
  '',
  ' ',
  '\n\n\n',
  'a',
  '😀',
  '👩‍👩‍👧‍👦 family, 🇫🇷 flag, 🏳️‍🌈, 👍🏽',
  '日本語のテキスト、中文文本，한국어 텍스트',
  'e\u0301 (e + combining acute), n\u0303, Z̴̡̢͙̤͈a̷̛͔l̵g̸o̵',
  'control: \u0000\u0001\u0007\u001b[31mred\u001b[0m\t\r\n\u007f\u0085\u2028\u2029',
  'zero width: a\u200bb\u200dc\ufeffd',
  'lone surrogates: \ud800 x \udc00 y \udbff\udfff z \udfff\ud800',
  'Ελληνικά, русский текст, עברית, العربية',
  'function f(x) { return x ** 2 >= 0 ? "yes" : `no ${x}`; } // 12345678901234567890',
  ' '.repeat(1000) + 'x' + '-'.repeat(3000) + '\t'.repeat(70),
  "don't won't it's we're I'll they've I'm he'd DON'T",
  '<|endoftext|> spelled out is not the special token <|pad|>',
];

test('any text encodes and decodes losslessly: emoji, CJK, combining marks, control characters, lone surrogates, the empty string', (t) => {
  for (const text of [...AWKWARD, ...CORPUS]) {
    const ids = tokenizer.encode(text);
    t.true(ids instanceof Int32Array);
    t.is(tokenizer.decode(ids), text, JSON.stringify(text.slice(0, 40)));
  }
  t.deepEqual(Array.from(tokenizer.encode('')), []);
  t.is(tokenizer.decode([]), '');
});

test('random strings of arbitrary UTF-16 code units round-trip', (t) => {
  const rng = new Rng(7);
  for (let n = 0; n < 300; n++) {
    const units = Array.from({ length: rng.integer(0, 40) }, () =>
      rng.random() < 0.5 ? rng.integer(0, 128) : rng.integer(0, 0x10000),
    );
    const text = String.fromCharCode(...units);
    t.is(tokenizer.decode(tokenizer.encode(text)), text);
  }
});

test('bytes that are not UTF-8 decode as TextDecoder decodes them (one U+FFFD per bad sequence)', (t) => {
  const rng = new Rng(11);
  const reference = new TextDecoder();
  for (let n = 0; n < 500; n++) {
    // Token ids 0-255 are the bytes; 0xED (surrogates in WTF-8) is where the two decoders differ.
    const bytes = Array.from({ length: rng.integer(1, 12) }, () => {
      const b = rng.random() < 0.5 ? rng.integer(0x80, 0x100) : rng.integer(0, 0x100);
      return b === 0xed ? 0xee : b;
    });
    t.is(tokenizer.decode(bytes), reference.decode(Uint8Array.from(bytes)), JSON.stringify(bytes));
  }
});

test('training learns merges from the corpus: frequent words become single tokens, rare text stays bytes', (t) => {
  t.is(tokenizer.vocabSize, 340);
  t.is(tokenizer.mergeCount, 340 - 256 - 2);
  for (const word of [' cellar', ' kitchen', ' take', ' north', 'You'])
    t.is(tokenizer.encode(word).length, 1, word);
  t.true(tokenizer.encode(' cellar').every((id) => id >= 256));
  t.deepEqual(Array.from(tokenizer.encode('qzx')), [...Buffer.from('qzx')]);
  const corpusBytes = CORPUS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  const corpusTokens = CORPUS.reduce((n, s) => n + tokenizer.encode(s).length, 0);
  t.true(corpusTokens < corpusBytes / 2.5, `${corpusBytes} bytes -> ${corpusTokens} tokens`);
});

test('no token crosses a pre-token boundary: words, single digits, punctuation and spaces stay apart', (t) => {
  const pieces = (text: string): string[] =>
    Array.from(tokenizer.encode(text), (id) => tokenizer.decode([id]));
  t.deepEqual(pieces(' take coin'), [' take', ' coin']);
  t.is(pieces('Score:').at(-1), ':');
  for (const text of [...CORPUS.slice(0, 10), 'Score: 10/10 at 12:30, 2024 and 7.5'])
    for (const piece of pieces(text)) {
      // A space only ever starts a token (or the token is all whitespace).
      t.true(/^\s+$/.test(piece) || !/\s/.test(piece.slice(1)), JSON.stringify(piece));
      // A digit is a token of its own (after an optional space): numbers are spelled digit by digit.
      t.true(/^ ?\d$|^[^\d]*$/.test(piece), JSON.stringify(piece));
      // Letters never share a token with punctuation.
      t.false(/\p{L}/u.test(piece) && /[^\s\p{L}]/u.test(piece), JSON.stringify(piece));
    }
});

test('training is deterministic, and stops early when no pair is frequent enough', (t) => {
  t.deepEqual(Tokenizer.train(CORPUS, { vocabSize: 340 }).toJSON(), tokenizer.toJSON());
  // Pairs: "ab" 4 times, then "ab ab" 2 times; everything else once.
  const small = Tokenizer.train(['abab abab'], { vocabSize: 1000 });
  t.is(small.mergeCount, 2);
  t.is(small.vocabSize, 256 + 2 + 2);
  t.deepEqual(Array.from(small.encode('abab abab')), [257, 32, 257]);
  t.is(
    small.mergeCount,
    Tokenizer.train(['abab abab'], { vocabSize: 1000, minFrequency: 1 }).mergeCount - 1,
  );
  const progress: number[] = [];
  Tokenizer.train(CORPUS, { vocabSize: 300, onProgress: (made) => progress.push(made) });
  t.deepEqual(progress, [42]);
});

test('special tokens: encode never makes them, encodeDocuments puts end-of-text before each document, decode shows or skips them', (t) => {
  const spelled = tokenizer.encode(`${END_OF_TEXT}${PADDING}`);
  t.false(spelled.some((id) => tokenizer.isSpecial(id)));
  t.is(tokenizer.endOfText, tokenizer.vocabSize - 2);
  t.is(tokenizer.padding, tokenizer.vocabSize - 1);
  const stream = tokenizer.encodeDocuments(['go north', '', 'take coin']);
  const eot = tokenizer.endOfText;
  t.deepEqual(Array.from(stream), [
    eot,
    ...tokenizer.encode('go north'),
    eot,
    eot,
    ...tokenizer.encode('take coin'),
  ]);
  t.is(tokenizer.decode(stream), `${END_OF_TEXT}go north${END_OF_TEXT}${END_OF_TEXT}take coin`);
  t.is(tokenizer.decode([...stream, tokenizer.padding], { special: 'skip' }), 'go northtake coin');
});

test('toJSON / fromJSON and save / load give a tokenizer that encodes identically', (t) => {
  const copy = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-tok-'));
  try {
    tokenizer.save(join(dir, 'tokenizer.json'));
    const loaded = Tokenizer.load(join(dir, 'tokenizer.json'));
    for (const text of [...AWKWARD, ...CORPUS.slice(0, 10)]) {
      t.deepEqual(copy.encode(text), tokenizer.encode(text));
      t.deepEqual(loaded.encode(text), tokenizer.encode(text));
    }
    t.is(loaded.vocabSize, tokenizer.vocabSize);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a malformed tokenizer file throws MalformedFileError naming the file and the JSON path', (t) => {
  const good = tokenizer.toJSON();
  const cases: [unknown, RegExp][] = [
    [null, /at \$: expected a wmgym-bpe tokenizer object, received null/],
    [{ ...good, format: 'gpt2' }, /at \$\.format: expected "wmgym-bpe", received "gpt2"/],
    [{ ...good, version: 2 }, /at \$\.version: expected 1, received 2/],
    [{ ...good, pretokenizer: 'other' }, /at \$\.pretokenizer/],
    [{ ...good, merges: [1, 2, 3] }, /at \$\.merges: expected a list of pairs/],
    [
      { ...good, merges: [1, 2, 300, 4] },
      /at \$\.merges\[2\]: expected a token id from 0 to 256 \(merge 1 may use bytes and earlier merges\), received 300/,
    ],
    [{ ...good, merges: [1, -1] }, /at \$\.merges\[1\]/],
    [{ ...good, special: ['<|endoftext|>'] }, /at \$\.special/],
    [{ ...good, vocabSize: 999 }, /at \$\.vocabSize: expected 340 .*received 999/],
  ];
  for (const [json, message] of cases)
    t.throws(() => Tokenizer.fromJSON(json, 'tok.json'), {
      instanceOf: MalformedFileError,
      message: new RegExp(`^Malformed file tok\\.json ${message.source}`),
    });
  const dir = mkdtempSync(join(tmpdir(), 'wmgym-tok-'));
  try {
    const path = join(dir, 'tokenizer.json');
    t.throws(() => Tokenizer.load(path), {
      instanceOf: MalformedFileError,
      message: /expected a readable tokenizer file, received none/,
    });
    tokenizer.save(path);
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 100));
    t.throws(() => Tokenizer.load(path), {
      instanceOf: MalformedFileError,
      message: /at \$: expected JSON/,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input throws typed errors: a vocabulary size out of range, a text that is not a string, an unknown id', (t) => {
  t.throws(() => Tokenizer.train(CORPUS, { vocabSize: 100 }), {
    instanceOf: InvalidOptionError,
    message: /vocabSize: expected an integer from 258 .*received 100/,
  });
  t.throws(() => Tokenizer.train(CORPUS, { vocabSize: 300, minFrequency: 0 }), {
    instanceOf: InvalidOptionError,
  });
  t.throws(() => Tokenizer.train(['ok', 3 as unknown as string], { vocabSize: 300 }), {
    instanceOf: InvalidValueError,
    message: /training text 1: expected a string, received 3/,
  });
  t.throws(() => tokenizer.encode(undefined as unknown as string), {
    instanceOf: InvalidValueError,
  });
  t.throws(() => tokenizer.decode([65, 400]), {
    instanceOf: InvalidValueError,
    message: /token id at index 1: expected an integer from 0 to 339, received 400/,
  });
  t.throws(() => tokenizer.decode([1.5]), { instanceOf: InvalidValueError });
});

test('long runs (a million characters) encode in linear time', (t) => {
  const text = 'ab '.repeat(300_000) + ' '.repeat(100_000) + '='.repeat(100_000);
  const start = performance.now();
  const ids = tokenizer.encode(text);
  const ms = performance.now() - start;
  t.is(tokenizer.decode(ids), text);
  t.log(`${text.length} characters -> ${ids.length} tokens in ${ms.toFixed(0)} ms`);
  t.true(ms < 10_000);
});
