"""Group-sparse coding: FISTA against scikit-learn's Lasso, the proximal step's known answer, and
dictionary learning that recovers planted local atoms only when the group penalty is on."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from jaxhin.structure import (
    SparseCodingConfig,
    connectivity,
    encode,
    group_shrink,
    learn_dictionary,
    objective,
)


@pytest.mark.parametrize("nonneg", [True, False])
def test_fista_codes_match_sklearn_lasso(nonneg):
    key = jax.random.key(0)
    d = jax.random.normal(key, (30, 12))
    d = d / jnp.linalg.norm(d, axis=0, keepdims=True)
    x = jax.random.normal(jax.random.fold_in(key, 1), (3, 30))
    lam = 0.2
    codes = encode(x, d, lam, steps=2000, nonneg=nonneg)
    for row, code in zip(np.asarray(x), np.asarray(codes), strict=True):
        # sklearn's Lasso minimises 1/(2n) ||y - X w||^2 + alpha ||w||_1 over n = 30 rows.
        ref = Lasso(alpha=lam / 30, fit_intercept=False, positive=nonneg, tol=1e-12,
                    max_iter=100000).fit(np.asarray(d), row).coef_
        def value(a, row=row):
            return 0.5 * np.sum((row - np.asarray(d) @ a) ** 2) + lam * np.abs(a).sum()

        # The objective is flat near its minimum (float32 moves codes by ~1e-3 for ~1e-7 in
        # value), so the objective is compared tightly and the codes loosely.
        np.testing.assert_allclose(value(code), value(ref), rtol=1e-6)
        np.testing.assert_allclose(code, ref, atol=5e-3)


def test_group_shrink_zeroes_small_groups_and_scales_the_rest():
    d = jnp.array([[3.0], [4.0], [0.3], [0.4]])           # group norms 5 and 0.5
    groups = jnp.array([0, 0, 1, 1])
    out = group_shrink(d, groups, 2, jnp.float32(1.0))
    np.testing.assert_allclose(out[:, 0], [3.0 * 0.8, 4.0 * 0.8, 0.0, 0.0], rtol=1e-6)


def _planted(key, n=4000):
    """8 atoms, each on its own group of 4 of 32 inputs; codes with 2 active atoms each."""
    atoms = np.zeros((32, 8), np.float32)
    for j in range(8):
        atoms[4 * j:4 * j + 4, j] = np.asarray(jax.random.uniform(jax.random.fold_in(key, j),
                                                                  (4,), minval=0.5))
    atoms /= np.linalg.norm(atoms, axis=0, keepdims=True)
    active = jax.random.uniform(jax.random.fold_in(key, 99), (n, 8)).argsort(1)[:, :2]
    codes = np.zeros((n, 8), np.float32)
    np.put_along_axis(codes, np.asarray(active), 1.0, 1)
    codes *= np.asarray(jax.random.uniform(jax.random.fold_in(key, 98), (n, 8), minval=0.5))
    x = codes @ atoms.T + 0.01 * np.asarray(jax.random.normal(key, (n, 32)))
    return x, atoms, np.repeat(np.arange(8), 4)


def test_group_penalty_discovers_the_planted_groups():
    x, atoms, groups = _planted(jax.random.key(1))
    cfg = SparseCodingConfig(num_atoms=8, code_penalty=0.05, group_penalty=0.05, epochs=8,
                             batch_size=128)
    state, losses = learn_dictionary(jax.random.key(2), x, cfg, groups=groups)
    assert np.isfinite(losses).all()
    learned = np.asarray(state.dictionary)
    conn = connectivity(state.dictionary, jnp.asarray(groups), 8)     # (G, M)
    live = conn.any(0)
    assert live.sum() >= 6
    assert conn[:, live].sum(0).max() <= 2           # each live atom keeps at most 2 groups
    # The penalty shrinks atoms inside the unit ball; their direction is what must match.
    unit = learned[:, live] / np.linalg.norm(learned[:, live], axis=0, keepdims=True)
    assert np.median(np.abs(atoms.T @ unit).max(0)) > 0.9
    # The same problem without the group penalty: every atom stays connected to every group.
    dense, _ = learn_dictionary(jax.random.key(2), x, SparseCodingConfig(
        num_atoms=8, code_penalty=0.05, epochs=2, batch_size=128), groups=groups)
    assert connectivity(dense.dictionary, jnp.asarray(groups), 8).all()


def test_objective_counts_the_group_penalty():
    d = jnp.eye(4)
    x = jnp.ones((2, 4))
    codes = jnp.ones((2, 4))
    cfg = SparseCodingConfig(num_atoms=4, code_penalty=0.5, group_penalty=0.1)
    groups = jnp.array([0, 0, 1, 1])
    # fit 0 + 0.5 * 4 + 0.1 * (4 atoms x one group of norm 1 each)
    np.testing.assert_allclose(objective(x, d, codes, cfg, groups, 2), 2.0 + 0.4, rtol=1e-6)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="num_atoms must be >= 1"):
        SparseCodingConfig(num_atoms=0)
    with pytest.raises(ValueError, match="forget must be in"):
        SparseCodingConfig(forget=0.0)
