"""Faults in `jaxhin sbp`: outputs that cannot be written are refused before any work."""

import re

import pytest


@pytest.mark.parametrize("argv, message", [
    (["pipeline", "--plot", "missing/t.png"], r"argument --plot: missing/t.png: folder .* does "
                                              r"not exist"),
    (["pipeline", "--out", "a-file/r.json"], r"argument --out: .*: folder .* does not exist"),
    (["plan", "--out", "."], r"argument --out: .: is a folder"),
])
def test_unwritable_outputs_exit_2_before_the_work(tmp_path, cli_exit_2, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    err = cli_exit_2(["sbp", *argv, "--quiet"]).err
    assert re.search(message, err), err
