"""ByteDropout: the rounded rate, unbiased scaling, and identity when deterministic."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.train import ByteDropout


@pytest.mark.parametrize("rate", [0.5, 0.2, 0.9])
def test_byte_dropout_drops_the_rounded_rate_and_keeps_the_mean(rate):
    x = jnp.ones((257, 3, 41))  # a size that is not a multiple of 4
    out = np.asarray(ByteDropout(rate).apply({}, x, deterministic=False,
                                             rngs={"dropout": jax.random.key(0)}))
    keep = round((1 - rate) * 256) / 256
    kept = out != 0
    assert abs(kept.mean() - keep) < 4 * np.sqrt(keep * (1 - keep) / x.size)
    np.testing.assert_allclose(out[kept], 1 / keep, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.05
    again = ByteDropout(rate).apply({}, x, deterministic=False,
                                    rngs={"dropout": jax.random.key(1)})
    assert not np.array_equal(np.asarray(again) != 0, kept)  # the key decides the mask


def test_byte_dropout_identity_cases_and_bad_rate():
    x = jnp.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(ByteDropout(0.5).apply({}, x, deterministic=True), x)
    np.testing.assert_array_equal(
        ByteDropout(0.0).apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)}),
        x)
    np.testing.assert_array_equal(
        ByteDropout(1.0).apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)}),
        0 * x)
    with pytest.raises(ValueError, match="rate must be in"):
        ByteDropout(1.5).apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)})
