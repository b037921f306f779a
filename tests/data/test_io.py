"""atomic_write leaves either the old file or the complete new one, never a half."""

import pytest

from jaxhin.data import atomic_write


def test_success_replaces_file(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    with atomic_write(path) as f:
        f.write("new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_failure_keeps_old_file_and_removes_temp(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(path, "wb") as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_missing_folder_and_bad_mode(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"), atomic_write(tmp_path / "no" / "x"):
        pass
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "a"):
        pass
