#!/usr/bin/python3
"""Writes word-splitting fixtures (kind "text_split") from Python itself, for src/data/text-fixtures.test.ts.

What rnnlab's word tokenizer (src/data/words.ts) must reproduce is what PyTorch's
word_language_model example (data.py) makes of a text file:

    with open(path, "r", encoding="utf8") as f:   # text mode: universal newlines
        for line in f:
            words = line.split() + ["<eos>"]
            # Dictionary.add_word(word) for each: ids in order of first appearance

so this script writes each text to a file byte for byte (newline=""), reads it back exactly as
data.py does, and records Python's tokens, the Dictionary's idx2word and the ids. It also records
which characters str.isspace() accepts (str.split()'s separators) and which of them end a line
when a file is iterated (only \\n and \\r, after translation; not \\v, \\f, \\x1c-\\x1e, \\x85,
U+2028, U+2029, which str.splitlines() would split at). Needs only Python 3 (no torch).

Usage:
  /usr/bin/python3 tools/make_text_fixtures.py [OUT_DIR]    (default: test/fixtures/text)
"""
import json
import os
import sys
import tempfile

GEN = "Python %s, tools/make_text_fixtures.py" % sys.version.split()[0]
CHUNKS = (2, 3, 7)  # the chunk sizes (besides 1 and whole) the test reads the text in


def whitespace():
    """Every code point str.isspace() accepts, checked against what str.split() splits at."""
    ws = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    split = [c for c in ws if ("a" + chr(c) + "b").split() == ["a", "b"]]
    assert ws == split, "str.split() and str.isspace() disagree"
    assert 0x200B not in ws and 0xFEFF not in ws
    return ws


def read_like_data_py(path):
    """data.py's tokenize(): tokens, idx2word, ids."""
    word2idx, idx2word, tokens = {}, [], []
    with open(path, "r", encoding="utf8") as f:
        for line in f:
            for word in line.split() + ["<eos>"]:
                if word not in word2idx:
                    idx2word.append(word)
                    word2idx[word] = len(idx2word) - 1
                tokens.append(word)
    return tokens, idx2word, [word2idx[w] for w in tokens]


def tokenize_text(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "text.txt")
        with open(path, "w", encoding="utf8", newline="") as f:  # no newline translation on the way out
            f.write(text)
        with open(path, "rb") as f:
            assert f.read() == text.encode("utf8")
        return read_like_data_py(path)


def line_ends(ws):
    """The whitespace characters at which iterating a text-mode file starts a new line."""
    return [c for c in ws if len(tokenize_text("a" + chr(c) + "b")[0]) == 4]  # a <eos> b <eos>


def utf16_offsets(text):
    """The UTF-16 offset of each code point of text (what JavaScript indexes)."""
    out, n = [], 0
    for ch in text:
        out.append(n)
        n += 2 if ord(ch) > 0xFFFF else 1
    return out


def utf8_offsets(text):
    out, n = [], 0
    for ch in text:
        out.append(n)
        n += len(ch.encode("utf8"))
    return out


def straddles(text, size):
    """Whether, read in chunks of `size` UTF-16 units and of `size` UTF-8 bytes, a \\r\\n and a surrogate pair are cut."""
    u16, u8 = utf16_offsets(text), utf8_offsets(text)
    crlf = [i for i in range(len(text) - 1) if text[i] == "\r" and text[i + 1] == "\n"]
    pairs = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
    return {
        "crlf_utf16": any((u16[i] + 1) % size == 0 for i in crlf),
        "crlf_utf8": any((u8[i] + 1) % size == 0 for i in crlf),
        "surrogates_utf16": any((u16[i] + 1) % size == 0 for i in pairs),
    }


def texts(ws):
    rare = [c for c in ws if c not in (0x20, 0x0A, 0x0D)]
    every = " ".join("w%d%sx%d" % (i, chr(c), i) for i, c in enumerate(rare))  # a word on each side of every rare separator
    crlf = "".join("%s\r\n" % ("y" * k) for k in range(1, 9))  # \r\n at shifting offsets: cut by every chunk size
    lone = "".join("%s\r" % ("z" * k) for k in range(1, 5))
    astral = "\U0001d518\U0001d52b\U0001d526 \U0001f600x x\U0001f600\u2003\U0001f600\n\U00010348\U0001f600\U0001f600 \U0001f600\r\n"
    main = (
        "\ufeffFirst line, with a byte order mark\n"  # open(..., encoding="utf8") keeps U+FEFF: part of the first word
        + every
        + "\n"
        + crlf
        + lone
        + "mixed\r\r\nends\n\rhere\r\n"  # \r then \r\n: two lines; \n then \r: two lines
        + "\n\n \t \n"  # empty lines and a line of whitespace: <eos> alone
        + "zero\u200bwidth and no\ufeffbreak stay whole\n"
        + "a literal <eos> is the same word as a line end\n"
        + "v\x0bf\x0cfs\x1cgs\x1drs\x1eus\x1fnel\x85ls\u2028ps\u2029end: splitlines would split here, file lines do not\n"
        + astral
        + "trailing space at the end  \t"  # no final line break: the last line still ends with <eos>
    )
    assert all(straddles(main, n)[k] for n in CHUNKS for k in ("crlf_utf16", "crlf_utf8", "surrogates_utf16")), [straddles(main, n) for n in CHUNKS]
    return {
        "text_split": ("every rare whitespace character, \\r\\n, lone \\r, a byte order mark, non-BMP characters; no final line break", main),
        "text_split_cr_end": ("<unk> in the text (the vocabulary then has one); ends with a lone \\r", "one <unk> two\r\nthree\u3000four\rfive <unk>\r"),
        "text_split_ws_end": ("ends with whitespace after a line break; a text of one word per line", "alpha\nbeta\ngamma\n  \u2029 "),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "text")
    os.makedirs(out, exist_ok=True)
    ws = whitespace()
    ends = line_ends(ws)
    assert ends == [0x0A, 0x0D], ends
    for name, (description, text) in texts(ws).items():
        tokens, idx2word, ids = tokenize_text(text)
        fixture = {
            "kind": "text_split",
            "generator": GEN,
            "description": "word_language_model data.py's tokens of a file opened in text mode: " + description,
            "whitespace": ws,
            "line_ends": ends,
            "text": text,
            "tokens": tokens,
            "idx2word": idx2word,
            "ids": ids,
        }
        with open(os.path.join(out, name + ".json"), "w", encoding="utf8") as f:
            json.dump(fixture, f, ensure_ascii=True, indent=1)
            f.write("\n")
        print("%s: %d characters, %d tokens, %d distinct" % (name, len(text), len(tokens), len(idx2word)))


if __name__ == "__main__":
    main()
