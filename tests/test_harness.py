"""The harness of tests/conftest.py really is in force."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def test_eight_fake_cpu_devices():
    assert jax.device_count() == 8


def test_rank_promotion_raises():
    with pytest.raises(ValueError, match="jax_numpy_rank_promotion='raise'"):
        jnp.ones((3,)) + jnp.ones((2, 3))


@pytest.mark.devices(8)
def test_mesh_of_eight_devices_shards_rows():
    mesh = jax.make_mesh((2, 4), ("data", "model"))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data", "model"))
    x = jax.device_put(jnp.arange(32.0).reshape(4, 8), sharding)
    assert {s.data.shape for s in x.addressable_shards} == {(2, 2)}
    np.testing.assert_array_equal(np.asarray(x.sum(0)), np.arange(32.0).reshape(4, 8).sum(0))
