"""Step: new tickets get a priority: emergencies are urgent (rules, EN/DE/FR signals, model); else rules, headers."""
from __future__ import annotations

from gateway.pipeline.context import Hit, MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.triage import prioritise_mail


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

    def prepare(self, prep: Preparation):
        # CPU work (regexes, the emergency model): on the preparation thread, before the transaction.
        mail, settings = prep.mail, prep.settings
        config = settings.priority
        hint = header_hint(mail) if config.use_headers else None
        return prioritise_mail(mail.subject, mail.text, config=config,
                               model_dir=settings.resolve_path(settings.classify.model_dir), header=hint)

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        decision, hits = prepared(ctx, self)
        ctx.hits.extend(hits)
        ctx.decisions.append(decision)
        ctx.priority = decision.value
