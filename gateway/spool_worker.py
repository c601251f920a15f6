"""serve's spool worker: drains the inbound spool at start, whenever mail is accepted, and every poll."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Callable

from gateway.clock import Clock, wait_any
from gateway.config import SpoolConfig
from gateway.errors import TempFail
from gateway.ingest import Ingestor
from gateway.store.planner import Growth
from gateway.store.spool import SpoolStatus

log = logging.getLogger(__name__)

WARN_CHECK_SECONDS = 60.0  # how often the age of the oldest pending mail is looked at


async def run_spool_worker(*, ingestor: Ingestor, clock: Clock, config: SpoolConfig, stop: asyncio.Event,
                           on_stored: Callable[[], None]) -> None:
    """Drain until `stop`; `on_stored` is called after each batch that stored mail (it wakes the outbox sender)."""
    next_check = 0.0
    growth = Growth(ingestor.db)  # PostgreSQL's plans as the tables grow (gateway/store/planner.py)
    while not stop.is_set():
        ingestor.spooled.clear()  # before draining: mail accepted meanwhile sets it again
        try:
            await growth.add(len(await ingestor.drain(stop=stop, give_way=True, on_stored=on_stored)))
        except TempFail as exc:
            log.warning("spool drain failed, the mail waits in the spool; retrying in %.0f s: %s",
                        config.poll_seconds, exc)
        except Exception:  # a bug outside the per-mail boundary that retrying each row alone did not catch
            log.exception("spool drain failed, the mail waits in the spool; retrying in %.0f s", config.poll_seconds)
        if time.monotonic() >= next_check:  # a duration, not a moment: the Clock is for moments
            next_check = time.monotonic() + min(WARN_CHECK_SECONDS, config.warn_after_seconds / 2)
            await warn_if_behind(ingestor, clock=clock, warn_after=config.warn_after_seconds)
            await prune_done(ingestor, clock=clock, keep_days=config.keep_days)
        await wait_any(ingestor.spooled, stop, timeout=config.poll_seconds)


async def warn_if_behind(ingestor: Ingestor, *, clock: Clock, warn_after: float) -> SpoolStatus | None:
    """Log a warning when the oldest pending mail is older than `warn_after` seconds; the status read."""
    try:
        state = await ingestor.spool.status(clock.now())
    except TempFail as exc:
        log.warning("spool status unavailable: %s", exc)
        return None
    if state.oldest_pending_seconds is not None and state.oldest_pending_seconds > warn_after:
        log.warning("spool: the oldest accepted mail has waited %.0f s for the pipeline (%d pending; bound "
                    "spool.warn_after_seconds = %.0f): see the errors above and `gateway spool status`",
                    state.oldest_pending_seconds, state.depth, warn_after)
    return state


async def prune_done(ingestor: Ingestor, *, clock: Clock, keep_days: float) -> int:
    """Delete spool rows done more than `keep_days` ago; how many (0 when the database is away)."""
    try:
        return await ingestor.spool.prune(clock.now() - timedelta(days=keep_days))
    except TempFail as exc:
        log.warning("spool prune skipped: %s", exc)
        return 0
