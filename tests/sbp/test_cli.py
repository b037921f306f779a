"""`jaxhin sbp plan` and `jaxhin sbp pipeline` write their metrics."""

import json
import os
import subprocess
import sys

import pytest

from jaxhin.cli import main

pytestmark = pytest.mark.devices(8)


def test_plan_writes_metrics(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["sbp", "plan", "--model", "mlp", "--mesh", "data=2,model=4", "--exhaustive",
                 "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["planned_bytes"] == metrics["hlo_bytes"]
    assert metrics["planned_bytes"] <= metrics["xla_auto_bytes"]
    assert metrics["cost_s"] == pytest.approx(metrics["exhaustive_cost_s"])
    assert metrics["greedy_bytes"] >= 0 and metrics["plan_s"] > 0
    assert "matmul" in capsys.readouterr().out


def test_pipeline_writes_metrics(tmp_path):
    out, png = tmp_path / "pipe.json", tmp_path / "timeline.png"
    assert main(["sbp", "pipeline", "--stages", "4", "--microbatches", "8", "--schedule",
                 "gpipe", "--plot", str(png), "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["bubble_fraction"] == pytest.approx(metrics["theory_bubble"])
    assert metrics["max_grad_err"] <= 1e-5
    assert metrics["peak_stash"] == [8, 8, 8, 8]
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["sbp", "plan", "--mesh", "data:2"], "NAME=SIZE"),
    (["sbp", "plan", "--mesh", "data=4,model=4"], "needs 16 devices"),
    (["sbp", "pipeline", "--batch", "30", "--microbatches", "8"], "not divisible"),
    (["sbp", "pipeline", "--stages", "0"], "positive integer"),
])
def test_bad_input_exits_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_plan_on_a_plain_cpu_process_provides_its_devices(tmp_path):
    # no XLA_FLAGS: the CLI owns its process and gives it the mesh's host devices itself
    out = tmp_path / "plan.json"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    run = subprocess.run([sys.executable, "-m", "jaxhin", "sbp", "plan", "--model", "mlp",
                          "--mesh", "data=2,model=4", "--quiet", "--out", str(out)], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "on CPU using 8 host devices" in run.stderr
    assert json.loads(out.read_text())["env"]["device_count"] == 8
