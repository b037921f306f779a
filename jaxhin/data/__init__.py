"""jaxhin.data: data root resolution, the dataset registry, atomic writes and loaders.

Loaders find files through `dataset_dir` and write caches with `atomic_write` into `cache_dir()`.
A dataset name or path becomes data through one function per kind, which the CLI, scripts and
notebooks share: `load_graph` (HGB heterogeneous graphs: DBLP, ACM, IMDB, any folder in HGB
format, cached as .npz; the synthetic graph), `load_images` (scikit-learn's digits, MNIST,
any folder of IDX files), `load_text` (tiny Shakespeare, any UTF-8 file, a synthetic
Markov-chain text with a known entropy rate), `load_task` (sentence classification: SST-2,
SST-1, CR, MR, MPQA, any `<label> <sentence>` file, a synthetic task) and `load_corpus` (UCI bag-of-words, LDA-C, KOS,
Reuters, 20 Newsgroups, a synthetic LDA corpus with known topics); `write_scale_corpus` draws
LDA corpora of any size to disk in UCI format, block by block.

Example:
  >>> from jaxhin.data import load_graph, load_corpus
  >>> acm = load_graph("ACM")                       # from $JAXHIN_DATA/hgb/ACM
  >>> corpus, truth = load_corpus("synthetic")      # truth: the planted topics
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
    save_hgb_folder,
)
from jaxhin.data._images import ImageData, ImageFormatError, load_digits, load_idx_folder, read_idx
from jaxhin.data._io import (
    OutputError,
    atomic_write,
    check_output_file,
    remove_pending_writes,
    write_results_dir,
)
from jaxhin.data._resolve import (
    CORPORA,
    GRAPHS,
    IMAGES,
    DatasetNameError,
    load_corpus,
    load_graph,
    load_images,
)
from jaxhin.data._root import (
    CACHE_ENV,
    DATA_ENV,
    DATASETS,
    DataError,
    DatasetInfo,
    DatasetNotFoundError,
    cache_dir,
    data_root,
    dataset_dir,
)
from jaxhin.data._scale import ScaleCorpus, write_scale_corpus
from jaxhin.data._synthetic_hin import SyntheticHinConfig, synthetic_hin
from jaxhin.data._tasks import (
    TASKS,
    Split,
    TaskData,
    TaskFormatError,
    load_task,
    read_task_file,
    synthetic_tagged,
    synthetic_task,
)
from jaxhin.data._text import TEXTS, SyntheticText, brown_tagged, load_text, synthetic_text

__all__ = [
    "CACHE_ENV",
    "CORPORA",
    "DATASETS",
    "DATA_ENV",
    "FEATS_TYPES",
    "GRAPHS",
    "IMAGES",
    "TASKS",
    "TEXTS",
    "Corpus",
    "CorpusError",
    "DataError",
    "DatasetInfo",
    "DatasetNameError",
    "DatasetNotFoundError",
    "FeatureSpec",
    "HgbData",
    "HgbFormatError",
    "ImageData",
    "ImageFormatError",
    "OutputError",
    "ScaleCorpus",
    "Split",
    "SyntheticHinConfig",
    "SyntheticText",
    "SyntheticTruth",
    "TaskData",
    "TaskFormatError",
    "atomic_write",
    "brown_tagged",
    "cache_dir",
    "check_output_file",
    "corpus_from_texts",
    "data_root",
    "dataset_dir",
    "feature_specs",
    "heldout_split",
    "load_20news",
    "load_corpus",
    "load_digits",
    "load_graph",
    "load_hgb",
    "load_hgb_folder",
    "load_idx_folder",
    "load_images",
    "load_kos",
    "load_ldac",
    "load_reuters",
    "load_task",
    "load_text",
    "load_uci",
    "read_idx",
    "read_task_file",
    "read_vocab",
    "remove_pending_writes",
    "save_hgb_folder",
    "synthetic_corpus",
    "synthetic_hin",
    "synthetic_tagged",
    "synthetic_task",
    "synthetic_text",
    "tokenize",
    "write_results_dir",
    "write_scale_corpus",
]
