"""The same training script on 2 local processes x 4 CPU devices (jax.distributed) and on one
process with 8 devices gives the same losses."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sbp_multihost.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int | None):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


@pytest.mark.devices(8)
def test_two_processes_match_one(tmp_path):
    one = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "one.json")],
                         env=_env(8), capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    coordinator = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen(
        [sys.executable, str(SCRIPT), "--processes", "2", "--process-id", str(i),
         "--local-devices", "4", "--coordinator", coordinator,
         *(["--out", str(tmp_path / "two.json")] if i == 0 else [])],
        env=_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    single = json.loads((tmp_path / "one.json").read_text())["metrics"]["losses"]
    multi = json.loads((tmp_path / "two.json").read_text())
    assert multi["env"]["process_count"] == 2 and multi["env"]["device_count"] == 8
    assert len(single) == 3 and single[-1] < single[0]  # it trains
    for a, b in zip(single, multi["metrics"]["losses"], strict=True):
        assert abs(a - b) <= 1e-5
    (line,) = [ln for ln in outs[1][0].splitlines() if ln.startswith("losses:")]
    assert line.split()[1:] == [f"{x:.7f}" for x in multi["metrics"]["losses"]]  # process 1
