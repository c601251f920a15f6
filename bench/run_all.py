"""Every benchmark in one run, printed as one table: what, our figure, the reference, the ratio, the goal, met.

    python bench/run_all.py [--quick] [--pg-url URL]

References are measured in the same run: do-nothing aiosmtpd and Postfix's smtp-sink fed by
smtp-source, and the peers, Roundup's mail gateway and django-helpdesk, fed the same mails
(bench/peers/: their venvs are built under bench/.peers/ from pinned requirements on the first run).
When a peer's venv cannot be built (no network), run_all says so on one line and uses the figure
quoted in the scale issue, marked "quoted". The goal column holds issue 17's goals. This machine is
noisy: compare only figures from one run; the last row times a fixed pure-Python workload at the start
and the end, so that two runs on machines of different speed are not mistaken for a change of ours.
--quick uses fewer mails (for a smoke run); the figures in notes come from a full run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import (faults, import_history, latency, memory, outbox, pipe, reply_threading, smtp_reference,  # noqa: E402
                   spool, triage, web_board)
from bench.ingest import DEFAULT_PG, fresh_pg_database  # noqa: E402
from bench.peers import build as peer_build, measure as peers_measure  # noqa: E402

# Each peer figure: its label, and the mails/s quoted in the scale issue (6) for when it cannot be measured.
PEER_FIGURES = {"roundup mailbox": ("Roundup mbox mode", 50.0), "roundup pipe": ("Roundup pipe mode", 5.0),
                "django-helpdesk get_email": ("django-helpdesk get_email", 45.0)}


@dataclass
class Goal:
    """One of issue 17's goals, as printed in the goal column, and whether a figure meets it."""

    text: str
    met: Callable[[float], bool]


def at_least(bound: float, unit: str = "x") -> Goal:
    return Goal(f">= {bound:g}{unit}", lambda value: value >= bound)


