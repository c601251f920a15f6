"""Queue notifications as outbox rows (plus their outbound Message rows) in the caller's transaction."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.mail.compose import build_message, mailbox, make_message_id, plus_address
from gateway.mail.loopguard import never_answer
from gateway.mail.tokens import token_for
from gateway.notify.render import Renderer
from gateway.store.counters import bump, kind_of
from gateway.store.models import Message, Outbox, Suppression, Ticket

log = logging.getLogger(__name__)


def unique_recipients(recipients: Iterable[str]) -> list[str]:
    """Stripped, first spelling kept, duplicates dropped case-insensitively, order kept."""
    seen: set[str] = set()
    result = []
    for address in recipients:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


class Notifier:
    """Turns (ticket, template, recipients) into one fully rendered outbox row per recipient."""

    def __init__(self, *, settings: Settings, clock: Clock, renderer: Renderer):
        self.settings = settings
        self.clock = clock
        self.renderer = renderer

    def reply_address(self, ticket: Ticket) -> str:
        """Our first help-desk address with the ticket's reply token, e.g. ihelp+t42.k3x9q2@example.com."""
        return plus_address(self.settings.smtp.addresses[0], token_for(ticket.id, ticket.reply_token))

    async def held_back(self, session: AsyncSession, address: str, *, automatic: bool, now: datetime) -> str | None:
        """Why `address` must not get this mail (never-answer address; for automatic mail also a
        permanent bounce or its hourly/daily cap, whatever the ticket); None when it may."""
        reason = never_answer(address, self.settings.smtp.addresses)
        if reason is not None or not automatic:
            return reason
        caps = self.settings.loopguard
        key = address.lower()
        # One read: the address's suppression (if any) and its automatic mail in the last day and hour,
        # counted on the (recipient, created_at) index; rows queued earlier in this transaction count too.
        suppressed = (select(Suppression.until).where(Suppression.address == key, Suppression.until > now)
                      .scalar_subquery())
        row = (await session.execute(
            select(suppressed, func.count().filter(Outbox.created_at >= now - timedelta(hours=1)), func.count())
            .where(Outbox.recipient.in_({address, key}), Outbox.automatic.is_(True),
                   Outbox.created_at >= now - timedelta(days=1))
        )).one()
        if row[0] is not None:
            return f"suppressed: {address} bounced permanently; no automatic mail until {row[0]:%Y-%m-%d}"
        for sent, cap, label in ((row[1] or 0, caps.max_auto_replies_per_hour, "hour"),
                                 (row[2] or 0, caps.max_auto_replies_per_day, "day")):
            if sent >= cap:
                return f"rate limited: {sent} automatic mails to {address} in the last {label} (cap {cap})"
        return None

    async def enqueue(self, session: AsyncSession, *, ticket: Ticket, template: str, recipients: Iterable[str],
                      context: Mapping[str, Any], automatic: bool, in_reply_to: str | None = None,
                      references: Sequence[str] = ()) -> list[Outbox]:
        """Add one pending Outbox row and one outbound Message row per recipient; return the Outbox rows.

        automatic: mail no person decided to send (acknowledgements, notices caused by a customer's
        mail); it is held back from suppressed addresses and beyond the per-address caps.
        Every mail is held back from never-answer addresses (noreply, mailer-daemon, our own).
        A recipient that is not a usable address is skipped with a warning, never fatal to the caller.
        The ticket must be flushed so ticket.id is set.
        Raises ConfigError for a missing template or a value the template needs and did not get.
        """
        settings, now = self.settings, self.clock.now()
        allowed = []
        for address in unique_recipients(recipients):
            reason = await self.held_back(session, address, automatic=automatic, now=now)
            if reason is None:
                allowed.append(address)
                continue
            level = logging.WARNING if reason.startswith("invalid") else logging.INFO
            log.log(level, "ticket %s: not sending %s to %r: %s", ticket.id, template, address, reason)
            bump(session, "held_back")
            bump(session, f"held_back_by_reason:{kind_of(reason)}")
        recipients = allowed
        if not recipients:
            return []
        reply_address = self.reply_address(ticket)
        ref = f"{settings.helpdesk.ticket_prefix}-{ticket.id}"
        rendered = self.renderer.render(template, {**context, "ticket": ticket, "ref": ref,
                                                   "helpdesk": settings.helpdesk, "reply_address": reply_address})
        # RFC 3834: "auto-replied" only for automatic answers to the customer's own mail.
        auto = "auto-replied" if automatic and template.startswith("customer/") else "auto-generated"
        from_address = settings.outbound.from_address
        try:
            mailbox(from_address)
        except ValueError as exc:
            raise ConfigError(f"outbound.from_address: {exc}; fix it in config.toml") from None
        rows = []
        for recipient in recipients:
            message_id = make_message_id(settings.message_id_domain)
            try:
                raw = build_message(
                    from_name=settings.helpdesk.name, from_address=from_address, to=recipient,
                    subject=rendered.subject, text=rendered.text, html=rendered.html, message_id=message_id,
                    date=now, in_reply_to=in_reply_to, references=references, reply_to=reply_address,
                    auto_submitted=auto, loop_address=settings.smtp.addresses[0],
                ).as_bytes()
            except ValueError as exc:  # a customer's From we cannot write back to (e.g. non-ASCII)
                log.warning("ticket %s: not sending %s to %r: %s", ref, template, recipient, exc)
                continue
            row = Outbox(ticket_id=ticket.id, template=template, recipient=recipient, envelope_from=from_address,
                         automatic=automatic, message_id=message_id, raw=raw, status="pending", attempts=0,
                         next_attempt_at=now, created_at=now)
            # The Message row lets a reply to this mail thread by In-Reply-To/References.
            session.add_all([row, Message(
                ticket_id=ticket.id, direction="out", message_id=message_id,
                in_reply_to=(in_reply_to or "").strip("<> ") or None,
                references=[r.strip("<> ") for r in references], from_addr=from_address,
                from_name=settings.helpdesk.name, to_addrs=[recipient], subject=rendered.subject,
                text=rendered.text, html=rendered.html, source=f"outbox:{template}"[:64],
                thread_reason="outbound", created_at=now,
            )])
            rows.append(row)
        return rows
