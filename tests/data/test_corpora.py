"""Corpus readers: real corpora's counts, and errors that name the file and line."""

import gzip

import jax
import numpy as np
import pytest

from jaxhin.data import (
    CorpusError,
    heldout_split,
    load_kos,
    load_ldac,
    load_reuters,
    load_uci,
    synthetic_corpus,
)


def test_kos_and_reuters_match_their_sources(shared_data):
    kos = load_kos(shared_data)
    assert (kos.num_docs, kos.vocab_size, kos.num_tokens) == (3430, 6906, 467714)
    assert np.all(np.diff(kos.docs) >= 0) and kos.doc_lengths.min() >= 1
    reuters = load_reuters(shared_data)
    assert (reuters.num_docs, reuters.vocab_size, reuters.num_tokens) == (395, 4258, 84010)


def _uci(tmp_path, body, vocab=("a", "b", "c"), header=(2, 3, 3), gz=False):
    path = tmp_path / ("docword.txt.gz" if gz else "docword.txt")
    text = "\n".join(map(str, header)) + "\n" + body
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return path, tmp_path / "vocab.txt"


def test_uci_round_trip(tmp_path):
    corpus = load_uci(*_uci(tmp_path, "1 1 2\n1 3 1\n2 2 3\n", gz=True))
    assert corpus.words.tolist() == [0, 0, 2, 1, 1, 1]
    assert corpus.docs.tolist() == [0, 0, 0, 1, 1, 1]
    assert corpus.doc_starts.tolist() == [0, 3]


@pytest.mark.parametrize("body, message", [
    ("1 1 2\n1 x 1\n2 2 3\n", r"docword.txt:5: expected 'docID wordID count'"),
    ("1 1 2\n1 4 1\n2 2 3\n", r"docword.txt:5: .*wordID 4 \(1..3\)"),
    ("1 1 2\n1 2 1\n1 3 3\n", r"document 2 \(1-based docID\) is empty"),
    ("1 1 2\n1 2 0\n2 2 3\n", r"docword.txt:5: .*count 0"),
    # Nine numbers on three lines, but not three per line: read in blocks, still caught.
    ("1 1\n1 2 1 3\n2 2 3\n", r"docword.txt:4: expected 'docID wordID count', got '1 1'"),
    ("1 1 2\n\n1 2 1\n2 2 3 4\n", r"docword.txt:7: expected .*got '2 2 3 4'"),
])
def test_uci_errors(tmp_path, body, message):
    with pytest.raises(CorpusError, match=message):
        load_uci(*_uci(tmp_path, body))


@pytest.mark.parametrize("lines, message", [
    ("2 0:1 2:3\n\n1 1:1\n", r"docs.ldac:2: empty line"),
    ("2 0:1 2:3\n1 7:1\n", r"docs.ldac:2: word id 7 is outside the vocabulary of 3"),
    ("2 0:1\n", r"docs.ldac:1: declares 2 terms, has 1"),
    ("2 0:1 b\n", r"docs.ldac:1: expected 'M id:count"),
])
def test_ldac_errors(tmp_path, lines, message):
    (tmp_path / "docs.ldac").write_text(lines)
    (tmp_path / "vocab.txt").write_text("a\nb\nc\n")
    with pytest.raises(CorpusError, match=message):
        load_ldac(tmp_path / "docs.ldac", tmp_path / "vocab.txt")


def test_heldout_split_partitions_documents():
    corpus, _ = synthetic_corpus(jax.random.key(0), num_docs=50, doc_length=20, vocab_size=40,
                                 num_topics=3)
    train, test = heldout_split(corpus, jax.random.key(1), 0.2)
    assert (train.num_docs, test.num_docs) == (40, 10)
    assert train.num_tokens + test.num_tokens == corpus.num_tokens
    assert np.array_equal(np.bincount(np.concatenate([train.words, test.words]), minlength=40),
                          np.bincount(corpus.words, minlength=40))


def test_raw_text_corpus_and_its_errors():
    from jaxhin.data import corpus_from_texts, tokenize

    assert tokenize("The Cat's HAT, and a dog!") == ["cat's", "hat", "dog"]
    c = corpus_from_texts(["cat dog", "dog fish", "cat fish dog"], min_df=2, max_df=1.0)
    assert c.vocab == ("cat", "dog", "fish") and c.num_docs == 3 and c.num_tokens == 7
    with pytest.raises(CorpusError, match=r"b\.txt: empty after tokenising"):
        corpus_from_texts(["cat dog", "the and", "cat dog"], min_df=1, max_df=1.0,
                          sources=["a.txt", "b.txt", "c.txt"])


def test_20news_loads_from_the_raw_archive(shared_data):
    from jaxhin.data import load_20news

    c = load_20news(shared_data, "test")
    assert c.num_docs > 7000 and c.vocab_size > 5000
    assert (np.bincount(c.docs, minlength=c.num_docs) > 0).all()
