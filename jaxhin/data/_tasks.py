"""Sentence-classification tasks: files of `<label> <sentence>` lines, the Kim (2014) set from
the data root by name, and a synthetic task with a known rule (the built-in default).

A task has train, dev and test splits. Files that come with only a training set (CR, MR,
MPQA) are split by a seed: `dev_share` and `test_share` of the lines, drawn without
replacement, the rest for training.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from jaxhin.data._root import DataError, dataset_dir

# name -> (train, dev, test) files under the data root's text/sentence-classification
# (None: split by seed). SST-1/SST-2 are the sentence-level standard splits.
TASKS = {
    "synthetic": None,
    "sst2": ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"),
    "sst1": ("stsa.fine.train", "stsa.fine.dev", "stsa.fine.test"),
    "cr": ("custrev.all", None, None),
    "mr": ("rt-polarity.all", None, None),
    "mpqa": ("mpqa.all", None, None),
}


class TaskFormatError(DataError):
    """A task file line that is not `<integer label> <sentence>`."""


@dataclasses.dataclass(frozen=True)
class Split:
    """Labels (N,) int32 in 0..C-1 and their sentences."""

    labels: np.ndarray
    texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)


@dataclasses.dataclass(frozen=True)
class TaskData:
    """A classification task: three splits, the original label of each class index, where it
    came from, and how dev/test were made ("files" or "seed <s>")."""

    name: str
    train: Split
    dev: Split
    test: Split
    label_names: tuple[str, ...]
    split: str
    skipped: int = 0

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __repr__(self) -> str:
        return (f"TaskData({self.name!r}: {len(self.train)} train, {len(self.dev)} dev, "
                f"{len(self.test)} test, {self.num_classes} classes, split by {self.split}"
                + (f", {self.skipped} label-only lines skipped" if self.skipped else "") + ")")


def read_task_file(path: str | os.PathLike[str]) -> tuple[list[str], list[str], list[int]]:
    """Labels (as written), sentences, and the numbers of lines skipped because they hold a
    label and no sentence (the Kim (2014) CR and MPQA files have a few), of a `<label>
    <sentence>` file. Blank lines are ignored. UTF-8, else Latin-1 (MR's rt-polarity is).

    Raises:
      DataError: the file is missing.
      TaskFormatError: a line that does not start with an integer label (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such task file; expected lines of `<label> <sentence>`")
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    labels, texts, skipped = [], [], []
    # Split on \n and \r only: str.splitlines would also break lines at Latin-1's NEL (0x85).
    for n, line in enumerate(content.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        line = line.strip(" \t")
        if not line:
            continue
        label, _, text = line.partition(" ")
        if not label.lstrip("-").isdigit():
            raise TaskFormatError(f"{path}, line {n}: expected `<integer label> <sentence>`, "
                                  f"got {line[:60]!r}")
        if not text.strip():
            skipped.append(n)
            continue
        labels.append(str(int(label)))
        texts.append(text.strip())
    if not texts:
        raise TaskFormatError(f"{path}: no `<label> <sentence>` lines")
    return labels, texts, skipped


def _split(labels: list[str], texts: list[str], index: dict[str, int], path: Path,
           train_path: Path) -> Split:
    for n, lab in enumerate(labels):
        if lab not in index:
            raise TaskFormatError(f"{path}: label {lab} (entry {n + 1}) never occurs in the "
                                  f"training file {train_path}")
    return Split(np.asarray([index[lab] for lab in labels], np.int32), tuple(texts))


def load_task(name: str | os.PathLike[str], *, dev_file: str | os.PathLike[str] | None = None,
              test_file: str | os.PathLike[str] | None = None, seed: int = 0,
              dev_share: float = 0.1, test_share: float = 0.1,
              root: str | os.PathLike[str] | None = None) -> TaskData:
    """A sentence-classification task by name or file.

    Args:
      name: "synthetic" (`synthetic_task(seed)`), a name of `TASKS` (read from the data root's
        `text/sentence-classification`), or a `<label> <sentence>` training file.
      dev_file, test_file: held-out files for a training file; where absent, `dev_share` and
        `test_share` of the training lines are held out by `seed`.

    Raises:
      DataError, TaskFormatError, DatasetNotFoundError: as `read_task_file` and `dataset_dir`;
        a dev or test label the training file never has.
    """
    text = os.fspath(name)
    if not 0 < dev_share < 1 or not 0 < test_share < 1 or dev_share + test_share >= 1:
        raise ValueError(f"dev_share and test_share must be in (0, 1) with a sum below 1, got "
                         f"{dev_share} and {test_share}")
    if text == "synthetic":
        return synthetic_task(seed)
    if text.lower() in TASKS:
        folder = dataset_dir("sentence-classification", root)
        files = TASKS[text.lower()]
        train_path = folder / files[0]
        dev_file = dev_file or (folder / files[1] if files[1] else None)
        test_file = test_file or (folder / files[2] if files[2] else None)
        task_name = text.lower()
    else:
        train_path = Path(text)
        if not train_path.is_file():
            raise DataError(f"task {text!r}: expected one of {', '.join(TASKS)} or an existing "
                            f"file of `<label> <sentence>` lines")
        task_name = train_path.name
    labels, texts, skipped = read_task_file(train_path)
    names = sorted(set(labels), key=int)
    index = {lab: i for i, lab in enumerate(names)}
    if len(names) < 2:
        raise TaskFormatError(f"{train_path}: one label ({names[0]}) only; a classification "
                              f"task needs two or more")
    held: dict[str, Split] = {}
    rng = np.random.default_rng(seed)  # host-side data split, not a model's randomness
    order = rng.permutation(len(texts))
    cut = {"test": round(test_share * len(texts)), "dev": round(dev_share * len(texts))}
    taken = 0
    for part, file in (("test", test_file), ("dev", dev_file)):
        if file is not None:
            file_labels, file_texts, file_skipped = read_task_file(file)
            skipped += file_skipped
            held[part] = _split(file_labels, file_texts, index, Path(file), train_path)
        else:
            pick = order[taken:taken + cut[part]]
            taken += cut[part]
            held[part] = _split([labels[i] for i in pick], [texts[i] for i in pick], index,
                                train_path, train_path)
    keep = np.sort(order[taken:])
    train = _split([labels[i] for i in keep], [texts[i] for i in keep], index, train_path,
                   train_path)
    how = "files" if dev_file is not None and test_file is not None else f"seed {seed}"
    return TaskData(task_name, train, held["dev"], held["test"], tuple(names), how,
                    len(skipped))


def synthetic_task(seed: int = 0, *, sentences: int = 2000, vocab: int = 300, cues: int = 20,
                   noise: float = 0.05) -> TaskData:
    """Sentiment-like sentences with a known rule: each sentence mixes neutral words with cue
    words of two polarities; its label is the polarity with more cues, flipped with
    probability `noise` (so the best possible accuracy is 1 - noise). Splits 80/10/10."""
    rng = np.random.default_rng(seed)  # host-side data generation, not a model's randomness
    words = [f"w{i}" for i in range(vocab)]
    pos, neg, neutral = words[:cues], words[cues:2 * cues], words[2 * cues:]
    labels, texts = [], []
    for _ in range(sentences):
        length = int(rng.integers(6, 20))
        n_pos, n_neg = rng.choice([(2, 1), (1, 2), (3, 1), (1, 3), (2, 0), (0, 2)])
        toks = list(rng.choice(neutral, length))
        toks += list(rng.choice(pos, n_pos)) + list(rng.choice(neg, n_neg))
        rng.shuffle(toks)
        label = int(n_pos > n_neg)
        if rng.random() < noise:
            label = 1 - label
        labels.append(label)
        texts.append(" ".join(toks))
    labels = np.asarray(labels, np.int32)
    n_test = n_dev = sentences // 10

    def part(a, b):
        return Split(labels[a:b], tuple(texts[a:b]))

    return TaskData("synthetic", part(n_test + n_dev, sentences), part(n_test, n_test + n_dev),
                    part(0, n_test), ("0", "1"), f"seed {seed}")


def synthetic_tagged(seed: int = 0, *, sentences: int = 4000) -> list[list[tuple[str, str]]]:
    """Word-tagged sentences with known tags, the built-in default for part-of-speech-style
    probing: the words of `synthetic_task`'s sentences, each tagged "pos", "neg" (its cue
    polarity) or "neutral"."""
    task = synthetic_task(seed, sentences=sentences, noise=0.0)
    cues = 20     # synthetic_task's default: w0-w19 positive, w20-w39 negative

    def tag(word: str) -> str:
        i = int(word[1:])
        return "pos" if i < cues else "neg" if i < 2 * cues else "neutral"

    texts = task.test.texts + task.dev.texts + task.train.texts
    return [[(w, tag(w)) for w in t.split()] for t in texts]
