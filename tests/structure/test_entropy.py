"""Entropy estimators against distributions whose entropy is known in closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.structure import (
    gaussian_entropy,
    knn_entropy,
    pattern_entropy,
    sum_unit_entropy,
    unit_entropy,
)

GAUSS = 0.5 * np.log(2 * np.pi * np.e)  # differential entropy of N(0, 1)


def test_unit_entropy_of_discrete_uniform_is_log_k():
    x = jnp.tile(jnp.arange(8.0), 500)[:, None] * jnp.array([[1.0, 3.0]])
    np.testing.assert_allclose(unit_entropy(x, bins=8), [np.log(8)] * 2, rtol=1e-6)
    np.testing.assert_allclose(sum_unit_entropy(x, bins=8), 2 * np.log(8), rtol=1e-6)


def test_unit_entropy_differential_matches_uniform_and_gaussian():
    key = jax.random.key(0)
    u = 2.0 * jax.random.uniform(key, (40000, 1))
    g = 3.0 * jax.random.normal(jax.random.fold_in(key, 1), (40000, 1))
    h = unit_entropy(jnp.concatenate([u, g], 1), bins=64, differential=True)
    np.testing.assert_allclose(h, [np.log(2.0), GAUSS + np.log(3.0)], atol=0.03)


def test_constant_unit_has_zero_entropy():
    assert float(unit_entropy(jnp.ones((50, 1)))[0]) == 0.0


def test_pattern_entropy_of_independent_bernoulli_units():
    p = 0.3
    on = jax.random.bernoulli(jax.random.key(2), p, (100000, 4))
    expected = 4 * -(p * np.log(p) + (1 - p) * np.log(1 - p))
    np.testing.assert_allclose(pattern_entropy(on.astype(jnp.float32)), expected, atol=0.01)
    # Duplicated units add nothing to the joint pattern (unlike the per-unit sum).
    dup = jnp.concatenate([on, on], 1).astype(jnp.float32)
    np.testing.assert_allclose(pattern_entropy(dup), expected, atol=0.01)


def test_pattern_entropy_refuses_too_many_units():
    with pytest.raises(ValueError, match="U must be <= 24"):
        pattern_entropy(jnp.zeros((4, 25)))


def test_gaussian_entropy_of_correlated_gaussian():
    cov = np.array([[2.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 0.5]])
    x = jax.random.multivariate_normal(jax.random.key(3), jnp.zeros(3), cov, (50000,))
    expected = 0.5 * (3 * np.log(2 * np.pi * np.e) + np.log(np.linalg.det(cov)))
    np.testing.assert_allclose(gaussian_entropy(x), expected, atol=0.02)


@pytest.mark.parametrize("dist, expected", [
    ("normal3", 3 * GAUSS),
    ("uniform2", 0.0),        # unit square
])
def test_knn_entropy_is_consistent(dist, expected):
    key = jax.random.key(4)
    x = (jax.random.normal(key, (4000, 3)) if dist == "normal3"
         else jax.random.uniform(key, (4000, 2)))
    np.testing.assert_allclose(knn_entropy(x, k=3, block=1000), expected, atol=0.08)
