"""Classification metrics as HGB and the papers report them.

Host-side numpy: they score final predictions once per run, outside jitted code.
"""

from __future__ import annotations

import numpy as np


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    # A class with no true and no predicted member scores 0 (scikit-learn's zero_division=0).
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def f1_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Return Macro- and Micro-F1 of single-label or multi-label predictions.

    Single-label: `y_true`, `y_pred` are (N,) integer class ids; macro averages over the classes
    present in either array (as scikit-learn's `f1_score(average="macro")`), micro equals
    accuracy. Multi-label: (N, C) 0/1 indicator arrays; macro averages over the C columns and
    micro pools the counts over all node-class pairs (HGB's IMDB protocol).

    Example:
      >>> f1_scores(np.array([0, 1, 1]), np.array([0, 1, 0]))["micro_f1"]
      0.6666666666666666
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"f1_scores: y_true {y_true.shape} and y_pred {y_pred.shape} differ")
    if y_true.ndim == 1:
        classes = np.union1d(y_true, y_pred)
        true_1h = y_true[:, None] == classes[None, :]
        pred_1h = y_pred[:, None] == classes[None, :]
    elif y_true.ndim == 2:
        for name, y in (("y_true", y_true), ("y_pred", y_pred)):
            if not np.isin(y, (0, 1)).all():
                raise ValueError(f"f1_scores: multi-label {name} must be 0/1 indicators")
        true_1h, pred_1h = y_true.astype(bool), y_pred.astype(bool)
    else:
        raise ValueError(f"f1_scores: expected (N,) or (N, C) labels, got shape {y_true.shape}")
    tp = (true_1h & pred_1h).sum(0)
    fp = (~true_1h & pred_1h).sum(0)
    fn = (true_1h & ~pred_1h).sum(0)
    return {
        "macro_f1": float(_f1(tp, fp, fn).mean()) if tp.size else 0.0,
        "micro_f1": float(_f1(tp.sum(), fp.sum(), fn.sum())),
    }


def mean_std(values: np.ndarray) -> tuple[float, float]:
    """Return the mean and population standard deviation (ddof=0) over seeds, as HGB reports."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_std: no values")
    return float(values.mean()), float(values.std(ddof=0))
