"""With map_large_buffers() called at start-up, glibc still maps a 2 MB block after a bigger mapped one
was freed. Without it, that free raises glibc's threshold and the 2 MB come from the heap: the state in
which serve's growing DATA buffer was copied inside the heap and its old copies stayed resident."""
from __future__ import annotations

import subprocess
import sys

import pytest

# A fresh process each: the threshold is per process and, unless set, only rises.
PROBE = """
import ctypes, sys
from gateway.allocator import map_large_buffers

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
tuned = map_large_buffers() if sys.argv[1] == "tuned" else None
big = bytearray(8 << 20)  # mapped either way: above the starting threshold of 128 kB
del big  # freed: an untuned glibc keeps blocks up to 8 MB in its heap from now on
before = libc.mallinfo2().hblkhd
block = bytearray(2 << 20)
print(tuned, libc.mallinfo2().hblkhd - before)
"""


def mapped_after_a_big_free(mode: str) -> tuple[str, int]:
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                            timeout=60)
    tuned, mapped = result.stdout.split()
    return tuned, int(mapped)


@pytest.mark.parametrize("mode, expected", [("tuned", ("True", True)), ("untuned", ("None", False))])
def test_a_two_megabyte_block_is_mapped_only_when_tuned(mode, expected):
    tuned, mapped = mapped_after_a_big_free(mode)
    assert (tuned, mapped >= 2 << 20) == expected
