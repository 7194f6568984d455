"""Fewer malloc arenas for a build: threads reuse the memory other threads freed instead of faulting in their own.

glibc gives every thread that allocates while another holds an arena an
arena of its own (up to 8 per core). A build hands its arrays from thread to
thread (the record cache's writer, the database thread, the two counting
threads, the label thread, the part writers), so memory one thread frees sits
in its arena while the next thread faults fresh pages into another. On these
machines fresh memory is what a build spends most of its system time on
(~3 s per GB, docs/adr/0014): with two arenas an incremental build of the
benchmark city faulted ~20 % fewer pages and took ~10-25 % less time in
alternating runs (docs/adr/0014 decision 13). The cap is the caller's
argument: the CLI passes the ``build_malloc_arenas`` setting, which an
operator may set to none to keep glibc's own choice (``MALLOC_ARENA_MAX``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


@cache
def share_arenas(limit: int | None = ARENAS) -> bool:
    """Cap this process's malloc arenas at ``limit`` (glibc only; once per process); True if it was set here.

    ``None`` leaves glibc's own choice. Arenas already made stay; new threads
    share the capped set. A process that imports the pipeline without
    building (the API) is not touched.
    """
    if limit is None or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return libc.gnu_get_libc_version is not None and bool(libc.mallopt(_M_ARENA_MAX, limit))
    except (OSError, AttributeError):  # not glibc (musl has no gnu_get_libc_version), or no mallopt
        return False
