"""Validation shared by every typed config."""

from __future__ import annotations

from typing import Any


def check_at_least(config: Any, minimum: float, *fields: str) -> None:
    """Raise `ValueError("Cls.field must be >= minimum, got v")` for the first of `fields` of
    `config` (a dataclass, usually from its `__post_init__`) below `minimum`.

    Example:
      >>> import dataclasses
      >>> @dataclasses.dataclass(frozen=True)
      ... class C:
      ...     steps: int = 0
      >>> check_at_least(C(), 1, "steps")
      Traceback (most recent call last):
      ValueError: C.steps must be >= 1, got 0
    """
    for field in fields:
        value = getattr(config, field)
        if value < minimum:
            raise ValueError(f"{type(config).__name__}.{field} must be >= {minimum:g}, "
                             f"got {value}")
