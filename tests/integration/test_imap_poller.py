"""The IMAP poller against a real Dovecot: backlog, IDLE, server restart, bad logins, poison mail, a spool that
cannot be written, fallbacks."""
from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

import pytest
from sqlalchemy import func, select

from gateway.clock import SystemClock
from gateway.inbound.imap import Backoff, MailboxPoller, run_pollers
from gateway.inbound.imap_session import ImapSession
from gateway.inbound.mailbox_status import check_mailboxes, mailbox_status
from gateway.ingest import Ingestor
from gateway.spool_worker import run_spool_worker
from gateway.store.models import MailboxState, Message, QuarantineEntry, Ticket
from tests.integration.conftest import RecordingIngestor, make_mail, wait_for

pytestmark = pytest.mark.dovecot


def mails(*subjects: str) -> list[bytes]:
    return [make_mail(subject=s, body=f"About {s}.").as_bytes() for s in subjects]


class Pollers:
    """run_pollers() as a background task for the length of an `async with`; with the real Ingestor, serve's
    spool worker beside it (the poller only spools: the worker makes the tickets)."""

    def __init__(self, settings, ingestor, db, environ=None, worker: bool = True):
        self.settings, self.ingestor, self.db = settings, ingestor, db
        self.with_worker = worker
        self.environ = environ or {}
        self.stop = asyncio.Event()

    async def __aenter__(self) -> "Pollers":
        self.task = asyncio.create_task(run_pollers(settings=self.settings, ingestor=self.ingestor, db=self.db,
                                                    clock=SystemClock(), stop=self.stop, environ=self.environ))
        self.worker = None
        if self.with_worker and isinstance(self.ingestor, Ingestor):
            self.worker = asyncio.create_task(run_spool_worker(
                ingestor=self.ingestor, clock=SystemClock(), config=self.settings.spool, stop=self.stop,
                on_stored=lambda: None))
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        if self.worker is not None:
            await asyncio.wait_for(self.worker, 10)

    async def status(self, name: str = "support") -> dict:
        return {row["name"]: row for row in await mailbox_status(settings=self.settings, db=self.db)}[name]


@pytest.fixture
def ingestor():
    return RecordingIngestor()


class Tickets:
    """The real Ingestor on the test database, and what it stored: a mail counts once it is a ticket."""

    def __init__(self, settings, db):
        self.db = db
        self.ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())

    async def count(self) -> int:
        async with self.db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))

    async def subjects(self) -> list[str]:
        async with self.db.transaction() as session:
            return sorted((await session.scalars(select(Ticket.subject))).all())


async def test_backlog_present_at_start_becomes_tickets_and_leaves_the_inbox(imap_user, settings_factory, db):
    imap_user.append(*mails(*(f"Backlog {n}" for n in range(12))))
    settings = settings_factory(mailboxes=[imap_user.mailbox()])
    tickets = Tickets(settings, db)
    async with Pollers(settings, tickets.ingestor, db) as pollers:
        await wait_for(lambda: len(imap_user.uids("INBOX")) == 0, timeout=10)  # spooled, then moved
        await wait_for(partial(_at_least, tickets, 12), timeout=10)  # the spool worker made the tickets
        assert await tickets.subjects() == sorted(f"Backlog {n}" for n in range(12))
        status = await pollers.status()
    processed = imap_user.messages("Processed")
    assert len(processed) == 12 and all(b"\\Seen" in flags for _, flags in processed)
    async with db.transaction() as session:
        assert set((await session.scalars(select(Message.source).where(Message.direction == "in"))).all()) == {
            "imap:support"}
    assert status["connected"] and status["backlog"] == 0 and status["last_error"] is None
    assert status["last_uid"] == 12 and status["last_success_at"]


async def test_mail_leaves_the_inbox_once_spooled_without_waiting_for_the_pipeline(imap_user, settings_factory, db):
    settings = settings_factory(mailboxes=[imap_user.mailbox()])
    tickets = Tickets(settings, db)
    imap_user.append(*mails("Spooled 1", "Spooled 2", "Spooled 3"))
    async with Pollers(settings, tickets.ingestor, db, worker=False):  # nothing runs the pipeline
        await wait_for(lambda: len(imap_user.uids("Processed")) == 3, timeout=10)
    assert not imap_user.uids("INBOX") and await tickets.count() == 0
    assert (await db.spool.status(SystemClock().now())).depth == 3
    assert len(await tickets.ingestor.drain()) == 3  # the spool worker's part, whenever it runs
    assert await tickets.subjects() == ["Spooled 1", "Spooled 2", "Spooled 3"]


