"""Step: new tickets are a bug, a change request or misc, by weighted rules."""
from __future__ import annotations

from gateway.pipeline.context import Hit, MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.pipeline.rules import CLASSIFY_RULES, decide, evaluate


@step
class Classify:
    name = "classify"
    description = "Score bug / change / misc rules over subject and text; keep every hit."

    def prepare(self, prep: Preparation) -> tuple[list[Hit], str]:
        config = prep.settings.classify
        hits = evaluate(config.rules if config.rules is not None else CLASSIFY_RULES,
                        subject=prep.mail.subject, body=prep.mail.text[:20000])
        return hits, decide(hits, threshold=config.threshold, default=config.default, order=("bug", "change", "misc"))

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        hits, ctx.category = prepared(ctx, self)
        ctx.hits.extend(hits)
