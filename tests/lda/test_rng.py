"""The sampler's unrolled Threefry gives `jax.random.uniform`'s bits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.lda._rng import uniform


@pytest.mark.parametrize("shape", [(7,), (4, 4, 4096), (3, 1, 5)])
def test_uniform_is_jax_random_uniform_bit_for_bit(shape):
    for key in (jax.random.key(0), jax.random.fold_in(jax.random.key(12345), 77),
                jax.random.split(jax.random.key(3))[1]):
        mine = jax.jit(uniform, static_argnums=1)(key, shape)
        theirs = jax.random.uniform(key, shape)
        np.testing.assert_array_equal(np.asarray(mine).view(np.uint32),
                                      np.asarray(theirs).view(np.uint32))
    assert float(mine.min()) >= 0.0 and float(mine.max()) < 1.0


def test_other_key_kinds_fall_back_to_jax():
    for key in (jax.random.key(1, impl="rbg"), jax.random.PRNGKey(1)):
        np.testing.assert_array_equal(uniform(key, (5, 3)), jax.random.uniform(key, (5, 3)))
    assert uniform(jax.random.key(2), (0,)).shape == (0,)
    assert uniform(jax.random.key(2), (2, 3)).dtype == jnp.float32
