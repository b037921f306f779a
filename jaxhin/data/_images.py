"""Labelled image datasets: IDX files (MNIST's format, gzipped or not) and scikit-learn's digits.

IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian header of two zero bytes, a
type code (0x08 = unsigned byte) and the number of dimensions, then one uint32 per dimension,
then the data in C order. Images are `idx3` (N, H, W), labels `idx1` (N,).
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from jaxhin.data._root import DataError

# The names MNIST's files go by: the canonical ones and the dotted variant some mirrors use.
_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "train-images.idx3-ubyte", "train-labels.idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
             "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"),
}


class ImageFormatError(DataError):
    """An image or label file that is not what its format promises; names the file."""


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A labelled image dataset with a train/test split.

    Attributes:
      name: what it is ("digits", "mnist", or the folder).
      train_images: (N, H, W) float32 in [0, 1].
      train_labels: (N,) int32 in [0, num_classes).
      test_images: (M, H, W) float32.
      test_labels: (M,) int32.
      num_classes: 1 + the largest label.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    num_classes: int

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of one image."""
        return tuple(self.train_images.shape[1:])

    def __repr__(self) -> str:
        h, w = self.shape
        return (f"ImageData({self.name!r}: {len(self.train_labels)} train + "
                f"{len(self.test_labels)} test images of {h}x{w}, {self.num_classes} classes)")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzip-compressed when its name ends in `.gz`).

    Raises:
      ImageFormatError: bad magic, a type other than unsigned byte, or a size that does not
        match the header (the message names the file and what was found).
    """
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ImageFormatError(f"{path}: cannot be read as an IDX file "
                               f"({type(err).__name__}: {err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ImageFormatError(f"{path}: not an IDX file (the first two bytes must be 0)")
    if raw[2] != 0x08:
        raise ImageFormatError(f"{path}: IDX type code 0x{raw[2]:02x}; only unsigned bytes "
                               f"(0x08) are supported")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim < 1 or len(raw) < header:
        raise ImageFormatError(f"{path}: IDX header of {ndim} dimensions is truncated")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise ImageFormatError(f"{path}: header says {dims} = {expected} bytes, file has "
                               f"{len(raw)}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _find(folder: Path, stems: tuple[str, ...]) -> Path:
    for stem in stems:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise ImageFormatError(f"{folder}: no {stems[0]}[.gz] (nor {stems[-1]}[.gz]); an IDX "
                           f"folder holds MNIST's four file names")


def load_idx_folder(folder: str | os.PathLike[str], name: str | None = None) -> ImageData:
    """Load a folder of IDX files named as MNIST's (`train-images-idx3-ubyte[.gz]`, ...).

    Any image size and any number of classes; labels must be 0..C-1 and match the images.

    Raises:
      ImageFormatError: a missing file, a malformed file, or images and labels that disagree.
    """
    folder = Path(folder)
    arrays = {}
    for split, (images_stem, labels_stem, *dotted) in _SPLITS.items():
        images_path = _find(folder, (images_stem, dotted[0]))
        images = read_idx(images_path)
        labels_path = _find(folder, (labels_stem, dotted[1]))
        labels = read_idx(labels_path)
        if images.ndim != 3:
            raise ImageFormatError(f"{images_path}: expected (N, H, W) images, got shape "
                                   f"{images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ImageFormatError(f"{labels_path}: expected {len(images)} labels (one per "
                                   f"image of {images_path.name}), got shape {labels.shape}")
        arrays[split] = (images, labels, images_path)
    if arrays["train"][0].shape[1:] != arrays["test"][0].shape[1:]:
        raise ImageFormatError(f"{folder}: train images are {arrays['train'][0].shape[1:]}, "
                               f"test images {arrays['test'][0].shape[1:]}")
    num_classes = 1 + int(max(arrays["train"][1].max(), arrays["test"][1].max()))
    return ImageData(
        name=name or str(folder),
        train_images=arrays["train"][0].astype(np.float32) / 255.0,
        train_labels=arrays["train"][1].astype(np.int32),
        test_images=arrays["test"][0].astype(np.float32) / 255.0,
        test_labels=arrays["test"][1].astype(np.int32),
        num_classes=num_classes,
    )


def load_digits(test_share: float = 1 / 3) -> ImageData:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes; no download).

    The split is fixed and stratified: within each class, the last `test_share` of its images
    in file order are the test set.
    """
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    labels = bunch.target.astype(np.int32)
    test = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        test[idx[len(idx) - round(len(idx) * test_share):]] = True
    return ImageData("digits", images[~test], labels[~test], images[test], labels[test],
                     int(labels.max()) + 1)
