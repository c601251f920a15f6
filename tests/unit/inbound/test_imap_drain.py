"""MailboxPoller against an in-memory server: order, move after the spool commit, watermark, spool failures."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest
from imap_fakes import FakeIngestor, FakeServer
from sqlalchemy import select

from gateway.config import MailboxConfig
from gateway.errors import TempFail
from gateway.inbound.imap import Backoff, MailboxPoller, mailbox_password, run_pollers
from gateway.inbound.imap_session import MailboxError
from gateway.store.models import MailboxState, Outbox


def mail(n: int, extra: bytes = b"") -> bytes:
    return b"From: c%d@example.org\r\nSubject: problem %d\r\n\r\nbody %d %s\r\n" % (n, n, n, extra)


@pytest.fixture
def settings(settings_factory):
    return settings_factory(mailboxes=[{"name": "support", "host": "imap.example.com", "username": "ihelp",
                                        "password": "pw", "poll_seconds": 0.2}])


def make_poller(settings, db, clock, server, ingestor, stop=None, **kwargs):
    return MailboxPoller(mailbox=settings.mailboxes[0], settings=settings, ingestor=ingestor, db=db, clock=clock,
                         stop=stop or asyncio.Event(), password="pw", opener=server.open,
                         reconnect=Backoff(0.01, 0.05), **kwargs)


async def state(db, name="support") -> MailboxState:
    async with db.transaction() as session:
        return await session.get(MailboxState, name)


async def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_backlog_is_ingested_in_uid_order_then_moved_and_the_position_saved(settings, db, clock):
    server, ingestor = FakeServer(), FakeIngestor()
    server.deliver(*(mail(n) for n in range(1, 6)))
    poller = make_poller(settings, db, clock, server, ingestor)
    await poller.connect()
    assert await poller.drain() == 0
    assert ingestor.calls == [mail(n) for n in range(1, 6)]
    assert server.folders["INBOX"] == {} and sorted(server.folders["Processed"]) == [1, 2, 3, 4, 5]
    row = await state(db)
    assert (row.uidvalidity, row.last_uid, row.connected) == (111, 5, True)


async def test_mail_is_moved_only_after_its_spool_commit_returned(settings, db, clock):
    server = FakeServer()

    class Watching(FakeIngestor):
        async def accept_many(self, items):
            seen.append(sorted(server.folders["INBOX"]))  # still there while the spool commit runs
            return await super().accept_many(items)

    seen, ingestor = [], Watching()
    server.deliver(mail(1), mail(2))
    poller = make_poller(settings, db, clock, server, ingestor)
    await poller.connect()
    assert await poller.drain() == 0
    assert seen == [[1, 2]] and server.folders["INBOX"] == {} and server.moves == [[1, 2]]


async def test_a_spool_that_cannot_be_written_leaves_the_mail_unseen_and_the_position_put(settings, db, clock):
    server, ingestor = FakeServer(), FakeIngestor()
    server.deliver(mail(1), mail(2))
    poller = make_poller(settings, db, clock, server, ingestor)
    await poller.connect()
    ingestor.down = True
    for _ in range(3):  # however often: nothing is quarantined or moved for it
        with pytest.raises(TempFail, match="disk full"):
            await poller.drain()
    assert list(server.folders["INBOX"]) == [1, 2] and server.moves == []
    assert (await state(db)).last_uid == 0
    ingestor.down = False
    assert await poller.drain() == 0
    assert len(ingestor.stored) == 2 and server.folders["INBOX"] == {}
    assert (await state(db)).last_uid == 2


async def test_the_poller_retries_a_failed_spool_write_after_its_backoff(settings, db, clock, caplog):
    server, ingestor = FakeServer(), FakeIngestor()
    server.deliver(mail(1))
    ingestor.down = True
    stop = asyncio.Event()
    poller = make_poller(settings, db, clock, server, ingestor, stop=stop)
    with caplog.at_level(logging.WARNING, logger="gateway.inbound.imap"):
        task = asyncio.create_task(poller.run())
        await wait_until(lambda: len(ingestor.calls) >= 2)
    assert list(server.folders["INBOX"]) == [1]
    assert "mailbox 'support': mail left unseen on the server: spool file" in caplog.text
    ingestor.down = False
    await wait_until(lambda: server.folders["INBOX"] == {})
    stop.set()
    await asyncio.wait_for(task, 3)
    assert len(ingestor.stored) == 1 and (await state(db)).last_uid == 1


async def test_mail_spooled_before_a_lost_move_is_moved_later_without_being_spooled_again(settings, db, clock):
    server, ingestor = FakeServer(), FakeIngestor()
    server.deliver(mail(1), mail(2), mail(3))
    server.fail_moves = 1
    first = make_poller(settings, db, clock, server, ingestor)
    await first.connect()
    with pytest.raises(MailboxError):
        await first.drain()  # batch [1, 2] spooled, then the connection dropped before MOVE
    assert (await state(db)).last_uid == 2 and list(server.folders["INBOX"]) == [1, 2, 3]
    second = make_poller(settings, db, clock, server, ingestor)  # a restart: nothing in memory
    await second.connect()
    assert await second.drain() == 0
    assert ingestor.calls == [mail(1), mail(2), mail(3)]
    assert server.folders["INBOX"] == {} and server.moves == [[1, 2], [3]]


async def test_a_new_uidvalidity_rescans_the_folder(settings, db, clock):
    server, ingestor = FakeServer(), FakeIngestor()
    server.deliver(mail(1), mail(2))
    poller = make_poller(settings, db, clock, server, ingestor)
    await poller.connect()
    await poller.state.advance(uidvalidity=111, last_uid=50)  # as if an older numbering had gone far
    server.uidvalidity = 222
    await poller.connect()
    assert poller.last_uid == 0
    assert await poller.drain() == 0 and len(ingestor.stored) == 2
    row = await state(db)
    assert (row.uidvalidity, row.last_uid) == (222, 2)


async def test_refused_logins_are_reported_and_retried_until_they_work(settings, db, clock, caplog):
    server, ingestor = FakeServer(refuse="[AUTHENTICATIONFAILED] Authentication failed."), FakeIngestor()
    stop = asyncio.Event()
    poller = make_poller(settings, db, clock, server, ingestor, stop=stop)
    with caplog.at_level(logging.WARNING, logger="gateway.inbound.imap"):
        task = asyncio.create_task(poller.run())
        await wait_until(lambda: server.logins >= 3)
    row = await state(db)
    assert row.connected is False and row.failing_since is not None
    assert "login refused: [AUTHENTICATIONFAILED]" in row.last_error
    lines = [r.getMessage() for r in caplog.records if "login refused" in r.getMessage()]
    assert len(lines) >= 2 and all("'support'" in line and "retrying in" in line for line in lines)
    server.refuse = None
    server.deliver(mail(1))
    await wait_until(lambda: len(ingestor.stored) == 1)
    await wait_until(lambda: server.folders["INBOX"] == {})
    row = await state(db)
    assert row.connected is True and row.failing_since is None and row.last_success_at is not None
    stop.set()
    await asyncio.wait_for(task, 3)
    assert (await state(db)).connected is False


async def test_idle_picks_up_new_mail_and_stop_is_prompt(settings, db, clock):
    server, ingestor = FakeServer(), FakeIngestor()
    stop = asyncio.Event()
    poller = make_poller(settings, db, clock, server, ingestor, stop=stop)
    task = asyncio.create_task(poller.run())
    await wait_until(lambda: server.logins == 1)
    await asyncio.sleep(0.05)
    server.deliver(mail(1))
    await wait_until(lambda: len(ingestor.stored) == 1, timeout=2)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 3)
    assert time.monotonic() - started < 1.5


async def test_without_idle_the_folder_is_polled(settings_factory, db, clock):
    settings = settings_factory(mailboxes=[{"name": "support", "host": "h", "username": "u", "password": "p",
                                            "idle": False, "poll_seconds": 0.1}])
    server, ingestor = FakeServer(), FakeIngestor()
    stop = asyncio.Event()
    task = asyncio.create_task(make_poller(settings, db, clock, server, ingestor, stop=stop).run())
    await wait_until(lambda: server.logins == 1)
    server.deliver(mail(1))
    await wait_until(lambda: len(ingestor.stored) == 1, timeout=2)
    stop.set()
    await asyncio.wait_for(task, 3)


async def test_one_failing_mailbox_does_not_stop_the_others(settings_factory, db, clock, monkeypatch, caplog):
    settings = settings_factory(mailboxes=[
        {"name": "good", "host": "good.example.com", "username": "u", "password": "p", "poll_seconds": 0.2},
        {"name": "bad", "host": "bad.example.com", "username": "u", "password_env": "BAD_PW"},
    ])
    good, bad, ingestor = FakeServer(), FakeServer(refuse="[AUTHENTICATIONFAILED] no"), FakeIngestor()
    opened = []

    def opener(mailbox, password):
        opened.append((mailbox.host, password))
        return (good if mailbox.host == "good.example.com" else bad).open(mailbox, password)

    monkeypatch.setitem(MailboxPoller.__init__.__kwdefaults__, "opener", opener)
    stop = asyncio.Event()
    good.deliver(mail(1))
    task = asyncio.create_task(run_pollers(settings=settings, ingestor=ingestor, db=db, clock=clock, stop=stop,
                                           environ={"BAD_PW": "secret"}))
    await wait_until(lambda: len(ingestor.stored) == 1)
    await wait_until(lambda: bad.logins >= 1)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert {host for host, _ in opened} == {"good.example.com", "bad.example.com"}
    assert ("bad.example.com", "secret") in opened
    assert (await state(db, "bad")).last_error.startswith("mailbox 'bad': login refused")


async def test_alert_is_queued_once_per_failure_streak(settings, db, clock):
    poller = make_poller(settings, db, clock, FakeServer(), FakeIngestor())
    store = poller.state  # alert_after_minutes defaults to 30

    async def fail() -> bool:
        return await store.failed(error="mailbox 'support': login refused: [AUTHENTICATIONFAILED] no", login=True,
                                  now=clock.now())

    assert await fail() is False
    clock.advance(minutes=29)
    assert await fail() is False
    clock.advance(minutes=2)
    assert await fail() is True
    clock.advance(minutes=10)
    assert await fail() is False
    async with db.transaction() as session:
        [row] = (await session.scalars(select(Outbox))).all()
    assert (row.ticket_id, row.automatic, row.recipient, row.status) == (None, False, "helpdesk-admin@example.com",
                                                                         "pending")
    text = row.raw.decode()
    assert 'Mailbox "support" has been failing for 31 minutes' in text
    assert "AUTHENTICATIONFAILED" in text and "check the password" in text
    await store.checked(backlog=0, now=clock.now())  # it works again: the next streak gets its own alert
    clock.advance(minutes=1)
    assert await fail() is False
    clock.advance(minutes=31)
    assert await fail() is True


@pytest.mark.parametrize("entry, environ, expected", [
    ({"password": "inline"}, {"PW": "env"}, "inline"),
    ({"password_env": "PW"}, {"PW": "env"}, "env"),
    ({"password_env": "PW"}, {}, None),
    ({"password_env": "PW"}, {"PW": ""}, None),
    ({}, {"PW": "env"}, None),
])
def test_mailbox_password(entry, environ, expected):
    mailbox = MailboxConfig(name="m", host="h", username="u", **entry)
    assert mailbox_password(mailbox, environ) == expected


def test_backoff_doubles_up_to_its_cap_with_jitter():
    fixed = Backoff(1.0, 10.0, rng=lambda: 0.5)
    assert [fixed.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    fixed.reset()
    assert fixed.next() == 1.0
    low, high = Backoff(1.0, 10.0, rng=lambda: 0.0), Backoff(1.0, 10.0, rng=lambda: 0.999999)
    assert low.next() == pytest.approx(0.8) and high.next() == pytest.approx(1.2)
