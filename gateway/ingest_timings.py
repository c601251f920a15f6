"""How long ingest takes from a transport's point of view: a fixed-bucket histogram, no dependencies."""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

# Seconds; a mail is usually stored in tens of milliseconds, a group commit under load in a few hundred.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class IngestTimings:
    """Per transport: how many ingests ended at or under each bucket's bound (and above the last), and the sum."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)

    def observe(self, transport: str, seconds: float) -> None:
        counts = self.counts.setdefault(transport, [0] * (len(BUCKETS) + 1))
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[transport] = self.sums.get(transport, 0.0) + seconds

    def timed(self, transport: str, ingest):
        """`ingest` (an async function) that records how long each call took, failures included."""

        async def timed_ingest(raw: bytes, **kwargs):
            started = time.perf_counter()  # a duration, not a moment: the Clock is for moments
            try:
                return await ingest(raw, **kwargs)
            finally:
                self.observe(transport, time.perf_counter() - started)

        return timed_ingest

    def cumulative(self, transport: str) -> list[tuple[str, int]]:
        """[(le, count at or under it), …, ("+Inf", total)] as Prometheus histograms want them."""
        running, result = 0, []
        for bound, count in zip([*map(str, BUCKETS), "+Inf"], self.counts[transport]):
            running += count
            result.append((bound, running))
        return result
