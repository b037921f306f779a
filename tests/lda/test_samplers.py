"""Samplers: alias tables are exact, counts stay consistent, LightLDA recovers planted topics
and tracks exact Gibbs, chains are reproducible from their key."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import gammaln

from jaxhin.data import Corpus, synthetic_corpus
from jaxhin.lda import (
    LdaConfig,
    alias_table,
    counts,
    dense_threshold,
    doc_prior,
    fit,
    gibbs_sweep,
    init_state,
    lightlda_sweep,
    log_joint,
    log_joint_per_token,
    memory_report,
    optimize_alpha,
    segment_alias,
    to_tokens,
    topic_word,
    word_topic,
)
from jaxhin.lda._samplers import (
    RestCounts,
    _word_count,
    mh_chunk,
    model_word_proposal,
    position_major,
)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=40).filter(lambda w: sum(w) > 1e-3),
       st.just(True))
@example([1.0], False).via("one outcome")
@example([0.0, 0.0, 5.0], False).via("all mass on one of several, odd length")
@example([1e-3] * 39 + [10.0], False).via("one large weight among tiny ones, length 40")
def test_alias_table_encodes_the_distribution(weights, pad):
    # A new length is a new compile: generated examples pad with zero weights to a power of two
    # (at most 7 lengths); the fixed ones keep their own length.
    size = 1 << (len(weights) - 1).bit_length() if pad else len(weights)
    w = np.zeros(size, np.float32)
    w[:len(weights)] = weights
    prob, alias, item = (np.asarray(a) for a in alias_table(jnp.asarray(w)))
    k = len(w)
    implied = np.zeros(k)
    np.add.at(implied, item, prob / k)
    np.add.at(implied, item[alias], (1 - prob) / k)
    np.testing.assert_allclose(implied, w / w.sum(), atol=2e-5)


@pytest.fixture(scope="module")
def planted():
    corpus, truth = synthetic_corpus(jax.random.key(0), num_docs=300, doc_length=80,
                                     vocab_size=300, num_topics=8)
    return to_tokens(corpus, sparse_below=32), truth


def _run(sweep, tokens, cfg, iters, seed=1):
    state = init_state(jax.random.key(seed), tokens, cfg.num_topics)
    trace = []
    for it in range(iters):
        state = sweep(jax.random.fold_in(jax.random.key(seed + 1), it), state, tokens, cfg)
        trace.append(float(log_joint_per_token(state, tokens, cfg)))
    return state, trace


def _best_match_cosine(phi, truth):
    a = phi / np.linalg.norm(phi, axis=1, keepdims=True)
    b = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    return (a @ b.T).max(1).mean()


def test_counts_stay_consistent(planted):
    tokens, _ = planted
    cfg = LdaConfig(num_topics=8, chunk=256)
    state, _ = _run(lightlda_sweep, tokens, cfg, 3)
    again = counts(tokens, state.z, 8)
    for name in ("z", "zw", "doc_topic", "word_rows", "topic_count"):
        np.testing.assert_array_equal(getattr(state, name), getattr(again, name))


def test_lightlda_recovers_topics_and_tracks_gibbs(planted):
    # The best of four chains by training log-likelihood (restarts, as with any collapsed
    # sampler): since the ratio leaves token i out of its proposals' laws (issue #35), two of
    # these four chains sit after 100 iterations in a mode with two planted topics merged
    # (log-likelihood -2.62 and -2.60 per token against -2.45), as the old sampler's chain
    # did at chunk 2.
    tokens, truth = planted
    cfg = LdaConfig(num_topics=8, chunk=64, mh_steps=2)
    chains = [_run(lightlda_sweep, tokens, cfg, 100, seed=s) for s in (1, 2, 3, 4)]
    light, light_trace = max(chains, key=lambda run: run[1][-1])
    gibbs, gibbs_trace = _run(gibbs_sweep, tokens, cfg, 100)
    assert _best_match_cosine(topic_word(light, tokens, cfg), truth.topic_word) >= 0.9
    assert _best_match_cosine(topic_word(gibbs, tokens, cfg), truth.topic_word) >= 0.9
    assert abs(light_trace[-1] - gibbs_trace[-1]) / abs(gibbs_trace[-1]) < 0.01
    assert light_trace[-1] > light_trace[0]


def _own_kernel(p, base, own):
    """The Metropolis-Hastings transition matrix for target p whose proposal from s is
    proportional to base + own e_s (the token's own weight sits at its current topic)."""
    k = p.shape[0]
    q = base[None, :] + own * np.eye(k)
    q /= q.sum(1, keepdims=True)  # q[s] is the proposal's law from s
    kernel = q * np.minimum(1.0, (p[None, :] * q.T) / (p[:, None] * q))
    np.fill_diagonal(kernel, 0.0)
    np.fill_diagonal(kernel, 1.0 - kernel.sum(1))
    return kernel


def _uniforms(key, cfg):
    """One token's MH uniforms, as `scan_chunks` draws a chunk's."""
    return jax.random.uniform(key, (2 * cfg.mh_steps, 4, 1))

@pytest.mark.parametrize("sparse_below", [0, 100])  # word 0's row dense / counted from tokens
@pytest.mark.parametrize("mh_steps", [1, 2])
def test_one_token_follows_the_word_then_doc_kernel(sparse_below, mh_steps):
    # Issue #35: each MH step is a word proposal *and* a doc proposal, as in LightLDA's
    # reference sampler (until 2026-12 jaxhin made one proposal per step: half the moves). The
    # law of token 0's topic after `mh_steps` cycles, from 40,000 chains, must equal
    # e_z0 (P_word P_doc)^mh_steps, each kernel worked out by enumeration from the counts.
    k, alpha, beta = 3, 0.5, 0.3
    words = np.array([0, 0, 1, 2, 1, 0, 1, 2, 0], np.int32)
    docs = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1], np.int32)
    z = np.array([0, 1, 1, 2, 2, 1, 0, 0, 2], np.int32)
    corpus = Corpus(words, docs, ("a", "b", "c"), 2, "kernel")
    tokens = to_tokens(corpus, sparse_below=sparse_below)
    cfg = LdaConfig(num_topics=k, alpha=alpha, beta=beta, mh_steps=mh_steps, chunk=1)
    state = counts(tokens, jnp.asarray(z), k)
    carry = (state.doc_topic, state.word_rows, state.topic_count, state.z, state.zw)

    def draw(key):
        new, *_ = mh_chunk(_uniforms(key, cfg), carry, tokens, cfg,
                           jnp.zeros(1, jnp.int32), jnp.ones(1, bool))
        return new[0]

    keys = jax.random.split(jax.random.key(0), 40_000)
    law = np.bincount(np.asarray(jax.jit(jax.vmap(draw))(keys)), minlength=k) / len(keys)

    n_dt = np.bincount(z[docs == 0], minlength=k).astype(float)
    n_tw = np.bincount(z[words == 0], minlength=k).astype(float)
    n_t = np.bincount(z, minlength=k).astype(float)
    own = np.eye(k)[z[0]]
    target = (n_dt - own + alpha) * (n_tw - own + beta) / (n_t - own + 3 * beta)
    # Proposals from s hold token 0 at s: its place among its word's tokens or its document's.
    word = _own_kernel(target, n_tw - own + beta, 1.0)
    cycle = word @ _own_kernel(target, n_dt - own + alpha, 1.0)
    expected = np.linalg.matrix_power(cycle, mh_steps)[z[0]]
    np.testing.assert_allclose(law, expected, atol=0.012)


