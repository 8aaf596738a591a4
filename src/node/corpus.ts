// Loading a training text from disk in two streaming passes (see data/corpus.ts), so memory
// holds the encoded tokens and one chunk, never the whole text. Every problem with the file is
// an InputError that says what is wrong and how to fix it.

import { closeSync, openSync, readSync, statSync } from "node:fs";
import { TokenEncoder, VocabCollector, type TokenArray } from "../data/corpus.js";
import { CharVocab, type Vocab } from "../data/vocab.js";
import { UnknownWordError, WordCounter, WordEncoder, WordVocab } from "../data/words.js";
import { errnoOf, InputError, whyOf } from "./files.js";
import { packagePath } from "./package.js";

/** The embedded default corpus: tiny Shakespeare (public domain; compiled by the char-rnn project). */
export const DEFAULT_CORPUS = packagePath("data", "tinyshakespeare.txt");

/** A text file, encoded. */
export interface Corpus {
  path: string;
  vocab: Vocab;
  tokens: TokenArray;
  /** FNV-1a hash of the ids, to recognise the same data on resume. */
  hash: number;
}

const CHUNK = 1 << 20;

/**
 * Calls `each` with the file's text in chunks, after checking it is readable, non-empty, UTF-8 and
 * not binary. A byte order mark opening the file is dropped, unless `keepBom` (Python's
 * `open(path, encoding="utf8")` keeps it, as U+FEFF in the first line).
 */
function readChunks(path: string, each: (s: string) => void, missing: string, keepBom = false): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${path} is a folder; give a text file`);
    // the text is read twice (the vocabulary, then the ids): a pipe or a device cannot be
    if (!st.isFile()) throw new InputError(`${path} is not a regular file (a pipe or a device); rnnlab reads its text twice: save it to a file first`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR" ? `${path} does not exist; ${missing}` : `cannot read ${path}: ${whyOf(e)}`);
  }
  if (size === 0) throw new InputError(`${path} is empty; give a text file with something in it`);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${whyOf(e)}`);
  }
  try {
    const buf = new Uint8Array(CHUNK);
    const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: keepBom });
    let offset = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw new InputError(`cannot read ${path}: ${whyOf(e)}`);
      }
      if (n === 0) break;
      const bytes = buf.subarray(0, n);
      const nul = bytes.indexOf(0);
      if (nul >= 0) throw new InputError(`${path} looks like a binary file (a NUL byte at offset ${offset + nul}); give a UTF-8 text file`);
      try {
        each(dec.decode(bytes, { stream: true }));
      } catch (e) {
        if (e instanceof TypeError) {
          throw new InputError(
            `${path} is not valid UTF-8 (bad bytes between offsets ${Math.max(0, offset - 4)} and ${offset + n}); convert it, e.g. iconv -f latin1 -t utf-8`,
          );
        }
        throw e;
      }
      offset += n;
    }
    try {
      each(dec.decode());
    } catch {
      throw new InputError(`${path} is not valid UTF-8 (it ends inside a multi-byte character); convert it to UTF-8`);
    }
  } finally {
    closeSync(fd);
  }
}

/** How a text becomes tokens. */
export interface TokenizeOptions {
  /**
   * Characters (default: every character of the file as it is, \r included), or words: split as
   * PyTorch's word_language_model example splits a file it opens in text mode (data/words.ts:
   * Python's str.split() on each line, lines ending at \n, \r\n or \r, <eos> at each line's end,
   * a byte order mark kept as part of the first word).
   */
  tokens?: "chars" | "words";
  /** Words: keep the most frequent, up to this many tokens with <unk> and <eos>. Default 10000. */
  vocabSize?: number;
  /** What to say after "PATH does not exist;". Default: "give the path of a text file". */
  missing?: string;
}

/**
 * Reads and encodes a text file: its vocabulary (distinct code points, sorted; or the most
 * frequent words) and its ids. With `vocab`, encodes with that vocabulary instead (a character
 * outside it is an InputError; a word outside it is the vocabulary's unknown token, or an
 * InputError naming the word and its line when the vocabulary has none).
 */
export function loadCorpus(path: string, vocab?: Vocab, options: TokenizeOptions = {}): Corpus {
  const missing = options.missing ?? "give the path of a text file";
  const words = vocab ? vocab.kind === "words" : options.tokens === "words";
  if (words) {
    if (vocab && !(vocab instanceof WordVocab)) throw new Error("loadCorpus: a word vocabulary must be a WordVocab");
    const v0 = vocab as WordVocab | undefined;
    const counter = new WordCounter(v0?.eos);
    readChunks(path, (s) => counter.add(s), missing, true);
    counter.finish();
    const v = v0 ?? counter.vocab(options.vocabSize ?? 10000);
    const enc = new WordEncoder(v, counter.count);
    try {
      readChunks(path, (s) => enc.add(s), missing, true);
      enc.finish();
    } catch (e) {
      if (e instanceof UnknownWordError) {
        throw new InputError(
          `${path}: ${e.message}; use a text made of the model's words, or import the model again with --config '{"unk":"TOKEN"}' naming the token that stands for unknown words`,
        );
      }
      throw e;
    }
    return { path, vocab: v, tokens: enc.tokens, hash: enc.hash };
  }
  if (vocab && !(vocab instanceof CharVocab)) throw new Error("loadCorpus: a character vocabulary must be a CharVocab");
  const collector = new VocabCollector();
  readChunks(path, (s) => collector.add(s), missing);
  const v = vocab ?? collector.vocab();
  const enc = new TokenEncoder(v, collector.count);
  readChunks(
    path,
    (s) => {
      try {
        enc.add(s);
      } catch (e) {
        throw new InputError(`${path}: ${(e as Error).message} of the model; use text made of the characters it was trained on`);
      }
    },
    missing,
  );
  return { path, vocab: v, tokens: enc.tokens, hash: enc.hash };
}
