"""APScheduler wiring for `gateway serve`, and `gateway jobs run` to do the same work once, now."""
from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete

from gateway.clock import Clock
from gateway.config import Settings
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.schedule.digest import run_digest
from gateway.schedule.sla import Sweeper
from gateway.store.db import Database, insert_ignoring_conflicts
from gateway.store.models import JobRun

log = logging.getLogger(__name__)

# spool first: mail piped in while no serve ran is processed, and its acknowledgements sent, in one run.
JOBS = ("spool", "outbox", "sla", "digest")
SWEEP_SECONDS = 60
# The digest job looks every minute: it fires at the first look after [digest] time on a working
# day, and the unique JobRun (job, period) row makes every later look (any instance) a no-op.
DIGEST_CHECK_SECONDS = 60


async def run_jobs(which: str, *, settings: Settings, db: Database, clock: Clock, transport=None) -> dict[str, Any]:
    """Run one job ("spool", "outbox", "sla", "digest") or "all" once, as of clock.now(); returns what each did.

    run_jobs("sla", ...) -> {"sla": {"checked": 3, "warned": [1], "breached": [2], "stalled": []}}
    """
    names = JOBS if which == "all" else (which,)
    done: dict[str, Any] = {}
    for name in names:
        if name == "spool":
            from gateway.ingest import Ingestor

            ingestor = Ingestor(settings=settings, db=db, clock=clock)
            try:
                outcomes = await ingestor.drain()
            finally:
                ingestor.close()
            done["spool"] = {"processed": len(outcomes)}
        elif name == "sla":
            sweep = await Sweeper(settings=settings, db=db, clock=clock,
                                  notifier=Notifier(settings=settings, clock=clock, renderer=Renderer())).sweep()
            done["sla"] = {"checked": sweep.checked, "warned": sweep.warned, "breached": sweep.breached,
                           "stalled": sweep.stalled}
        elif name == "digest":
            done["digest"] = {"sent_for": await run_digest(db, settings=settings, clock=clock)}
        elif name == "classifier":
            from gateway.triage.learn import train_from_desk

            done["classifier"] = await train_from_desk(db, settings=settings, now=clock.now())
        elif name == "outbox":
            from gateway.notify.send import OutboxSender, transport_for

            sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport or transport_for(settings))
            total = {"sent": 0, "retried": 0, "failed": 0}
            while True:
                result = await sender.drain_once()
                for key in total:
                    total[key] += getattr(result, key)
                if result.sent + result.retried + result.failed < settings.outbound.batch_size:
                    break
            done["outbox"] = total
        else:
            raise ValueError(f"unknown job {name!r}; choose one of {', '.join(JOBS)}, classifier or all")
    return done


async def claim_tick(db: Database, job: str, now: datetime, seconds: int) -> bool:
    """True for the one instance, of all sharing the database, that claims this tick of `job`.

    A tick is `now` floored to `seconds`; instances whose schedulers started at different moments
    still meet in the same tick. Claims older than a day are dropped as new ones are made.
    """
    epoch = int(now.timestamp()) // seconds * seconds
    period = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
    async with db.transaction() as session:
        claimed = await session.execute(
            insert_ignoring_conflicts(session, JobRun).values(job=job, period=period, at=now))
        if claimed.rowcount != 1:
            return False
        await session.execute(delete(JobRun).where(JobRun.job == job, JobRun.at < now - timedelta(days=1)))
        return True


def start_scheduler(*, settings: Settings, db: Database, clock: Clock) -> GatewayScheduler:
    """Start the SLA sweep and digest jobs on the running loop (the outbox has its own sender task)."""
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    sweeper = Sweeper(settings=settings, db=db, clock=clock, notifier=notifier)

    async def sla_job() -> None:
        try:
            if not await claim_tick(db, "sla", clock.now(), SWEEP_SECONDS):
                return  # another instance sweeps this minute
            result = await sweeper.sweep()
            if result.warned or result.breached or result.stalled:
                log.info("sla: %d warned, %d breached, %d stalled", len(result.warned), len(result.breached),
                         len(result.stalled))
        except Exception:  # the next run tries again; a failed sweep fired nothing (one transaction per batch)
            log.exception("sla sweep failed")

    async def digest_job() -> None:
        try:
            period = await run_digest(db, settings=settings, clock=clock)
            if period:
                log.info("digest for %s queued", period)
        except Exception:
            log.exception("digest failed")

    async def classifier_job() -> None:
        from gateway.triage.learn import train_from_desk

        try:
            if not await claim_tick(db, "classifier", clock.now(), 3600):
                return  # another instance trains this night
            result = await train_from_desk(db, settings=settings, now=clock.now())
            log.info("classifier: %s", result.get("summary", result))
        except Exception:  # the model in use stays; the next night tries again
            log.exception("classifier training failed")

    scheduler = GatewayScheduler(timezone="UTC")
    # max_instances=1 + coalesce: a slow sweep is never run twice at once nor caught up in a burst.
    # The first run is at start: a digest or a breach missed while the gateway was down goes out now.
    first = datetime.now(timezone.utc)
    scheduler.add_job(scheduler.tracked(sla_job), "interval", seconds=SWEEP_SECONDS, id="sla", max_instances=1,
                      coalesce=True, next_run_time=first)
    scheduler.add_job(scheduler.tracked(digest_job), "interval", seconds=DIGEST_CHECK_SECONDS, id="digest",
                      max_instances=1, coalesce=True, next_run_time=first)
    if settings.classify.use_model and settings.classify.train_at:
        hour, minute = map(int, settings.classify.train_at.split(":"))
        scheduler.add_job(scheduler.tracked(classifier_job), "cron", hour=hour, minute=minute,
                          timezone=settings.business.timezone, id="classifier", max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


class GatewayScheduler(AsyncIOScheduler):
    """An AsyncIOScheduler that knows which of its jobs are running, so they can end before the database closes."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.running_jobs: set[asyncio.Task] = set()

    def tracked(self, job):
        @functools.wraps(job)
        async def run() -> None:
            task = asyncio.current_task()
            self.running_jobs.add(task)
            try:
                await job()
            finally:
                self.running_jobs.discard(task)
        return run


async def stop_scheduler(scheduler: GatewayScheduler | None, *, grace: float = 10.0) -> None:
    """Stop the timers, then give running jobs `grace` seconds before cancelling them (a cancelled job's
    transaction rolls back and its next tick does the work). serve closes the database next, and a
    job must not be left running on a closed engine."""
    if scheduler is None:
        return
    if scheduler.running:
        scheduler.shutdown(wait=False)
    if scheduler.running_jobs:
        _, late = await asyncio.wait(set(scheduler.running_jobs), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
