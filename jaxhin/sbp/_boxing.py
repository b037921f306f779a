"""Boxing (OneFlow, Sec. 3.3): converting a tensor between SBP placements with collectives.

A conversion is planned as a list of `BoxingStep`s, each a 1-D transition along one mesh axis:
  P -> B  all-reduce          P -> S(i)  reduce-scatter      S(i) -> B  all-gather
  S(i) -> S(j)  all-to-all    B -> S(i)  local slice          B -> P, S(i) -> P  local (zeros)
Each step's bytes come from `collective_bytes` (the formulas that `_hlo` reads back from compiled
HLO), so the predicted cost of a conversion can be checked against what XLA emits.

N-D conversions run axis by axis. Splits of one tensor dimension over several mesh axes nest in
mesh order, so an axis can be converted in place only if no later (inner) axis splits the same
dimension; other axes first go to B innermost-first, then to their target outermost-first.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from jaxhin.sbp import _placement
from jaxhin.sbp._hlo import collective_bytes
from jaxhin.sbp._placement import Broadcast, NdSbp, Partial, PlacementError, Sbp, Split

_IDENTITY = {"sum": 0.0, "max": -jnp.inf, "min": jnp.inf}


@dataclasses.dataclass(frozen=True)
class BoxingStep:
    """One 1-D transition along mesh axis `axis`.

    Attributes:
      axis: mesh axis name.
      src, dst: the SBP along that axis before and after.
      collective: HLO collective it lowers to, or None for a local op.
      block_shape: this device's block before the step.
      bytes: total bytes sent over all devices of the mesh.
    """

    axis: str
    src: Sbp
    dst: Sbp
    collective: str | None
    block_shape: tuple[int, ...]
    bytes: Fraction


def _split_dims(entry: Sbp) -> set[int]:
    return {entry.axis} if isinstance(entry, Split) else set()


def _primitive_path(src: Sbp, dst: Sbp) -> list[tuple[Sbp, Sbp, str | None]]:
    """Decompose a 1-D transition into primitive ones with their collective."""
    if src == dst:
        return []
    if isinstance(src, Partial):
        if isinstance(dst, Split) and src.op == "sum":
            return [(src, dst, "reduce-scatter")]
        if isinstance(dst, Broadcast):
            return [(src, dst, "all-reduce")]
        return [(src, Broadcast(), "all-reduce"), *_primitive_path(Broadcast(), dst)]
    if isinstance(src, Split):
        if isinstance(dst, Broadcast):
            return [(src, dst, "all-gather")]
        if isinstance(dst, Split):
            return [(src, dst, "all-to-all")]
        return [(src, dst, None)]  # S -> P: local
    return [(src, dst, None)]  # B -> S, B -> P: local


def _check_partial_ops(sbp: NdSbp, name: str | None) -> None:
    ops = {e.op for e in sbp if isinstance(e, Partial)}
    if len(ops) > 1:
        raise PlacementError(f"tensor {name or ''!r} placement {sbp}: mixing partial ops {ops} "
                             f"on one tensor has no defined value")


def plan_boxing(src: NdSbp, dst: NdSbp, shape: Sequence[int], dtype, mesh: Mesh, *,
                name: str | None = None) -> tuple[BoxingStep, ...]:
    """Plan the conversion of a tensor of `shape`/`dtype` from placement `src` to `dst`.

    Example:
      >>> steps = plan_boxing((P,), (B,), (8, 4), jnp.float32, mesh)  # doctest: +SKIP
      >>> [s.collective for s in steps]
      ['all-reduce']
    """
    src = _placement.check_placement(src, shape, mesh, name=name, op="boxing")
    dst = _placement.check_placement(dst, shape, mesh, name=name, op="boxing")
    for sbp in (src, dst):
        _check_partial_ops(sbp, name)
    k = len(src)
    dims = [_split_dims(src[i]) | _split_dims(dst[i]) for i in range(k)]
    differing = [i for i in range(k) if src[i] != dst[i]]
    via_b = {i for i in differing if any(dims[i] & dims[j] for j in range(i + 1, k))}
    grown = True
    while grown:  # an axis gathered to B needs the inner axes splitting its dims gathered first
        extra = {j for i in via_b for j in range(i + 1, k) if _split_dims(src[j]) & dims[i]}
        grown = not extra <= via_b
        via_b |= extra
    order = [(i, Broadcast()) for i in sorted(via_b, reverse=True) if src[i] != Broadcast()]
    order += [(i, dst[i]) for i in range(k)]

    itemsize = np.dtype(dtype).itemsize
    sizes = mesh.devices.shape
    num_devices = mesh.devices.size
    current = list(src)
    block = list(_placement.local_shape(src, shape, mesh))
    steps = []
    for i, target in order:
        for a, b, collective in _primitive_path(current[i], target):
            nbytes = Fraction(0)
            if collective is not None:
                nbytes = collective_bytes(collective, math.prod(block) * itemsize, sizes[i],
                                          num_devices)
            steps.append(BoxingStep(mesh.axis_names[i], a, b, collective, tuple(block), nbytes))
            if isinstance(a, Split):
                block[a.axis] *= sizes[i]
            if isinstance(b, Split):
                block[b.axis] //= sizes[i]
            current[i] = b
    return tuple(steps)


def boxing_bytes(src: NdSbp, dst: NdSbp, shape: Sequence[int], dtype, mesh: Mesh) -> Fraction:
    """Predicted total bytes of converting `src` to `dst` (sum of the planned steps)."""
    return sum((s.bytes for s in plan_boxing(src, dst, shape, dtype, mesh)), Fraction(0))


def _apply_step(x: jax.Array, step: BoxingStep, n: int, partial_op: dict[str, str]) -> jax.Array:
    """Apply one step to this device's block `x` inside `shard_map`."""
    a, b, axis = step.src, step.dst, step.axis
    if step.collective == "all-reduce":
        reduce = {"sum": jax.lax.psum, "max": jax.lax.pmax, "min": jax.lax.pmin}[a.op]
        x = reduce(x, axis)
    elif step.collective == "reduce-scatter":
        x = jax.lax.psum_scatter(x, axis, scatter_dimension=b.axis, tiled=True)
    elif step.collective == "all-gather":
        x = jax.lax.all_gather(x, axis, axis=a.axis, tiled=True)
    elif step.collective == "all-to-all":
        x = jax.lax.all_to_all(x, axis, split_axis=b.axis, concat_axis=a.axis, tiled=True)
    else:
        index = jax.lax.axis_index(axis)
        if isinstance(a, Broadcast) and isinstance(b, Split):
            size = x.shape[b.axis] // n
            x = jax.lax.dynamic_slice_in_dim(x, index * size, size, axis=b.axis)
        elif isinstance(a, Broadcast) and isinstance(b, Partial):
            if b.op == "sum":  # one coordinate keeps the value; max/min keep it everywhere
                x = jnp.where(index == 0, x, jnp.zeros_like(x))
        elif isinstance(a, Split) and isinstance(b, Partial):
            full = list(x.shape)
            full[a.axis] *= n
            x = jax.lax.dynamic_update_slice_in_dim(
                jnp.full(full, _IDENTITY[b.op], x.dtype), x, index * x.shape[a.axis], a.axis)
        else:  # pragma: no cover - _primitive_path produces no other local step
            raise AssertionError(step)
    if isinstance(a, Partial):
        partial_op.pop(axis)
    if isinstance(b, Partial):
        partial_op[axis] = b.op
    return x


