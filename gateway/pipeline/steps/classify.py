"""Step: new tickets are a bug, a change request or misc, by weighted rules."""
from __future__ import annotations

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.pipeline.rules import CLASSIFY_RULES, decide, evaluate


@step
class Classify:
    name = "classify"
    description = "Score bug / change / misc rules over subject and text; keep every hit."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        config = ctx.settings.classify
        hits = evaluate(config.rules if config.rules is not None else CLASSIFY_RULES,
                        subject=ctx.mail.subject, body=ctx.mail.text[:20000])
        ctx.hits.extend(hits)
        ctx.category = decide(hits, threshold=config.threshold, default=config.default,
                              order=("bug", "change", "misc"))
