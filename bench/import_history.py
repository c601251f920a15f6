"""`gateway import mbox` on a generated help-desk archive: mails/s and the import process's peak memory.

    python bench/import_history.py [--mails 2000 10000] [--backend sqlite|postgresql|both] [--pg-url URL]

The archive: new questions from many customers, a third of the mails replies (In-Reply-To and
References) to earlier ones, some with a small attachment. Each size runs in a fresh database, as
its own `gateway import` process (as an operator runs it); peak RSS comes from that process.
Memory that stays flat as the archive grows is what "bounded" means here. The "vs Roundup" column
divides by the figure quoted in the scale issue (about 50 mails/s from an mbox); bench/peers/measure.py
measures Roundup and django-helpdesk on this same archive, and run_all.py sets them side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import mailbox
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import DEFAULT_PG, fresh_pg_database  # noqa: E402

ROUNDUP_MBOX, DJANGO_HELPDESK_DIR = 50.0, 45.0


def archive(path: Path, mails: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2021, 1, 4, 8, 0, tzinfo=timezone.utc)
    box = mailbox.mbox(path)
    box.lock()
    asked: list[tuple[str, str, str]] = []  # (message-id, subject, customer)
    for n in range(mails):
        mail = EmailMessage()
        mail["To"], mail["Date"] = "ihelp@example.com", format_datetime(start + timedelta(minutes=7 * n))
        mail["Message-ID"] = f"<hist-{n}@example.org>"
        if asked and rng.random() < 1 / 3:
            parent, subject, customer = rng.choice(asked)
            mail["From"] = rng.choice([customer, "alice@example.com"])
            mail["Subject"], mail["In-Reply-To"], mail["References"] = f"Re: {subject}", parent, parent
            mail.set_content("Thanks, that helped.\n\n> earlier text\n> quoted\n")
        else:
            customer = f"user{rng.randrange(mails // 3 + 1)}@example.org"
            subject = rng.choice(["Printer jammed", "VPN drops", "New starter account", "Invoice export fails",
                                  "Password reset", "Laptop slow"]) + f" #{n}"
            mail["From"], mail["Subject"] = customer, subject
            mail.set_content(f"Hello,\n\n{subject} since this morning. Room {n % 40}.\n\nRegards\n" * 3)
            if n % 10 == 0:
                mail.add_attachment(os.urandom(20_000), maintype="application", subtype="octet-stream",
                                    filename=f"log-{n}.bin")
            asked.append((mail["Message-ID"], subject, customer))
        box.add(mail)
    box.flush()
    box.unlock()


def run_import(home: Path, box: Path, url: str) -> tuple[float, float, str]:
    config = home / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[outbound]\nmaildir = "{home}/out"\n')
    command = [sys.executable, "-m", "gateway.cli", "--config", str(config)]
    subprocess.run([*command, "db", "upgrade"], check=True, capture_output=True)
    out, err = home / "import.out", home / "import.err"
    started = time.perf_counter()
    peak_kb = 0
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([*command, "import", "mbox", str(box), "--no-progress"], stdout=stdout, stderr=stderr)
        # VmHWM is the peak of the import's own memory. (rusage's ru_maxrss would also count the pages
        # it shared with this process between fork and exec: in run_all.py, hundreds of MB not its own.)
        # Its preparation worker (a process forked from it) counts too: the sum of their peaks, which counts
        # the pages they share since the fork twice (an upper bound).
        workers: dict[int, int] = {}
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            for child in _children(proc.pid):
                workers[child] = max(workers.get(child, 0), _vm_hwm_kb(child))
            time.sleep(0.1)
        peak_kb += sum(workers.values())
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {err.read_text()}")
    return seconds, peak_kb / 1024, out.read_text().strip()


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # it has just ended
        return []


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:  # it has just ended
        pass
    return 0


def measure(mails: int, backends: list[str], pg_url: str) -> list[tuple[str, int, float, float, str]]:
    """(backend, mails, seconds, peak MB, summary) for each backend, each in a fresh database."""
    home = Path(tempfile.mkdtemp(prefix="gw-import-"))
    box = home / "archive.mbox"
    archive(box, mails)
    results = []
    try:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{home}/gw-{mails}.db"
            else:
                url = asyncio.run(fresh_pg_database(pg_url, f"gw_import_{mails}"))
                if url is None:
                    continue
            seconds, peak, summary = run_import(home, box, url)
            results.append((backend, mails, seconds, peak, summary))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> list[tuple[str, int, float, float, str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{'backend':<11} {'mails':>7} {'seconds':>8} {'mails/s':>8} {'vs Roundup':>10} {'peak MB':>8}  summary")
    results = []
    for mails in sorted(args.mails):
        for backend, _, seconds, peak, summary in measure(mails, backends, args.pg_url):
            rate = mails / seconds
            print(f"{backend:<11} {mails:>7} {seconds:>8.1f} {rate:>8.1f} {rate / ROUNDUP_MBOX:>9.2f}x "
                  f"{peak:>8.0f}  {summary}", flush=True)
            results.append((backend, mails, seconds, peak, summary))
    return results


if __name__ == "__main__":
    main()
