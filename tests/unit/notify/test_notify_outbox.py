"""Outbox rows from Notifier.enqueue, and the sender's claim / retry / backoff rules with a fake transport."""
from __future__ import annotations

import asyncio
import email
import random
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select, update

from gateway.clock import utc
from gateway.notify.mail_bytes import bytes_of
from gateway.notify.outbox import Notifier, unique_recipients
from gateway.notify.render import Renderer
from gateway.notify.send import (DrainResult, MaildirTransport, OutboxSender, PermanentSendError,
                                 TransientSendError, list_rows, retry)
from gateway.mail.tokens import issued_to, parse_token, split_plus
from gateway.store.models import Message, Outbox, Ticket

CONTEXT = {"message": {"from_addr": "bob@customer.example", "from_name": "Bob", "subject": "Printer on fire",
                       "text": "It smokes.", "new_text": "It smokes.", "more_text_lines": 0, "more_new_text_lines": 0, "html": None, "attachments": []},
           "reasons": ["keyword 'fire' → bug"]}


async def add_ticket(db, clock, **fields) -> Ticket:
    now = clock.now()
    values = dict(subject="Printer on fire", requester="bob@customer.example", requester_name="Bob",
                  category="bug", priority="high", level=1, reply_token="k3x9q2ab", created_at=now,
                  updated_at=now, last_activity_at=now)
    values.update(fields)
    async with db.transaction() as session:
        ticket = Ticket(**values)
        session.add(ticket)
        await session.flush()
    return ticket


async def enqueue(db, notifier, ticket, recipients, template="level/announce", automatic=False, **kwargs):
    settings = notifier.settings
    async with db.transaction() as session:
        return await notifier.enqueue(session, ticket=ticket, template=template, recipients=recipients,
                                      context={**CONTEXT, "level": settings.level(ticket.level)}, automatic=automatic,
                                      **kwargs)


async def server_key(db, notifier) -> bytes:
    async with db.transaction() as session:
        return await notifier.signer.key(session)


async def rows(db) -> list[Outbox]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


async def mails(db, outbox: list[Outbox]) -> list[bytes]:
    """Each row's mail as the sender composes it."""
    async with db.transaction() as session:
        return await bytes_of(session, outbox)


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


class FakeTransport:
    """Records sends; `fail` maps a recipient to the exception to raise for it."""

    def __init__(self):
        self.sent: list[tuple[str, str, bytes]] = []
        self.fail: dict[str, Exception] = {}

    async def send(self, *, envelope_from, recipient, raw):
        if recipient in self.fail:
            raise self.fail[recipient]
        self.sent.append((envelope_from, recipient, raw))


@pytest.fixture
def settings(settings_factory):
    return settings_factory(outbound={"backoff_seconds": 30, "backoff_max_seconds": 600, "max_attempts": 3},
                            helpdesk={"message_id_domain": "mail.example.com"})


@pytest.fixture
def notifier(settings, clock):
    return Notifier(settings=settings, clock=clock, renderer=Renderer())


@pytest.fixture
def transport():
    return FakeTransport()


@pytest.fixture
def sender(settings, db, clock, transport):
    return OutboxSender(settings=settings, db=db, clock=clock, transport=transport, rng=random.Random(7))


def test_unique_recipients_keeps_first_spelling_and_order():
    assert unique_recipients(["B@x.example", " a@x.example", "b@X.example", "", "A@x.example"]) == \
        ["B@x.example", "a@x.example"]


