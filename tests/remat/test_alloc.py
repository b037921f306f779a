"""The address-ordered pool: best fit, the two ends, split, merge, invariants."""

import numpy as np
import pytest

from jaxhin.remat import Allocator, OutOfMemory


def test_alignment_and_split():
    pool = Allocator(4096, alignment=512)
    assert pool.aligned(1) == 512 and pool.aligned(513) == 1024 and pool.aligned(0) == 512
    assert pool.alloc(1024, 0) == 0
    assert pool.alloc(512, 1) == 1024
    assert pool.free_bytes == 4096 - 1536
    pool.check()


def test_best_fit_picks_the_smallest_hole_and_merges_on_free():
    pool = Allocator(8 * 512)
    for t in range(8):
        pool.alloc(512, t)
    pool.free(1)                                   # hole of 1 block at 512
    pool.free(4)
    pool.free(5)                                   # hole of 2 blocks at 2048
    assert pool.alloc(512, 10) == 512              # best fit: the 1-block hole
    assert pool.alloc(1024, 11) == 2048
    with pytest.raises(OutOfMemory):
        pool.alloc(512, 12)
    pool.free(2)
    pool.free(3)                                   # 2, 3 free and adjacent: merged
    assert pool.largest_free() == 1024
    pool.check()


def test_low_and_high_sides_fill_from_the_two_ends():
    pool = Allocator(8 * 512)
    assert pool.alloc(512, 0, side="low") == 0
    assert pool.alloc(512, 1, side="high") == 7 * 512
    assert pool.alloc(1024, 2, side="high") == 5 * 512
    assert pool.alloc(512, 3, side="low") == 512
    pool.check()


def test_free_range_and_hand_over():
    pool = Allocator(6 * 512)
    for t in range(6):
        pool.alloc(512, t)
    pool.free(2)
    lo, hi = 1, 3
    tensors, index = pool.free_range(lo, hi)
    assert tensors == [1, 3] and pool.sizes[index] == 3 * 512 and pool.starts[index] == 512
    pool.hand_over(4, 40)
    assert pool.where[40] == 4 * 512 and 4 not in pool.where
    pool.check()


def test_random_sequences_keep_the_invariants():
    rng = np.random.default_rng(0)
    pool = Allocator(64 * 512)
    live = []
    for step in range(2000):
        if live and (rng.random() < 0.45 or pool.largest_free() < 4 * 512):
            pool.free(live.pop(rng.integers(len(live))))
        else:
            size = int(rng.integers(1, 4)) * 512
            side = ("best", "low", "high")[step % 3]
            if pool.find(size, side) >= 0:
                pool.alloc(size, step, side)
                live.append(step)
        pool.check()
    assert pool.free_bytes + sum(pool.sizes[pool.index_of(t)] for t in live) == 64 * 512


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity"):
        Allocator(0)
