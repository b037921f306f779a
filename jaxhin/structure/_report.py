"""Saving and drawing a study: the masks as `.npz`, receptive fields and curves as a figure."""

from __future__ import annotations

import os

import numpy as np
import scipy.stats


def save_masks(path: str | os.PathLike[str], result) -> None:
    """Write each learned layer's connectivity (`mask_1`, ...: (inputs, live units) bool), the
    layer-1 dictionary (`dictionary_1`) and the gains to an `.npz`, atomically."""
    from jaxhin.data import atomic_write

    arrays = {f"mask_{i}": np.asarray(layer.mask) for i, layer in
              enumerate(result.growth.layers, start=1)}
    arrays["dictionary_1"] = np.asarray(result.growth.layers[0].dictionary)
    arrays["gains"] = np.asarray(result.growth.gains)
    with atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def plot_receptive_fields(dictionary: np.ndarray, shape: tuple[int, int], count: int = 48,
                          ax=None):
    """Tile the first `count` layer-1 atoms as images (grey: no connection)."""
    import matplotlib.pyplot as plt

    d = np.asarray(dictionary)[:, :count]
    h, w = shape
    cols = 8
    rows = -(-d.shape[1] // cols)
    tile = np.full((rows * (h + 1), cols * (w + 1)), np.nan)
    for j in range(d.shape[1]):
        r, c = divmod(j, cols)
        atom = d[:, j].reshape(h, w)
        scale = np.abs(atom).max() or 1.0
        tile[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = atom / scale
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6 * rows / cols))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.85")
    ax.imshow(np.where(tile == 0, np.nan, tile), cmap=cmap, vmin=-1, vmax=1)
    ax.set_title("layer-1 receptive fields (grey: not connected)")
    ax.axis("off")
    return ax


def plot_gains(gains, kept: int, criterion: str = "probe", ax=None):
    """The criterion after each tried depth (0: raw input); the kept depth is marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    depths = np.arange(len(gains))
    ax.plot(depths, gains, marker="o")
    ax.axvline(kept, color="C3", ls="--", label=f"chosen depth {kept}")
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("probe accuracy" if criterion == "probe" else "entropy per unit (nats)")
    ax.set_xticks(depths)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_entropy_accuracy(survey: list[dict], ax=None):
    """Output entropy against probe accuracy over the surveyed structures."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    h = [r["entropy"] for r in survey]
    acc = [r["probe_accuracy"] for r in survey]
    ax.scatter(h, acc, c=np.log2([r["atoms"] for r in survey]), cmap="viridis")
    rho = scipy.stats.spearmanr(h, acc).statistic
    ax.set_title(f"Spearman {rho:.2f} over {len(survey)} structures")
    ax.set_xlabel("output entropy (nats, sum over units)")
    ax.set_ylabel("probe accuracy")
    ax.grid(alpha=0.3)
    return ax


def plot_study(result, shape: tuple[int, int], path: str | os.PathLike[str] | None = None):
    """Receptive fields, gain vs depth and entropy vs accuracy in one figure, saved atomically
    to `path` (PNG) when given. Returns the figure."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 4))
    grid = fig.add_gridspec(1, 3, width_ratios=(1.3, 1, 1))
    plot_receptive_fields(result.growth.layers[0].dictionary, shape, ax=fig.add_subplot(grid[0]))
    plot_gains(result.growth.gains, result.growth.depth, result.growth.criterion,
               ax=fig.add_subplot(grid[1]))
    plot_entropy_accuracy(result.survey, ax=fig.add_subplot(grid[2]))
    fig.tight_layout()
    if path is not None:
        from jaxhin.data import atomic_write

        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    return fig
