"""serve(): one event loop running the SMTP listener, IMAP pollers, outbox sender and scheduler."""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Mapping

from gateway.clock import Clock, SystemClock
from gateway.handoff.keys import tracker_keys
from gateway.config import Settings
from gateway.ingest import Ingestor
from gateway.ingest_timings import IngestTimings
from gateway.inbound.smtp import start_listener, stop_listener
from gateway.notify.send import OutboxSender, transport_for
from gateway.prepare_pool import pool_size
from gateway.spool_worker import run_spool_worker
from gateway.schedule.jobs import start_scheduler, stop_scheduler
from gateway.store.db import describe
from gateway.store.migrate import upgrade

log = logging.getLogger("gateway")
QUIET_LOGGERS = ("mail.log", "apscheduler")


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.logging.level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every SMTP verb at INFO, APScheduler two lines per job run (every minute): keep the
    # log about mail and what an operator must act on; their warnings and errors still show.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))


async def serve(settings: Settings, *, environ: Mapping[str, str], clock: Clock | None = None,
                stop: asyncio.Event | None = None, ready: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), then finish mail in flight and exit cleanly."""
    setup_logging(settings)
    clock = clock or SystemClock()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests run serve in a task)
            pass
    keys = tracker_keys(settings.trackers, environ)  # a tracker's token not set: say so before listening
    db = settings.open_database()
    server = handler = None
    try:
        await upgrade(db)
        # Started before the listener: the worker processes load their models while nothing waits for them.
        ingestor = Ingestor(settings=settings, db=db, clock=clock,
                            processes=pool_size(settings.spool.prepare_processes))
        # Composing notifications in the preparation worker (when there is one) rather than on a thread here:
        # 0.57-0.65 ms of this process's CPU per mail instead of 1.28-1.49 (bench/outbox_compose.py).
        sender = OutboxSender(settings=settings, db=db, clock=clock, transport=transport_for(settings),
                              composer=ingestor.composer)
        trackers = tracker_sender(settings=settings, db=db, clock=clock, keys=keys, notifier=ingestor.notifier)
        wake = sender.wake if trackers is None else lambda: (sender.wake(), trackers.wake())

        timings = IngestTimings()
        # SMTP answers 250 once the mail is in the spool; the spool worker (below) runs the pipeline.
        server, handler = await start_listener(ingest=timings.timed("smtp", ingestor.accept), config=settings.smtp,
                                                   sessions=ingestor.sessions)
        web = await start_web_if_enabled(settings=settings, db=db, clock=clock, ingestor=ingestor,
                                         wake=wake, smtp_up=server.is_serving, timings=timings, tracker_keys=keys)
    except BaseException:
        if server is not None:  # the web address was taken: let go of the SMTP port too
            await stop_listener(server, handler)
        await db.dispose()
        raise
    tasks = [asyncio.create_task(sender.run(stop), name="outbox")]
    if trackers is not None:
        tasks.append(asyncio.create_task(trackers.run(stop), name="handoff"))
    # Draining at start too: mail accepted before a crash (kill -9) is processed now. The sender sleeps
    # poll_seconds between drains; a drain that stored mail usually left rows to send now.
    tasks.append(asyncio.create_task(run_spool_worker(ingestor=ingestor, clock=clock, config=settings.spool,
                                                      stop=stop, on_stored=wake), name="spool"))
    scheduler = start_scheduler(settings=settings, db=db, clock=clock)
    tasks += background_tasks(settings=settings, ingestor=ingestor, db=db, clock=clock, stop=stop,
                              environ=environ)
    address = ", ".join(f"{s.getsockname()[0]}:{s.getsockname()[1]}" for s in server.sockets)
    log.info("serving: SMTP on %s, database %s, outbound %s", address, describe(settings.database_url),
             settings.outbound.mode)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
        log.info("stopping: finishing mail in flight")
    finally:
        await stop_listener(server, handler)
        if web is not None:
            await web.stop()
        await stop_scheduler(scheduler)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        ingestor.close()
        await db.dispose()
        log.info("stopped")


async def start_web_if_enabled(*, settings, db, clock, ingestor, wake, smtp_up, timings, tracker_keys):
    """The web face on this loop when [web] enabled; imported only then (Starlette, uvicorn, argon2)."""
    if not settings.web.enabled:
        return None
    from gateway.web.run import start_web

    return await start_web(settings=settings, db=db, clock=clock, ingestor=ingestor, wake=wake, smtp_up=smtp_up,
                           timings=timings, tracker_keys=tracker_keys)


def tracker_sender(*, settings, db, clock, keys, notifier):
    """The hand-off sender when [[trackers]] are configured (httpx is imported only then)."""
    if not settings.trackers:
        return None
    from gateway.handoff.send import TrackerSender

    return TrackerSender(settings=settings, db=db, clock=clock, keys=keys, notifier=notifier)


def background_tasks(*, settings, ingestor, db, clock, stop, environ) -> list[asyncio.Task]:
    """IMAP pollers and the scheduler, each only when its module is configured."""
    tasks = []
    if settings.mailboxes:
        from gateway.inbound.imap import run_pollers

        tasks.append(asyncio.create_task(run_pollers(settings=settings, ingestor=ingestor, db=db, clock=clock,
                                                     stop=stop, environ=environ), name="imap"))
    return tasks
