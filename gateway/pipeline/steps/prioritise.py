"""Step: new tickets get a priority: emergencies are urgent; rules and Importance headers otherwise."""
from __future__ import annotations

from gateway.pipeline.context import Hit, MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.pipeline.rules import PRIORITY_RULES, decide, evaluate

ORDER = ("urgent", "high", "medium", "low")


def header_hint(mail) -> Hit | None:
    """Importance / X-Priority / Priority headers of a ParsedMail as a weak vote (senders overuse 'high')."""
    importance = (mail.header("Importance") or mail.header("Priority") or "").strip().lower()
    x_priority = (mail.header("X-Priority") or "").strip()[:1]
    if importance in ("high", "urgent") or x_priority in ("1", "2"):
        return Hit(rule="header-importance", value="high", weight=1.0, detail=importance or f"X-Priority {x_priority}")
    if importance in ("low", "non-urgent") or x_priority in ("4", "5"):
        return Hit(rule="header-importance", value="low", weight=1.0, detail=importance or f"X-Priority {x_priority}")
    return None


@step
class Prioritise:
    name = "prioritise"
    description = "Urgent for the emergencies the help desk defines; else rules and headers; else the default."

    def prepare(self, prep: Preparation) -> tuple[list[Hit], str]:
        config = prep.settings.priority
        hits = evaluate(config.rules if config.rules is not None else PRIORITY_RULES,
                        subject=prep.mail.subject, body=prep.mail.text[:20000])
        hint = header_hint(prep.mail) if config.use_headers else None
        if hint:
            hits.append(hint)
        return hits, decide(hits, threshold=config.threshold, default=config.default, order=ORDER)

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        hits, ctx.priority = prepared(ctx, self)
        ctx.hits.extend(hits)
