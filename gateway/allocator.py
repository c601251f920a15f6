"""Memory glibc frees goes back to the system: its malloc thresholds fixed (mmap at 1 MB) instead of dynamic.

glibc raises its mmap threshold to the size of each mapped block freed (up to 32 MB) and its trim
threshold to twice that (mallopt(3)). From then on big buffers live in the heap, and the heap keeps what
they leave: serve's DATA buffer, which grows as a mail's lines arrive and is copied when it cannot grow
in place, left its old copies resident, about 64 MB of RSS for a 36 MB mail before parsing began
(bench/memory.py --via smtp, 25 MB attachment: 3.7-3.8x before, 2.5-2.6x after). Fixing any threshold
ends the adjustment (MALLOC_TRIM_THRESHOLD_=131072 alone did as well); the mmap threshold is the one set,
so that a block of 1 MB or more is mapped, grows by mremap() and is unmapped when freed. Ordinary mail
seldom asks for blocks that big (bench/spool.py, accept and drain: no change beyond the noise).
"""
from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # <malloc.h>
THRESHOLD = 1 << 20


def map_large_buffers(threshold: int = THRESHOLD) -> bool:
    """Have glibc map every block of `threshold` bytes or more; True when done, False elsewhere (musl, macOS)."""
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, the C library's among them (no ldconfig run)
        if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
            return False
        return bool(libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(threshold)))
    except OSError:  # no C library to load: nothing to tune
        return False
