"""Step: new tickets are a bug, a change request or misc: by strong rules, else by the learned model."""
from __future__ import annotations

from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.triage import classify_mail
from gateway.triage.report import bug_report_parts


@step
class Classify:
    name = "classify"
    description = "Rules that hit strongly decide bug / change / misc; else the model; keep every hit and why."

    def prepare(self, prep: Preparation):
        # CPU work (regexes, n-grams): on the preparation thread, before the transaction.
        mail, settings = prep.mail, prep.settings
        config = settings.classify
        decision, hits = classify_mail(mail.subject, mail.text, config=config,
                                       model_dir=settings.resolve_path(config.model_dir))
        report = (bug_report_parts(mail.subject, mail.text, attachments=len(mail.attachments))
                  if decision.value == "bug" else None)
        return decision, hits, report

    async def run(self, ctx: MailContext) -> None:
        if not ctx.new_ticket:
            return
        decision, hits, ctx.report = prepared(ctx, self)
        ctx.hits.extend(hits)
        ctx.decisions.append(decision)
        ctx.category = decision.value
