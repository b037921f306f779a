"""Every boxing transition reproduces the value, and its predicted bytes are the HLO's."""

import itertools
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import jax
import numpy as np
import pytest

from jaxhin.sbp import (
    B,
    P,
    Partial,
    S,
    boxing_bytes,
    boxing_fn,
    hlo_collective_bytes,
    make_mesh,
    plan_boxing,
    redistribute,
    to_global,
    to_logical,
)

pytestmark = pytest.mark.devices(8)
CANDIDATES = (B, P, Partial("max"), S(0), S(1))


def _placements(k):
    for sbp in itertools.product(CANDIDATES, repeat=k):
        if len({e.op for e in sbp if isinstance(e, Partial)}) <= 1:
            yield sbp


# Each transition is a compile (~0.07 s): the 1-D mesh and the 2 x 4 mesh check all of them (the
# latter 506), the 4 x 2 mesh, which runs the same code with the sizes swapped, a fixed sample.
@pytest.mark.parametrize("axes, sample", [({"x": 8}, None), ({"data": 2, "model": 4}, None),
                                          ({"a": 4, "b": 2}, 100)])
def test_every_transition_reproduces_value_and_hlo_bytes(axes, sample):
    mesh = make_mesh(axes)
    x = jax.random.normal(jax.random.key(1), (16, 8))
    placements = list(_placements(len(axes)))
    pairs = [(src, dst) for src in placements for dst in placements if src != dst]
    if sample:
        keep = np.random.default_rng(0).choice(len(pairs), sample, replace=False)
        pairs = [pairs[i] for i in sorted(keep)]
    globals_ = {src: to_global(x, src, mesh) for src in placements}

    def compile_(pair):
        src, dst = pair
        return boxing_fn(src, dst, x.shape, x.dtype, mesh).lower(globals_[src].data).compile()

    # XLA compiles outside the GIL: two threads take ~2/3 of the time on two cores. Chunks
    # stay within boxing_fn's cache (256), so redistribute finds the compiled executables.
    checked = 0
    with ThreadPoolExecutor(2) as pool:
        for start in range(0, len(pairs), 128):
            chunk = pairs[start:start + 128]
            for (src, dst), executable in zip(chunk, pool.map(compile_, chunk), strict=True):
                h = redistribute(globals_[src], dst)
                assert h.sbp == dst
                np.testing.assert_allclose(np.asarray(to_logical(h)), np.asarray(x), rtol=1e-5,
                                           atol=1e-6, err_msg=f"{src} -> {dst}")
                predicted = boxing_bytes(src, dst, x.shape, x.dtype, mesh)
                hlo = hlo_collective_bytes(executable.as_text(), num_devices=8)
                assert predicted == hlo, (src, dst, float(predicted), float(hlo))
                checked += 1
    assert checked == (sample or len(placements) * (len(placements) - 1))


@pytest.mark.parametrize("src, dst, collective, factor", [
    # OneFlow Table 2 on p devices, |T| the logical bytes
    ((P,), (B,), "all-reduce", lambda p: 2 * (p - 1)),
    ((P,), (S(0),), "reduce-scatter", lambda p: p - 1),
    ((S(0),), (B,), "all-gather", lambda p: p - 1),
    ((S(0),), (S(1),), "all-to-all", lambda p: Fraction(p - 1, p)),
    ((B,), (S(1),), None, lambda p: 0),
    ((B,), (P,), None, lambda p: 0),
    ((S(1),), (P,), None, lambda p: 0),
])
def test_one_d_costs_follow_oneflow_table(src, dst, collective, factor):
    mesh = make_mesh({"x": 8})
    (step,) = plan_boxing(src, dst, (16, 8), np.float32, mesh)
    assert step.collective == collective
    assert step.bytes == factor(8) * 16 * 8 * 4


def test_nested_split_goes_through_broadcast_inner_first():
    mesh = make_mesh("data=2,model=4")
    steps = plan_boxing((S(0), S(0)), (S(1), S(0)), (16, 8), np.float32, mesh)
    assert [(s.axis, s.collective) for s in steps] == [
        ("model", "all-gather"), ("data", "all-gather"), ("data", None), ("model", None)]
