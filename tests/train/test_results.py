"""The results JSON: schema, JSON conversion, atomic write."""

import dataclasses
import json
import shutil
import subprocess

import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.train import RESULT_KEYS, make_results, progress, to_jsonable, write_results
from jaxhin.train._results import source_revision


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 1e-3
    seeds: tuple[int, ...] = (0, 1)


def test_make_and_write_results(tmp_path):
    results = make_results(system="hin", command="train", config=Config(),
                           metrics={"f1": jnp.float32(0.5), "per_seed": np.arange(2)}, wall_s=1.5)
    path = write_results(tmp_path / "r.json", results)
    loaded = json.loads(path.read_text())
    assert tuple(loaded) == RESULT_KEYS
    assert loaded["config"] == {"lr": 1e-3, "seeds": [0, 1]}
    assert loaded["metrics"] == {"f1": 0.5, "per_seed": [0, 1]}
    assert loaded["env"]["device_count"] == 8


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_results_name_the_commit_they_were_measured_on(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    assert source_revision(tmp_path) is None  # not a git work tree
    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit",
        "-q", "-m", "one")
    assert source_revision(tmp_path) == {"commit": git("rev-parse", "HEAD"), "dirty": False}
    (tmp_path / "new.py").write_text("")  # untracked: still the commit's code
    assert not source_revision(tmp_path)["dirty"]
    installed = tmp_path / ".venv" / "jaxhin"  # e.g. a wheel installed in a venv in the clone
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    assert source_revision(installed) is None
    (tmp_path / "code.py").write_text("x = 2\n")
    assert source_revision(tmp_path)["dirty"]
    # the record of a run carries the checkout's revision (None for an installed wheel)
    record = make_results(system="hin", command="train", config={}, metrics={}, wall_s=0.0)
    assert record["env"]["source"] == source_revision()


def test_non_finite_and_unknown_values():
    assert to_jsonable({"a": float("nan"), "b": (1, 2.0)}) == {"a": None, "b": [1, 2.0]}
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_incomplete_results_are_refused(tmp_path):
    with pytest.raises(ValueError, match="lack keys"):
        write_results(tmp_path / "r.json", {"system": "x"})
    assert not list(tmp_path.iterdir())


def test_progress_disabled_passes_items_through():
    assert list(progress(range(3), enabled=False)) == [0, 1, 2]
