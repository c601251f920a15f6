"""Reference SMTP ceilings on this machine, measured with Postfix's smtp-source in the same run:

    python bench/smtp_reference.py [--mails 2000] [--sessions 20] [--pg-url URL]

- a do-nothing aiosmtpd listener (what one Python process can receive at all);
- Postfix's C smtp-sink (what the machine and the load tool can do);
- aiosmtpd that group-commits only each mail's raw bytes to SQLite before its 250: the ceiling of the
  "spool first, run the pipeline after" design the gateway follows (on SQLite its spool is such a file
  of its own); serve falls short of it by the pipeline's share of the same process (see
  [spool] drain_share_under_load).
With --pg-url, also serve on PostgreSQL, in a database of its own made anew on that server and dropped
after (never the shared test database). Needs smtp-source and smtp-sink (Debian package postfix).
Prints mails/s.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import free_port, wait_listening  # noqa: E402

# Each reference server: its Handler, then this, listening on the port given as its first argument.
LISTEN = """
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler(), hostname="bench"), "127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
asyncio.run(main())
"""

DO_NOTHING = """
import asyncio, sys
from aiosmtpd.smtp import SMTP
class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
""" + LISTEN

SPOOL_ONLY = """
import asyncio, hashlib, sqlite3, sys
from aiosmtpd.smtp import SMTP
db = sqlite3.connect(sys.argv[2], check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS spool (sha256 TEXT PRIMARY KEY, raw BLOB)")
waiting, flusher = [], None
def write(rows):
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT OR IGNORE INTO spool VALUES (?, ?)", rows)
    db.execute("COMMIT")
async def flush():
    global waiting, flusher
    while waiting:
        group, waiting = waiting, []
        await asyncio.to_thread(write, [row for row, _ in group])
        for _, done in group:
            done.set_result(None)
    flusher = None
class Handler:
    async def handle_DATA(self, server, session, envelope):
        global flusher
        done = asyncio.get_running_loop().create_future()
        waiting.append(((hashlib.sha256(envelope.content).hexdigest(), envelope.content), done))
        if flusher is None:
            flusher = asyncio.create_task(flush())
        await done
        return "250 OK"
""" + LISTEN


def smtp_source(port: int, mails: int, sessions: int, size: int = 2000) -> float:
    """mails/s that smtp-source reaches against 127.0.0.1:port, a connection per mail."""
    started = time.perf_counter()
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(mails), "-l", str(size),
                    "-f", "customer@example.org", "-t", "ihelp@example.com", f"127.0.0.1:{port}"],
                   check=True, capture_output=True, timeout=600)
    return mails / (time.perf_counter() - started)


def measure_server(command: list[str], port: int, mails: int, sessions: int) -> float:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, timeout=20)
        return smtp_source(port, mails, sessions)
    finally:
        server.terminate()
        server.wait(30)


def aiosmtpd_rate(mails: int, sessions: int) -> float:
    port = free_port()
    return measure_server([sys.executable, "-c", DO_NOTHING, str(port)], port, mails, sessions)


def spool_only_rate(mails: int, sessions: int) -> float:
    import tempfile

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gwspool") as workdir:
        command = [sys.executable, "-c", SPOOL_ONLY, str(port), f"{workdir}/spool.db"]
        return measure_server(command, port, mails, sessions)


def smtp_sink_rate(mails: int, sessions: int) -> float:
    port = free_port()
    return measure_server(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"], port, mails, sessions)


def gateway_rate(mails: int, sessions: int, url: str | None = None, instances: int = 1) -> float:
    """Durable ingest through `gateway serve`'s listener (every 250 committed), fed the same way.

    instances > 1: that many serve processes on one PostgreSQL `url`, each on its own port and fed
    its share of the mails and sessions at the same time; the figure is their sum.
    """
    import tempfile

    if instances > 1 and not url:
        raise ValueError("several instances share a PostgreSQL database: pass its url")
    with tempfile.TemporaryDirectory(prefix="gwsmtp") as workdir:
        ports = [free_port() for _ in range(instances)]
        servers = []
        try:
            for n, port in enumerate(ports):
                config = Path(workdir) / f"config{n}.toml"
                config.write_text(f'[database]\nurl = "{url or f"sqlite+aiosqlite:///{workdir}/gw.db"}"\n'
                                  f'[smtp]\nport = {port}\n[outbound]\nmode = "maildir"\n'
                                  f'maildir = "{workdir}/out{n}"\n[logging]\nlevel = "WARNING"\n')
                command = [sys.executable, "-m", "gateway.cli", "--config", str(config), "serve"]
                servers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                wait_listening(port, timeout=20)  # one at a time: the first one brings the schema up to date
            if instances == 1:
                return smtp_source(ports[0], mails, sessions)
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(instances) as pool:
                list(pool.map(lambda port: smtp_source(port, mails // instances, sessions // instances), ports))
            return mails // instances * instances / (time.perf_counter() - started)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(30)

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--pg-url", default="", help="a PostgreSQL server to make a throwaway database on")
    args = parser.parse_args()
    if not (shutil.which("smtp-source") and shutil.which("smtp-sink")):
        sys.exit("smtp-source/smtp-sink not found: apt-get install postfix (see ../shared/TESTING.md)")
    print(f"aiosmtpd do-nothing: {aiosmtpd_rate(args.mails, args.sessions):8.1f} mails/s")
    print(f"postfix smtp-sink:   {smtp_sink_rate(args.mails, args.sessions):8.1f} mails/s")
    print(f"aiosmtpd, raw bytes group-committed only: {spool_only_rate(args.mails, args.sessions):8.1f} mails/s")
    print(f"gateway (SQLite):    {gateway_rate(args.mails, args.sessions):8.1f} mails/s")
    if args.pg_url:
        print(f"gateway (PostgreSQL): {pg_gateway_rate(args.mails, args.sessions, args.pg_url):7.1f} mails/s")


def pg_gateway_rate(mails: int, sessions: int, server_url: str, name: str = "gw_bench_smtp_reference") -> float:
    """gateway_rate on a database `name` made anew on the server of `server_url`, dropped after."""
    import asyncio

    from bench.ingest import drop_pg_database, fresh_pg_database

    url = asyncio.run(fresh_pg_database(server_url, name))
    if url is None:
        raise SystemExit(f"no PostgreSQL server answers at {server_url}")
    try:
        return gateway_rate(mails, sessions, url)
    finally:
        asyncio.run(drop_pg_database(server_url, name))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
