"""Two `gateway serve` processes on one PostgreSQL, fed over SMTP and from one Dovecot mailbox; the one
polling the mailbox is killed with kill -9 midway. Every mail is stored once, every acknowledgement
sent once, the digest once, and the survivor takes the mailbox over."""
from __future__ import annotations

import asyncio
import collections
import email
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from email import policy

import pytest
from sqlalchemy import func, select

from gateway.mail.parse import normalise_message_id
from gateway.store.models import MailboxState, Message, Outbox, Ticket
from tests.conftest import PG_URL, _pg_available, free_port, make_pg_database
from gateway.store.migrate import upgrade
from tests.integration.conftest import make_mail

pytestmark = pytest.mark.dovecot
SMTP_MAILS = 80
IMAP_MAILS = 60
IMAP_AFTER = 10  # appended once the poller is killed: only the instance that takes the mailbox over can spool them


def config_text(schema: str, relay_port: int, imap_user) -> str:
    return f"""
[database]
url = "{PG_URL}"
pg_schema = "{schema}"

[outbound]
mode = "smtp"
port = {relay_port}
poll_seconds = 0.1
timeout_seconds = 2
lease_seconds = 5
backoff_seconds = 0.5

[digest]
recipients = ["digest@example.com"]
time = "00:00"

[business]
days = [0, 1, 2, 3, 4, 5, 6]

{imap_user.mailbox_toml(poll_seconds=2)}"""


class Instance:
    def __init__(self, name: str, tmp_path, env: dict):
        self.name, self.port = name, free_port()
        self.log = tmp_path / f"{name}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=tmp_path,
                                     env={**env, "GATEWAY_SMTP__PORT": str(self.port)},
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def listening(self) -> bool:
        try:
            smtplib.SMTP("127.0.0.1", self.port, timeout=1).quit()
            return True
        except OSError:
            return False


class Clients:
    """Customers' mail servers: each mail goes to one instance, or to the other when that one fails."""

    def __init__(self, instances: list[Instance]):
        self.instances = instances
        self.acked: list[str] = []  # Message-IDs answered 250
        self.lock = threading.Lock()

    def send_all(self, count: int) -> None:
        threads = [threading.Thread(target=self._send_range, args=(range(k, count, 4),)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _send_range(self, numbers) -> None:
        for n in numbers:
            mail = make_mail(subject=f"Over SMTP {n}", body=f"SMTP mail {n}.", sender=f"smtp{n}@example.org")
            raw = mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
            for attempt in range(40):
                instance = self.instances[(n + attempt) % len(self.instances)]
                try:
                    with smtplib.SMTP("127.0.0.1", instance.port, timeout=10) as client:
                        client.sendmail(f"smtp{n}@example.org", ["ihelp@example.com"], raw)
                    with self.lock:
                        self.acked.append(mail["Message-ID"])
                    break
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.1)  # as an MTA would: try the next MX
            time.sleep(0.02)


async def test_two_instances_store_and_send_everything_once_when_one_is_killed(imap_user, relay, tmp_path):
    if reason := _pg_available():
        pytest.skip(reason)
    database, drop = await make_pg_database()
    await upgrade(database)
    imap_user.append(*imap_mails(range(IMAP_MAILS)))
    (tmp_path / "config.toml").write_text(config_text(database.schema, relay.port, imap_user))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SUPPORT_IMAP_PASSWORD": imap_user.password}
    instances = [Instance("one", tmp_path, env), Instance("two", tmp_path, env)]

    async def scalar(query):
        async with database.transaction() as session:
            return await session.scalar(query)

    inbound = select(func.count()).select_from(Message).where(Message.direction == "in")
    try:
        await wait(lambda: all(i.listening() for i in instances), 30, "both instances listening", instances)
        clients = Clients(instances)
        sending = asyncio.create_task(asyncio.to_thread(clients.send_all, SMTP_MAILS))
        await wait_async(lambda: scalar(select(MailboxState.lease_holder)), 30, "a mailbox lease", instances)
        await wait_async(lambda: _at_least(scalar(inbound), 20), 30, "20 mails stored", instances)
        holder = await scalar(select(MailboxState.lease_holder))
        victim = next(i for i in instances if holder.endswith(f":{i.proc.pid}"))
        survivor = next(i for i in instances if i is not victim)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        # The poller moves mail out at its spool commit, so the backlog may be gone already: new mail
        # after the kill shows the takeover.
        await asyncio.to_thread(imap_user.append, *imap_mails(range(IMAP_MAILS, IMAP_MAILS + IMAP_AFTER)))
        await sending
        expected = SMTP_MAILS + IMAP_MAILS + IMAP_AFTER
        await wait_async(lambda: _at_least(scalar(inbound), expected), 60, "every mail stored", [survivor])
        await wait(lambda: not imap_user.uids("INBOX"), 30, "the survivor emptying INBOX", [survivor])
        unsent = select(func.count()).select_from(Outbox).where(Outbox.status != "sent")
        await wait_async(lambda: _is_zero(scalar(unsent)), 60, "the outbox drained", [survivor])
    finally:
        for instance in instances:
            if instance.alive():
                instance.proc.send_signal(signal.SIGTERM)
                instance.proc.wait(30)

    assert len(clients.acked) == SMTP_MAILS
    async with database.transaction() as session:
        ids = (await session.scalars(select(Message.message_id).where(Message.direction == "in"))).all()
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        holder = await session.scalar(select(MailboxState.lease_holder))
        rows = await session.scalar(select(func.count()).select_from(Outbox))
    await drop()
    assert len(ids) == len(set(ids)) == expected and tickets == len(ids)
    assert {normalise_message_id(acked) for acked in clients.acked} <= set(ids)
    assert holder is None  # the survivor held it, and handed it back when it stopped
    assert "taking over from" in survivor.log.read_text()

    delivered = [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in relay.messages]
    by_id = collections.Counter(m["Message-ID"] for m in delivered)
    acks = collections.defaultdict(set)
    for mail in delivered:
        if mail["To"].addresses[0].domain == "example.org":
            acks[mail["To"].addresses[0].addr_spec].add(mail["Message-ID"])
    assert len(acks) == expected and all(len(ids) == 1 for ids in acks.values())
    digests = {m["Message-ID"] for m in delivered if "digest" in m["Subject"]}
    assert len(digests) == 1
    assert len(by_id) == rows  # every outbox row reached the relay
    # A resend only for a row whose relay 250 came just before the kill, and with the same Message-ID.
    assert sum(n - 1 for n in by_id.values()) <= 10


def imap_mails(numbers) -> list[bytes]:
    return [make_mail(subject=f"Over IMAP {n}", body=f"IMAP mail {n}.", sender=f"imap{n}@example.org").as_bytes()
            for n in numbers]


async def _at_least(value, n) -> bool:
    return (await value or 0) >= n


async def _is_zero(value) -> bool:
    return (await value) == 0


async def wait(predicate, timeout: float, what: str, instances: list[Instance]) -> None:
    await wait_async(lambda: asyncio.to_thread(predicate), timeout, what, instances)


async def wait_async(predicate, timeout: float, what: str, instances: list[Instance]) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        for instance in instances:
            if not instance.alive():
                raise AssertionError(f"{instance.name} exited: {instance.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {i.name}\n{i.log.read_text()[-2000:]}" for i in instances)
            raise AssertionError(f"{what}: not within {timeout}s\n{logs}")
        await asyncio.sleep(0.05)
