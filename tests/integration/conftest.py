"""Integration fixtures: one throwaway Dovecot per test session, a fresh IMAP user per test."""
from __future__ import annotations

import asyncio
import email
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from tests.integration.dovecot import Dovecot, dovecot_version


def make_mail(*, subject: str, body: str = "Something is broken.", sender: str = "customer@example.org",
              to: str = "ihelp@example.com") -> EmailMessage:
    """A small customer mail with its own Message-ID, as delivered into a mailbox: the delivering MTA
    wrote the envelope sender into Return-Path."""
    mail = EmailMessage()
    mail["Return-Path"] = f"<{sender}>"
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Message-ID"] = make_msgid(domain="example.org")
    mail.set_content(body)
    return mail


@pytest.fixture
async def gw(settings_factory, relay):
    """`serve()` in this process on a free port, sending through the capture relay."""
    from tests.conftest import free_port
    from tests.integration.serving import start

    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05})
    running = await start(settings)
    yield running
    await running.shutdown()


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll `predicate` until it is truthy: an async function is awaited, a plain one (it may do IMAP) runs in a thread."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if asyncio.iscoroutinefunction(predicate):
            value = await predicate()
        else:
            value = await asyncio.to_thread(predicate)
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
def dovecot():
    """A running Dovecot on free loopback ports; tests that stop it must start it again."""
    if dovecot_version() is None:
        pytest.skip("the dovecot binary is not installed; apt-get install dovecot-imapd to run the IMAP tests")
    server = Dovecot()
    server.start()
    yield server
    server.close()


@dataclass
class ImapUser:
    """A fresh mailbox account on the test Dovecot, with helpers acting as senders and humans would."""

    server: Dovecot
    name: str
    password: str

    def append(self, *mails: bytes, folder: str = "INBOX") -> None:
        self.server.append(self.name, *mails, folder=folder)

    def uids(self, folder: str = "INBOX") -> list[int]:
        return self.server.uids(self.name, folder)

    def messages(self, folder: str = "INBOX"):
        return self.server.messages(self.name, folder)

    def mailbox_toml(self, *, poll_seconds: float) -> str:
        """A [[mailboxes]] entry for config.toml; the password comes from $SUPPORT_IMAP_PASSWORD."""
        return (f'[[mailboxes]]\nname = "support"\nhost = "{self.server.host}"\nport = {self.server.port}\n'
                f'security = "none"\nusername = "{self.name}"\npassword_env = "SUPPORT_IMAP_PASSWORD"\n'
                f'poll_seconds = {poll_seconds}\n')

    def mailbox(self, name: str = "support", **overrides: Any) -> dict[str, Any]:
        """A [[mailboxes]] entry for this account over plain IMAP on loopback."""
        entry = {"name": name, "host": self.server.host, "port": self.server.port, "security": "none",
                 "username": self.name, "password": self.password, "poll_seconds": 30, "timeout_seconds": 10}
        entry.update(overrides)
        return entry


@pytest.fixture
def imap_user(dovecot) -> ImapUser:
    dovecot.start()  # in case an earlier test stopped it and failed before starting it again
    return ImapUser(dovecot, *dovecot.take_user())


@pytest.fixture
def imap_user_factory(dovecot):
    dovecot.start()
    return lambda: ImapUser(dovecot, *dovecot.take_user())


class RecordingIngestor:
    """Stands in for gateway.ingest.Ingestor's spool: keeps each distinct mail once, like dedupe would."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.sources: list[str] = []

    async def accept_many(self, items) -> list[int]:
        for item in items:
            self.stored[hashlib.sha256(item.raw).hexdigest()] = item.raw
            self.sources.append(item.source)
        first = len(self.sources) - len(items) + 1
        return list(range(first, first + len(items)))

    async def count(self) -> int:
        return len(self.stored)

    async def subjects(self) -> list[str]:
        return sorted(str(email.message_from_bytes(raw)["Subject"]) for raw in self.stored.values())
