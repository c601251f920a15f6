"""Runs the pipeline's steps over prepared mail inside the caller's transaction, one savepoint per mail."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import Discard, Duplicate, Quarantine, TempFail
from gateway.mail.parse import ParsedMail, ParseLimits
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.pipeline import registry
from gateway.pipeline.context import HISTORY_SOURCE, MailContext
from gateway.store.blobs import put_blob, put_blobs, sha256_hex
from gateway.store.counters import bump, kind_of
from gateway.store.db import Database, is_transient, savepoint
from gateway.store.models import QuarantineEntry

log = logging.getLogger("gateway.ingest")


@dataclass(frozen=True)
class Outcome:
    """What the pipeline made of one spooled mail (stored with its spool row as JSON)."""

    status: Literal["stored", "duplicate", "discarded", "quarantined"]
    ticket_ref: str | None = None
    ticket_id: int | None = None
    new_ticket: bool = False
    reason: str = ""  # thread reason, quarantine reason, or why it was a duplicate


@dataclass(frozen=True)
class Incoming:
    """One mail as a transport hands it over. source: "smtp", "pipe", "imap:<name>", "import", …;
    envelope_from: SMTP MAIL FROM ("" for the null sender, None when unknown); recipients: RCPT TO."""

    raw: bytes
    source: str
    envelope_from: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass
class Job:
    incoming: Incoming
    digest: str
    mail: ParsedMail | None  # None: unusable, `problem` says why
    problem: str = ""
    prepared: dict = field(default_factory=dict)  # each step's prepare() result, by step name


class Redo(Exception):
    """A batch stored without savepoints met a mail that is not simply stored (PipelineRunner._store_in)."""


class PipelineRunner:
    """The steps, built once from config, and how one batch of prepared mail runs through them."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, renderer: Renderer | None = None):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.limits = ParseLimits(**settings.limits.model_dump())
        self.notifier = Notifier(settings=settings, clock=clock, renderer=renderer or Renderer())
        self.steps, self.history_steps = step_lists(settings)

    def ref(self, ticket_id: int) -> str:
        return f"{self.settings.helpdesk.ticket_prefix}-{ticket_id}"

    async def _store_in(self, session: AsyncSession, jobs: list[Job], now: datetime, *,
                        savepoints: bool = True) -> list[Outcome | None]:
        """Each job in its own savepoint; outcomes in order, None for a mail that lost a unique-key race.

        savepoints=False: none (two statements and a flush a mail: about a sixth of a new ticket's CPU in
        bench/drain.py, 6% of an imported mail's in bench/import_history.py); a
        mail that is not simply stored raises Redo, and the caller rolls back and stores the batch with them.
        """
        # Every mail's raw bytes are kept, whatever becomes of it (a duplicate's show the path it took, a
        # quarantined one's are all there is): in one statement, before any savepoint can take them back.
        await put_blobs(session, [(job.incoming.raw, job.digest) for job in jobs])
        if not savepoints:
            return await self._store_all_or_redo(session, jobs, now)
        outcomes: list[Outcome | None] = [None] * len(jobs)
        for index, job in enumerate(jobs):
            reason = job.problem
            if job.mail is not None:
                try:
                    async with savepoint(session):
                        outcomes[index] = await self._run(session, job, now)
                except Duplicate as exc:
                    bump(session, "duplicates")
                    if exc.note is not None:  # a copy with bytes of its own: say where it came from
                        session.add(exc.note)  # (the savepoint dropped the note; the bytes were stored before it)
                    outcomes[index] = Outcome(status="duplicate", reason=exc.reason)
                except Discard as exc:
                    bump(session, "discarded")
                    outcomes[index] = Outcome(status="discarded", reason=exc.reason)
                except Quarantine as exc:
                    reason = exc.reason
                except IntegrityError:
                    continue
                except TempFail:
                    raise
                except Exception as exc:
                    if is_transient(exc):
                        raise  # the transaction maps it to TempFail: nothing of this batch is stored
                    # A bug in a step must not lose the mail: keep it for `quarantine retry`.
                    log.exception("ingest failed for %s mail %s", job.incoming.source, job.digest[:12])
                    reason = f"internal error: {type(exc).__name__}: {exc}"
            if reason:
                try:
                    async with savepoint(session):
                        outcomes[index] = await self._hold(session, job, reason)
                except IntegrityError:
                    pass
        return outcomes

    async def _store_all_or_redo(self, session: AsyncSession, jobs: list[Job], now: datetime) -> list[Outcome | None]:
        outcomes: list[Outcome | None] = []
        for job in jobs:
            if job.mail is None:
                raise Redo(job.problem)
            try:
                outcomes.append(await self._run(session, job, now))
            except TempFail:
                raise
            except Exception as exc:  # Duplicate, Quarantine, a lost race, a bug: each is the savepoints' business
                if is_transient(exc):
                    raise
                raise Redo(f"{type(exc).__name__}: {exc}") from exc
        return outcomes

    async def _run(self, session: AsyncSession, job: Job, now) -> Outcome:
        item = job.incoming
        history = item.source == HISTORY_SOURCE
        ctx = MailContext(raw=item.raw, sha256=job.digest, source=item.source, envelope_from=item.envelope_from,
                          recipients=item.recipients, mail=job.mail, session=session, settings=self.settings,
                          clock=self.clock, now=history_time(job.mail, now) if history else now,
                          notifier=self.notifier, prepared=dict(job.prepared))
        for current in self.history_steps if history else self.steps:
            await current.run(ctx)
        await session.flush()  # inside the savepoint, so a constraint this mail breaks fails this mail only
        if ctx.auto_reason:
            bump(session, "loop_guarded")
            bump(session, f"loop_guarded_by_kind:{kind_of(ctx.auto_reason)}")
        ticket_id = ctx.ticket.id if ctx.ticket else None
        return Outcome(status="stored", ticket_id=ticket_id, ticket_ref=self.ref(ticket_id) if ticket_id else None,
                       new_ticket=ctx.new_ticket, reason=ctx.thread_reason)

    async def quarantine(self, raw: bytes, *, reason: str, source: str, digest: str | None = None) -> Outcome:
        """Keep `raw` whole with its reason; the same bytes quarantined twice are held once."""
        job = Job(Incoming(raw, source), digest or sha256_hex(raw), None, reason)
        async with self.db.transaction() as session:
            outcome = await self._hold(session, job, reason)
        return outcome

    async def _hold(self, session: AsyncSession, job: Job, reason: str) -> Outcome:
        await put_blob(session, job.incoming.raw, job.digest)
        held = await session.scalar(select(QuarantineEntry).where(QuarantineEntry.raw_sha256 == job.digest))
        newly_held = held is None or held.status == "released"  # not a second delivery of bytes held
        if held is None:
            session.add(QuarantineEntry(raw_sha256=job.digest, reason=reason[:2000], source=job.incoming.source,
                                        envelope_from=job.incoming.envelope_from,
                                        recipients=list(job.incoming.recipients), status="held", at=self.clock.now()))
        elif newly_held:
            held.status, held.reason, held.at = "held", reason[:2000], self.clock.now()
        await session.flush()  # inside the caller's savepoint: a conflict fails this mail only
        if newly_held:
            bump(session, f"quarantined_by_reason:{kind_of(reason)}")
        log.warning("quarantined %s mail %s: %s", job.incoming.source, job.digest[:12], reason)
        return Outcome(status="quarantined", reason=reason)


# Imported history is stored and threaded, never acted on: a late reply stays on its thread (reopen),
# an old "/resolve" is no order and old tickets get no SLA clock (commands), nothing is sent (notify).
HISTORY_SKIPS = frozenset({"reopen", "commands", "notify"})


def history_time(mail: ParsedMail, now: datetime) -> datetime:
    """When imported history happened: its Date header, unless missing, in the future or before 1990."""
    date = mail.date
    if date is None or date.tzinfo is None or not _EARLIEST <= date <= now:
        return now
    return date


_EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)


def step_lists(settings: Settings) -> tuple[list, list]:
    """The configured steps, built, and those of them imported history runs."""
    names = settings.pipeline.steps or _default_steps()
    return registry.build(names), registry.build(tuple(name for name in names if name not in HISTORY_SKIPS))


def _default_steps() -> tuple[str, ...]:
    from gateway.pipeline.steps import DEFAULT_STEPS

    return DEFAULT_STEPS
