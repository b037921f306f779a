"""jaxhin.data: data root resolution, the dataset registry and atomic writes.

Loaders for each system (HGB graphs, topic-model corpora, text, images) land here with their
issues; they all find files through `dataset_dir` and write caches with `atomic_write` into
`cache_dir()`.
"""

from jaxhin.data._io import atomic_write
from jaxhin.data._root import (
    CACHE_ENV,
    DATA_ENV,
    DATASETS,
    DatasetInfo,
    DatasetNotFoundError,
    cache_dir,
    data_root,
    dataset_dir,
)

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "DATA_ENV",
    "DatasetInfo",
    "DatasetNotFoundError",
    "atomic_write",
    "cache_dir",
    "data_root",
    "dataset_dir",
]
