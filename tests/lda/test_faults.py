"""Faults in `jaxhin lda train`: changed settings on resume, damaged and foreign checkpoints, a
second writer, unwritable outputs, SIGKILL and Ctrl-C. Each asserts the message, the exit code
and that nothing is lost or mixed."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxhin.cli import main
from jaxhin.data import load_corpus
from jaxhin.lda import LdaConfig, fit
from jaxhin.train import CheckpointError, run_folder

FAST = ["lda", "train", "--chunk", "1024", "--quiet"]


def _tiny_uci(folder) -> str:
    """A 40-document UCI corpus: reading it costs no JAX compilation, unlike `synthetic`."""
    rng = np.random.default_rng(0)
    rows = sorted({(d, w) for d in range(1, 41) for w in rng.integers(1, 61, 12)})
    (folder / "docword.tiny.txt").write_text(
        f"40\n60\n{len(rows)}\n" + "".join(f"{d} {w} {1 + (d * w) % 3}\n" for d, w in rows))
    (folder / "vocab.tiny.txt").write_text("".join(f"w{i}\n" for i in range(60)))
    return str(folder / "docword.tiny.txt")


def test_resume_with_other_settings_is_refused_naming_them(tmp_path, cli_exit_2):
    ck = str(tmp_path / "ck")
    run = [*FAST, "--corpus", _tiny_uci(tmp_path), "--topics", "4", "--checkpoint-dir", ck]
    assert main([*run, "--iters", "4"]) == 0
    err = cli_exit_2([*run, "--iters", "8", "--alpha", "0.9", "--sampler", "gibbs"]).err
    assert "lda.alpha: 0.1 there, 0.9 now" in err and "sampler: 'lightlda' there" in err
    err = cli_exit_2([*run, "--iters", "8", "--topics", "5"]).err
    assert "lda.num_topics: 4 there, 5 now" in err
    err = cli_exit_2([*run, "--iters", "2"]).err
    assert "at iteration 4, past the 2 asked for" in err
    # (test_eval_cli: the same settings resume bit-identically, with the whole trajectory)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return (load_corpus(_tiny_uci(tmp_path_factory.mktemp("uci")))[0],
            LdaConfig(num_topics=4, chunk=256))


def test_damaged_latest_step_falls_back_to_the_intact_one(small, tmp_path):
    corpus, cfg = small
    straight = fit(jax.random.key(1), corpus, cfg, 6, eval_every=2, show_progress=False)
    ck = tmp_path / "ck"
    fit(jax.random.key(1), corpus, cfg, 4, eval_every=2, checkpoint_dir=ck, checkpoint_every=2,
        show_progress=False)
    for f in (ck / "4").rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=r"step 4 does not restore .* trying an older step"):
        resumed = fit(jax.random.key(1), corpus, cfg, 6, eval_every=2, checkpoint_dir=ck,
                      checkpoint_every=2, show_progress=False)
    assert resumed.start_iter == 2
    np.testing.assert_array_equal(resumed.state.z, straight.state.z)
    assert [t["iter"] for t in resumed.trace] == [0, 2, 4, 6]
    assert sorted(p.name for p in ck.iterdir() if p.name[0].isdigit()) == ["4", "6"]
    assert any(p.name.startswith("damaged-4-") for p in ck.iterdir())
    for step in ("4", "6"):
        for f in (ck / step).rglob("*"):
            if f.is_file():
                f.write_bytes(b"")
    with pytest.raises(CheckpointError, match="no checkpoint step restores"), \
            pytest.warns(UserWarning):
        fit(jax.random.key(1), corpus, cfg, 8, checkpoint_dir=ck, show_progress=False)


def test_a_second_writer_is_refused(small, tmp_path, capsys):
    ck = tmp_path / "ck"
    corpus, cfg = small
    with run_folder(ck, {"held": "by this test"}):
        with pytest.raises(CheckpointError, match=rf"{ck} is in use by another run \(process "
                                                  rf"{os.getpid()}\)"):
            fit(jax.random.key(1), corpus, cfg, 2, checkpoint_dir=ck, show_progress=False)
    assert not any(p.name.isdigit() for p in ck.iterdir())


@pytest.mark.parametrize("flag, value, message", [
    ("--out", "missing/r.json", "argument --out: missing/r.json: folder .* does not exist"),
    ("--out", "{file}/r.json", "argument --out: .*: folder .* does not exist"),
    ("--out", ".", "argument --out: .: is a folder"),
    ("--plot", "missing/ll.png", "argument --plot: missing/ll.png: folder .* does not exist"),
    ("--checkpoint-dir", "{file}/ck", "argument --checkpoint-dir: .*: cannot create it"),
    ("--checkpoint-dir", "{file}", "argument --checkpoint-dir: .*: exists and is not a folder"),
])
def test_outputs_are_checked_before_the_work(tmp_path, cli_exit_2, monkeypatch, flag, value,
                                             message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    captured = cli_exit_2([*FAST, "--iters", "2", flag, value.format(file="a-file")])
    err = captured.err
    assert __import__("re").search(message, err), err
    assert "training on" not in captured.out


def _jaxhin(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "jaxhin", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow  # scripts/kill_resume.py kills and resumes lda and hin runs at random moments
def test_sigkill_then_rerun_gives_the_uninterrupted_result(tmp_path):
    argv = [*FAST, "--iters", "60", "--eval-every", "10", "--checkpoint-every", "2"]
    ck = tmp_path / "ck"
    run = _jaxhin(*argv, "--checkpoint-dir", str(ck), "--out", str(tmp_path / "killed.json"))
    deadline = time.monotonic() + 120
    while not (ck / "4").is_dir() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.communicate()
    assert not (tmp_path / "killed.json").exists()
    rerun = _jaxhin(*argv, "--checkpoint-dir", str(ck), "--out", str(tmp_path / "resumed.json"))
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert main([*argv, "--out", str(tmp_path / "straight.json")]) == 0
    resumed, straight = (json.loads((tmp_path / f"{n}.json").read_text())["metrics"]
                         for n in ("resumed", "straight"))
    assert resumed["resumed_from"] >= 4
    assert ([t["loglik_per_token"] for t in resumed["loglik_per_token"]]
            == [t["loglik_per_token"] for t in straight["loglik_per_token"]])
    assert resumed["top_words"] == straight["top_words"]


def test_ctrl_c_during_compilation_exits_130_in_one_line(tmp_path):
    run = _jaxhin(*FAST, "--iters", "50", "--out", str(tmp_path / "r.json"))
    time.sleep(2.5)  # imports done; compiling or sampling
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, (run.returncode, err)
    assert err.strip().splitlines()[-1] == "jaxhin: interrupted" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no results file, no temporary file