@pytest.mark.parametrize("sparse_below, alpha", [(0, 0.1), (100, 0.1),
                                                  (0, (0.5, 0.05, 1.5))])  # asymmetric alpha_k
def test_one_token_update_keeps_its_exact_conditional(sparse_below, alpha):
    # Issue #35's cause: token i's own topic is in both proposals (a token of its word, a token
    # of its document), so the law of a proposal depends on where the chain stands. Drawn from
    # p(z_0 | rest), token 0's topic must keep that law after an update. Counting token 0 at
    # its current topic on both sides of the ratio, as the paper's formulas read, moved it by
    # 0.054 here.
    k, beta = 3, 0.05
    prior = None if np.ndim(alpha) == 0 else doc_prior(jnp.asarray(alpha, jnp.float32))
    alpha = np.asarray(alpha)
    words = np.array([0, 1, 2, 1, 0, 1, 0, 0] + [3] * 3000, np.int32)
    docs = np.array([0, 0, 0, 0, 1, 1, 1, 1] + [2] * 3000, np.int32)
    rest = np.concatenate([[2, 2, 2, 0, 1, 1, 1], np.arange(3000) % k]).astype(np.int32)
    tokens = to_tokens(Corpus(words, docs, ("a", "b", "c", "d"), 3, "own"), sparse_below)
    cfg = LdaConfig(num_topics=k, alpha=0.1 if prior else float(alpha), beta=beta, mh_steps=1,
                    chunk=1)  # with `prior`, its alpha_k replace cfg.alpha
    law = np.zeros(k)
    for start in range(k):
        z = np.concatenate([[start], rest]).astype(np.int32)
        if start == 0:  # p(z_0 | rest) from the counts without token 0
            n_dt = np.bincount(z[1:][docs[1:] == 0], minlength=k)
            n_tw = np.bincount(z[1:][words[1:] == 0], minlength=k)
            p = (n_dt + alpha) * (n_tw + beta) / (np.bincount(z[1:], minlength=k) + 4 * beta)
            p /= p.sum()
        state = counts(tokens, jnp.asarray(z), k)
        carry = (state.doc_topic, state.word_rows, state.topic_count, state.z, state.zw)

        def draw(key, carry=carry):
            new, *_ = mh_chunk(_uniforms(key, cfg), carry, tokens, cfg,
                               jnp.zeros(1, jnp.int32), jnp.ones(1, bool), prior=prior)
            return new[0]

        keys = jax.random.split(jax.random.key(start), 100_000)
        law += p[start] * np.bincount(np.asarray(jax.jit(jax.vmap(draw))(keys)), minlength=k)
    np.testing.assert_allclose(law / 100_000, p, atol=0.006)


