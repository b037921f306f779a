"""The HGB node-classification protocol (Lv et al., KDD 2021, Sec. 5).

`label.dat` (train + val) is split 80/20 by seed, models are early-stopped on validation loss,
test labels (`label.dat.test`) are used only for the final score: Macro- and Micro-F1 (multi-label:
logit > 0, Micro pooled over node-class pairs), mean and population std over seeds 0-4.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

from jaxhin.data import HgbData, atomic_write
from jaxhin.train import f1_scores


def split_train_val(data: HgbData, seed: int, val_fraction: float = 0.2
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Indices into `data.labelled_ids` of (train, val), split at random by `seed`."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    perm = np.asarray(jax.random.permutation(jax.random.key(seed), len(data.labelled_ids)))
    n_val = round(val_fraction * len(perm))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def predictions(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    """Class ids (argmax) or 0/1 indicators (logit > 0, multi-label)."""
    logits = np.asarray(logits)
    return (logits > 0).astype(np.uint8) if multi_label else logits.argmax(-1).astype(np.int32)


def score_test_set(data: HgbData, test_logits: np.ndarray) -> dict[str, float]:
    """Macro/Micro-F1 of logits for `data.test_ids` against the test labels (final score only)."""
    if len(test_logits) != len(data.test_ids):
        raise ValueError(f"expected logits for {len(data.test_ids)} test nodes, got "
                         f"{len(test_logits)}")
    return f1_scores(data.test_labels, predictions(test_logits, data.multi_label))


def write_submission(folder: str | os.PathLike[str], data: HgbData, seed: int,
                     test_logits: np.ndarray) -> Path:
    """Write HGB's `{DATASET}_{seed+1}.txt`: one line per test node,
    `id<TAB><TAB>type<TAB>label[,label...]` (name left empty), for HGB's official scorer."""
    pred = predictions(test_logits, data.multi_label)
    lines = []
    for node, p in zip(data.test_ids, pred, strict=True):
        labels = ",".join(map(str, np.flatnonzero(p))) if data.multi_label else str(int(p))
        lines.append(f"{int(node)}\t\t{data.target_type}\t{labels}\n")
    path = Path(folder) / f"{data.name}_{seed + 1}.txt"
    with atomic_write(path) as f:
        f.writelines(lines)
    return path
