"""Every benchmark in one run, printed as one table: what, our figure, the reference, the ratio.

    python bench/run_all.py [--quick] [--pg-url URL]

References are measured in the same run where they can be (do-nothing aiosmtpd and Postfix's
smtp-sink fed by smtp-source); the peers' figures (Roundup, django-helpdesk) are the ones quoted in
the scale issue, marked "quoted". This machine is noisy: compare only figures from one run.
--quick uses fewer mails (for a smoke run); the figures in notes come from a full run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import faults, import_history, latency, memory, outbox, pipe, smtp_reference, triage, web_board  # noqa: E402
from bench.ingest import DEFAULT_PG, fresh_pg_database  # noqa: E402

ROUNDUP_MBOX, ROUNDUP_PIPE, DJANGO_HELPDESK_DIR = 50.0, 5.0, 45.0  # mails/s, quoted in the issue


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, figure: float, unit: str, reference: float | None = None, ref_label: str = "",
            higher_is_better: bool = True) -> None:
        ref = f"{reference:,.1f} {unit} ({ref_label})" if reference is not None else ref_label or "-"
        ratio = "-"
        if reference:
            value = figure / reference if higher_is_better else reference / figure if figure else float("inf")
            ratio = f"{value:.2f}"
        self.rows.append((what, f"{figure:,.1f} {unit}", ref, ratio))
        print(f"  {what}: {figure:,.1f} {unit}", flush=True)

    def note(self, what: str, figure: str, reference: str = "-", ratio: str = "-") -> None:
        self.rows.append((what, figure, reference, ratio))
        print(f"  {what}: {figure}", flush=True)

    def print(self) -> None:
        header = ("measured", "figure", "reference (same run unless quoted)", "ratio")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        print()
        for row in [header, None, *self.rows]:
            print(line if row is None else "  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


def quietly(fn, *args, **kwargs):
    """Run a benchmark's main() without its own prints; return its result."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def smtp_section(table: Table, mails: int, pg_url: str | None) -> None:
    aiosmtpd = smtp_reference.aiosmtpd_rate(mails, 20)
    sink = smtp_reference.smtp_sink_rate(mails, 20)
    table.add("SMTP: do-nothing aiosmtpd (smtp-source -s 20)", aiosmtpd, "mails/s", sink, "Postfix smtp-sink")
    spool = smtp_reference.spool_only_rate(mails, 20)
    table.add("SMTP: aiosmtpd committing raw bytes only (not our design)", spool, "mails/s", aiosmtpd,
              "do-nothing aiosmtpd")
    ours = smtp_reference.gateway_rate(mails, 20)
    table.add("SMTP: gateway serve, SQLite, durable (goal >= 0.5)", ours, "mails/s", aiosmtpd, "do-nothing aiosmtpd")
    if pg_url:
        ours_pg = smtp_reference.gateway_rate(mails, 20, pg_url)
        table.add("SMTP: gateway serve, PostgreSQL, durable (goal >= 0.5)", ours_pg, "mails/s", aiosmtpd,
                  "do-nothing aiosmtpd")
        two = smtp_reference.gateway_rate(mails, 20, pg_url, instances=2)
        table.add("SMTP: two gateway serves, one PostgreSQL, 10 sessions each", two, "mails/s", ours_pg,
                  "one serve, PostgreSQL")


def latency_section(table: Table, seconds: float) -> None:
    for _, rate, result in quietly(latency.main, ["--rates", "10", "100", "--seconds", str(seconds)]):
        table.note(f"latency at {rate}/s offered: DATA end -> ack at relay",
                   f"median {result['median_ms']:,.0f} ms, p99 {result['p99_ms']:,.0f} ms",
                   f"accepted {result['achieved_rate']:.1f}/s of {rate}/s")


def memory_section(table: Table) -> None:
    for via in ("direct", "smtp"):
        result = quietly(memory.main, ["--mb", "25", "--via", via])
        table.add(f"memory: one 25 MB attachment, {via} (goal <= ~3x)", result["ratio"], "x its size")


