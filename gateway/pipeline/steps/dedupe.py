"""Step: the same mail twice is stored once, however many paths it came by."""
from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, false, or_, select

from gateway.errors import Duplicate
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Event, Message

# Copies of one mail with the same Message-ID looked at; more than this many mails sharing one id
# are a sender reusing it, and each is stored.
_MAX_COPIES = 20


def dedupe_key(message_id: str | None, sha256: str) -> str:
    """'m:<sha256 of the normalised Message-ID>' when the mail has one, else '|<sha256 of the raw bytes>'.

    Copies of one mail differ in their trace headers (another Received line, a second mailbox's
    Delivered-To), so the Message-ID decides; mail without one can only be told apart by its bytes.
    Rows stored before this scheme have '<Message-ID>|<sha256>' keys; they are found by message_id.
    """
    if message_id:
        return "m:" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"|{sha256}"


def same_mail(row, ctx: MailContext) -> bool:
    """A copy, not a sender reusing a Message-ID for another mail: same bytes, or same sender, subject and text."""
    mail = ctx.mail
    return row.raw_sha256 == ctx.sha256 or (row.from_addr, row.subject, row.text) == (mail.from_addr, mail.subject,
                                                                                      mail.text)


def copy_event(first, ctx: MailContext) -> Event:
    """On the first copy's ticket: where this copy came from. Its raw bytes are kept too (every mail's
    are, and its trace headers show the path it took), under the sha256 named here."""
    return Event(ticket_id=first.ticket_id, kind="duplicate_copy", actor=ctx.mail.from_addr or "unknown", at=ctx.now,
                 data={"message": first.id, "source": ctx.source, "sha256": ctx.sha256,
                       "envelope_from": ctx.envelope_from, "recipients": list(ctx.recipients)})


def _copies(by_message_id: bool):
    """Stored inbound mail with this mail's dedupe key (first) or Message-ID, oldest first: the columns that
    tell a copy (rows, not ORM objects: loading those cost more than the query); built once per form, since
    building the statement cost more than running it, once per mail."""
    messages = Message.__table__.c
    keys = messages.dedupe_key.in_([bindparam("key"), bindparam("key_and_hash")])
    same_id = messages.message_id == bindparam("message_id") if by_message_id else false()
    return (select(messages.id, messages.ticket_id, messages.raw_sha256, messages.from_addr, messages.subject,
                   messages.text)
            .where(messages.direction == "in", or_(keys, same_id)).order_by(keys.desc(), messages.id)
            .limit(_MAX_COPIES))


_COPIES, _COPIES_BY_KEY = _copies(True), _copies(False)


@step
class Dedupe:
    name = "dedupe"
    description = "Drop a mail we already hold: same Message-ID (same sender, subject and text), else same bytes."

    async def run(self, ctx: MailContext) -> None:
        message_id = ctx.mail.message_id
        key = dedupe_key(message_id, ctx.sha256)
        values = {"key": key, "key_and_hash": f"{key}|{ctx.sha256}"}
        if message_id:
            values["message_id"] = message_id
        rows = (await ctx.session.execute(_COPIES if message_id else _COPIES_BY_KEY, values)).all()
        for row in rows:
            if same_mail(row, ctx):
                note = copy_event(row, ctx) if row.raw_sha256 != ctx.sha256 else None
                raise Duplicate(f"duplicate of message {row.id}", note=note)
        # A Message-ID reused for another mail: this one is told apart by its bytes too.
        ctx.dedupe_key = f"{key}|{ctx.sha256}" if rows else key
