"""Step: decide whether this mail may get any automatic answer (it is stored either way)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from gateway.mail.loopguard import auto_reason
from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.store.models import Outbox


async def rate_limit_reason(ctx: MailContext, address: str) -> str | None:
    """A reason when `address` already had its share of automatic mail; None otherwise."""
    caps = ctx.settings.loopguard
    hour_ago, day_ago = ctx.now - timedelta(hours=1), ctx.now - timedelta(days=1)
    # One indexed range (recipient, created_at) read per mail, counted for both windows at once.
    row = (await ctx.session.execute(
        select(func.count().filter(Outbox.created_at >= hour_ago), func.count())
        .where(Outbox.recipient == address, Outbox.automatic.is_(True), Outbox.created_at >= day_ago)
    )).one()
    for sent, cap, label in ((row[0] or 0, caps.max_auto_replies_per_hour, "hour"),
                             (row[1] or 0, caps.max_auto_replies_per_day, "day")):
        if sent >= cap:
            return f"rate limited: {sent} automatic mails to {address} in the last {label} (cap {cap})"
    return None


@step
class LoopGuard:
    name = "loop_guard"
    description = "Mark auto-generated mail, bounces, lists, our own mail and over-answered senders."

    async def run(self, ctx: MailContext) -> None:
        reason = auto_reason(ctx.mail.message, envelope_from=ctx.envelope_from,
                             own_addresses=ctx.settings.smtp.addresses,
                             own_domain=ctx.settings.message_id_domain)
        if reason is None and ctx.sender:
            reason = await rate_limit_reason(ctx, ctx.sender)
        ctx.auto_reason = reason
