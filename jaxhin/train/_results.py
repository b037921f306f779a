"""The results JSON every CLI command writes with `--out`.

Schema: `{"system", "command", "config", "metrics", "env": {jaxhin, jax, platform,
device_count, ..., source}, "wall_s"}`. `config` is the run's hyper-parameters (a frozen
dataclass or a dict), so results can be compared and re-run; `env["source"]` names the commit
of the jaxhin checkout that produced them (and whether it had uncommitted changes), so a figure
can be traced to the code it was measured on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform as _platform
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxhin._version import __version__
from jaxhin.data import atomic_write

RESULT_KEYS = ("system", "command", "config", "metrics", "env", "wall_s")


def source_revision(folder: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """`{"commit": sha, "dirty": bool}` of the git work tree whose tracked files include
    `folder`'s (default: this package's), `dirty` if a tracked file differs from that commit;
    None if `folder` holds no tracked file (an installed wheel, even one in a virtual
    environment inside a clone) or without `git`."""
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()

    try:
        if not git("ls-files", "--", "."):
            return None
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def env_info() -> dict[str, Any]:
    """Describe the software and devices of this run (starts the JAX backend)."""
    devices = jax.devices()
    return {
        "jaxhin": __version__,
        "jax": jax.__version__,
        "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else jax.__version__,
        "python": _platform.python_version(),
        "platform": devices[0].platform,
        "device_count": len(devices),
        "process_count": jax.process_count(),
        "devices": [str(d) for d in devices],
        "source": source_revision(),
    }


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, numpy/JAX arrays and scalars, paths and tuples into JSON types.

    Non-finite floats become `None` (JSON has no NaN); unknown objects raise `TypeError`.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, jax.Array | np.ndarray | np.generic):
        return to_jsonable(np.asarray(value).tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} to results JSON: {value!r}")


def make_results(*, system: str, command: str, config: Any, metrics: Mapping[str, Any],
                 wall_s: float) -> dict[str, Any]:
    """Assemble the results record (see the module docstring for the schema)."""
    return {
        "system": system,
        "command": command,
        "config": to_jsonable(config),
        "metrics": to_jsonable(metrics),
        "env": env_info(),
        "wall_s": float(wall_s),
    }


def write_results(path: str | os.PathLike[str], results: Mapping[str, Any]) -> Path | None:
    """Write `results` as JSON to `path` atomically; only process 0 writes when multi-host.

    Returns:
      The path written, or `None` on processes other than 0.
    """
    missing = [k for k in RESULT_KEYS if k not in results]
    if missing:
        raise ValueError(f"results lack keys {missing}; expected {list(RESULT_KEYS)}")
    if jax.process_index() != 0:
        return None
    text = json.dumps(to_jsonable(results), indent=2, sort_keys=False, allow_nan=False)
    with atomic_write(path) as f:
        f.write(text + "\n")
    return Path(path)
