"""Atomic file writes: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside `path` and rename it onto `path` when the block succeeds.

    The temporary file is in the same folder (so the rename is atomic on POSIX) and is removed if
    the block raises, leaving any previous `path` untouched.

    Args:
      path: destination file; its folder must exist.
      mode: `"w"` (text) or `"wb"` (binary).
      **open_kwargs: passed to `open` (e.g. `encoding`).

    Example:
      >>> with atomic_write("/tmp/x.json") as f:  # doctest: +SKIP
      ...     f.write("{}")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_results_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder `path` (and parents) and return it; files in it are written
    with `atomic_write`."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out