def test_a_sweep_keeps_the_posterior_of_a_corpus_small_enough_to_enumerate():
    # Issue #35's third cause: LightLDA's word tables are built once per iteration and its
    # ratio reads q at the current counts, so once earlier tokens of the sweep have moved, the
    # ratio no longer weighs the law the proposal was drawn from. Here p(z | w) over all 3^7
    # assignments is enumerated; a sweep (one token at a time, so no chunk is stale) started
    # from z ~ p(z | w) must leave that law as it is. Stale tables moved one state's
    # probability by 0.0050 (16 standard errors at 400,000 chains); exact MH: 0.00045.
    k, alpha, beta = 3, 0.3, 0.05
    words = np.array([0, 0, 1, 0, 1, 2, 0], np.int32)
    docs = np.array([0, 0, 0, 1, 1, 1, 1], np.int32)
    n = words.size
    states = np.array(list(itertools.product(range(k), repeat=n)), np.int32)
    n_dk = np.zeros((len(states), 2, k))
    n_kw = np.zeros((len(states), k, 3))
    rows = np.arange(len(states))[:, None]
    np.add.at(n_dk, (rows, docs[None, :], states), 1)
    np.add.at(n_kw, (rows, states, words[None, :]), 1)
    log_p = (gammaln(n_dk + alpha).sum((1, 2)) + gammaln(n_kw + beta).sum((1, 2))
             - gammaln(n_kw.sum(2) + 3 * beta).sum(1))
    post = np.exp(log_p - log_p.max())  # written out here, not `log_joint`: an independent oracle
    post /= post.sum()
    tokens = to_tokens(Corpus(words, docs, ("a", "b", "c"), 2, "tiny"), 0)
    cfg = LdaConfig(num_topics=k, alpha=alpha, beta=beta, mh_steps=1, chunk=1)
    m = 250_000
    start = states[np.random.default_rng(0).choice(len(states), m, p=post)]
    sweep = jax.jit(jax.vmap(
        lambda key, z: lightlda_sweep(key, counts(tokens, z, k), tokens, cfg).z))
    out = np.asarray(sweep(jax.random.split(jax.random.key(1), m), jnp.asarray(start)))
    law = np.bincount(out @ k ** np.arange(n)[::-1], minlength=len(states)) / m
    assert np.abs(law - post).max() < 0.002  # 5 standard errors of the likeliest state


