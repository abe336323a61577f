"""How ``refeed run`` keeps its memory flat over months: glibc malloc settings for the
daemon and its pool, and handing freed memory back (no-ops on other C libraries).

A soak (``bench/soak.py``) found the process tree growing ~10% over 15 minutes, though the
Python objects alive stayed at ~14 MiB (tracemalloc): glibc kept what was freed, spread
over one arena per thread (the publish thread, the threads that hand documents to the
pool and read files for readers) and fragmented by documents of 100 KB and more, whose
``mmap`` threshold glibc raises as they come and go. Two arenas and a fixed 128 KiB
threshold (large buffers are mapped and unmapped, never left in an arena) took the
300-source soak from 304 to 268 MiB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

ARENA_MAX = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's own default, but fixed: never raised on the fly
_M_ARENA_MAX = -8  # mallopt() parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))


def tune_malloc() -> None:
    """Set the daemon's malloc: in this process (before it starts any thread), and through
    the environment for the processes it starts (the pool's forkserver and workers). An
    admin's own ``MALLOC_ARENA_MAX`` / ``MALLOC_MMAP_THRESHOLD_`` win."""
    settings = {"MALLOC_ARENA_MAX": ARENA_MAX, "MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}
    for name, value in settings.items():
        os.environ.setdefault(name, str(value))
    mallopt = getattr(_LIBC, "mallopt", None)
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))
        mallopt(_M_MMAP_THRESHOLD, int(os.environ["MALLOC_MMAP_THRESHOLD_"]))


def return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``). A publish
    allocates and frees tens of MiB of documents; without this the daemon's memory
    ratchets up to what its largest publishes left behind, and stays there."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
