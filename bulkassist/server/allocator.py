"""Memory a server process has freed goes back to the system, so its resident size follows what it holds.

glibc's malloc serves a block of at least M_MMAP_THRESHOLD bytes with a mapping of its own, returned to the
system when freed, and a smaller one from its heaps, which keep what is freed for later. The threshold
starts at 128 kB, but each mapped block freed raises it to that block's size (up to 32 MB): after the first
batches of an upload its 10 MB request bodies, the stored batches read back by a validation (megabytes
each) and the blobs of a report all came from the heaps, and a 1M-row import left the SQLite server some
100 MB above what it held. A fixed threshold keeps such blocks mapped (a fixed one is never raised); a
mapping per block of a megabyte or more costs nothing next to filling it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("bulkassist.server")
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 1 << 20


def return_freed_memory() -> None:
    """Fix glibc's mmap threshold at `MMAP_THRESHOLD` (nothing where the C library is not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):  # not glibc (musl has no mallopt, macOS and Windows neither)
        mallopt = None
    if mallopt is None or not mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        log.debug("the C library's mmap threshold is left as it is")
