"""jaxhin.sbp: OneFlow's SBP abstraction on `jax.sharding`.

Placements (`Split`, `Broadcast`, `Partial`), their `PartitionSpec`s, global tensors, boxing as
JAX collectives with a byte cost checked against compiled HLO.
"""

from jaxhin.sbp._boxing import BoxingStep, box_local, boxing_bytes, boxing_fn, plan_boxing
from jaxhin.sbp._global import GlobalTensor, redistribute, to_global, to_logical
from jaxhin.sbp._hlo import (
    HloCollective,
    collective_bytes,
    compiled_collective_bytes,
    hlo_collective_bytes,
    parse_collectives,
)
from jaxhin.sbp._placement import (
    PARTIAL_OPS,
    B,
    Broadcast,
    NdSbp,
    P,
    Partial,
    PlacementError,
    S,
    Sbp,
    Split,
    check_placement,
    from_partition_spec,
    local_shape,
    make_mesh,
    parse_mesh,
    parse_sbp,
    partial_axes,
    physical_spec,
    to_named_sharding,
    to_partition_spec,
)

__all__ = [
    "PARTIAL_OPS",
    "B",
    "BoxingStep",
    "Broadcast",
    "GlobalTensor",
    "HloCollective",
    "NdSbp",
    "P",
    "Partial",
    "PlacementError",
    "S",
    "Sbp",
    "Split",
    "box_local",
    "boxing_bytes",
    "boxing_fn",
    "check_placement",
    "collective_bytes",
    "compiled_collective_bytes",
    "from_partition_spec",
    "hlo_collective_bytes",
    "local_shape",
    "make_mesh",
    "parse_collectives",
    "parse_mesh",
    "parse_sbp",
    "partial_axes",
    "physical_spec",
    "plan_boxing",
    "redistribute",
    "to_global",
    "to_logical",
    "to_named_sharding",
    "to_partition_spec",
]
