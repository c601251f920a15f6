"""Step: acknowledge new tickets, announce them to their level, pass customer replies on."""
from __future__ import annotations

from markupsafe import Markup

from gateway.pipeline.context import MailContext
from gateway.pipeline.registry import step
from gateway.triage import explain
from gateway.triage.report import describe, missing


def message_view(ctx: MailContext) -> dict:
    """What templates may show of the inbound mail."""
    message = ctx.message
    return {
        "from_addr": message.from_addr, "from_name": message.from_name, "subject": message.subject,
        "text": message.text, "new_text": message.new_text,
        # Sanitised when recorded (gateway.mail.sanitize); Markup so HTML templates show it as HTML.
        "html": Markup(message.html) if message.html else None,
        "attachments": [{"filename": a.filename, "size": a.size, "content_type": a.content_type}
                        for a in ctx.mail.attachments],
    }


def staff_recipients(ctx: MailContext, addresses) -> list[str]:
    """Staff addresses minus the sender: nobody needs their own mail back."""
    return [a for a in addresses if a.lower() != ctx.sender]


@step
class Notify:
    name = "notify"
    description = "Queue the acknowledgement, the level announcement and reply forwards in the outbox."

    async def run(self, ctx: MailContext) -> None:
        if ctx.handled or (ctx.auto_reason or "").startswith("own"):
            return
        ticket, settings = ctx.ticket, ctx.settings
        level = settings.level(ticket.level)
        context = {"level": level, "message": message_view(ctx),
                   "reasons": explain(ctx.decisions, ctx.hits) + ([describe(ctx.report)] if ctx.report else []),
                   # a new bug report without steps or how often: the acknowledgement asks, once
                   "missing": missing(ctx.report) if ctx.report and ctx.category == "bug" else [],
                   "similar": [{"ref": f"{settings.helpdesk.ticket_prefix}-{s.ticket_id}", "score": f"{s.score:.2f}",
                                "words": ", ".join(s.words)} for s in ctx.similar]}
        reply_to_mail = ctx.mail.message_id
        references = [*ctx.mail.references, *([reply_to_mail] if reply_to_mail else [])]
        # Mail from one of our own lists is most likely its auto-responder answering an announcement;
        # announcing that to the other lists would ping-pong between them, so it is capped like an ack.
        from_list = ctx.sender in settings.staff_lists
        if ctx.new_ticket:
            if ctx.auto_reason is None:  # the notifier holds back never-answer, bounced and capped addresses
                await ctx.notifier.enqueue(ctx.session, ticket=ticket, template="customer/ack",
                                           recipients=[ctx.sender], context=context, automatic=True,
                                           in_reply_to=reply_to_mail, references=references)
            await ctx.notifier.enqueue(ctx.session, ticket=ticket, template="level/announce",
                                       recipients=staff_recipients(ctx, level.recipients), context=context,
                                       automatic=from_list, in_reply_to=reply_to_mail, references=references)
            return
        if ctx.auto_reason is not None or ctx.sender in settings.engineers:
            return
        if ticket.assignee:
            template, recipients = "assignee/customer_reply", [ticket.assignee]
        else:
            template, recipients = "level/customer_reply", list(level.recipients)
        await ctx.notifier.enqueue(ctx.session, ticket=ticket, template=template,
                                   recipients=staff_recipients(ctx, recipients), context=context, automatic=from_list,
                                   in_reply_to=reply_to_mail, references=references)
