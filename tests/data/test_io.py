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


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_follow_the_umask(tmp_path, umask):
    import os

    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / "r.json") as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_pending_writes_are_removed_on_an_abrupt_exit(tmp_path):
    from jaxhin.data import remove_pending_writes

    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "r.json") as f:
        f.write("half")
        assert len(list(tmp_path.iterdir())) == 1  # the temporary file
        remove_pending_writes()  # what Ctrl-C in the CLI does before it exits
        assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.iterdir()) == []