def test_one_token_update_in_a_streamed_block_keeps_its_exact_conditional():
    # The same check for a block of a streamed corpus (`fit_blocks`): the block is documents 0
    # and 1; document 2, outside it, holds 1,000 tokens of token 0's word and reaches the
    # sampler only as `rest` counts; the word proposal is the model's (`model_word_proposal`).
    # Document 0 is even over the topics and the word is not, so the word step decides the law
    # (weighing the proposal by the block's counts instead of the model's moves it by 0.056).
    # The table holds token 0 at the topic it had when built: with a word of 4 tokens in all,
    # that moves the law by 0.006, whether the ratio reads the table's weights or the counts.
    k, alpha, beta = 3, 0.1, 0.05
    words = np.array([0, 1, 2, 1, 0, 1, 0, 0] + [0] * 1000 + [3] * 2000, np.int32)
    docs = np.array([0, 0, 0, 0, 1, 1, 1, 1] + [2] * 3000, np.int32)
    skewed = np.repeat([0, 1, 2], [600, 300, 100])  # word 0 outside the block
    others = np.concatenate([[0, 1, 2, 0, 1, 1, 1], skewed, np.arange(2000) % k])
    block = to_tokens(Corpus(words[:8], docs[:8], ("a", "b", "c", "d"), 2, "block"), 0)
    cfg = LdaConfig(num_topics=k, alpha=alpha, beta=beta, mh_steps=1, chunk=1)
    outside = np.zeros((4, k), np.int32)
    np.add.at(outside, (words[8:], others[7:]), 1)
    rest = RestCounts(jnp.asarray(outside), jnp.asarray(outside.sum(0)))
    law = np.zeros(k)
    for start in range(k):
        z = np.concatenate([[start], others]).astype(np.int32)
        if start == 0:  # p(z_0 | rest) from the whole corpus's counts without token 0
            n_dt = np.bincount(z[1:][docs[1:] == 0], minlength=k)
            n_tw = np.bincount(z[1:][words[1:] == 0], minlength=k)
            p = (n_dt + alpha) * (n_tw + beta) / (np.bincount(z[1:], minlength=k) + 4 * beta)
            p /= p.sum()
        state = counts(block, jnp.asarray(z[:8]), k)
        rows = outside.copy()
        np.add.at(rows, (words[:8], z[:8]), 1)
        table = model_word_proposal(jnp.asarray(rows), jnp.asarray(rows.sum(0)), cfg)
        carry = (state.doc_topic, state.word_rows, state.topic_count, state.z, state.zw)

        def draw(key, carry=carry, table=table):
            new, *_ = mh_chunk(_uniforms(key, cfg), carry, block, cfg,
                               jnp.zeros(1, jnp.int32), jnp.ones(1, bool), rest=rest,
                               table=table)
            return new[0]

        keys = jax.random.split(jax.random.key(start), 100_000)
        law += p[start] * np.bincount(np.asarray(jax.jit(jax.vmap(draw))(keys)), minlength=k)
    np.testing.assert_allclose(law / 100_000, p, atol=0.006)


def test_chain_is_reproducible(planted):
    tokens, _ = planted
    cfg = LdaConfig(num_topics=8, chunk=128)
    a, _ = _run(lightlda_sweep, tokens, cfg, 2)
    b, _ = _run(lightlda_sweep, tokens, cfg, 2)
    c, _ = _run(lightlda_sweep, tokens, cfg, 2, seed=5)
    assert np.array_equal(a.z, b.z) and not np.array_equal(a.z, c.z)


