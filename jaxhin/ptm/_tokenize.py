"""Tokenizers that need no download: characters, words, and byte-level BPE trained locally.

All three share one interface: `encode(text) -> int32 array`, `decode(ids) -> str`,
`vocab_size`, the special ids (`pad_id`, `unk_id`, `mask_id`, `cls_id`, `sep_id`) that masked
language modelling and classification need, and `save(path)` / `load_tokenizer(path)` to a
JSON file kept beside the model's checkpoint. Byte-level BPE is Hugging Face's `tokenizers`
(Rust, fast, well kept); characters and words are a few lines each.
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

import numpy as np

from jaxhin.data import DataError, atomic_write

SPECIALS = ("<pad>", "<unk>", "<mask>", "<cls>", "<sep>")
KINDS = ("char", "word", "bpe")
_WORD = re.compile(r"\w+|[^\w\s]")


class _Base:
    kind = ""

    def __init__(self, tokens: list[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("tokenizer vocabulary has duplicate tokens")
        self.pad_id, self.unk_id, self.mask_id, self.cls_id, self.sep_id = (
            self.index[s] for s in SPECIALS)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    @property
    def special_ids(self) -> tuple[int, ...]:
        return tuple(self.index[s] for s in SPECIALS)

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_write(path) as f:
            json.dump({"kind": self.kind, "tokens": self.tokens}, f)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


class CharTokenizer(_Base):
    """One id per character seen in training (nanoGPT's shakespeare_char vocabulary, plus the
    specials); unseen characters map to `<unk>`."""

    kind = "char"

    @classmethod
    def train(cls, text: str) -> CharTokenizer:
        return cls([*SPECIALS, *sorted(set(text))])

    def encode(self, text: str) -> np.ndarray:
        unk = self.unk_id
        return np.fromiter((self.index.get(c, unk) for c in text), np.int32, len(text))

    def decode(self, ids) -> str:
        specials = set(self.special_ids)
        return "".join(self.tokens[i] for i in np.asarray(ids).tolist() if i not in specials)


class WordTokenizer(_Base):
    """Lower-cased words and punctuation marks; the `vocab_size` most frequent kept."""

    kind = "word"

    @classmethod
    def train(cls, text: str, vocab_size: int = 20000) -> WordTokenizer:
        counts = collections.Counter(_WORD.findall(text.lower()))
        keep = [w for w, _ in counts.most_common(max(vocab_size - len(SPECIALS), 1))]
        return cls([*SPECIALS, *keep])

    def encode(self, text: str) -> np.ndarray:
        unk = self.unk_id
        return np.array([self.index.get(w, unk) for w in _WORD.findall(text.lower())], np.int32)

    def decode(self, ids) -> str:
        specials = set(self.special_ids)
        return " ".join(self.tokens[i] for i in np.asarray(ids).tolist() if i not in specials)


class BpeTokenizer(_Base):
    """Byte-level BPE (GPT-2's scheme) trained with Hugging Face's `tokenizers`."""

    kind = "bpe"

    def __init__(self, hf):
        self.hf = hf
        vocab = hf.get_vocab()
        super().__init__([t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])])

    @classmethod
    def train(cls, text: str, vocab_size: int = 8000) -> BpeTokenizer:
        from tokenizers import ByteLevelBPETokenizer

        tok = ByteLevelBPETokenizer()
        chunks = [text[i:i + 100_000] for i in range(0, len(text), 100_000)]
        tok.train_from_iterator(chunks, vocab_size=vocab_size, min_frequency=2,
                                special_tokens=list(SPECIALS), show_progress=False)
        return cls(tok._tokenizer)

    def encode(self, text: str) -> np.ndarray:
        return np.asarray(self.hf.encode(text).ids, np.int32)

    def decode(self, ids) -> str:
        return self.hf.decode(np.asarray(ids).tolist(), skip_special_tokens=True)

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_write(path) as f:
            json.dump({"kind": self.kind, "tokenizer": json.loads(self.hf.to_str())}, f)


Tokenizer = CharTokenizer | WordTokenizer | BpeTokenizer


def train_tokenizer(kind: str, text: str, vocab_size: int | None = None) -> Tokenizer:
    """Train a tokenizer of `kind` ("char", "word" or "bpe") on `text`."""
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "word":
        return WordTokenizer.train(text, vocab_size or 20000)
    if kind == "bpe":
        return BpeTokenizer.train(text, vocab_size or 8000)
    raise ValueError(f"tokenizer kind must be one of {', '.join(KINDS)}, got {kind!r}")


def load_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Read a tokenizer saved by `save`.

    Raises:
      DataError: the file is missing or is not a jaxhin tokenizer (named in the message).
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        kind = record["kind"]
        if kind == "bpe":
            from tokenizers import Tokenizer as HfTokenizer

            return BpeTokenizer(HfTokenizer.from_str(json.dumps(record["tokenizer"])))
        return {"char": CharTokenizer, "word": WordTokenizer}[kind](record["tokens"])
    except FileNotFoundError:
        raise DataError(f"{path}: no tokenizer file") from None
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path}: not a jaxhin tokenizer ({type(err).__name__}: {err})") from None
