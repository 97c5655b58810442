"""The process's memory, as glibc's malloc keeps it: fewer arenas, free pages given back.

Both are no-ops where the C library is not glibc (musl, macOS).
"""

from __future__ import annotations

import ctypes

# glibc's mallopt parameter for the number of malloc arenas (M_ARENA_MAX in malloc.h).
_M_ARENA_MAX = -8


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)  # the C library the process already uses
        libc.malloc_trim, libc.mallopt  # noqa: B018 - glibc only (not musl, not macOS)
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas: each thread that allocates may otherwise get one of its own (up to
    eight per core), and each holds on to the memory its thread freed."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, arenas)


def trim_heap() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``): loading and warming
    up a model frees much more than it keeps, and the process's RSS would otherwise keep it."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
