"""Test harness: 8 fake CPU devices, strict rank promotion, data root, markers.

XLA_FLAGS must be set before JAX starts a backend, so this file sets it at import time, before
anything imports jax. Notebooks executed by nbmake inherit the environment (so they see the same
8 devices and run in smoke mode).
"""

import os
from pathlib import Path

_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
    _flags = f"{_flags} --xla_force_host_platform_device_count=8"
# On two cores the suite's time is mostly XLA compiling small programs, and most of a CPU
# compile is LLVM optimising the generated code. Unoptimised code computes the same functions;
# the tests check results, not speed (that is `scripts/bench_*.py`, which run fully optimised).
# A clean-checkout `pytest` of tests/lda/test_stream.py and tests/hin/test_train.py: 85 s -> 53 s.
if "xla_backend_optimization_level" not in _flags:
    _flags = f"{_flags} --xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = _flags.strip()
os.environ.setdefault("JAXHIN_SMOKE", "1")

# One persistent compilation cache for the whole run, shared by the xdist workers, the CLI
# subprocesses and the notebook kernels (they inherit the environment): many cases compile the
# same programs (a CLI test and its in-process twin, a notebook and its module's tests), and on
# two cores compiling is most of the suite's time. It lives in the checkout (ignored by git), so
# a clean checkout starts empty and a developer's reruns start warm.
_REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_REPO / ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

_SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if _SHARED_DATA.is_dir():
    os.environ.setdefault("JAXHIN_DATA", str(_SHARED_DATA))

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--runslow")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --runslow"))
        if (marker := item.get_closest_marker("devices")) is not None:
            needed = marker.args[0]
            if jax.device_count() < needed:
                item.add_marker(pytest.mark.skip(reason=f"needs {needed} devices"))
        if "gpu" in item.keywords and jax.default_backend() != "gpu":
            item.add_marker(pytest.mark.skip(reason="needs a GPU"))


@pytest.fixture
def cli_exit_2(capsys):
    """`cli_exit_2(argv)` runs the CLI expecting bad-input handling: exit status 2 and one line
    on stderr with no traceback. Returns the captured (out, err)."""

    def run(argv):
        from jaxhin.cli import main

        with pytest.raises(SystemExit) as exit_:
            main(argv)
        captured = capsys.readouterr()
        assert exit_.value.code == 2, captured.err
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
        return captured

    return run


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data root; skips the test where it is absent (a fresh machine)."""
    if not _SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {_SHARED_DATA}")
    return _SHARED_DATA


_TINY_INFO = ('{"node.dat": {"node type": {"0": "a", "1": "b"}},'
              ' "link.dat": {"link type": {"0": {"start": 0, "end": 1, "meaning": "a-b"}}},'
              ' "label.dat": {"node type": {"0": {"0": "x", "1": "y"}}}}')


@pytest.fixture
def write_hgb(tmp_path):
    """Write a small dataset in HGB format (target type a with attributes, type b, link a-b)
    into `tmp_path / name` and return the folder; each file's lines can be replaced."""

    def write(name="T", *, nodes="0\tn0\t0\t1,0\n1\tn1\t0\t0,1\n2\t\t1\n",
              links="0\t2\t0\t1.0\n1\t2\t0\t1.0\n", labels="0\tn0\t0\t0\n",
              test="1\tn1\t0\t1\n") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for file, text in (("info.dat", _TINY_INFO), ("node.dat", nodes), ("link.dat", links),
                           ("label.dat", labels), ("label.dat.test", test)):
            (folder / file).write_text(text)
        return folder

    return write


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _script_env(devices: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


@pytest.fixture
def run_multihost(tmp_path):
    """Run a `scripts/*_multihost.py` as `processes` local processes sharing 8 CPU devices
    (jax.distributed on 127.0.0.1); returns (process 0's --out JSON, every process's stdout)."""
    import json
    import subprocess
    import sys

    def run(script, *args, processes=1):
        out = tmp_path / f"{Path(script).stem}-{processes}.json"
        if processes == 1:
            done = subprocess.run([sys.executable, str(script), *args, "--out", str(out)],
                                  env=_script_env(8), capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            return json.loads(out.read_text()), [done.stdout]
        coordinator = f"127.0.0.1:{_free_port()}"
        procs = [subprocess.Popen(
            [sys.executable, str(script), *args, "--processes", str(processes),
             "--process-id", str(i), "--local-devices", str(8 // processes),
             "--coordinator", coordinator, *(["--out", str(out)] if i == 0 else [])],
            env=_script_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(processes)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err[-2000:]
        return json.loads(out.read_text()), [o for o, _ in outs]

    return run


@pytest.fixture
def two_processes_match_one(run_multihost):
    """`check(script, steps)`: a `scripts/*_multihost.py` run as 1 process x 8 devices and as
    2 processes x 4 gives the same training losses (1e-5), they fall, and process 1 prints
    them too (its `losses:` line). Returns the 1-process record."""

    def check(script, steps):
        one, _ = run_multihost(script)
        multi, stdouts = run_multihost(script, processes=2)
        single = one["metrics"]["losses"]
        assert multi["env"]["process_count"] == 2 and multi["env"]["device_count"] == 8
        assert len(single) == steps and single[-1] < single[0]  # it trains
        for a, b in zip(single, multi["metrics"]["losses"], strict=True):
            assert abs(a - b) <= 1e-5
        (line,) = [ln for ln in stdouts[1].splitlines() if ln.startswith("losses:")]
        assert line.split()[1:] == [f"{x:.7f}" for x in multi["metrics"]["losses"]]
        return one

    return check
