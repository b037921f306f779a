"""Text for pre-training: the synthetic chain's entropy rate, files, errors."""

import numpy as np
import pytest

from jaxhin.data import DataError, load_text, synthetic_text


def test_synthetic_text_has_the_entropy_rate_it_claims():
    s = synthetic_text(0, 200_000)
    assert len(s.text) == 200_000 and set(s.text) <= set(s.alphabet)
    # Empirical conditional entropy of the bigram counts approaches the analytic rate.
    index = {c: i for i, c in enumerate(s.alphabet)}
    codes = np.array([index[c] for c in s.text])
    n = len(s.alphabet)
    counts = np.zeros((n, n))
    np.add.at(counts, (codes[:-1], codes[1:]), 1)
    p_row = counts / counts.sum(1, keepdims=True).clip(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(counts / counts.sum() * np.where(p_row > 0, np.log(p_row), 0))
    assert h == pytest.approx(s.entropy_rate, abs=0.01)
    assert synthetic_text(0, 1000).text == synthetic_text(0, 1000).text


def test_load_text_files_and_errors(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello world\n", encoding="utf-8")
    assert load_text(f) == "hello world\n"
    assert load_text("synthetic") == synthetic_text(0).text
    with pytest.raises(DataError, match="expected one of shakespeare"):
        load_text(tmp_path / "none.txt")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(DataError, match="empty"):
        load_text(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="not UTF-8"):
        load_text(tmp_path / "bin.txt")


def test_shakespeare_from_the_data_root(shared_data):
    text = load_text("shakespeare", root=shared_data)
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")


def test_nltk_corpora_from_their_zips(tmp_path, shared_data):
    from jaxhin.data import brown_tagged

    inaugural = load_text("inaugural", root=shared_data)
    assert inaugural.startswith("Fellow-Citizens of the Senate") and len(inaugural.split()) > 130_000
    both = load_text("inaugural,state_union", root=shared_data)
    assert both.startswith(inaugural.rstrip("\n")) and len(both) > len(inaugural) + 2_000_000
    tagged = brown_tagged(shared_data)
    assert len(tagged) == 57_340 and tagged[0][:2] == [("The", "at"), ("Fulton", "np-tl")]
    assert sum(map(len, tagged)) == 1_161_192               # the Brown corpus's token count
    empty = tmp_path / "root"
    (empty / "text" / "nltk-corpora").mkdir(parents=True)
    with pytest.raises(DataError, match="nltk"):
        load_text("brown", root=empty)