def box_local(x: jax.Array, steps: Sequence[BoxingStep], src: NdSbp, dst: NdSbp,
              mesh: Mesh) -> jax.Array:
    """Run planned `steps` on a physical local block inside `shard_map` (leading partial dims)."""
    sizes = dict(zip(mesh.axis_names, mesh.devices.shape, strict=True))
    src_partial = _placement.partial_axes(src, mesh)
    x = x.reshape(x.shape[len(src_partial):])
    partial_op = {a: e.op for a, e in zip(mesh.axis_names, src, strict=True)
                  if isinstance(e, Partial)}
    for step in steps:
        x = _apply_step(x, step, sizes[step.axis], partial_op)
    return x.reshape((1,) * len(_placement.partial_axes(dst, mesh)) + x.shape)


@functools.lru_cache(maxsize=256)
def _boxing_fn(src: NdSbp, dst: NdSbp, shape: tuple[int, ...], dtype: str, mesh: Mesh):
    steps = plan_boxing(src, dst, shape, dtype, mesh)
    ndim = len(shape)
    fn = jax.shard_map(functools.partial(box_local, steps=steps, src=src, dst=dst, mesh=mesh),
                       mesh=mesh, in_specs=_placement.physical_spec(src, mesh, ndim),
                       out_specs=_placement.physical_spec(dst, mesh, ndim), check_vma=False)
    return jax.jit(fn)


def boxing_fn(src: NdSbp, dst: NdSbp, shape: Sequence[int], dtype, mesh: Mesh):
    """Return a jitted function converting a physical array from `src` to `dst`."""
    return _boxing_fn(tuple(src), tuple(dst), tuple(shape), np.dtype(dtype).name, mesh)
