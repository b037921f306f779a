"""A corpus streamed from disk block by block, as LightLDA's data blocks are (Yuan et al., 2015,
Sec. 5): memory holds the word-topic model and one block, whatever the corpus's size.

Layout of the run folder: `block-<b>.npz` (a block's words and block-local documents, written
once) and `z-<b>.<t>.npy` (its topics after iteration t), beside `run.json`, whose log says where
the chain stands: iteration `iter` and the first block `next` not yet sampled in it. Blocks
before `next` hold version iter + 1, the others version iter. A block's new topics are written
to a new file, then the log moves past it (atomically), then the old file goes; a kill at any
moment leaves the log pointing at one complete version of every block. The word-topic counts
are never saved: a resumed run recounts them from those versions, so no token can be lost or
counted twice, and the resumed chain continues bit for bit (block b of iteration t uses the key
fold_in(fold_in(key, t), b)).

While block b is sampled, the rest of the corpus's word-topic counts are fixed (they do not
change until their own blocks come round), so the target is the whole corpus's posterior
(`mh_chunk`'s `rest`). The word proposal is built, as LightLDA builds it, from the model: one
K-entry alias table per word from the whole corpus's counts as the block starts
(`model_word_proposal`, O(V K) per block). The model is held as dense (V, K) counts: streaming
bounds the memory of the tokens, not of V x K.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import Corpus, atomic_write
from jaxhin.lda._samplers import (
    LdaConfig,
    RestCounts,
    TopicCounts,
    _sum,
    _token_array_bytes,
    counts,
    doc_log_joint,
    lightlda_sweep,
    memory_report,
    model_word_proposal,
    to_tokens,
)
from jaxhin.train import CheckpointError, fingerprint, progress, run_folder


def split_blocks(doc_lengths: np.ndarray, block_tokens: int) -> np.ndarray:
    """(B + 1,) document boundaries: blocks of whole documents with at most `block_tokens`
    tokens each (a longer document is a block of its own)."""
    if block_tokens < 1:
        raise ValueError(f"split_blocks: block_tokens must be >= 1, got {block_tokens}")
    cuts, size = [0], 0
    for d, n in enumerate(np.asarray(doc_lengths).tolist()):
        if size and size + n > block_tokens:
            cuts.append(d)
            size = 0
        size += n
    cuts.append(len(doc_lengths))
    return np.asarray(cuts, np.int64)


@dataclasses.dataclass
class BlockFitResult:
    """A chain trained block by block: the model's counts and how it got there (as `FitResult`).

    Attributes:
      word_rows: (V, K) int32 word-topic counts of the whole corpus; topic_count (K,).
      blocks: how many blocks; largest: tokens in the largest.
      trace, sample_s, start_iter, iters: as `FitResult`'s (sample_s includes reading and
        writing the blocks).
      memory: `memory_report` of the largest block, plus the model's bytes.
    """

    word_rows: jax.Array
    topic_count: jax.Array
    folder: Path
    blocks: int
    largest: int
    num_tokens: int
    trace: list[dict[str, float]]
    sample_s: float
    start_iter: int
    iters: int
    memory: dict[str, Any]

    @property
    def tokens_per_s(self) -> float:
        done = self.iters - self.start_iter
        return self.num_tokens * done / self.sample_s if self.sample_s > 0 else 0.0

    def topic_counts(self, beta: float) -> TopicCounts:
        """The model as `TopicCounts` (for `perplexity`, `top_words`, `coherence`)."""
        rows = np.asarray(self.word_rows)
        word, topic = np.nonzero(rows)  # word-major, topics ascending
        start = np.searchsorted(word, np.arange(rows.shape[0] + 1)).astype(np.int64)
        return TopicCounts(topic.astype(np.int32), rows[word, topic].astype(np.int32), start,
                           np.asarray(self.topic_count, np.int64), float(beta))

    def z(self, block: int) -> np.ndarray:
        """Block `block`'s topics as the chain left them."""
        return np.load(self.folder / _z_name(block, self.iters))


def _block_name(b: int) -> str:
    return f"block-{b:05d}.npz"


def _z_name(b: int, it: int) -> str:
    return f"z-{b:05d}.{it}.npy"


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_write(path, "wb") as f:
        np.save(f, array)


