"""Step: open the ticket if new; store the message, its attachments, participants and events."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, inspect, select

from gateway.clock import utc
from gateway.mail.loopguard import never_answer
from gateway.mail.reply_strip import new_text
from gateway.mail.sanitize import safe_html
from gateway.mail.tokens import new_secret
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.store.blobs import put_blob
from gateway.store.db import adopt
from gateway.store.models import Attachment, Event, Message, Participant, Ticket


# Built once: they run for every mail, and a statement built per call has its cache key made anew each time.
_INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)
_INSERT_PARTICIPANTS = insert(Participant.__table__)
_INSERT_EVENTS = insert(Event.__table__)
_TICKETS = Ticket.__table__
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
# What the INSERT of a ticket sets a column to that the new Ticket leaves unset: its default, else NULL.
_TICKET_COLUMNS = {column.key: column.default.arg if column.default is not None else None
                   for column in _TICKETS.c if column.key != "id"}
assert all(column.default is None or column.default.is_scalar for column in _TICKETS.c), \
    "insert_ticket() applies scalar column defaults only"
# Built once: it runs for each sender and Cc of every follow-up.
_IS_PARTICIPANT = select(Participant.id).where(Participant.ticket_id == bindparam("ticket_id"),
                                               Participant.address == bindparam("address"))


async def new_participants(ctx: MailContext, ticket: Ticket) -> list[dict]:
    """Participant rows for the people of this mail not yet taking part in `ticket`: its sender, then the
    Cc'd people, each once. A new ticket has nobody yet, so it asks the database nothing."""
    roles = {ctx.mail.from_addr: "requester" if ctx.new_ticket else "sender"}
    for address in ctx.mail.cc:
        roles.setdefault(address, "cc")
    rows = []
    for address, role in roles.items():
        # Our own addresses and machine ones (noreply@, mailer-daemon@, also when only Cc'd) take no part.
        if not address or never_answer(address, ctx.settings.smtp.addresses) is not None:
            continue
        if not ctx.new_ticket and await ctx.session.scalar(
                _IS_PARTICIPANT, {"ticket_id": ticket.id, "address": address}) is not None:
            continue
        rows.append({"ticket_id": ticket.id, "address": address, "role": role})
    return rows


async def insert_ticket(session, ticket: Ticket) -> None:
    """Write the new `ticket` with a plain INSERT … RETURNING id and adopt() it into `session`, every column
    set as a flush would leave it: the ORM flush of the one row cost about as much as the rest of the step."""
    given = inspect(ticket).dict
    values = {key: given.get(key, unset) for key, unset in _TICKET_COLUMNS.items()}
    ticket_id = (await session.execute(_INSERT_TICKET, values)).scalar_one()
    for key, value in values.items():
        if key not in given:
            setattr(ticket, key, value)
    ticket.id = ticket_id
    adopt(session, ticket)


def open_ticket(ctx: MailContext) -> Ticket:
    mail = ctx.mail
    # Imported history is closed business: resolved as of its last mail, so a customer writing again
    # within reopen_days reopens it, and no SLA clock, digest section or stall nudge counts it as open.
    ticket = Ticket(
        subject=mail.subject or "(no subject)", requester=mail.from_addr, requester_name=mail.from_name,
        category=ctx.category, priority=ctx.priority, level=ctx.level,
        status="resolved" if ctx.history else "open", resolved_at=ctx.now if ctx.history else None,
        reply_token=new_secret(), created_at=ctx.now, updated_at=ctx.now, last_activity_at=ctx.now,
    )
    if not ctx.history:  # the clocks go in with the ticket's first INSERT rather than an UPDATE after it
        cal = BusinessCalendar.from_config(ctx.settings.business_for_level(ticket.level))
        sla.set_targets(ticket, start=ctx.now, settings=ctx.settings, cal=cal)
    return ticket


def reply_text(prep: Preparation) -> str:
    """The mail's new text (quoted history stripped) as record's prepare() made it; stripped here when
    record has not prepared it (a pipeline without record, or a context built by hand)."""
    done = prep.results.get("record")
    return done["new_text"] if done else new_text(prep.mail.text)


