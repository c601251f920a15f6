"""Step: find the ticket a mail belongs to, in order of trust (token, references, subject tag)."""
from __future__ import annotations

import re

from sqlalchemy import select

from gateway.mail.tokens import parse_token, secrets_equal, split_plus
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Message, Participant, Ticket


def ticket_by_token(ctx: MailContext) -> tuple[int, str] | None:
    """The (ticket id, secret) of the first recipient that is our address with a reply token."""
    own = set(ctx.settings.smtp.addresses)
    candidates = list(ctx.recipients) + list(ctx.mail.to) + list(ctx.mail.cc)
    for address in candidates:
        base, detail = split_plus(address)
        if base in own:
            parsed = parse_token(detail)
            if parsed:
                return parsed
    return None


def subject_tag(subject: str, prefix: str) -> int | None:
    """The ticket number of a `[HD-123]` tag anywhere in the subject (after any Re:/Fwd: prefixes)."""
    match = re.search(rf"\[\s*{re.escape(prefix)}-(\d{{1,18}})\s*\]", subject, re.IGNORECASE)
    return int(match.group(1)) if match else None


@step
class Thread:
    name = "thread"
    description = "Attach the mail to its ticket: reply token, then In-Reply-To/References, then [HD-n]."

    async def run(self, ctx: MailContext) -> None:
        if ctx.ticket is not None:  # the bounce step already found it
            return
        session = ctx.session
        token = ticket_by_token(ctx)
        if token:
            ticket = await session.get(Ticket, token[0])
            if ticket is not None and secrets_equal(ticket.reply_token, token[1]):
                return self._found(ctx, ticket, f"reply token t{ticket.id}", token=True)
        ids = [*ctx.mail.in_reply_to, *reversed(ctx.mail.references)]
        if ids:
            row = (await session.execute(
                select(Message.ticket_id, Message.message_id)
                .where(Message.message_id.in_(ids)).order_by(Message.id.desc()).limit(1)
            )).first()
            if row is not None:
                ticket = await session.get(Ticket, row.ticket_id)
                return self._found(ctx, ticket, f"references <{row.message_id}>")
        number = subject_tag(ctx.mail.subject, ctx.settings.helpdesk.ticket_prefix)
        if number is not None and ctx.sender:
            participant = await session.scalar(select(Participant.id).where(
                Participant.ticket_id == number, Participant.address == ctx.sender))
            if participant is not None:
                ticket = await session.get(Ticket, number)
                return self._found(ctx, ticket, f"subject tag [{ctx.settings.helpdesk.ticket_prefix}-{number}] "
                                                f"from participant {ctx.sender}")
            ctx.thread_reason = (f"new ticket: subject tag [{ctx.settings.helpdesk.ticket_prefix}-{number}] "
                                 f"ignored, {ctx.sender or 'sender'} is not a participant")
        ctx.new_ticket = True
        ctx.thread_reason = ctx.thread_reason or "new ticket: no token, reference or known subject tag"

    @staticmethod
    def _found(ctx: MailContext, ticket: Ticket, reason: str, *, token: bool = False) -> None:
        ctx.ticket = ticket
        ctx.thread_reason = reason
        ctx.token_matched = token
