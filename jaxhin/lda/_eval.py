"""Evaluating topic models: inference on unseen documents, held-out document-completion
perplexity, top words and UMass / NPMI coherence.

`perplexity` takes any (K, V) topic-word matrix, so the benchmark scores every library's model
with the same code (or jaxhin's own `TopicCounts`, the same numbers without a K x V array):
each held-out document's even-position tokens estimate its topic mixture
theta (EM with phi fixed, the MAP fold-in), and the odd-position tokens are scored by
p(w) = sum_k theta_dk phi_kw (Wallach et al., 2009, "document completion").
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from jaxhin.data import Corpus
from jaxhin.lda._samplers import (
    LdaConfig,
    SamplerState,
    Tokens,
    TopicCounts,
    apply_chunk,
    chunk_slots,
    doc_prior,
    mh_chunk,
    scan_chunks,
)


def _check_vocab(corpus: Corpus, vocab_size: int, what: str) -> None:
    if corpus.num_tokens and int(corpus.words.max()) >= vocab_size:
        i = int(np.argmax(corpus.words >= vocab_size))
        raise ValueError(f"{what}: document {int(corpus.docs[i])} has word id "
                         f"{int(corpus.words[i])}, outside the model's vocabulary of "
                         f"{vocab_size} words")


def infer(key: jax.Array, state: SamplerState, tokens: Tokens, corpus: Corpus,
          cfg: LdaConfig, iters: int = 20) -> jax.Array:
    """Topic mixtures of unseen documents with the trained word side held fixed.

    The same O(1) MH sampler, with target (n_dk^-i + alpha) phi_kw; its word proposal draws
    from the model's fixed counts (n_kw + beta) and is weighed so in the ratio; alpha is the
    chain's own where it has one (`LdaConfig.optimize_alpha`). Returns (D_new, K) float32 theta,
    averaged over the second half of the iterations.
    """
    _check_vocab(corpus, tokens.vocab_size, "infer")
    new = dataclasses.replace(
        tokens, words=jnp.asarray(corpus.words), docs=jnp.asarray(corpus.docs),
        doc_start=jnp.asarray(corpus.doc_starts), doc_length=jnp.asarray(corpus.doc_lengths),
        num_docs=corpus.num_docs, doc_span=0)  # the new documents' rows are dense here
    return _infer(key, state, new, cfg, iters)


@functools.partial(jax.jit, static_argnames=("cfg", "iters"))
def _infer(key, state, new, cfg, iters):
    k = state.num_topics
    prior = doc_prior(state.alpha)
    init_key, key = jax.random.split(key)
    z = jax.random.randint(init_key, new.words.shape, 0, k, jnp.int32)
    doc_topic = jnp.zeros((new.num_docs, k), jnp.int32).at[new.docs, z].add(1)
    index, valid = chunk_slots(new.words.shape[0], cfg.chunk)

    def sweep(carry, it):
        doc_topic, z, acc = carry

        def body(c, u, xs):
            slot, ok = xs
            full = (c[0], state.word_rows, state.topic_count, c[1], state.zw)
            new_z, w, d, z0 = mh_chunk(u, full, new, cfg, slot, ok, frozen_words=True,
                                        prior=prior)
            out = apply_chunk(full, new, slot, ok, new_z, w, d, z0, frozen_words=True)
            return out[0], out[3]

        doc_topic, z = scan_chunks(body, (doc_topic, z), jax.random.fold_in(key, it),
                                   jnp.arange(index.shape[0]), (index, valid), cfg,
                                   index.shape[1])
        keep = (it >= iters // 2).astype(jnp.float32)
        return (doc_topic, z, acc + keep * doc_topic), None

    acc0 = jnp.zeros((new.num_docs, k), jnp.float32)
    (_, _, acc), _ = jax.lax.scan(sweep, (doc_topic, z, acc0), jnp.arange(iters))
    kept = iters - iters // 2
    mean = acc / kept + (cfg.alpha if state.alpha is None else state.alpha)
    return mean / mean.sum(1, keepdims=True)


def split_halves(corpus: Corpus) -> tuple[Corpus, Corpus]:
    """Document completion: (observed, evaluated) = each document's even and odd positions.
    Documents of one token are observed only (they keep their id; nothing of them is scored)."""
    pos = np.arange(corpus.num_tokens) - corpus.doc_starts[corpus.docs]
    odd = pos % 2 == 1
    obs = Corpus(corpus.words[~odd], corpus.docs[~odd], corpus.vocab, corpus.num_docs,
                 f"{corpus.name}:observed")
    ev = Corpus(corpus.words[odd], corpus.docs[odd], corpus.vocab, corpus.num_docs,
                f"{corpus.name}:evaluated")
    return obs, ev


def _blocks(x: jax.Array, chunk: int) -> jax.Array:
    """(n,) -> (ceil(n / chunk), chunk), zero-padded at the end."""
    return jnp.pad(x, (0, (-x.shape[0]) % chunk)).reshape(-1, chunk)


@functools.partial(jax.jit, static_argnames=("num_docs", "iters", "chunk"))
def _fold_in_em(phi, words, docs, num_docs, alpha, iters, chunk):
    k = phi.shape[0]
    w, d, m = (_blocks(x, chunk) for x in (words, docs, jnp.ones(words.shape, jnp.float32)))
    phi_t = phi.T  # (V, K): one row gather per token

    def em(theta, _):
        def body(acc, xs):
            wc, dc, mc = xs
            r = theta[dc] * phi_t[wc]
            r = r / jnp.maximum(r.sum(1, keepdims=True), 1e-30) * mc[:, None]
            return acc.at[dc].add(r), None

        acc, _ = jax.lax.scan(body, jnp.zeros((num_docs, k), jnp.float32), (w, d, m))
        theta = acc + alpha
        return theta / theta.sum(1, keepdims=True), None

    theta0 = jnp.full((num_docs, k), 1.0 / k, jnp.float32)
    theta, _ = jax.lax.scan(em, theta0, None, length=iters)
    return theta


def perplexity(phi: np.ndarray | jax.Array | TopicCounts, heldout: Corpus,
               alpha: float | np.ndarray | jax.Array, iters: int = 50, chunk: int = 1024
               ) -> float:
    """Held-out document-completion perplexity of a (K, V) topic-word matrix (rows sum to 1),
    or of jaxhin's sparse `TopicCounts` (the same EM and score, O(non-zeros + D K) memory).

    theta of each held-out document is fitted by EM on its even-position tokens (Dirichlet
    prior alpha, MAP; a scalar, or (K,) for an asymmetric prior), then
    exp(-mean log sum_k theta_dk phi_kw) over its odd-position tokens.
    """
    k = phi.shape[0]
    alpha = jnp.asarray(alpha, jnp.float32)
    if alpha.ndim != 0 and alpha.shape != (k,):
        raise ValueError(f"perplexity: alpha must be a scalar or ({k},), one per topic; got "
                         f"shape {tuple(alpha.shape)}")
    if isinstance(phi, TopicCounts):
        return _sparse_perplexity(phi, heldout, alpha, iters)
    phi = jnp.asarray(phi, jnp.float32)
    if phi.ndim != 2 or phi.shape[1] != heldout.vocab_size:
        raise ValueError(f"perplexity: phi must be (K, V={heldout.vocab_size}), got "
                         f"{tuple(phi.shape)}")
    obs, ev = split_halves(heldout)
    theta = _fold_in_em(phi, jnp.asarray(obs.words), jnp.asarray(obs.docs), heldout.num_docs,
                        alpha, iters, chunk)
    p = _predictive(theta, phi, jnp.asarray(ev.words), jnp.asarray(ev.docs), chunk)
    return float(np.exp(-np.mean(np.log(np.maximum(np.asarray(p, np.float64), 1e-300)))))


def _sparse_perplexity(tc: TopicCounts, heldout: Corpus, alpha: jax.Array, iters: int,
                       pair_budget: int = 2**20, theta_budget: int = 2**22) -> float:
    """`perplexity` with phi_kw = g_k (n_kw + beta), g_k = 1 / (n_k + V beta), split into its
    sparse and dense parts: sum_k theta_dk phi_kw = sum_{n_kw > 0} theta_dk g_k n_kw
    + beta theta_d . g, and the EM's responsibilities likewise. Documents go in groups of at
    most `pair_budget` (token, non-zero topic) pairs and `theta_budget` theta entries."""
    k, v = tc.shape
    if v != heldout.vocab_size:
        raise ValueError(f"perplexity: counts over V={v} words, held-out corpus has "
                         f"V={heldout.vocab_size}")
    obs, ev = split_halves(heldout)
    nnz = np.diff(tc.word_start)
    value = (tc.norm[tc.topic] * tc.count).astype(np.float32)
    parts = (obs, ev)
    per_doc = [(np.bincount(c.docs, minlength=heldout.num_docs),
                np.bincount(c.docs, weights=nnz[c.words], minlength=heldout.num_docs))
               for c in parts]
    cost = per_doc[0][1] + per_doc[1][1]
    per_group = max(1, min(256, theta_budget // k))
    cuts, lo, load = [0], 0, 0.0
    for d in range(heldout.num_docs):
        if d > lo and (load + cost[d] > pair_budget or d - lo >= per_group):
            cuts.append(d)
            lo, load = d, 0.0
        load += cost[d]
    cuts.append(heldout.num_docs)
    # Padded sizes from per-document totals; each group's arrays are built when it runs.
    size = []
    for tokens_d, pairs_d in per_doc:
        for x in (tokens_d, pairs_d):
            total = np.concatenate([[0], np.cumsum(x)])[cuts]
            size.append(max(1, int(np.diff(total).max(initial=0))))
    run = functools.partial(_em_group, jnp.asarray(tc.norm, jnp.float32), alpha,
                            jnp.float32(tc.beta), docs=per_group, iters=iters)
    logs, count = 0.0, 0
    for a, b in itertools.pairwise(cuts):
        padded = [_pad_group(_group_arrays(c, a, b, tc, nnz, value), *size[2 * i: 2 * i + 2])
                  for i, c in enumerate(parts)]
        out = np.asarray(run(*padded[0], *padded[1]), np.float64)
        n_ev = int(per_doc[1][0][a:b].sum())
        logs += np.log(np.maximum(out[:n_ev], 1e-300)).sum()
        count += n_ev
    return float(np.exp(-logs / max(count, 1)))


def _group_arrays(part: Corpus, first: int, end: int, tc: TopicCounts, nnz: np.ndarray,
                  value: np.ndarray) -> tuple[np.ndarray, ...]:
    """Documents [first, end) of `part`: their tokens' local documents, and one
    (token, topic, g_k n_kw) triple per non-zero count of each token's word."""
    a, b = np.searchsorted(part.docs, [first, end])
    words, docs = part.words[a:b], part.docs[a:b] - first
    n = nnz[words]
    tok = np.repeat(np.arange(words.size, dtype=np.int32), n)
    entry = (np.repeat(tc.word_start[words] - np.cumsum(n) + n, n)
             + np.arange(tok.size)).astype(np.int64)
    return docs.astype(np.int32), tok, tc.topic[entry], value[entry]


