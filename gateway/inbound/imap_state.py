"""MailboxState rows: where each IMAP poller stands, how it is doing, and the one admin alert per failure streak."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import utc
from gateway.config import MailboxConfig, Settings
from gateway.inbound.imap_session import server_of
from gateway.mail.compose import make_message_id, message_bytes
from gateway.notify.render import Renderer
from gateway.store.db import Database, insert_ignoring_conflicts
from gateway.store.models import MailboxState, Outbox

log = logging.getLogger(__name__)
ALERT_TEMPLATE = "admin/mailbox_failing"


@dataclass(frozen=True)
class Position:
    """UIDVALIDITY of the folder and the UID up to which every mail there has been committed."""

    uidvalidity: int | None
    last_uid: int


async def _row(session: AsyncSession, name: str) -> MailboxState:
    row = await session.get(MailboxState, name)
    if row is None:
        row = MailboxState(name=name, last_uid=0, connected=False, backlog=0)
        session.add(row)
    return row


class StateStore:
    """Reads and writes one mailbox's MailboxState row; each call is its own short transaction."""

    def __init__(self, *, db: Database, settings: Settings, mailbox: MailboxConfig, renderer: Renderer):
        self.db = db
        self.settings = settings
        self.mailbox = mailbox
        self.renderer = renderer

    async def position(self) -> Position:
        async with self.db.transaction() as session:
            row = await _row(session, self.mailbox.name)
            return Position(uidvalidity=row.uidvalidity, last_uid=row.last_uid or 0)

    async def connected(self, *, uidvalidity: int, now: datetime) -> Position:
        """Record a successful login+SELECT; a changed UIDVALIDITY resets the position to 0 (full rescan)."""
        async with self.db.transaction() as session:
            row = await _row(session, self.mailbox.name)
            if row.uidvalidity is not None and row.uidvalidity != uidvalidity:
                # UIDs of the old numbering mean nothing now; dedupe makes re-reading every mail harmless.
                log.warning("mailbox %r: UIDVALIDITY changed from %s to %s; rescanning folder %r",
                            self.mailbox.name, row.uidvalidity, uidvalidity, self.mailbox.folder)
                row.last_uid = 0
            row.uidvalidity = uidvalidity
            self._succeeded(row, now)
            return Position(uidvalidity=uidvalidity, last_uid=row.last_uid or 0)

    async def advance(self, *, uidvalidity: int, last_uid: int) -> None:
        """Every mail with a UID up to `last_uid` is committed: persist that right after the commit."""
        async with self.db.transaction() as session:  # one UPDATE: this runs once per mail
            await session.execute(update(MailboxState).where(
                MailboxState.name == self.mailbox.name, MailboxState.uidvalidity == uidvalidity,
                MailboxState.last_uid < last_uid).values(last_uid=last_uid))

    async def checked(self, *, backlog: int, now: datetime) -> None:
        """A pass over the folder (or an IDLE re-arm) went well; `backlog` mails are still waiting."""
        async with self.db.transaction() as session:
            row = await _row(session, self.mailbox.name)
            row.backlog = backlog
            self._succeeded(row, now)

    def _succeeded(self, row: MailboxState, now: datetime) -> None:
        if row.failing_since is not None:
            log.info("mailbox %r: working again after failures since %s", self.mailbox.name,
                     utc(row.failing_since).isoformat(timespec="seconds"))
        row.connected = True
        row.last_success_at = now
        row.failing_since = None
        row.alert_sent_at = None  # a new failure streak gets its own alert

    async def failed(self, *, error: str, login: bool, now: datetime) -> bool:
        """Record a failure; queue the admin alert once the streak is alert_after_minutes old. True if queued."""
        async with self.db.transaction() as session:
            row = await _row(session, self.mailbox.name)
            row.connected = False
            row.last_error, row.last_error_at = error[:2000], now
            if row.failing_since is None:
                row.failing_since = now
            since = utc(row.failing_since)
            due = now - since >= timedelta(minutes=self.mailbox.alert_after_minutes)
            if not due or row.alert_sent_at is not None:
                return False
            session.add(self._alert(error=error, login=login, since=since, now=now))
            row.alert_sent_at = now
        log.error("mailbox %r: failing since %s; alert mail queued for %s", self.mailbox.name,
                  since.isoformat(timespec="seconds"), self.settings.loopguard.admin_address)
        return True

    async def lease(self, *, holder: str, now: datetime, seconds: float, dead: str | None = None) -> bool:
        """Take or extend this mailbox's lease for `holder`; False while another live instance holds it.

        One conditional UPDATE decides, so of several instances asking at once exactly one gets it.
        dead: a holder known to be gone (a process of this host that no longer runs): taken from at once.
        """
        async with self.db.transaction() as session:
            await session.execute(insert_ignoring_conflicts(session, MailboxState).values(
                name=self.mailbox.name, last_uid=0, connected=False, backlog=0))
            taken = await session.execute(update(MailboxState).where(
                MailboxState.name == self.mailbox.name,
                or_(MailboxState.lease_holder.is_(None), MailboxState.lease_holder.in_({holder, dead or holder}),
                    MailboxState.lease_until < now),
            ).values(lease_holder=holder, lease_until=now + timedelta(seconds=seconds)))
            return taken.rowcount == 1

    async def holder(self) -> str | None:
        async with self.db.transaction() as session:
            row = await session.get(MailboxState, self.mailbox.name)
            return row.lease_holder if row else None

    async def release(self, *, holder: str) -> None:
        """Give the lease up at a clean stop, so another instance need not wait for it to run out."""
        async with self.db.transaction() as session:
            await session.execute(update(MailboxState).where(
                MailboxState.name == self.mailbox.name, MailboxState.lease_holder == holder,
            ).values(lease_holder=None, lease_until=None, connected=False))

    def _alert(self, *, error: str, login: bool, since: datetime, now: datetime) -> Outbox:
        settings, mailbox = self.settings, self.mailbox
        context = {
            "helpdesk": settings.helpdesk, "mailbox": mailbox, "server": server_of(mailbox), "error": error,
            "login": login, "failing_since": since.isoformat(timespec="seconds"),
            "last_error_at": now.isoformat(timespec="seconds"),
            "minutes": int((now - since).total_seconds() // 60), "alert_after": f"{mailbox.alert_after_minutes:g}",
        }
        rendered = self.renderer.render(ALERT_TEMPLATE, context)
        message_id = make_message_id(settings.message_id_domain)
        sender = settings.outbound.from_address
        raw = message_bytes(
            from_name=settings.helpdesk.name, from_address=sender, to=settings.loopguard.admin_address,
            subject=rendered.subject, text=rendered.text, html=rendered.html, message_id=message_id, date=now,
            in_reply_to=None, references=(), reply_to=None, auto_submitted="auto-generated",
            loop_address=settings.smtp.addresses[0],
        )
        return Outbox(ticket_id=None, template=ALERT_TEMPLATE, recipient=settings.loopguard.admin_address,
                      envelope_from=sender, automatic=False, message_id=message_id, raw=raw, status="pending",
                      attempts=0, next_attempt_at=now, created_at=now)
