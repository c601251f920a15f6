"""Step: acknowledge new tickets, announce them to their level, pass customer replies on."""
from __future__ import annotations

from markupsafe import Markup

from gateway.notify.outbox import Notice
from gateway.pipeline.context import MailContext, Preparation
from gateway.pipeline.registry import prepared, step
from gateway.pipeline.steps.incident_link import announced
from gateway.pipeline.steps.record import reply_text
from gateway.store.counters import bump
from gateway.store.models import Event
from gateway.store.status_links import link_token
from gateway.triage import explain
from gateway.triage.report import describe, missing

# Staff mail quotes at most this much of a customer's text (and shows HTML only up to it): a 25 MB
# mail must not become two 25 MB announcements, larger than a relay takes. The ticket keeps it all.
EXCERPT_CHARS = 20_000


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> tuple[str, int]:
    """(the first `limit` characters of `text`, cut at a line end where there is one; lines left out)."""
    if len(text) <= limit:
        return text, 0
    cut = text.rfind("\n", 0, limit)
    head = text[:cut if cut > limit // 2 else limit]
    return head.rstrip(), text.count("\n", len(head)) + 1


def message_view(ctx: MailContext, shown: dict) -> dict:
    """What staff templates may show of the inbound mail; text bounded, attachments only listed."""
    message = ctx.message
    html = message.html if message.html and len(message.html) <= EXCERPT_CHARS else None
    return {
        "from_addr": message.from_addr, "from_name": message.from_name, "subject": message.subject,
        **shown,
        # Sanitised when recorded (gateway.mail.sanitize); Markup so HTML templates show it as HTML.
        "html": Markup(html) if html else None,
        "attachments": [{"filename": a.filename, "size": a.size, "content_type": a.content_type}
                        for a in ctx.mail.attachments],
    }


async def status_url(ctx: MailContext) -> str:
    """The requester's status page link for the acknowledgement; '' while the web face is off."""
    web = ctx.settings.web
    if not web.enabled:
        return ""
    return f"{web.public_url}/s/{await link_token(ctx.session, ctx.ticket, now=ctx.now)}"


def staff_recipients(ctx: MailContext, addresses) -> list[str]:
    """Staff addresses minus the sender: nobody needs their own mail back."""
    return [a for a in addresses if a.lower() != ctx.sender]


@step
class Notify:
    name = "notify"
    description = "Queue the acknowledgement, the level announcement and reply forwards in the outbox."

    def prepare(self, prep: Preparation) -> dict:
        text = prep.mail.text
        (text, more_text), (fresh, more_fresh) = excerpt(text), excerpt(reply_text(prep))
        return {"text": text, "more_text_lines": more_text, "new_text": fresh, "more_new_text_lines": more_fresh}

    async def run(self, ctx: MailContext) -> None:
        if ctx.handled or (ctx.auto_reason or "").startswith("own"):
            return
        ticket, settings = ctx.ticket, ctx.settings
        level = settings.level(ticket.level)
        prefix = settings.helpdesk.ticket_prefix
        linked = ({"ref": f"{prefix}-{ctx.linked_ticket_id}", "why": ctx.link_why}
                  if ctx.new_ticket and ctx.linked_ticket_id else None)
        # A new bug report without steps or how often: the acknowledgement asks, once.
        lacking = missing(ctx.report) if ctx.report and ctx.category == "bug" else []
        context = {"level": level, "message": message_view(ctx, prepared(ctx, self)), "linked": linked,
                   "reasons": explain(ctx.decisions, ctx.hits) + ([describe(ctx.report)] if ctx.report else []),
                   "missing": lacking, "incident": announced(ctx),
                   "similar": [{"ref": f"{prefix}-{s.ticket_id}", "score": f"{s.score:.2f}", "words": ", ".join(s.words)}
                               for s in ctx.similar]}
        reply_to_mail = ctx.mail.message_id
        references = [*ctx.mail.references, *([reply_to_mail] if reply_to_mail else [])]
        # Mail from one of our own lists is most likely its auto-responder answering an announcement;
        # announcing that to the other lists would ping-pong between them, so it is capped like an ack.
        from_list = ctx.sender in settings.staff_lists
        if ctx.new_ticket:
            notices = []
            if ctx.auto_reason is None and self._may_acknowledge(ctx):
                # Only the level and the status link: a customer's mail echoes nothing of the sender's text
                # but the (shortened) subject. The notifier holds back never-answer, bounced, capped addresses.
                ack = {"level": level, "status_url": await status_url(ctx), "missing": lacking}
                notices.append(Notice("customer/ack", [ctx.sender], ack, automatic=True))
            notices.append(Notice("level/announce", staff_recipients(ctx, level.recipients), context,
                                  automatic=from_list))
            # Both at once: their rows go in with one INSERT per table.
            await ctx.notifier.enqueue_all(ctx.session, ticket=ticket, notices=notices, in_reply_to=reply_to_mail,
                                           references=references)
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

    @staticmethod
    def _may_acknowledge(ctx: MailContext) -> bool:
        """Backscatter guard: acknowledge only a From that plausibly sent the mail; else say why, once."""
        check = ctx.sender_check
        if check is not None and check.plausible:
            return True
        why = check.why if check is not None else "sender not checked (the thread step is not configured)"
        ctx.session.add(Event(ticket_id=ctx.ticket.id, kind="ack_withheld", actor="gateway", at=ctx.now,
                              data={"address": ctx.sender, "why": why}))
        bump(ctx.session, "held_back")
        bump(ctx.session, "held_back_by_reason:sender not verified")
        return False
