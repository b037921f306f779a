"""Dataset names to data: one function per kind, shared by the CLI, scripts and notebooks.

`load_graph("ACM")` / `load_graph("path/to/folder")` and `load_corpus("kos")` /
`load_corpus("path/docword.x.txt.gz")` accept a built-in name (`"synthetic"`, a generator with
known ground truth), a registered dataset (read from the data root) or a path.

Example:
  >>> data = load_graph("synthetic")            # no files needed
  >>> corpus, truth = load_corpus("synthetic", seed=0)
"""

from __future__ import annotations

import os
from pathlib import Path

from jaxhin.data._corpora import (
    Corpus,
    SyntheticTruth,
    load_20news,
    load_kos,
    load_ldac,
    load_reuters,
    load_uci,
    synthetic_corpus,
)
from jaxhin.data._hgb import HgbData, load_hgb, load_hgb_folder
from jaxhin.data._images import ImageData, load_digits, load_idx_folder
from jaxhin.data._root import DataError
from jaxhin.data._synthetic_hin import synthetic_hin

GRAPHS = ("synthetic", "DBLP", "ACM", "IMDB")
CORPORA = ("synthetic", "kos", "reuters", "20news")
IMAGES = ("digits", "mnist")


class DatasetNameError(DataError):
    """A dataset argument that is neither a known name nor an existing path."""


def load_graph(name: str | os.PathLike[str], *, data_dir: str | os.PathLike[str] | None = None,
               root: str | os.PathLike[str] | None = None) -> HgbData:
    """A heterogeneous graph by name or folder.

    Args:
      name: "synthetic" (`synthetic_hin` with key 0), "DBLP", "ACM", "IMDB" (from
        `<root>/hgb/<name>`, or `<data_dir>/<name>` when `data_dir` is given), or a folder in
        HGB format.
      data_dir: a folder holding HGB dataset folders, instead of the data root's `hgb/`.
      root: the data root (default `$JAXHIN_DATA`, else `~/.cache/jaxhin`).

    Raises:
      DatasetNameError: `name` is none of these.
      DatasetNotFoundError, FileNotFoundError, HgbFormatError: as `load_hgb_folder`.
    """
    text = os.fspath(name)
    if text == "synthetic":
        import jax

        return synthetic_hin(jax.random.key(0))[0]
    if text in GRAPHS:
        if data_dir is not None:
            return load_hgb_folder(Path(data_dir) / text, name=text)
        return load_hgb(text, root)
    if Path(text).is_dir():
        return load_hgb_folder(text)
    raise DatasetNameError(f"dataset {text!r}: expected one of {', '.join(GRAPHS)} or an "
                           f"existing folder in HGB format")


def load_corpus(name: str | os.PathLike[str], *, vocab: str | os.PathLike[str] | None = None,
                seed: int = 0, root: str | os.PathLike[str] | None = None
                ) -> tuple[Corpus, SyntheticTruth | None]:
    """A topic-model corpus by name or file, and its planted truth when it is synthetic.

    Args:
      name: "synthetic" (`synthetic_corpus` with key `seed`), "kos", "reuters", "20news" (the
        training half), a UCI `docword.NAME.txt[.gz]` file (with `vocab.NAME.txt` beside it),
        or an LDA-C file (with `vocab`).
      vocab: the vocabulary file of an LDA-C corpus.
      seed: the synthetic corpus's seed.
      root: the data root for the named corpora.

    Raises:
      DatasetNameError: `name` is none of these, or a UCI file lacks its vocabulary.
      DatasetNotFoundError, CorpusError: as the loaders.
    """
    text = os.fspath(name)
    if text == "synthetic":
        import jax

        return synthetic_corpus(jax.random.key(seed))
    if text in CORPORA:
        return {"kos": load_kos, "reuters": load_reuters, "20news": load_20news}[text](root), None
    path = Path(text)
    if not path.is_file():
        raise DatasetNameError(f"corpus {text!r}: expected one of {', '.join(CORPORA)} or an "
                               f"existing corpus file")
    if vocab is not None:
        return load_ldac(path, vocab), None
    stem = path.name.removesuffix(".gz").removesuffix(".txt")
    if not stem.startswith("docword."):
        raise DatasetNameError(f"corpus {path}: a UCI file is named docword.NAME.txt[.gz]; for "
                               f"LDA-C give its vocabulary file too")
    vocab_path = path.parent / f"vocab.{stem.removeprefix('docword.')}.txt"
    if not vocab_path.is_file():
        raise DatasetNameError(f"corpus {path}: no vocabulary {vocab_path} beside it")
    return load_uci(path, vocab_path), None


def load_images(name: str | os.PathLike[str], *,
                root: str | os.PathLike[str] | None = None) -> ImageData:
    """A labelled image dataset by name or folder.

    Args:
      name: "digits" (scikit-learn's bundled 8x8 digits, no files needed), "mnist" (from
        `<root>/images/MNIST`), or a folder of IDX files named as MNIST's.
      root: the data root for "mnist".

    Raises:
      DatasetNameError: `name` is none of these.
      DatasetNotFoundError, ImageFormatError: as `dataset_dir` and `load_idx_folder`.
    """
    from jaxhin.data._root import dataset_dir

    text = os.fspath(name)
    if text == "digits":
        return load_digits()
    if text == "mnist":
        return load_idx_folder(dataset_dir("mnist", root), name="mnist")
    if Path(text).is_dir():
        return load_idx_folder(text)
    raise DatasetNameError(f"dataset {text!r}: expected one of {', '.join(IMAGES)} or an "
                           f"existing folder of IDX files")
