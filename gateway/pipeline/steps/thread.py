"""Step: find the ticket a mail belongs to, in order of trust (token, references, subject tag)."""
from __future__ import annotations

import re

from sqlalchemy import bindparam, select

from gateway.mail import authenticity
from gateway.mail.authenticity import Plausibility
from gateway.mail.tokens import CUSTOMER, ENGINEER, Token, issued_to, parse_token, secrets_equal, split_plus
from gateway.pipeline.context import Grant, MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.store.models import Message, Participant, Ticket


# Built once: building a statement and its cache key cost more than running it, and these run per mail.
_PARTICIPANTS = select(Participant.address).where(Participant.ticket_id == bindparam("ticket_id"))
_IS_PARTICIPANT = select(Participant.id).where(Participant.ticket_id == bindparam("ticket_id"),
                                               Participant.address == bindparam("address"))
# The newest stored mail with one of these Message-IDs (the mail's In-Reply-To, then its References).
_BY_REFERENCE = (select(Message.ticket_id, Message.message_id, Message.direction, Message.to_addrs)
                 .where(Message.message_id.in_(bindparam("ids", expanding=True))).order_by(Message.id.desc()).limit(1))


def token_of(ctx: MailContext) -> Token | None:
    """The token of the first recipient that is our address with a reply token."""
    own = set(ctx.settings.smtp.addresses)
    candidates = list(ctx.recipients) + list(ctx.mail.to) + list(ctx.mail.cc)
    for address in candidates:
        base, detail = split_plus(address)
        if base in own:
            token = parse_token(detail)
            if token:
                return token
    return None


def subject_tag(subject: str, prefix: str) -> int | None:
    """The ticket number of a `[HD-123]` tag anywhere in the subject (after any Re:/Fwd: prefixes)."""
    match = re.search(rf"\[\s*{re.escape(prefix)}-(\d{{1,18}})\s*\]", subject[:2000], re.IGNORECASE)
    return int(match.group(1)) if match else None


async def participants(ctx: MailContext, ticket_id: int) -> list[str]:
    return list((await ctx.session.scalars(_PARTICIPANTS, {"ticket_id": ticket_id})).all())


async def check_token(ctx: MailContext, token: Token) -> tuple[Ticket, Grant] | None:
    """The ticket and grant when `token` is one we issued for that ticket; None for a forged or stale one."""
    ticket = await ctx.session.get(Ticket, token.ticket_id)
    if ticket is None:
        return None
    if not token.role:  # the old, unsigned form: it threads, it grants nothing
        return (ticket, Grant(token, "")) if secrets_equal(ticket.reply_token, token.secret) else None
    settings, sender = ctx.settings, ctx.sender
    key = await ctx.notifier.signer.key(ctx.session)
    if token.role == CUSTOMER:
        candidates = [ticket.requester, *await participants(ctx, ticket.id)]
    elif token.role == ENGINEER:  # the sender first: that is the holder who may act
        candidates = [sender, *settings.engineers, ticket.assignee or ""]
    else:
        level = token.level
        candidates = [r for lv in settings.levels if lv.number == level for r in lv.recipients]
    holder = issued_to(key, token, candidates)
    if holder is None:
        return None
    return ticket, Grant(token, _acting_holder(ctx, token, holder))


def _acting_holder(ctx: MailContext, token: Token, holder: str) -> str:
    """Who may act with this grant: the engineer it was issued to, when that engineer is the sender;
    for a level list's token, the sender when an engineer of that level; else nobody ("")."""
    sender = ctx.sender
    if token.role == ENGINEER:
        return holder if holder == sender else ""
    if token.level is not None:
        engineers = {e.lower() for lv in ctx.settings.levels if lv.number == token.level for e in lv.engineers}
        return sender if sender in engineers else ""
    return ""


def is_staff(ctx: MailContext, ticket: Ticket) -> bool:
    """Engineers, level lists and the ticket's assignee see every mail of a ticket: they may reply to any."""
    settings, sender = ctx.settings, ctx.sender
    return sender in settings.engineers or sender in settings.staff_lists or sender == (ticket.assignee or "").lower()


