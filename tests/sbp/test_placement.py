"""Placements: parsing, PartitionSpec round trips, global tensors, and errors that name things."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec

from jaxhin.sbp import (
    B,
    P,
    Partial,
    PlacementError,
    S,
    check_placement,
    from_partition_spec,
    parse_mesh,
    parse_sbp,
    redistribute,
    to_global,
    to_logical,
    to_partition_spec,
)

pytestmark = pytest.mark.devices(8)


def test_parse():
    assert parse_sbp("S0, B") == (S(0), B)
    assert parse_sbp("S(1),P(max)") == (S(1), Partial("max"))
    assert parse_mesh("data=2,model=4") == {"data": 2, "model": 4}
    with pytest.raises(ValueError, match="not S"):
        parse_sbp("X")
    with pytest.raises(ValueError, match="NAME=SIZE"):
        parse_mesh("data:2")


@pytest.mark.parametrize("sbp, spec", [
    ((S(0), B), PartitionSpec("data", None)),
    ((B, S(1)), PartitionSpec(None, "model")),
    ((S(0), S(0)), PartitionSpec(("data", "model"), None)),
    ((S(1), S(0)), PartitionSpec("model", "data")),
    ((B, B), PartitionSpec(None, None)),
])
def test_partition_spec_round_trip(mesh, sbp, spec):
    assert to_partition_spec(sbp, mesh, 2) == spec
    assert from_partition_spec(spec, mesh) == sbp


def test_partial_lives_in_leading_physical_dims(mesh):
    x = jax.random.normal(jax.random.key(0), (8, 4))
    g = to_global(x, (P, S(1)), mesh)
    assert g.data.shape == (2, 8, 4) and g.shape == (8, 4)
    assert {s.data.shape for s in g.data.addressable_shards} == {(1, 8, 1)}
    np.testing.assert_allclose(to_logical(g), x, rtol=1e-6)
    assert repr(g) == "GlobalTensor(shape=(8, 4), dtype=float32, sbp=(P, S(1)), mesh=(data=2, model=4))"


def test_errors_name_tensor_op_and_placement(mesh):
    with pytest.raises(PlacementError, match=r"tensor 'w' of op 'matmul' .*S\(2\) on mesh axis "
                                             r"'model' is out of range for a 2-D tensor"):
        check_placement((B, S(2)), (8, 4), mesh, name="w", op="matmul")
    with pytest.raises(PlacementError, match=r"tensor 'x'.*\(S\(0\), S\(0\)\).*dimension 0 of "
                                             r"size 4 is not divisible into 8 blocks"):
        to_global(jnp.ones((4, 3)), (S(0), S(0)), mesh, name="x")
    with pytest.raises(PlacementError, match="one SBP per mesh axis"):
        check_placement((B,), (8,), mesh, name="x")
    with pytest.raises(PlacementError, match="unknown partial op 'prod'"):
        check_placement((Partial("prod"), B), (8,), mesh)
    g = to_global(jnp.ones((8, 4)), (S(0), B), mesh)
    with pytest.raises(PlacementError, match="op 'redistribute'"):
        redistribute(g, (B, S(3)), name="g")
    with pytest.raises(PlacementError, match="mixing partial ops"):
        redistribute(g, (P, Partial("max")))
