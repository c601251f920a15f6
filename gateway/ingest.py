"""ingest(raw, source) -> Outcome: the one path every mail takes, and its one transaction."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import Discard, Duplicate, Quarantine, TempFail
from gateway.mail.parse import ParseLimits, parse
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.pipeline import registry
from gateway.pipeline.context import MailContext
from gateway.store.blobs import put_blob, sha256_hex
from gateway.store.counters import bump, kind_of
from gateway.store.db import Database
from gateway.store.models import QuarantineEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one mail. Every status means: committed, safe to acknowledge to the source."""

    status: Literal["stored", "duplicate", "discarded", "quarantined"]
    ticket_ref: str | None = None
    ticket_id: int | None = None
    new_ticket: bool = False
    reason: str = ""  # thread reason, quarantine reason, or why it was a duplicate


class Ingestor:
    """Holds what ingest needs; `ingest()` is safe to call concurrently from many transports."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, renderer: Renderer | None = None,
                 limits: ParseLimits | None = None):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.limits = limits or ParseLimits()
        self.notifier = Notifier(settings=settings, clock=clock, renderer=renderer or Renderer())
        self.steps = registry.build(settings.pipeline.steps or _default_steps())

    def ref(self, ticket_id: int) -> str:
        return f"{self.settings.helpdesk.ticket_prefix}-{ticket_id}"

    async def ingest(self, raw: bytes, *, source: str, envelope_from: str | None = None,
                     recipients: Sequence[str] = ()) -> Outcome:
        """Store `raw` and everything it causes in one transaction; raise TempFail to mean 'try again'.

        source: "smtp", "pipe", "imap:<mailbox name>", "import", "quarantine-retry".
        envelope_from: SMTP MAIL FROM ("" for the null sender), None when unknown.
        recipients: SMTP RCPT TO addresses (used for reply tokens in plus-addresses).
        """
        digest = sha256_hex(raw)
        try:
            mail = parse(raw, limits=self.limits)
        except Quarantine as exc:
            return await self.quarantine(raw, reason=exc.reason, source=source, digest=digest)
        for attempt in range(3):
            try:
                return await self._run(raw, digest, mail, source, envelope_from, tuple(recipients))
            except Duplicate as exc:
                async with self.db.transaction() as session:
                    await bump(session, "duplicates")
                return Outcome(status="duplicate", reason=exc.reason)
            except Discard as exc:
                async with self.db.transaction() as session:
                    await bump(session, "discarded")
                return Outcome(status="discarded", reason=exc.reason)
            except Quarantine as exc:
                return await self.quarantine(raw, reason=exc.reason, source=source, digest=digest)
            except IntegrityError:
                # A concurrent ingest of the same mail won the unique key: the next round sees it as a duplicate.
                if attempt == 2:
                    raise TempFail("conflicting concurrent writes; try again") from None
            except TempFail:
                raise
            except Exception as exc:  # a bug in a step must not lose the mail: keep it for `quarantine retry`
                log.exception("ingest failed for %s mail %s", source, digest[:12])
                return await self.quarantine(raw, reason=f"internal error: {type(exc).__name__}: {exc}",
                                             source=source, digest=digest)
        raise AssertionError("unreachable")

    async def _run(self, raw, digest, mail, source, envelope_from, recipients) -> Outcome:
        async with self.db.transaction() as session:
            now = self.clock.now()
            ctx = MailContext(raw=raw, sha256=digest, source=source, envelope_from=envelope_from,
                              recipients=recipients, mail=mail, session=session, settings=self.settings,
                              clock=self.clock, now=now, notifier=self.notifier)
            await put_blob(session, raw, digest)
            for current in self.steps:
                await current.run(ctx)
            if ctx.auto_reason:
                await bump(session, "loop_guarded")
                await bump(session, f"loop_guarded_by_kind:{kind_of(ctx.auto_reason)}")
        ticket_id = ctx.ticket.id if ctx.ticket else None
        return Outcome(status="stored", ticket_id=ticket_id, ticket_ref=self.ref(ticket_id) if ticket_id else None,
                       new_ticket=ctx.new_ticket, reason=ctx.thread_reason)

    async def quarantine(self, raw: bytes, *, reason: str, source: str, digest: str | None = None) -> Outcome:
        """Keep `raw` whole with its reason; the same bytes quarantined twice are held once."""
        digest = digest or sha256_hex(raw)
        async with self.db.transaction() as session:
            await put_blob(session, raw, digest)
            held = await session.scalar(select(QuarantineEntry).where(QuarantineEntry.raw_sha256 == digest))
            # Counted per mail held, not per delivery attempt of bytes already held.
            newly_held = held is None or held.status == "released"
            if held is None:
                session.add(QuarantineEntry(raw_sha256=digest, reason=reason[:2000], source=source,
                                            status="held", at=self.clock.now()))
            elif held.status == "released":
                held.status, held.reason, held.at = "held", reason[:2000], self.clock.now()
            if newly_held:
                await bump(session, f"quarantined_by_reason:{kind_of(reason)}")
        log.warning("quarantined %s mail %s: %s", source, digest[:12], reason)
        return Outcome(status="quarantined", reason=reason)


def _default_steps() -> tuple[str, ...]:
    from gateway.pipeline.steps import DEFAULT_STEPS

    return DEFAULT_STEPS
