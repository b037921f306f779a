"""Collapsed samplers for LDA: exact Gibbs (the reference) and LightLDA's Metropolis-Hastings.

Both target the collapsed conditional of one token i of word w in document d,
  p(z_i = k | rest) ∝ (n_dk^-i + alpha) (n_kw^-i + beta) / (n_k^-i + V beta),
where ^-i excludes token i (Griffiths & Steyvers, 2004).

LightLDA (Yuan et al., WWW 2015, Sec. 3) alternates two cheap proposals and corrects each with
an exact Metropolis-Hastings acceptance ratio, accept s -> t with min(1, p(t) q(s) / (p(s) q(t))):
  word proposal  q_w(k) ∝ n_kw + beta, drawn in O(1) as the *current* topic of a uniformly
                 chosen token of word w (its tokens are kept word-major in `zw`) with
                 probability n_w / (n_w + K beta), else uniformly;
  doc proposal   q_d(k) ∝ n_dk + alpha, drawn in O(1) as the topic of a uniformly chosen token of
                 the same document with probability n_d / (n_d + K alpha), else uniformly (with
                 an asymmetric alpha_k, `LdaConfig.optimize_alpha`: with probability
                 n_d / (n_d + A), else from alpha_k / A by a K-entry alias table).
The two are mirror images and read the counts the target reads, so every ratio is exact.
LightLDA's own word proposal is (n_kw + beta) / (n_k + V beta) from alias tables built once per
iteration, with q in the ratio read at the current counts: the tables go stale within the
iteration, the ratio no longer weighs the law the proposal was drawn from, and the chain is
biased. On KOS at K=100, from the state `lda` (exact collapsed Gibbs) reaches after 400
iterations (-8.179 nats per token; exact Gibbs then wanders within -8.176..-8.181), stale tables
fell 0.02 nats below within 5 iterations (-8.195 sampling one token at a time, -8.200 in
4,096-token chunks, -8.208 with 8 MH cycles in 16-token chunks: more MH steps, more bias); the
current-count proposal stays within -8.180..-8.186 (`scripts/lda_drift_check.py`; issue #35).
The factor 1 / (n_k + V beta) moves from the proposal into the ratio, and no table is needed: no
O(N) build per iteration, one gather per draw instead of an alias lookup. A table stays where
the word side is a fixed model (`model_word_proposal`, for a streamed block: exact, as that
table never changes while it is used).
Token i's own topic is in both proposals (its word's tokens and its document hold it), so the law
of a proposal from s would depend on s; drawing token i itself is a move to where the chain
stands, which is masked (`stay`), and q counts without token i. The paper's ratio counts token
i at s on both sides; that is not reversible, and on KOS at K=100 it pulled held-out perplexity
from 1400.7 to 1420.5 in 100 iterations from `lda`'s state. `tests/lda` pins one token's
conditional, and a whole sweep's invariance on a corpus small enough to enumerate. What remains
inexact is the chunked parallel update (below).

Hybrid storage (paper Sec. 4): word-topic rows are dense (K int32) for words with at least
`sparse_below` tokens; a rarer word's row is not stored at all -- its counts are read off the
topics of its < `sparse_below` tokens, which are kept in word order (`zw`). Lookups cost
O(sparse_below), a constant, and the memory is O(V_dense K + N) (`memory_report`).

Document side: dense (D, K) counts where they fit (`DOC_ROWS_BUDGET`), else none at all: a
document's n_dk are read off the topics of its own tokens (`z` is in document order), O(n_d) per
lookup and no memory beyond `z`, so the document side is O(N) whatever K is. The doc proposal is
O(1) either way (it draws one of the document's tokens). Both layouts see the same counts at
every step: the chain is the same, bit for bit (`tests/lda`), except where a document is so long
that chunks shrink to bound the gather (`DOC_GATHER`: past 1,024 tokens at chunk 4,096).

Tokens are sampled in parallel in chunks of `chunk` tokens; counts are updated between chunks,
so within a chunk every token sees counts that are stale by at most one chunk (as GPU samplers
do). `chunk=1` is the sequential sampler. Chunks take tokens position-major (the first token of
every document, then the second, ...; `position_major`), so a chunk holds as few tokens of one
document as it can: LightLDA samples a document's tokens one after another, and in a chunk of
whole documents each token is blind to its neighbours' moves. On KOS at K=100, from the state
`lda` reaches after 400 iterations (-8.179 nats per token; exact Gibbs -8.181 and -8.177 five
and ten iterations on), position-major chunks stay at -8.180 after 100 iterations and 16-token
chunks at -8.175 after 25, where chunks of whole documents fall to -8.202 (with the stale
tables above, -8.205 and -8.238: the two biases added up).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data import Corpus
from jaxhin.lda._alias import alias_table, sample_alias, segment_alias, uniform_index
from jaxhin.lda._rng import uniform
from jaxhin.train import check_at_least


@dataclasses.dataclass(frozen=True)
class LdaConfig:
    """Hyper-parameters of LDA and its samplers.

    Attributes:
      num_topics: K.
      alpha: symmetric document-topic prior.
      beta: symmetric topic-word prior.
      mh_steps: Metropolis-Hastings cycles per token per iteration, each a word-proposal step
        then a doc-proposal step, as LightLDA's `-mh_steps` counts them (its sampler makes
        both proposals in every step, and its default 2 is four proposals per token).
      chunk: tokens sampled in parallel with counts frozen (staleness); 1 is sequential.
        4096 by default: a chunk that is most of a small corpus samples nearly every token
        against the same counts (on the built-in 44K-token synthetic corpus 32768 ends at a
        perplexity 15% higher); on KOS 4096 and 32768 are within seed noise (issue #35).
      optimize_alpha: every this many iterations, re-estimate an asymmetric alpha (one value
        per topic) by Minka's fixed point (`optimize_alpha`), as tomotopy (its default, 10) and
        Mallet do; `alpha` is then its starting value. 0: alpha stays fixed and symmetric.
    """

    num_topics: int = 100
    alpha: float = 0.1
    beta: float = 0.01
    mh_steps: int = 2
    chunk: int = 4096
    optimize_alpha: int = 0

    def __post_init__(self):
        check_at_least(self, 1, "num_topics", "mh_steps", "chunk")
        check_at_least(self, 0, "optimize_alpha")
        for name in ("alpha", "beta"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"LdaConfig.{name} must be > 0, got {getattr(self, name)}")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Tokens:
    """A corpus on device and its word-major layout.

    Tokens are in document order. `word_order[s]` is the token in word-major slot s (words in id
    order, each word's tokens in document order); `word_slot` is its inverse. Words with at least
    `sparse_below` tokens own a dense word-topic row `dense_row[w]` (< num_dense); rarer words
    have `dense_row[w] == num_dense` and no stored row.
    """

    words: jax.Array        # (N,) int32
    docs: jax.Array         # (N,) int32, non-decreasing
    doc_start: jax.Array    # (D,)
    doc_length: jax.Array   # (D,)
    word_order: jax.Array   # (N,)
    word_slot: jax.Array    # (N,)
    slot_word: jax.Array    # (N,) word of each word-major slot
    word_start: jax.Array   # (V,)
    word_length: jax.Array  # (V,)
    dense_row: jax.Array    # (V,)
    sample_order: jax.Array  # (N,) sparse-row tokens, then dense-row ones, position-major
    num_docs: int = dataclasses.field(metadata={"static": True})
    vocab_size: int = dataclasses.field(metadata={"static": True})
    num_dense: int = dataclasses.field(metadata={"static": True})
    sparse_below: int = dataclasses.field(metadata={"static": True})
    num_sparse_tokens: int = dataclasses.field(metadata={"static": True}, default=0)
    narrow_counts: bool = dataclasses.field(metadata={"static": True}, default=False)
    # 0: dense (D, K) document-topic rows; else none, and a document's counts are read off its
    # tokens' topics, up to `doc_span` (the longest document) of them.
    doc_span: int = dataclasses.field(metadata={"static": True}, default=0)

    @property
    def count_dtype(self):
        """int16 for doc-topic and word-topic rows when no document or word has 2^15 tokens
        (half the memory traffic of int32 on the random count lookups), else int32."""
        return jnp.int16 if self.narrow_counts else jnp.int32

    @property
    def num_tokens(self) -> int:
        return int(self.words.shape[0])


# A word keeps a dense K-wide row only if it has at least K / DENSE_ROW_TOPICS tokens, so dense
# rows cost at most DENSE_ROW_TOPICS counts per token (1 KiB at int16) whatever K is; rarer
# words' counts are read off their tokens. 512 leaves the default threshold (32) unchanged up to
# K = 16,384, where the benchmarks run; above it the rows grow with K, not V x K.
DENSE_ROW_TOPICS = 512
# Dense (D, K) document rows are kept while they take at most this many bytes (or at most twice
# the token arrays); beyond, documents are read off their tokens (module docstring).
DOC_ROWS_BUDGET = 256 * 2**20
# Read off z, a chunk gathers (chunk, longest document) topics; chunks shrink to keep it this size.
DOC_GATHER = 2**22


def _token_array_bytes(n: int, v: int, d: int) -> int:
    """Bytes of `Tokens`' arrays and the state's z (int32 each)."""
    return 4 * 8 * n + 4 * 5 * v + 4 * 2 * d


def dense_threshold(sparse_below: int, num_topics: int | None) -> int:
    """Fewest tokens for which a word keeps a dense row at K = num_topics (None: sparse_below)."""
    if num_topics is None or sparse_below == 0:
        return sparse_below
    return max(sparse_below, -(-num_topics // DENSE_ROW_TOPICS))


def position_major(index: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Token indices `index` (tokens in document order) in sampling order: every document's
    first token among them, then every second one, ... (module docstring)."""
    index = np.sort(np.asarray(index))
    d = np.asarray(docs)[index]
    rank = np.arange(index.size) - np.searchsorted(d, d)  # place among its document's tokens
    return index[np.lexsort((d, rank))]


def to_tokens(corpus: Corpus, sparse_below: int = 32, *, num_topics: int | None = None,
              doc_rows: str = "auto") -> Tokens:
    """Move a corpus to device with its hybrid word-topic layout.

    Args:
      sparse_below: words with fewer tokens than this keep no dense row (0: every row dense).
        Given `num_topics`, the threshold rises to K / DENSE_ROW_TOPICS where that is larger.
      num_topics: K, for the K-dependent choices (dense word rows, document rows); None keeps
        `sparse_below` as it is and dense document rows.
      doc_rows: "dense" (D, K) document-topic rows, "sparse" (read off the tokens), or "auto":
        dense while they fit `DOC_ROWS_BUDGET` or twice the token arrays (needs `num_topics`).
    """
    if sparse_below < 0:
        raise ValueError(f"to_tokens: sparse_below must be >= 0, got {sparse_below}")
    if doc_rows not in ("auto", "dense", "sparse"):
        raise ValueError(f"to_tokens: doc_rows must be 'auto', 'dense' or 'sparse', got "
                         f"{doc_rows!r}")
    if num_topics is not None and num_topics < 1:
        raise ValueError(f"to_tokens: num_topics must be >= 1, got {num_topics}")
    sparse_below = dense_threshold(sparse_below, num_topics)
    words = np.asarray(corpus.words, np.int32)
    v = corpus.vocab_size
    order = np.argsort(words, kind="stable").astype(np.int32)
    slot = np.empty_like(order)
    slot[order] = np.arange(order.size, dtype=np.int32)
    length = np.bincount(words, minlength=v).astype(np.int32)
    start = (np.cumsum(length) - length).astype(np.int32)
    dense = length >= sparse_below
    dense_row = np.where(dense, np.cumsum(dense) - 1, dense.sum()).astype(np.int32)
    sparse_token = ~dense[words]
    sample_order = np.concatenate([
        position_major(np.flatnonzero(part), corpus.docs)
        for part in (sparse_token, ~sparse_token)]).astype(np.int32)
    narrow = bool(max(length.max(initial=0), corpus.doc_lengths.max(initial=0)) < 2**15)
    longest = int(max(corpus.doc_lengths.max(initial=1), 1))
    doc_span = longest if doc_rows == "sparse" else 0
    if doc_rows == "auto" and num_topics is not None:
        row_bytes = corpus.num_docs * num_topics * (2 if narrow else 4)
        token_bytes = _token_array_bytes(words.size, v, corpus.num_docs)
        doc_span = longest if row_bytes > max(DOC_ROWS_BUDGET, 2 * token_bytes) else 0
    return Tokens(jnp.asarray(words), jnp.asarray(corpus.docs), jnp.asarray(corpus.doc_starts),
                  jnp.asarray(corpus.doc_lengths), jnp.asarray(order), jnp.asarray(slot),
                  jnp.asarray(words[order]), jnp.asarray(start), jnp.asarray(length),
                  jnp.asarray(dense_row), jnp.asarray(sample_order), corpus.num_docs, v,
                  int(dense.sum()), int(sparse_below), int(sparse_token.sum()), narrow,
                  doc_span)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SamplerState:
    """State of one Markov chain. Arrays are leaves; `num_topics` is static.

    `zw` repeats `z` in word-major order (`zw[s] == z[word_order[s]]`): it is the sparse half of
    the hybrid word-topic store and what the word proposal draws from. `alpha` is
    None for the symmetric prior `LdaConfig.alpha`, else the chain's own asymmetric prior
    (`LdaConfig.optimize_alpha`), which the samplers then read instead.
    """

    z: jax.Array            # (N,) int32 topic of each token
    zw: jax.Array           # (N,) int32, word-major
    doc_topic: jax.Array    # (D, K) int32; (0, K) where documents are read off z
    word_rows: jax.Array    # (V_dense, K) int32 dense word-topic rows
    topic_count: jax.Array  # (K,) int32
    num_topics: int = dataclasses.field(metadata={"static": True})
    alpha: jax.Array | None = None  # (K,) float32 asymmetric document-topic prior


@functools.partial(jax.jit, static_argnames=("num_topics",))
def counts(tokens: Tokens, z: jax.Array, num_topics: int) -> SamplerState:
    """The state whose counts are those of assignment `z`."""
    ones = jnp.ones_like(z)
    dt = tokens.count_dtype  # counted in it directly: no row or document reaches its limit
    doc_topic = (jnp.zeros((tokens.num_docs, num_topics), dt).at[tokens.docs, z].add(
        ones.astype(dt)) if not tokens.doc_span else jnp.zeros((0, num_topics), dt))
    rows = tokens.dense_row[tokens.words]
    word_rows = jnp.zeros((tokens.num_dense, num_topics), dt).at[rows, z].add(
        ones.astype(dt), mode="drop")
    topic_count = jnp.zeros((num_topics,), jnp.int32).at[z].add(ones)
    return SamplerState(z, z[tokens.word_order], doc_topic, word_rows, topic_count, num_topics)


def init_state(key: jax.Array, tokens: Tokens, num_topics: int,
               cfg: LdaConfig | None = None) -> SamplerState:
    """Uniformly random topics and their counts; with `cfg.optimize_alpha`, a (K,) alpha that
    starts at `cfg.alpha`."""
    z = jax.random.randint(key, tokens.words.shape, 0, num_topics, jnp.int32)
    state = counts(tokens, z, num_topics)
    if cfg is not None and cfg.optimize_alpha:
        state = dataclasses.replace(state, alpha=jnp.full((num_topics,), cfg.alpha, jnp.float32))
    return state


def word_topic(state: SamplerState, tokens: Tokens) -> jax.Array:
    """The full (V, K) word-topic count matrix (dense; for small K, tests and evaluation)."""
    k = state.num_topics
    return jnp.zeros((tokens.vocab_size, k), jnp.int32).at[tokens.slot_word, state.zw].add(1)


def _span_counter(topics: jax.Array, start: jax.Array, length: jax.Array, span: int,
                  keep: jax.Array | bool = True):
    """Counts read off a run of topics: row b holds topics[start[b] : start[b] + length[b]]
    (at most `span`, masked where `keep` is False), gathered once; the returned lookup(k)
    counts k in each row. The sparse half of both the word and the document side."""
    offs = jnp.arange(span, dtype=jnp.int32)
    mask = (offs[None, :] < length[:, None]) & jnp.reshape(keep, (-1, 1))
    at = jnp.minimum(start[:, None] + offs[None, :], topics.shape[0] - 1)
    held = jnp.where(mask, topics[at], -1)
    return lambda k: (held == k[:, None]).sum(1, dtype=jnp.int32)


def _word_count(rows: jax.Array, zw: jax.Array, tokens: Tokens, w: jax.Array,
                kind: str = "mixed"):
    """A lookup n_kw(k) for a batch of words `w`: dense row, or a count over the word's
    < sparse_below tokens in `zw` (O(sparse_below), independent of K). `kind` "dense" or
    "sparse" promises every word of the batch is of that kind and skips the other path."""
    dense = tokens.dense_row[w]
    row = jnp.minimum(dense, max(tokens.num_dense - 1, 0))
    if kind == "dense":
        return lambda k: rows[row, k]
    is_dense = dense < tokens.num_dense
    count = _span_counter(zw, tokens.word_start[w], tokens.word_length[w],
                          max(tokens.sparse_below - 1, 1), ~is_dense)

    def lookup(k: jax.Array) -> jax.Array:
        sparse = count(k)
        if tokens.num_dense == 0 or kind == "sparse":
            return sparse
        return jnp.where(is_dense, rows[row, k], sparse)

    return lookup


def _doc_count(doc_topic: jax.Array, z: jax.Array, tokens: Tokens, d: jax.Array):
    """A lookup n_dk(k) for a batch of documents `d`: the dense row, or (`tokens.doc_span`) a
    count over the document's tokens in `z`, gathered once and compared per lookup."""
    if not tokens.doc_span:
        return lambda k: doc_topic[d, k]
    return _span_counter(z, tokens.doc_start[d], tokens.doc_length[d], tokens.doc_span)


# ----------------------------------------------------------------------------- likelihood


def _sum(x: jax.Array) -> jax.Array:
    """A float32 sum with pairwise-ish error (blocks of 1024), for sums over ~1e6 tokens."""
    pad = (-x.shape[0]) % 1024
    return jnp.pad(x, (0, pad)).reshape(-1, 1024).sum(1).sum()


def _pair_groups(a: jax.Array, b: jax.Array):
    """One sort of the N pairs (a, b): the sorted b, each pair's rank within its group of equal
    pairs, and where each group starts."""
    a_s, b_s = jax.lax.sort((a, b), num_keys=2)
    idx = jnp.arange(a.shape[0])
    new = jnp.concatenate([jnp.ones((1,), bool), (a_s[1:] != a_s[:-1]) | (b_s[1:] != b_s[:-1])])
    first = jax.lax.cummax(jnp.where(new, idx, 0))
    return b_s, idx - first, new


def _log_rising(a: jax.Array, b: jax.Array, prior: float | jax.Array) -> jax.Array:
    """sum over groups (a, b) of log Gamma(n_ab + prior_b) - log Gamma(prior_b), from one sort of
    the N pairs: each token adds log(rank within its group + prior). O(N log N), independent of
    K. `prior` is a scalar or indexed by b ((K,) for an asymmetric alpha)."""
    b_s, rank, _ = _pair_groups(a, b)
    prior = prior if jnp.ndim(prior) == 0 else prior[b_s]
    return _sum(jnp.log(rank.astype(jnp.float32) + prior))


def doc_log_joint(z, docs, doc_length, num_topics, alpha, alpha_vec=None):
    """log p(z | alpha) of documents from their tokens' (N,) topics and documents and (D,)
    lengths: the document half of `log_joint_counts` (a streamed corpus sums it per block)."""
    lg = jax.scipy.special.gammaln
    prior, total = ((alpha, jnp.float32(num_topics * alpha)) if alpha_vec is None
                    else (alpha_vec, alpha_vec.sum()))
    return (_log_rising(docs, z, prior) + doc_length.shape[0] * lg(total)
            - _sum(lg(doc_length.astype(jnp.float32) + total)))


@functools.partial(jax.jit, static_argnames=("alpha", "beta"))
def log_joint_counts(z, words, docs, doc_length, topic_count, vocab_size, alpha, beta,
                     alpha_vec=None):
    """Collapsed log p(w, z) from the tokens' (N,) topics, words and documents, (D,) document
    lengths and (K,) topic totals; the kernel `log_joint` and the mesh version share. Token
    order does not matter (the pairs are sorted inside). `alpha_vec`, if given, is a (K,)
    asymmetric prior used instead of the symmetric `alpha`."""
    k = topic_count.shape[0]
    lg = jax.scipy.special.gammaln
    v_beta = vocab_size * beta
    log_w = (_log_rising(words, z, beta) + k * lg(jnp.float32(v_beta))
             - _sum(lg(topic_count.astype(jnp.float32) + v_beta)))
    return log_w + doc_log_joint(z, docs, doc_length, k, alpha, alpha_vec)


def log_joint(state: SamplerState, tokens: Tokens, cfg: LdaConfig) -> jax.Array:
    """Collapsed log p(w, z) (Griffiths & Steyvers, 2004, eq. 2-3), the quantity Gibbs-based
    libraries (tomotopy's `ll_per_word`, `lda`'s `loglikelihood`) report; under the chain's
    own alpha where it has one."""
    return log_joint_counts(state.z, tokens.words, tokens.docs, tokens.doc_length,
                            state.topic_count, tokens.vocab_size, float(cfg.alpha),
                            float(cfg.beta), state.alpha)


def log_joint_per_token(state: SamplerState, tokens: Tokens, cfg: LdaConfig) -> jax.Array:
    return log_joint(state, tokens, cfg) / state.z.shape[0]


# ----------------------------------------------------------------------------- alpha


@functools.partial(jax.jit, static_argnames=("steps",))
def optimize_alpha(state: SamplerState, tokens: Tokens, alpha: jax.Array, steps: int = 20,
                   floor: float = 1e-5) -> jax.Array:
    """An asymmetric document-topic prior re-estimated from the chain's counts by Minka's fixed
    point (Minka, "Estimating a Dirichlet distribution", 2000, eq. 55; Wallach, Mimno and
    McCallum, "Rethinking LDA: why priors matter", 2009), `steps` times from `alpha`:
      alpha_k <- alpha_k sum_d [psi(n_dk + alpha_k) - psi(alpha_k)]
                         / sum_d [psi(n_d + A) - psi(A)],      A = sum_k alpha_k,
    floored at `floor` (a topic with no tokens would otherwise reach 0). A zero count adds
    nothing to the numerator, so it is a sum over the non-zero (d, k) pairs: one sort of the
    N (document, topic) pairs, O(N log N) whatever K is, and no (D, K) array."""
    k, n = state.num_topics, state.z.shape[0]
    topic, _, new = _pair_groups(tokens.docs, state.z)
    group = jnp.cumsum(new) - 1                       # (N,) group of each sorted pair
    n_dk = jax.ops.segment_sum(jnp.ones((n,), jnp.float32), group, num_segments=n)
    group_topic = jnp.zeros((n,), jnp.int32).at[group].max(topic)
    real = n_dk > 0                                   # groups past the last are empty
    n_d = tokens.doc_length.astype(jnp.float32)
    psi = jax.scipy.special.digamma

    def step(_, a):
        a_g = a[group_topic]
        num = jax.ops.segment_sum(jnp.where(real, psi(n_dk + a_g) - psi(a_g), 0.0),
                                  group_topic, num_segments=k)
        total = a.sum()
        den = _sum(jnp.where(n_d > 0, psi(n_d + total) - psi(total), 0.0))
        return jnp.maximum(a * num / jnp.maximum(den, 1e-30), floor)

    return jax.lax.fori_loop(0, steps, step, alpha.astype(jnp.float32))


# ----------------------------------------------------------------------------- exact Gibbs


@functools.partial(jax.jit, static_argnames=("cfg",))
def gibbs_sweep(key: jax.Array, state: SamplerState, tokens: Tokens, cfg: LdaConfig
                ) -> SamplerState:
    """One sequential sweep of exact collapsed Gibbs sampling: O(K) per token, dense counts."""
    v_beta = tokens.vocab_size * cfg.beta
    alpha = cfg.alpha if state.alpha is None else state.alpha

    def step(carry, i):
        doc_topic, wt, topic_count, z = carry
        w, d, old = tokens.words[i], tokens.docs[i], z[i]
        doc_topic = doc_topic.at[d, old].add(-1)
        wt = wt.at[w, old].add(-1)
        topic_count = topic_count.at[old].add(-1)
        logits = (jnp.log(doc_topic[d] + alpha) + jnp.log(wt[w] + cfg.beta)
                  - jnp.log(topic_count + v_beta))
        new = jax.random.categorical(jax.random.fold_in(key, i), logits).astype(jnp.int32)
        doc_topic = doc_topic.at[d, new].add(1)
        wt = wt.at[w, new].add(1)
        topic_count = topic_count.at[new].add(1)
        return (doc_topic, wt, topic_count, z.at[i].set(new)), None

    doc_topic = state.doc_topic
    if tokens.doc_span:  # exact Gibbs is O(K) per token anyway: dense rows for the sweep
        doc_topic = jnp.zeros((tokens.num_docs, state.num_topics), jnp.int32).at[
            tokens.docs, state.z].add(1)
    carry = (doc_topic, word_topic(state, tokens), state.topic_count, state.z)
    (_, _, _, z), _ = jax.lax.scan(step, carry, jnp.arange(tokens.words.shape[0]))
    return dataclasses.replace(counts(tokens, z, state.num_topics), alpha=state.alpha)


# ----------------------------------------------------------------------------- LightLDA


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class WordProposal:
    """A word proposal from a fixed model (`model_word_proposal`): word w's K alias buckets are
    [w K, (w + 1) K), and `weight[w K + k]` is the table's own q_w(k), which the ratio reads."""

    prob: jax.Array    # (V K,)
    alias: jax.Array   # (V K,)
    topic: jax.Array   # (V K,) topic behind each bucket
    weight: jax.Array  # (V K,)


def model_word_proposal(rows: jax.Array, topic_count: jax.Array, cfg: LdaConfig
                        ) -> WordProposal:
    """Every word's proposal from dense (V, K) model counts, as LightLDA builds its alias tables
    from the model it holds: q_w(k) ∝ (n_kw + beta) / (n_k + V beta), one K-entry table per
    word, O(V K). For a corpus streamed in blocks (`fit_blocks`), whose model is dense and
    whose block's own tokens would give a poorer proposal (with 9 blocks of the 24K-token
    planted corpus, a proposal from the block's tokens left the chain 0.16 nats per token short
    of the in-memory one after 40 iterations).

    The table does not change while it is used, and it does not depend on where the chain
    stands, so the ratio reads its weights as they are (`mh_chunk`): an independence proposal,
    exact MH however stale the table. Reading it with current counts and token i left out
    made a token stick to the topic it had when the table was built (rare words: n_kw counts
    it); 5 blocks of the planted corpus stalled at -2.67 nats per token where the in-memory
    chain reaches -2.50."""
    v, k = rows.shape
    weight = ((rows.astype(jnp.float32) + cfg.beta)
              / (topic_count.astype(jnp.float32) + v * cfg.beta)[None, :]).ravel()
    prob, alias, item = segment_alias(weight, jnp.arange(v, dtype=jnp.int32) * k,
                                      jnp.full((v,), k, jnp.int32),
                                      jnp.repeat(jnp.arange(v, dtype=jnp.int32), k), k)
    return WordProposal(prob, alias, (item % k).astype(jnp.int32), weight)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DocPrior:
    """An asymmetric alpha and its alias table: the doc proposal's prior part alpha_k / A."""

    alpha: jax.Array  # (K,)
    prob: jax.Array   # (K,)
    alias: jax.Array  # (K,)
    item: jax.Array   # (K,)
    total: jax.Array  # () A = sum_k alpha_k


def doc_prior(alpha: jax.Array | None) -> DocPrior | None:
    """The doc proposal's prior table for a (K,) alpha (O(K)); None for the symmetric one."""
    if alpha is None:
        return None
    prob, alias, item = alias_table(alpha)
    return DocPrior(alpha, prob, alias, item, alpha.sum())


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class RestCounts:
    """The word-topic counts of every token outside the block being sampled (`fit_blocks`)."""

    rows: jax.Array   # (V, K) int32
    topic: jax.Array  # (K,) int32


def chunk_slots(n: int, chunk: int) -> tuple[jax.Array, jax.Array]:
    """(chunks, chunk) token slots covering n tokens and which of them are real (not padding)."""
    chunk = min(chunk, n)
    num = -(-n // chunk)
    index = jnp.arange(num * chunk, dtype=jnp.int32).reshape(num, chunk)
    return index, index < n


def scan_chunks(body, carry, key, ids, xs, cfg: LdaConfig, chunk: int):
    """`jax.lax.scan` of `body(carry, u, x) -> carry` over chunks, where `u` holds chunk
    `ids[i]`'s MH uniforms, `uniform(fold_in(key, ids[i]), (2 mh_steps, 4, chunk))`.

    Each chunk's uniforms are drawn one iteration ahead and carried: a loop-carried array is
    materialised once, whereas drawn inside the body, the unrolled hash (`_rng`) is fused into
    every reader of the uniforms and recomputed there (XLA:CPU drops optimisation barriers
    before fusion); that made a sweep 2x slower than JAX's rolled Threefry loop."""
    shape = (2 * cfg.mh_steps, 4, chunk)

    def draw(i):
        return uniform(jax.random.fold_in(key, i), shape)

    def step(state, inp):
        carry, u = state
        ahead, x = inp
        return (body(carry, u, x), draw(ahead)), None

    ahead = jnp.concatenate([ids[1:], ids[:1]])  # the last iteration draws one it never uses
    (carry, _), _ = jax.lax.scan(step, (carry, draw(ids[0])), (ahead, xs))
    return carry


def mh_chunk(rng, carry, tokens, cfg, slot, ok, frozen_words=False, kind="mixed",
             prior: DocPrior | None = None, rest: RestCounts | None = None,
             table: WordProposal | None = None):
    """MH-sample the tokens `slot` (a chunk) against counts `carry`; returns the new topics.
    `rng` holds the chunk's (2 mh_steps, 4, chunk) uniforms (`scan_chunks` draws them).

    The word proposal draws a token of the word from `zw` (module docstring), or, given a
    `table` (`model_word_proposal`), from that fixed model's alias table, weighed in the ratio
    by its own weights. With `frozen_words`, the word side (rows, zw, topic_count) is a fixed
    model (inference on unseen documents): the target is (n_dk^-i + alpha) phi_kw. With
    `prior`, alpha is its asymmetric alpha_k: in the target, and in the doc proposal, whose
    prior part then draws k with probability alpha_k / A from its alias table instead of
    uniformly. With `rest`, the tokens are one block of a corpus streamed block by block
    (`fit_blocks`): the target's word counts add the rest of the corpus's (fixed while the
    block is sampled), so the chain still targets the whole corpus's posterior.
    """
    doc_topic, word_rows, topic_count, z, zw = carry
    k, n = topic_count.shape[0], z.shape[0]
    alpha, beta = cfg.alpha, cfg.beta
    v_beta = tokens.vocab_size * beta
    idx = jnp.minimum(slot, n - 1)
    w, d, z0 = tokens.words[idx], tokens.docs[idx], z[idx]
    n_d, n_w = tokens.doc_length[d], tokens.word_length[w]
    n_kw = _word_count(word_rows, zw, tokens, w, kind)
    n_dk = _doc_count(doc_topic, z, tokens, d)

    def look(t):
        """What a topic needs, gathered once: n_dt, n_tw, n_t; alpha_t if asymmetric; with
        `rest`, the whole corpus's n_tw and n_t (block + rest)."""
        c = {"n_dt": n_dk(t).astype(jnp.float32), "n_tw": n_kw(t).astype(jnp.float32),
             "n_t": topic_count[t].astype(jnp.float32)}
        if prior is not None:
            c["alpha"] = prior.alpha[t]
        if rest is not None:  # integer-valued float32 sums: exact below 2^24
            c["all_tw"] = c["n_tw"] + rest.rows[w, t].astype(jnp.float32)
            c["all_t"] = c["n_t"] + rest.topic[t].astype(jnp.float32)
        return c

    def alpha_of(c):
        return c.get("alpha", alpha)

    def target(t, c):  # p(t | rest) up to a constant, counts without token i
        own = (t == z0).astype(jnp.float32)
        word_own = 0.0 if frozen_words else own
        return ((c["n_dt"] - own + alpha_of(c)) * (c.get("all_tw", c["n_tw"]) - word_own + beta)
                / (c.get("all_t", c["n_t"]) - word_own + v_beta))

    # q in the ratio is the law each proposal draws from, token i left out (module docstring).
    def q_word(c, x):
        if table is not None:
            return table.weight[w * k + x]
        word_own = 0.0 if frozen_words else (x == z0).astype(jnp.float32)
        return c["n_tw"] - word_own + beta

    def q_doc(c, x):
        return c["n_dt"] - (x == z0).astype(jnp.float32) + alpha_of(c)

    s = z0
    cs = look(s)  # carried with s: an accepted proposal's counts become the current ones
    for step in range(2 * cfg.mh_steps):  # word, doc, word, doc, ...
        u_mix, u_a, u_b, u_accept = rng[step]
        # Drawing token i itself (a token of its word or document) proposes s: a move to where
        # the chain stands, which the ratio (exactly 1) accepts. The step is masked (`stay`)
        # instead of proposing s, which keeps every proposal, and its count lookups,
        # independent of s; proposing s made each step's gathers wait on the one before it and
        # cost about a fifth of a sweep at K = 10,000 (issue #35, point 5).
        stay = False
        if step % 2 == 0 and table is not None:
            t = table.topic[sample_alias(table.prob, table.alias, w * k, k, u_a, u_b)]
        elif step % 2 == 0:
            pick = tokens.word_start[w] + uniform_index(u_a, n_w)
            from_word = u_mix * (n_w + k * beta) < n_w
            t = jnp.where(from_word, zw[pick], uniform_index(u_a, k))
            if not frozen_words:  # unseen documents' tokens are not in zw
                stay = from_word & (pick == tokens.word_slot[idx])
        else:
            pick = tokens.doc_start[d] + uniform_index(u_a, n_d)
            if prior is None:
                from_prior = uniform_index(u_a, k)
                prior_mass = k * alpha
            else:
                from_prior = prior.item[sample_alias(prior.prob, prior.alias, 0, k, u_a, u_b)]
                prior_mass = prior.total
            from_doc = u_mix * (n_d + prior_mass) < n_d
            t = jnp.where(from_doc, z[pick], from_prior)
            stay = from_doc & (pick == idx)
        q = q_word if step % 2 == 0 else q_doc
        ct = look(t)
        ratio = target(t, ct) * q(cs, s) / (target(s, cs) * q(ct, t))
        accept = (u_accept < ratio) & ~stay
        s = jnp.where(accept, t, s)
        cs = {name: jnp.where(accept, ct[name], cs[name]) for name in cs}
    return jnp.where(ok, s, z0), w, d, z0


def apply_chunk(carry, tokens, slot, ok, new, w, d, z0, frozen_words=False):
    """Move the chunk's tokens from z0 to new in every count (padding slots are dropped).

    Each count gets one scatter whose updates depend on `new`, so XLA orders it after every
    read of the chunk and updates the buffer in place (a separate `-1` scatter that does not
    depend on the reads makes XLA copy the whole (D, K) array every chunk).
    """
    doc_topic, word_rows, topic_count, z, zw = carry
    n = z.shape[0]
    moved = (ok & (new != z0)).astype(jnp.int32)
    delta = jnp.concatenate([-moved, moved])
    topics = jnp.concatenate([z0, new])
    if not tokens.doc_span:  # else the documents' counts are z itself
        doc_topic = doc_topic.at[jnp.concatenate([d, d]), topics].add(
            delta.astype(doc_topic.dtype))
    slot = jnp.where(ok, slot, n)  # out of range: dropped
    z = z.at[slot].set(new, mode="drop")
    if not frozen_words:
        row = tokens.dense_row[w]
        word_rows = word_rows.at[jnp.concatenate([row, row]), topics].add(
            delta.astype(word_rows.dtype), mode="drop")
        topic_count = topic_count.at[topics].add(delta)
        wslot = jnp.where(ok, tokens.word_slot[jnp.minimum(slot, n - 1)], zw.shape[0])
        zw = zw.at[wslot].set(new, mode="drop")
    return doc_topic, word_rows, topic_count, z, zw


@functools.partial(jax.jit, static_argnames=("cfg",), donate_argnames=("state",))
def lightlda_sweep(key: jax.Array, state: SamplerState, tokens: Tokens, cfg: LdaConfig,
                   rest: RestCounts | None = None, table: WordProposal | None = None
                   ) -> SamplerState:
    """One LightLDA iteration: sample every token with `cfg.mh_steps` MH cycles (a word then a
    doc proposal each), `cfg.chunk` tokens at a time (the tokens of sparse-row words first, then
    the rest, each position-major).
    With `rest`, `tokens` are one block of a larger corpus whose other tokens hold `rest`
    (`mh_chunk`); `table`, if given, is the word proposal to use (`model_word_proposal`), else
    the word's tokens are.

    `state` is donated: its buffers are reused for the result (do not use it after the call)."""
    prior = doc_prior(state.alpha)
    carry = (state.doc_topic, state.word_rows, state.topic_count, state.z, state.zw)
    # Sparse-row tokens first, then dense-row ones: each pass does only its kind of lookup.
    parts = ((0, tokens.num_sparse_tokens, "sparse"),
             (tokens.num_sparse_tokens, tokens.num_tokens, "dense"))
    first_chunk = 0
    chunk = cfg.chunk
    if tokens.doc_span:  # bound the (chunk, doc_span) gather of documents read off z
        chunk = min(chunk, max(64, DOC_GATHER // tokens.doc_span))
    for lo, hi, kind in parts:
        if hi == lo:
            continue
        index, valid = chunk_slots(hi - lo, chunk)
        slots = tokens.sample_order[jnp.minimum(lo + index, hi - 1)]
        slots = jnp.where(valid, slots, tokens.num_tokens)

        def body(carry, u, xs, kind=kind):
            slot, ok = xs
            new, w, d, z0 = mh_chunk(u, carry, tokens, cfg, slot, ok, kind=kind,
                                      prior=prior, rest=rest, table=table)
            return apply_chunk(carry, tokens, slot, ok, new, w, d, z0)

        carry = scan_chunks(body, carry, key, first_chunk + jnp.arange(index.shape[0]),
                            (slots, valid), cfg, index.shape[1])
        first_chunk += index.shape[0]
    doc_topic, word_rows, topic_count, z, zw = carry
    return SamplerState(z, zw, doc_topic, word_rows, topic_count, state.num_topics, state.alpha)


def topic_word(state: SamplerState, tokens: Tokens, cfg: LdaConfig) -> np.ndarray:
    """(K, V) posterior mean of phi (dense; fine up to K V ~ 1e8; `topic_counts` beyond)."""
    wt = np.asarray(word_topic(state, tokens), np.float64).T + cfg.beta
    return wt / wt.sum(1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class TopicCounts:
    """The word-topic counts as a sparse matrix: phi_kw = (n_kw + beta) / (n_k + V beta) without
    a K x V array. Non-zero (word, topic) pairs in word-major order: word w's are
    `[word_start[w], word_start[w + 1])`; at most N of them whatever K is."""

    topic: np.ndarray        # (nnz,) int32
    count: np.ndarray        # (nnz,) int32 n_kw > 0
    word_start: np.ndarray   # (V + 1,) int64
    topic_count: np.ndarray  # (K,) n_k
    beta: float

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.topic_count.shape[0]), int(self.word_start.shape[0] - 1)

    @property
    def words(self) -> np.ndarray:
        """(nnz,) the word of each non-zero count."""
        return np.repeat(np.arange(self.shape[1]), np.diff(self.word_start))

    @property
    def norm(self) -> np.ndarray:
        """(K,) 1 / (n_k + V beta)."""
        return 1.0 / (self.topic_count.astype(np.float64) + self.shape[1] * self.beta)

    def dense(self) -> np.ndarray:
        """The (K, V) phi (small K V only)."""
        wt = np.full(self.shape, self.beta)
        wt[self.topic, self.words] += self.count
        return wt * self.norm[:, None]


def topic_counts(state: SamplerState, tokens: Tokens, cfg: LdaConfig) -> TopicCounts:
    """phi as sparse counts, O(N log N) from the word-major topics (no K x V array)."""
    k, v = state.num_topics, tokens.vocab_size
    key = np.asarray(tokens.slot_word, np.int64) * k + np.asarray(state.zw, np.int64)
    pairs, count = np.unique(key, return_counts=True)  # sorted: word-major, topics ascending
    word = pairs // k
    start = np.searchsorted(word, np.arange(v + 1)).astype(np.int64)
    return TopicCounts((pairs % k).astype(np.int32), count.astype(np.int32), start,
                       np.asarray(state.topic_count, np.int64), float(cfg.beta))


def memory_report(tokens: Tokens, num_topics: int) -> dict[str, int]:
    """Bytes of the sampler's state, per part, against all-dense storage (the word proposal needs
    no tables: it reads `zw`).

    `dense_rows` the frequent words' K-wide rows; `sparse_rows` the word-major topics `zw` that
    hold every other word's counts; `doc_side` the (D, K) document rows (0 where documents are
    read off `z`); `tokens` the (N,) token arrays and `z`. `dense_bytes` is what V x K word rows
    would take, `hybrid_bytes` dense_rows + sparse_rows (the word side as stored)."""
    v, n, k = tokens.vocab_size, tokens.num_tokens, num_topics
    c = jnp.dtype(tokens.count_dtype).itemsize
    dense_rows = c * tokens.num_dense * k
    doc_side = 0 if tokens.doc_span else c * tokens.num_docs * k
    token_arrays = _token_array_bytes(n, v, tokens.num_docs)
    report = {"num_topics": k, "vocab": v, "dense_rows": tokens.num_dense,
              "dense_threshold": tokens.sparse_below,
              "docs_read_off_tokens": bool(tokens.doc_span),
              "count_bytes": c, "dense_rows_bytes": dense_rows, "sparse_rows_bytes": 4 * n,
              "doc_side_bytes": doc_side, "token_bytes": token_arrays,
              "topic_count_bytes": 4 * k}
    report["total_bytes"] = (dense_rows + 4 * n + doc_side + token_arrays + 4 * k)
    report["dense_bytes"] = c * v * k
    report["hybrid_bytes"] = dense_rows + 4 * n
    report["doc_topic_bytes"] = doc_side
    return report
