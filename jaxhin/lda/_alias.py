"""Walker alias tables for many distributions at once, built on device without a sequential loop.

Vose's algorithm pops one small and one large bucket per step, so it is O(K) *sequential* steps
per table; vmapping it over words still costs K steps of the longest table. Here every bucket is
filled independently (Hübschle-Schneider & Sanders, "Parallel Weighted Random Sampling", 2019,
the sweeping construction): normalise each distribution to mean 1, keep the light items (q < 1)
and the heavy items (q >= 1) in order, and take exclusive prefix sums of the lights' deficits
sigma_L(i) = sum_{i' < i} (1 - q_i') and the heavies' excesses sigma_H(j) = sum_{j' < j} (q_j' - 1).
The sequential sweep fills light i from the heavy j with sigma_H(j) <= sigma_L(i) < sigma_H(j+1),
and heavy j, once its residual drops to at most 1, keeps 1 - (sigma_L(i*) - sigma_H(j+1)) and
takes the rest from heavy j+1, where i* is the first light with sigma_L(i*) >= sigma_H(j+1).
Both follow from one binary search per heavy item (i_start(j) = #lights with sigma_L <
sigma_H(j)) and a running max, so a table of n items costs O(n log n) work in the worst case
but O(log n) depth, and a ragged batch of tables (one per word, of any lengths) is one
flat computation.

No library offers this on device (numpy/JAX have no alias sampler), hence the hand-written code.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def _segmented_cumsum(x: jax.Array, reset: jax.Array) -> jax.Array:
    """Inclusive cumulative sum restarting wherever `reset` is True (float-exact per segment,
    unlike a global cumsum minus an offset)."""

    def combine(a, b):
        a_val, a_flag = a
        b_val, b_flag = b
        return jnp.where(b_flag, b_val, a_val + b_val), a_flag | b_flag

    out, _ = jax.lax.associative_scan(combine, (x, reset))
    return out


def _count_below(values: jax.Array, lo: jax.Array, hi: jax.Array, x: jax.Array, steps: int,
                 inclusive: bool) -> jax.Array:
    """For each query, how many of values[lo:hi] (ascending) are < x (or <= x if inclusive)."""
    size = values.shape[0]
    lo0 = lo

    # A loop, not an unrolled chain: XLA would otherwise fuse each step's gather with the
    # computation of `values` and redo it per gathered element (measured 6x slower).
    def step(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        v = values[jnp.clip(mid, 0, size - 1)]
        go_right = (v <= x) if inclusive else (v < x)
        go_right &= mid < hi
        return jnp.where(go_right, mid + 1, lo), jnp.where(go_right, hi, mid)

    lo, _ = jax.lax.fori_loop(0, steps, step, (lo, hi))
    return lo - lo0


# jitted as a whole: called eagerly (from a notebook, or `alias_table` on a new length), op-by-op
# dispatch compiles dozens of small kernels per shape, 3-5x slower than one XLA compile
@functools.partial(jax.jit, static_argnames="max_len")
def segment_alias(weights: jax.Array, seg_start: jax.Array, seg_len: jax.Array,
                  seg_of: jax.Array, max_len: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Alias tables of many distributions laid end to end.

    Args:
      weights: (M,) positive weights; segment s occupies [seg_start[s], seg_start[s] + seg_len[s]).
      seg_start, seg_len: (S,) int32 segment layout; segments are contiguous and in order.
      seg_of: (M,) int32 segment of each item.
      max_len: an upper bound on seg_len (static; sets the binary-search depth).

    Returns:
      `(prob, alias, item)`, (M,) each, over buckets: segment s's buckets are the flat positions
      [seg_start[s], seg_start[s] + seg_len[s]) (in an order of the algorithm's choosing, so
      nothing is scattered back). To draw from segment s: b = seg_start[s] + uniform index
      below seg_len[s]; keep b with probability prob[b], else b = alias[b]; the draw is the
      item `item[b]` (a flat index into `weights`).
    """
    m = weights.shape[0]
    steps = max(1, int(max_len).bit_length())
    idx = jnp.arange(m, dtype=jnp.int32)
    total = jax.ops.segment_sum(weights, seg_of, num_segments=seg_start.shape[0])
    start, length = seg_start[seg_of], seg_len[seg_of]
    q = weights * (length / total[seg_of])
    light = q < 1.0
    # Stable partition of each segment: lights first, then heavies (integer cumsums are exact).
    light_i = light.astype(jnp.int32)
    before = jnp.cumsum(light_i) - light_i
    rank_light = before - before[start]
    n_light = jax.ops.segment_sum(light_i, seg_of, num_segments=seg_start.shape[0])[seg_of]
    rank_heavy = (idx - start) - rank_light
    pos = start + jnp.where(light, rank_light, n_light + rank_heavy)
    perm = jnp.zeros((m,), jnp.int32).at[pos].set(idx)
    qp = q[perm]
    is_light = jnp.arange(m) - start < n_light  # in partitioned order (start, n_light per slot)
    # Exclusive prefix sums of deficits (light part) and excesses (heavy part), per part.
    gap = jnp.where(is_light, 1.0 - qp, qp - 1.0)
    reset = (idx == start) | (idx == start + n_light)
    inclusive = _segmented_cumsum(gap, reset)
    sigma = inclusive - gap
    light_lo, light_hi = start, start + n_light
    heavy_lo = start + n_light
    n_heavy = length - n_light
    total_deficit = jnp.where(n_light > 0, inclusive[jnp.maximum(light_hi - 1, 0)], 0.0)

    # One search serves both bucket kinds: for each heavy j, i_start(j) = the number of lights
    # with sigma_L < sigma_H(j), i.e. the first light it tops up.
    i_start = _count_below(sigma, light_lo, light_hi, sigma, steps, inclusive=False)
    is_heavy = ~is_light
    # A light bucket i is topped up by the last heavy j with i_start(j) <= i: mark each heavy at
    # its first light, then a running max over the flat array (heavy positions grow along it,
    # and each segment's heavy 0 marks the segment's first light, so segments never mix).
    mark_at = jnp.where(is_heavy & (i_start < n_light), light_lo + i_start, m)
    marks = jnp.full((m,), -1, jnp.int32).at[mark_at].max(idx, mode="drop")
    filler = jax.lax.cummax(marks)
    light_prob = jnp.where(n_heavy > 0, qp, 1.0)
    light_alias = jnp.where(n_heavy > 0, jnp.clip(filler, 0, m - 1), idx)
    # A heavy bucket j: what is left of it once it turns light, topped up by heavy j+1; it turns
    # light at light i_start(j+1), so its deficit is sigma_L(i_start(j+1)) - sigma_H(j+1).
    j_here = idx - heavy_lo
    nxt = jnp.minimum(idx + 1, m - 1)
    sigma_next = sigma[nxt]
    i_star = i_start[nxt]
    sigma_l = jnp.where(i_star < n_light, sigma[jnp.minimum(light_lo + i_star, m - 1)],
                        total_deficit)
    deficit = jnp.clip(sigma_l - sigma_next, 0.0, 1.0)
    last = j_here >= n_heavy - 1
    heavy_prob = jnp.where(last, 1.0, 1.0 - deficit)
    heavy_alias = jnp.where(last, idx, nxt)
    prob = jnp.where(is_light, light_prob, heavy_prob).astype(jnp.float32)
    alias = jnp.where(is_light, light_alias, heavy_alias)
    return prob, alias, perm


@jax.jit
def alias_table(weights: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Walker's alias table of one distribution: `(prob, alias, item)`, (K,) each.

    Draw bucket b uniformly, keep b with probability prob[b], else b = alias[b]; the draw is
    item[b].
    """
    k = weights.shape[0]
    zero = jnp.zeros((1,), jnp.int32)
    return segment_alias(weights, zero, jnp.full((1,), k, jnp.int32),
                         jnp.zeros((k,), jnp.int32), k)


def uniform_index(u: jax.Array, n: jax.Array) -> jax.Array:
    """A uniform index in [0, n) from a uniform u in [0, 1) (clipped: float rounding of u n)."""
    return jnp.minimum((u * n).astype(jnp.int32), n - 1)


def sample_alias(prob: jax.Array, alias: jax.Array, start: jax.Array, length: jax.Array,
                 u_bucket: jax.Array, u_keep: jax.Array) -> jax.Array:
    """Draw from segment tables: bucket positions (map them through `item`), O(1) each."""
    b = start + uniform_index(u_bucket, length)
    return jnp.where(u_keep < prob[b], b, alias[b])
