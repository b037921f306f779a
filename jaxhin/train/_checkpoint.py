"""Checkpoints of pytrees (params, optimizer and sampler states) with orbax.

A thin layer over `orbax.checkpoint.CheckpointManager` so every system saves the same way:
numbered steps under one folder, written to a temporary folder and renamed when complete
(orbax's atomicity), the newest `max_to_keep` kept.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp


def _manager(directory: str | os.PathLike[str], max_to_keep: int | None = None,
             *, create: bool) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create,
                                           enable_async_checkpointing=False)
    return ocp.CheckpointManager(Path(directory).absolute(), options=options)


def save_checkpoint(directory: str | os.PathLike[str], step: int, tree: Any, *,
                    max_to_keep: int | None = None) -> Path:
    """Save `tree` as step `step` under `directory`, keeping the newest `max_to_keep` steps.

    Returns:
      The step's folder.

    Example:
      >>> save_checkpoint("/tmp/run/ckpt", 100, {"params": params})  # doctest: +SKIP
    """
    if step < 0:
        raise ValueError(f"save_checkpoint: step must be >= 0, got {step}")
    with _manager(directory, max_to_keep, create=True) as manager:
        manager.save(step, args=ocp.args.StandardSave(tree), force=True)
        manager.wait_until_finished()
    return Path(directory).absolute() / str(step)


def latest_step(directory: str | os.PathLike[str]) -> int | None:
    """Return the newest complete step under `directory`, or `None` if there is none."""
    if not Path(directory).is_dir():
        return None
    with _manager(directory, create=False) as manager:
        return manager.latest_step()


def restore_checkpoint(directory: str | os.PathLike[str], step: int | None = None,
                       like: Any = None) -> Any:
    """Restore step `step` (default: the newest) from `directory`.

    Args:
      directory: folder passed to `save_checkpoint`.
      step: which step; `None` for the newest.
      like: optional pytree of arrays or `jax.ShapeDtypeStruct`s giving the structure, dtypes
        and shardings to restore into (use it to restore onto a mesh).

    Raises:
      FileNotFoundError: no checkpoint (or not that step) under `directory`.
    """
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"no checkpoint folder {directory}")
    with _manager(directory, create=False) as manager:
        steps = manager.all_steps()
        if step is None:
            if not steps:
                raise FileNotFoundError(f"no complete checkpoint under {directory}")
            step = max(steps)
        elif step not in steps:
            raise FileNotFoundError(f"no step {step} under {directory}; steps: {sorted(steps)}")
        return manager.restore(step, args=ocp.args.StandardRestore(like))