@step
class Thread:
    name = "thread"
    description = "Attach the mail to its ticket: reply token, then In-Reply-To/References, then [HD-n]."

    def prepare(self, prep: Preparation) -> Plausibility:
        mail = prep.mail
        return authenticity.check(from_addr=mail.from_addr, envelope_from=prep.envelope_from,
                                  return_path=mail.header("Return-Path"),
                                  auth_results=mail.headers("Authentication-Results"),
                                  trusted_ids=prep.settings.security.trusted_authserv_ids)

    async def run(self, ctx: MailContext) -> None:
        # The help desk's own archive vouches for its history; its envelopes are long gone.
        ctx.sender_check = Plausibility(True, "imported history") if ctx.history else prepared(ctx, self)
        if ctx.ticket is not None:  # the bounce step already found it
            return
        token = token_of(ctx)
        found = await check_token(ctx, token) if token else None
        if found:
            ticket, ctx.grant = found
            role = {CUSTOMER: "customer", ENGINEER: "engineer"}.get(token.role, f"level {token.level} list"
                                                                     if token.role else "unsigned, old form")
            ctx.ticket, ctx.thread_reason = ticket, f"reply token t{ticket.id} ({role})"
            return
        if await self._by_reference(ctx) or await self._by_subject_tag(ctx):
            return
        ctx.new_ticket = True
        ctx.thread_reason = ctx.thread_reason or "new ticket: no token, reference or known subject tag"

    async def _by_reference(self, ctx: MailContext) -> bool:
        ids = [*ctx.mail.in_reply_to, *reversed(ctx.mail.references)][:100]
        if not ids:
            return False
        row = (await ctx.session.execute(_BY_REFERENCE, {"ids": ids})).first()
        if row is None:
            return False
        ticket = await ctx.session.get(Ticket, row.ticket_id)
        sender, ref = ctx.sender, f"{ctx.settings.helpdesk.ticket_prefix}-{row.ticket_id}"
        if row.direction == "out" and sender and sender in [a.lower() for a in row.to_addrs or ()]:
            why = "a mail we sent to the sender"
        elif sender and is_staff(ctx, ticket):
            why = "from staff"
        elif await self._plausible_participant(ctx, row.ticket_id):
            why = f"from participant {sender}"
        else:
            self._follow_up(ctx, row.ticket_id, f"possible follow-up of {ref}: it answers <{row.message_id}>, "
                                                f"but {sender or 'the sender'} {self._not_why(ctx)}")
            return True
        ctx.ticket, ctx.thread_reason = ticket, f"references <{row.message_id}> ({why})"
        return True

    async def _by_subject_tag(self, ctx: MailContext) -> bool:
        prefix = ctx.settings.helpdesk.ticket_prefix
        number = subject_tag(ctx.mail.subject, prefix)
        if number is None or not ctx.sender:
            return False
        if await self._plausible_participant(ctx, number):
            ctx.ticket = await ctx.session.get(Ticket, number)
            ctx.thread_reason = f"subject tag [{prefix}-{number}] from participant {ctx.sender}"
            return True
        if await ctx.session.get(Ticket, number) is not None:
            self._follow_up(ctx, number, f"possible follow-up of {prefix}-{number}: subject tag, but "
                                         f"{ctx.sender} {self._not_why(ctx)}")
            return True
        ctx.thread_reason = f"new ticket: subject tag [{prefix}-{number}] names no ticket"
        return False

    @staticmethod
    async def _plausible_participant(ctx: MailContext, ticket_id: int) -> bool:
        if not ctx.sender or not ctx.sender_check.plausible:
            return False
        return await ctx.session.scalar(_IS_PARTICIPANT, {"ticket_id": ticket_id, "address": ctx.sender}) is not None

    @staticmethod
    def _not_why(ctx: MailContext) -> str:
        if not ctx.sender_check.plausible:
            return f"is not a verified sender ({ctx.sender_check.why})"
        return "is not a participant and was not sent that mail"

    @staticmethod
    def _follow_up(ctx: MailContext, ticket_id: int, why: str) -> None:
        """A new ticket that links the one the mail claims to answer; the level sees the link."""
        ctx.new_ticket, ctx.linked_ticket_id, ctx.link_why = True, ticket_id, why
        ctx.thread_reason = f"new ticket: {why}"[:200]
