"""Evaluation (perplexity, inference, coherence), checkpoint/resume, and `jaxhin lda train`."""

import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import Corpus, synthetic_corpus
from jaxhin.lda import LdaConfig
from jaxhin.lda._eval import coherence, infer, perplexity, split_halves
from jaxhin.lda._fit import fit
from jaxhin.train import CheckpointError


@pytest.fixture(scope="module")
def planted():
    return synthetic_corpus(jax.random.key(0), num_docs=200, doc_length=60, vocab_size=200,
                            num_topics=6)


def test_true_topics_beat_uniform_and_learned_ones_come_close(planted):
    corpus, truth = planted
    uniform = np.full_like(truth.topic_word, 1.0 / corpus.vocab_size)
    p_true = perplexity(truth.topic_word, corpus, 0.1)
    p_uniform = perplexity(uniform, corpus, 0.1)
    assert p_true < 0.5 * p_uniform
    assert p_uniform == pytest.approx(corpus.vocab_size, rel=1e-4)
    cfg = LdaConfig(num_topics=6, chunk=256)
    result = fit(jax.random.key(1), corpus, cfg, 60, show_progress=False)
    from jaxhin.lda import topic_word

    p_fit = perplexity(topic_word(result.state, result.tokens, cfg), corpus, 0.1)
    assert p_fit < 1.1 * p_true


@pytest.mark.parametrize("topics", [6, 150])  # 150: most topics hold a handful of words
def test_sparse_counts_score_as_the_dense_phi(planted, topics):
    # TopicCounts (the CLI's model, no K x V array) against the dense phi: the same
    # perplexity (also cut into many document groups), top words, ties included, and coherence.
    from jaxhin.lda import top_word_ids, topic_counts, topic_word
    from jaxhin.lda._eval import _sparse_perplexity

    corpus, _ = planted
    cfg = LdaConfig(num_topics=topics, chunk=256)
    result = fit(jax.random.key(1), corpus, cfg, 3, show_progress=False)
    phi = topic_word(result.state, result.tokens, cfg)
    tc = topic_counts(result.state, result.tokens, cfg)
    np.testing.assert_allclose(tc.dense(), phi, rtol=1e-12)
    dense = perplexity(phi, corpus, 0.1, iters=20)
    assert perplexity(tc, corpus, 0.1, iters=20) == pytest.approx(dense, rel=1e-4)
    assert _sparse_perplexity(tc, corpus, 0.1, 20, pair_budget=3000, theta_budget=4 * topics
                              ) == pytest.approx(dense, rel=1e-4)
    np.testing.assert_array_equal(top_word_ids(tc, 10), top_word_ids(phi, 10))
    assert coherence(tc, corpus) == coherence(phi, corpus)
    assert coherence(tc, corpus, max_topics=5)["topics"] == 5


def test_perplexity_checks_phi_shape(planted):
    corpus, truth = planted
    with pytest.raises(ValueError, match=r"phi must be \(K, V=200\)"):
        perplexity(truth.topic_word[:, :10], corpus, 0.1)


def test_split_halves_keeps_documents():
    c = Corpus(np.array([0, 1, 2, 3, 4], np.int32), np.array([0, 0, 0, 1, 1], np.int32),
               ("a", "b", "c", "d", "e"), 2)
    obs, ev = split_halves(c)
    assert obs.words.tolist() == [0, 2, 3] and ev.words.tolist() == [1, 4]
    assert obs.num_docs == ev.num_docs == 2


def test_infer_recovers_mixtures_of_unseen_documents(planted):
    corpus, truth = planted
    cfg = LdaConfig(num_topics=6, chunk=256)
    result = fit(jax.random.key(1), corpus, cfg, 60, show_progress=False)
    theta = np.asarray(infer(jax.random.key(2), result.state, result.tokens, corpus, cfg, 20))
    assert theta.shape == (corpus.num_docs, 6)
    np.testing.assert_allclose(theta.sum(1), 1.0, rtol=1e-5)
    # Match learned topics to planted ones, then compare mixtures document by document.
    from jaxhin.lda import topic_word

    phi = topic_word(result.state, result.tokens, cfg)
    match = (phi @ truth.topic_word.T).argmax(0)  # planted topic -> learned topic
    err = np.abs(theta[:, match] - truth.doc_topic).sum(1).mean()
    assert err < 0.3, err
    bad = Corpus(np.array([0, 999], np.int32), np.array([0, 0], np.int32), corpus.vocab, 1)
    with pytest.raises(ValueError, match="document 0 has word id 999, outside"):
        infer(jax.random.key(2), result.state, result.tokens, bad, cfg)


def test_coherence_matches_a_hand_count():
    # Documents: {a,b}, {a,b}, {a,c}, {c}. Topic top-2 words (a, b).
    c = Corpus(np.array([0, 1, 0, 1, 0, 2, 2], np.int32), np.array([0, 0, 1, 1, 2, 2, 3],
                                                                   np.int32), ("a", "b", "c"), 4)
    phi = np.array([[0.6, 0.3, 0.1]])
    got = coherence(phi, c, n=2)
    assert got["umass"] == pytest.approx(np.log((2 + 1) / 3))  # D(a,b)=2, D(a)=3
    p_ab, p_a, p_b = 2 / 4, 3 / 4, 2 / 4
    assert got["npmi"] == pytest.approx(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab), rel=1e-6)
    # a and b in every document: NPMI's limit 1 (float32 counts once made this 0 / 0 = nan).
    both = Corpus(np.array([0, 1, 0, 1], np.int32), np.array([0, 0, 1, 1], np.int32),
                  ("a", "b"), 2)
    assert coherence(np.array([[0.6, 0.4]]), both, n=2)["npmi"] == 1.0


