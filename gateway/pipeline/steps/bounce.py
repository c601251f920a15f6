"""Step: a bounce joins the ticket whose mail bounced; a permanent one stops automatic mail to the address."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.mail.bounce import BounceReport, parse_bounce
from gateway.mail.loopguard import BOUNCE_KINDS
from gateway.mail.parse import normalise_message_id
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.store.counters import bump
from gateway.store.models import Event, Message, Suppression, Ticket
from gateway.store.upsert import insert_for

_MAX_SUPPRESSED = 50  # per bounce: a report naming more is a mailing-list explosion, not our customers


def bounce_kind(report: BounceReport) -> str:
    return "permanent" if report.permanent else "delayed" if report.delayed else "other"


@step
class Bounce:
    name = "bounce"
    description = "Attach bounces to the ticket of the bounced mail; suppress permanently failing addresses."

    def prepare(self, prep: Preparation) -> BounceReport | None:
        if "loop_guard" in prep.results and prep.results["loop_guard"] is None:
            # A person's mail: run() reads no report for it. Looking for one ran every loop-guard check
            # again (5% of a mail's preparation, `gateway import` of bench/import_history.py's archive).
            return None
        return parse_bounce(prep.mail.message)  # cheap for mail that does not look like a bounce

    async def run(self, ctx: MailContext) -> None:
        if ctx.auto_reason is None:
            return
        report = prepared(ctx, self)
        if report is None:
            if ctx.auto_reason.split(":", 1)[0] in BOUNCE_KINDS:
                bump(ctx.session, "bounces_by_kind:unreadable")
            return
        ctx.bounce = report
        bump(ctx.session, f"bounces_by_kind:{bounce_kind(report)}")
        original = normalise_message_id(report.original_message_id)
        ticket_id = original and await ctx.session.scalar(
            select(Message.ticket_id).where(Message.message_id == original, Message.direction == "out").limit(1))
        if not ticket_id:
            # Not about a mail of ours (backscatter, or a report we cannot tie to one): kept, threaded as
            # any mail, and nobody's address is suppressed on its word.
            bump(ctx.session, "bounces_unmatched")
            return
        ctx.ticket = await ctx.session.get(Ticket, ticket_id)
        ctx.thread_reason = f"bounce of our mail <{original}>"
        # An old bounce in imported history says nothing about the address today.
        until = await self._suppress(ctx, report, ticket_id) if report.permanent and not ctx.history else None
        ctx.session.add(Event(ticket_id=ticket_id, kind="bounce", actor=ctx.sender or "mailer-daemon", at=ctx.now,
                              data={"recipients": list(report.recipients), "permanent": report.permanent,
                                    "delayed": report.delayed, "original_message_id": original,
                                    "suppressed_until": until.isoformat() if until else None}))

    @staticmethod
    async def _suppress(ctx: MailContext, report: BounceReport, ticket_id: int):
        days = ctx.settings.loopguard.suppress_days
        if days == 0:
            return None
        until = ctx.now + timedelta(days=days)
        insert = insert_for(ctx.session.bind.dialect.name)
        for address in report.recipients[:_MAX_SUPPRESSED]:
            statement = insert(Suppression).values(address=address.lower(), until=until, ticket_id=ticket_id,
                                                   reason=f"permanent bounce of <{report.original_message_id}>",
                                                   bounces=1, at=ctx.now)
            await ctx.session.execute(statement.on_conflict_do_update(
                index_elements=[Suppression.address],
                set_={"until": until, "ticket_id": ticket_id, "reason": statement.excluded.reason,
                      "bounces": Suppression.bounces + 1, "at": ctx.now}))
        return until