def _pad_group(arrays, tokens: int, pairs: int):
    docs, tok, topic, value = arrays
    ok = np.zeros(tokens, bool)
    ok[:docs.size] = True
    return (np.pad(docs, (0, tokens - docs.size)), ok,
            np.pad(tok, (0, pairs - tok.size)), np.pad(topic, (0, pairs - topic.size)),
            np.pad(value, (0, pairs - value.size)))


@functools.partial(jax.jit, static_argnames=("docs", "iters"))
def _em_group(g, alpha, beta, o_doc, o_ok, o_tok, o_topic, o_val, e_doc, e_ok, e_tok, e_topic,
              e_val, *, docs, iters):
    """One group's EM fold-in (observed half) and p(w) of its evaluated half; padding pairs
    carry value 0 and padding tokens are masked."""

    def prob(theta, doc, pair_doc, tok, topic, val):
        """p(w) of each token, and each pair's theta_dk g_k n_kw (its sparse part)."""
        pair = theta[pair_doc, topic] * val
        sparse = jax.ops.segment_sum(pair, tok, num_segments=doc.shape[0])
        return sparse + beta * (theta @ g)[doc], pair

    o_pair_doc = o_doc[o_tok]  # fixed: gathered once, not per EM step

    def em(theta, _):
        p, pair = prob(theta, o_doc, o_pair_doc, o_tok, o_topic, o_val)
        r = jnp.where(o_ok, 1.0 / jnp.maximum(p, 1e-30), 0.0)
        s = jax.ops.segment_sum(r, o_doc, num_segments=docs)
        acc = theta * g[None, :] * (beta * s)[:, None]
        acc = acc.at[o_pair_doc, o_topic].add(pair * r[o_tok])
        theta = acc + alpha
        return theta / theta.sum(1, keepdims=True), None

    theta0 = jnp.full((docs, g.shape[0]), 1.0 / g.shape[0], jnp.float32)
    theta, _ = jax.lax.scan(em, theta0, None, length=iters)
    return prob(theta, e_doc, e_doc[e_tok], e_tok, e_topic, e_val)[0]


