"""Latency from the end of SMTP DATA to the customer's acknowledgement arriving at the relay.

    python bench/latency.py [--rates 10 100] [--seconds 10] [--pg-url URL] [--backend sqlite|postgresql|both]

Runs `gateway serve` as its own process with an aiosmtpd capture relay (in this process) as its
outbound relay, sends mails open-loop at each fixed rate (a new connection per mail, from a pool of
client threads, as MTAs do), and prints per rate: mails offered, the rate achieved, acknowledgements
received, and the DATA-end -> ack-at-relay latency (median, 99th percentile, max), then the CPU
time of serve's main process per accepted mail and the connections serve opened to the relay.
When the offered rate exceeds what the gateway ingests, the backlog shows up as latency.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import DEFAULT_PG, LOOPGUARD_TOML, _tail, fresh_pg_database  # noqa: E402
from tests.conftest import free_port, wait_listening  # noqa: E402


class Relay:
    """Capture relay: remembers when each acknowledgement arrived, keyed by the mail it answers."""

    def __init__(self) -> None:
        self.acks: dict[str, float] = {}
        self.peers: set = set()  # (host, client port) of each connection a mail came over
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        arrived = time.perf_counter()
        self.peers.add(session.peer)
        headers = BytesHeaderParser().parsebytes(envelope.content)
        if str(headers.get("Auto-Submitted", "")) == "auto-replied":  # the customer's ack, not the staff's mail
            with self.lock:
                self.acks[str(headers.get("In-Reply-To", "")).strip().strip("<>")] = arrived
        return "250 OK"


class TimedSMTP(smtplib.SMTP):
    """smtplib, noting the moment the final '.' of DATA has been written."""

    data_end: float = 0.0

    def send(self, s):
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.data_end = time.perf_counter()


def make_mail(rate: int, n: int) -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"] = f"customer{n}@rate{rate}.example.org"  # one address each: caps are not what is measured
    msg["To"] = "ihelp@example.com"
    msg["Subject"] = f"Latency probe {n}: the report server is slow"
    message_id = f"probe-{rate}-{n}-{os.getpid()}@bench.example.org"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("Hello,\n\n" + "The weekly report takes minutes to open since Monday. " * 8 + "\n")
    return message_id, msg.as_bytes()


def send_one(port: int, raw: bytes) -> float | None:
    try:
        with TimedSMTP("127.0.0.1", port, timeout=120) as client:
            client.sendmail("customer@example.org", ["ihelp@example.com"], raw)
            return client.data_end
    except (smtplib.SMTPException, OSError):
        return None


def start_gateway(workdir: Path, url: str, port: int, relay_port: int) -> subprocess.Popen:
    config = workdir / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[smtp]\nport = {port}\n'
                      f'[outbound]\nmode = "smtp"\nhost = "127.0.0.1"\nport = {relay_port}\nstarttls = false\n'
                      + LOOPGUARD_TOML +
                      '[logging]\nlevel = "WARNING"\n')
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "serve"],
                              cwd=workdir, stderr=subprocess.PIPE)
    wait_listening(port, server, context=lambda: _tail(server))
    return server


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far, in seconds (Linux /proc; its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_rate(port: int, server_pid: int, relay: Relay, rate: int, seconds: float) -> dict:
    count = int(rate * seconds)
    mails = [make_mail(rate, n) for n in range(count)]
    ended: dict[str, float | None] = {}
    cpu, peers = cpu_seconds(server_pid), len(relay.peers)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(200, max(8, rate * 2))) as pool:
        futures = {}
        for n, (message_id, raw) in enumerate(mails):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures[message_id] = pool.submit(send_one, port, raw)
        for message_id, future in futures.items():
            ended[message_id] = future.result()
    accepted = [m for m, t in ended.items() if t is not None]
    sent_for = time.perf_counter() - started
    deadline = time.time() + 120
    while time.time() < deadline:
        with relay.lock:
            if all(m in relay.acks for m in accepted):
                break
        time.sleep(0.05)
    with relay.lock:
        latencies = sorted(relay.acks[m] - ended[m] for m in accepted if m in relay.acks)
    cpu, peers = cpu_seconds(server_pid) - cpu, len(relay.peers) - peers
    return {
        "cpu_ms_per_mail": cpu * 1000 / max(1, len(accepted)), "relay_connections": peers,
        "offered": count, "accepted": len(accepted), "achieved_rate": len(accepted) / sent_for,
        "acks": len(latencies),
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[math.ceil(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),  # nearest rank
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
    }


def measure(backend: str, url: str, workdir: Path, rates: list[int], seconds: float) -> list[tuple]:
    relay = Relay()
    relay_port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port)
    controller.start()
    port = free_port()
    server = start_gateway(workdir, url, port, relay_port)
    rows = []
    try:
        for rate in rates:
            result = run_rate(port, server.pid, relay, rate, seconds)
            rows.append((backend, rate, result))
            print(f"  {backend:10} {rate:4d}/s offered: {result['accepted']}/{result['offered']} accepted at "
                  f"{result['achieved_rate']:.1f}/s, {result['acks']} acks; DATA end -> ack at relay: "
                  f"median {result['median_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                  f"max {result['max_ms']:.0f} ms; serve main process {result['cpu_ms_per_mail']:.1f} ms CPU "
                  f"per mail, {result['relay_connections']} relay connections", flush=True)
    finally:
        server.terminate()
        server.wait(30)
        controller.stop()
    return rows


def main(argv: list[str] | None = None) -> list[tuple]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args(argv)
    print(f"latency benchmark: {args.seconds:g} s per rate, {os.cpu_count()} cores")
    rows = []
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        workdir = Path(tempfile.mkdtemp(prefix="gwlatency"))
        try:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{workdir}/gw.db"
            else:
                url = asyncio.run(fresh_pg_database(args.pg_url, "gw_latency"))
                if url is None:
                    continue
            rows.extend(measure(backend, url, workdir, args.rates, args.seconds))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