async def test_enqueue_writes_one_row_and_one_message_per_recipient(db, notifier, clock):
    ticket = await add_ticket(db, clock)
    made = await enqueue(db, notifier, ticket, ["a@staff.example", "A@Staff.example", "b@staff.example"],
                         in_reply_to="orig@customer.example", references=["older@customer.example"])
    stored = await rows(db)
    assert [r.id for r in made] == [r.id for r in stored]
    assert [(r.recipient, r.status, r.attempts, r.automatic, r.template, r.envelope_from) for r in stored] == [
        ("a@staff.example", "pending", 0, False, "level/announce", "ihelp@example.com"),
        ("b@staff.example", "pending", 0, False, "level/announce", "ihelp@example.com"),
    ]
    assert len({r.message_id for r in stored}) == 2
    assert [r.raw for r in stored] == [None, None]  # composed when sent, not in the caller's transaction
    for row, raw in zip(stored, await mails(db, stored)):
        assert utc(row.next_attempt_at) == clock.now()
        mail = parsed(raw)
        assert mail["Message-ID"] == f"<{row.message_id}>" and row.message_id.endswith("@mail.example.com")
        assert mail["To"] == row.recipient
        assert mail["Subject"] == f"[HD-{ticket.id}] New high bug: Printer on fire"
        local = mail["Reply-To"].addresses[0].addr_spec
        token = parse_token(split_plus(local)[1])
        assert local.startswith(f"ihelp+t{ticket.id}.c.") and token.role == "c"
        assert issued_to(await server_key(db, notifier), token, ["x@y.example", row.recipient]) == row.recipient
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["In-Reply-To"] == "<orig@customer.example>"
        assert mail["References"] == "<older@customer.example>"
        assert mail.get_body(("html",)) is not None
    async with db.transaction() as session:
        messages = (await session.scalars(select(Message).order_by(Message.id))).all()
    assert [(m.direction, m.message_id, m.to_addrs, m.source, m.thread_reason, m.ticket_id) for m in messages] == [
        ("out", r.message_id, [r.recipient], "outbox:level/announce", "outbound", ticket.id) for r in stored]
    assert messages[0].in_reply_to == "orig@customer.example"


async def test_each_recipient_gets_a_token_signed_for_its_address_and_role(db, notifier, clock):
    """The customer's token only threads; the level list's and the engineer's let engineers act."""
    ticket = await add_ticket(db, clock, level=1)
    people = ["bob@customer.example", "frontdesk@example.com", "alice@example.com"]
    made = await enqueue(db, notifier, ticket, people)
    tokens = [parse_token(split_plus(parsed(raw)["Reply-To"].addresses[0].addr_spec)[1])
              for raw in await mails(db, made)]
    assert [t.role for t in tokens] == ["c", "l1", "e"]
    key = await server_key(db, notifier)
    assert [issued_to(key, t, people) for t in tokens] == people
    assert len({t.mac for t in tokens}) == 3


async def test_a_secret_from_the_environment_signs_instead_of_the_database_key(db, settings_factory, clock):
    settings = settings_factory(security={"secret": "from-the-environment"})
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    assert await server_key(db, notifier) == b"from-the-environment"
    assert await server_key(db, Notifier(settings=settings_factory(), clock=clock, renderer=Renderer())) != \
        b"from-the-environment"


@pytest.mark.parametrize("template, automatic, expected", [
    ("customer/ack", True, "auto-replied"),
    ("customer/ack", False, "auto-generated"),
    ("level/announce", True, "auto-generated"),
])
async def test_auto_submitted(db, notifier, clock, template, automatic, expected):
    ticket = await add_ticket(db, clock)
    [row] = await enqueue(db, notifier, ticket, ["bob@customer.example"], template=template, automatic=automatic)
    assert parsed((await mails(db, [row]))[0])["Auto-Submitted"] == expected
    assert row.automatic is automatic


async def test_enqueue_skips_an_unusable_recipient(db, notifier, clock, caplog):
    ticket = await add_ticket(db, clock)
    made = await enqueue(db, notifier, ticket, ["bad address", "ok@staff.example"])
    assert [r.recipient for r in made] == ["ok@staff.example"]
    assert "bad address" in caplog.text


