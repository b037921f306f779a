"""The CLI: seven groups, the --out schema, and exit status 2 with one line on bad input."""

import json
import subprocess
import sys

import pytest

from jaxhin import CAPABILITIES
from jaxhin.cli import main
from jaxhin.train import RESULT_KEYS

GROUPS = ("info", "hin", "lda", "remat", "sbp", "ptm", "structure")


def test_help_lists_the_seven_groups(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "{" + ",".join(GROUPS) + "}" in out
    for group in GROUPS:
        assert f"\n    {group} " in out


def test_info_writes_the_results_schema(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main(["info", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "hin" in printed and "in progress (issue #32)" in printed
    results = json.loads(out.read_text())
    assert set(results) == set(RESULT_KEYS)
    assert (results["system"], results["command"]) == ("jaxhin", "info")
    assert {"jaxhin", "jax", "platform", "device_count"} <= set(results["env"])
    assert results["env"]["device_count"] == 8
    assert results["env"]["platform"] == "cpu"
    assert len(results["metrics"]["devices"]) == 8
    assert [c["system"] for c in results["metrics"]["capabilities"]] == [
        c.system for c in CAPABILITIES]
    assert results["wall_s"] > 0
    assert not list(tmp_path.glob(".x.json.*"))  # no temp file left behind


@pytest.mark.parametrize("argv, expected", [
    (["info", "--bogus"], "unrecognized arguments: --bogus"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    ([], "no command given"),
    (["info", "--out", "/nonexistent-dir/x.json"], "folder /nonexistent-dir does not exist"),
    (["info", "--out", "."], "is a folder"),
    (["remat"], "no command given"),
    (["ptm"], "no command given"),
    (["lda", "train", "--topics", "1"], "--topics must be >= 2, got 1"),
    (["lda", "train", "--corpus", "nosuch"], "expected one of synthetic, kos, reuters, 20news"),
    (["hin"], "no command given"),
])
def test_bad_input_exits_2_with_one_line(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    err_lines = captured.err.strip().splitlines()
    assert len(err_lines) == 1, captured.err
    assert expected in err_lines[0]
    assert captured.out == ""


@pytest.mark.parametrize("row", CAPABILITIES, ids=lambda row: row.system)
def test_group_help_lists_commands_or_says_planned(row, capsys):
    from jaxhin.cli import system_commands

    with pytest.raises(SystemExit) as exit_:
        main([row.system, "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    commands = system_commands(row.system)
    assert bool(commands) == (not row.status.startswith("planned"))
    if commands:
        assert all(cmd.name in out for cmd in commands)
    else:
        assert "No commands yet" in out


def test_python_dash_m_and_console_script(tmp_path):
    out = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "jaxhin", "info", "--out", str(out)],
                         capture_output=True, text=True, check=True)
    assert "jaxhin" in run.stdout
    assert json.loads(out.read_text())["command"] == "info"
    bad = subprocess.run([sys.executable, "-m", "jaxhin", "info", "--bogus"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
