"""Collapsed samplers for LDA: exact Gibbs (the reference) and LightLDA's Metropolis-Hastings.

Both target the collapsed conditional of one token i of word w in document d,
  p(z_i = k | rest) ∝ (n_dk^-i + alpha) (n_kw^-i + beta) / (n_k^-i + V beta),
where ^-i excludes token i (Griffiths & Steyvers, 2004).

LightLDA (Yuan et al., WWW 2015, Sec. 3) alternates two cheap proposals and corrects each with
an exact Metropolis-Hastings acceptance ratio:
  word proposal  q_w(k) ∝ (n_kw + beta) / (n_k + V beta), drawn in O(1) from a per-word alias
                 table (Walker/Vose) built from a snapshot of the counts;
  doc proposal   q_d(k) ∝ n_dk + alpha, drawn in O(1) as the topic of a uniformly chosen token of
                 the same document with probability n_d / (n_d + K alpha), else uniformly;
  accept s -> t with min(1, p(t) q(s) / (p(s) q(t))).
Tokens are sampled in parallel in chunks of `chunk` tokens; counts are updated between chunks,
so within a chunk every token sees counts that are stale by at most one chunk (as GPU samplers
do). `chunk=1` is the sequential sampler.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxhin.data._corpora import Corpus


@dataclasses.dataclass(frozen=True)
class LdaConfig:
    """Hyper-parameters of LDA and its samplers.

    Attributes:
      num_topics: K.
      alpha: symmetric document-topic prior.
      beta: symmetric topic-word prior.
      mh_steps: Metropolis-Hastings steps per token per iteration (word and doc proposals
        alternate, starting with the word proposal).
      chunk: tokens sampled in parallel with counts frozen (staleness); 1 is sequential.
    """

    num_topics: int = 100
    alpha: float = 0.1
    beta: float = 0.01
    mh_steps: int = 2
    chunk: int = 4096


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SamplerState:
    """State of one Markov chain. Arrays are leaves; `num_topics` is static."""

    z: jax.Array            # (N,) int32 topic of each token
    doc_topic: jax.Array    # (D, K) int32
    word_topic: jax.Array   # (V, K) int32
    topic_count: jax.Array  # (K,) int32
    num_topics: int = dataclasses.field(metadata={"static": True})


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Tokens:
    """A corpus on device: (N,) word and document ids, (D,) first-token index and length."""

    words: jax.Array
    docs: jax.Array
    doc_start: jax.Array
    doc_length: jax.Array
    num_docs: int = dataclasses.field(metadata={"static": True})
    vocab_size: int = dataclasses.field(metadata={"static": True})


def to_tokens(corpus: Corpus) -> Tokens:
    """Move a corpus to device."""
    return Tokens(jnp.asarray(corpus.words), jnp.asarray(corpus.docs),
                  jnp.asarray(corpus.doc_starts), jnp.asarray(corpus.doc_lengths),
                  corpus.num_docs, corpus.vocab_size)


def counts(tokens: Tokens, z: jax.Array, num_topics: int) -> SamplerState:
    """The state whose counts are those of assignment `z`."""
    ones = jnp.ones_like(z)
    doc_topic = jnp.zeros((tokens.num_docs, num_topics), jnp.int32).at[tokens.docs, z].add(ones)
    word_topic = jnp.zeros((tokens.vocab_size, num_topics), jnp.int32).at[tokens.words, z].add(
        ones)
    topic_count = jnp.zeros((num_topics,), jnp.int32).at[z].add(ones)
    return SamplerState(z, doc_topic, word_topic, topic_count, num_topics)


def init_state(key: jax.Array, tokens: Tokens, num_topics: int) -> SamplerState:
    """Uniformly random topics and their counts."""
    z = jax.random.randint(key, tokens.words.shape, 0, num_topics, jnp.int32)
    return counts(tokens, z, num_topics)


def log_joint(state: SamplerState, cfg: LdaConfig) -> jax.Array:
    """Collapsed log p(w, z) (Griffiths & Steyvers, 2004, eq. 2-3), the quantity Gibbs-based
    libraries report per token."""
    k = state.num_topics
    v = state.word_topic.shape[0]
    d = state.doc_topic.shape[0]
    lg = jax.scipy.special.gammaln
    alpha, beta = jnp.float32(cfg.alpha), jnp.float32(cfg.beta)
    log_w = (k * (lg(v * beta) - v * lg(beta)) + lg(state.word_topic + beta).sum()
             - lg(state.topic_count + v * beta).sum())
    doc_len = state.doc_topic.sum(1)
    log_z = (d * (lg(k * alpha) - k * lg(alpha)) + lg(state.doc_topic + alpha).sum()
             - lg(doc_len + k * alpha).sum())
    return log_w + log_z


def log_joint_per_token(state: SamplerState, cfg: LdaConfig) -> jax.Array:
    return log_joint(state, cfg) / state.z.shape[0]


# ----------------------------------------------------------------------------- exact Gibbs


@functools.partial(jax.jit, static_argnames=("cfg",))
def gibbs_sweep(key: jax.Array, state: SamplerState, tokens: Tokens, cfg: LdaConfig
                ) -> SamplerState:
    """One sequential sweep of exact collapsed Gibbs sampling: O(K) per token."""
    v_beta = tokens.vocab_size * cfg.beta

    def step(carry, i):
        doc_topic, word_topic, topic_count, z = carry
        w, d, old = tokens.words[i], tokens.docs[i], z[i]
        doc_topic = doc_topic.at[d, old].add(-1)
        word_topic = word_topic.at[w, old].add(-1)
        topic_count = topic_count.at[old].add(-1)
        logits = (jnp.log(doc_topic[d] + cfg.alpha) + jnp.log(word_topic[w] + cfg.beta)
                  - jnp.log(topic_count + v_beta))
        new = jax.random.categorical(jax.random.fold_in(key, i), logits).astype(jnp.int32)
        doc_topic = doc_topic.at[d, new].add(1)
        word_topic = word_topic.at[w, new].add(1)
        topic_count = topic_count.at[new].add(1)
        return (doc_topic, word_topic, topic_count, z.at[i].set(new)), None

    carry = (state.doc_topic, state.word_topic, state.topic_count, state.z)
    (doc_topic, word_topic, topic_count, z), _ = jax.lax.scan(
        step, carry, jnp.arange(tokens.words.shape[0]))
    return SamplerState(z, doc_topic, word_topic, topic_count, state.num_topics)


# ----------------------------------------------------------------------------- alias tables


def alias_table(weights: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Walker's alias table of one distribution by Vose's algorithm, O(K).

    Args:
      weights: (K,) non-negative, not all zero.

    Returns:
      `(prob, alias)`, (K,) float32 and int32: draw bucket b uniformly, keep b with probability
      prob[b], else take alias[b]. vmap it to build one table per word on device.
    """
    k = weights.shape[0]
    q = weights * (k / weights.sum())
    small = q < 1.0
    n_small = small.sum()
    order = jnp.argsort(~small, stable=True)  # small indices first, then large
    idx = jnp.arange(k)
    small_stack = jnp.where(idx < n_small, order, 0)
    large_stack = jnp.where(idx < k - n_small, jnp.roll(order, -n_small), 0)

    def body(_, carry):
        q, prob, alias, small_stack, n_s, large_stack, n_l = carry
        active = (n_s > 0) & (n_l > 0)
        s = small_stack[jnp.maximum(n_s - 1, 0)]
        g = large_stack[jnp.maximum(n_l - 1, 0)]
        prob = prob.at[s].set(jnp.where(active, q[s], prob[s]))
        alias = alias.at[s].set(jnp.where(active, g, alias[s]))
        q_g = q[g] + q[s] - 1.0
        q = q.at[g].set(jnp.where(active, q_g, q[g]))
        n_s = jnp.where(active, n_s - 1, n_s)
        n_l = jnp.where(active, n_l - 1, n_l)
        to_small = active & (q_g < 1.0)
        small_stack = small_stack.at[n_s].set(jnp.where(to_small, g, small_stack[n_s]))
        large_stack = large_stack.at[n_l].set(jnp.where(active & ~to_small, g, large_stack[n_l]))
        n_s = jnp.where(to_small, n_s + 1, n_s)
        n_l = jnp.where(active & ~to_small, n_l + 1, n_l)
        return q, prob, alias, small_stack, n_s, large_stack, n_l

    init = (q, jnp.ones((k,), jnp.float32), idx.astype(jnp.int32), small_stack, n_small,
            large_stack, k - n_small)
    # Each active step retires one small bucket for good, so K steps always suffice.
    _, prob, alias, *_ = jax.lax.fori_loop(0, k, body, init)
    return prob, alias