def at_most(bound: float, unit: str) -> Goal:
    return Goal(f"<= {bound:g}{unit}", lambda value: value <= bound)


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(self, what: str, figure: float, unit: str, reference: float | None = None, ref_label: str = "",
            higher_is_better: bool = True, goal: Goal | None = None) -> None:
        """A row; `goal` judges the ratio when there is a reference, else the figure."""
        ref = f"{reference:,.1f} {unit} ({ref_label})" if reference is not None else ref_label or "-"
        ratio, judged = "-", figure
        if reference:
            judged = figure / reference if higher_is_better else reference / figure if figure else float("inf")
            ratio = f"{judged:.2f}"
        self._row(what, f"{figure:,.1f} {unit}", ref, ratio, goal, goal is not None and goal.met(judged))

    def note(self, what: str, figure: str, reference: str = "-", ratio: str = "-", goal: Goal | None = None,
             met: bool = False) -> None:
        self._row(what, figure, reference, ratio, goal, met)

    def _row(self, what: str, figure: str, reference: str, ratio: str, goal: Goal | None, met: bool) -> None:
        verdict = "-" if goal is None else "met" if met else "NOT MET"
        self.rows.append((what, figure, reference, ratio, goal.text if goal else "-", verdict))
        print(f"  {what}: {figure}" + (f" (goal {goal.text}: {verdict})" if goal else ""), flush=True)

    def print(self) -> None:
        header = ("measured", "figure", "reference (same run unless quoted)", "ratio", "goal", "met")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(len(header))]
        line = "  ".join("-" * w for w in widths)
        print()
        for row in [header, None, *self.rows]:
            print(line if row is None else "  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        verdicts = [row[5] for row in self.rows if row[5] != "-"]
        print(f"\nissue 17's goals: {verdicts.count('met')} of {len(verdicts)} met")


class Peers:
    """The peers' reference figures: measured in this run when their venvs build, else quoted."""

    def __init__(self) -> None:
        self.missing: set[str] = set()
        for name in peer_build.PEERS:
            problem = peer_build.build(name)
            if problem:
                print(f"  {problem}; using the figure quoted in the scale issue", flush=True)
                self.missing.add(name)

    def rate(self, key: str, peer: str, fn, *args) -> tuple[float, str]:
        """(mails/s, label) of `fn(*args)`, or the quoted figure when the peer is missing or fails."""
        label, quoted = PEER_FIGURES[key]
        if peer not in self.missing:
            try:
                figure = fn(*args)
            except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
                print(f"  {peer} failed ({str(exc)[:300]}); using the figure quoted in the scale issue", flush=True)
            else:
                if figure is not None:
                    print(f"  peer: {label}: {figure:,.1f} mails/s", flush=True)
                    return figure, label
        return quoted, f"{label}, quoted"


def machine_ms() -> float:
    """CPU milliseconds of a fixed pure-Python workload, best of 3: how fast this machine is at the moment.
    The same code has run three times slower here from one day to the next (a shared host); two runs'
    figures compare only as far as this one does."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        sum(i * i for i in range(2_000_000))
        best = min(best, time.process_time() - started)
    return best * 1000


def quietly(fn, *args, **kwargs):
    """Run a benchmark's main() without its own prints; return its result."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def smtp_section(table: Table, mails: int, pg_url: str | None) -> None:
    aiosmtpd = smtp_reference.aiosmtpd_rate(mails, 20)
    sink = smtp_reference.smtp_sink_rate(mails, 20)
    table.add("SMTP: do-nothing aiosmtpd (smtp-source -s 20)", aiosmtpd, "mails/s", sink, "Postfix smtp-sink")
    spool_only = smtp_reference.spool_only_rate(mails, 20)
    table.add("SMTP: aiosmtpd committing raw bytes only (not our design)", spool_only, "mails/s", aiosmtpd,
              "do-nothing aiosmtpd")
    ours = smtp_reference.gateway_rate(mails, 20)
    table.add("SMTP: gateway serve, SQLite, durable, 20 sessions", ours, "mails/s", aiosmtpd, "do-nothing aiosmtpd",
              goal=at_least(0.5))
    if pg_url:
        ours_pg = smtp_reference.gateway_rate(mails, 20, pg_url)
        table.add("SMTP: gateway serve, PostgreSQL, durable, 20 sessions", ours_pg, "mails/s", aiosmtpd,
                  "do-nothing aiosmtpd", goal=at_least(0.5))
        two = smtp_reference.gateway_rate(mails, 20, pg_url, instances=2)
        table.add("SMTP: two gateway serves, one PostgreSQL, 10 sessions each", two, "mails/s", ours_pg,
                  "one serve, PostgreSQL")
    else:
        table.note("SMTP: gateway serve, PostgreSQL, durable, 20 sessions", "no PostgreSQL", goal=at_least(0.5))


def spool_section(table: Table, mails: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gw-run-all-spool-") as workdir:
        accepted, drained = asyncio.run(spool.run(mails, 20, Path(workdir)))
    table.add(f"spool: accept, SQLite, 20 concurrent, {mails} mails", accepted, "mails/s")
    table.add(f"spool: drain, SQLite, new tickets with ack and announcement, {mails} mails", drained, "mails/s",
              goal=at_least(500, " mails/s"))


# (rate offered, which figure, its goal): issue 17's two latency goals; then, on a serve of its own, 50/s, a
# stream below what the drain works off here (no goal: it shows whether the drain keeps pace with one).
LATENCY_RATES = {10: ("median_ms", "p50", at_most(50, " ms")), 100: ("p99_ms", "p99", at_most(2000, " ms")),
                 50: ("p99_ms", "p99", None)}


def latency_section(table: Table, seconds: float) -> None:
    serves = ([rate for rate, (_, _, goal) in LATENCY_RATES.items() if goal],
              [rate for rate, (_, _, goal) in LATENCY_RATES.items() if not goal])
    results = [row for rates in serves
               for row in quietly(latency.main, ["--rates", *map(str, rates), "--seconds", str(seconds)])]
    for _, rate, result in results:
        key, name, goal = LATENCY_RATES[rate]
        # A mail refused or never acknowledged has no latency to sort: the goal is not met with one missing.
        complete = result["accepted"] == result["offered"] and result["acks"] == result["accepted"]
        table.note(f"latency at {rate}/s offered: DATA end -> ack at relay, {name}",
                   f"median {result['median_ms']:,.0f} ms, p99 {result['p99_ms']:,.0f} ms",
                   f"{result['accepted']}/{result['offered']} accepted at {result['achieved_rate']:.1f}/s, "
                   f"{result['acks']} acks", goal=goal, met=goal is not None and complete and goal.met(result[key]))


def memory_section(table: Table) -> None:
    for via in ("direct", "smtp"):
        result = quietly(memory.main, ["--mb", "25", "--via", via])
        table.add(f"memory: one 25 MB attachment, {via}", result["ratio"], "x its size", goal=at_most(3, "x"))


def pipe_section(table: Table, peers: Peers, mails: int) -> None:
    # Roundup is fed the very mails `gateway ingest` is fed alone, one process each, one at a time.
    alone_mails = max(20, mails // 10)
    roundup, label = peers.rate("roundup pipe", "roundup", peers_measure.roundup_pipe,
                                [pipe.mail(n) for n in range(alone_mails)])
    for concurrency in (1, 4):
        rate = pipe.with_serve(mails, concurrency)
        table.add(f"pipe: gateway ingest via running serve, {concurrency} at a time", rate, "mails/s", roundup, label)
    spooled, drained = pipe.alone(alone_mails)
    table.add(f"pipe: gateway ingest with no serve running (spool file only), {alone_mails} mails one at a time",
              spooled, "mails/s", roundup, label, goal=at_least(5))
    table.add("pipe: then gateway ingest --drain (start-up included)", drained, "mails/s", roundup, label)


def import_section(table: Table, peers: Peers, corpus_mails: int, sizes: list[int], pg_url: str | None) -> None:
    # The peers and `gateway import` read the same mbox: the first `corpus_mails` of the bench archive.
    with tempfile.TemporaryDirectory(prefix="gw-run-all-corpus-") as workdir:
        box = Path(workdir) / "corpus.mbox"
        import_history.archive(box, corpus_mails)
        roundup, roundup_label = peers.rate("roundup mailbox", "roundup", peers_measure.roundup_mailbox, box)
        helpdesk, helpdesk_label = peers.rate("django-helpdesk get_email", "django-helpdesk",
                                              peers_measure.helpdesk_get_email, box)
    # The goal's ratio is on those same mails, every process's start-up included, as each operator runs it.
    (_, _, seconds, _, _), = quietly(import_history.measure, corpus_mails, ["sqlite"], pg_url or DEFAULT_PG)
    rate = corpus_mails / seconds
    table.add(f"import mbox, sqlite, the same {corpus_mails} mails, against Roundup mbox mode", rate, "mails/s",
              roundup, roundup_label, goal=at_least(10))
    table.add(f"import mbox, sqlite, the same {corpus_mails} mails, against django-helpdesk", rate, "mails/s",
              helpdesk, helpdesk_label)
    results = quietly(import_history.main, ["--mails", *map(str, sizes), "--backend",
                                            "both" if pg_url else "sqlite", "--pg-url", pg_url or DEFAULT_PG])
    peaks: dict[str, list[float]] = {}
    for backend, mails, seconds, peak, _ in results:  # larger archives than the peers ran: no ratio to them
        table.add(f"import mbox, {backend}, {mails} mails", mails / seconds, "mails/s")
        table.note(f"import mbox, {backend}, {mails} mails: peak memory of the process", f"{peak:,.0f} MB")
        peaks.setdefault(backend, []).append(peak)
    for backend, (small, *_, large) in ((b, p) for b, p in peaks.items() if len(p) > 1):
        flat = Goal("flat: <= 1.25x", lambda growth: growth <= 1.25)
        table.note(f"import mbox, {backend}: peak memory, {max(sizes)} against {min(sizes)} mails",
                   f"{large:,.0f} MB / {small:,.0f} MB", ratio=f"{large / small:.2f}", goal=flat,
                   met=flat.met(large / small))


def threading_section(table: Table, mails: int) -> None:
    result = reply_threading.measure(mails, 20)
    every = Goal(f"{result['replies']}/{result['replies']}", lambda threaded: threaded == result["replies"])
    table.note(f"threading: replies on their thread's ticket, 20 SMTP clients, {mails} mails",
               f"{result['threaded']}/{result['replies']}",
               f"{result['own_ticket']} own ticket, {result['missing']} not stored, {result['refused']} refused",
               goal=every, met=every.met(result["threaded"]))


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
    peers = Peers()
    quick = args.quick
    sections = [
        ("SMTP", lambda: smtp_section(table, 500 if quick else 2000, pg_url)),
        ("spool", lambda: spool_section(table, 300 if quick else 1000)),
        ("latency", lambda: latency_section(table, 3 if quick else 10)),
        ("threading", lambda: threading_section(table, 500 if quick else 1000)),
        ("memory", lambda: memory_section(table)),
        ("pipe", lambda: pipe_section(table, peers, 50 if quick else 200)),
        ("outbox", lambda: outbox_section(table, 500 if quick else 2000, pg_url)),
        ("faults", lambda: faults_section(table, 300, 5 if quick else 30)),
        # The peers run the same mbox as ours: 300 mails take each of them about 6 s, 1000 about 20 s.
        ("import", lambda: import_section(table, peers, 300 if quick else 1000,
                                          [500, 2000] if quick else [2000, 10000], pg_url)),
        ("web", lambda: web_section(table, quick)),
        ("triage", lambda: triage_section(table, quick)),
    ]
    at_start = machine_ms()
    for name, section in sections:
        section_started = time.time()
        section()
        print(f"  ({name}: {time.time() - section_started:.0f} s)", flush=True)
    table.note("machine: a fixed pure-Python workload, CPU ms (best of 3), at the start / the end",
               f"{at_start:,.0f} / {machine_ms():,.0f} ms")
    table.print()
    print(f"\n{time.time() - started:.0f} s in all")


if __name__ == "__main__":
    main()
