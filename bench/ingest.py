"""Ingest throughput: direct ingest() calls, and through SMTP with concurrent clients; SQLite and PostgreSQL.

    python bench/ingest.py [--mails 1000] [--clients 20] [--pg-url URL]

Prints msgs/s per case. The SMTP case runs `gateway serve` as its own process (outbound to a
maildir) and drives it from 20 client threads using smtplib, one connection per mail.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.clock import SystemClock  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.ingest import Ingestor  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from tests.conftest import free_port, wait_listening  # noqa: E402


def _tail(server: subprocess.Popen) -> str:
    """The end of a serve process's stderr once it has exited (reading a live one would block)."""
    return server.stderr.read().decode()[-2000:] if server.poll() is not None else ""

DEFAULT_PG = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SUBJECTS = ["Invoice report crashes with error 500", "Please add a cost centre column to the export",
            "New starter account for Jane", "VPN is down for the whole office", "Printer on floor 2 jams"]


def mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n % 97} <customer{n % 97}@example.org>"
    msg["To"] = "ihelp@example.com"
    msg["Subject"] = SUBJECTS[n % len(SUBJECTS)] + f" #{n}"
    msg["Message-ID"] = make_msgid(domain="bench.example.org")
    msg.set_content("Hello,\n\n" + "This is a realistic paragraph of text about the problem. " * 12 + "\n\nRegards\n")
    return msg.as_bytes()


async def fresh_pg_database(url: str, name: str) -> str | None:
    """Drop and create database `name` on the server of `url`; its URL, or None when no server answers."""
    import asyncpg

    parsed = make_url(url)
    try:
        conn = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                     password=parsed.password, database=parsed.database, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"  PostgreSQL at {parsed.host}:{parsed.port} not available ({exc}); skipping its cases")
        return None
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str, name: str) -> None:
    """Drop database `name` on the server of `url` (its connections are ended first)."""
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                 password=parsed.password, database=parsed.database, timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# Generous caps for every bench's gateway: the benches send from few addresses and far more than 500 mails an
# hour, and rate limiting is not what they measure; every mail gets its acknowledgement.
LOOPGUARD = {"max_auto_replies_per_hour": 100000, "max_auto_replies_per_day": 100000, "max_auto_mail_per_hour": 100000}
LOOPGUARD_TOML = "[loopguard]\n" + "".join(f"{key} = {value}\n" for key, value in LOOPGUARD.items())


def settings_for(url: str, workdir: Path, port: int = 0) -> Settings:
    return Settings.model_validate({
        "base_dir": str(workdir), "database": {"url": url},
        "smtp": {"port": port}, "outbound": {"mode": "maildir", "maildir": str(workdir / "out")},
        "loopguard": LOOPGUARD,
    })


async def bench_direct(url: str, workdir: Path, count: int, concurrency: int) -> float:
    settings = settings_for(url, workdir)
    db = settings.open_database()
    await upgrade(db)
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
    mails = [mail(n) for n in range(count)]
    queue = list(reversed(mails))

    async def worker():
        while queue:
            outcome = await ingestor.ingest(queue.pop(), source="bench")
            assert outcome.status == "stored", outcome

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await db.dispose()
    return count / elapsed


def bench_smtp(url: str, workdir: Path, count: int, clients: int) -> tuple[float, int]:
    import smtplib

    port = free_port()
    config = workdir / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[smtp]\nport = {port}\n'
                      f'[outbound]\nmode = "maildir"\nmaildir = "{workdir}/out"\n'
                      + LOOPGUARD_TOML +
                      '[logging]\nlevel = "WARNING"\n')
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "serve"],
                              cwd=workdir, stderr=subprocess.PIPE)
    try:
        wait_listening(port, server, context=lambda: _tail(server))
        mails = [mail(n) for n in range(count)]
        failures = []
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    if not mails:
                        return
                    raw = mails.pop()
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                        smtp.sendmail("customer@example.org", ["ihelp@example.com"], raw)
                except smtplib.SMTPException as exc:
                    failures.append(exc)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        return (count - len(failures)) / elapsed, len(failures)
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    print(f"ingest benchmark: {args.mails} mails, {os.cpu_count()} cores")
    rows = []
    for backend in ("sqlite", "postgresql"):
        for case in ("direct, 1 at a time", f"direct, {args.clients} concurrent", f"SMTP, {args.clients} clients"):
            workdir = Path(tempfile.mkdtemp(prefix="gwbench"))
            try:
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{workdir}/gw.db"
                else:
                    url = asyncio.run(fresh_pg_database(args.pg_url, "gw_bench"))
                    if url is None:
                        break
                if case.startswith("SMTP"):
                    rate, failed = bench_smtp(url, workdir, args.mails, args.clients)
                    note = f"{failed} refused" if failed else ""
                else:
                    concurrency = 1 if "1 at a time" in case else args.clients
                    rate, note = asyncio.run(bench_direct(url, workdir, args.mails, concurrency)), ""
                rows.append((backend, case, rate, note))
                print(f"  {backend:10} {case:24} {rate:8.1f} msgs/s {note}", flush=True)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
