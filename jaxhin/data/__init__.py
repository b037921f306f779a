"""jaxhin.data: data root resolution, the dataset registry, atomic writes and loaders.

Loaders find files through `dataset_dir` and write caches with `atomic_write` into `cache_dir()`.
Landed: HGB heterogeneous graphs (DBLP, ACM, IMDB, any folder in HGB format; cached as .npz) and
topic-model corpora (UCI bag-of-words, LDA-C, KOS, Reuters, a synthetic LDA corpus with known
topics). Text and image loaders land with their systems' issues.
"""

from jaxhin.data._corpora import (
    Corpus,
    CorpusError,
    SyntheticTruth,
    corpus_from_texts,
    heldout_split,
    load_20news,
    load_kos,
    load_ldac,
    load_reuters,
    load_uci,
    read_vocab,
    synthetic_corpus,
    tokenize,
)
from jaxhin.data._hgb import (
    FEATS_TYPES,
    FeatureSpec,
    HgbData,
    HgbFormatError,
    feature_specs,
    load_hgb,
    load_hgb_folder,
)
from jaxhin.data._io import atomic_write, write_results_dir
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
from jaxhin.data._synthetic_hin import SyntheticHinConfig, synthetic_hin

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "DATA_ENV",
    "FEATS_TYPES",
    "Corpus",
    "CorpusError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "FeatureSpec",
    "HgbData",
    "HgbFormatError",
    "SyntheticHinConfig",
    "SyntheticTruth",
    "atomic_write",
    "cache_dir",
    "corpus_from_texts",
    "data_root",
    "dataset_dir",
    "feature_specs",
    "heldout_split",
    "load_20news",
    "load_hgb",
    "load_hgb_folder",
    "load_kos",
    "load_ldac",
    "load_reuters",
    "load_uci",
    "read_vocab",
    "synthetic_corpus",
    "synthetic_hin",
    "tokenize",
    "write_results_dir",
]
