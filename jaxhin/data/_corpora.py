"""Topic-model corpora: tokens as flat int32 arrays sorted by document.

Readers for UCI bag-of-words (`docword.*.txt[.gz]` + `vocab.*.txt`) and LDA-C (`M id:count ...`
+ a vocabulary file), a seeded held-out split of documents, and a synthetic corpus drawn from
LDA's generative process with its topics known (the built-in default). A malformed line, an
out-of-vocabulary id or an empty document raises `CorpusError` naming the file and line.
"""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import os
import re
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data._root import DataError, dataset_dir


class CorpusError(DataError):
    """A corpus file that cannot be read as promised; the message names file and line."""


@dataclasses.dataclass(frozen=True, eq=False)
class Corpus:
    """A bag-of-words corpus.

    Attributes:
      words: (N,) int32 word id of each token.
      docs: (N,) int32 document of each token, non-decreasing.
      vocab: the V words.
      num_docs: D; every document has at least one token.
      name: where it came from.
    """

    words: np.ndarray
    docs: np.ndarray
    vocab: tuple[str, ...]
    num_docs: int
    name: str = ""

    @property
    def num_tokens(self) -> int:
        return int(self.words.shape[0])

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def doc_lengths(self) -> np.ndarray:
        """(D,) tokens per document."""
        return np.bincount(self.docs, minlength=self.num_docs).astype(np.int32)

    @property
    def doc_starts(self) -> np.ndarray:
        """(D,) index of each document's first token."""
        return np.concatenate([[0], np.cumsum(self.doc_lengths)[:-1]]).astype(np.int32)

    def __repr__(self) -> str:
        return (f"Corpus({self.name or 'unnamed'}: D={self.num_docs}, V={self.vocab_size}, "
                f"N={self.num_tokens})")


