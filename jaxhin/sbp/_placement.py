"""SBP placements (OneFlow, Sec. 3.1) and their meaning on a `jax.sharding.Mesh`.

A placement of a tensor on a mesh is an N-D SBP: one entry per mesh axis, in mesh-axis order.
Along mesh axis a of size n the tensor is
  S(i): split into n equal blocks along tensor dimension i, block k on coordinate k;
  B:    broadcast, every coordinate holds the whole (block);
  P(op): partial, the coordinates hold tensors whose element-wise `op` (sum, max, min) is the
        value.
Several mesh axes splitting the same tensor dimension nest in mesh-axis order (the earlier axis is
the outer one), as `PartitionSpec(("data", "model"))` does.

Partial values cannot be held by a plain sharded `jax.Array` (JAX's `unreduced` specs need the
Explicit sharding mode, which our GSPMD planning does not use), so jaxhin stores them explicitly:
the *physical* array has one extra leading dimension per partial mesh axis, of that axis's size and
split over it, and each coordinate's slice is its partial tensor (see `physical_spec`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

PARTIAL_OPS = ("sum", "max", "min")


class PlacementError(ValueError):
    """An SBP placement that cannot hold a tensor: the message names tensor, op and placement."""


@dataclasses.dataclass(frozen=True)
class Split:
    """S(axis): split along tensor dimension `axis` (non-negative)."""

    axis: int

    def __repr__(self) -> str:
        return f"S({self.axis})"


@dataclasses.dataclass(frozen=True)
class Broadcast:
    """B: every device along the mesh axis holds the same tensor."""

    def __repr__(self) -> str:
        return "B"


@dataclasses.dataclass(frozen=True)
class Partial:
    """P(op): the devices along the mesh axis hold partial tensors reduced by `op`."""

    op: str = "sum"

    def __repr__(self) -> str:
        return f"P({self.op})" if self.op != "sum" else "P"


Sbp = Split | Broadcast | Partial
NdSbp = tuple[Sbp, ...]

B = Broadcast()
P = Partial()


def S(axis: int) -> Split:
    """Return `Split(axis)`."""
    return Split(axis)


def make_mesh(axes: Mapping[str, int] | str, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """Build a mesh with GSPMD (Auto) axes from `{"data": 2, "model": 4}` or `"data=2,model=4"`.

    All mesh construction goes through here so JAX API changes land in one place.

    Example:
      >>> mesh = make_mesh("data=2,model=4")  # doctest: +SKIP
    """
    if isinstance(axes, str):
        axes = parse_mesh(axes)
    names, sizes = tuple(axes), tuple(axes.values())
    if devices is None:
        return jax.make_mesh(sizes, names, axis_types=(AxisType.Auto,) * len(names))
    if len(devices) != math.prod(sizes):
        raise ValueError(f"mesh {dict(axes)} needs {math.prod(sizes)} devices, got {len(devices)}")
    return Mesh(np.asarray(devices).reshape(sizes), names,
                axis_types=(AxisType.Auto,) * len(names))


def parse_mesh(text: str) -> dict[str, int]:
    """Parse `"data=2,model=4"` into `{"data": 2, "model": 4}`, with a clear error."""
    axes: dict[str, int] = {}
    for part in text.split(","):
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*(\d+)\s*", part)
        if not match or int(match.group(2)) < 1:
            raise ValueError(f"bad mesh {text!r}: expected NAME=SIZE[,NAME=SIZE...], "
                             f"e.g. data=2,model=4; could not read {part!r}")
        if match.group(1) in axes:
            raise ValueError(f"bad mesh {text!r}: axis {match.group(1)!r} given twice")
        axes[match.group(1)] = int(match.group(2))
    return axes


def parse_sbp(text: str) -> NdSbp:
    """Parse `"S0,B"`, `"S(1), P"`, `"P(max)"` into an N-D SBP tuple."""
    out: list[Sbp] = []
    for part in re.split(r"\s*,\s*(?![^(]*\))", text.strip()):
        if m := re.fullmatch(r"S\(?(\d+)\)?", part):
            out.append(Split(int(m.group(1))))
        elif part == "B":
            out.append(Broadcast())
        elif m := re.fullmatch(r"P(?:\((\w+)\))?", part):
            out.append(Partial(m.group(1) or "sum"))
        else:
            raise ValueError(f"bad SBP {text!r}: {part!r} is not S(i), B or P[(op)]")
    return tuple(out)


def _describe(name: str | None, op: str | None) -> str:
    where = f"tensor {name!r}" if name else "tensor"
    return f"{where} of op {op!r}" if op else where


def check_placement(sbp: NdSbp, shape: Sequence[int], mesh: Mesh, *, name: str | None = None,
                    op: str | None = None) -> NdSbp:
    """Validate `sbp` for a tensor of `shape` on `mesh`; return it normalised to a tuple.

    Raises:
      PlacementError: wrong number of entries, a split axis out of range, a dimension not
        divisible by the mesh axes splitting it, or an unknown partial op. The message names the
        tensor, the op and the placement.
    """
    sbp = tuple(sbp) if not isinstance(sbp, Split | Broadcast | Partial) else (sbp,)
    what = f"{_describe(name, op)} with shape {tuple(shape)} and placement {sbp}"
    if len(sbp) != len(mesh.axis_names):
        raise PlacementError(f"{what}: needs one SBP per mesh axis {mesh.axis_names}, "
                             f"got {len(sbp)}")
    for axis_name, entry in zip(mesh.axis_names, sbp, strict=True):
        if isinstance(entry, Split) and not 0 <= entry.axis < len(shape):
            raise PlacementError(f"{what}: {entry} on mesh axis {axis_name!r} is out of range "
                                 f"for a {len(shape)}-D tensor")
        if isinstance(entry, Partial) and entry.op not in PARTIAL_OPS:
            raise PlacementError(f"{what}: unknown partial op {entry.op!r}; "
                                 f"expected one of {PARTIAL_OPS}")
        if not isinstance(entry, Split | Broadcast | Partial):
            raise PlacementError(f"{what}: {entry!r} is not Split, Broadcast or Partial")
    for dim, size in enumerate(shape):
        parts = math.prod(n for n, e in zip(mesh.devices.shape, sbp, strict=True)
                          if isinstance(e, Split) and e.axis == dim)
        if size % parts:
            raise PlacementError(f"{what}: dimension {dim} of size {size} is not divisible "
                                 f"into {parts} blocks")
    return sbp


def local_shape(sbp: NdSbp, shape: Sequence[int], mesh: Mesh) -> tuple[int, ...]:
    """Shape of one device's block (partial axes add no dimension here)."""
    out = list(shape)
    for n, entry in zip(mesh.devices.shape, sbp, strict=True):
        if isinstance(entry, Split):
            out[entry.axis] //= n
    return tuple(out)


