"""The actor runtime: bubble, stash, and a data x tensor x pipeline GPT step equal to one device."""

import jax
import pytest

from jaxhin.ptm import pipeline_step_check, stage_meshes
from jaxhin.sbp._pipeline import run_actors, schedule_registers


@pytest.mark.parametrize("schedule", ["gpipe", "1f1b"])
@pytest.mark.parametrize("microbatches", [4, 8, 16])
@pytest.mark.parametrize("backward_ticks", [1, 2])
def test_bubble_and_stash(schedule, microbatches, backward_ticks):
    stages = 4
    registers, priority = schedule_registers(schedule, stages, microbatches)
    tl = run_actors(stages, microbatches, registers, priority=priority,
                    backward_ticks=backward_ticks)
    assert abs(tl.bubble_fraction - (stages - 1) / (microbatches + stages - 1)) <= 0.05
    assert len(tl.tasks) == 2 * stages * microbatches
    if schedule == "gpipe":
        assert tl.peak_stash == (microbatches,) * stages
        first_backward = min(t.start for t in tl.tasks if t.kind == "B")
        assert all(t.end <= first_backward for t in tl.tasks if t.kind == "F" and t.stage == 3)
    else:
        assert max(tl.peak_stash) <= stages


def test_dependencies_hold():
    tl = run_actors(3, 5, (3, 2, 1), priority="backward")
    end = {(t.kind, t.stage, t.microbatch): t.end for t in tl.tasks}
    for t in tl.tasks:
        if t.kind == "F" and t.stage > 0:
            assert end[("F", t.stage - 1, t.microbatch)] <= t.start
        if t.kind == "B":
            upstream = ("F", 2, t.microbatch) if t.stage == 2 else ("B", t.stage + 1, t.microbatch)
            assert end[upstream] <= t.start


def test_bad_arguments():
    with pytest.raises(ValueError, match="registers"):
        run_actors(2, 4, (0, 1))
    with pytest.raises(ValueError, match="unknown schedule"):
        schedule_registers("zb", 2, 4)


@pytest.mark.devices(8)
@pytest.mark.parametrize("schedule", ["gpipe", "1f1b"])
def test_gpt_step_data_tensor_pipeline_matches_one_device(schedule):
    meshes = stage_meshes(2, 8)  # 32 sequences in 4 microbatches of 8
    assert [dict(m.shape) for m in meshes] == [{"data": 2, "model": 2}] * 2
    assert not set(meshes[0].devices.flat) & set(meshes[1].devices.flat)
    result = pipeline_step_check(jax.random.key(0), stages=2, microbatches=4, schedule=schedule)
    assert abs(result.loss - result.reference_loss) <= 1e-5
    assert result.max_grad_err <= 1e-5
    assert result.timeline.bubble_fraction == pytest.approx(1 / 5)
