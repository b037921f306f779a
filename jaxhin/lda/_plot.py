"""Pictures of sampler runs: log-likelihood against wall time (matplotlib)."""

from __future__ import annotations

import os


def plot_trace(traces: dict[str, list[dict[str, float]]], path: str | os.PathLike[str] | None = None,
               ax=None):
    """Log p(w, z) per token against sampling seconds, one line per run; saved atomically to
    `path` (PNG) when given. Returns the axes."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, trace in traces.items():
        ax.plot([t["wall_s"] for t in trace], [t["loglik_per_token"] for t in trace],
                marker=".", label=label)
    ax.set_xlabel("sampling time (s)")
    ax.set_ylabel("log p(w, z) per token")
    ax.legend()
    ax.grid(alpha=0.3)
    if path is not None:
        from jaxhin.data import atomic_write

        with atomic_write(path, "wb") as f:
            ax.figure.savefig(f, format="png", dpi=120, bbox_inches="tight")
    return ax
