"""The same training script on 2 local processes x 4 CPU devices (jax.distributed) and on one
process with 8 devices gives the same losses."""

from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sbp_multihost.py"


@pytest.mark.devices(8)
def test_two_processes_match_one(two_processes_match_one):
    two_processes_match_one(SCRIPT, steps=3)