# ----------------------------------------------------------------------------- LightLDA


@functools.partial(jax.jit, static_argnames=("cfg",))
def lightlda_sweep(key: jax.Array, state: SamplerState, tokens: Tokens, cfg: LdaConfig
                   ) -> SamplerState:
    """One LightLDA iteration: rebuild the word-proposal alias tables from the current counts,
    then sample every token with `cfg.mh_steps` MH steps, `cfg.chunk` tokens at a time."""
    k, v, n = state.num_topics, tokens.vocab_size, tokens.words.shape[0]
    alpha, beta, v_beta = cfg.alpha, cfg.beta, v * cfg.beta
    # Word-proposal tables and the snapshot of counts they were built from.
    table_word_topic, table_topic_count = state.word_topic, state.topic_count
    q_word = (table_word_topic + beta) / (table_topic_count + v_beta)[None, :]
    prob, alias = jax.vmap(alias_table)(q_word)

    chunk = min(cfg.chunk, n)
    num_chunks = -(-n // chunk)
    # Padding slots point past the end: reads clamp, their writes are dropped (a scatter-set with
    # duplicate indices would leave it unspecified which write wins).
    index = jnp.arange(num_chunks * chunk).reshape(num_chunks, chunk)
    valid = index < n

    def sample_chunk(carry, xs):
        doc_topic, word_topic, topic_count, z = carry
        c, slot, ok = xs
        idx = jnp.minimum(slot, n - 1)
        w, d, z0 = tokens.words[idx], tokens.docs[idx], z[idx]
        n_d = tokens.doc_length[d]
        rng = jax.random.uniform(jax.random.fold_in(key, c), (cfg.mh_steps, 4, chunk))

        def target(t):  # p(t | rest) up to a constant, counts without token i
            own = (t == z0).astype(jnp.float32)
            return ((doc_topic[d, t] - own + alpha) * (word_topic[w, t] - own + beta)
                    / (topic_count[t] - own + v_beta))

        def q_word_of(t):
            return (table_word_topic[w, t] + beta) / (table_topic_count[t] + v_beta)

        def q_doc_of(t):  # the doc proposal's law: snapshot counts include token i
            return doc_topic[d, t] + alpha

        s = z0
        for step in range(cfg.mh_steps):
            u_bucket, u_keep, u_mix, u_accept = rng[step]
            if step % 2 == 0:
                bucket = jnp.minimum((u_bucket * k).astype(jnp.int32), k - 1)
                t = jnp.where(u_keep < prob[w, bucket], bucket, alias[w, bucket])
                ratio = target(t) * q_word_of(s) / (target(s) * q_word_of(t))
            else:
                pick = tokens.doc_start[d] + jnp.minimum((u_bucket * n_d).astype(jnp.int32),
                                                         n_d - 1)
                uniform = jnp.minimum((u_keep * k).astype(jnp.int32), k - 1)
                t = jnp.where(u_mix * (n_d + k * alpha) < n_d, z[pick], uniform)
                ratio = target(t) * q_doc_of(s) / (target(s) * q_doc_of(t))
            s = jnp.where(u_accept < ratio, t, s)
        new = jnp.where(ok, s, z0)
        one = ok.astype(jnp.int32)
        doc_topic = doc_topic.at[d, z0].add(-one).at[d, new].add(one)
        word_topic = word_topic.at[w, z0].add(-one).at[w, new].add(one)
        topic_count = topic_count.at[z0].add(-one).at[new].add(one)
        z = z.at[slot].set(new, mode="drop")
        return (doc_topic, word_topic, topic_count, z), None

    carry = (state.doc_topic, state.word_topic, state.topic_count, state.z)
    (doc_topic, word_topic, topic_count, z), _ = jax.lax.scan(
        sample_chunk, carry, (jnp.arange(num_chunks), index, valid))
    return SamplerState(z, doc_topic, word_topic, topic_count, k)


def topic_word(state: SamplerState, cfg: LdaConfig) -> np.ndarray:
    """(K, V) posterior mean of phi."""
    wt = np.asarray(state.word_topic, np.float64).T + cfg.beta
    return wt / wt.sum(1, keepdims=True)
