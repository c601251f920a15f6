"""Step: new tickets get a priority: emergencies are urgent (rules, EN/DE/FR signals, model); else rules, headers."""
from __future__ import annotations

import asyncio

from gateway.pipeline.context import Hit, MailContext
from gateway.pipeline.registry import step
from gateway.triage import prioritise_mail


def header_hint(ctx: MailContext) -> Hit | None:
    """Importance / X-Priority / Priority headers as a weak vote (senders overuse 'high')."""
    importance = (ctx.mail.header("Importance") or ctx.mail.header("Priority") or "").strip().lower()
    x_priority = (ctx.mail.header("X-Priority") or "").strip()[:1]
    if importance in ("high", "urgent") or x_priority in ("1", "2"):
        return Hit(rule="header-importance", value="high", weight=1.0, detail=importance or f"X-Priority {x_priority}")
    if importance in ("low", "non-urgent") or x_priority in ("4", "5"):
        return Hit(rule="header-importance", value="low", weight=1.0, detail=importance or f"X-Priority {x_priority}")
    return None


@step
class Prioritise:
    name = "prioritise"
    description = "Urgent for the emergencies the help desk defines; else rules and headers; else the default."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        config = ctx.settings.priority
        hint = header_hint(ctx) if config.use_headers else None
        model_dir = ctx.settings.resolve_path(ctx.settings.classify.model_dir)
        decision, hits = await asyncio.to_thread(prioritise_mail, ctx.mail.subject, ctx.mail.text, config=config,
                                                 model_dir=model_dir, header=hint)
        ctx.hits.extend(hits)
        ctx.decisions.append(decision)
        ctx.priority = decision.value
