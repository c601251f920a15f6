"""Queue notifications as outbox rows (plus their outbound Message rows) in the caller's transaction."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.mail.compose import check_address, mailbox, make_message_id, plus_address
from gateway.mail.loopguard import never_answer
from gateway.notify.mail_bytes import auto_submitted
from gateway.notify.render import Renderer
from gateway.notify.signer import Signer
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


ECHO_CHARS = 200  # of a sender's subject, in mail to a customer


class CustomerTicket:
    """The ticket as mail to a customer shows it: the first ECHO_CHARS of the subject, no display name.

    Anyone can write to the help desk as anyone; what we echo back to that address must not carry a
    stranger's chosen text (backscatter, phishing in our name), whatever an operator's template asks for.
    """

    requester_name = ""

    def __init__(self, ticket: Ticket):
        self._ticket = ticket  # the sandbox keeps templates away from underscored names

    def __getattr__(self, name: str):
        return getattr(self._ticket, name)

    @property
    def subject(self) -> str:
        subject = self._ticket.subject
        return subject if len(subject) <= ECHO_CHARS else subject[:ECHO_CHARS - 1].rstrip() + "…"


def _held_back_statement(*, everyone: bool):
    """One read for held_back(): the address's suppression (if any), its automatic mail in the last hour
    and day (rows queued earlier in this transaction count), and with `everyone` all automatic mail of the
    last hour. Built once: building it cost more than running it, once per automatic mail."""
    now, hour_ago = bindparam("now"), bindparam("hour_ago")
    suppressed = (select(Suppression.until).where(Suppression.address == bindparam("address"), Suppression.until > now)
                  .scalar_subquery())
    # "automatic" is counted, not filtered on: in the WHERE clause it let SQLite pick the index on
    # (automatic, created_at) and read every automatic mail of the day to find this address's few.
    mine = Outbox.automatic.is_(True)
    columns = [suppressed, func.count().filter(mine, Outbox.created_at >= hour_ago), func.count().filter(mine)]
    if everyone:
        columns.append(select(func.count()).select_from(Outbox)
                       .where(Outbox.automatic.is_(True), Outbox.created_at >= hour_ago).scalar_subquery())
    return (select(*columns)
            .where(Outbox.recipient.in_(bindparam("addresses", expanding=True)),
                   Outbox.created_at >= bindparam("day_ago")))


_HELD_BACK = _held_back_statement(everyone=True)
_HELD_BACK_ADDRESS = _held_back_statement(everyone=False)

# session.info key: the global cap's count for the session's current transaction (_Tally).
TALLY = "automatic_mail_tally"


@dataclass
class _Tally:
    """All automatic mail of the last hour as this transaction's first automatic mail read it, plus the
    automatic rows the transaction queued since. Never below what a new read would find of those (rows
    leave the hour, a savepoint may take rows back), so while it is under the cap the cap holds unread.
    Another instance's rows committed after the read count from the next transaction on (PostgreSQL;
    rows of transactions still open were never seen by either instance, per mail or per batch)."""

    transaction: object  # the session's (root) transaction it belongs to
    count: int


# Built once, like _HELD_BACK: a statement built per call has its cache key made anew each time.
_INSERT_MESSAGES = insert(Message.__table__)
_INSERT_OUTBOX = insert(Outbox.__table__).returning(Outbox.__table__.c.message_id, Outbox.__table__.c.id)


@dataclass(frozen=True)
class Notice:
    """One template for some recipients of a ticket, as Notifier.enqueue_all() takes it (see enqueue())."""

    template: str
    recipients: Sequence[str]
    context: Mapping[str, Any]
    automatic: bool


class Notifier:
    """Turns (ticket, template, recipients) into one fully rendered outbox row per recipient."""

    def __init__(self, *, settings: Settings, clock: Clock, renderer: Renderer):
        self.settings = settings
        self.clock = clock
        self.renderer = renderer
        self.signer = Signer(settings)
        self._cap_logged_at: datetime | None = None

    async def reply_address(self, session: AsyncSession, ticket: Ticket, recipient: str) -> str:
        """Our first help-desk address with the token signed for this recipient, e.g. ihelp+t42.c.k3x9…@example.com."""
        return plus_address(self.settings.smtp.addresses[0], await self.signer.token(session, ticket, recipient))

    async def held_back(self, session: AsyncSession, address: str, *, automatic: bool, now: datetime) -> str | None:
        """Why `address` must not get this mail (never-answer address; for automatic mail also a
        permanent bounce, its hourly/daily cap whatever the ticket, or the global hourly cap); None when it may."""
        reason = never_answer(address, self.settings.smtp.addresses)
        if reason is not None or not automatic:
            return reason
        caps = self.settings.loopguard
        key = address.lower()
        tally = session.info.get(TALLY)
        # Everyone's mail of the hour is counted once per transaction (a batch of mail), not per mail: that
        # count reads every automatic mail of the hour. Read again only where the tally reaches the cap.
        fresh = (tally is None or tally.transaction is not session.sync_session.get_transaction()
                 or tally.count >= caps.max_auto_mail_per_hour)
        row = (await session.execute(_HELD_BACK if fresh else _HELD_BACK_ADDRESS,
                                     {"address": key, "addresses": list({address, key}), "now": now,
                                      "hour_ago": now - timedelta(hours=1), "day_ago": now - timedelta(days=1)})).one()
        if fresh:
            tally = session.info[TALLY] = _Tally(session.sync_session.get_transaction(), row[3] or 0)
        if row[0] is not None:
            return f"suppressed: {address} bounced permanently; no automatic mail until {row[0]:%Y-%m-%d}"
        if tally.count >= caps.max_auto_mail_per_hour:  # (read just now: exact)
            self._log_global_cap(tally.count, now)
            return f"global cap: {tally.count} automatic mails in the last hour (cap {caps.max_auto_mail_per_hour})"
        for sent, cap, label in ((row[1] or 0, caps.max_auto_replies_per_hour, "hour"),
                                 (row[2] or 0, caps.max_auto_replies_per_day, "day")):
            if sent >= cap:
                return f"rate limited: {sent} automatic mails to {address} in the last {label} (cap {cap})"
        return None

    def _log_global_cap(self, sent: int, now: datetime) -> None:
        # Loud, but once per ten minutes: the cap biting means a flood, and the log must stay readable.
        if self._cap_logged_at is None or now - self._cap_logged_at >= timedelta(minutes=10):
            self._cap_logged_at = now
            log.error("GLOBAL CAP REACHED: %d automatic mails in the last hour (loopguard.max_auto_mail_per_hour "
                      "= %d); acknowledgements and notices are held back until the hour's count falls. A flood "
                      "of mail, or a loop? Check `gateway stats` and the newest tickets.", sent,
                      self.settings.loopguard.max_auto_mail_per_hour)

    async def enqueue(self, session: AsyncSession, *, ticket: Ticket, template: str, recipients: Iterable[str],
                      context: Mapping[str, Any], automatic: bool, in_reply_to: str | None = None,
                      references: Sequence[str] = (), send_after: datetime | None = None) -> list[Outbox]:
        """Write one pending Outbox row and one outbound Message row per recipient; return the Outbox rows
        (as written, with their ids; not objects of the session: changing them changes nothing stored).

        automatic: mail no person decided to send (acknowledgements, notices caused by a customer's
        mail); it is held back from suppressed addresses and beyond the per-address and global caps.
        Every mail is held back from never-answer addresses (noreply, mailer-daemon, our own).
        A recipient that is not a usable address is skipped with a warning, never fatal to the caller.
        Each recipient gets its own Message-ID and its own signed reply token (see gateway.mail.tokens).
        send_after: hold the mail in the outbox until then (e.g. business hours); None sends it now.
        The ticket must be flushed so ticket.id is set.
        Raises ConfigError for a missing template or a value the template needs and did not get.
        """
        return await self.enqueue_all(session, ticket=ticket, notices=[Notice(template, list(recipients), context,
                                                                              automatic)],
                                      in_reply_to=in_reply_to, references=references, send_after=send_after)

    async def enqueue_all(self, session: AsyncSession, *, ticket: Ticket, notices: Sequence[Notice],
                          in_reply_to: str | None = None, references: Sequence[str] = (),
                          send_after: datetime | None = None) -> list[Outbox]:
        """enqueue() for several notices of one ticket (a new ticket's acknowledgement and announcement);
        their rows in notice order. Written together, one INSERT per table rather than one per notice;
        rows not yet written are written before an automatic notice's caps are read, so that they count.
        """
        now = self.clock.now()
        rows: list[dict] = []
        sent: list[dict] = []
        written: list[Outbox] = []
        for notice in notices:
            if notice.automatic and rows:
                written += await self._write(session, rows, sent)
                rows, sent = [], []
            allowed = await self._allowed(session, ticket, notice, now)
            if allowed:
                await self._add_rows(session, ticket, notice, allowed, rows, sent, now=now, in_reply_to=in_reply_to,
                                     references=references, send_after=send_after)
        return written + await self._write(session, rows, sent)

    async def _allowed(self, session: AsyncSession, ticket: Ticket, notice: Notice, now: datetime) -> list[str]:
        """The notice's recipients that may get it; each one held back is logged and counted."""
        allowed = []
        for address in unique_recipients(notice.recipients):
            reason = await self.held_back(session, address, automatic=notice.automatic, now=now)
            if reason is None:
                allowed.append(address)
                continue
            level = logging.WARNING if reason.startswith("invalid") else logging.INFO
            log.log(level, "ticket %s: not sending %s to %r: %s", ticket.id, notice.template, address, reason)
            bump(session, "held_back")
            bump(session, f"held_back_by_reason:{kind_of(reason)}")
        return allowed

    async def _add_rows(self, session: AsyncSession, ticket: Ticket, notice: Notice, allowed: list[str],
                        rows: list[dict], sent: list[dict], *, now: datetime, in_reply_to: str | None,
                        references: Sequence[str], send_after: datetime | None) -> None:
        """Render the notice for each allowed recipient; add its Outbox and Message rows. The mail's bytes
        are composed when it is sent (gateway.notify.mail_bytes), from these rows."""
        settings, template, automatic = self.settings, notice.template, notice.automatic
        ref = f"{settings.helpdesk.ticket_prefix}-{ticket.id}"
        auto = auto_submitted(template, automatic)
        from_address = settings.outbound.from_address
        try:
            mailbox(from_address)
        except ValueError as exc:
            raise ConfigError(f"outbound.from_address: {exc}; fix it in config.toml") from None
        shown = CustomerTicket(ticket) if template.startswith("customer/") else ticket
        for recipient in allowed:
            reply_address = await self.reply_address(session, ticket, recipient)
            try:
                # The addresses are what composing can refuse (a customer's From we cannot write back to,
                # e.g. non-ASCII): checked now, while the recipient can still be skipped, not at send time.
                mailbox(recipient)
                check_address(reply_address)  # a new token each time: not worth a place in mailbox()'s cache
            except ValueError as exc:
                log.warning("ticket %s: not sending %s to %r: %s", ref, template, recipient, exc)
                continue
            rendered = self.renderer.render(template, {**notice.context, "ticket": shown, "ref": ref,
                                                       "helpdesk": settings.helpdesk, "reply_address": reply_address})
            message_id = make_message_id(settings.message_id_domain)
            rows.append({"ticket_id": ticket.id, "template": template, "recipient": recipient,
                         "envelope_from": from_address, "automatic": automatic, "message_id": message_id, "raw": None,
                         "reply_to": reply_address, "auto_submitted": auto, "loop_address": settings.smtp.addresses[0],
                         "status": "pending", "attempts": 0, "created_at": now,
                         "next_attempt_at": max(now, send_after) if send_after is not None else now})
            # The Message row lets a reply to this mail thread by In-Reply-To/References, and says to whom
            # this Message-ID went (threading by reference checks the replier against it).
            sent.append({"ticket_id": ticket.id, "direction": "out", "message_id": message_id,
                         "in_reply_to": (in_reply_to or "").strip("<> ") or None,
                         "references": [r.strip("<> ") for r in references], "from_addr": from_address,
                         "from_name": settings.helpdesk.name, "to_addrs": [recipient.lower()], "cc_addrs": [],
                         "subject": rendered.subject, "text": rendered.text, "new_text": "", "html": rendered.html,
                         "source": f"outbox:{template}"[:64], "thread_reason": "outbound", "created_at": now})

    @staticmethod
    async def _write(session: AsyncSession, rows: list[dict], sent: list[dict]) -> list[Outbox]:
        if not rows:
            return []
        # Both written at once, without the ORM: a flush of ORM rows cost about twice a plain INSERT, and
        # SQLite made one INSERT per Outbox row to learn its id. The ids come back with the (unique)
        # Message-IDs, as SQLite returns rows of a multi-row INSERT in no promised order. On the connection,
        # not the session: nothing of the session's needs writing first.
        connection = await session.connection()
        await connection.execute(_INSERT_MESSAGES, sent)
        ids = dict((await connection.execute(_INSERT_OUTBOX, rows)).all())
        automatic = sum(row["automatic"] for row in rows)
        if automatic:  # held_back() made the transaction's tally for their recipients
            session.info[TALLY].count += automatic
        return [Outbox(id=ids[row["message_id"]], **row) for row in rows]
