"""F1 metrics against hand-computed answers and scikit-learn."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from jaxhin.train import f1_scores, mean_std


def test_known_single_label_answer():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    # class 0: tp1 fp1 fn1 -> 1/2; class 1: tp2 fp1 fn0 -> 4/5; class 2: tp0 fn1 -> 0
    scores = f1_scores(y_true, y_pred)
    assert scores["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert scores["micro_f1"] == pytest.approx(3 / 5)


def test_known_multi_label_answer():
    y_true = np.array([[1, 0], [1, 1], [0, 1]])
    y_pred = np.array([[1, 1], [0, 1], [0, 1]])
    # col 0: tp1 fn1 -> 2/3; col 1: tp2 fp1 -> 4/5; pooled tp3 fp1 fn1 -> 6/8
    scores = f1_scores(y_true, y_pred)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert scores["micro_f1"] == pytest.approx(0.75)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=40))
def test_single_label_matches_sklearn(pairs):
    y_true, y_pred = (np.array(v) for v in zip(*pairs, strict=True))
    scores = f1_scores(y_true, y_pred)
    assert scores["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert scores["micro_f1"] == pytest.approx(np.mean(y_true == y_pred))


@settings(max_examples=50, deadline=None)
# c >= 2: scikit-learn reads a single 0/1 column as a binary target, not multi-label.
@given(st.integers(1, 30), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_multi_label_matches_sklearn(n, c, seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 2, (2, n, c))
    scores = f1_scores(y_true, y_pred)
    for average in ("macro", "micro"):
        expected = f1_score(y_true, y_pred, average=average, zero_division=0)
        assert scores[f"{average}_f1"] == pytest.approx(expected)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="differ"):
        f1_scores(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="0/1"):
        f1_scores(np.full((2, 2), 2), np.zeros((2, 2)))


def test_mean_std_is_population():
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
