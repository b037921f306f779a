"""Rematerialization runtime over an address-ordered pool: DTR, DTE and Coop eviction.

The runtime executes a `Trace` op by op in a pool of `budget` bytes. When an output does not
fit, the policy evicts resident tensors; an evicted tensor that is read again is recomputed
from its producer, recursively (its inputs may be evicted or already dead), and the time of
every recomputed op is the compute overhead.

Policies (Coop paper, sec. 2-4; symbols: c(t) recompute cost = producer's time, m(t) bytes,
s(t) staleness = ops since last access, e*(t) cost of t's evicted graph neighbours):
  DTR   evict argmin h(t) = (c(t) + e*(t)) / (m(t) s(t)), one tensor at a time, until some free
        piece fits; memory is treated as a commodity, so evicted blocks may be scattered.
  DTE   as DTR with m(t) replaced by m(t) plus the free bytes adjacent to t's block.
  Coop  slide a window over address order (free pieces cost 0, a pinned or locked tensor breaks
        the window) and evict the window of minimal summed cost (c(t) + e*(t)) / s(t) whose bytes
        cover the request; the new block goes there at once. Cheap tensor partitioning puts
        tensors of low cost density c(t)/m(t) at the top of the pool and the rest at the bottom,
        so cheap ones sit together; recomputable in-place lets an in-place op's output stay
        evictable (its input is recomputed first), where the baselines must pin it.
Unevictable always: step inputs (parameters, optimizer state, batch) until their last read,
step outputs once made, and the inputs of the op being run (locked). Step inputs are donated,
as an eager optimizer updates parameters in place: each is freed after its last read, and the
update `p + u` may run in place on `p`.

Metrics (as the paper defines them): compute overhead = recompute time / base time; feasible;
fragmentation = mean over eviction events of free bytes / budget; search latency = wall time of
the eviction searches and a deterministic count of what each search visits (DTR and DTE: every
resident tensor, once per evicted tensor; Coop: every piece of the pool, free ones included,
once per eviction event); the share of evicted bytes that the new block uses.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from jaxhin.remat._alloc import Allocator, OutOfMemory
from jaxhin.remat._trace import Trace

POLICIES = ("dtr", "dte", "coop")
# Ops an eager framework runs in place: ReLU (`max`, torchvision's `inplace=True`) and
# autograd's gradient accumulation (`add_any`, `grad +=`). Residual adds are out of place
# (Hugging Face's Transformers write `hidden + residual`).
INPLACE_PRIMITIVES = frozenset({"max", "add_any"})


class Infeasible(Exception):
    """The budget cannot run the trace: nothing left to evict, or recomputation thrashes."""


@dataclasses.dataclass(frozen=True)
class SimConfig:
    """One runtime configuration.

    Attributes:
      policy: eviction heuristic: "dtr", "dte" or "coop".
      window: Coop's sliding window (contiguous eviction); off, Coop evicts one tensor at a
        time by its heuristic, like DTR.
      partition: cheap tensor partitioning (cheap tensors allocated from the top of the pool).
      recomputable_inplace: in-place outputs stay evictable; off, they are pinned until dead.
      inplace: run eligible ops in place at all (the program as an eager framework writes it).
      alignment: block alignment in bytes (CUDA caching allocators use 512).
      max_overhead: give up as thrashing past this recompute time / base time.
    """

    policy: str = "coop"
    window: bool = True
    partition: bool = True
    recomputable_inplace: bool = True
    inplace: bool = True
    alignment: int = 512
    max_overhead: float = 10.0

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.alignment < 1:
            raise ValueError(f"alignment must be >= 1 byte, got {self.alignment}")
        if not self.max_overhead > 0:
            raise ValueError(f"max_overhead must be > 0, got {self.max_overhead}")


def policy_config(policy: str, **changes) -> SimConfig:
    """The paper's setting of `policy`: Coop with all three parts, DTR and DTE with none."""
    coop = policy == "coop"
    base = SimConfig(policy=policy, window=coop, partition=coop, recomputable_inplace=coop)
    return dataclasses.replace(base, **changes)


