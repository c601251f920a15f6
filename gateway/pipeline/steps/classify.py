"""Step: new tickets are a bug, a change request or misc: by strong rules, else by the learned model."""
from __future__ import annotations

import asyncio

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.triage import classify_mail
from gateway.triage.report import bug_report_parts


@step
class Classify:
    name = "classify"
    description = "Rules that hit strongly decide bug / change / misc; else the model; keep every hit and why."

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        config = ctx.settings.classify
        model_dir = ctx.settings.resolve_path(config.model_dir)
        subject, text, attachments = ctx.mail.subject, ctx.mail.text, len(ctx.mail.attachments)

        def work():
            decision, hits = classify_mail(subject, text, config=config, model_dir=model_dir)
            report = bug_report_parts(subject, text, attachments=attachments) if decision.value == "bug" else None
            return decision, hits, report

        # CPU work (regexes, n-grams) on a worker thread: the loop keeps serving SMTP meanwhile.
        decision, hits, ctx.report = await asyncio.to_thread(work)
        ctx.hits.extend(hits)
        ctx.decisions.append(decision)
        ctx.category = decision.value