@settings(max_examples=25, deadline=None)  # a compile per example
@given(st.lists(st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=25), min_size=1,
                max_size=6))
@example([[1.0]]).via("one single-outcome segment")
@example([[2.0], [1e-3, 10.0, 1e-3], [1.0] * 25]).via("ragged, with a full-length segment")
def test_segment_alias_encodes_every_ragged_distribution(segments):
    lens = np.asarray([len(s) for s in segments], np.int32)
    flat = np.concatenate([np.asarray(s, np.float32) for s in segments])
    starts = (np.cumsum(lens) - lens).astype(np.int32)
    seg_of = np.repeat(np.arange(len(lens)), lens).astype(np.int32)
    prob, alias, item = (np.asarray(a) for a in segment_alias(
        jnp.asarray(flat), jnp.asarray(starts), jnp.asarray(lens), jnp.asarray(seg_of),
        int(lens.max())))
    for a, n in zip(starts, lens, strict=True):
        b = slice(a, a + n)
        assert ((alias[b] >= a) & (alias[b] < a + n)).all()
        assert sorted(item[b]) == list(range(a, a + n))
        implied = np.zeros(flat.size)
        np.add.at(implied, item[b], prob[b] / n)
        np.add.at(implied, item[alias[b]], (1 - prob[b]) / n)
        w = flat[a:a + n]
        np.testing.assert_allclose(implied[a:a + n], w / w.sum(), atol=3e-6)


def test_log_joint_matches_the_dense_formula(planted):
    tokens, _ = planted
    cfg = LdaConfig(num_topics=8)
    state = init_state(jax.random.key(3), tokens, 8)
    lg = jax.scipy.special.gammaln
    wt = np.asarray(word_topic(state, tokens), np.float64)
    dt = np.asarray(state.doc_topic, np.float64)
    v, k, d = wt.shape[0], 8, dt.shape[0]
    a, b = cfg.alpha, cfg.beta
    dense = (k * (lg(v * b) - v * lg(b)) + lg(wt + b).sum() - lg(wt.sum(0) + v * b).sum()
             + d * (lg(k * a) - k * lg(a)) + lg(dt + a).sum() - lg(dt.sum(1) + k * a).sum())
    assert float(log_joint(state, tokens, cfg)) == pytest.approx(float(dense), rel=1e-5)


def test_log_joint_with_an_asymmetric_alpha_matches_the_dense_formula(planted):
    tokens, _ = planted
    cfg = LdaConfig(num_topics=8, optimize_alpha=10)
    alpha = jnp.linspace(0.02, 1.0, 8, dtype=jnp.float32)
    state = dataclasses.replace(init_state(jax.random.key(3), tokens, 8), alpha=alpha)
    lg = jax.scipy.special.gammaln
    wt = np.asarray(word_topic(state, tokens), np.float64)
    dt = np.asarray(state.doc_topic, np.float64)
    v, k, d = wt.shape[0], 8, dt.shape[0]
    a, b = np.asarray(alpha, np.float64), cfg.beta
    dense = (k * (lg(v * b) - v * lg(b)) + lg(wt + b).sum() - lg(wt.sum(0) + v * b).sum()
             + d * (lg(a.sum()) - lg(a).sum()) + lg(dt + a).sum() - lg(dt.sum(1) + a.sum()).sum())
    assert float(log_joint(state, tokens, cfg)) == pytest.approx(float(dense), rel=1e-5)


def _minka_float64(n_dk, alpha, steps):
    """Minka's fixed point on dense (D, K) counts in float64: an independent transcription."""
    from scipy.special import digamma

    n_d = n_dk.sum(1)
    for _ in range(steps):
        total = alpha.sum()
        num = (digamma(n_dk + alpha) - digamma(alpha)).sum(0)
        alpha = alpha * num / (digamma(n_d + total) - digamma(total)).sum()
    return alpha


