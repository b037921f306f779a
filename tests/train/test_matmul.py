"""`dense_dot`: the values and gradients of `lax.dot_general`, through `nn.Dense` too."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.train import dense_dot


@pytest.mark.parametrize("barrier", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)])
@pytest.mark.parametrize("columns", [1, 4])
def test_dense_dot_gives_dot_general_values_and_gradients(barrier, shape, columns):
    dot = dense_dot(barrier=barrier)
    x = jax.random.normal(jax.random.key(0), shape)
    w = jax.random.normal(jax.random.key(1), (shape[-1], columns))
    c = jax.random.normal(jax.random.key(2), (*shape[:-1], columns))
    dims = (((len(shape) - 1,), (0,)), ((), ()))

    def loss(dot):
        return lambda x, w: (jnp.tanh(dot(x, w, dims)) * c).sum()  # a non-trivial output grad

    np.testing.assert_allclose(dot(x, w, dims), jax.lax.dot_general(x, w, dims), rtol=1e-6)
    got = jax.jit(jax.grad(loss(dot), argnums=(0, 1)))(x, w)
    expected = jax.grad(loss(jax.lax.dot_general), argnums=(0, 1))(x, w)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    # any other product is lax.dot_general's own
    other = (((0,), (1,)), ((), ()))
    np.testing.assert_array_equal(dot(x.reshape(-1, 5).T, w.T, other),
                                  jax.lax.dot_general(x.reshape(-1, 5).T, w.T, other))


def test_a_dense_layer_with_it_has_the_same_parameters_outputs_and_gradients():
    x = jax.random.normal(jax.random.key(0), (2, 7, 6))
    plain, fast = nn.Dense(3), nn.Dense(3, dot_general=dense_dot())
    params = plain.init(jax.random.key(1), x)
    assert jax.tree.structure(fast.init(jax.random.key(1), x)) == jax.tree.structure(params)

    def loss(layer):
        return lambda p: jnp.sin(layer.apply(p, x)).sum()

    np.testing.assert_allclose(fast.apply(params, x), plain.apply(params, x), rtol=1e-6)
    for g, e in zip(jax.tree.leaves(jax.grad(loss(fast))(params)),
                    jax.tree.leaves(jax.grad(loss(plain))(params)), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