def _from_counts(doc: np.ndarray, word: np.ndarray, count: np.ndarray, vocab, num_docs: int,
                 name: str) -> Corpus:
    order = np.lexsort((word, doc))
    doc, word, count = doc[order], word[order], count[order]
    return Corpus(np.repeat(word, count).astype(np.int32), np.repeat(doc, count).astype(np.int32),
                  tuple(vocab), int(num_docs), name)


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_vocab(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """One word per line; blank lines are an error (they would shift every id)."""
    path = Path(path)
    words = []
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            word = line.strip()
            if not word:
                raise CorpusError(f"{path}:{lineno}: empty vocabulary line")
            words.append(word.split()[0] if " " in word else word)
    return tuple(words)


def _parse_block(lines: list[str], first: int, docword: Path, header: list[int]) -> np.ndarray:
    """(entries, 3) 0-based `docID wordID count` of lines numbered from `first`, checked."""
    text = "".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    # Fields per line, vectorised: a field starts where a non-space follows a space.
    raw = np.frombuffer(text.encode(), np.uint8)
    space = np.isin(raw, np.frombuffer(b" \t\r\n\f\v", np.uint8))
    starts = np.cumsum(~space & np.concatenate([[True], space[:-1]]))
    fields = np.diff(np.concatenate([[0], starts[raw == ord("\n")]]))
    with warnings.catch_warnings():  # NumPy warns, or raises, on text it cannot read to the end
        warnings.simplefilter("error")
        try:
            values = np.fromstring(text, dtype=np.int64, sep=" ")
        except (ValueError, DeprecationWarning):
            values = np.zeros(0, np.int64)
    if ((fields != 0) & (fields != 3)).any() or values.size != 3 * int((fields == 3).sum()):
        for lineno, line in enumerate(lines, first):  # find the bad line
            parts = line.split()
            if parts and (len(parts) != 3 or not all(p.lstrip("-").isdigit() for p in parts)):
                raise CorpusError(f"{docword}:{lineno}: expected 'docID wordID count', got "
                                  f"{line.strip()!r}")
        raise CorpusError(f"{docword}: lines {first}-{first + len(lines) - 1}: expected "
                          f"'docID wordID count' on each line")
    table = values.reshape(-1, 3)
    bad = ((table[:, 0] < 1) | (table[:, 0] > header[0]) | (table[:, 1] < 1)
           | (table[:, 1] > header[1]) | (table[:, 2] < 1))
    if bad.any():
        i = int(np.argmax(bad))
        lineno = first + int(np.flatnonzero(fields == 3)[i])
        d, w, c = table[i]
        raise CorpusError(f"{docword}:{lineno}: docID {d} (1..{header[0]}), wordID {w} "
                          f"(1..{header[1]}) or count {c} (>= 1) out of range")
    return table - np.array([1, 1, 0])


def load_uci(docword: str | os.PathLike[str], vocab: str | os.PathLike[str], *,
             name: str | None = None) -> Corpus:
    """Read UCI bag-of-words: header lines D, W, NNZ, then `docID wordID count` (1-based).

    Raises:
      CorpusError: a malformed line, an id out of range, a count < 1, a vocabulary of other
        than W words, or an empty document, naming the file and line (or document).
    """
    docword, words = Path(docword), read_vocab(vocab)
    blocks = []
    with _open_text(docword) as f:
        header = []
        for lineno, line in enumerate(itertools.islice(f, 3), 1):
            try:
                header.append(int(line))
            except ValueError:
                raise CorpusError(f"{docword}:{lineno}: expected the header count "
                                  f"(D, W, NNZ), got {line.strip()!r}") from None
        first = 4
        # Blocks of lines parsed by NumPy: a per-line Python parse keeps ~300 bytes of objects
        # per entry (100 MB for KOS) and is 10x slower; a bad block is re-read line by line
        # for the error's line number.
        while len(header) == 3 and (lines := list(itertools.islice(f, 1 << 20))):
            blocks.append(_parse_block(lines, first, docword, header))
            first += len(lines)
    if len(header) < 3:
        raise CorpusError(f"{docword}: missing the three header lines D, W, NNZ")
    num_docs, vocab_size, nnz = header
    if len(words) != vocab_size:
        raise CorpusError(f"{vocab}: {len(words)} words but {docword} declares W={vocab_size}")
    table = np.concatenate(blocks) if blocks else np.zeros((0, 3), np.int64)
    if len(table) != nnz:
        raise CorpusError(f"{docword}: header declares NNZ={nnz}, found {len(table)} entries")
    present = np.zeros(num_docs, bool)
    present[table[:, 0]] = True
    if not present.all():
        missing = int(np.flatnonzero(~present)[0]) + 1
        raise CorpusError(f"{docword}: document {missing} (1-based docID) is empty; LDA needs "
                          f"at least one token per document")
    return _from_counts(table[:, 0], table[:, 1], table[:, 2], words, num_docs,
                        name or docword.name)


def load_ldac(path: str | os.PathLike[str], vocab: str | os.PathLike[str], *,
              name: str | None = None) -> Corpus:
    """Read LDA-C: one document per line, `M id:count id:count ...` with 0-based ids.

    Raises:
      CorpusError: a malformed line, M disagreeing with the pairs, an id outside the
        vocabulary, or an empty document, naming the file and line.
    """
    path, words = Path(path), read_vocab(vocab)
    docs, ids, counts = [], [], []
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                raise CorpusError(f"{path}:{lineno}: empty line (an empty document)")
            try:
                m = int(parts[0])
                pairs = [tuple(int(v) for v in p.split(":")) for p in parts[1:]]
            except ValueError:
                raise CorpusError(f"{path}:{lineno}: expected 'M id:count ...', got "
                                  f"{line.strip()[:60]!r}") from None
            if m == 0 or not pairs:
                raise CorpusError(f"{path}:{lineno}: empty document")
            if len(pairs) != m or any(len(p) != 2 for p in pairs):
                raise CorpusError(f"{path}:{lineno}: declares {m} terms, has {len(pairs)} "
                                  f"id:count pairs")
            for w, c in pairs:
                if not 0 <= w < len(words):
                    raise CorpusError(f"{path}:{lineno}: word id {w} is outside the "
                                      f"vocabulary of {len(words)} words ({vocab})")
                if c < 1:
                    raise CorpusError(f"{path}:{lineno}: count {c} < 1 for word id {w}")
                docs.append(lineno - 1)
                ids.append(w)
                counts.append(c)
    return _from_counts(np.asarray(docs), np.asarray(ids), np.asarray(counts), words,
                        max(docs) + 1 if docs else 0, name or path.name)


def load_kos(root: str | os.PathLike[str] | None = None) -> Corpus:
    """Daily Kos (UCI): D=3430, V=6906, N=467,714, from the data root."""
    folder = dataset_dir("kos", root)
    docword = next(p for p in (folder / "docword.kos.txt", folder / "docword.kos.txt.gz")
                   if p.is_file())
    return load_uci(docword, folder / "vocab.kos.txt", name="kos")


def load_reuters(root: str | os.PathLike[str] | None = None) -> Corpus:
    """395 Reuters stories (LDA-C, from the `lda` package), from the data root."""
    folder = dataset_dir("reuters", root)
    return load_ldac(folder / "reuters.ldac", folder / "reuters.tokens", name="reuters")


def heldout_split(corpus: Corpus, key: jax.Array, fraction: float = 0.1
                  ) -> tuple[Corpus, Corpus]:
    """Split documents at random into (train, held-out); the held-out share is `fraction`."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"heldout_split: fraction must be in (0, 1), got {fraction}")
    perm = np.asarray(jax.random.permutation(key, corpus.num_docs))
    n_test = max(1, round(fraction * corpus.num_docs))
    return (_subset(corpus, np.sort(perm[n_test:]), "train"),
            _subset(corpus, np.sort(perm[:n_test]), "heldout"))


def _subset(corpus: Corpus, doc_ids: np.ndarray, tag: str) -> Corpus:
    new_id = np.full(corpus.num_docs, -1, np.int64)
    new_id[doc_ids] = np.arange(len(doc_ids))
    keep = new_id[corpus.docs] >= 0
    return Corpus(corpus.words[keep], new_id[corpus.docs[keep]].astype(np.int32), corpus.vocab,
                  len(doc_ids), f"{corpus.name}:{tag}")


@dataclasses.dataclass(frozen=True)
class SyntheticTruth:
    """The parameters a synthetic corpus was drawn from: phi (K, V), theta (D, K)."""

    topic_word: np.ndarray
    doc_topic: np.ndarray


def synthetic_corpus(key: jax.Array, *, num_docs: int = 500, doc_length: int = 100,
                     vocab_size: int = 500, num_topics: int = 10, alpha: float = 0.1,
                     beta: float = 0.01) -> tuple[Corpus, SyntheticTruth]:
    """Draw a corpus from LDA's generative process (Blei et al., 2003).

    phi_k ~ Dir(beta), theta_d ~ Dir(alpha), n_d ~ 1 + Poisson(doc_length - 1),
    z ~ Cat(theta_d), w ~ Cat(phi_z).

    Example:
      >>> corpus, truth = synthetic_corpus(jax.random.key(0), num_topics=5)
    """
    k_phi, k_theta, k_len, k_z, k_w = jax.random.split(key, 5)
    phi = jax.random.dirichlet(k_phi, jnp.full((vocab_size,), beta), (num_topics,))
    theta = jax.random.dirichlet(k_theta, jnp.full((num_topics,), alpha), (num_docs,))
    lengths = 1 + np.asarray(jax.random.poisson(k_len, doc_length - 1, (num_docs,)))
    docs = np.repeat(np.arange(num_docs, dtype=np.int32), lengths)
    z = jax.random.categorical(k_z, jnp.log(theta[docs] + 1e-30))
    # One search over all topics' CDFs laid end to end (topic k's CDF shifted to [k, k + 1]),
    # instead of an (N, V) matrix of per-token logits.
    cdf = jnp.cumsum(phi / phi.sum(-1, keepdims=True), axis=-1) + jnp.arange(num_topics)[:, None]
    u = z + jax.random.uniform(k_w, z.shape, maxval=0.999999)
    flat = jnp.searchsorted(cdf.ravel(), u, side="right")
    words = np.clip(np.asarray(flat - z * vocab_size), 0, vocab_size - 1).astype(np.int32)
    vocab = tuple(f"w{i}" for i in range(vocab_size))
    return (Corpus(words, docs, vocab, num_docs, f"synthetic-K{num_topics}"),
            SyntheticTruth(np.asarray(phi), np.asarray(theta)))


# A standard English stop list (the common function words; cf. the SMART list).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how however i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves may might must shall also us one two get got
like well even much many said says say re edu com writes article don didn doesn isn ve ll
""".split())

