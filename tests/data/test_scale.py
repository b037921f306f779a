"""The scale-corpus generator: UCI files any reader loads, drawn block by block from a known
model, the same for the same key, and nothing half-written left behind."""

import json

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import load_uci, write_scale_corpus


def test_files_load_as_uci_and_repeat_for_the_same_key(tmp_path):
    kwargs = dict(num_tokens=30_000, vocab_size=2_000, num_topics=5, doc_length=50,
                  block_tokens=8_192)  # 4 blocks, the last one short
    made = write_scale_corpus(jax.random.key(0), tmp_path / "a", **kwargs)
    corpus = load_uci(made.docword, made.vocab)
    assert corpus.num_tokens == 30_000 and corpus.vocab_size == 2_000
    assert corpus.num_docs == made.num_docs and corpus.doc_lengths.min() >= 1
    assert 450 < made.num_docs < 750  # about N / doc_length
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "docword.scale.txt.gz", "vocab.scale.txt"]  # no temporary file left
    again = write_scale_corpus(jax.random.key(0), tmp_path / "b", **kwargs)
    assert again.docword.read_bytes() == made.docword.read_bytes()
    other = write_scale_corpus(jax.random.key(1), tmp_path / "c", **kwargs)
    assert other.docword.read_bytes() != made.docword.read_bytes()
    # Zipf: the 10th most frequent word about 10^-1.05 as frequent as the first, within noise.
    freq = np.sort(np.bincount(corpus.words, minlength=2_000))[::-1]
    slope = np.polyfit(np.log(np.arange(1, 101)), np.log(freq[:100]), 1)[0]
    assert -1.5 < slope < -0.7


def test_documents_draw_their_words_from_their_topics(tmp_path):
    # With alpha tiny, a document is one topic: all its words lie in that topic's support.
    made = write_scale_corpus(jax.random.key(2), tmp_path, num_tokens=20_000, vocab_size=50_000,
                              num_topics=8, doc_length=40, alpha=1e-4, words_per_topic=60)
    corpus = load_uci(made.docword, made.vocab)
    supports = [set(row.tolist()) for row in made.topic_words]
    one_topic = [any(set(corpus.words[corpus.docs == d].tolist()) <= s for s in supports)
                 for d in range(corpus.num_docs)]
    assert np.mean(one_topic) > 0.97
    np.testing.assert_allclose(made.topic_word().sum(1), 1.0, rtol=1e-5)


def test_make_corpus_then_train_from_the_cli(tmp_path):
    out = tmp_path / "make.json"
    assert main(["lda", "make-corpus", "--dir", str(tmp_path / "c"), "--tokens", "2e4",
                 "--vocab", "1e3", "--topics", "4", "--out", str(out), "--quiet"]) == 0
    m = json.loads(out.read_text())["metrics"]
    assert m["tokens"] == 20_000 and m["nnz"] > 0 and m["peak_rss_bytes"] > 0
    trained = tmp_path / "train.json"
    assert main(["lda", "train", "--corpus", m["docword"], "--topics", "4", "--iters", "3",
                 "--out", str(trained), "--quiet"]) == 0
    assert json.loads(trained.read_text())["config"]["tokens"] == 20_000


@pytest.mark.parametrize("flag, value", [("--tokens", "abc"), ("--tokens", "1.5"),
                                         ("--vocab", "0"), ("--zipf", "-1")])
def test_make_corpus_names_a_bad_argument(tmp_path, cli_exit_2, flag, value):
    _, err = cli_exit_2(["lda", "make-corpus", "--dir", str(tmp_path), flag, value])
    assert flag in err
