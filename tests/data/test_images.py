"""Image loaders: MNIST's real counts, any IDX folder (gzipped or not, any size and classes),
and errors that name the file."""

import gzip

import numpy as np
import pytest

from jaxhin.data import DatasetNameError, ImageFormatError, load_images, read_idx


def test_mnist_matches_its_source(shared_data):
    mnist = load_images("mnist", root=shared_data)
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28,
                                                                                         28)
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                        1028, 974, 1009]
    assert 0.0 <= mnist.train_images.min() and mnist.train_images.max() == 1.0


def test_digits_is_built_in_and_stratified():
    digits = load_images("digits")
    assert digits.shape == (8, 8) and digits.num_classes == 10
    assert len(digits.train_labels) + len(digits.test_labels) == 1797
    assert np.bincount(digits.test_labels).min() >= 55
    assert digits.train_images.max() == 1.0


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, shape=(12, 10), classes=3, n=(30, 9), gz=True, dotted=False):
    """A small dataset in MNIST's file layout; returns the labels written."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    written = {}
    for split, count in zip(("train", "t10k"), n, strict=True):
        images = rng.integers(0, 256, (count, *shape))
        labels = np.arange(count) % classes
        sep = "." if dotted else "-"
        for kind, array in (("images", images), ("labels", labels)):
            ndim = 3 if kind == "images" else 1
            name = f"{split}-{kind}{sep}idx{ndim}-ubyte" + (".gz" if gz else "")
            data = _idx(array)
            (folder / name).write_bytes(gzip.compress(data) if gz else data)
        written[split] = (images, labels)
    return written


@pytest.mark.parametrize("gz, dotted", [(True, False), (False, False), (False, True)])
def test_any_idx_folder_loads(tmp_path, gz, dotted):
    written = write_idx_folder(tmp_path / "imgs", gz=gz, dotted=dotted)
    data = load_images(tmp_path / "imgs")
    assert data.shape == (12, 10) and data.num_classes == 3
    np.testing.assert_allclose(data.train_images * 255, written["train"][0], atol=1e-4)
    np.testing.assert_array_equal(data.test_labels, written["t10k"][1])


def test_idx_errors_name_the_file(tmp_path):
    write_idx_folder(tmp_path / "a", gz=False)
    bad = tmp_path / "a" / "train-labels-idx1-ubyte"
    bad.write_bytes(b"\x00\x01\x08\x01" + bytes(8))
    with pytest.raises(ImageFormatError, match="train-labels-idx1-ubyte: not an IDX file"):
        load_images(tmp_path / "a")
    bad.write_bytes(_idx(np.arange(29)))
    with pytest.raises(ImageFormatError, match="expected 30 labels"):
        load_images(tmp_path / "a")
    bad.write_bytes(_idx(np.arange(30))[:-3])
    with pytest.raises(ImageFormatError, match="header says \\(30,\\)"):
        read_idx(bad)
    bad.unlink()
    with pytest.raises(ImageFormatError, match="no train-labels-idx1-ubyte"):
        load_images(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.gz").write_bytes(b"not gzip")
    with pytest.raises(ImageFormatError, match=r"x\.gz: cannot be read"):
        read_idx(tmp_path / "b" / "x.gz")


def test_unknown_name_lists_the_choices():
    with pytest.raises(DatasetNameError, match="expected one of digits, mnist"):
        load_images("nosuch")
