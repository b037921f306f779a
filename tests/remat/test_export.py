"""Exporting a plan: names from a simulation, the policy, XLA's memory analysis and FLOPs."""

import dataclasses

import numpy as np
import pytest

from jaxhin.remat import (
    BUILTIN_POLICIES,
    ExportConfig,
    PolicyCost,
    backward_start,
    compare_policies,
    dominates,
    export_step,
    lowest_budget,
    names_policy,
    peak_memory,
    plan_names,
    policy_config,
    policy_cost,
    simulate,
    trace,
)

TINY = ExportConfig(model="transformer", layers=2, batch=2, seq=16, width=32, heads=2, hidden=64)


@pytest.fixture(scope="module")
def unrolled():
    step, args = export_step(TINY, scan=False)
    return trace(step, *args)


def test_unrolled_trace_carries_one_tensor_per_layer_and_name(unrolled):
    names = [t.name for t in unrolled.tensors if t.name]
    for name in ("q", "k", "v", "probs", "context", "mlp_pre", "ln1_xhat", "ln2_rstd"):
        assert names.count(name) == TINY.layers, name
    assert 0 < backward_start(unrolled) < len(unrolled.ops) - 1


def test_plan_names_follow_the_evictions(unrolled):
    nothing = np.zeros(len(unrolled.tensors), bool)
    everything_named = {t.name for t in unrolled.tensors if t.name}
    assert set(plan_names(unrolled, nothing)) == everything_named
    evicted = nothing.copy()
    probs = [i for i, t in enumerate(unrolled.tensors) if t.name == "probs"]
    evicted[probs[0]] = True          # one layer of two: half, still kept
    assert "probs" in plan_names(unrolled, evicted)
    evicted[probs] = True
    assert "probs" not in plan_names(unrolled, evicted)


def test_a_tight_budget_plan_saves_less(unrolled):
    peak = peak_memory(unrolled)
    loose = simulate(unrolled, policy_config("coop"), peak)
    ratio, tight = lowest_budget(unrolled, policy_config("coop"), peak=peak, resolution=0.05)
    assert tight.feasible and ratio < 1
    assert set(plan_names(unrolled, tight.evicted)) < set(plan_names(unrolled, loose.evicted))


def test_policies_are_measured_by_xla_and_the_jaxpr():
    rows = compare_policies(TINY, ("q", "k", "v", "mlp_pre"))
    by = {r.policy.split(" ")[0]: r for r in rows}
    assert set(by) == {"no", "plan", *BUILTIN_POLICIES}
    assert by["no"].extra_flops == 0.0
    # Recomputing everything costs FLOPs and saves memory; saving everything is the reverse.
    assert by["nothing_saveable"].extra_flops > by["dots_saveable"].extra_flops > 0
    assert by["nothing_saveable"].temp_bytes < by["everything_saveable"].temp_bytes
    assert by["nothing_saveable"].temp_bytes <= by["plan"].temp_bytes


def test_the_exported_policy_changes_what_xla_keeps():
    step_none, args = export_step(TINY, policy=names_policy(()))
    step_all, _ = export_step(TINY, policy=names_policy(("q", "k", "v", "probs", "context",
                                                          "mlp_pre", "mlp_act", "resid")))
    none, saved = policy_cost("none", step_none, args), policy_cost("all", step_all, args)
    assert saved.flops < none.flops and saved.temp_bytes > none.temp_bytes


def test_dominates_is_pareto():
    a = PolicyCost("a", temp_bytes=10, flops=0, extra_flops=1.0)
    assert dominates(a, dataclasses.replace(a, extra_flops=2.0))
    assert dominates(a, dataclasses.replace(a, temp_bytes=11))
    assert not dominates(a, a)
    assert not dominates(a, dataclasses.replace(a, temp_bytes=9, extra_flops=5.0))


def test_export_config_validates():
    with pytest.raises(ValueError, match="divisible"):
        ExportConfig(width=30, heads=4)
    with pytest.raises(ValueError, match="export model"):
        ExportConfig(model="cnn")