async def test_mail_appended_while_serving_becomes_a_ticket_within_3s_through_idle(imap_user, settings_factory,
                                                                                   db):
    # poll_seconds 30: only IDLE can bring the mail in within 3 s.
    settings = settings_factory(mailboxes=[imap_user.mailbox(poll_seconds=30)])
    ingestor = Tickets(settings, db)
    async with Pollers(settings, ingestor.ingestor, db) as pollers:
        await wait_for(partial(_connected, pollers), timeout=5)
        await asyncio.sleep(0.3)  # let the poller enter IDLE
        started = time.monotonic()
        await asyncio.to_thread(imap_user.append, *mails("Appended while idle"))
        await wait_for(ingestor.count, timeout=3, interval=0.01)
        elapsed = time.monotonic() - started
        await wait_for(lambda: not imap_user.uids("INBOX"), timeout=3)
    assert await ingestor.subjects() == ["Appended while idle"]
    assert elapsed < 3


async def _connected(pollers: Pollers, name: str = "support") -> bool:
    return (await pollers.status(name))["connected"]


async def test_dovecot_restart_while_serving_reconnects_and_carries_on(dovecot, imap_user, settings_factory, db):
    settings = settings_factory(mailboxes=[imap_user.mailbox(poll_seconds=30)])
    ingestor = Tickets(settings, db)
    async with Pollers(settings, ingestor.ingestor, db) as pollers:
        imap_user.append(*mails("Before the restart"))
        await wait_for(ingestor.count, timeout=5)
        await asyncio.to_thread(dovecot.stop)
        await wait_for(partial(_down, pollers), timeout=5)
        await asyncio.to_thread(dovecot.start)
        imap_user.append(*mails("After the restart"))
        await wait_for(partial(_at_least, ingestor, 2), timeout=15)
        await wait_for(partial(_connected, pollers), timeout=5)
        status = await pollers.status()
    assert await ingestor.subjects() == ["After the restart", "Before the restart"]
    assert status["last_error"] and status["failing_since"] is None and not imap_user.uids("INBOX")


async def _at_least(tickets: Tickets, n: int) -> bool:
    return await tickets.count() >= n


async def _down(pollers: Pollers) -> bool:
    status = await pollers.status()
    return not status["connected"] and status["last_error"] is not None


async def test_a_wrong_password_is_reported_and_does_not_stop_the_good_mailbox(imap_user_factory, settings_factory,
                                                                               db, caplog):
    good, bad = imap_user_factory(), imap_user_factory()
    settings = settings_factory(mailboxes=[
        good.mailbox("good"), bad.mailbox("bad", password=None, password_env="BAD_PASSWORD")])
    tickets = Tickets(settings, db)
    ingestor = tickets.ingestor
    bad.append(*mails("Stuck behind a bad password"))
    with caplog.at_level(logging.WARNING, logger="gateway.inbound.imap"):
        async with Pollers(settings, ingestor, db, environ={"BAD_PASSWORD": "wrong"}) as pollers:
            good.append(*mails("Through the good mailbox"))
            await wait_for(tickets.count, timeout=10)
            await wait_for(partial(_down_named, pollers, "bad"), timeout=10)
            bad_status, good_status = await pollers.status("bad"), await pollers.status("good")
    assert await tickets.subjects() == ["Through the good mailbox"]
    assert good_status["connected"] and good_status["last_error"] is None
    assert not bad_status["connected"] and bad_status["failing_since"] and bad_status["backlog"] == 0
    assert "login refused: [AUTHENTICATIONFAILED] Authentication failed." in bad_status["last_error"]
    lines = [r.getMessage() for r in caplog.records if "'bad'" in r.getMessage()]
    assert lines and all("login refused" in line and "retrying in" in line for line in lines)
    assert len(bad.uids("INBOX")) == 1  # nothing was taken from the mailbox we could not log in to


async def _down_named(pollers: Pollers, name: str) -> bool:
    return (await pollers.status(name))["last_error"] is not None


async def test_a_poison_mail_leaves_the_inbox_at_its_spool_commit_and_is_quarantined_from_the_spool(
        imap_user, settings_factory, db, monkeypatch):
    settings = settings_factory(mailboxes=[imap_user.mailbox(poll_seconds=5)])
    tickets = Tickets(settings, db)
    record = next(step for step in tickets.ingestor.steps if step.name == "record")
    original = record.run

    async def crashes_on_poison(ctx):  # a step that always crashes on this one mail
        if ctx.mail.subject == "poison":
            raise RuntimeError("step crashed on this mail (test)")
        await original(ctx)

    monkeypatch.setattr(record, "run", crashes_on_poison)
    imap_user.append(*mails("first", "poison", "third"))
    async with Pollers(settings, tickets.ingestor, db):
        await wait_for(lambda: len(imap_user.uids("Processed")) == 3, timeout=10)
        imap_user.append(*mails("after the poison"))
        await wait_for(partial(_at_least, tickets, 3), timeout=10)
        await wait_for(lambda: not imap_user.uids("INBOX"), timeout=5)
    async with db.transaction() as session:
        [held] = (await session.scalars(select(QuarantineEntry))).all()
    assert "internal error: RuntimeError: step crashed on this mail (test)" in held.reason
    assert held.source == "imap:support"
    assert await tickets.subjects() == ["after the poison", "first", "third"]
    assert len(imap_user.uids("Processed")) == 4


