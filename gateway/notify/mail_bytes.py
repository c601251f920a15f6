"""The bytes of an outbox row: its own `raw`, or composed from its outbound Message row and its columns.

A notification's row is written without bytes (gateway.notify.outbox): composing a mail with the email
package costs about a millisecond, two per new ticket, which the drain's write transaction should not
pay. The sender composes it after claiming the row, off the event loop. Composing is deterministic for
a row (Date from created_at, the MIME boundary from the Message-ID), so a row sent again after a crash
is the same mail, byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import utc
from gateway.mail.compose import message_bytes
from gateway.store.models import Message, Outbox


def auto_submitted(template: str, automatic: bool) -> str:
    """The Auto-Submitted value of a notification, e.g. ('customer/ack', True) -> 'auto-replied'."""
    # RFC 3834: "auto-replied" only for automatic answers to the customer's own mail.
    return "auto-replied" if automatic and template.startswith("customer/") else "auto-generated"


@dataclass(frozen=True)
class Parts:
    """What message_bytes() takes for one row (plain values: it pickles, to a worker process)."""

    from_name: str
    from_address: str
    to: str
    subject: str
    text: str
    html: str | None
    message_id: str
    date: datetime
    in_reply_to: str | None
    references: tuple[str, ...]
    reply_to: str | None
    auto_submitted: str
    loop_address: str


def compose(parts: Parts) -> bytes:
    """The mail of `parts`; ValueError (from message_bytes) names what cannot be written."""
    return message_bytes(from_name=parts.from_name, from_address=parts.from_address, to=parts.to,
                         subject=parts.subject, text=parts.text, html=parts.html, message_id=parts.message_id,
                         date=parts.date, in_reply_to=parts.in_reply_to, references=parts.references,
                         reply_to=parts.reply_to, auto_submitted=parts.auto_submitted,
                         loop_address=parts.loop_address)


def compose_all(many: Sequence[Parts | str]) -> list[bytes | str]:
    """compose() for each; a str (given, or the ValueError's words) says why that one has no bytes.

    For a worker thread or process: one failure does not lose the others' mail.
    """
    composed: list[bytes | str] = []
    for parts in many:
        if isinstance(parts, str):
            composed.append(parts)
            continue
        try:
            composed.append(compose(parts))
        except ValueError as exc:
            composed.append(f"cannot compose the mail: {exc}")
    return composed


_MESSAGE = (Message.message_id, Message.from_name, Message.from_addr, Message.subject, Message.text, Message.html,
            Message.in_reply_to, Message.references)


async def parts_for(session: AsyncSession, rows: Iterable[Outbox]) -> dict[int, Parts | str]:
    """Outbox row id -> its Parts, or why it has none, for rows without bytes: one SELECT of their Messages."""
    rows = [row for row in rows if not row.raw]
    if not rows:
        return {}
    found = {m.message_id: m for m in (await session.execute(
        select(*_MESSAGE).where(Message.direction == "out", Message.message_id.in_([r.message_id for r in rows]))))}
    result: dict[int, Parts | str] = {}
    for row in rows:
        message = found.get(row.message_id)
        if message is None or row.auto_submitted is None or row.loop_address is None:
            result[row.id] = (f"cannot compose the mail: it has no bytes and no outbound message "
                              f"<{row.message_id}> to compose it from; queue it again")
            continue
        result[row.id] = Parts(
            from_name=message.from_name, from_address=message.from_addr, to=row.recipient, subject=message.subject,
            text=message.text, html=message.html, message_id=row.message_id, date=utc(row.created_at),
            in_reply_to=message.in_reply_to, references=tuple(message.references or ()), reply_to=row.reply_to,
            auto_submitted=row.auto_submitted, loop_address=row.loop_address)
    return result


async def bytes_of(session: AsyncSession, rows: Sequence[Outbox]) -> list[bytes]:
    """Each row's mail as the sender sends it: its raw, else composed now. ValueError if one cannot be.

    The one way to read a row's mail (commands, pages, tests), e.g.
    `[ack] = await bytes_of(session, [row])`.
    """
    parts = await parts_for(session, rows)
    composed = dict(zip(parts, compose_all(list(parts.values()))))
    result = []
    for row in rows:
        mail = row.raw or composed[row.id]
        if isinstance(mail, str):
            raise ValueError(f"outbox {row.id}: {mail}")
        result.append(mail)
    return result
