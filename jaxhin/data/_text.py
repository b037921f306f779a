"""Plain text for language-model pre-training: tiny Shakespeare, NLTK's corpora (read from
their zips), any UTF-8 file, and a synthetic Markov-chain text whose entropy rate is known (the
built-in default).

A model trained on the synthetic text should reach a validation loss near the chain's entropy
rate (nats per character), which is the ground truth `synthetic_text` returns.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from jaxhin.data._root import DataError, DatasetNotFoundError, dataset_dir

TEXTS = ("shakespeare", "synthetic", "movie_reviews", "brown", "state_union", "inaugural")
# NLTK corpora: zip under the data root's text/nltk-corpora, and which members are text.
_NLTK = {
    "movie_reviews": re.compile(r"movie_reviews/(pos|neg)/cv\d+_\d+\.txt"),
    "brown": re.compile(r"brown/c[a-r]\d\d"),
    "state_union": re.compile(r"state_union/[^/]+\.txt"),
    "inaugural": re.compile(r"inaugural/[^/]+\.txt"),
}


@dataclasses.dataclass(frozen=True)
class SyntheticText:
    """A seeded order-1 Markov chain over `alphabet`: the text and its entropy rate (nats per
    character, from the chain's stationary distribution)."""

    text: str
    entropy_rate: float
    alphabet: str


def synthetic_text(seed: int = 0, length: int = 200_000, alphabet: str = "abcdefghij .,\n",
                   concentration: float = 0.3) -> SyntheticText:
    """A Markov chain with sparse Dirichlet(`concentration`) transition rows.

    Example:
      >>> s = synthetic_text(0, 1000)
      >>> len(s.text), round(s.entropy_rate, 3) > 0
      (1000, True)
    """
    if length < 2:
        raise ValueError(f"length must be >= 2, got {length}")
    rng = np.random.default_rng(seed)  # host-side data generation, not a model's randomness
    n = len(alphabet)
    trans = rng.dirichlet(np.full(n, concentration), size=n)
    # Stationary distribution: left eigenvector of the transition matrix for eigenvalue 1.
    vals, vecs = np.linalg.eig(trans.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
    pi = pi / pi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        row_h = -np.nansum(np.where(trans > 0, trans * np.log(trans), 0.0), axis=1)
    entropy = float(pi @ row_h)
    cdf = np.cumsum(trans, axis=1)
    u = rng.random(length)
    states = np.empty(length, np.int64)
    states[0] = rng.choice(n, p=pi)
    for i in range(1, length):
        states[i] = min(int(np.searchsorted(cdf[states[i - 1]], u[i])), n - 1)
    return SyntheticText("".join(alphabet[s] for s in states), entropy, alphabet)


def brown_tagged(root: str | os.PathLike[str] | None = None) -> list[list[tuple[str, str]]]:
    """The Brown corpus's tagged sentences: `[(word, tag), ...]` per sentence, tags as written
    (e.g. "np-tl", "vbd"), from the data root's `text/nltk-corpora/brown.zip`."""
    return [s for member in _nltk_members("brown", root) for s in _brown_sentences(member)]


def _nltk_members(name: str, root) -> list[str]:
    path = dataset_dir("nltk-corpora", root) / f"{name}.zip"
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: missing; get {name}.zip from "
                                   f"https://github.com/nltk/nltk_data (packages/corpora)")
    try:
        with zipfile.ZipFile(path) as z:
            names = sorted(n for n in z.namelist() if _NLTK[name].fullmatch(n))
            return [z.read(n).decode("utf-8", errors="replace") for n in names]
    except zipfile.BadZipFile as err:
        raise DataError(f"{path}: not a valid zip ({err})") from None


def load_text(name: str | os.PathLike[str], *, seed: int = 0,
              root: str | os.PathLike[str] | None = None) -> str:
    """Text by name or file: "shakespeare" (tiny Shakespeare from the data root), an NLTK
    corpus ("movie_reviews", "brown" with its tags stripped, "state_union", "inaugural"; names
    joined by commas concatenate), "synthetic" (`synthetic_text(seed)`), or a UTF-8 text file.

    Raises:
      DatasetNotFoundError: the named data is not under the data root.
      DataError: a file that does not exist, is empty or is not UTF-8 (named in the message).
    """
    text = os.fspath(name)
    if text == "synthetic":
        return synthetic_text(seed).text
    names = text.split(",")
    if all(n in _NLTK for n in names):
        parts = []
        for n in names:
            members = _nltk_members(n, root)
            if n == "brown":      # word/tag tokens: keep the words, one sentence per line
                members = ["\n".join(" ".join(w for w, _ in s) for s in _brown_sentences(m))
                           for m in members]
            parts.extend(m.strip() for m in members)
        return "\n\n".join(parts) + "\n"
    if text == "shakespeare":
        path = dataset_dir("tinyshakespeare", root) / "input.txt"
    else:
        path = Path(text)
        if not path.is_file():
            raise DataError(f"corpus {text!r}: expected one of {', '.join(TEXTS)} (NLTK names "
                            f"may be joined by commas) or an existing UTF-8 text file")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}: {err.reason})") from None
    if not content.strip():
        raise DataError(f"{path}: the file is empty; a corpus needs text")
    return content


def _brown_sentences(member: str) -> list[list[tuple[str, str]]]:
    out = []
    for line in member.splitlines():
        pairs = [tok.rsplit("/", 1) for tok in line.split() if "/" in tok]
        if pairs:
            out.append([(w, t) for w, t in pairs])
    return out
