"""Step: new tickets get a priority: emergencies are urgent; rules and Importance headers otherwise."""
from __future__ import annotations

from gateway.pipeline.context import Hit, MailContext
from gateway.pipeline.registry import step
from gateway.pipeline.rules import PRIORITY_RULES, decide, evaluate

ORDER = ("urgent", "high", "medium", "low")


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
        hits = evaluate(config.rules if config.rules is not None else PRIORITY_RULES,
                        subject=ctx.mail.subject, body=ctx.mail.text[:20000])
        hint = header_hint(ctx) if config.use_headers else None
        if hint:
            hits.append(hint)
        ctx.hits.extend(hits)
        ctx.priority = decide(hits, threshold=config.threshold, default=config.default, order=ORDER)
