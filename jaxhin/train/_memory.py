"""Process memory: the peak resident set, and giving freed heap back to the OS."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
import sys


def peak_rss_bytes() -> int:
    """The process's peak resident set so far (what `/usr/bin/time` reports as maximum)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux


def release_freed_memory() -> None:
    """Collect garbage and return glibc's free heap pages to the OS (a no-op elsewhere).

    XLA's compiler frees hundreds of MB once a large program is compiled, but glibc keeps the
    pages; the next phase (evaluation, say) then stacks on top of them and raises the peak."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass
