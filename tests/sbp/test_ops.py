"""Every N-D signature of every op reproduces the single-device result."""

import jax
import numpy as np
import pytest

from jaxhin.sbp import (
    B,
    P,
    PlacementError,
    S,
    compiled_collective_bytes,
    make_mesh,
    to_global,
    to_logical,
)
from jaxhin.sbp._ops import (
    OPS,
    _compiled_op,
    apply_op,
    deduce,
    nd_signatures,
    signature_inputs,
    signature_internal_bytes,
)

pytestmark = pytest.mark.devices(8)
K = jax.random.split(jax.random.key(0), 4)
ARGS = {
    "matmul": ((8, 16), (16, 8)),
    "add": ((8, 16), (8, 16)),
    "mul": ((8, 16), (8, 16)),
    "gelu": ((8, 16),),
    "relu": ((8, 16),),
    "softmax": ((8, 16),),
    "layernorm": ((8, 16), (16,), (16,)),
    "attention": ((4, 8, 8, 4),) * 3,
    "self_attention": ((4, 8, 16), (16, 3, 8, 2), (8, 2, 16)),
    "embedding": ((16, 8), ("int", (4, 8), 16)),
    "cross_entropy": ((8, 16), ("int", (8,), 16)),
    "mean": ((8, 16),),
    "sum_last": ((8, 16),),
}


def _make(spec, key):
    if spec[0] == "int":  # integer ids: ("int", shape, upper bound)
        return jax.random.randint(key, spec[1], 0, spec[2])
    return jax.random.normal(key, spec)


def test_every_op_is_covered():
    assert set(ARGS) == set(OPS)


@pytest.mark.parametrize("axes", [{"x": 8}, {"data": 2, "model": 4}])
@pytest.mark.parametrize("op", sorted(ARGS))
def test_signatures_match_single_device(op, axes):
    mesh = make_mesh(axes)
    xs = [_make(spec, k) for spec, k in zip(ARGS[op], K, strict=False)]
    reference = np.asarray(OPS[op].fn(*xs))
    sigs = nd_signatures(op, [x.shape for x in xs], mesh)
    assert len(sigs) >= 2
    for sig in sigs:
        inputs = [to_global(x, signature_inputs(sig, i), mesh) for i, x in enumerate(xs)]
        out = apply_op(op, *inputs, signature=sig)
        np.testing.assert_allclose(np.asarray(to_logical(out)), reference, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{op} {sig}")
        fn = _compiled_op(op, sig, mesh, tuple(x.shape for x in xs), reference.ndim)
        hlo = compiled_collective_bytes(fn, *[g.data for g in inputs], num_devices=8)
        assert hlo == signature_internal_bytes(sig, reference.shape, 4, mesh), (op, sig)


@pytest.mark.parametrize("a_sbp, b_sbp, out_sbp", [
    ((S(0),), (B,), (S(0),)),
    ((B,), (S(1),), (S(1),)),
    ((S(1),), (S(0),), (P,)),
])
def test_matmul_named_signatures(a_sbp, b_sbp, out_sbp):
    mesh = make_mesh({"x": 8})
    a, b = jax.random.normal(K[0], (16, 32)), jax.random.normal(K[1], (32, 8))
    out = apply_op("matmul", to_global(a, a_sbp, mesh), to_global(b, b_sbp, mesh))
    assert out.sbp == out_sbp
    np.testing.assert_allclose(np.asarray(to_logical(out)), np.asarray(a @ b), rtol=1e-5,
                               atol=1e-5)


def test_no_signature_and_unknown_op_errors():
    mesh = make_mesh({"x": 8})
    a = to_global(np.ones((16, 32), np.float32), (S(1),), mesh)
    b = to_global(np.ones((32, 8), np.float32), (S(1),), mesh)
    with pytest.raises(PlacementError, match=r"op 'matmul': no SBP signature accepts a \(16, 32\)"
                                             r" \(S\(1\),\), b \(32, 8\) \(S\(1\),\)"):
        deduce("matmul", [a, b], names=["a", "b"])
    with pytest.raises(PlacementError, match="unknown op 'conv'"):
        nd_signatures("conv", [(8, 8)], mesh)
