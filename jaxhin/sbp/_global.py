"""Global tensors: a physical `jax.Array` together with its SBP placement and mesh."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from jaxhin.sbp._boxing import boxing_fn
from jaxhin.sbp._placement import (
    NdSbp,
    Partial,
    check_placement,
    parse_sbp,
    partial_axes,
    to_named_sharding,
)

_REDUCE = {"sum": jnp.sum, "max": jnp.max, "min": jnp.min}


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class GlobalTensor:
    """A logical tensor placed on `mesh` as `sbp` (OneFlow's global tensor).

    `data` is the physical array: one leading dimension per partial mesh axis (see
    `jaxhin.sbp.physical_spec`), then the logical tensor, sharded by `to_named_sharding`.
    """

    data: jax.Array
    sbp: NdSbp = dataclasses.field(metadata={"static": True})
    mesh: Mesh = dataclasses.field(metadata={"static": True})

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[len(partial_axes(self.sbp, self.mesh)):])

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self) -> str:
        mesh = ", ".join(f"{a}={n}" for a, n in self.mesh.shape.items())
        return (f"GlobalTensor(shape={self.shape}, dtype={self.dtype}, "
                f"sbp=({', '.join(map(repr, self.sbp))}), mesh=({mesh}))")


def to_global(x, sbp: NdSbp | str, mesh: Mesh, *, name: str | None = None) -> GlobalTensor:
    """Place the logical value `x` on `mesh` as `sbp`.

    A P(sum) axis keeps `x` on its coordinate 0 and zeros elsewhere; P(max)/P(min) keep `x`
    everywhere (both reduce back to `x`).

    Example:
      >>> g = to_global(jnp.ones((8, 4)), "S0,B", make_mesh("data=2,model=4"))  # doctest: +SKIP
    """
    sbp = parse_sbp(sbp) if isinstance(sbp, str) else tuple(sbp)
    x = jnp.asarray(x)
    sbp = check_placement(sbp, x.shape, mesh, name=name, op="to_global")
    physical = x
    for axis_name, entry in reversed(list(zip(mesh.axis_names, sbp, strict=True))):
        if isinstance(entry, Partial):
            n = mesh.shape[axis_name]
            if entry.op == "sum":
                physical = jnp.concatenate(
                    [physical[None], jnp.zeros((n - 1, *physical.shape), x.dtype)])
            else:
                physical = jnp.broadcast_to(physical[None], (n, *physical.shape))
    return GlobalTensor(jax.device_put(physical, to_named_sharding(sbp, mesh, x.ndim)), sbp, mesh)


def to_logical(g: GlobalTensor) -> jax.Array:
    """Return the logical value of `g` (reducing partial axes)."""
    x = g.data
    for entry in g.sbp:
        if isinstance(entry, Partial):
            x = _REDUCE[entry.op](x, axis=0)
    return x


def redistribute(g: GlobalTensor, sbp: NdSbp | str, *, name: str | None = None) -> GlobalTensor:
    """Convert `g` to placement `sbp` with the collectives of `plan_boxing`."""
    sbp = parse_sbp(sbp) if isinstance(sbp, str) else tuple(sbp)
    sbp = check_placement(sbp, g.shape, g.mesh, name=name, op="redistribute")
    if sbp == g.sbp:
        return g
    fn = boxing_fn(g.sbp, sbp, g.shape, g.dtype, g.mesh)
    return GlobalTensor(fn(g.data), sbp, g.mesh)
