"""Properties of Ingestor.ingest over hostile mail, on SQLite and PostgreSQL: every mail is stored, quarantined
or a duplicate of a mail already stored, never an exception; its raw bytes are kept exactly; every mail queued in
answer parses, with one-line headers and none that the input smuggled in (an encoded 'x\\r\\nBcc: …'), or cannot
be composed (the email package refuses some subjects) and is failed with the reason, never sent."""
from __future__ import annotations

import email
import itertools
import re
from email import policy
from email.message import EmailMessage

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.errors import Quarantine
from gateway.ingest import Ingestor, Outcome
from gateway.mail.parse import parse
from gateway.notify.mail_bytes import compose_all, parts_for
from gateway.store.blobs import sha256_hex
from gateway.store.models import Blob, Message, Outbox, QuarantineEntry, Ticket
from tests.mail_strategies import hostile_mail, injection_mail

PROPERTY = settings(deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.large_base_example, HealthCheck.data_too_large])
OUTCOMES = {"stored", "quarantined", "duplicate", "discarded"}
# Everything gateway.mail.compose.message_bytes writes at the top of a mail; anything else was smuggled in.
OUTGOING_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "reply-to",
                    "auto-submitted", "x-loop", "x-auto-response-suppress", "mime-version", "content-type",
                    "content-transfer-encoding"}
FIELD_NAME = re.compile(rb"[!-9;-~]+")
ENVELOPE_SENDERS = st.sampled_from(("customer@example.org", None, "", "mailer-daemon@example.org"))
_SERIAL = itertools.count(1)  # fresh sender and Message-ID per example: no rate limit, threading or dedupe


def ingestor_for(db, settings_factory, clock) -> Ingestor:
    # The clock stands still, so every answer falls into the same hour: lift the per-address caps.
    caps = {"max_auto_replies_per_hour": 100_000, "max_auto_replies_per_day": 100_000}
    return Ingestor(settings=settings_factory(loopguard=caps), db=db, clock=clock)


def assert_clean_outgoing(raw: bytes) -> EmailMessage:
    """The queued mail parses without defects; its header block has CRLF line ends, only the headers
    message_bytes writes, each single field once, and every value on one (unfolded) line."""
    head, blank, _ = raw.partition(b"\r\n\r\n")
    assert blank and head.isascii(), raw[:300]
    lines = head.split(b"\r\n")
    assert not any(b"\r" in line or b"\n" in line for line in lines), f"bare CR or LF in {head!r}"
    names = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the field above
        name, colon, _ = line.partition(b":")
        assert colon and FIELD_NAME.fullmatch(name), line
        names.append(name.decode().lower())
    assert set(names) <= OUTGOING_HEADERS, names
    for single in ("from", "to", "subject", "date", "message-id"):
        assert names.count(single) == 1, (single, names)
    mail = email.message_from_bytes(raw, policy=policy.default)
    for part in mail.walk():
        assert not part.defects, (part.defects, raw[:300])
    for name, value in mail.items():
        assert "\r" not in str(value) and "\n" not in str(value), (name, value)
    return mail


async def as_sent(session, outbox: list[Outbox]) -> list[bytes | str]:
    """Each row's mail as the sender composes it, or why it cannot be (the sender fails the row with that)."""
    parts = await parts_for(session, outbox)
    made = dict(zip(parts, compose_all(list(parts.values()))))
    return [row.raw or made[row.id] for row in outbox]


