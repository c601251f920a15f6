"""Peak memory of ingesting one mail with a large attachment, against the attachment's size.

    python bench/memory.py [--mb 25] [--via smtp|direct] [--trace]

`direct`: a fresh process calls Ingestor.ingest() on the mail; `smtp` (the default): a fresh
`gateway serve` receives it from a real SMTP client. Either way the figure is the process's peak
RSS (VmHWM of the child) minus its RSS when idle and ready, divided by the attachment size.
--trace (smtp): serve runs under tracemalloc (bench/memory_trace.py) and where its memory went is printed.
"""
from __future__ import annotations

import argparse
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import free_port, wait_listening  # noqa: E402

DIRECT = """
import asyncio, resource, sys
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.ingest import Ingestor
from gateway.store.migrate import upgrade

async def main(path, url):
    settings = Settings.model_validate({"database": {"url": url}, "smtp": {"max_message_bytes": 200_000_000}})
    db = settings.open_database()
    await upgrade(db)
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
    await ingestor.ingest(b"From: a@example.org\\nSubject: warm-up\\n\\nhello\\n", source="bench")
    idle = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() // 1024
    raw = open(path, "rb").read()
    outcome = await ingestor.ingest(raw, source="bench")
    # Not ru_maxrss: it keeps the peak of the pages shared with the parent between fork and exec,
    # and the parent holds this very mail (and the attachment it was built from) at that moment.
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(idle, peak, outcome.status)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def big_mail(megabytes: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "customer@example.org", "ihelp@example.com", "Crash dump attached"
    msg.set_content("The crash dump from this morning is attached.")
    msg.add_attachment(os.urandom(megabytes * 1024 * 1024), maintype="application", subtype="octet-stream",
                       filename="core.dump")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # as on the wire: CRLF lines


def measure_direct(path: Path, workdir: Path) -> tuple[int, int]:
    result = subprocess.run([sys.executable, "-c", DIRECT, str(path), f"sqlite+aiosqlite:///{workdir}/gw.db"],
                            capture_output=True, text=True, cwd=REPO, check=True, timeout=600)
    idle, peak, status = result.stdout.split()
    assert status == "stored", result.stdout
    return int(idle), int(peak)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def start_serve(workdir: Path, trace: Path | None = None) -> tuple[subprocess.Popen, int]:
    """`gateway serve` on SQLite in `workdir`, large mail allowed, mail out to a maildir; (process, port).
    With `trace`, under bench/memory_trace.py writing there."""
    port = free_port()
    config = workdir / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{workdir}/gw.db"\n'
                      f'[smtp]\nport = {port}\nmax_message_bytes = 200000000\n'
                      f'[outbound]\nmode = "maildir"\nmaildir = "{workdir}/out"\n[logging]\nlevel = "WARNING"\n')
    command = ["-m", "gateway.cli"] if trace is None else [str(REPO / "bench" / "memory_trace.py"), str(trace)]
    server = subprocess.Popen([sys.executable, *command, "--config", str(config), "serve"],
                              cwd=REPO, stderr=subprocess.DEVNULL)
    return server, port


def wait_processed(database: Path, messages: int, server: subprocess.Popen, timeout: float = 300) -> None:
    """Until serve has stored `messages` incoming messages and sent every outbox row (the acknowledgement rendered
    and written): the 250 comes at the spool commit, and on a busy machine the drain may take seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
                stored, = conn.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()
                unsent, = conn.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()
            if stored >= messages and not unsent:
                return
        except sqlite3.OperationalError:  # locked for a moment, or the tables not made yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"serve did not process {messages} mail(s) within {timeout:g} s; see its log")


def measure_smtp(raw: bytes, workdir: Path, trace: Path | None = None) -> tuple[int, int]:
    server, port = start_serve(workdir, trace)
    try:
        wait_listening(port, server)
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:  # warm-up: imports, first transaction
            client.sendmail("a@example.org", ["ihelp@example.com"], b"Subject: warm-up\r\n\r\nhello\r\n")
        wait_processed(workdir / "gw.db", 1, server)
        if trace:
            server.send_signal(signal.SIGUSR2)
        time.sleep(0.5)  # the sender's and the drain's last steps after their commits
        idle = _rss_kb(server.pid)
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
            client.sendmail("customer@example.org", ["ihelp@example.com"], raw)
        wait_processed(workdir / "gw.db", 2, server)
        peak = _hwm_kb(server.pid)
        if trace:
            server.send_signal(signal.SIGUSR1)
            deadline = time.monotonic() + 60
            while not trace.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            print(trace.read_text() if trace.exists() else "no trace written within 60 s")
        return idle, peak
    finally:
        server.terminate()
        server.wait(30)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=25)
    parser.add_argument("--via", choices=["smtp", "direct"], default="smtp")
    parser.add_argument("--trace", action="store_true", help="smtp only: print where serve's memory went")
    args = parser.parse_args(argv)
    raw = big_mail(args.mb)
    with tempfile.TemporaryDirectory(prefix="gwmemory") as tmp:
        workdir = Path(tmp)
        path = workdir / "big.eml"
        path.write_bytes(raw)
        trace = workdir / "trace.txt" if args.trace else None
        idle, peak = measure_smtp(raw, workdir, trace) if args.via == "smtp" else measure_direct(path, workdir)
    grown_mb = (peak - idle) / 1024
    ratio = grown_mb / args.mb
    print(f"{args.mb} MB attachment ({len(raw) / 1e6:.1f} MB on the wire) via {args.via}: idle {idle / 1024:.0f} MB, "
          f"peak {peak / 1024:.0f} MB, grew {grown_mb:.0f} MB = {ratio:.1f}x the attachment")
    return {"attachment_mb": args.mb, "grown_mb": grown_mb, "ratio": ratio}


if __name__ == "__main__":
    main()
