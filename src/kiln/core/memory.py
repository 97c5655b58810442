"""Handing freed memory back to the system, where the C library allows it.

CPython frees large objects with ``free()``, and glibc keeps what is freed in its heaps for reuse:
after a burst of large allocations (megabytes of request bodies and logged text) a process's
resident size stays at its peak although little of it is live. ``malloc_trim(0)`` returns the free
pages of every heap. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> None:
    """Return free heap pages to the system (the GIL is released meanwhile)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
