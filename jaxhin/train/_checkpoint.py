"""Checkpoints of pytrees (params, optimizer and sampler states) with orbax.

A thin layer over `orbax.checkpoint.CheckpointManager` so every system saves the same way:
numbered steps under one folder, written to a temporary folder and renamed when complete
(orbax's atomicity), the newest `max_to_keep` kept.

`run_folder` adds what resuming a long run needs: a lock against a second writer, the chain's
identity (settings and data fingerprint, refused if they differ), a JSON log beside the steps,
and a restore that falls back to the newest intact step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orbax.checkpoint as ocp

from jaxhin.data import DataError, atomic_write


def _manager(directory: str | os.PathLike[str], max_to_keep: int | None = None,
             *, create: bool) -> ocp.CheckpointManager:
    # cleanup_tmp_directories: a save cut short (Ctrl-C, SIGKILL) leaves a temporary folder,
    # which the next manager removes; only complete steps are ever restored.
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create,
                                           enable_async_checkpointing=False,
                                           cleanup_tmp_directories=True)
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


class CheckpointError(DataError):
    """A checkpoint folder that cannot be used by this run: another chain's (the message names
    the settings that differ), in use by a live run, or with no step that restores."""


def fingerprint(*arrays: Any) -> str:
    """A short hash of arrays' dtypes, shapes and contents (host copies): the data part of a
    run's identity, so that a checkpoint is never resumed on other data."""
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.dtype}{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree}


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A checkpoint folder held by one run: locked, and holding one chain's identity.

    `run.json` in the folder keeps the identity and a JSON log (e.g. the trajectory so far) that
    the run rewrites atomically; orbax keeps the numbered steps beside it.
    """

    path: Path
    identity: dict[str, Any]

    def read_log(self) -> dict[str, Any]:
        """The log saved by `write_log` ({} for a new chain)."""
        return _read_run_file(self.path).get("log", {})

    def write_log(self, log: Mapping[str, Any]) -> None:
        """Save `log` (JSON-able) with the identity, atomically."""
        # NaN and infinities are kept (Python's JSON reads them back): a diverged seed's loss
        # must not stop the run from recording it.
        text = json.dumps({"identity": self.identity, "log": log}, indent=1)
        with atomic_write(self.path / _RUN_FILE) as f:
            f.write(text + "\n")

    def restore_latest(self, like: Any) -> tuple[int, Any] | None:
        """Restore the newest step that restores; a step that fails (a corrupt or truncated
        file) is skipped with a warning. None if the folder holds no step.

        Raises:
          CheckpointError: steps exist but none restores.
        """
        if not any(p.name.isdigit() for p in self.path.iterdir()):
            return None
        with _manager(self.path, create=False) as manager:
            steps = sorted(manager.all_steps(), reverse=True)
            errors = []
            for step in steps:
                try:
                    tree = manager.restore(step, args=ocp.args.StandardRestore(like))
                except Exception as err:  # any failure to restore is a damaged step
                    errors.append(f"step {step}: {type(err).__name__}: {str(err)[:200]}")
                    warnings.warn(f"{self.path}: checkpoint step {step} does not restore "
                                  f"({errors[-1]}); trying an older step", stacklevel=2)
                    continue
                break
            else:
                step = None
        # Damaged steps are moved aside (kept for inspection, out of orbax's sight), so the
        # resumed chain can save those step numbers again.
        for bad in (s for s in steps if step is None or s > step):
            (self.path / str(bad)).rename(self.path / f"damaged-{bad}-{time.time_ns()}")
        if step is not None:
            return step, tree
        raise CheckpointError(f"{self.path}: no checkpoint step restores ({'; '.join(errors)})"
                              if errors else f"{self.path}: no complete checkpoint step")


_RUN_FILE = "run.json"
_LOCK_FILE = ".lock"


def _read_run_file(folder: Path) -> dict[str, Any]:
    path = folder / _RUN_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("identity"), dict):
            raise ValueError("no 'identity' object")
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not a jaxhin run file ({err}); remove the folder or "
                              f"choose another") from None
    return record


@contextlib.contextmanager
def run_folder(directory: str | os.PathLike[str], identity: Mapping[str, Any]
               ) -> Iterator[RunFolder]:
    """Open `directory` for the chain `identity` (a JSON-able mapping of the settings and data
    fingerprint that decide the chain), created if absent.

    The folder is locked while the block runs (an advisory `flock` that the system releases
    when the process dies, even by SIGKILL), so a second run fails at once instead of mixing
    steps of two chains. A folder holding another chain is refused with the settings that differ.

    Raises:
      CheckpointError: the folder is locked by a live run, or holds another chain.

    Example:
      >>> with run_folder("ck", {"seed": 0, "data": fingerprint(x)}) as run:  # doctest: +SKIP
      ...     restored = run.restore_latest(like=state)
    """
    folder = Path(directory).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    identity = json.loads(json.dumps(dict(identity), allow_nan=False))  # normalised, JSON-able
    with open(folder / _LOCK_FILE, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise CheckpointError(f"{folder} is in use by another run (process {holder}); wait "
                                  f"for it to end or choose another checkpoint folder") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        stored = _read_run_file(folder).get("identity")
        if stored is not None and stored != identity:
            mine, theirs = _flat(identity), _flat(stored)
            diff = [f"{k}: {theirs.get(k, '(absent)')!r} there, {mine.get(k, '(absent)')!r} now"
                    for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
            raise CheckpointError(f"{folder} holds another run's checkpoints ({'; '.join(diff)}); use the "
                                  f"same settings to resume it, or another checkpoint folder")
        run = RunFolder(folder, identity)
        if stored is None:
            run.write_log({})
        yield run