@step
class Record:
    name = "record"
    description = "Write the ticket (with its SLA clocks), message, attachments, participants and audit events."

    def prepare(self, prep: Preparation) -> dict[str, str | None]:
        # Reply stripping and HTML sanitising are CPU work proportional to the mail: done off the loop.
        return {"new_text": new_text(prep.mail.text),
                "html": safe_html(prep.mail.html)}  # the raw blob keeps the original; this copy is the one ever shown

    async def run(self, ctx: MailContext) -> None:
        session, mail = ctx.session, ctx.mail
        done = prepared(ctx, self)
        events = []  # written with the participants in plain INSERTs at the end: half the cost of ORM objects
        if ctx.new_ticket:
            ctx.ticket = open_ticket(ctx)
            await insert_ticket(session, ctx.ticket)
            events.append({"ticket_id": ctx.ticket.id, "kind": "created", "actor": mail.from_addr or "unknown",
                           "at": ctx.now, "data": {
                               "category": ctx.category, "priority": ctx.priority, "level": ctx.level,
                               "hits": [hit.as_dict() for hit in ctx.hits],
                               "decisions": [d.as_dict() for d in ctx.decisions],
                               **({"report": ctx.report} if ctx.report is not None else {}),
                               **({"similar": [s.as_dict() for s in ctx.similar]} if ctx.similar else {})}})
        ticket = ctx.ticket
        # A new ticket was opened with these times. Set again, even to the same values, they would mark it
        # changed, and the autoflush of the next statement would flush it once more for nothing.
        if not ctx.new_ticket:
            ticket.updated_at = max(utc(ticket.updated_at), ctx.now) if ctx.history else ctx.now
            if ctx.auto_reason is None:  # a bounce or auto-reply is no sign of life: stall clocks keep running
                ticket.last_activity_at = max(utc(ticket.last_activity_at), ctx.now) if ctx.history else ctx.now
            if ctx.history and ticket.status == "resolved" and ticket.resolved_at is not None:
                ticket.resolved_at = max(utc(ticket.resolved_at), ctx.now)
        values = dict(
            ticket_id=ticket.id, direction="in", dedupe_key=ctx.dedupe_key, message_id=mail.message_id,
            in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None, references=list(mail.references),
            from_addr=mail.from_addr, from_name=mail.from_name, to_addrs=list(mail.to), cc_addrs=list(mail.cc),
            subject=mail.subject, text=mail.text, new_text=done["new_text"], html=done["html"],
            raw_sha256=ctx.sha256, source=ctx.source, thread_reason=ctx.thread_reason[:200],
            auto_reason=ctx.auto_reason, created_at=ctx.now,
        )
        # A plain INSERT … RETURNING id: an ORM flush of the row cost about twice as much, and nothing in this
        # transaction works on it as a mapped object. The steps after this one read it from ctx.message.
        message = Message(id=(await session.execute(_INSERT_MESSAGE, values)).scalar_one(), **values)
        ctx.message = message
        for part in mail.attachments:
            await put_blob(session, part.data, part.sha256)
            session.add(Attachment(message_id=message.id, filename=part.filename, content_type=part.content_type,
                                   size=part.size, sha256=part.sha256, content_id=part.content_id,
                                   inline=part.inline))
        participants = await new_participants(ctx, ticket)
        if participants:
            await session.execute(_INSERT_PARTICIPANTS, participants)
        events.append({"ticket_id": ticket.id, "kind": "message_in", "actor": mail.from_addr or "unknown",
                       "at": ctx.now, "data": {
                           "message": message.id, "message_id": mail.message_id, "source": ctx.source,
                           "thread_reason": ctx.thread_reason, "auto_reason": ctx.auto_reason,
                           # why the sender is unknown (From not one mailbox): never answered, never a command
                           **({"from_problem": mail.from_problem} if mail.from_problem else {})}})
        await session.execute(_INSERT_EVENTS, events)