async def test_enqueue_writes_its_rows_in_one_insert_per_table_and_returns_them_with_their_ids(
        any_db, settings, clock):
    """Three recipients: one INSERT of three Message rows, one of three Outbox rows (not one per row, as an
    ORM flush made on SQLite to learn each id); the rows returned match the stored ones id by id."""
    from sqlalchemy import event

    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    ticket = await add_ticket(any_db, clock)
    inserts = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(")[0].split()[-1].strip('"'))

    event.listen(any_db.engine.sync_engine, "before_cursor_execute", count)
    try:
        made = await enqueue(any_db, notifier, ticket, ["a@staff.example", "b@staff.example", "c@staff.example"])
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", count)
    assert inserts == ["messages", "outbox"]
    stored = await rows(any_db)
    assert [(r.id, r.recipient, r.message_id, r.raw) for r in made] == [
        (r.id, r.recipient, r.message_id, r.raw) for r in stored]


async def test_send_after_holds_the_rows_until_then_and_never_before_now(db, notifier, clock):
    ticket = await add_ticket(db, clock)
    later = clock.now() + timedelta(hours=9)
    [held] = await enqueue(db, notifier, ticket, ["a@staff.example"], send_after=later)
    [now] = await enqueue(db, notifier, ticket, ["b@staff.example"], send_after=clock.now() - timedelta(hours=1))
    stored = {r.recipient: utc(r.next_attempt_at) for r in await rows(db)}
    assert stored == {"a@staff.example": later, "b@staff.example": clock.now()}
    assert (utc(held.next_attempt_at), utc(now.next_attempt_at)) == (later, clock.now())


async def test_enqueued_rows_roll_back_with_the_caller(db, notifier, clock):
    ticket = await add_ticket(db, clock)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await notifier.enqueue(session, ticket=ticket, template="customer/ack", recipients=["x@customer.example"],
                                   context={}, automatic=True)
            raise RuntimeError("the ingest failed later")
    assert await rows(db) == []


async def test_drain_sends_each_due_row_once(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example", "b@staff.example"])
    assert await sender.drain_once() == DrainResult(sent=2)
    assert await sender.drain_once() == DrainResult()
    assert [t[1] for t in transport.sent] == ["a@staff.example", "b@staff.example"]
    stored = await rows(db)
    assert [(r.status, utc(r.sent_at), r.lease_until) for r in stored] == [("sent", clock.now(), None)] * 2
    assert [t[2] for t in transport.sent] == await mails(db, stored)


async def test_drain_respects_limit(db, notifier, sender, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, [f"u{i}@staff.example" for i in range(3)])
    assert (await sender.drain_once(limit=2)).sent == 2
    assert (await sender.drain_once(limit=2)).sent == 1


async def test_transient_failures_back_off_then_fail(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example"])
    transport.fail["a@staff.example"] = TransientSendError("relay down")
    start = clock.now()
    assert await sender.drain_once() == DrainResult(retried=1)
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "relay down")
    assert start + timedelta(seconds=24) <= utc(row.next_attempt_at) <= start + timedelta(seconds=36)
    assert await sender.drain_once() == DrainResult()  # not due yet
    clock.at = utc(row.next_attempt_at)
    assert await sender.drain_once() == DrainResult(retried=1)
    [row] = await rows(db)
    assert row.attempts == 2
    assert clock.now() + timedelta(seconds=48) <= utc(row.next_attempt_at) <= clock.now() + timedelta(seconds=72)
    clock.at = utc(row.next_attempt_at)
    assert await sender.drain_once() == DrainResult(failed=1)  # max_attempts = 3
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "relay down")
    assert transport.sent == []


async def test_rows_left_untried_when_half_the_lease_is_spent_go_back_untouched(db, notifier, transport, clock,
                                                                              settings):
    """A relay that takes minutes per mail: the tail of the chunk is handed back before its lease runs out."""
    class Slow:
        sent: list = []

        async def send(self, *, envelope_from, recipient, raw):
            clock.advance(minutes=3)
            self.sent.append(recipient)

    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example", "b@staff.example", "c@staff.example"])
    slow = Slow()
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=slow)
    assert await sender.drain_once(limit=3) == DrainResult(sent=1)
    first, *rest = await rows(db)
    assert first.status == "sent" and slow.sent == ["a@staff.example"]
    assert [(r.status, r.attempts, r.lease_until) for r in rest] == [("pending", 0, None)] * 2
    assert await sender.drain_once() == DrainResult(sent=2)  # handed back, then claimed afresh with a new lease
    assert slow.sent == ["a@staff.example", "b@staff.example", "c@staff.example"]  # each once


