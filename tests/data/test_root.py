"""Data root resolution and missing-dataset errors."""

from pathlib import Path

import pytest

from jaxhin.data import DATASETS, DatasetNotFoundError, cache_dir, data_root, dataset_dir


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JAXHIN_DATA", raising=False)
    assert data_root() == tmp_path / "home" / ".cache" / "jaxhin"
    monkeypatch.setenv("JAXHIN_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_cache_dir_precedence_and_creation(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JAXHIN_CACHE", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "jaxhin"
    monkeypatch.setenv("JAXHIN_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_missing_dataset_names_folder_origin_and_source(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXHIN_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError) as err:
        dataset_dir("DBLP")
    message = str(err.value)
    assert str(tmp_path / "hgb" / "DBLP") in message
    assert "$JAXHIN_DATA" in message
    assert "github.com/THUDM/HGB" in message


def test_partial_dataset_names_the_missing_files(tmp_path):
    folder = tmp_path / "hgb" / "ACM"
    folder.mkdir(parents=True)
    for name in ("node.dat.gz", "link.dat", "info.dat"):
        (folder / name).write_text("")
    with pytest.raises(DatasetNotFoundError, match=r"lacks label\.dat, label\.dat\.test"):
        dataset_dir("ACM", tmp_path)
    (folder / "label.dat").write_text("")
    (folder / "label.dat.test").write_text("")
    assert dataset_dir("ACM", tmp_path) == folder


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(KeyError, match="known datasets: DBLP, ACM"):
        dataset_dir("dblp-typo")


def test_every_registered_dataset_is_in_the_shared_data(shared_data):
    for name in DATASETS:
        assert isinstance(dataset_dir(name, shared_data), Path)
