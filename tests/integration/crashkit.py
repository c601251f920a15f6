"""Fault scenarios with real processes, shared by tests/integration/test_crash_smtp.py and bench/faults.py.

A `gateway serve` process on a SQLite file sends through a capture relay in this process; client
threads send it mail over SMTP as MTAs would (a mail not answered 250 is tried again later). A
scenario breaks something in the middle (kill -9 of serve, the relay gone for a while), repairs it,
waits until every mail is in and every notification out, and counts what the clients and the relay
saw against what the database holds.
"""
from __future__ import annotations

import collections
import email
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Callable

from aiosmtpd.controller import Controller

from tests.conftest import free_port, wait_listening


class Relay:
    """The outbound relay: keeps each mail's Message-ID; stop() and start() make an outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.ids: list[str] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        mail = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.compat32)
        with self.lock:
            self.ids.extend([str(mail["Message-ID"])] * len(envelope.rcpt_tos))
        return "250 OK"

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Serve:
    """`gateway serve` as its own process, in its own folder, on SQLite."""

    def __init__(self, home: Path, relay_port: int):
        self.home, self.port = home, free_port()
        self.db = home / "gateway.db"
        (home / "config.toml").write_text(f"""
[database]
url = "sqlite+aiosqlite:///{self.db}"
[smtp]
port = {self.port}
[outbound]
mode = "smtp"
port = {relay_port}
poll_seconds = 0.1
timeout_seconds = 2
lease_seconds = 4
backoff_seconds = 0.2
backoff_max_seconds = 1
max_attempts = 1000
[digest]
recipients = []
""")
        self.proc: subprocess.Popen | None = None
        subprocess.run(self._command("db", "upgrade"), check=True, capture_output=True, timeout=60)

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "gateway.cli", "--config", str(self.home / "config.toml"), *args]

    def start(self) -> None:
        self.proc = subprocess.Popen(self._command("serve"), cwd=self.home, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "serve.log", "ab"))
        wait_listening(self.port, self.proc, 30, self.log)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def log(self) -> str:
        path = self.home / "serve.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def query(self, sql: str) -> list[tuple]:
        """Read beside the running writer (WAL); [] before the schema exists. The spool file beside the
        database is attached as `spoolfile` (its rows are pending unless spool_done names them)."""
        try:
            with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10) as conn:
                conn.execute("ATTACH DATABASE ? AS spoolfile", (f"file:{self.db}.spool.sqlite?mode=ro",))
                return conn.execute(sql).fetchall()
        except sqlite3.Error:
            return []


class Clients:
    """`clients` threads sending `mails` mails between them; each retries its mail until answered 250."""

    def __init__(self, port: int, mails: int, clients: int):
        self.port, self.mails, self.clients = port, mails, clients
        self.acked: list[str] = []  # Message-IDs, as the clients saw them answered 250
        self.refused = 0  # attempts answered other than 250, or cut off
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(clients)]

    def start(self) -> "Clients":
        for thread in self.threads:
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self.threads):
            raise RuntimeError(f"clients still sending after {timeout:.0f} s")

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def _run(self, k: int) -> None:
        for n in range(k, self.mails, self.clients):
            mail = EmailMessage()
            mail["From"], mail["To"] = f"customer{n}@example.org", "ihelp@example.com"
            mail["Subject"], mail["Message-ID"] = f"Fault test {n}", make_msgid(domain="example.org")
            mail.set_content(f"Mail {n}: the printer on floor {n % 7} is jammed.")
            raw = mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                        client.sendmail(f"customer{n}@example.org", ["ihelp@example.com"], raw)
                    with self.lock:
                        self.acked.append(mail["Message-ID"].strip("<>"))
                    break
                except (OSError, smtplib.SMTPException):
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.2)  # as an MTA would, later


@dataclass
class Result:
    scenario: str
    acknowledged: int
    stored: int
    lost: int
    stored_twice: int
    notifications: int  # outbox rows queued
    sent: int  # of those, reaching the relay at least once
    sent_twice: int  # relay deliveries beyond the first of a Message-ID
    # Outbox rows the killed sender had claimed and not recorded: the only ones that may go out twice.
    in_flight: int | None = None  # None: nothing was killed
    resent_outside_flight: int = 0  # Message-IDs the relay got more than once that were not in flight
    not_ours: int = 0  # relay deliveries whose Message-ID is no outbox row's (a resend under a new ID)
    retried: int = 0  # outbox rows sent only after a failed attempt (backoff happened)
    refused: int = 0  # attempts the clients saw answered other than 250 (then tried again)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    ROW = ("acknowledged", "stored", "lost", "stored_twice", "notifications", "sent", "sent_twice", "in_flight",
           "refused")


@dataclass(frozen=True)
class Fault:
    """What a fault did: a line for the report, and the outbox rows in flight when it killed serve."""

    note: str
    in_flight: frozenset[str] | None = None


def _tally(scenario: str, serve: Serve, relay: Relay, clients: Clients, fault: Fault, started: float) -> Result:
    stored_ids = [row[0] for row in serve.query("SELECT message_id FROM messages WHERE direction = 'in'")]
    outbox_ids = {row[0].strip("<>") for row in serve.query("SELECT message_id FROM outbox")}
    retried = serve.query("SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts > 0")
    with relay.lock:
        at_relay = collections.Counter(mid.strip("<>") for mid in relay.ids)
    acked = set(clients.acked)
    resent = {mid for mid, n in at_relay.items() if n > 1}
    return Result(
        scenario=scenario, acknowledged=len(acked), stored=len(set(stored_ids)), lost=len(acked - set(stored_ids)),
        stored_twice=len(stored_ids) - len(set(stored_ids)), notifications=len(outbox_ids),
        sent=len(outbox_ids & set(at_relay)), sent_twice=sum(n - 1 for n in at_relay.values()),
        in_flight=None if fault.in_flight is None else len(fault.in_flight),
        resent_outside_flight=len(resent - (fault.in_flight or frozenset())),
        not_ours=sum(n for mid, n in at_relay.items() if mid not in outbox_ids),
        retried=retried[0][0] if retried else 0, refused=clients.refused, seconds=time.monotonic() - started,
        notes=[fault.note])


SPOOL_PENDING = "SELECT count(*) FROM spoolfile.spool WHERE id NOT IN (SELECT id FROM spool_done)"


def _drained(serve: Serve, timeout: float) -> None:
    """Every accepted mail processed and every notification sent. The spool first: a 250 means spooled,
    and mail still in the spool has queued no notification yet, so an empty outbox alone says nothing."""
    deadline = time.monotonic() + timeout
    while (serve.query(SPOOL_PENDING) != [(0,)]
           or serve.query("SELECT count(*) FROM outbox WHERE status != 'sent'") != [(0,)]):
        if time.monotonic() > deadline:
            raise RuntimeError(f"spool or outbox not drained within {timeout:.0f} s: {serve.log()}")
        time.sleep(0.1)


def _wait(predicate, timeout: float, what: str, serve: Serve) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s: {serve.log()}")
        time.sleep(0.01)


def _scenario(name: str, *, mails: int, clients: int, at: float, home: Path | None,
              fault: Callable[[Serve, Relay, Clients], Fault]) -> Result:
    """Serve and clients running; once `at` of the mails are acknowledged, `fault` breaks and repairs
    something; then wait for every mail and notification, and count."""
    home = home or Path(tempfile.mkdtemp(prefix="gw-faults-"))
    relay = Relay()
    relay.start()
    serve = Serve(home, relay.port)
    started = time.monotonic()
    try:
        serve.start()
        senders = Clients(serve.port, mails, clients).start()
        _wait(lambda: senders.count() >= mails * at, 120, "mails acknowledged before the fault", serve)
        done = fault(serve, relay, senders)
        senders.join(180)
        _drained(serve, 60)
        return _tally(name, serve, relay, senders, done, started)
    finally:
        serve.stop()
        relay.stop()


def kill_9(*, mails: int = 300, clients: int = 10, kill_at: float = 0.4, home: Path | None = None) -> Result:
    """kill -9 of serve once `kill_at` of the mails are acknowledged; restart it at once."""
    def fault(serve: Serve, relay: Relay, senders: Clients) -> Fault:
        serve.kill()
        at_kill = senders.count()
        # Read before the restart: 'sending' now means claimed by the dead sender and not recorded.
        in_flight = frozenset(row[0].strip("<>") for row in
                              serve.query("SELECT message_id FROM outbox WHERE status = 'sending'"))
        serve.start()
        return Fault(f"killed after {at_kill} of {mails} acknowledged, {len(in_flight)} outbox rows in flight",
                     in_flight)

    return _scenario("kill -9 of serve mid-stream", mails=mails, clients=clients, at=kill_at, home=home, fault=fault)


def relay_outage(*, mails: int = 300, clients: int = 10, outage_seconds: float = 5.0,
                 home: Path | None = None) -> Result:
    """The relay goes away for `outage_seconds` once a third of the mails are in, then comes back."""
    def fault(serve: Serve, relay: Relay, senders: Clients) -> Fault:
        relay.stop()
        down_at = senders.count()
        time.sleep(outage_seconds)
        waiting = serve.query("SELECT count(*) FROM outbox WHERE status != 'sent'")
        relay.start()
        return Fault(f"relay stopped after {down_at} acknowledged; {waiting[0][0] if waiting else '?'} "
                     f"notifications waiting when it came back")

    return _scenario(f"relay down {outage_seconds:g} s mid-stream", mails=mails, clients=clients, at=1 / 3,
                     home=home, fault=fault)
