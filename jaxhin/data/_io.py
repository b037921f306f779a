"""Outputs: atomic file writes (a reader never sees a half-written file) and checks that an
output can be written, made before the work starts rather than after it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from jaxhin.data._root import DataError


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
    _PENDING.add(tmp)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a result file is the user's
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        _PENDING.discard(tmp)


_PENDING: set[str] = set()  # temporary files of atomic writes in progress


def remove_pending_writes() -> None:
    """Remove the temporary files of atomic writes still in progress: for a process about to
    exit at once (on Ctrl-C) without unwinding, so that it leaves no partial file."""
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _PENDING.discard(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputError(DataError):
    """An output file or folder that cannot be written; found before the work starts."""


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the one test of writability that holds for every
    user (root included) and file system (read-only mounts included)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".jaxhin-probe.")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise OutputError(f"{what}: cannot write in folder {folder} ({err.strerror})") from None


def check_output_file(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Check now that `path` can be written later: its folder exists and takes a new file, and
    `path` is not a folder. `what` names the argument in the message (e.g. `"--out"`).

    Raises:
      OutputError: naming `what`, the path and the reason.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what} {path}: is a folder; expected a file name")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise OutputError(f"{what} {path}: folder {folder} does not exist")
    _probe(folder, f"{what} {path}")
    return path


def write_results_dir(path: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create the output folder `path` (and parents), check it takes files, and return it;
    files in it are written with `atomic_write`.

    Raises:
      OutputError: `path` is a file, or cannot be created or written (names `what`).
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{what} {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{what} {out}: cannot create it ({err.strerror})") from None
    _probe(out, f"{what} {out}")
    return out