@functools.partial(jax.jit, static_argnames=("shape",))
def _dense_counts(words, z, shape):
    rows = jnp.zeros(shape, jnp.int32).at[words, z].add(1)
    return rows, rows.sum(0)


@functools.partial(jax.jit, static_argnames=("beta",))
def _word_log_joint(rows, topic_count, beta):
    """The word half of log p(w, z) from dense (V, K) counts (zeros add nothing)."""
    v, k = rows.shape
    lg = jax.scipy.special.gammaln
    rising = jnp.where(rows > 0, lg(rows.astype(jnp.float32) + beta) - lg(jnp.float32(beta)), 0)
    return (_sum(rising.ravel()) + k * lg(jnp.float32(v * beta))
            - _sum(lg(topic_count.astype(jnp.float32) + v * beta)))


_model_table = jax.jit(model_word_proposal, static_argnames=("cfg",))
_doc_log_joint = jax.jit(doc_log_joint, static_argnames=("num_topics", "alpha"))


def fit_blocks(key: jax.Array, corpus: Corpus, cfg: LdaConfig, iters: int, *,
               folder: str | os.PathLike[str], block_tokens: int, sparse_below: int = 32,
               eval_every: int = 10, show_progress: bool = True,
               on_block: Callable[[int, int], None] | None = None) -> BlockFitResult:
    """LightLDA on `corpus` cut into blocks of at most `block_tokens` tokens, kept in `folder`
    and streamed through the device one at a time (module docstring); resumes from `folder`.

    Args:
      key: the chain's key (block b of iteration t samples with fold_in(fold_in(k, t), b)).
      folder: the run folder (locked while the chain runs; see `jaxhin.train.run_folder`).
      on_block: called as on_block(t, b) once block b of iteration t is safely on disk.

    Raises:
      CheckpointError: the folder holds another chain, or is in use.
    """
    if iters < 0:
        raise ValueError(f"fit_blocks: iters must be >= 0, got {iters}")
    if cfg.optimize_alpha:
        raise ValueError("fit_blocks: LdaConfig.optimize_alpha is not supported for a streamed "
                         "corpus; set it to 0")
    k, v = cfg.num_topics, corpus.vocab_size
    cuts = split_blocks(corpus.doc_lengths, block_tokens)
    num_blocks = len(cuts) - 1
    identity = {"system": "lda", "sampler": "lightlda-blocks", "lda": dataclasses.asdict(cfg),
                "sparse_below": sparse_below, "block_tokens": block_tokens,
                "key": np.asarray(jax.random.key_data(key)).tolist(),
                "data": fingerprint(corpus.words, corpus.docs)}
    del identity["lda"]["optimize_alpha"]
    init_key, key = jax.random.split(key)
    folder = Path(folder)

    def block(b: int) -> Corpus:
        with np.load(folder / _block_name(b)) as f:
            return Corpus(f["words"], f["docs"], corpus.vocab, int(f["num_docs"]),
                          f"{corpus.name}:block{b}")

    with run_folder(folder, identity) as run:
        log = run.read_log()
        if "blocks" not in log:  # a new chain: cut the corpus, draw the first topics
            starts = np.append(corpus.doc_starts, corpus.num_tokens)
            for b in range(num_blocks):
                lo, hi = starts[cuts[b]], starts[cuts[b + 1]]
                with atomic_write(folder / _block_name(b), "wb") as f:
                    np.savez(f, words=corpus.words[lo:hi],
                             docs=corpus.docs[lo:hi] - cuts[b], num_docs=cuts[b + 1] - cuts[b])
                z0 = jax.random.randint(jax.random.fold_in(init_key, b), (hi - lo,), 0, k,
                                        jnp.int32)
                _save(folder / _z_name(b, 0), np.asarray(z0))
            log = {"blocks": num_blocks, "iter": 0, "next": 0, "trace": [], "wall_s": 0.0,
                   "doc_ll": 0.0}
        elif log["blocks"] != num_blocks:
            raise CheckpointError(f"{folder}: holds {log['blocks']} blocks, this corpus cuts "
                                  f"into {num_blocks}")
        start, nxt = log["iter"], log["next"]
        if start > iters or (start == iters and nxt):
            raise CheckpointError(f"{folder}: the chain is at iteration {start}, past the "
                                  f"{iters} asked for; ask for {start + (nxt > 0)} or more")

        def version(b: int) -> int:
            return start + 1 if b < nxt else start

        for path in folder.glob("z-*.npy"):  # leftovers of a kill between two writes
            b, it = (int(x) for x in path.name[2:-4].split("."))
            if b >= num_blocks or it != version(b):
                path.unlink()
        # The model is recounted from the blocks' topics, never saved: nothing to disagree.
        rows, topic = jnp.zeros((v, k), jnp.int32), jnp.zeros((k,), jnp.int32)
        trace, doc_ll0 = list(log["trace"]), 0.0
        largest = (0, 0)
        for b in range(num_blocks):
            part = block(b)
            largest = max(largest, (part.num_tokens, b))
            z = jnp.asarray(np.load(folder / _z_name(b, version(b))))
            r, t = _dense_counts(jnp.asarray(part.words), z, (v, k))
            rows, topic = rows + r, topic + t
            if not trace:  # a new chain: its first point
                doc_ll0 += float(_doc_log_joint(z, jnp.asarray(part.docs),
                                                jnp.asarray(part.doc_lengths), k,
                                                float(cfg.alpha)))
        n = corpus.num_tokens
        if not trace:
            ll = float(_word_log_joint(rows, topic, float(cfg.beta))) + doc_ll0
            trace = [{"iter": 0, "wall_s": 0.0, "loglik_per_token": ll / n}]
        wall0, doc_ll = log["wall_s"], log["doc_ll"]
        sample_s = 0.0
        total = (iters - start) * num_blocks - nxt
        bar = progress(total=total, desc=f"lightlda K={k}, {num_blocks} blocks",
                       enabled=show_progress)
        with contextlib.closing(bar):
            for it in range(start, iters):
                done = it + 1
                evaluate = done % max(eval_every, 1) == 0 or done == iters
                for b in range(nxt if it == start else 0, num_blocks):
                    t0 = time.perf_counter()
                    part = block(b)
                    tokens = to_tokens(part, sparse_below, num_topics=k)
                    z = jnp.asarray(np.load(folder / _z_name(b, it)))
                    old_rows, old_topic = _dense_counts(tokens.words, z, (v, k))
                    rest = RestCounts(rows - old_rows, topic - old_topic)
                    state = lightlda_sweep(jax.random.fold_in(jax.random.fold_in(key, it), b),
                                           counts(tokens, z, k), tokens, cfg, rest,
                                           _model_table(rows, topic, cfg))
                    new_rows, new_topic = _dense_counts(tokens.words, state.z, (v, k))
                    rows, topic = rest.rows + new_rows, rest.topic + new_topic
                    if evaluate:
                        doc_ll += float(_doc_log_joint(state.z, tokens.docs, tokens.doc_length,
                                                       k, float(cfg.alpha)))
                    _save(folder / _z_name(b, done), np.asarray(state.z))
                    sample_s += time.perf_counter() - t0
                    last = b == num_blocks - 1
                    if last and evaluate:
                        ll = float(_word_log_joint(rows, topic, float(cfg.beta))) + doc_ll
                        trace.append({"iter": done, "wall_s": wall0 + sample_s,
                                      "loglik_per_token": ll / n})
                        bar.set_postfix(ll=f"{ll / n:.4f}")
                    run.write_log({"blocks": num_blocks, "iter": done if last else it,
                                   "next": 0 if last else b + 1, "trace": trace,
                                   "wall_s": wall0 + sample_s, "doc_ll": 0.0 if last else doc_ll})
                    (folder / _z_name(b, it)).unlink()  # the log has moved past it
                    bar.update(1)
                    if on_block is not None:
                        on_block(it, b)
                doc_ll = 0.0
    memory = memory_report(to_tokens(block(largest[1]), sparse_below, num_topics=k), k)
    memory["model_bytes"] = 2 * 4 * v * k  # the whole corpus's (V, K) counts and the rest's
    memory["corpus_token_bytes"] = _token_array_bytes(n, v, corpus.num_docs)  # if held in memory
    return BlockFitResult(rows, topic, folder, num_blocks, largest[0], n, trace, sample_s, start,
                          iters, memory)