def test_optimize_alpha_recovers_a_planted_asymmetric_prior():
    # Documents whose topics are drawn from theta_d ~ Dirichlet(alpha_true): the fixed point
    # from the (doc, topic) pairs equals a dense float64 transcription of Minka's update, and
    # lands near alpha_true (the maximum-likelihood estimate from 1,500 documents).
    rng = np.random.default_rng(0)
    truth = np.array([0.05, 0.1, 0.3, 0.8, 2.0])
    num_docs, length, k = 1500, 60, truth.size
    theta = rng.dirichlet(truth, num_docs)
    z = np.concatenate([rng.choice(k, length, p=t) for t in theta]).astype(np.int32)
    docs = np.repeat(np.arange(num_docs), length).astype(np.int32)
    words = rng.integers(0, 50, z.size).astype(np.int32)
    tokens = to_tokens(Corpus(words, docs, tuple(map(str, range(50))), num_docs, "planted"))
    state = counts(tokens, jnp.asarray(z), k)
    start = np.full(k, 0.1)
    got = np.asarray(optimize_alpha(state, tokens, jnp.asarray(start, jnp.float32), steps=300))
    n_dk = np.zeros((num_docs, k))
    np.add.at(n_dk, (docs, z), 1)
    np.testing.assert_allclose(got, _minka_float64(n_dk, start, 300), rtol=2e-3)
    np.testing.assert_allclose(got, truth, rtol=0.2)
    assert (np.diff(got) > 0).all()


def test_an_optimised_alpha_fits_better_and_travels_with_the_state(planted):
    # Re-estimated alpha raises log p(w, z) of a state above what the symmetric alpha gives it
    # (Minka's fixed point climbs log p(z | alpha)); the state carries its (K,) alpha through
    # both sweeps, and a fixed-alpha state has none. (Chains compared end to end agreed with
    # this on 5 of 6 seeds: the planted corpus's alpha is symmetric, and two planted topics
    # merged or not moves log p(w, z) more than alpha does.)
    tokens, _ = planted
    cfg = LdaConfig(num_topics=8, chunk=256)
    state, _ = _run(lightlda_sweep, tokens, cfg, 20)
    fitted = optimize_alpha(state, tokens, jnp.full((8,), cfg.alpha, jnp.float32))
    own = float(log_joint_per_token(dataclasses.replace(state, alpha=fitted), tokens, cfg))
    assert own > float(log_joint_per_token(state, tokens, cfg)) + 1e-4
    cfg = LdaConfig(num_topics=8, chunk=256, optimize_alpha=5)
    result = fit(jax.random.key(2), tokens, cfg, 10, eval_every=10, show_progress=False)
    assert fit(jax.random.key(2), tokens, LdaConfig(num_topics=8), 1,
               show_progress=False).state.alpha is None
    alpha = np.asarray(result.state.alpha)
    assert alpha.shape == (8,) and (alpha > 0).all() and alpha.std() > 0
    for sweep in (gibbs_sweep, lightlda_sweep):  # lightlda_sweep donates the state: last
        np.testing.assert_array_equal(sweep(jax.random.key(0), result.state, tokens, cfg).alpha,
                                      alpha)


@pytest.mark.parametrize("sparse_below", [0, 5, 10_000])
def test_hybrid_lookups_equal_the_dense_counts(sparse_below):
    # All rows dense, a mix, and every row sparse: every n_kw lookup equals the dense matrix,
    # before and after sampling (the chains differ: sparse-row tokens are sampled first).
    corpus, _ = synthetic_corpus(jax.random.key(0), num_docs=300, doc_length=80,
                                 vocab_size=300, num_topics=8)
    tokens = to_tokens(corpus, sparse_below)
    cfg = LdaConfig(num_topics=8, chunk=128)
    state, _ = _run(lightlda_sweep, tokens, cfg, 2)
    dense = np.asarray(word_topic(state, tokens))
    np.testing.assert_array_equal(dense, np.asarray(word_topic(counts(tokens, state.z, 8),
                                                               tokens)))
    w = jnp.repeat(jnp.arange(300, dtype=jnp.int32), 8)
    k = jnp.tile(jnp.arange(8, dtype=jnp.int32), 300)
    lookup = _word_count(state.word_rows, state.zw, tokens, w)
    np.testing.assert_array_equal(np.asarray(lookup(k)).reshape(300, 8), dense)
    assert tokens.num_dense == int((np.bincount(corpus.words, minlength=300)
                                    >= sparse_below).sum())


