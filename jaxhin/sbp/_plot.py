"""Pictures of placements and pipeline timelines (matplotlib)."""

from __future__ import annotations

import numpy as np
from jax.sharding import Mesh

from jaxhin.sbp._pipeline import Timeline
from jaxhin.sbp._placement import NdSbp, Partial, Split


def plot_placement(sbp: NdSbp, shape: tuple[int, int], mesh: Mesh, ax=None, title=None):
    """Draw which block of a 2-D tensor each device of a 2-D (or 1-D) mesh holds.

    Each panel is one device; the shaded area is its block of the tensor, hatched when the
    block is a partial value.
    """
    import matplotlib.pyplot as plt

    sizes = list(mesh.devices.shape) + [1] * (2 - mesh.devices.ndim)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * sizes[1], 1.6 * sizes[0]))
    ax.set_xlim(0, sizes[1])
    ax.set_ylim(sizes[0], 0)
    ax.set_xticks([])
    ax.set_yticks([])
    partial = any(isinstance(e, Partial) for e in sbp)
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            coord = (i, j)[:mesh.devices.ndim]
            lo, hi = np.zeros(2), np.array(shape, float)
            for axis, entry in enumerate(sbp):
                if isinstance(entry, Split):
                    n = mesh.devices.shape[axis]
                    width = (hi[entry.axis] - lo[entry.axis]) / n
                    lo[entry.axis] += coord[axis] * width
                    hi[entry.axis] = lo[entry.axis] + width
            pad = 0.08
            ax.add_patch(plt.Rectangle((j + pad, i + pad), 1 - 2 * pad, 1 - 2 * pad, fill=False))
            x0 = j + pad + (1 - 2 * pad) * lo[1] / shape[1]
            y0 = i + pad + (1 - 2 * pad) * lo[0] / shape[0]
            ax.add_patch(plt.Rectangle(
                (x0, y0), (1 - 2 * pad) * (hi[1] - lo[1]) / shape[1],
                (1 - 2 * pad) * (hi[0] - lo[0]) / shape[0], color="tab:blue", alpha=0.6,
                hatch="//" if partial else None))
    ax.set_title(title or f"{tuple(sbp)} on {dict(mesh.shape)}", fontsize=9)
    return ax


def plot_timeline(timeline: Timeline, ax=None, title: str | None = None):
    """Gantt chart of a pipeline timeline: one row per stage, F and B tasks by microbatch."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, timeline.makespan * 0.25), 0.5 * timeline.stages + 1))
    for task in timeline.tasks:
        color = "tab:blue" if task.kind == "F" else "tab:orange"
        ax.barh(task.stage, task.end - task.start, left=task.start, color=color,
                edgecolor="white")
        ax.text((task.start + task.end) / 2, task.stage, str(task.microbatch), ha="center",
                va="center", fontsize=7, color="white")
    ax.set_yticks(range(timeline.stages), [f"stage {s}" for s in range(timeline.stages)])
    ax.invert_yaxis()
    ax.set_xlabel("ticks (forward blue, backward orange)")
    ax.set_title(title or f"S={timeline.stages}, M={timeline.microbatches}: bubble "
                 f"{timeline.bubble_fraction:.3f} (theory {timeline.theory_bubble:.3f})")
    return ax
