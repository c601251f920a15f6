"""A quarantined mail is retried as it arrived: imported history stays history, the envelope stays its own."""
from __future__ import annotations

from sqlalchemy import func, select

from gateway.ingest import Ingestor
from gateway.pipeline.context import HISTORY_SOURCE
from gateway.quarantine import retry
from gateway.store import repo
from gateway.store.models import Message, Outbox, QuarantineEntry, Ticket
from tests.integration.serving import make_mail


def with_attachment(mail):
    mail.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="report.pdf")
    return mail.as_bytes()


async def hold(settings_factory, db, clock, raw: bytes, **incoming) -> int:
    strict = Ingestor(settings=settings_factory(limits={"max_parts": 1}), db=db, clock=clock)
    assert (await strict.ingest(raw, **incoming)).status == "quarantined"
    async with db.transaction() as session:
        [held] = await repo.list_quarantine(session)
    return held["id"]


async def test_an_imported_mail_is_retried_as_history(any_db, settings_factory, clock):
    raw = with_attachment(make_mail(subject="Printer broken", Date="Tue, 5 Mar 2019 10:00:00 +0000"))
    entry = await hold(settings_factory, any_db, clock, raw, source=HISTORY_SOURCE)
    outcome = await retry(Ingestor(settings=settings_factory(), db=any_db, clock=clock), entry)
    assert outcome.status == "stored"
    async with any_db.transaction() as session:
        ticket = await session.get(Ticket, outcome.ticket_id)
        assert await session.scalar(select(func.count()).select_from(Outbox)) == 0  # no ack, no announcement
        assert await session.scalar(select(Message.source).where(Message.direction == "in")) == HISTORY_SOURCE
    assert ticket.status == "resolved" and ticket.resolution_due is None and ticket.created_at.year == 2019


async def test_the_envelope_is_kept_and_used_again(any_db, settings_factory, clock):
    raw = with_attachment(make_mail(subject="Printer broken"))  # only the envelope says it is automatic
    entry = await hold(settings_factory, any_db, clock, raw, source="smtp", envelope_from="",
                       recipients=("ihelp@example.com",))
    async with any_db.transaction() as session:
        held = await session.get(QuarantineEntry, entry)
        assert (held.envelope_from, held.recipients) == ("", ["ihelp@example.com"])
        [listed] = await repo.list_quarantine(session)  # `gateway quarantine list|show --json` show it
        assert (listed["envelope_from"], listed["recipients"]) == ("", ["ihelp@example.com"])
    outcome = await retry(Ingestor(settings=settings_factory(), db=any_db, clock=clock), entry)
    async with any_db.transaction() as session:
        message = await session.scalar(select(Message).where(Message.direction == "in"))
        acks = await session.scalar(select(func.count()).where(Outbox.template == "customer/ack"))
    assert outcome.status == "stored" and message.source == "quarantine-retry:smtp"
    assert message.auto_reason == "null sender" and acks == 0  # the null sender still says "never answer"
