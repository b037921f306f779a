"""The planner: exact on the benchmark graphs, agrees with HLO, beats XLA's propagation and
OneFlow's greedy rule, finds Megatron's plan, and its plans compute the right values."""

import jax
import numpy as np
import pytest

from jaxhin.ptm import ModelConfig, benchmark, megatron_sbp
from jaxhin.sbp import B, PlacementError, S
from jaxhin.sbp._planner import (
    exhaustive_plan,
    greedy_plan,
    plan,
    plan_hlo_bytes,
    run_plan,
    trace_graph,
    xla_auto_bytes,
)

pytestmark = pytest.mark.devices(8)


def _setup(name, cfg, key=None):
    fn, args, data_inputs = benchmark(name, cfg, key)
    return fn, args, {n: (S(0), B) for n in data_inputs}


@pytest.mark.parametrize("name", ["mlp", "gpt-block", "embedding-mlp"])
def test_dp_is_exact_and_agrees_with_hlo(mesh, name):
    fn, args, fixed = _setup(name, ModelConfig())
    graph = trace_graph(fn, *args)
    best = plan(graph, mesh, fixed=fixed)
    exact = exhaustive_plan(graph, mesh, fixed=fixed)
    greedy = greedy_plan(graph, mesh, fixed=fixed)
    assert best.cost == pytest.approx(exact.cost, rel=1e-12)
    assert best.cost <= greedy.cost * (1 + 1e-12)
    assert plan_hlo_bytes(best) == best.boxing_bytes
    assert best.boxing_bytes <= xla_auto_bytes(fn, best, *args)


def test_gpt_block_plan_is_megatron(mesh):
    fn, args, fixed = _setup("gpt-block", ModelConfig())
    best = plan(trace_graph(fn, *args), mesh, fixed=fixed)
    placements = dict(zip(best.graph.input_names(), best.input_sbp, strict=True))
    for name in ("w_qkv", "w_o", "w1", "w2", "ln1_scale", "ln2_bias"):
        assert placements[f"[0]['{name}']"] == megatron_sbp(name), name


@pytest.mark.parametrize("name", ["mlp", "gpt-block", "embedding-mlp"])
def test_plans_compute_the_function(mesh, name):
    cfg = ModelConfig(batch=4, seq=8, width=32, heads=4, hidden=64, vocab=64)
    fn, args, fixed = _setup(name, cfg, jax.random.key(0))
    for solver in (plan, greedy_plan):
        chosen = solver(trace_graph(fn, *args), mesh, fixed=fixed)
        (out,) = run_plan(chosen, *args)
        np.testing.assert_allclose(out, np.asarray(fn(*args)), rtol=2e-4, atol=2e-5)


def test_unknown_op_and_bad_fixed_input_are_named(mesh):
    x = jax.ShapeDtypeStruct((8, 8), np.float32)
    with pytest.raises(PlacementError, match="unknown op 'tanh' at equation 0"):
        trace_graph(lambda a: jax.numpy.tanh(a), x)
    fn, args, _ = _setup("mlp", ModelConfig())
    with pytest.raises(PlacementError, match=r"unknown inputs \['x'\]"):
        plan(trace_graph(fn, *args), mesh, fixed={"x": (S(0), B)})
