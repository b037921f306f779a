"""Receptive-field spread: known answers and the random baseline's invariants."""

import jax
import numpy as np
import pytest

from jaxhin.structure import locality_ratio, random_masks, spreads


def test_spread_of_a_square_block():
    mask = np.zeros((10, 10), bool)
    mask[2:5, 3:6] = True                                 # 3x3 block: mean r^2 = 2 * 2/3
    np.testing.assert_allclose(spreads(mask.reshape(100, 1), (10, 10)), [np.sqrt(4 / 3)])


def test_random_masks_keep_counts_and_allowed_pixels():
    mask = np.zeros((100, 3), bool)
    mask[:5, 0] = mask[:9, 1] = True                       # unit 2 has no connection
    allowed = np.zeros(100, bool)
    allowed[20:80] = True
    rand = random_masks(jax.random.key(0), mask, allowed)
    assert list(rand.sum(0)) == [5, 9, 0]
    assert not rand[~allowed].any()


def test_local_blocks_beat_random_masks():
    mask = np.zeros((16 * 16, 7), bool)
    for j in range(7):
        block = np.zeros((16, 16), bool)
        block[j:j + 3, 2 * j:2 * j + 3] = True
        mask[:, j] = block.ravel()
    result = locality_ratio(jax.random.key(1), mask, (16, 16), np.ones(256, bool))
    assert result["locality_ratio"] < 0.3
    assert result["pixels_per_unit"] == 9


def test_spreads_checks_the_shape():
    with pytest.raises(ValueError, match="expected H\\*W = 64"):
        spreads(np.ones((63, 2), bool), (8, 8))
