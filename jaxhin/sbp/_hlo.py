"""Collective traffic read from compiled HLO text, with the same byte formulas as the cost model.

Both sides use `collective_bytes`: for a collective over groups of n devices whose per-device
input block is b bytes, each device sends (ring algorithms, OneFlow Table 2 summed over devices)
  all-reduce     2 (n - 1) / n * b
  reduce-scatter (n - 1) / n * b
  all-gather     (n - 1) * b
  all-to-all     (n - 1) / n * b
  collective-permute  b
and the total is that times the number of participating devices. From HLO the input block is
derived from the printed result shape (all-gather result = n b, reduce-scatter result = b / n).
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

_ITEMSIZE = {"pred": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4,
             "u32": 4, "f32": 4, "s64": 8, "u64": 8, "f64": 8, "c64": 8, "c128": 16,
             "f8e4m3fn": 1, "f8e5m2": 1}
COLLECTIVES = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "collective-permute")


def collective_bytes(kind: str, block_bytes: int | Fraction, group_size: int,
                     num_devices: int) -> Fraction:
    """Total bytes sent by `num_devices` devices in groups of `group_size` (module docstring)."""
    n, b = group_size, Fraction(block_bytes)
    per_device = {
        "all-reduce": 2 * (n - 1) * b / n,
        "reduce-scatter": (n - 1) * b / n,
        "all-gather": (n - 1) * b,
        "all-to-all": (n - 1) * b / n,
        "collective-permute": b,
    }
    if kind not in per_device:
        raise ValueError(f"unknown collective {kind!r}; expected one of {COLLECTIVES}")
    return per_device[kind] * num_devices


@dataclasses.dataclass(frozen=True)
class HloCollective:
    """One collective instruction of a compiled HLO module."""

    kind: str
    result_bytes: int
    group_size: int
    num_groups: int
    line: str

    @property
    def block_bytes(self) -> Fraction:
        """Per-device input block, from the result size."""
        if self.kind == "all-gather":
            return Fraction(self.result_bytes, self.group_size)
        if self.kind == "reduce-scatter":
            return Fraction(self.result_bytes * self.group_size)
        return Fraction(self.result_bytes)

    @property
    def bytes(self) -> Fraction:
        return collective_bytes(self.kind, self.block_bytes, self.group_size,
                                self.group_size * self.num_groups)


_SHAPE = re.compile(r"\b([a-z]\w*)\[([\d,]*)\]")
_INSTR = re.compile(r"=\s*(?P<shape>\(.*?\)|[a-z]\w*\[[\d,]*\](?:\{[^}]*\})?)\s+"
                    r"(?P<kind>" + "|".join(COLLECTIVES) + r")(?P<start>-start)?\(")


def _shape_bytes(text: str) -> list[int]:
    out = []
    for dtype, dims in _SHAPE.findall(text):
        if dtype not in _ITEMSIZE:
            raise ValueError(f"unknown HLO element type {dtype!r} in {text!r}")
        size = 1
        for d in filter(None, dims.split(",")):
            size *= int(d)
        out.append(size * _ITEMSIZE[dtype])
    return out


def _groups(line: str, num_devices: int) -> tuple[int, int]:
    if m := re.search(r"replica_groups=\[(\d+),(\d+)\]<=", line):
        return int(m.group(2)), int(m.group(1))
    if m := re.search(r"replica_groups=\{(\{[\d,]*\}(?:,\{[\d,]*\})*)\}", line):
        groups = re.findall(r"\{([\d,]*)\}", m.group(1))
        return len(groups[0].split(",")), len(groups)
    if "source_target_pairs" in line:
        pairs = re.findall(r"\{(\d+),(\d+)\}", line.split("source_target_pairs=")[1])
        return 1, len(pairs)  # each source->target pair sends its block once
    return num_devices, 1  # empty replica_groups: one group of all devices


def parse_collectives(hlo_text: str, num_devices: int) -> list[HloCollective]:
    """Return the collectives of compiled HLO text (`jitted.lower(...).compile().as_text()`)."""
    found = []
    for line in hlo_text.splitlines():
        m = _INSTR.search(line)
        if not m:
            continue
        sizes = _shape_bytes(m.group("shape"))
        if m.group("start") and m.group("kind") in ("all-gather", "collective-permute"):
            sizes = sizes[len(sizes) // 2:]  # async start returns (operands, results)
        group_size, num_groups = _groups(line, num_devices)
        found.append(HloCollective(m.group("kind"), sum(sizes), group_size, num_groups,
                                   line.strip()))
    return found


def hlo_collective_bytes(hlo_text: str, num_devices: int) -> Fraction:
    """Total collective bytes of a compiled HLO module (see the module docstring)."""
    return sum((c.bytes for c in parse_collectives(hlo_text, num_devices)), Fraction(0))


def compiled_collective_bytes(jitted, *args, num_devices: int) -> Fraction:
    """Compile `jitted(*args)` and return its total collective bytes over `num_devices`."""
    return hlo_collective_bytes(jitted.lower(*args).compile().as_text(), num_devices)