async def ingest_and_check(ingestor: Ingestor, raw: bytes, envelope_from: str | None) -> tuple[Outcome, list]:
    """Ingest one mail and check what the store holds for it; return the outcome and the new outbox rows."""
    digest, db = sha256_hex(raw), ingestor.db
    try:
        parsed = parse(raw)
    except Quarantine:
        parsed = None
    async with db.transaction() as session:
        stored_before = await session.scalar(
            select(func.count()).where(Message.raw_sha256 == digest, Message.direction == "in"))
        if parsed is not None and parsed.message_id:  # a copy: same Message-ID, sender, subject and text
            stored_before += await session.scalar(select(func.count()).where(
                Message.direction == "in", Message.message_id == parsed.message_id,
                Message.from_addr == parsed.from_addr, Message.subject == parsed.subject, Message.text == parsed.text))
        last_outbox = await session.scalar(select(func.coalesce(func.max(Outbox.id), 0)))
    outcome = await ingestor.ingest(raw, source="property", envelope_from=envelope_from)
    assert outcome.status in OUTCOMES, outcome
    event(outcome.status)  # `pytest --hypothesis-show-statistics` shows the mix
    # A duplicate is these bytes, or a copy of a mail with the same Message-ID, stored before.
    assert (outcome.status == "duplicate") == bool(stored_before), (outcome, stored_before)
    async with db.transaction() as session:
        blob = await session.get(Blob, digest)
        inbound = (await session.scalars(
            select(Message).where(Message.raw_sha256 == digest, Message.direction == "in"))).all()
        held = await session.scalar(select(QuarantineEntry).where(QuarantineEntry.raw_sha256 == digest))
        outbox = (await session.scalars(select(Outbox).where(Outbox.id > last_outbox).order_by(Outbox.id))).all()
        rows = [(row.recipient, mail, row.ticket_id) for row, mail in zip(outbox, await as_sent(session, outbox))]
    assert blob is not None and blob.data == raw and blob.size == len(raw), "raw bytes not kept exactly"
    if outcome.status == "stored":
        assert [m.ticket_id for m in inbound] == [outcome.ticket_id] and held is None
    if outcome.status == "quarantined":
        assert not inbound and held is not None and held.status == "held" and held.reason.strip()
    if outcome.status != "stored":
        assert not rows, "only a stored mail may cause outgoing mail"
    for _, out, _ in rows:
        if isinstance(out, str):  # the sender fails the row with this reason; nothing goes out
            assert out.startswith("cannot compose the mail: "), out
            event("a queued mail could not be composed")
        else:
            assert_clean_outgoing(out)
    event("answered" if rows else "not answered")
    return outcome, rows


async def check_hostile(db, settings_factory, clock, raw: bytes, envelope_from: str | None) -> None:
    await ingest_and_check(ingestor_for(db, settings_factory, clock), raw, envelope_from)


@settings(PROPERTY, max_examples=120)
@given(raw=hostile_mail(), envelope_from=ENVELOPE_SENDERS)
async def test_hostile_mail_is_stored_or_quarantined_whole_on_sqlite(db, settings_factory, clock, raw, envelope_from):
    await check_hostile(db, settings_factory, clock, raw, envelope_from)


@settings(PROPERTY, max_examples=40)
@given(raw=hostile_mail(), envelope_from=ENVELOPE_SENDERS)
async def test_hostile_mail_is_stored_or_quarantined_whole_on_postgresql(pg_db, settings_factory, clock, raw,
                                                                          envelope_from):
    await check_hostile(pg_db, settings_factory, clock, raw, envelope_from)


@settings(PROPERTY, max_examples=20)
@given(data=st.data())
async def test_encoded_line_breaks_never_reach_outgoing_headers(any_db, settings_factory, clock, data):
    serial = next(_SERIAL)
    sender = f"customer{serial}@example.org"
    raw = data.draw(injection_mail(sender, f"inject{serial}@example.org"), label="raw")
    outcome, rows = await ingest_and_check(ingestor_for(any_db, settings_factory, clock), raw, sender)
    assert outcome.status == "stored" and outcome.new_ticket, outcome
    recipients = {recipient for recipient, _, _ in rows}
    assert sender in recipients and len(rows) >= 2, recipients  # the acknowledgement and the announcement
    assert not any("evil" in r for r in recipients), recipients
    for _, out, _ in rows:
        mail = email.message_from_bytes(out, policy=policy.default)
        assert mail["Bcc"] is None and mail["X-Injected"] is None
        # The decoded line break became a space: the Bcc text is still there, inside the one Subject line.
        assert "bcc: evil@example.net" in str(mail["Subject"]).lower(), mail["Subject"]
    async with any_db.transaction() as session:
        ticket = await session.get(Ticket, outcome.ticket_id)
    assert not re.search(r"[\r\n\x85\u2028\u2029]", ticket.subject + ticket.requester_name), ticket.subject