@pytest.mark.parametrize("optimize", [0, 2])  # 2: the restored alpha (from step 2) matters
def test_resumed_chain_is_bit_identical(planted, tmp_path, optimize):
    corpus, _ = planted
    cfg = LdaConfig(num_topics=6, chunk=128, optimize_alpha=optimize)
    straight = fit(jax.random.key(3), corpus, cfg, 6, eval_every=3, show_progress=False)
    ckpt = tmp_path / "ckpt"
    fit(jax.random.key(3), corpus, cfg, 3, checkpoint_dir=ckpt, show_progress=False)
    resumed = fit(jax.random.key(3), corpus, cfg, 6, eval_every=3, checkpoint_dir=ckpt,
                  show_progress=False)
    assert resumed.start_iter == 3
    np.testing.assert_array_equal(resumed.state.z, straight.state.z)
    np.testing.assert_array_equal(resumed.state.doc_topic, straight.state.doc_topic)
    if optimize:
        np.testing.assert_array_equal(resumed.state.alpha, straight.state.alpha)
    assert resumed.trace == straight.trace[:1] + [
        {**t, "wall_s": r["wall_s"]} for t, r in zip(straight.trace[1:], resumed.trace[1:],
                                                     strict=True)]  # the whole trajectory
    other = LdaConfig(num_topics=7, chunk=128)
    with pytest.raises(CheckpointError, match=r"lda.num_topics: 6 there, 7 now"):
        fit(jax.random.key(3), corpus, other, 6, checkpoint_dir=ckpt, show_progress=False)


def test_lda_train_writes_metrics(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["lda", "train", "--iters", "20", "--eval-every", "5", "--chunk", "1024",
                 "--plot", str(tmp_path / "t.png"), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "topic   0:" in printed and "tokens/s" in printed
    m = json.loads(out.read_text())["metrics"]
    assert [t["iter"] for t in m["loglik_per_token"]] == [0, 5, 10, 15, 20]
    lls = [t["loglik_per_token"] for t in m["loglik_per_token"]]
    assert lls[-1] > lls[0]
    assert m["tokens_per_s"] > 0 and m["heldout_perplexity"] > 1
    assert m["topic_recovery_cosine"] > 0.8
    assert set(m["coherence"]) == {"umass", "npmi", "topics"}
    assert m["memory"]["hybrid_bytes"] > 0 and m["memory"]["doc_side_bytes"] > 0
    assert m["memory"]["peak_rss_bytes"] > 100 * 2**20  # the process's, JAX included
    assert (tmp_path / "t.png").stat().st_size > 0


def test_lda_train_reads_a_uci_file(tmp_path, capsys):
    (tmp_path / "docword.tiny.txt").write_text("2\n3\n3\n1 1 2\n1 2 1\n2 3 4\n")
    (tmp_path / "vocab.tiny.txt").write_text("x\ny\nz\n")
    out = tmp_path / "r.json"
    assert main(["lda", "train", "--corpus", str(tmp_path / "docword.tiny.txt"), "--topics",
                 "2", "--iters", "3", "--heldout", "0", "--out", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["config"]["tokens"] == 7
    # Documents read off their tokens: the same chain, so the same trajectory.
    sparse = tmp_path / "s.json"
    assert main(["lda", "train", "--corpus", str(tmp_path / "docword.tiny.txt"), "--topics",
                 "2", "--iters", "3", "--heldout", "0", "--doc-rows", "sparse", "--out",
                 str(sparse), "--quiet"]) == 0
    dense_m, sparse_m = (json.loads(p.read_text())["metrics"] for p in (out, sparse))
    assert sparse_m["memory"]["doc_side_bytes"] == 0
    assert ([t["loglik_per_token"] for t in sparse_m["loglik_per_token"]]
            == [t["loglik_per_token"] for t in dense_m["loglik_per_token"]])
    learned = tmp_path / "a.json"
    assert main(["lda", "train", "--corpus", str(tmp_path / "docword.tiny.txt"), "--topics",
                 "2", "--iters", "3", "--heldout", "0", "--optimize-alpha", "1", "--out",
                 str(learned), "--quiet"]) == 0
    alpha = json.loads(learned.read_text())["metrics"]["alpha"]
    assert len(alpha["values"]) == 2 and alpha["values"] != [0.1, 0.1] and alpha["min"] > 0
    bad = tmp_path / "docword.bad.txt"
    bad.write_text("1\n3\n1\n1 9 1\n")
    (tmp_path / "vocab.bad.txt").write_text("x\ny\nz\n")
    with pytest.raises(SystemExit) as exit_:
        main(["lda", "train", "--corpus", str(bad), "--quiet"])
    assert exit_.value.code == 2
    assert "docword.bad.txt:4:" in capsys.readouterr().err
