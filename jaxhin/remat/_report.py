"""Figures of the comparison: overhead vs budget per model, fragmentation, search latency."""

from __future__ import annotations

import os

_COLORS = {"dtr": "tab:blue", "dte": "tab:orange", "coop": "tab:green"}


def plot_overhead(row: dict, ax=None):
    """Compute overhead against budget ratio for each policy of one model's `study_model` row;
    an infeasible budget is left out of its policy's curve, so a curve ends where the policy
    runs out of memory."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    for policy in sorted({r["policy"] for r in row["runs"]}):
        pts = sorted((r["ratio"], r["overhead"]) for r in row["runs"]
                     if r["policy"] == policy and r["feasible"])
        if pts:
            ax.plot(*zip(*pts, strict=True), "o-", color=_COLORS.get(policy), label=policy)
    ax.set_title(row["model"])
    ax.set_xlabel("budget / memory need")
    ax.set_ylabel("compute overhead")
    ax.invert_xaxis()
    return ax


def plot_metric(rows: list[dict], metric: str, ratio: float, ax=None, log: bool = False):
    """Bars of `metric` (e.g. "fragmentation", "pieces_scanned") per model and policy at one
    budget ratio; infeasible runs are hatched."""
    import matplotlib.pyplot as plt
    import numpy as np

    ax = ax or plt.gca()
    policies = sorted({r["policy"] for row in rows for r in row["runs"]})
    x = np.arange(len(rows))
    width = 0.8 / len(policies)
    for i, policy in enumerate(policies):
        runs = [next((r for r in row["runs"] if r["policy"] == policy and r["ratio"] == ratio),
                     None) for row in rows]
        values = [r[metric] if r else 0 for r in runs]
        bars = ax.bar(x + i * width, values, width, color=_COLORS.get(policy), label=policy)
        for bar, r in zip(bars, runs, strict=True):
            if r is not None and not r["feasible"]:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_xticks(x + 0.4 - width / 2, [row["model"] for row in rows], rotation=30)
    ax.set_title(f"{metric.replace('_', ' ')} at {ratio:g} (hatched: OOM)", fontsize=10)
    if log:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_study(result: dict, path: str | os.PathLike[str] | None = None):
    """Every model's overhead curve, then fragmentation, pieces scanned and the share of
    evicted bytes used at once at the tightest ratio; saved atomically to `path` (PNG) when given. Returns the figure."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["models"]
    cols = 4
    n = len(rows) + 3
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(4 * cols, 3.3 * -(-n // cols)),
                             squeeze=False)
    flat = axes.ravel()
    for ax, row in zip(flat, rows, strict=False):
        plot_overhead(row, ax)
    flat[0].legend()
    ratio = min(r["ratio"] for row in rows for r in row["runs"])
    plot_metric(rows, "fragmentation", ratio, flat[len(rows)])
    plot_metric(rows, "pieces_scanned", ratio, flat[len(rows) + 1], log=True)
    plot_metric(rows, "evicted_used_share", ratio, flat[len(rows) + 2])
    for ax in flat[n:]:
        ax.axis("off")
    fig.tight_layout()
    if path is not None:
        from jaxhin.data import atomic_write

        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100, bbox_inches="tight")
    return fig
