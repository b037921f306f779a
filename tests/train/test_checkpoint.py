"""Orbax checkpoints round-trip pytrees exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxhin.train import latest_step, restore_checkpoint, save_checkpoint


def _tree(key):
    k1, k2 = jax.random.split(key)
    return {"w": jax.random.normal(k1, (3, 4)), "b": jnp.zeros((4,), jnp.bfloat16),
            "counts": jax.random.randint(k2, (5,), 0, 100)}


def test_round_trip_and_latest(tmp_path):
    ckpt = tmp_path / "ckpt"
    assert latest_step(ckpt) is None
    first, second = _tree(jax.random.key(0)), _tree(jax.random.key(1))
    save_checkpoint(ckpt, 1, first)
    save_checkpoint(ckpt, 7, second, max_to_keep=2)
    assert latest_step(ckpt) == 7
    for step, tree in ((None, second), (1, first)):
        restored = restore_checkpoint(ckpt, step, like=tree)
        jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)),
                     restored, tree)
        assert restored["b"].dtype == jnp.bfloat16


def test_max_to_keep_and_missing(tmp_path):
    ckpt = tmp_path / "ckpt"
    for step in range(4):
        save_checkpoint(ckpt, step, {"x": jnp.full((2,), step)}, max_to_keep=2)
    assert sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) == [2, 3]
    with pytest.raises(FileNotFoundError, match="no step 0"):
        restore_checkpoint(ckpt, 0)
    with pytest.raises(FileNotFoundError):
        restore_checkpoint(tmp_path / "none")
