"""Pre-training as 2 local processes x 4 CPU devices (jax.distributed) gives the loss curve of
one process with 8 devices and of one device."""

from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ptm_multihost.py"


@pytest.mark.slow  # ~60 s; scripts/ptm_multihost.py runs the same commands (its docstring)
@pytest.mark.devices(8)
def test_two_processes_match_one(two_processes_match_one, run_multihost):
    one = two_processes_match_one(SCRIPT, steps=20)
    flat, _ = run_multihost(SCRIPT, "--mesh", "data=1,model=1")
    for a, b in zip(one["metrics"]["losses"], flat["metrics"]["losses"], strict=True):
        assert abs(a - b) <= 1e-5
