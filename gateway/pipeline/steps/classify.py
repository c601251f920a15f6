"""Step: new tickets are a bug, a change request or misc: by strong rules, else by the learned model."""
from __future__ import annotations

import asyncio

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.triage import classify_mail


@step
class Classify:
    name = "classify"
    description = "Rules that hit strongly decide bug / change / misc; else the model; keep every hit and why."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        config = ctx.settings.classify
        # CPU work (regexes, n-grams) on a worker thread: the loop keeps serving SMTP meanwhile.
        decision, hits = await asyncio.to_thread(classify_mail, ctx.mail.subject, ctx.mail.text, config=config,
                                                 model_dir=ctx.settings.resolve_path(config.model_dir))
        ctx.hits.extend(hits)
        ctx.decisions.append(decision)
        ctx.category = decision.value
