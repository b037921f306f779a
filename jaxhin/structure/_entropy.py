"""Entropy estimators for a layer's outputs (nats throughout).

The paper's principle: a good structure maximises I(X; Y) between a layer's input and output,
which for a deterministic layer is the output entropy H(Y). H(Y) of many continuous units has
no exact estimator, so four are given, each right in its own regime:

- `unit_entropy` / `sum_unit_entropy`: plug-in (histogram) entropy of each unit, and their sum,
  an upper bound on the joint entropy (sub-additivity) that is cheap for thousands of units.
- `pattern_entropy`: plug-in entropy of the binarised joint pattern (which units are on); exact
  for the discrete pattern, usable for up to about 20 units.
- `gaussian_entropy`: 1/2 log det(2 pi e Sigma), the entropy of a Gaussian with the outputs'
  covariance, an upper bound on the differential entropy for that covariance.
- `knn_entropy`: Kozachenko-Leonenko's k-nearest-neighbour estimator of differential entropy,
  consistent for any density, for tens of dimensions.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln


def _plugin(counts: jax.Array) -> jax.Array:
    """Plug-in entropy of the last axis of a count array."""
    p = counts / jnp.maximum(counts.sum(-1, keepdims=True), 1)
    return -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0), -1)


@functools.partial(jax.jit, static_argnames=("bins", "differential"))
def unit_entropy(x: jax.Array, bins: int = 32, differential: bool = False) -> jax.Array:
    """Histogram entropy of each unit (column) of `x`.

    Each unit's range [min, max] is cut into `bins` equal bins. The plug-in entropy of the bin
    counts is the entropy of the discretised unit; with `differential=True` the log bin width is
    added, which estimates the differential entropy of a continuous unit.

    Args:
      x: (N, U) outputs of U units on N inputs.
      bins: number of bins per unit.
      differential: add log(bin width) (continuous units) or not (the quantised unit's entropy).

    Returns:
      (U,) entropies in nats. A constant unit has entropy 0 (and -inf is avoided: its width is
      taken as 1).

    Example:
      >>> h = unit_entropy(jax.random.uniform(jax.random.key(0), (10000, 3)))  # ~log 32 each
    """
    x = jnp.asarray(x, jnp.float32)
    lo, hi = x.min(0), x.max(0)
    width = jnp.where(hi > lo, (hi - lo) / bins, 1.0)
    idx = jnp.clip(((x - lo[None, :]) / width[None, :]).astype(jnp.int32), 0, bins - 1)
    counts = jax.vmap(lambda col: jnp.bincount(col, length=bins), in_axes=1)(idx)
    h = _plugin(counts.astype(jnp.float32))
    return h + jnp.log(width) if differential else h


def sum_unit_entropy(x: jax.Array, bins: int = 32) -> jax.Array:
    """Sum over units of the quantised-unit entropies: an upper bound on the joint entropy of
    the quantised outputs (equal when the units are independent)."""
    return unit_entropy(x, bins).sum()


@functools.partial(jax.jit, static_argnames=("threshold",))
def pattern_entropy(x: jax.Array, threshold: float = 0.0) -> jax.Array:
    """Plug-in entropy of the binary pattern `x > threshold` over U <= 24 units.

    Args:
      x: (N, U) outputs.
      threshold: a unit is "on" when its output exceeds this.

    Returns:
      Scalar entropy in nats of the empirical distribution of the N patterns.
    """
    u = x.shape[1]
    if u > 24:
        raise ValueError(f"pattern_entropy: x has {u} units; patterns are counted in a table of "
                         f"2**U entries, so U must be <= 24")
    code = ((x > threshold).astype(jnp.int32) << jnp.arange(u, dtype=jnp.int32)[None, :]).sum(1)
    return _plugin(jnp.bincount(code, length=2**u).astype(jnp.float32))


@jax.jit
def gaussian_entropy(x: jax.Array, ridge: float = 1e-6) -> jax.Array:
    """1/2 log det(2 pi e Sigma) of the outputs' covariance Sigma (ridge added to its diagonal):
    the differential entropy of a Gaussian, an upper bound for any density with that covariance.

    Args:
      x: (N, U) outputs.
      ridge: added to Sigma's diagonal so dead or duplicated units give a finite value.
    """
    x = jnp.asarray(x, jnp.float32)
    u = x.shape[1]
    cov = jnp.cov(x, rowvar=False).reshape(u, u) + ridge * jnp.eye(u)
    _, logdet = jnp.linalg.slogdet(cov)
    return 0.5 * (u * jnp.log(2 * jnp.pi * jnp.e) + logdet)


@functools.partial(jax.jit, static_argnames=("k", "block"))
def knn_entropy(x: jax.Array, k: int = 3, block: int = 512) -> jax.Array:
    """Kozachenko-Leonenko estimate of the differential entropy of N samples in d dimensions.

    H = psi(N) - psi(k) + log V_d + (d / N) sum_i log eps_i, where eps_i is the distance from
    sample i to its k-th nearest neighbour and V_d the volume of the unit d-ball (Kraskov,
    Stoegbauer, Grassberger 2004, eq. 20).

    Args:
      x: (N, d) samples (distinct; duplicates give eps = 0 and are clipped).
      k: which neighbour.
      block: rows whose distances are computed at once (memory N x block).
    """
    x = jnp.asarray(x, jnp.float32)
    n, d = x.shape
    pad = (-n) % block
    rows = jnp.pad(x, ((0, pad), (0, 0))).reshape(-1, block, d)
    sq = (x * x).sum(1)

    def kth(chunk):
        dist2 = (chunk * chunk).sum(1)[:, None] + sq[None, :] - 2 * chunk @ x.T
        # k + 1 smallest: the first is the sample itself (distance 0).
        return -jax.lax.top_k(-dist2, k + 1)[0][:, k]

    eps2 = jax.lax.map(kth, rows).reshape(-1)[:n]
    log_eps = 0.5 * jnp.log(jnp.maximum(eps2, 1e-20))
    log_vd = (d / 2) * jnp.log(jnp.pi) - gammaln(d / 2 + 1)
    return digamma(n) - digamma(k) + log_vd + d * log_eps.mean()