async def test_a_changed_uidvalidity_rescans_instead_of_skipping_mail(imap_user, settings_factory, db, ingestor):
    async with db.transaction() as session:  # a position from a previous life of this folder
        session.add(MailboxState(name="support", uidvalidity=1, last_uid=1000, connected=False, backlog=0))
    imap_user.append(*mails("Under the old high-water mark"))
    settings = settings_factory(mailboxes=[imap_user.mailbox()])
    async with Pollers(settings, ingestor, db) as pollers:
        await wait_for(ingestor.count, timeout=5)
        await wait_for(lambda: not imap_user.uids("INBOX"), timeout=5)
        status = await pollers.status()
    assert status["uidvalidity"] != 1 and status["last_uid"] == 1


async def test_without_move_the_poller_copies_flags_and_expunges(imap_user, settings_factory, db, ingestor):
    imap_user.append(*mails("one", "two", "three"))
    settings = settings_factory(mailboxes=[imap_user.mailbox()])

    def opener(mailbox, password):
        session = ImapSession.open(mailbox, password)
        session.capabilities.discard("MOVE")  # as on a server without RFC 6851
        return session

    stop = asyncio.Event()
    poller = MailboxPoller(mailbox=settings.mailboxes[0], settings=settings, ingestor=ingestor, db=db,
                           clock=SystemClock(), stop=stop, password=imap_user.password, opener=opener,
                           reconnect=Backoff(0.1, 1))
    task = asyncio.create_task(poller.run())
    try:
        await wait_for(lambda: not imap_user.messages("INBOX"), timeout=5)  # expunged, not just flagged
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert len(ingestor.stored) == 3 and len(imap_user.uids("Processed")) == 3


def test_check_reports_folders_capabilities_and_unseen_without_taking_mail(imap_user_factory, settings_factory):
    good, bad = imap_user_factory(), imap_user_factory()
    good.append(*mails("waiting 1", "waiting 2"), folder="INBOX")
    good.append(*mails("archived"), folder="Archive")
    settings = settings_factory(mailboxes=[good.mailbox("good"), bad.mailbox("bad", password="nope")])
    ok, failed = check_mailboxes(settings, {})
    assert ok["ok"] and ok["error"] is None and ok["messages"] == 2 and ok["unseen"] == 2
    assert {"INBOX", "Archive"} <= set(ok["folders"]) and not ok["processed_folder_exists"]
    assert "IDLE" in ok["capabilities"] and ok["idle"] and ok["move"]
    assert not failed["ok"] and "login refused: [AUTHENTICATIONFAILED]" in failed["error"]
    assert len(good.uids("INBOX")) == 2 and all(b"\\Seen" not in flags for _, flags in good.messages("INBOX"))


async def test_a_spool_that_cannot_be_written_leaves_the_mail_unseen_in_the_inbox_until_it_can(
        imap_user, settings_factory, db, caplog, tmp_path):  # db: the migrated SQLite file and its spool file
    import sqlite3

    settings = settings_factory(mailboxes=[imap_user.mailbox(poll_seconds=2)], database={"busy_timeout_ms": 100})
    tickets = Tickets(settings, settings.open_database())
    imap_user.append(*mails("Locked 1", "Locked 2", "Locked 3"))
    blocker = sqlite3.connect(tickets.db.spool_path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the spool file's lock
        async with Pollers(settings, tickets.ingestor, tickets.db):
            await wait_for(lambda: "mail left unseen on the server" in caplog.text, timeout=10)
            await asyncio.sleep(1)  # a retry or two
            inbox = imap_user.messages("INBOX")
            assert len(inbox) == 3 and not any(b"\\Seen" in flags for _, flags in inbox)
            assert await tickets.count() == 0
            blocker.execute("ROLLBACK")
            await wait_for(lambda: not imap_user.uids("INBOX"), timeout=15)
            await wait_for(partial(_at_least, tickets, 3), timeout=10)
    finally:
        blocker.close()
    assert await tickets.subjects() == ["Locked 1", "Locked 2", "Locked 3"]
    assert len(imap_user.messages("Processed")) == 3
    await tickets.db.dispose()