@functools.partial(jax.jit, static_argnames=("chunk",))
def _predictive(theta, phi, words, docs, chunk):
    phi_t = phi.T
    p = jax.lax.map(lambda xs: (theta[xs[1]] * phi_t[xs[0]]).sum(1),
                    (_blocks(words, chunk), _blocks(docs, chunk)))
    return p.reshape(-1)[:words.shape[0]]


def top_word_ids(phi: np.ndarray | TopicCounts, n: int = 10) -> np.ndarray:
    """(K, n) the n most probable words of every topic, ties by word id."""
    if not isinstance(phi, TopicCounts):
        return np.argsort(-np.asarray(phi), axis=1, kind="stable")[:, :n]
    k, v = phi.shape
    n = min(n, v)
    word = phi.words
    order = np.lexsort((word, -phi.count, phi.topic))  # by topic, then count down, then id
    topic = phi.topic[order]
    rank = np.arange(order.size) - np.searchsorted(topic, topic)
    keep = rank < n
    top = np.full((k, n), -1, np.int64)
    top[topic[keep], rank[keep]] = word[order][keep]
    # Topics with fewer than n words of non-zero count: the rest tie at beta; smallest ids.
    short = np.flatnonzero(top[:, -1] < 0)
    if short.size:
        cand = np.broadcast_to(np.arange(2 * n), (short.size, 2 * n))
        free = ~(cand[:, :, None] == top[short][:, None, :]).any(2)
        fill = np.where(free, cand, 2 * n)
        fill.sort(1)
        have = (top[short] >= 0).sum(1)
        cols = np.arange(n)[None, :] - have[:, None]
        extra = np.take_along_axis(fill, np.maximum(cols, 0), 1)
        top[short] = np.where(cols >= 0, extra, top[short])
    return top


