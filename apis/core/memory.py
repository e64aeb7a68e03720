"""Memory that returns to its level after large photos: glibc's allocator told to give buffers back.

glibc keeps up to 8 heaps per core, one per allocating thread, and serves blocks under its moving
mmap threshold (up to 32 MiB) from them; freed photo buffers then stay in those heaps. With a
decoded 40-megapixel photo taking 120 MB and gthread spreading requests over many threads, the
detection worker's RSS grew from 1.5 GB to 2.7 GB over 64 mixed photos and stayed there; with two
heaps and a fixed 1 MiB mmap threshold (large buffers mapped and unmapped each time) it stayed near
1.1 GB, whether set by the environment variables below or by this module (docs/serving.md#memory).

But a low threshold makes every call fault its buffers in again, page by page: at 1 MiB a
detection call took 6,820 page faults and 13-14 ms of system time, a quarter of its CPU. So the
heaps stay large (32 MiB mmap and trim thresholds: no faults on a normal photo) and are emptied
instead after each large photo: :func:`release_free_memory` (glibc's ``malloc_trim``), called by the
predict route once such an answer is sent (docs/serving.md#no-wasted-cores).

gunicorn calls :func:`bound_malloc_caches` in each worker after the fork. The same settings given
as environment variables (``MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=33554432``) apply from the process start and win where they are set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os

log = logging.getLogger(__name__)

# mallopt parameter numbers, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Environment variable -> (mallopt parameter, value).
SETTINGS = {
    "MALLOC_ARENA_MAX": (_M_ARENA_MAX, 2),
    "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, 32 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": (_M_TRIM_THRESHOLD, 32 * 2**20),
}


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, looked up once per process (``find_library`` runs ``ldconfig``); OSError off glibc."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def bound_malloc_caches() -> bool:
    """Apply :data:`SETTINGS` with ``mallopt`` where the environment does not set them.

    True when glibc accepted every one; False off glibc (musl, macOS: nothing to tune) or when
    glibc refused one (logged).
    """
    try:
        mallopt = _libc().mallopt
    except (OSError, AttributeError):
        return False
    accepted = True
    for variable, (parameter, value) in SETTINGS.items():
        if variable not in os.environ and not mallopt(parameter, value):
            log.warning("mallopt refused %s=%s", variable, value)
            accepted = False
    return accepted


def release_free_memory() -> bool:
    """Give the pages freed in every heap back to the system (glibc's ``malloc_trim``); True if any."""
    try:
        return bool(_libc().malloc_trim(0))
    except (OSError, AttributeError):
        return False
