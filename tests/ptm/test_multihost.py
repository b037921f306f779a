"""Pre-training as 2 local processes x 4 CPU devices (jax.distributed) gives the loss curve of
one process with 8 devices and of one device."""

from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ptm_multihost.py"


@pytest.mark.slow  # ~60 s; scripts/ptm_multihost.py runs the same commands (its docstring)
@pytest.mark.devices(8)
def test_two_processes_match_one(run_multihost):
    one, _ = run_multihost(SCRIPT)
    multi, stdouts = run_multihost(SCRIPT, processes=2)
    single = one["metrics"]["losses"]
    assert multi["env"]["process_count"] == 2 and multi["env"]["device_count"] == 8
    assert len(single) == 20 and single[-1] < single[0]  # it trains
    for a, b in zip(single, multi["metrics"]["losses"], strict=True):
        assert abs(a - b) <= 1e-5
    (line,) = [ln for ln in stdouts[1].splitlines() if ln.startswith("loss:")]
    assert line.split()[1:] == [f"{x:.7f}" for x in multi["metrics"]["losses"]]  # process 1
    flat, _ = run_multihost(SCRIPT, "--mesh", "data=1,model=1")
    for a, b in zip(single, flat["metrics"]["losses"], strict=True):
        assert abs(a - b) <= 1e-5