@pytest.mark.parametrize("sweep", [lightlda_sweep, gibbs_sweep])
def test_documents_read_off_their_tokens_give_the_same_chain(planted, sweep):
    # No (D, K) rows: n_dk counted over the document's tokens sees the same counts at every
    # step as the dense rows, so the chain is the same, bit for bit.
    tokens, _ = planted
    corpus = Corpus(np.asarray(tokens.words), np.asarray(tokens.docs), tuple(map(str, range(300))),
                    tokens.num_docs)
    sparse = to_tokens(corpus, 32, doc_rows="sparse")
    cfg = LdaConfig(num_topics=8, chunk=256)
    dense_state, dense_trace = _run(sweep, tokens, cfg, 3)
    sparse_state, sparse_trace = _run(sweep, sparse, cfg, 3)
    assert sparse.doc_span == int(tokens.doc_length.max()) and sparse_state.doc_topic.size == 0
    np.testing.assert_array_equal(sparse_state.z, dense_state.z)
    assert sparse_trace == dense_trace
    report = memory_report(sparse, 8)
    assert report["doc_side_bytes"] == 0 and memory_report(tokens, 8)["doc_side_bytes"] > 0


def test_storage_follows_k():
    # Dense word rows need K / 512 tokens (32 up to K = 16,384); document rows go once they
    # would pass 256 MiB; to_tokens allocates neither.
    corpus, _ = synthetic_corpus(jax.random.key(0), num_docs=500, doc_length=40,
                                 vocab_size=300, num_topics=8)
    assert [dense_threshold(32, k) for k in (None, 1000, 16_384, 100_000, 10**6)] == [
        32, 32, 32, 196, 1954]
    assert dense_threshold(0, 10**6) == 0  # every row dense, as asked
    small, large = (to_tokens(corpus, 32, num_topics=k) for k in (1000, 300_000))
    assert small.doc_span == 0 and small.sparse_below == 32
    assert large.doc_span == int(corpus.doc_lengths.max()) and large.sparse_below == 586
    with pytest.raises(ValueError, match="doc_rows must be"):
        to_tokens(corpus, doc_rows="hash")


def test_chunks_take_tokens_position_major():
    # Issue #35: chunks of whole documents (each token blind to its neighbours' moves) settled
    # 0.06 nats per token below exact Gibbs on KOS; position-major chunks 0.03
    # (`scripts/lda_drift_check.py`). Each part (sparse-row, dense-row tokens) runs over every
    # document's first token, then every second one, ..., so no chunk of at most as many
    # tokens as there are documents holds two tokens of one document.
    corpus, _ = synthetic_corpus(jax.random.key(0), num_docs=64, doc_length=30, vocab_size=200)
    tokens = to_tokens(corpus, sparse_below=8)
    docs = np.asarray(corpus.docs)
    order, ns = np.asarray(tokens.sample_order), tokens.num_sparse_tokens
    assert 0 < ns < order.size and sorted(order) == list(range(order.size))
    for part in (order[:ns], order[ns:]):
        d = docs[part]
        rank = np.zeros_like(part)  # place among its document's tokens in this part
        for doc in np.unique(d):
            mine = np.flatnonzero(d == doc)
            assert np.all(np.diff(part[mine]) > 0)  # a document's tokens in their order
            rank[mine] = np.arange(mine.size)
        key = rank * corpus.num_docs + d  # (place, document), lexicographic
        assert np.all(np.diff(key) > 0)
        first = len(np.unique(d))  # every document's first token in the part, then the rest
        assert len(np.unique(d[:first])) == first
    np.testing.assert_array_equal(position_major(np.array([5, 0, 3, 1]),
                                                 np.array([0, 0, 1, 1, 1, 2])), [0, 3, 5, 1])
