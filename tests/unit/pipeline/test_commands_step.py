"""The commands step: who may run commands (the authorisation matrix) and what each reply does."""
from __future__ import annotations

import email
from email import policy
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.mail.tokens import Token
from gateway.pipeline.context import Grant, MailContext
from gateway.pipeline.steps.commands import Commands
from gateway.pipeline.steps.reopen import Reopen
from gateway.store.models import Event, Message, Outbox, Ticket
from tests.conftest import with_mail
from tests.unit.schedule.helpers import ticket, utc

ALICE, CUSTOMER = "alice@example.com", "customer@client.example"  # alice: an engineer of level 1
NOW = utc("2026-01-05 10:00")


def grant(tid: int, token: str | None, sender: str) -> Grant | None:
    """The grant the thread step gives for a reply to `tid` through a token of this kind.

    "level": level 1's list token, which the list's engineers (alice) may act with; "engineer": a token
    issued to the sender; "customer": the requester's token (an acknowledgement), which only threads.
    """
    if token is None:
        return None
    role = {"level": "l1", "engineer": "e", "customer": "c"}[token]
    holder = sender if (token == "level" and sender == ALICE) or token == "engineer" else ""
    return Grant(Token(tid, role=role, mac="x" * 16), holder)


async def reply(db, settings, tid: int, *, text: str, sender: str = ALICE, envelope: str | None = "same",
                token: str | None = "level", status: str | None = None) -> tuple[Ticket, list[Event], list[Outbox]]:
    """Run the commands step on one reply to ticket `tid`; return the ticket, new events and outbox rows."""
    clock = FixedClock(NOW)
    async with db.transaction() as session:
        row = await session.get(Ticket, tid)
        if status:
            row.status = status
        mail = SimpleNamespace(from_addr=sender, text=text, message_id="reply-1@mua.example", references=[],
                               subject="Re: Printer down")
        message = Message(ticket_id=tid, direction="in", from_addr=sender, text=text, new_text=text, created_at=NOW)
        session.add(message)
        await session.flush()
        ctx = MailContext(raw=b"", sha256="", source="smtp", envelope_from=sender if envelope == "same" else envelope,
                          recipients=(), mail=mail, session=session, settings=settings, clock=clock, now=NOW,
                          notifier=Notifier(settings=settings, clock=clock, renderer=Renderer()),
                          ticket=row, grant=grant(tid, token, sender), message=message)
        await Commands().run(ctx)
        handled = ctx.handled
    async with db.transaction() as session:
        row = await session.get(Ticket, tid)
        events = list((await session.scalars(select(Event).where(Event.ticket_id == tid))).all())
        rows = await with_mail(session, list((await session.scalars(select(Outbox).order_by(Outbox.id))).all()))
    row.handled = handled
    return row, events, rows


@pytest.fixture
async def tid(settings_factory, db) -> int:
    async with db.transaction() as session:
        row = ticket(settings_factory(), utc("2026-01-05 09:00"))
        session.add(row)
        await session.flush()
        return row.id


@pytest.mark.parametrize("case, sender, envelope, token, require_token, executed", [
    ("engineer with the level list's token", ALICE, "same", "level", True, True),
    ("engineer with a token issued to them", ALICE, "same", "engineer", True, True),
    ("engineer by IMAP (no envelope) with token", ALICE, None, "level", True, True),
    ("engineer without token", ALICE, "same", None, True, False),
    ("engineer without token, tokens not required", ALICE, "same", None, False, True),
    ("engineer with the customer's token (from the acknowledgement)", ALICE, "same", "customer", True, False),
    ("customer with their own token", CUSTOMER, "same", "customer", True, False),
    ("customer with a level list's token (a forwarded announcement)", CUSTOMER, "same", "level", True, False),
    ("forged From, other envelope sender", ALICE, "mallory@evil.example", "level", True, False),
    ("forged From, null envelope sender", ALICE, "", "level", True, False),
])
async def test_authorisation_matrix(settings_factory, db, tid, case, sender, envelope, token, require_token, executed):
    settings = settings_factory(security={"require_token": require_token})
    row, events, rows = await reply(db, settings, tid, text="/resolve Replaced the fuser\nAll good now.",
                                    sender=sender, envelope=envelope, token=token)
    assert (row.status == "resolved") is executed, case
    kinds = [e.kind for e in events]
    assert ("command_resolve" in kinds) is executed
    assert ("commands_refused" in kinds) is (not executed)
    if not executed:
        assert rows == []  # nothing sent: the lines stay plain text on the ticket
        refusal = next(e for e in events if e.kind == "commands_refused")
        assert refusal.data["lines"] == ["/resolve Replaced the fuser"] and refusal.data["reason"]


