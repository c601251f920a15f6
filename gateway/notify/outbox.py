"""Queue notifications as outbox rows (plus their outbound Message rows) in the caller's transaction."""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.mail.compose import build_message, mailbox, make_message_id, plus_address
from gateway.mail.tokens import token_for
from gateway.notify.render import Renderer
from gateway.store.models import Message, Outbox, Ticket

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

    def enqueue(self, session: AsyncSession, *, ticket: Ticket, template: str, recipients: Iterable[str],
                context: Mapping[str, Any], automatic: bool, in_reply_to: str | None = None,
                references: Sequence[str] = ()) -> list[Outbox]:
        """Add one pending Outbox row and one outbound Message row per recipient; return the Outbox rows.

        Synchronous: it only adds to `session` (ticket must be flushed so ticket.id is set).
        A recipient that is not a usable address is skipped with a warning, never fatal to the caller.
        Raises ConfigError for a missing template or a value the template needs and did not get.
        """
        settings, now = self.settings, self.clock.now()
        recipients = unique_recipients(recipients)
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
