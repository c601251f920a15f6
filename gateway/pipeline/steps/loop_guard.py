"""Step: decide whether this mail may get any automatic answer (it is stored either way)."""
from __future__ import annotations

from gateway.mail.loopguard import auto_reason
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step


@step
class LoopGuard:
    name = "loop_guard"
    description = "Mark auto-generated mail, bounces, lists and our own mail: none of it is ever answered."

    def prepare(self, prep: Preparation) -> str | None:
        return auto_reason(prep.mail.message, envelope_from=prep.envelope_from,
                           own_addresses=prep.settings.smtp.addresses, own_domain=prep.settings.message_id_domain)

    async def run(self, ctx: MailContext) -> None:
        # The per-address caps and bounce suppressions apply where mail is queued (Notifier.enqueue),
        # so they cover every automatic mail, not just answers to this one.
        ctx.auto_reason = prepared(ctx, self)
