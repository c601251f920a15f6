"""`gateway ingest`, one process per mail as an MTA's pipe runs it: mails/s.

    python bench/pipe.py [--mails 200] [--concurrency 1 4] [--alone-mails 20]

Figures on SQLite, each from a fresh database: the pipe handing each mail to a running
`gateway serve` (sequentially, then N at once as Postfix's maxproc allows), and the pipe with no
serve running, which commits the mail to the spool file with the standard library only (exit 0),
then one `gateway ingest --drain` processing what those pipes spooled (its start-up included). For
reference, two bounds: the bare cost of starting the interpreter, and serve's own share (the same
mails sent from this process, one SMTP connection each, no process started). Roundup's mail gateway
manages about 5 mails/s in its one-process-per-mail mode.

gateway's modules are compiled to bytecode first, as `pip install` does: with PYTHONDONTWRITEBYTECODE
set and no cache, every pipe process would compile what it imports, which an installed gateway does not.
"""
from __future__ import annotations

import argparse
import compileall
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import free_port, wait_listening  # noqa: E402

GATEWAY = [sys.executable, "-m", "gateway.cli"]
if (Path(sys.executable).parent / "gateway").exists():
    GATEWAY = [str(Path(sys.executable).parent / "gateway")]  # the console script, as an MTA would run it


def mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"customer{n}@example.org", "ihelp@example.com"
    msg["Subject"], msg["Message-ID"] = f"Pipe bench {n}: printer offline", make_msgid(domain="example.org")
    msg.set_content(f"The printer in room {n} is offline again.\n" * 5)
    return msg.as_bytes()


def workdir() -> tuple[Path, int]:
    path = Path(tempfile.mkdtemp(prefix="gw-pipe-"))
    port = free_port()
    (path / "config.toml").write_text(f'[database]\nurl = "sqlite+aiosqlite:///{path}/gw.db"\n'
                                      f'[outbound]\nmaildir = "{path}/out"\n[smtp]\nport = {port}\n')
    subprocess.run([*GATEWAY, "--config", str(path / "config.toml"), "db", "upgrade"], check=True,
                   capture_output=True)
    return path, port


def run_pipes(path: Path, mails: int, concurrency: int) -> float:
    def one(n: int) -> None:
        result = subprocess.run([*GATEWAY, "--config", str(path / "config.toml"), "ingest",
                                 "--sender", f"customer{n}@example.org"], input=mail(n), capture_output=True)
        if result.returncode != 0:
            raise SystemExit(f"ingest exited {result.returncode}: {result.stderr.decode()}")

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(mails)))
    return mails / (time.perf_counter() - started)


def send_from_here(port: int, mails: int) -> float:
    """serve's share: the pipe's SMTP conversation, from this process, one connection per mail."""
    started = time.perf_counter()
    for n in range(mails):
        with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=60) as client:
            client.sendmail(f"customer{n}@example.org", ["ihelp@example.com"], mail(n).replace(b"\n", b"\r\n"))
    return mails / (time.perf_counter() - started)


def with_serve(mails: int, concurrency: int | None) -> float:
    """mails/s through a fresh serve: `concurrency` pipes at a time, or (None) sent from this process."""
    path, port = workdir()
    serve = subprocess.Popen([*GATEWAY, "--config", str(path / "config.toml"), "serve"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, serve)
        return send_from_here(port, mails) if concurrency is None else run_pipes(path, mails, concurrency)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        shutil.rmtree(path, ignore_errors=True)


def alone(mails: int) -> tuple[float, float]:
    """(mails/s spooled by pipes one at a time with no serve running, mails/s of the drain after them)."""
    path, _ = workdir()
    try:
        spooled = run_pipes(path, mails, 1)
        started = time.perf_counter()
        subprocess.run([*GATEWAY, "--config", str(path / "config.toml"), "ingest", "--drain"], check=True,
                       capture_output=True)
        return spooled, mails / (time.perf_counter() - started)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def interpreter_rate(runs: int = 20) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    return runs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--alone-mails", type=int, default=100)
    args = parser.parse_args()
    os.chdir(REPO)
    compileall.compile_dir(REPO / "gateway", quiet=1)
    print(f"{'what':<52} {'mails/s':>8}")
    print(f"{'python -c pass (interpreter start only)':<52} {interpreter_rate():>8.1f}")
    print(f"{'serve alone: SMTP from this process, 1 at a time':<52} {with_serve(args.mails, None):>8.1f}")
    for concurrency in args.concurrency:
        label = f"gateway ingest -> running serve, {concurrency} at a time"
        print(f"{label:<52} {with_serve(args.mails, concurrency):>8.1f}")
    spooled, drained = alone(args.alone_mails)
    print(f"{'gateway ingest, no serve: spool file only, 1 at a time':<52} {spooled:>8.1f}")
    print(f"{'  then gateway ingest --drain (start-up included)':<52} {drained:>8.1f}")


if __name__ == "__main__":
    main()
