"""The sharding gate for other packages: host arrays onto a mesh and per-device programs,
both placed with SBP (so `lda` and later systems build no `NamedSharding` or `shard_map`).

Example:
  >>> mesh = make_mesh("data=2,model=4")                                # doctest: +SKIP
  >>> rows = put_from_host(np.arange(16).reshape(8, 2), (S(0), S(0)), mesh)  # 1 row a device
  >>> f = shard_map(lambda x: x * 2, mesh, ((S(0), S(0)),), (S(0), S(0)))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from jaxhin.sbp._placement import NdSbp, Partial, Split, to_named_sharding, to_partition_spec


def _spec(sbp: NdSbp, mesh: Mesh) -> PartitionSpec:
    if any(isinstance(e, Partial) for e in sbp):
        raise ValueError(f"shard_map: placement {sbp} is partial; give the per-device program "
                         f"split or broadcast values and reduce inside it")
    ndim = 1 + max((e.axis for e in sbp if isinstance(e, Split)), default=-1)
    return to_partition_spec(sbp, mesh, ndim)


def put_from_host(value, sbp: NdSbp, mesh: Mesh) -> jax.Array:
    """A global array placed as `sbp` from a host value that every process holds whole; each
    process hands over only its own devices' shards (works multi-host)."""
    value = np.asarray(value)
    sharding = to_named_sharding(sbp, mesh, value.ndim)
    return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])


def shard_map(f: Callable, mesh: Mesh, in_sbp: Sequence[NdSbp], out_sbp, *,
              check_vma: bool = False) -> Callable:
    """`jax.shard_map` with inputs and outputs placed by SBP (Split or Broadcast per mesh
    axis): `f` sees each device's block. `out_sbp` is one placement or a tuple of them."""
    out = (tuple(_spec(s, mesh) for s in out_sbp) if isinstance(out_sbp[0], tuple)
           else _spec(out_sbp, mesh))
    return jax.shard_map(f, mesh=mesh, in_specs=tuple(_spec(s, mesh) for s in in_sbp),
                         out_specs=out, check_vma=check_vma)