async def test_a_claim_short_of_its_chunk_ends_the_round_without_another(db, notifier, sender, transport, clock):
    """Three rows due: one claim takes them all, and no second transaction asks whether any are left."""
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example", "b@staff.example", "c@staff.example"])
    claims = []
    claim = sender._claim

    async def counted(limit):
        claims.append(limit)
        return await claim(limit)
    sender._claim = counted
    assert await sender.drain_once() == DrainResult(sent=3)
    assert len(claims) == 1
    assert await sender.drain_once() == DrainResult() and len(claims) == 2  # nothing due: one claim finds none


async def test_permanent_failure_is_final_at_once(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["gone@staff.example", "ok@staff.example"])
    transport.fail["gone@staff.example"] = PermanentSendError("relay refused recipient: 550 no such user")
    assert await sender.drain_once() == DrainResult(sent=1, failed=1)
    gone, ok = await rows(db)
    assert (gone.status, gone.attempts, gone.last_error) == ("failed", 1, "relay refused recipient: 550 no such user")
    assert ok.status == "sent"


async def test_a_chunk_of_mixed_results_is_recorded_row_by_row_in_one_statement_per_result(
        any_db, settings, clock):
    """sent, retried and failed rows of one chunk each get their own columns; the sender records
    them with one UPDATE per kind of result, not one per row (each statement is a round trip)."""
    from sqlalchemy import event

    transport = FakeTransport()
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    sender = OutboxSender(settings=settings, db=any_db, clock=clock, transport=transport, rng=random.Random(7))
    ticket = await add_ticket(any_db, clock)
    recipients = ["ok1@staff.example", "later@staff.example", "gone@staff.example", "ok2@staff.example"]
    await enqueue(any_db, notifier, ticket, recipients)
    transport.fail["later@staff.example"] = TransientSendError("relay busy")
    transport.fail["gone@staff.example"] = PermanentSendError("550 no such user")
    updates = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            updates.append(statement)

    event.listen(any_db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await sender.drain_once() == DrainResult(sent=2, retried=1, failed=1)
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", count)
    assert len(updates) == 1 + 3  # the claim, then one per kind of result
    by_recipient = {row.recipient: row for row in await rows(any_db)}
    for address in ("ok1@staff.example", "ok2@staff.example"):
        row = by_recipient[address]
        assert (row.status, row.attempts, row.last_error, utc(row.sent_at), row.lease_until) == (
            "sent", 0, None, clock.now(), None)
    later = by_recipient["later@staff.example"]
    assert (later.status, later.attempts, later.last_error, later.sent_at, later.lease_until) == (
        "pending", 1, "relay busy", None, None)
    assert utc(later.next_attempt_at) > clock.now()
    gone = by_recipient["gone@staff.example"]
    assert (gone.status, gone.attempts, gone.last_error, gone.sent_at, gone.lease_until) == (
        "failed", 1, "550 no such user", None, None)


async def test_a_transport_bug_is_retried_not_fatal(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example"])
    transport.fail["a@staff.example"] = KeyError("oops")
    assert await sender.drain_once() == DrainResult(retried=1)
    [row] = await rows(db)
    assert row.status == "pending" and "KeyError" in row.last_error


async def test_expired_lease_is_claimed_again_live_lease_is_not(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    dead, live = await enqueue(db, notifier, ticket, ["dead@staff.example", "live@staff.example"])
    async with db.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.id == dead.id).values(
            status="sending", lease_until=clock.now() - timedelta(seconds=1)))
        await session.execute(update(Outbox).where(Outbox.id == live.id).values(
            status="sending", lease_until=clock.now() + timedelta(minutes=4)))
    assert await sender.drain_once() == DrainResult(sent=1)
    assert [t[1] for t in transport.sent] == ["dead@staff.example"]
    assert parsed(transport.sent[0][2])["Message-ID"] == f"<{dead.message_id}>"
    clock.advance(minutes=5)
    assert await sender.drain_once() == DrainResult(sent=1)
    assert [t[1] for t in transport.sent] == ["dead@staff.example", "live@staff.example"]


@pytest.mark.parametrize("attempts, base", [(1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (20, 600)])
def test_backoff_doubles_up_to_the_cap_with_jitter(sender, attempts, base):
    delays = [sender.backoff(attempts).total_seconds() for _ in range(200)]
    assert all(base * 0.8 <= d <= base * 1.2 for d in delays)
    assert len(set(delays)) > 100  # jittered, so rows that failed together spread out


async def test_run_finishes_the_row_in_flight_and_stops(db, notifier, settings, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example", "b@staff.example"])
    stop = asyncio.Event()

    class StopDuringSend(FakeTransport):
        async def send(self, **kwargs):
            stop.set()  # SIGTERM arrives while the first mail is on the wire
            await asyncio.sleep(0.01)
            await super().send(**kwargs)

    transport = StopDuringSend()
    sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport)
    await asyncio.wait_for(sender.run(stop), 5)
    first, second = await rows(db)
    assert (first.status, second.status) == ("sent", "pending")
    assert len(transport.sent) == 1


async def test_run_survives_errors_and_wakes_on_request(db, notifier, settings, clock, caplog):
    ticket = await add_ticket(db, clock)
    transport = FakeTransport()
    sender = OutboxSender(settings=settings.model_copy(update={"outbound": settings.outbound.model_copy(
        update={"poll_seconds": 30})}), db=db, clock=clock, transport=transport)
    calls = 0
    real_drain = sender.drain_once

    async def flaky_drain(limit=None):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        return await real_drain(limit)

    sender.drain_once = flaky_drain
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.05)
    assert "database away" in caplog.text and not task.done()
    await enqueue(db, notifier, ticket, ["a@staff.example"])
    sender.wake()
    for _ in range(100):
        if transport.sent:
            break
        await asyncio.sleep(0.02)
    assert [t[1] for t in transport.sent] == ["a@staff.example"]
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_retry_and_list_rows(db, notifier, sender, transport, clock):
    ticket = await add_ticket(db, clock)
    await enqueue(db, notifier, ticket, ["a@staff.example", "b@staff.example", "c@staff.example"])
    transport.fail["a@staff.example"] = PermanentSendError("550 a")
    transport.fail["b@staff.example"] = PermanentSendError("550 b")
    await sender.drain_once()
    async with db.transaction() as session:
        assert [r.recipient for r in await list_rows(session, status="failed")] == \
            ["a@staff.example", "b@staff.example"]
        assert [r.recipient for r in await list_rows(session, limit=2)] == ["b@staff.example", "c@staff.example"]
        a, b, c = await list_rows(session)
        assert await retry(session, ids=[a.id, c.id], now=clock.now()) == 2  # c was sent: the operator resends it
    a, b, c = await rows(db)
    assert [(r.status, r.attempts) for r in (a, b, c)] == [("pending", 0), ("failed", 1), ("pending", 0)]
    async with db.transaction() as session:
        assert await retry(session, ids=None, now=clock.now()) == 1
    transport.fail.clear()
    assert await sender.drain_once() == DrainResult(sent=3)


async def test_maildir_transport_writes_once_per_mail(tmp_path):
    maildir = MaildirTransport(tmp_path / "out")
    raw = b"From: a@x.example\r\nTo: b@y.example\r\nSubject: hi\r\nMessage-ID: <1@x.example>\r\n\r\nbody\r\n"
    await maildir.send(envelope_from="a@x.example", recipient="b@y.example", raw=raw)
    await maildir.send(envelope_from="a@x.example", recipient="b@y.example", raw=raw)  # resent after a crash
    files = list((tmp_path / "out" / "new").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    assert files[0].read_bytes() == raw
    assert list((tmp_path / "out" / "tmp").iterdir()) == []
    assert (tmp_path / "out" / "cur").is_dir()


async def test_maildir_transport_failure_is_transient(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(TransientSendError, match="outbound.maildir"):
        await MaildirTransport(tmp_path / "file").send(envelope_from="a@x", recipient="b@y", raw=b"x")