def pipe_section(table: Table, mails: int) -> None:
    for concurrency in (1, 4):
        table.add(f"pipe: gateway ingest via running serve, {concurrency} at a time (goal >= 5x)",
                  pipe.with_serve(mails, concurrency), "mails/s", ROUNDUP_PIPE, "Roundup pipe mode, quoted")
    spooled, drained = pipe.alone(max(20, mails // 10))
    table.add("pipe: gateway ingest with no serve (spool file only)", spooled, "mails/s",
              ROUNDUP_PIPE, "Roundup pipe mode, quoted")
    table.add("pipe: then gateway ingest --drain (start-up included)", drained, "mails/s",
              ROUNDUP_PIPE, "Roundup pipe mode, quoted")


def import_section(table: Table, sizes: list[int], pg_url: str | None) -> None:
    results = quietly(import_history.main, ["--mails", *map(str, sizes), "--backend",
                                            "both" if pg_url else "sqlite", "--pg-url", pg_url or DEFAULT_PG])
    for backend, mails, seconds, peak, _ in results:
        rate = mails / seconds
        table.add(f"import mbox, {backend}, {mails} mails (goal >= 20x)", rate, "mails/s", ROUNDUP_MBOX,
                  "Roundup mbox, quoted")
        table.add(f"import mbox, {backend}, {mails} mails, against django-helpdesk", rate, "mails/s",
                  DJANGO_HELPDESK_DIR, "django-helpdesk get_email, quoted")
        table.note(f"import mbox, {backend}, {mails} mails: peak memory of the process", f"{peak:,.0f} MB")


def outbox_section(table: Table, rows: int, pg_url: str | None) -> None:
    results = quietly(outbox.main, ["--rows", str(rows), "--backend", "both" if pg_url else "sqlite",
                                    "--pg-url", pg_url or DEFAULT_PG])
    for backend, rate in results:
        table.add(f"outbox sender, {backend}, {rows} rows, null transport", rate, "rows/s")


def faults_section(table: Table, mails: int, outage: float) -> None:
    for result in quietly(faults.main, ["--mails", str(mails), "--outage-seconds", str(outage)]):
        table.note(f"faults: {result.scenario}",
                   f"{result.acknowledged} acked, {result.stored} stored, {result.lost} lost, "
                   f"{result.stored_twice} stored twice",
                   f"{result.notifications} notifications: {result.sent} sent, {result.sent_twice} sent twice"
                   + (f" ({result.in_flight} in flight at the kill)" if result.in_flight is not None else ""))


def web_section(table: Table, quick: bool) -> None:
    for what, median, worst in quietly(web_board.main, ["--quick"] if quick else []):
        table.note(f"web board, 10,000 open tickets: {what} (goal < 300 ms)", f"median {median:,.0f} ms",
                   f"worst {worst:,.0f} ms")


def triage_section(table: Table, quick: bool) -> None:
    for what, figure in quietly(triage.main, [] if quick else ["--full"]).items():
        table.note(f"triage: {what}", figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    if not (shutil.which("smtp-source") and shutil.which("smtp-sink")):
        sys.exit("smtp-source/smtp-sink not found: apt-get install postfix (see ../shared/TESTING.md)")
    pg_url = asyncio.run(fresh_pg_database(args.pg_url, "gw_run_all"))
    started = time.time()
    table = Table()
    print("running every benchmark (several minutes)...", flush=True)
    smtp_section(table, 500 if args.quick else 2000, pg_url)
    latency_section(table, 3 if args.quick else 10)
    memory_section(table)
    pipe_section(table, 50 if args.quick else 200)
    outbox_section(table, 500 if args.quick else 2000, pg_url)
    faults_section(table, 300, 5 if args.quick else 30)
    import_section(table, [500, 2000] if args.quick else [2000, 10000], pg_url)
    web_section(table, args.quick)
    triage_section(table, args.quick)
    table.print()
    print(f"\n{time.time() - started:.0f} s in all")


if __name__ == "__main__":
    main()
