"""Large LDA corpora drawn to disk block by block, for runs at LightLDA's scale.

`write_scale_corpus` draws from LDA's generative process with a Zipf vocabulary and writes UCI
bag-of-words files (`docword.<name>.txt.gz`, `vocab.<name>.txt`) that `load_uci` and
`jaxhin lda train --corpus` read like any UCI corpus. Only one block of tokens and one block of
documents' mixtures are in memory at a time, so 10^8 tokens need a few hundred MB.

The planted model, sized so that neither V x K nor D x K is ever built:
  word frequencies   p_w ∝ (w + 1)^-s (Zipf, exponent `zipf`);
  topic k            a support of S words drawn from p_w (frequent words sit in many topics, as
                     function words do) with Dirichlet(1) weights: phi_k is sparse, and a word's
                     expected frequency over the corpus follows p_w;
  document d         n_d ~ 1 + Poisson(doc_length - 1), theta_d ~ Dir(alpha), z ~ Cat(theta_d),
                     w ~ Cat(phi_z), with theta_d integrated out (the Pólya urn, `_draw_block`).
A word is an inverse-CDF search (binary, on device) in its topic's cumulative weights:
O(N log S) work, and no (D, K) or (K, V) array.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data._io import atomic_write


@dataclasses.dataclass(frozen=True)
class ScaleCorpus:
    """What `write_scale_corpus` wrote, and the planted topics (sparse: S words each).

    Attributes:
      docword, vocab: the two UCI files.
      topic_words: (K, S) int32 word ids of each topic's support (a word may repeat).
      topic_weights: (K, S) float32 their probabilities (each row sums to 1).
    """

    docword: Path
    vocab: Path
    num_docs: int
    num_tokens: int
    vocab_size: int
    nnz: int
    topic_words: np.ndarray
    topic_weights: np.ndarray

    def topic_word(self) -> np.ndarray:
        """The dense (K, V) planted phi (small V only)."""
        k = self.topic_words.shape[0]
        phi = np.zeros((k, self.vocab_size))
        np.add.at(phi, (np.arange(k)[:, None], self.topic_words), self.topic_weights)
        return phi


def _search(cdf: jax.Array, row: jax.Array, u: jax.Array) -> jax.Array:
    """For each query, the first column c of cdf[row] with u < cdf[row, c] (clipped): a binary
    search per query, log2(width) gathers, instead of a (queries, width) comparison."""
    width = cdf.shape[1]
    lo, hi = jnp.zeros_like(row), jnp.full_like(row, width - 1)
    for _ in range(max(1, math.ceil(math.log2(width)))):
        mid = (lo + hi) // 2
        right = cdf[row, mid] <= u
        lo, hi = jnp.where(right, mid + 1, lo), jnp.where(right, hi, mid)
    return jnp.minimum(lo, width - 1)


@functools.partial(jax.jit, static_argnames=("docs", "longest", "num_topics", "alpha"))
def _draw_block(key, topic_cdf, topic_words, *, docs, longest, num_topics, alpha):
    """Topics and words of up to `docs` documents of up to `longest` tokens, on a grid (the
    caller keeps each document's first n_d cells).

    z is drawn by the Pólya urn, the Dirichlet-multinomial's own sequential form: the i-th
    token of a document copies the topic of one of the i before it (uniformly chosen) with
    probability i / (i + K alpha), else takes a uniform topic, so P(z_i = k | z_<i) =
    (n_k + alpha) / (i + K alpha), exactly theta_d ~ Dir(alpha) integrated out. It needs no
    (docs, K) array (K Gamma draws per document cost 10^9 draws for 10^8 tokens at K=1000)."""
    k_urn, k_w = jax.random.split(key)
    total = num_topics * alpha

    def place(z, i):
        u_copy, u_pick, u_new = jax.random.uniform(jax.random.fold_in(k_urn, i), (3, docs))
        earlier = jnp.minimum((u_pick * i).astype(jnp.int32), jnp.maximum(i - 1, 0))
        copied = jnp.take_along_axis(z, earlier[:, None], axis=1)[:, 0]
        fresh = jnp.minimum((u_new * num_topics).astype(jnp.int32), num_topics - 1)
        return z.at[:, i].set(jnp.where(u_copy * (i + total) < i, copied, fresh)), None

    z, _ = jax.lax.scan(place, jnp.zeros((docs, longest), jnp.int32), jnp.arange(longest))
    slot = _search(topic_cdf, z.ravel(), jax.random.uniform(k_w, (docs * longest,)))
    return topic_words[z.ravel(), slot].reshape(docs, longest)


def _zipf_draw(key: jax.Array, shape, vocab_size: int, zipf: float) -> np.ndarray:
    """Word ids drawn from p_w ∝ (w + 1)^-zipf: float64 inverse CDF (a float32 one cannot tell
    the tail's words apart), with 48-bit uniforms."""
    cdf = np.cumsum(np.arange(1, vocab_size + 1, dtype=np.float64) ** -zipf)
    cdf /= cdf[-1]
    hi, lo = (np.asarray(jax.random.uniform(k, shape), np.float64)
              for k in jax.random.split(key))
    return np.minimum(np.searchsorted(cdf, hi + lo * 2.0**-24, side="right"),
                      vocab_size - 1).astype(np.int32)


def write_scale_corpus(key: jax.Array, folder: str | os.PathLike[str], *, num_tokens: int,
                       vocab_size: int, num_topics: int, doc_length: int = 200,
                       alpha: float = 0.1, zipf: float = 1.05,
                       words_per_topic: int | None = None, block_tokens: int = 2**21,
                       name: str = "scale", on_block: Callable[[int], None] | None = None
                       ) -> ScaleCorpus:
    """Draw an LDA corpus of `num_tokens` tokens and write it in UCI format to `folder`.

    Args:
      key: the corpus's key: the same key and arguments give the same files, block by block.
      num_tokens, vocab_size, num_topics: N, V and the planted K.
      doc_length: mean document length.
      alpha: the planted documents' Dirichlet prior.
      zipf: the vocabulary's Zipf exponent.
      words_per_topic: S, the support of each topic (default 4 V / K, within [100, 10,000]).
      block_tokens: tokens drawn and written at a time (bounds the memory).
      on_block: called with the tokens written so far after each block (a progress bar).

    Both files are written to temporary names and renamed when complete; an interrupted run
    leaves no partial corpus behind.
    """
    for arg, value, least in (("num_tokens", num_tokens, 1), ("vocab_size", vocab_size, 1),
                              ("num_topics", num_topics, 1), ("doc_length", doc_length, 1),
                              ("block_tokens", block_tokens, 1)):
        if value < least:
            raise ValueError(f"write_scale_corpus: {arg} must be >= {least}, got {value}")
    if not (alpha > 0 and zipf > 0):
        raise ValueError(f"write_scale_corpus: alpha and zipf must be > 0, got {alpha}, {zipf}")
    block_tokens = min(block_tokens, num_tokens)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    support = words_per_topic or min(10_000, max(100, -(-4 * vocab_size // num_topics)))
    k_support, k_weight, k_blocks = jax.random.split(key, 3)
    topic_words = _zipf_draw(k_support, (num_topics, support), vocab_size, zipf)
    weights = jax.random.dirichlet(k_weight, jnp.ones((support,)), (num_topics,))
    topic_cdf = jnp.cumsum(weights, axis=1)
    words_dev = jnp.asarray(topic_words)
    # Documents per block: every block's documents are whole; padded to one size (one compile).
    max_docs = 2 * block_tokens // doc_length + 64
    # Lengths are clipped 8 standard deviations above the mean: the grid's width, never reached
    # in practice.
    longest = doc_length + 8 * math.isqrt(doc_length) + 8
    docword = folder / f"docword.{name}.txt.gz"
    vocab = folder / f"vocab.{name}.txt"
    num_docs = nnz = written = 0
    fd, body_path = tempfile.mkstemp(dir=folder, prefix=f".{docword.name}.", suffix=".body")
    os.close(fd)
    try:
        # No time or name in the gzip headers: the same key gives the same bytes.
        with open(body_path, "wb") as raw, gzip.GzipFile(
                filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0) as body:
            block = 0
            while written < num_tokens:
                k_len, k_draw = jax.random.split(jax.random.fold_in(k_blocks, block))
                want = min(block_tokens, num_tokens - written)
                lengths = np.minimum(
                    1 + np.asarray(jax.random.poisson(k_len, doc_length - 1, (max_docs,))),
                    longest)
                ends = np.cumsum(lengths)
                if ends[-1] < want:  # 2x the mean's worth of documents: never short in practice
                    raise RuntimeError(f"write_scale_corpus: block {block} drew too few documents")
                docs = int(np.searchsorted(ends, want)) + 1  # the last one cut to fit
                lengths = lengths[:docs]
                lengths[-1] -= int(ends[docs - 1]) - want
                doc_of_token = np.repeat(np.arange(docs, dtype=np.int32), lengths)
                grid = np.asarray(_draw_block(k_draw, topic_cdf, words_dev, docs=max_docs,
                                              longest=longest, num_topics=num_topics,
                                              alpha=float(alpha)))
                words = grid[:docs][np.arange(longest)[None, :] < lengths[:, None]]
                pairs, counts = np.unique(doc_of_token.astype(np.int64) * vocab_size + words,
                                          return_counts=True)
                table = np.stack([pairs // vocab_size + num_docs + 1, pairs % vocab_size + 1,
                                  counts], axis=1)
                body.write((("%d %d %d\n" * len(table)) % tuple(table.ravel().tolist()))
                           .encode())
                num_docs += docs
                nnz += len(table)
                written += want
                block += 1
                if on_block is not None:
                    on_block(written)
        with atomic_write(vocab) as f:
            f.write("".join(f"w{i}\n" for i in range(vocab_size)))
        # gzip members may follow one another: the header (known only now) as one member, the
        # body's bytes copied after it, not recompressed.
        with atomic_write(docword, "wb") as out, open(body_path, "rb") as body:
            out.write(gzip.compress(f"{num_docs}\n{vocab_size}\n{nnz}\n".encode(),
                                    compresslevel=1, mtime=0))
            shutil.copyfileobj(body, out, 2**24)
    finally:
        os.unlink(body_path)
    return ScaleCorpus(docword, vocab, num_docs, num_tokens, vocab_size, nnz, topic_words,
                       np.asarray(weights))