@dataclasses.dataclass(frozen=True)
class SimResult:
    """Outcome of one simulation. `evicted` marks tensors evicted at least once."""

    policy: str
    budget_bytes: int
    feasible: bool
    reason: str
    overhead: float
    base_s: float
    recompute_s: float
    peak_bytes: int
    fragmentation: float
    search_s: float
    pieces_scanned: int
    evictions: int
    eviction_events: int
    evicted_bytes: int
    evicted_used_share: float
    recomputes: int
    evicted: np.ndarray = dataclasses.field(repr=False, compare=False)

    def metrics(self) -> dict:
        """JSON-ready figures (everything but the per-tensor mask)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "evicted"}


def _neighbours(trace: Trace) -> list[np.ndarray]:
    """Graph neighbours of each tensor: its producer's inputs and its consumers' outputs."""
    nbrs: list[set] = [set() for _ in trace.tensors]
    for op in trace.ops:
        for o in op.outputs:
            nbrs[o].update(op.inputs)
        for i in op.inputs:
            nbrs[i].update(op.outputs)
    return [np.fromiter(sorted(s), np.int64, len(s)) for s in nbrs]


def _horizon(trace: Trace) -> np.ndarray:
    """Per tensor, the last op at which it may be read: directly (its last use) or to recompute
    a descendant that is still needed (a step output is never recomputed). A step input, which
    nothing can recompute, is freed only after its horizon."""
    horizon = np.array(trace.last_use, np.int64)
    is_output = np.zeros(len(trace.tensors), bool)
    is_output[list(trace.outputs)] = True
    for op in reversed(trace.ops):
        reach = max((horizon[o] for o in op.outputs if not is_output[o]), default=-1)
        for i in op.inputs:
            if reach > horizon[i]:
                horizon[i] = reach
    return horizon


class _Runtime:
    """The mutable state of one simulation (private; `simulate` is the interface)."""

    def __init__(self, trace: Trace, config: SimConfig, capacity: int):
        self.trace, self.cfg = trace, config
        n = len(trace.tensors)
        self.pool = Allocator(capacity, config.alignment)
        self.size = np.array([self.pool.aligned(t.bytes) for t in trace.tensors], np.int64)
        self.cost = np.zeros(n)
        for op in trace.ops:
            self.cost[list(op.outputs)] = op.time_s
        self.resident = np.zeros(n, bool)
        self.pinned = np.zeros(n, bool)
        self.dead = np.zeros(n, bool)
        self.locks = np.zeros(n, np.int64)
        self.last_access = np.zeros(n)
        self.evicted_nbr_cost = np.zeros(n)
        self.evicted_now = np.zeros(n, bool)
        self.evicted_ever = np.zeros(n, bool)
        self.nbrs = _neighbours(trace)
        self.is_output = np.zeros(n, bool)
        self.is_output[list(trace.outputs)] = True
        density = self.cost / np.maximum(self.size, 1)
        made = np.array([t.producer >= 0 for t in trace.tensors])
        threshold = np.median(density[made]) if made.any() else 0.0
        self.cheap = density < threshold
        self.horizon = _horizon(trace)
        self.producer = [t.producer for t in trace.tensors]  # read per recomputation
        self.clock = 0.0
        self.base_s = trace.time_s
        self.recompute_s = 0.0
        self.recomputes = 0
        self.search_s = 0.0
        self.scanned = 0
        self.evictions = 0
        self.events = 0
        self.evicted_bytes = 0
        self.used_bytes = 0
        self.free_at_events: list[float] = []

    # -- memory ---------------------------------------------------------------------------
    def allocate(self, t: int) -> None:
        size = int(self.size[t])
        side = ("high" if self.cheap[t] else "low") if self.cfg.partition else "best"
        index = self.pool.find(size, side)
        if index < 0:
            index = self.make_room(size)
        self.pool.place(index, size, t, high=side == "high")
        self.resident[t] = True
        if self.evicted_now[t]:
            self.evicted_now[t] = False
            self.evicted_nbr_cost[self.nbrs[t]] -= self.cost[t]

    def evictable(self) -> np.ndarray:
        return self.resident & ~self.pinned & (self.locks == 0)

    def evict(self, t: int) -> None:
        self.resident[t] = False
        self.evicted_ever[t] = True
        self._mark_evicted(t)
        self.evictions += 1
        self.evicted_bytes += int(self.size[t])

    def make_room(self, size: int) -> int:
        """Evict until a free piece fits `size`; returns its index (policy-specific)."""
        start = time.perf_counter()
        self.events += 1
        self.free_at_events.append(self.pool.free_bytes / self.pool.capacity)
        before = self.evicted_bytes
        try:
            if self.cfg.policy == "coop" and self.cfg.window:
                index = self._window(size)
            else:
                index = self._one_by_one(size)
        finally:
            self.search_s += time.perf_counter() - start
        self.used_bytes += min(size, self.evicted_bytes - before)
        return index

    def _scores(self, owners: np.ndarray, cand: np.ndarray) -> np.ndarray:
        t = owners[cand]
        stale = self.clock - self.last_access[t] + 1.0
        return (self.cost[t] + self.evicted_nbr_cost[t]) / stale

    def _one_by_one(self, size: int) -> int:
        while True:
            index = self.pool.find(size)
            if index >= 0:
                return index
            owners = self.pool.owner
            ok = owners >= 0
            ok[ok] = self.evictable()[owners[ok]]
            cand = np.flatnonzero(ok)
            self.scanned += int(np.count_nonzero(owners >= 0))  # every resident tensor visited
            if cand.size == 0:
                raise Infeasible(f"no evictable tensor left for a {size}-byte block "
                                 f"({self.pool.free_bytes} bytes free, fragmented)")
            mem = self.pool.sizes[cand].astype(float)
            if self.cfg.policy == "dte":
                sizes, free = self.pool.sizes, owners < 0
                prev = np.where(cand > 0, np.where(free[cand - 1], sizes[cand - 1], 0), 0)
                nxt_i = np.minimum(cand + 1, len(owners) - 1)
                nxt = np.where(cand + 1 < len(owners), np.where(free[nxt_i], sizes[nxt_i], 0), 0)
                mem = mem + prev + nxt
            h = self._scores(owners, cand) / mem
            victim = int(owners[cand[np.argmin(h)]])
            self.evict(victim)
            self.pool.free(victim)

    def _window(self, size: int) -> int:
        owners, sizes = self.pool.owner, self.pool.sizes
        n = len(owners)
        self.scanned += n
        used = owners >= 0
        ok = used.copy()
        ok[used] = self.evictable()[owners[used]]
        blocked = used & ~ok
        cost = np.zeros(n)
        cand = np.flatnonzero(ok)
        cost[cand] = self._scores(owners, cand) / sizes[cand]
        csize = np.concatenate([[0], np.cumsum(sizes)])
        ccost = np.concatenate([[0.0], np.cumsum(cost)])
        cblock = np.concatenate([[0], np.cumsum(blocked)])
        # For each left piece l, the smallest right end r (exclusive) with bytes >= size.
        right = np.searchsorted(csize, csize[:-1] + size, side="left")
        valid = (right <= n) & ~blocked
        r = np.minimum(right, n)
        valid &= cblock[r] == cblock[np.arange(n)]
        if not valid.any():
            raise Infeasible(f"no contiguous window of evictable tensors holds a {size}-byte "
                             f"block ({self.pool.free_bytes} bytes free)")
        left = np.flatnonzero(valid)
        window_cost = ccost[r[left]] - ccost[left]
        lo = int(left[np.argmin(window_cost)])
        hi = int(r[lo]) - 1
        victims, index = self.pool.free_range(lo, hi)
        for t in victims:
            self.evict(t)
        return index

    def release(self, t: int, banish: bool = False) -> None:
        """`t` is dead: give its block back. Until its horizon a dead tensor may still be
        recomputed as a parent, so, as in DTR, it counts as evicted in its neighbours' e*;
        `banish` (past the horizon) drops it for good."""
        if self.resident[t]:
            self.resident[t] = False
            self.pool.free(t)
            if not banish and self.trace.tensors[t].producer >= 0:
                self._mark_evicted(t)
        if banish and self.evicted_now[t]:
            self.evicted_now[t] = False
            self.evicted_nbr_cost[self.nbrs[t]] -= self.cost[t]

    def _mark_evicted(self, t: int) -> None:
        if not self.evicted_now[t]:
            self.evicted_now[t] = True
            self.evicted_nbr_cost[self.nbrs[t]] += self.cost[t]

    # -- execution ------------------------------------------------------------------------
    def run_op(self, k: int, recompute_of: int | None = None) -> None:
        op = self.trace.ops[k]
        outs = op.outputs if recompute_of is None else (recompute_of,)
        self.clock += 1
        reused = self._inplace_source(k, outs, recompute=recompute_of is not None)
        for o in outs:
            if reused is not None and o == outs[0]:
                self.pool.hand_over(reused, o)
                self.resident[reused] = False
                self.dead[reused] = True
                if self.trace.tensors[reused].producer >= 0:
                    self._mark_evicted(reused)
                self.resident[o] = True
                if self.evicted_now[o]:
                    self.evicted_now[o] = False
                    self.evicted_nbr_cost[self.nbrs[o]] -= self.cost[o]
                if not self.cfg.recomputable_inplace:
                    self.pinned[o] = True
            else:
                self.allocate(o)
            self.last_access[o] = self.clock
        if recompute_of is not None:
            self.recompute_s += op.time_s
            self.recomputes += 1
            if self.recompute_s > self.cfg.max_overhead * self.base_s:
                raise Infeasible(f"thrashing: recompute time passed {self.cfg.max_overhead:g}x "
                                 f"the step's time")
        self.last_access[list(op.inputs)] = self.clock

    def _inplace_source(self, k: int, outs, recompute: bool = False) -> int | None:
        """The input an in-place op overwrites: one of the same size read for the last time
        here (when recomputing: a dead input recomputed only for this op), else None."""
        op = self.trace.ops[k]
        if not self.cfg.inplace or op.primitive not in INPLACE_PRIMITIVES or len(outs) != 1:
            return None
        for i in op.inputs:
            if not (self.resident[i] and not self.is_output[i] and self.locks[i] == 1
                    and self.size[i] == self.size[outs[0]]):
                continue
            if recompute:
                if self.dead[i] and self.trace.tensors[i].producer >= 0:
                    return i
            elif self.trace.last_use[i] == k and (self.trace.tensors[i].producer >= 0
                                                  or self.horizon[i] == k):
                return i
        return None

    def materialize(self, root: int) -> None:
        """Make `root` resident, recomputing evicted or dead ancestors (iteratively: chains can
        be thousands of ops long). Each frame locks the inputs it has gathered."""
        stack: list[tuple[int, list[int]]] = [(root, [])]
        ops, producer = self.trace.ops, self.producer
        while stack:
            u, held = stack[-1]
            if self.resident[u]:
                stack.pop()
                continue
            k = producer[u]
            if k < 0:
                raise AssertionError(f"step input {u} is not resident")
            missing = []
            for i in ops[k].inputs:
                if self.resident[i]:
                    if i not in held:
                        self.locks[i] += 1
                        held.append(i)
                else:
                    missing.append(i)
            if missing:
                stack.append((missing[0], []))
                continue
            self.run_op(k, recompute_of=u)
            stack.pop()
            for i in held:  # a recomputed dead parent stays, evictable, until its horizon
                self.locks[i] -= 1
            if stack:
                self.locks[u] += 1
                stack[-1][1].append(u)

    def run(self) -> None:
        trace = self.trace
        for t in trace.inputs:
            self.pinned[t] = True
            self.allocate(t)
        # Past its horizon nothing can read a tensor, even to recompute: step inputs (donated)
        # are freed there, and so are dead tensors that were recomputed as parents.
        release_at: dict[int, list[int]] = {}
        for t in range(len(trace.tensors)):
            if not self.is_output[t]:
                release_at.setdefault(int(self.horizon[t]), []).append(t)
        for t in release_at.pop(-1, ()):
            self.dead[t] = True
            self.release(t, banish=True)
        for k, op in enumerate(trace.ops):
            for i in op.inputs:  # lock what is there, then bring back the rest one by one
                if self.resident[i]:
                    self.locks[i] += 1
            for i in op.inputs:
                if not self.resident[i]:
                    self.materialize(i)
                    self.locks[i] += 1
            self.run_op(k)
            for i in op.inputs:
                self.locks[i] -= 1
            for o in op.outputs:
                if self.is_output[o]:
                    self.pinned[o] = True
                elif trace.last_use[o] < 0:
                    self.dead[o] = True
                    self.release(o, banish=True)
            for i in op.inputs:
                if (trace.last_use[i] == k and not self.is_output[i]
                        and trace.tensors[i].producer >= 0):
                    self.dead[i] = True
                    self.release(i)
            for i in release_at.pop(k, ()):
                if self.dead[i] or trace.tensors[i].producer < 0:
                    self.dead[i] = True
                    self.release(i, banish=True)


def simulate(trace: Trace, config: SimConfig, budget_bytes: int | None = None) -> SimResult:
    """Run `trace` under `config` in a pool of `budget_bytes` (None: unbounded, no eviction)."""
    capacity = budget_bytes if budget_bytes is not None else _unbounded(trace, config)
    rt = _Runtime(trace, config, capacity)
    feasible, reason = True, ""
    try:
        rt.run()
    except (Infeasible, OutOfMemory) as err:
        feasible, reason = False, str(err) or "out of memory"
    frag = float(np.mean(rt.free_at_events)) if rt.free_at_events else 0.0
    return SimResult(
        policy=config.policy, budget_bytes=int(capacity), feasible=feasible, reason=reason,
        overhead=rt.recompute_s / rt.base_s if rt.base_s else 0.0, base_s=rt.base_s,
        recompute_s=rt.recompute_s, peak_bytes=int(rt.pool.high_water), fragmentation=frag,
        search_s=rt.search_s, pieces_scanned=int(rt.scanned), evictions=rt.evictions,
        eviction_events=rt.events, evicted_bytes=int(rt.evicted_bytes),
        evicted_used_share=rt.used_bytes / rt.evicted_bytes if rt.evicted_bytes else 1.0,
        recomputes=rt.recomputes, evicted=rt.evicted_ever)


def _unbounded(trace: Trace, config: SimConfig) -> int:
    a = config.alignment
    return int(sum(max(a, -(-t.bytes // a) * a) for t in trace.tensors)) + a


def peak_memory(trace: Trace, config: SimConfig | None = None) -> int:
    """The memory the trace needs with no rematerialization: the smallest pool (to 1%) in
    which it runs with no eviction, with the same allocator and in-place rules. Budget ratios
    multiply this. (The unbounded run's highest address is the start: best fit in a smaller
    pool can place blocks differently, so that pool is checked, and grown until it holds.)"""
    config = config or SimConfig(partition=False)
    capacity = simulate(trace, config).peak_bytes
    while True:
        rt = _Runtime(trace, config, capacity)
        try:
            rt.run()
            if rt.events == 0:
                return capacity
        except (Infeasible, OutOfMemory):
            pass
        capacity = int(capacity * 1.01) + config.alignment


def lowest_budget(trace: Trace, config: SimConfig, *, peak: int | None = None,
                  resolution: float = 0.01, low: float = 0.0) -> tuple[float, SimResult]:
    """Smallest budget ratio (of `peak`) at which `config` runs the trace, by bisection to
    `resolution`; returns the ratio and the simulation there."""
    peak = peak or peak_memory(trace)
    hi_ratio = 1.0
    best = simulate(trace, config, int(peak * hi_ratio))
    if not best.feasible:
        raise Infeasible(f"{config.policy} cannot run {trace.name} even at the full peak "
                         f"({peak} bytes): {best.reason}")
    lo_ratio = low
    while hi_ratio - lo_ratio > resolution:
        mid = (lo_ratio + hi_ratio) / 2
        result = simulate(trace, config, int(peak * mid))
        if result.feasible:
            hi_ratio, best = mid, result
        else:
            lo_ratio = mid
    return hi_ratio, best
