"""Receptive-field locality of a first layer's connectivity, against random masks.

A unit's receptive field is the set of pixels it is connected to; its spread is the RMS
distance of those pixels from their centroid, in pixels. Random masks of equal sparsity give
each unit as many pixels, drawn uniformly from the pixels that vary in the data (so a learned
mask is not credited for avoiding the always-blank border of MNIST).
"""

from __future__ import annotations

import jax
import numpy as np


def spreads(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """RMS distance (pixels) of each unit's connected pixels from their centroid.

    Args:
      mask: (H*W, M) bool connectivity of M units to the pixels of an H x W image.
      shape: (H, W).

    Returns:
      (M',) spreads of the units with at least one connection.
    """
    h, w = shape
    mask = np.asarray(mask, bool)
    if mask.shape[0] != h * w:
        raise ValueError(f"spreads: mask has {mask.shape[0]} rows, expected H*W = {h * w}")
    rows, cols = np.divmod(np.arange(h * w), w)
    live = mask.sum(0) > 0
    m = mask[:, live].astype(np.float64)
    count = m.sum(0)
    cy, cx = rows @ m / count, cols @ m / count
    var = ((rows[:, None] - cy) ** 2 + (cols[:, None] - cx) ** 2) * m
    return np.sqrt(var.sum(0) / count)


def random_masks(key: jax.Array, mask: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Masks with each unit's number of connections kept, pixels drawn uniformly from `allowed`.

    Args:
      key: PRNG key.
      mask: (P, M) bool learned connectivity.
      allowed: (P,) bool pixels a random unit may use.
    """
    mask = np.asarray(mask, bool)
    pool = np.flatnonzero(allowed)
    out = np.zeros_like(mask)
    for j, k in enumerate(mask.sum(0)):
        if k:
            pick = jax.random.choice(jax.random.fold_in(key, j), len(pool),
                                     (min(int(k), len(pool)),), replace=False)
            out[pool[np.asarray(pick)], j] = True
    return out


def locality_ratio(key: jax.Array, mask: np.ndarray, shape: tuple[int, int],
                   allowed: np.ndarray) -> dict[str, float]:
    """Mean learned spread over mean random spread (below 1: the learned fields are local).

    Returns:
      {"learned_spread", "random_spread", "locality_ratio", "pixels_per_unit"}.
    """
    learned = spreads(mask, shape)
    rand = spreads(random_masks(key, mask, allowed), shape)
    return {"learned_spread": float(learned.mean()), "random_spread": float(rand.mean()),
            "locality_ratio": float(learned.mean() / rand.mean()),
            "pixels_per_unit": float(np.asarray(mask).sum(0)[np.asarray(mask).sum(0) > 0]
                                     .mean())}
