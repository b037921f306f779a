"""jaxhin: six ML-systems papers as pure-function JAX modules.

Importing jaxhin has no side effects: it starts no JAX backend, changes no `jax.config` flag and
queries no device (tested in `tests/test_import.py`).

Subpackages:
  data       data root resolution, dataset registry, atomic writes.
  train      shared pieces: metrics, orbax checkpoints, progress bars, results JSON.
  hin, lda, remat, sbp, ptm, structure   one per paper; see `CAPABILITIES` for their status.
"""

from jaxhin import data, hin, lda, ptm, remat, sbp, structure, train
from jaxhin._capabilities import CAPABILITIES, Capability
from jaxhin._version import __version__

__all__ = [
    "CAPABILITIES",
    "Capability",
    "__version__",
    "data",
    "hin",
    "lda",
    "ptm",
    "remat",
    "sbp",
    "structure",
    "train",
]