def top_words(phi: np.ndarray | TopicCounts, vocab, n: int = 10) -> list[list[str]]:
    """The n most probable words of every topic."""
    return [[vocab[i] for i in row] for row in top_word_ids(phi, n)]


def coherence(phi: np.ndarray | TopicCounts, corpus: Corpus, n: int = 10,
              max_topics: int = 1000) -> dict[str, float]:
    """Mean UMass (Mimno et al., 2011) and NPMI (Bouma, 2009; Röder et al., 2015) coherence of
    every topic's top-n words, with documents of `corpus` as the co-occurrence windows.

    Of `TopicCounts` with more than `max_topics` topics, the `max_topics` holding the most
    tokens are scored (one loop step per topic; `topics` in the result says how many)."""
    n = min(n, corpus.vocab_size)
    top = top_word_ids(phi, n)
    if isinstance(phi, TopicCounts) and top.shape[0] > max_topics:
        top = top[np.argsort(-phi.topic_count, kind="stable")[:max_topics]]
    x = sp.csr_matrix((np.ones(corpus.num_tokens, np.float32), (corpus.docs, corpus.words)),
                      shape=(corpus.num_docs, corpus.vocab_size))
    x.data[:] = 1.0  # document frequency, not counts
    x = x.tocsc()
    num_docs = corpus.num_docs
    umass, npmi = [], []
    iu = np.triu_indices(n, 1)
    for row in top:
        cols = x[:, row]
        co = (cols.T @ cols).toarray().astype(np.float64)  # (n, n) co-document frequencies
        df = np.diag(co)
        # UMass: sum over i > j of log((D(w_i, w_j) + 1) / D(w_j)), w sorted by probability.
        lower = np.tril_indices(n, -1)
        umass.append(np.mean(np.log((co[lower] + 1.0) / np.maximum(df[lower[1]], 1.0))))
        p_ij = co[iu] / num_docs
        p_i, p_j = df[iu[0]] / num_docs, df[iu[1]] / num_docs
        eps = 1e-12
        pmi = np.log((p_ij + eps) / (p_i * p_j + eps))
        # Never together: -1; together in every document (log p_ij = 0): 1, NPMI's limit.
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(p_ij >= 1.0, 1.0, pmi / -np.log(p_ij + eps))
        npmi.append(np.mean(np.where(p_ij > 0, value, -1.0)))
    return {"umass": float(np.mean(umass)), "npmi": float(np.mean(npmi)), "topics": len(top)}
