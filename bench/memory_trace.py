"""`gateway serve` under tracemalloc, for bench/memory.py --trace: where a big mail's memory goes.

    python bench/memory_trace.py OUT --config CONFIG serve

SIGUSR2 starts tracing (after the warm-up, so start-up's imports stay out); from then a thread looks at
the traced size and the RSS every 5 ms, keeps a snapshot whenever the traced size reaches a new high,
and notes what each thread runs whenever either figure moves by 2 MB. SIGUSR1 writes to OUT (whole, by a rename) the largest
allocations of the snapshot at the traced peak, then that timeline. RSS growing while the traced size
does not is memory outside Python's allocators, or blocks freed and still resident (gateway/allocator.py).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gateway, not an installed one

STEP_KB = 2048
FRAMES = 12  # kept per allocation
SHOWN = 5  # of them printed


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def running() -> str:
    """Our and aiosmtpd's innermost frames of each other thread, e.g. `bigparts.py:42:elide<parse.py:372:_parse`."""
    me, stacks = threading.get_ident(), []
    for ident, frame in sys._current_frames().items():
        names = []
        while frame is not None and ident != me and len(names) < 3:
            if "/gateway/" in frame.f_code.co_filename or "aiosmtpd" in frame.f_code.co_filename:
                names.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}:{frame.f_code.co_name}")
            frame = frame.f_back
        if names:
            stacks.append("<".join(names))
    return " | ".join(stacks)


class Tracer:
    def __init__(self, out: str):
        self.out, self.peak, self.snapshot, self.timeline = out, 0, None, []
        self.started = time.monotonic()

    def arm(self, *_) -> None:
        tracemalloc.start(FRAMES)
        threading.Thread(target=self.watch, daemon=True).start()

    def watch(self) -> None:
        while True:
            traced, rss = tracemalloc.get_traced_memory()[0] // 1024, rss_kb()
            last = self.timeline[-1] if self.timeline else None
            if last is None or abs(rss - last[2]) > STEP_KB or abs(traced - last[1]) > STEP_KB:
                self.timeline.append((time.monotonic() - self.started, traced, rss, running()))
            if traced > self.peak + STEP_KB:
                self.peak, self.snapshot = traced, tracemalloc.take_snapshot()
            time.sleep(0.005)

    def dump(self, *_) -> None:
        with open(self.out + ".part", "w") as out:
            out.write(f"traced peak {self.peak / 1024:.1f} MB; its largest allocations:\n")
            for stat in (self.snapshot.statistics("traceback")[:3] if self.snapshot else []):
                out.write(f"\n{stat.size / 1e6:.1f} MB in {stat.count} blocks, allocated at\n")
                out.write("\n".join(stat.traceback.format(most_recent_first=True)[:2 * SHOWN]) + "\n")
            out.write("\nseconds  traced MB  RSS MB  running\n")
            for at, traced, rss, where in self.timeline:
                out.write(f"{at:7.3f}  {traced / 1024:9.1f}  {rss / 1024:6.1f}  {where}\n")
        os.replace(self.out + ".part", self.out)  # whole or not at all for the bench that waits for it


def main() -> None:
    tracer = Tracer(sys.argv[1])
    signal.signal(signal.SIGUSR2, tracer.arm)
    signal.signal(signal.SIGUSR1, tracer.dump)
    from gateway.cli import main as gateway

    sys.exit(gateway(sys.argv[2:]))


if __name__ == "__main__":
    main()
