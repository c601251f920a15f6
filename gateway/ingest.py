"""ingest(raw, source) -> Outcome: the one path every mail takes.

Mails that arrive together are stored together: `ingest()` queues the mail for the group commit,
which runs every mail waiting at that moment through the pipeline in one transaction, each inside
its own savepoint, and commits once. Each caller still gets its own Outcome only after that commit,
so an acknowledgement (SMTP 250, pipe exit 0, IMAP move) still means "committed".
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import Discard, Duplicate, Quarantine, TempFail
from gateway.mail.parse import ParsedMail, ParseLimits, parse
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.pipeline import registry
from gateway.pipeline.context import HISTORY_SOURCE, MailContext, Preparation
from gateway.store.blobs import put_blob, sha256_hex
from gateway.store.counters import bump, kind_of
from gateway.store.db import Database, is_transient, savepoint
from gateway.store.models import QuarantineEntry

log = logging.getLogger(__name__)

MAX_GROUP = 64  # mails per group commit: enough to amortise a commit, small enough to keep latency flat


@dataclass(frozen=True)
class Outcome:
    """What became of one mail. Every status means: committed, safe to acknowledge to the source."""

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
class _Job:
    incoming: Incoming
    digest: str
    mail: ParsedMail | None  # None: unusable, `problem` says why
    problem: str = ""
    prepared: dict = field(default_factory=dict)  # each step's prepare() result, by step name


# Parsing and the steps' pure work run on worker threads, never on the event loop: a 25 MB mail takes
# seconds of CPU, and every SMTP session shares the loop. Each lane is one thread, so mail leaves it
# in the order it arrived (a reply stays behind the mail it answers) and a second thread would win
# nothing (the GIL). Mail from LARGE bytes up has its own lane, so small mail never queues behind a
# big one and only one big mail is parsed at a time.
LARGE = 1 << 20


class Ingestor:
    """Holds what ingest needs; `ingest()` is safe to call concurrently from many transports."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, renderer: Renderer | None = None):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.limits = ParseLimits(**settings.limits.model_dump())
        self.notifier = Notifier(settings=settings, clock=clock, renderer=renderer or Renderer())
        names = settings.pipeline.steps or _default_steps()
        self.steps = registry.build(names)
        self.history_steps = registry.build(tuple(name for name in names if name not in HISTORY_SKIPS))
        self._waiting: list[tuple[_Job, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._small = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare")
        self._large = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-large")

    def close(self) -> None:
        """Let the worker threads go (they end once their current mail is prepared)."""
        self._small.shutdown(wait=False, cancel_futures=True)
        self._large.shutdown(wait=False, cancel_futures=True)

    def ref(self, ticket_id: int) -> str:
        return f"{self.settings.helpdesk.ticket_prefix}-{ticket_id}"

    async def ingest(self, raw: bytes, *, source: str, envelope_from: str | None = None,
                     recipients: Sequence[str] = ()) -> Outcome:
        """Store `raw` and everything it causes; raise TempFail to mean 'try again' (nothing was stored)."""
        item = Incoming(raw, source, envelope_from, tuple(recipients))
        loop = asyncio.get_running_loop()
        job = await loop.run_in_executor(self._large if len(raw) >= LARGE else self._small, self._prepare, item)
        done = loop.create_future()
        self._waiting.append((job, done))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await done

    async def ingest_many(self, items: Sequence[Incoming]) -> list[Outcome]:
        """Store several mails in one transaction, one savepoint each; outcomes in the same order.

        A mail that fails on its own (duplicate, quarantine, a conflict) does not affect the others.
        Raises TempFail when the database cannot take the batch: then none of it is stored.
        """
        jobs = await asyncio.get_running_loop().run_in_executor(
            self._small, lambda: [self._prepare(item) for item in items])
        return await self._store(jobs)

    def _prepare(self, item: Incoming) -> _Job:
        """Hash, parse and each step's pure work, on a worker thread: the writer's time is for writing."""
        digest = sha256_hex(item.raw)
        try:
            mail = parse(item.raw, limits=self.limits)
        except Quarantine as exc:
            return _Job(item, digest, None, exc.reason)
        prep = Preparation(mail=mail, envelope_from=item.envelope_from, recipients=item.recipients,
                           settings=self.settings)
        registry.prepare_all(self.history_steps if item.source == HISTORY_SOURCE else self.steps, prep)
        return _Job(item, digest, mail, prepared=prep.results)

    async def _flush(self) -> None:
        """Store whatever is waiting, group by group, until nothing is; then end (the next mail starts anew)."""
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                try:
                    outcomes = await self._store([job for job, _ in group])
                except BaseException as exc:  # TempFail (or a bug): every caller of this group hears it
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, done), outcome in zip(group, outcomes):
                    if not done.done():  # a caller that gave up (client gone) still had its mail stored
                        done.set_result(outcome)
        finally:
            self._flusher = None

    async def _store(self, jobs: list[_Job], *, retry_alone: bool = True) -> list[Outcome | None]:
        """Outcomes in order; None only with retry_alone=False, for a mail that lost a unique-key race."""
        outcomes: list[Outcome | None] = [None] * len(jobs)
        alone: list[int] = []  # lost a unique-key race to another writer: run again on its own
        async with self.db.transaction() as session:
            now = self.clock.now()
            for index, job in enumerate(jobs):
                reason = job.problem
                if job.mail is not None:
                    try:
                        async with savepoint(session):
                            outcomes[index] = await self._run(session, job, now)
                    except Duplicate as exc:
                        bump(session, "duplicates")
                        if exc.note is not None:  # a copy with bytes of its own: keep them, say where it came from
                            await put_blob(session, job.incoming.raw, job.digest)  # (the savepoint dropped both)
                            session.add(exc.note)
                        outcomes[index] = Outcome(status="duplicate", reason=exc.reason)
                    except Discard as exc:
                        bump(session, "discarded")
                        outcomes[index] = Outcome(status="discarded", reason=exc.reason)
                    except Quarantine as exc:
                        reason = exc.reason
                    except IntegrityError:
                        alone.append(index)
                    except TempFail:
                        raise
                    except Exception as exc:
                        if is_transient(exc):
                            raise  # the transaction maps it to TempFail: nothing of this group is stored
                        # A bug in a step must not lose the mail: keep it for `quarantine retry`.
                        log.exception("ingest failed for %s mail %s", job.incoming.source, job.digest[:12])
                        reason = f"internal error: {type(exc).__name__}: {exc}"
                if reason:
                    try:
                        async with savepoint(session):
                            outcomes[index] = await self._hold(session, job, reason)
                    except IntegrityError:
                        alone.append(index)
        for index in alone if retry_alone else ():
            outcomes[index] = await self._store_alone(jobs[index])
        return outcomes

    async def _store_alone(self, job: _Job) -> Outcome:
        # The next round sees the other writer's committed row, so this mail becomes a duplicate.
        for _ in range(3):
            [outcome] = await self._store([job], retry_alone=False)
            if outcome is not None:
                return outcome
        raise TempFail("conflicting concurrent writes; try again")

    async def _run(self, session: AsyncSession, job: _Job, now) -> Outcome:
        item = job.incoming
        history = item.source == HISTORY_SOURCE
        ctx = MailContext(raw=item.raw, sha256=job.digest, source=item.source, envelope_from=item.envelope_from,
                          recipients=item.recipients, mail=job.mail, session=session, settings=self.settings,
                          clock=self.clock, now=history_time(job.mail, now) if history else now,
                          notifier=self.notifier, prepared=dict(job.prepared))
        await put_blob(session, item.raw, job.digest)
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
        job = _Job(Incoming(raw, source), digest or sha256_hex(raw), None, reason)
        async with self.db.transaction() as session:
            outcome = await self._hold(session, job, reason)
        return outcome

    async def _hold(self, session: AsyncSession, job: _Job, reason: str) -> Outcome:
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


def _default_steps() -> tuple[str, ...]:
    from gateway.pipeline.steps import DEFAULT_STEPS

    return DEFAULT_STEPS
