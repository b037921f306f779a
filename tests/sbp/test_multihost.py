"""The same training script on 2 local processes x 4 CPU devices (jax.distributed) and on one
process with 8 devices gives the same losses."""

from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sbp_multihost.py"


@pytest.mark.devices(8)
def test_two_processes_match_one(run_multihost):
    one, _ = run_multihost(SCRIPT)
    multi, stdouts = run_multihost(SCRIPT, processes=2)
    single = one["metrics"]["losses"]
    assert multi["env"]["process_count"] == 2 and multi["env"]["device_count"] == 8
    assert len(single) == 3 and single[-1] < single[0]  # it trains
    for a, b in zip(single, multi["metrics"]["losses"], strict=True):
        assert abs(a - b) <= 1e-5
    (line,) = [ln for ln in stdouts[1].splitlines() if ln.startswith("losses:")]
    assert line.split()[1:] == [f"{x:.7f}" for x in multi["metrics"]["losses"]]  # process 1
