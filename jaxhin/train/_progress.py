"""Progress bars for long work (training epochs, sampler sweeps), off with `--quiet`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None,
             desc: str | None = None, enabled: bool = True, **kwargs: Any) -> tqdm:
    """Wrap `iterable` in a tqdm bar on stderr; `enabled=False` gives a silent pass-through.

    Call `bar.set_postfix(loss=...)` with host values you already have; do not add host syncs
    to a step function just to feed the bar.

    Example:
      >>> for epoch in progress(range(3), desc="train", enabled=False):
      ...     pass
    """
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, dynamic_ncols=True,
                leave=False, **kwargs)
