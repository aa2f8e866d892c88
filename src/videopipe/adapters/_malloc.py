"""glibc's allocator thresholds, fixed once per process for frame-sized buffers.

With glibc's adaptive thresholds, a decoder or runner that frees a few megabytes per
frame has those pages faulted in anew on every frame; fixed, larger thresholds keep the
freed buffers for reuse (the measurements: ``docs/decoders.md``).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
"""Buffers up to this size come from glibc's heap (its largest allowed threshold)."""
TRIM_THRESHOLD = 128 << 20
"""Free heap glibc may keep instead of returning it to the system."""


@functools.cache
def tune_glibc_malloc() -> bool:
    """Fix glibc's mmap and trim thresholds, once per process; return whether they are set.

    Leaves them alone when ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` is
    set (the user's or a cluster's choice) and where the C library has no ``mallopt``.
    """
    if {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(os.environ):
        return False
    return set_glibc_thresholds()


def set_glibc_thresholds() -> bool:
    """Set glibc's mmap and trim thresholds now, whatever the environment says.

    For a process whose ``MALLOC_*`` variables are not the user's (a Dask worker's,
    exported by its nanny). Returns whether both were set (no ``mallopt``: ``False``).
    """
    tuned = False
    with contextlib.suppress(OSError, AttributeError):
        mallopt = ctypes.CDLL(None).mallopt
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    return tuned
