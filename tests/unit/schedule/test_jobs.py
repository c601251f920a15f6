"""run_jobs (behind `gateway jobs run`) and the APScheduler wiring used by `gateway serve`."""
from __future__ import annotations

import asyncio

import pytest

from gateway.clock import FixedClock
from gateway.schedule.jobs import run_jobs, start_scheduler, stop_scheduler
from tests.unit.schedule.helpers import ticket, utc


class Capture:
    """A transport that keeps what it is given."""

    def __init__(self):
        self.sent: list[str] = []

    async def send(self, *, envelope_from: str, recipient: str, raw: bytes) -> None:
        self.sent.append(recipient)


async def test_run_all_as_of_a_time(settings_factory, db):
    settings = settings_factory(digest={"recipients": ["frontdesk@example.com"]})
    async with db.transaction() as session:
        session.add(ticket(settings, utc("2026-01-05 09:00")))
    transport = Capture()
    done = await run_jobs("all", settings=settings, db=db, clock=FixedClock(utc("2026-01-05 13:30")),
                          transport=transport)
    assert done["sla"]["breached"] == [1] and done["digest"] == {"sent_for": "2026-01-05"}
    # the outbox ran first, before the sweep and digest queued anything
    assert done["outbox"] == {"sent": 0, "retried": 0, "failed": 0}
    done = await run_jobs("outbox", settings=settings, db=db, clock=FixedClock(utc("2026-01-05 13:31")),
                          transport=transport)
    assert done["outbox"]["sent"] == 2 and sorted(transport.sent) == ["frontdesk@example.com", "ops-director@example.com"]


async def test_unknown_job_is_refused(settings_factory, db):
    with pytest.raises(ValueError, match="unknown job 'coffee'"):
        await run_jobs("coffee", settings=settings_factory(), db=db, clock=FixedClock())


async def test_scheduler_starts_and_stops(settings_factory, db):
    scheduler = start_scheduler(settings=settings_factory(), db=db, clock=FixedClock())
    # classifier: the nightly training at [classify] train_at
    assert {job.id for job in scheduler.get_jobs()} == {"sla", "digest", "classifier"}
    await stop_scheduler(scheduler)
    await asyncio.sleep(0.05)  # AsyncIOScheduler shuts down on its loop's next turn
    assert not scheduler.running


def test_cli_jobs_run_as_of(tmp_path, capsys):
    import json

    from gateway.cli import EXIT_USAGE, main

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/g.db"\n'
                      f'[outbound]\nmaildir = "{tmp_path}/out"\n')
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "jobs", "run", "digest", "--as-of", "2026-01-05T08:00:00+00:00",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"digest": {"sent_for": "2026-01-05"}}
    assert main(["--config", str(config), "jobs", "run", "sla", "--as-of", "yesterday"]) == EXIT_USAGE
    assert "--as-of 'yesterday': not an ISO time" in capsys.readouterr().err


async def test_a_tick_is_claimed_once_whoever_asks(any_db):
    from gateway.schedule.jobs import claim_tick
    from gateway.store.db import Database

    other = Database(any_db.url, schema=any_db.schema)  # a second instance's own connections
    try:
        at = utc("2026-01-05 09:00").replace(second=10)
        claims = await asyncio.gather(*(claim_tick(db, "sla", at, 60) for db in (any_db, other) for _ in range(3)))
        assert sorted(claims) == [False] * 5 + [True]
        later_same_minute = at.replace(second=50)
        assert not await claim_tick(other, "sla", later_same_minute, 60)
        assert await claim_tick(other, "sla", at.replace(minute=1), 60)
        assert await claim_tick(any_db, "digest-check", at, 60)  # ticks are per job
    finally:
        await other.dispose()


async def test_the_scheduler_sweeps_at_start_not_a_minute_later(settings_factory, db):
    from sqlalchemy import select

    from gateway.store.models import JobRun

    scheduler = start_scheduler(settings=settings_factory(), db=db, clock=FixedClock())

    async def claimed() -> list[str]:
        async with db.transaction() as session:
            return (await session.scalars(select(JobRun.job))).all()

    try:
        for _ in range(100):
            if len(await claimed()) == 2:
                break
            await asyncio.sleep(0.05)
        # 09:00 on a Monday: the 07:30 digest is due too, and goes out at start.
        assert sorted(await claimed()) == ["digest", "sla"]
    finally:
        await stop_scheduler(scheduler)


async def test_stopping_waits_for_a_running_job_then_cancels_it(settings_factory, db, monkeypatch):
    from gateway.schedule.sla import Sweeper

    started, finished = asyncio.Event(), []

    async def stuck_sweep(self):
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            finished.append("sweep")

    monkeypatch.setattr(Sweeper, "sweep", stuck_sweep)
    scheduler = start_scheduler(settings=settings_factory(), db=db, clock=FixedClock())
    await asyncio.wait_for(started.wait(), 10)
    assert len(scheduler.running_jobs) == 1
    await stop_scheduler(scheduler, grace=0.2)
    # Ended before stop returned, so serve can close the database next without a job still using it.
    assert finished == ["sweep"] and not scheduler.running_jobs


@pytest.fixture
def restore_log_levels():
    import logging

    levels = {name: logging.getLogger(name).level for name in ("mail.log", "apscheduler")}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_serves_log_has_no_line_per_job_run(settings_factory, db, caplog, restore_log_levels):
    """APScheduler says "Running job…" and "…executed successfully" at INFO every minute per job."""
    import logging

    from sqlalchemy import select

    from gateway.app import setup_logging
    from gateway.store.models import JobRun

    settings = settings_factory()
    caplog.set_level(logging.INFO)  # as in serve with the default [logging] level
    setup_logging(settings)
    scheduler = start_scheduler(settings=settings, db=db, clock=FixedClock())
    try:
        for _ in range(100):
            async with db.transaction() as session:
                if len((await session.scalars(select(JobRun.job))).all()) == 2:
                    break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # the executor logs "executed successfully" after the job returns
    finally:
        await stop_scheduler(scheduler)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")] == []
    assert logging.getLogger("apscheduler").isEnabledFor(logging.WARNING)