async def test_escalate_confirms_and_announces(settings_factory, db, tid):
    row, _events, rows = await reply(db, settings_factory(), tid, text="/escalate 3\nFirewall rule needed.")
    assert row.level == 3 and row.handled
    assert [(r.template, r.recipient) for r in rows] == [
        ("level/escalated", "sysadmins@example.com"), ("customer/reply", CUSTOMER), ("engineer/result", ALICE)]
    confirmation = email.message_from_bytes(rows[2].raw, policy=policy.default).get_content()
    assert "escalated from level 1 to level 3" in confirmation
    announce = email.message_from_bytes(rows[0].raw, policy=policy.default).get_content()
    assert "Firewall rule needed." in announce


async def test_resolve_tells_the_customer_with_the_resolution(settings_factory, db, tid):
    row, _events, rows = await reply(db, settings_factory(), tid, text="/resolve Replaced the fuser unit")
    assert row.status == "resolved" and row.resolved_at is not None and row.sla_check_at is None
    resolved = [r for r in rows if r.template == "customer/resolved"]
    assert len(resolved) == 1 and resolved[0].recipient == CUSTOMER
    assert "Resolution: Replaced the fuser unit" in email.message_from_bytes(resolved[0].raw,
                                                                            policy=policy.default).get_content()
    assert row.first_response_at is not None


async def test_note_is_never_sent_to_the_customer(settings_factory, db, tid):
    _row, events, rows = await reply(db, settings_factory(), tid,
                                    text="/note Customer is on the old firmware\nDo not mention the recall.")
    assert [r.template for r in rows] == ["engineer/result"]
    note = next(e for e in events if e.kind == "command_note")
    assert note.data["arg"] == "Customer is on the old firmware" and "recall" in note.data["text"]


async def test_a_bad_line_changes_nothing_and_says_why(settings_factory, db, tid):
    row, _events, rows = await reply(db, settings_factory(), tid, text="/assign me\n/priority hot\n/escalate 9")
    assert (row.assignee, row.priority, row.level) == (None, "medium", 1)
    assert [(r.template, r.recipient) for r in rows] == [("engineer/error", ALICE)]
    body = email.message_from_bytes(rows[0].raw, policy=policy.default).get_content()
    assert "line 2: /priority must be one of urgent, high, medium, low" in body
    assert "line 3: /escalate: there is no level 9" in body


async def test_plain_engineer_reply_goes_to_the_customer(settings_factory, db, tid):
    row, _events, rows = await reply(db, settings_factory(), tid, text="Could you try turning it off and on?")
    assert [(r.template, r.recipient) for r in rows] == [("customer/reply", CUSTOMER)]
    assert row.first_response_at is not None


async def test_pending_pauses_and_customer_reply_resumes(settings_factory, db, tid):
    settings = settings_factory()
    row, _, rows = await reply(db, settings, tid, text="/pending Which model is it?")
    assert row.status == "pending" and row.paused_at is not None and row.sla_check_at is None
    assert "Which model is it?" in email.message_from_bytes(rows[-2].raw, policy=policy.default).get_content()
    before = row.resolution_due
    row, events, _ = await reply(db, settings, tid, text="It is a LaserJet 4.", sender=CUSTOMER)
    assert row.status == "open" and row.paused_at is None and row.resolution_due == before  # paused for 0 s
    assert any(e.kind == "resumed" for e in events)


async def test_customer_reply_reopens_a_resolved_ticket(settings_factory, db, tid):
    settings = settings_factory()
    await reply(db, settings, tid, text="/resolve done")
    row, events, rows = await reply(db, settings, tid, text="Still broken!", sender=CUSTOMER)
    assert row.status == "open" and row.resolved_at is None
    assert any(e.kind == "reopened" for e in events) and rows[-1].template == "customer/reopened"


@pytest.mark.parametrize("resolved_days_ago, new_ticket", [(13, False), (15, True)])
async def test_reopen_days(settings_factory, db, tid, resolved_days_ago, new_ticket):
    from datetime import timedelta

    settings = settings_factory()
    async with db.transaction() as session:
        row = await session.get(Ticket, tid)
        row.status, row.resolved_at = "resolved", NOW - timedelta(days=resolved_days_ago)
        ctx = MailContext(raw=b"", sha256="", source="smtp", envelope_from=CUSTOMER, recipients=(),
                          mail=SimpleNamespace(from_addr=CUSTOMER), session=session, settings=settings,
                          clock=FixedClock(NOW), now=NOW, notifier=None, ticket=row)
        await Reopen().run(ctx)
    assert ctx.new_ticket is new_ticket
    assert ctx.linked_ticket_id == (tid if new_ticket else None)
