"""Spool drain throughput: new tickets (acknowledgement + announcement queued) per second, SQLite and PostgreSQL.

    python bench/drain.py [--mails 600] [--open 300] [--pg-url URL] [--profile 25] [--processes N]

Spools --mails mails first (not timed), then times one drain() over them and prints mails/s and
CPU ms per mail. --open first drains that many other mails (not timed), so the timed drain runs
with the help desk's usual backlog of open tickets (the similar step compares each new ticket with
up to [tickets] similar_among of them). --profile N prints the drain's N costliest functions
(cProfile, main thread only: parsing runs on the preparation thread and is left out). --processes: the
worker processes that prepare mail, as serve's [spool] prepare_processes (default: serve's, one per core but one;
0: a thread). CPU ms per mail is this process's; the workers' CPU (read from /proc, 10 ms ticks) is
printed beside it, and mails/s (wall clock) is what a drain gains. This machine is shared: compare only
figures of one run.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import DEFAULT_PG, fresh_pg_database, mail, settings_for  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.ingest import Ingestor, Incoming  # noqa: E402
from gateway.prepare_pool import pool_size  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402


def helpers_cpu() -> float:
    """CPU seconds used so far by the running processes below this one (the fork server and the preparation
    workers: process_time() leaves them out)."""
    parents, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])  # ppid; utime + stime
    mine, todo = set(), [os.getpid()]
    while todo:
        parent = todo.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        mine.update(children)
        todo += children
    return sum(ticks[pid] for pid in mine) / os.sysconf("SC_CLK_TCK")


async def run(url: str, workdir: Path, count: int, backlog: int, profile: int,
              processes: int) -> tuple[float, float, float]:
    settings = settings_for(url, workdir)  # caps raised: every mail gets its acknowledgement
    db = settings.open_database()
    await upgrade(db)
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock(), processes=processes)
    try:
        if backlog:
            await ingestor.ingest_many([Incoming(mail(-n - 1), "bench", "bench@example.org") for n in range(backlog)])
        await ingestor.accept_many([Incoming(mail(n), "bench", "bench@example.org") for n in range(count)])
        profiler = cProfile.Profile() if profile else None
        started, cpu, helpers = time.perf_counter(), time.process_time(), helpers_cpu()
        if profiler:
            profiler.enable()
        done = await ingestor.drain()
        if profiler:
            profiler.disable()
        elapsed, cpu, helpers = time.perf_counter() - started, time.process_time() - cpu, helpers_cpu() - helpers
        assert len(done) == count and all(o.status == "stored" and o.new_ticket for o in done.values())
    finally:
        ingestor.close()
        await db.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    return count / elapsed, 1000 * cpu / count, 1000 * helpers / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=600)
    parser.add_argument("--open", type=int, default=300, help="open tickets made (untimed) before the timed drain")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="'' skips PostgreSQL")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--processes", type=int, default=pool_size(None), metavar="N",
                        help="worker processes preparing mail (default: serve's, one per core but one; 0: a thread)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        urls = [("SQLite", f"sqlite+aiosqlite:///{workdir}/bench.db")]
        if args.pg_url:
            pg = asyncio.run(fresh_pg_database(args.pg_url, "gw_bench_drain"))  # dropped and made anew each run
            if pg:
                urls.append(("PostgreSQL", pg))
        for name, url in urls:
            rate, cpu, helpers = asyncio.run(run(url, Path(workdir), args.mails, args.open, args.profile,
                                                 args.processes))
            print(f"spool drain, {name:10}, new tickets ({args.open} open before), {args.processes} preparation "
                  f"processes: {rate:6.0f} mails/s, {cpu:5.2f} ms CPU per mail (+ {helpers:4.2f} in the workers)",
                  flush=True)


if __name__ == "__main__":
    main()
