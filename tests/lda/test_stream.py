"""A corpus streamed block by block: the counts are always a recount of the topics on disk, a
kill mid-iteration resumes the same chain bit for bit, and the chain learns what the in-memory
one learns."""

import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import synthetic_corpus
from jaxhin.lda import (
    LdaConfig,
    best_match_cosine,
    fit,
    fit_blocks,
    log_joint_per_token,
    split_blocks,
    to_tokens,
    word_topic,
)
from jaxhin.lda import counts as count_state


@pytest.fixture(scope="module")
def planted():
    return synthetic_corpus(jax.random.key(0), num_docs=300, doc_length=80, vocab_size=300,
                            num_topics=8)


def test_blocks_hold_whole_documents_within_the_budget():
    lengths = np.array([3, 4, 2, 9, 1, 1])
    cuts = split_blocks(lengths, 7)
    assert cuts.tolist() == [0, 2, 3, 4, 6]  # 3+4 | 2 | 9 (alone: over the budget) | 1+1
    with pytest.raises(ValueError, match="block_tokens"):
        split_blocks(lengths, 0)


def _whole(result, corpus, cfg):
    """The chain's topics in corpus order and the in-memory state counted from them."""
    z = np.concatenate([result.z(b) for b in range(result.blocks)])
    tokens = to_tokens(corpus, num_topics=cfg.num_topics)
    return z, tokens, count_state(tokens, jax.numpy.asarray(z), cfg.num_topics)


class _Killed(Exception):
    pass


def test_interrupted_run_resumes_the_same_chain_and_counts_equal_a_recount(planted, tmp_path):
    corpus, truth = planted
    cfg = LdaConfig(num_topics=8, chunk=512)
    kw = dict(block_tokens=6_000, show_progress=False, eval_every=5)
    straight = fit_blocks(jax.random.key(4), corpus, cfg, 30, folder=tmp_path / "a", **kw)
    assert straight.blocks == 5 and straight.largest <= 6_000

    def kill(it, b):  # mid-iteration, after block 2 of iteration 13 is on disk
        if (it, b) == (13, 2):
            raise _Killed

    with pytest.raises(_Killed):
        fit_blocks(jax.random.key(4), corpus, cfg, 30, folder=tmp_path / "b", on_block=kill,
                   **kw)
    log = json.loads((tmp_path / "b" / "run.json").read_text())["log"]
    assert (log["iter"], log["next"]) == (13, 3)
    resumed = fit_blocks(jax.random.key(4), corpus, cfg, 30, folder=tmp_path / "b", **kw)
    assert resumed.start_iter == 13
    for b in range(5):
        np.testing.assert_array_equal(resumed.z(b), straight.z(b))
    assert [t["loglik_per_token"] for t in resumed.trace] == [
        t["loglik_per_token"] for t in straight.trace]
    # The counts the chain holds are a recount of the topics it wrote, token for token.
    z, tokens, state = _whole(resumed, corpus, cfg)
    np.testing.assert_array_equal(resumed.word_rows, word_topic(state, tokens))
    np.testing.assert_array_equal(resumed.topic_count, np.bincount(z, minlength=8))
    assert int(resumed.word_rows.sum()) == corpus.num_tokens
    # Its log-likelihood is the in-memory one of the same topics; it learns the planted topics.
    assert resumed.trace[-1]["loglik_per_token"] == pytest.approx(
        float(log_joint_per_token(state, tokens, cfg)), rel=1e-5)
    assert best_match_cosine(resumed.topic_counts(cfg.beta).dense(), truth.topic_word) > 0.9
    # The best of three streamed chains is where the best of three in-memory ones is (the
    # planted corpus has modes with two topics merged, at about -2.6, that chains of both kinds
    # visit: of six chains of each kind, two to three did after 30 iterations).
    others = [fit_blocks(jax.random.key(s), corpus, cfg, 30, folder=tmp_path / f"c{s}", **kw)
              for s in (7, 8)]
    streamed = max(r.trace[-1]["loglik_per_token"] for r in (resumed, *others))
    in_memory = max(fit(jax.random.key(s), corpus, cfg, 30, show_progress=False).trace[-1][
        "loglik_per_token"] for s in (4, 5, 6))
    assert streamed > in_memory - 0.03, (streamed, in_memory)
    # Nothing but the current version of each block's topics is left.
    assert sorted(p.name for p in (tmp_path / "b").glob("z-*")) == [
        f"z-{b:05d}.30.npy" for b in range(5)]


def test_lda_train_streams_blocks_from_the_cli(tmp_path, cli_exit_2, capsys):
    out = tmp_path / "r.json"
    assert main(["lda", "train", "--iters", "4", "--eval-every", "2", "--block-tokens", "25000",
                 "--checkpoint-dir", str(tmp_path / "ck"), "--out", str(out), "--quiet"]) == 0
    m = json.loads(out.read_text())["metrics"]
    assert m["streamed"]["blocks"] == 2 and m["heldout_perplexity"] > 1
    assert [t["iter"] for t in m["loglik_per_token"]] == [0, 2, 4]
    capsys.readouterr()
    _, err = cli_exit_2(["lda", "train", "--block-tokens", "1000"])
    assert "--checkpoint-dir" in err
