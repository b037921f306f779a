"""jaxhin: six ML-systems papers as pure-function JAX modules.

Importing jaxhin has no side effects: it starts no JAX backend, changes no `jax.config` flag and
queries no device (tested in `tests/test_import.py`), and it loads no subpackage until first
use (`jaxhin.hin` imports flax, optax and jraph only when touched; tested in
`tests/test_architecture.py`), so `jaxhin --help` starts at once.

Subpackages:
  data       data root resolution, dataset names to data, atomic writes.
  train      shared pieces: metrics, orbax checkpoints, progress bars, results JSON.
  hin, lda, remat, sbp, ptm, structure   one per paper; see `CAPABILITIES` for their status.
  cli        the `jaxhin` command line, a client of the others.
"""

import importlib

from jaxhin._capabilities import CAPABILITIES, Capability
from jaxhin._version import __version__

_SUBPACKAGES = ("cli", "data", "hin", "lda", "ptm", "remat", "sbp", "structure", "train")

__all__ = [
    "CAPABILITIES",
    "Capability",
    "__version__",
    "cli",
    "data",
    "hin",
    "lda",
    "ptm",
    "remat",
    "sbp",
    "structure",
    "train",
]


def __getattr__(name: str):
    # PEP 562: a subpackage is imported on first attribute access (`jaxhin.hin.recipe`)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"jaxhin.{name}")
    raise AttributeError(f"module 'jaxhin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBPACKAGES})