def partial_axes(sbp: NdSbp, mesh: Mesh) -> tuple[str, ...]:
    """Mesh axes along which `sbp` is partial, in mesh order."""
    return tuple(a for a, e in zip(mesh.axis_names, sbp, strict=True) if isinstance(e, Partial))


def to_partition_spec(sbp: NdSbp, mesh: Mesh, ndim: int) -> PartitionSpec:
    """Return the `PartitionSpec` of the logical tensor (Partial axes do not appear).

    Example:
      >>> to_partition_spec((S(0), B), make_mesh("data=2,model=4"), 2)  # doctest: +SKIP
      PartitionSpec('data', None)
    """
    dims: list[list[str]] = [[] for _ in range(ndim)]
    for axis_name, entry in zip(mesh.axis_names, sbp, strict=True):
        if isinstance(entry, Split):
            dims[entry.axis].append(axis_name)
    return PartitionSpec(*(None if not d else d[0] if len(d) == 1 else tuple(d) for d in dims))


def physical_spec(sbp: NdSbp, mesh: Mesh, ndim: int) -> PartitionSpec:
    """`PartitionSpec` of the physical array: one leading dim per partial axis, then the tensor."""
    return PartitionSpec(*partial_axes(sbp, mesh), *to_partition_spec(sbp, mesh, ndim))


def to_named_sharding(sbp: NdSbp, mesh: Mesh, ndim: int) -> NamedSharding:
    """`NamedSharding` of the physical array of a tensor placed as `sbp`."""
    return NamedSharding(mesh, physical_spec(sbp, mesh, ndim))


def from_partition_spec(spec: PartitionSpec, mesh: Mesh) -> NdSbp:
    """Return the N-D SBP of a `PartitionSpec` (no Partial: a spec cannot express one).

    Raises:
      PlacementError: a mesh axis used twice, an unknown axis, or axes nested against mesh order.
    """
    out: dict[str, Sbp] = {a: Broadcast() for a in mesh.axis_names}
    for dim, entry in enumerate(spec):
        names = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        order = [mesh.axis_names.index(a) if a in mesh.axis_names else -1 for a in names]
        if -1 in order:
            raise PlacementError(f"spec {spec}: unknown mesh axis in {names}; "
                                 f"mesh axes are {mesh.axis_names}")
        if order != sorted(order):
            raise PlacementError(f"spec {spec}: dimension {dim} nests mesh axes {names} against "
                                 f"mesh order {mesh.axis_names}, which SBP cannot express")
        for a in names:
            if not isinstance(out[a], Broadcast):
                raise PlacementError(f"spec {spec}: mesh axis {a!r} used twice")
            out[a] = Split(dim)
    return tuple(out[a] for a in mesh.axis_names)