_TOKEN = re.compile(r"[a-z][a-z']*[a-z]")


def tokenize(text: str, stop_words: frozenset[str] = STOP_WORDS) -> list[str]:
    """Lower-case words of at least two letters (inner apostrophes kept), stop words removed."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in stop_words]


def corpus_from_texts(texts, *, min_df: int = 5, max_df: float = 0.5,
                      stop_words: frozenset[str] = STOP_WORDS, name: str = "texts",
                      sources=None, skip_empty: bool = False) -> Corpus:
    """A bag-of-words corpus from raw documents.

    Keeps words that occur in at least `min_df` documents and in at most a `max_df` share of
    them; vocabulary sorted alphabetically.

    Raises:
      CorpusError: a document left empty after tokenising and filtering, naming it (by
        `sources[i]` when given, else its index); with `skip_empty` such documents are dropped.
    """
    if not 0.0 < max_df <= 1.0:
        raise ValueError(f"corpus_from_texts: max_df must be in (0, 1], got {max_df}")
    docs = [tokenize(t, stop_words) for t in texts]
    df: dict[str, int] = {}
    for toks in docs:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    limit = max_df * len(docs)
    vocab = sorted(t for t, c in df.items() if c >= min_df and c <= limit)
    index = {t: i for i, t in enumerate(vocab)}
    words, doc_ids, kept = [], [], 0
    for i, toks in enumerate(docs):
        ids = [index[t] for t in toks if t in index]
        if not ids:
            if skip_empty:
                continue
            where = sources[i] if sources is not None else f"document {i}"
            raise CorpusError(f"{where}: empty after tokenising (min_df={min_df}, "
                              f"max_df={max_df}); drop it or relax the filters")
        words.extend(ids)
        doc_ids.extend([kept] * len(ids))
        kept += 1
    return Corpus(np.asarray(words, np.int32), np.asarray(doc_ids, np.int32), tuple(vocab),
                  kept, name)


def load_20news(root: str | os.PathLike[str] | None = None, subset: str = "train", *,
                min_df: int = 5, max_df: float = 0.5) -> Corpus:
    """20 Newsgroups (by-date split) from the raw tar.gz: headers dropped, tokenised, filtered.
    Messages that are empty after filtering are skipped (the raw set has a few)."""
    import tarfile

    if subset not in ("train", "test"):
        raise ValueError(f"load_20news: subset must be 'train' or 'test', got {subset!r}")
    path = dataset_dir("20news", root) / "20news-bydate.tar.gz"
    texts = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or f"-{subset}/" not in member.name:
                continue
            raw = tar.extractfile(member).read().decode("latin-1")
            texts.append(raw.split("\n\n", 1)[1] if "\n\n" in raw else raw)
    return corpus_from_texts(texts, min_df=min_df, max_df=max_df, name=f"20news-{subset}",
                             skip_empty=True)
