"""An address-ordered memory pool: fixed capacity, aligned blocks, best fit, split and merge.

The pool is a list of pieces covering `[0, capacity)` in address order; each piece is free
(owner -1) or holds one tensor. This is the allocator that OneFlow's rematerialization runtime
(and Coop, built on it) puts under its eviction policy, as opposed to a "memory is a commodity"
counter of free bytes. Pieces live in numpy arrays because the policies scan them as a whole
(a window over address order, a heuristic over every resident tensor): one vectorised pass per
decision instead of a Python loop, which is what keeps a ResNet-152 trace under a minute.
"""

from __future__ import annotations

import numpy as np


class OutOfMemory(Exception):
    """No free piece is large enough (the caller decides what to evict)."""


class Allocator:
    """Pieces `(start, size, owner)` in address order over a pool of `capacity` bytes.

    Mutable on purpose: it is the simulator's working state, created and used inside one
    `simulate` call and never shared.
    """

    def __init__(self, capacity: int, alignment: int = 512):
        if capacity <= 0:
            raise ValueError(f"pool capacity must be > 0 bytes, got {capacity}")
        self.capacity = int(capacity)
        self.alignment = int(alignment)
        self.starts = np.zeros(1, np.int64)
        self.sizes = np.array([self.capacity], np.int64)
        self.owner = np.full(1, -1, np.int64)
        self.where: dict[int, int] = {}   # tensor -> start address
        self.high_water = 0

    def aligned(self, nbytes: int) -> int:
        a = self.alignment
        return max(a, -(-int(nbytes) // a) * a)

    @property
    def free_bytes(self) -> int:
        return int(self.sizes[self.owner < 0].sum())

    def largest_free(self) -> int:
        free = self.sizes[self.owner < 0]
        return int(free.max()) if free.size else 0

    def index_of(self, tensor: int) -> int:
        return int(np.searchsorted(self.starts, self.where[tensor]))

    def find(self, size: int, side: str = "best") -> int:
        """Index of the free piece to allocate `size` bytes in, or -1.

        side "best": best fit, the smallest free piece that fits, lowest address on ties (the
        caching allocator's default). "low" / "high": the first piece that fits counting from
        the bottom / the top of the pool (Coop's partitioning: expensive tensors from one end,
        cheap ones from the other).
        """
        fits = np.flatnonzero((self.owner < 0) & (self.sizes >= size))
        if fits.size == 0:
            return -1
        if side == "low":
            return int(fits[0])
        if side == "high":
            return int(fits[-1])
        return int(fits[np.argmin(self.sizes[fits])])

    def place(self, index: int, size: int, tensor: int, high: bool = False) -> int:
        """Put `tensor` (`size` aligned bytes) in free piece `index`, at its start or, with
        `high`, at its end; the rest stays free. Returns the address."""
        start, psize = int(self.starts[index]), int(self.sizes[index])
        assert self.owner[index] < 0 and psize >= size, (index, psize, size)
        rest = psize - size
        if rest == 0:
            self.owner[index] = tensor
            addr = start
        elif high:
            addr = start + rest
            self.sizes[index] = rest
            self._insert(index + 1, addr, size, tensor)
        else:
            addr = start
            self.sizes[index] = size
            self.owner[index] = tensor
            self._insert(index + 1, start + size, rest, -1)
        self.where[tensor] = addr
        self.high_water = max(self.high_water, addr + size)
        return addr

    def alloc(self, size: int, tensor: int, side: str = "best") -> int:
        index = self.find(size, side)
        if index < 0:
            raise OutOfMemory(size)
        return self.place(index, size, tensor, high=side == "high")

    def hand_over(self, old: int, new: int) -> None:
        """Give `old`'s block to `new` (an in-place op's output overwrites its input)."""
        index = self.index_of(old)
        self.owner[index] = new
        self.where[new] = self.where.pop(old)

    def free(self, tensor: int) -> int:
        """Free `tensor`'s block and merge it with free neighbours; returns the merged index."""
        index = self.index_of(tensor)
        del self.where[tensor]
        self.owner[index] = -1
        return self._merge(index, index)

    def free_range(self, lo: int, hi: int) -> tuple[list[int], int]:
        """Free every block in pieces `lo..hi` (inclusive) as one piece; returns the tensors
        that were there and the index of the merged free piece."""
        tensors = [int(t) for t in self.owner[lo:hi + 1] if t >= 0]
        for t in tensors:
            del self.where[t]
        self.owner[lo:hi + 1] = -1
        return tensors, self._merge(lo, hi)

    def _merge(self, lo: int, hi: int) -> int:
        if lo > 0 and self.owner[lo - 1] < 0:
            lo -= 1
        if hi + 1 < len(self.owner) and self.owner[hi + 1] < 0:
            hi += 1
        if hi > lo:
            total = int(self.sizes[lo:hi + 1].sum())
            keep = np.ones(len(self.owner), bool)
            keep[lo + 1:hi + 1] = False
            self.starts, self.sizes, self.owner = (self.starts[keep], self.sizes[keep],
                                                   self.owner[keep])
            self.sizes[lo] = total
        return lo

    def _insert(self, index: int, start: int, size: int, owner: int) -> None:
        self.starts = np.insert(self.starts, index, start)
        self.sizes = np.insert(self.sizes, index, size)
        self.owner = np.insert(self.owner, index, owner)

    def check(self) -> None:
        """Invariants (used by tests): pieces tile the pool, no two free pieces touch."""
        assert self.starts[0] == 0 and int(self.sizes.sum()) == self.capacity
        assert np.all(self.starts[1:] == self.starts[:-1] + self.sizes[:-1])
        free = self.owner < 0
        assert not np.any(free[1:] & free[:-1]), "adjacent free pieces were not merged"
        for t, addr in self.where.items():
            assert self.owner[np.searchsorted(self.starts, addr)] == t
