"""The runtime: eviction policies on hand-built traces with known answers, and invariants on
traced programs."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxhin.remat import (
    Infeasible,
    Op,
    SimConfig,
    Tensor,
    Trace,
    lowest_budget,
    peak_memory,
    policy_config,
    simulate,
    trace,
)
from jaxhin.remat._sim import _Runtime

B = 512  # one aligned block


def hand_trace(ops, sizes, inputs=(), outputs=(), primitives=None):
    """ops: (time_s, inputs, outputs); sizes: bytes per tensor id; primitives: per op."""
    producer = {t: -1 for t in inputs}
    for k, (_, _ins, outs) in enumerate(ops):
        for t in outs:
            producer[t] = k
    tensors = tuple(Tensor(bytes=s, shape=(s // 4,), dtype="float32", producer=producer[t])
                    for t, s in enumerate(sizes))
    last_use = [-1] * len(sizes)
    for k, (_, ins, _outs) in enumerate(ops):
        for t in ins:
            last_use[t] = k
    primitives = primitives or ["op"] * len(ops)
    return Trace(ops=tuple(Op(p, tuple(i), tuple(o), 0.0, c)
                           for p, (c, i, o) in zip(primitives, ops, strict=True)),
                 tensors=tensors, inputs=tuple(inputs), outputs=tuple(outputs),
                 last_use=tuple(last_use), name="hand")


# Layout A B C D [free] when E (two blocks) is requested; recompute costs A 1, B 10, C 1, D 10.
A, Bt, C, D, E, F, G, H = range(8)
FRAGMENTED = hand_trace(
    [(1.0, [], [A]), (10.0, [], [Bt]), (1.0, [], [C]), (10.0, [], [D]),
     (0.0, [], [E]), (0.0, [E], [F]), (0.0, [A, Bt], [G]), (0.0, [C, D], [H])],
    sizes=[B, B, B, B, 2 * B, B, B, B], outputs=(G, H))


def test_dtr_evicts_scattered_tensors_coop_one_window():
    budget = 5 * B
    dtr = simulate(FRAGMENTED, policy_config("dtr", inplace=False), budget)
    # DTR: h = c / (m s) evicts A (stalest, cheap), then C (not adjacent to A or the free
    # block), then B, whose block joins A's and C's: three blocks evicted for a two-block E.
    assert dtr.feasible and dtr.evictions == 3 and dtr.eviction_events == 1
    assert dtr.evicted_used_share == pytest.approx(2 / 3)
    assert dtr.fragmentation == pytest.approx(1 / 5)
    assert dtr.recompute_s == pytest.approx(1 + 10 + 1)
    coop = simulate(FRAGMENTED, policy_config("coop", partition=False, inplace=False), budget)
    # Coop: windows of two blocks cost A+B, B+C, C+D or D+free; A+B is the cheapest.
    assert coop.feasible and coop.evictions == 2 and coop.evicted_used_share == 1.0
    assert coop.recompute_s == pytest.approx(1 + 10)
    assert np.flatnonzero(coop.evicted).tolist() == [A, Bt]
    assert coop.pieces_scanned < dtr.pieces_scanned


def test_budget_below_the_pinned_inputs_is_infeasible():
    tr = hand_trace([(1.0, [0], [1])], sizes=[4 * B, B], inputs=(0,), outputs=(1,))
    res = simulate(tr, policy_config("dtr"), 4 * B)
    assert not res.feasible and "no evictable tensor" in res.reason
    assert simulate(tr, policy_config("coop"), 5 * B).feasible


class Net(nn.Module):
    @nn.compact
    def __call__(self, x):
        for _ in range(6):
            x = nn.relu(nn.Dense(256)(x))
        return nn.Dense(10)(x)


@pytest.fixture(scope="module")
def mlp_trace():
    model = Net()
    x = jax.ShapeDtypeStruct((512, 256), jnp.float32)
    y = jax.ShapeDtypeStruct((512,), jnp.int32)
    params = jax.eval_shape(model.init, jax.random.key(0), x)
    opt = optax.sgd(0.1, momentum=0.9)
    state = jax.eval_shape(opt.init, params)

    def step(p, s, x, y):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y).mean()

        value, g = jax.value_and_grad(loss)(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, value

    return trace(step, params, state, x, y)


def test_unbounded_run_evicts_nothing(mlp_trace):
    res = simulate(mlp_trace, policy_config("dtr"))
    assert res.feasible and res.evictions == 0 and res.overhead == 0.0


def test_the_need_is_a_feasible_budget_without_eviction(mlp_trace):
    peak = peak_memory(mlp_trace)
    res = simulate(mlp_trace, policy_config("dtr"), peak)
    assert res.feasible and res.evictions == 0
    assert peak > mlp_trace.input_bytes


@pytest.mark.parametrize("policy", ["dtr", "dte", "coop"])
def test_every_op_runs_with_its_inputs_resident_within_the_budget(mlp_trace, policy):
    peak = peak_memory(mlp_trace)
    rt = _Runtime(mlp_trace, policy_config(policy), int(0.9 * peak))
    original = rt.run_op
    seen = []

    def checked(k, recompute_of=None):
        op = mlp_trace.ops[k]
        assert all(rt.resident[i] for i in op.inputs), (k, op)
        seen.append(k)
        original(k, recompute_of)

    rt.run_op = checked
    rt.run()
    rt.pool.check()
    assert rt.evictions > 0 and len(seen) > len(mlp_trace.ops)  # it did recompute
    assert rt.pool.high_water <= int(0.9 * peak)


def test_in_place_relu_reuses_its_input_block():
    # A (4 blocks) -> relu in place -> M; M -> Y (1 block).
    tr = hand_trace([(1.0, [], [0]), (1.0, [0], [1]), (1.0, [1], [2])],
                    sizes=[4 * B, 4 * B, B], outputs=(2,), primitives=["op", "max", "op"])
    assert peak_memory(tr) == 5 * B
    assert peak_memory(tr, SimConfig(partition=False, inplace=False)) == 9 * B


def test_in_place_output_is_pinned_unless_recomputable():
    # A -> relu in place -> M (kept for the end); X -> Z needs room: only M can go.
    tr = hand_trace([(1.0, [], [0]), (1.0, [0], [1]), (1.0, [], [2]), (1.0, [2], [3]),
                     (1.0, [1, 3], [4])],
                    sizes=[2 * B, 2 * B, 2 * B, 2 * B, B], outputs=(4,),
                    primitives=["op", "max", "op", "op", "op"])
    pinned = simulate(tr, policy_config("dtr", partition=False), 5 * B)
    assert not pinned.feasible
    recomputable = simulate(tr, policy_config("dtr", recomputable_inplace=True), 5 * B)
    assert recomputable.feasible and recomputable.evicted[1]
    assert recomputable.recompute_s == 2.0  # A (dead) and then M again


def test_lowest_budget_is_a_bisection_boundary(mlp_trace):
    peak = peak_memory(mlp_trace)
    config = policy_config("coop")
    ratio, res = lowest_budget(mlp_trace, config, peak=peak, resolution=0.02)
    assert res.feasible and res.budget_bytes == int(peak * ratio)
    assert not simulate(mlp_trace, config, int(peak * (ratio - 0.02))).feasible


def test_thrashing_is_reported_as_infeasible(mlp_trace):
    peak = peak_memory(mlp_trace)
    res = simulate(mlp_trace, policy_config("dtr", max_overhead=1e-6), int(0.7 * peak))
    assert not res.feasible and "thrashing" in res.reason


def test_lowest_budget_raises_when_even_the_peak_fails():
    tr = dataclasses.replace(FRAGMENTED, name="tiny")
    with pytest.raises(Infeasible, match="even at the full peak"):
        lowest_budget(tr, policy_config("dtr"), peak=B)


@pytest.mark.parametrize("bad, match", [({"policy": "lru"}, "policy"),
                                        ({"alignment": 0}, "alignment"),
                                        ({"max_overhead": 0}, "max_overhead")])
def test_sim_config_validates(bad, match):
    with pytest.raises(ValueError, match=match):
        SimConfig(**bad)
