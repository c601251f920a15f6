"""The inbound spool (invariant 1), on SQLite and PostgreSQL: accepted means committed to the spool; the
drain processes it in arrival order, a batch per transaction; a poison mail is held and blocks nothing."""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from gateway.clock import FixedClock
from gateway.errors import TempFail
from gateway.ingest import Ingestor
from gateway.spool_worker import prune_done, warn_if_behind
from gateway.store import spool
from gateway.store.db import Database
from gateway.store.models import Blob, Message, QuarantineEntry, SpoolEntry, Ticket
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start


async def rows(db, model, *where) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_accept_commits_the_mail_to_the_spool_and_stores_nothing_yet(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    raw = make_mail(subject="Accepted").as_bytes()
    spool_id = await ingestor.accept(raw, source="smtp", envelope_from="customer@example.org",
                                     recipients=["ihelp@example.com"])
    async with any_db.transaction() as session:
        entry = await session.get(SpoolEntry, spool_id)
        assert (entry.status, entry.source, entry.envelope_from, entry.recipients) == (
            "pending", "smtp", "customer@example.org", ["ihelp@example.com"])
        assert await session.scalar(select(Blob.data).where(Blob.sha256 == entry.raw_sha256)) == raw
    assert await rows(any_db, Ticket) == 0  # accepted, not yet processed
    done = await ingestor.drain()
    assert [outcome.status for outcome in done.values()] == ["stored"] and list(done) == [spool_id]
    async with any_db.transaction() as session:
        entry = await session.get(SpoolEntry, spool_id)
        assert entry.status == "done" and entry.outcome["ticket_ref"] == "HD-1" and entry.processed_at is not None


async def test_the_drain_keeps_arrival_order_so_a_reply_threads_onto_its_parent(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    first = make_mail(subject="Scanner offline")
    reply = make_mail(subject="Re: Scanner offline", In_Reply_To=first["Message-ID"])
    ids = [await ingestor.accept(m.as_bytes(), source="smtp", envelope_from="customer@example.org")
           for m in (first, reply)]
    done = await ingestor.drain()
    assert done[ids[0]].new_ticket and not done[ids[1]].new_ticket
    assert done[ids[0]].ticket_id == done[ids[1]].ticket_id


async def test_a_stopping_serve_leaves_the_rest_of_a_backlog_for_its_next_start(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    ids = [await ingestor.accept(make_mail(subject=f"n{n}").as_bytes(), source="smtp") for n in range(3)]
    stop = asyncio.Event()
    stop.set()
    assert await ingestor.drain(stop=stop) == {}
    assert await rows(any_db, SpoolEntry, SpoolEntry.status == "pending") == 3
    assert sorted(await ingestor.drain()) == ids


async def test_a_failing_spool_write_accepts_nothing(any_db, settings_factory, clock, monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)

    async def disk_full(*args, **kwargs):
        raise OperationalError("INSERT INTO spool", {}, Exception("database or disk is full"))

    monkeypatch.setattr(spool, "write", disk_full)
    with pytest.raises(TempFail):
        await ingestor.accept(make_mail().as_bytes(), source="smtp")
    assert [await rows(any_db, model) for model in (SpoolEntry, Blob, Message)] == [0, 0, 0]


async def test_smtp_answers_250_once_spooled_and_451_when_the_spool_write_fails(settings_factory, relay,
                                                                                 monkeypatch):
    settings = settings_factory(smtp={"port": free_port()}, outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)
    db = running.database()
    try:
        code, text = await asend(running.port, make_mail(subject="Spooled"))
        assert code == 250 and text.startswith(b"2.0.0 OK queued as ")
        spool_id = int(text.rsplit(b" ", 1)[1])
        async with db.transaction() as session:  # another connection sees it: committed before the 250
            assert (await session.get(SpoolEntry, spool_id)) is not None

        original = spool.write

        async def disk_full(*args, **kwargs):
            raise OperationalError("INSERT INTO spool", {}, Exception("database or disk is full"))

        monkeypatch.setattr(spool, "write", disk_full)
        code, text = await asend(running.port, make_mail(subject="Not spooled"))
        assert code == 451, text
        monkeypatch.setattr(spool, "write", original)
        await running.drained()
        async with db.transaction() as session:
            subjects = (await session.scalars(select(Message.subject).where(Message.direction == "in"))).all()
        assert subjects == ["Spooled"] and await rows(db, SpoolEntry) == 1
    finally:
        await db.dispose()
        await running.shutdown()


async def test_a_poison_mail_is_held_whole_and_does_not_block_the_rows_after_it(any_db, settings_factory, clock,
                                                                                 monkeypatch, caplog):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    original = Ingestor._store_in

    async def fails_outside_the_savepoints(self, session, jobs, now):
        # A bug around the per-mail boundary: the whole batch's transaction fails, whatever else it holds.
        if any(job.mail is not None and job.mail.subject == "Poison" for job in jobs):
            raise RuntimeError("a bug outside the per-mail boundary")
        return await original(self, session, jobs, now)

    monkeypatch.setattr(Ingestor, "_store_in", fails_outside_the_savepoints)
    mails = [make_mail(subject=s).as_bytes() for s in ("Before", "Poison", "After 1", "After 2")]
    ids = [await ingestor.accept(raw, source="smtp") for raw in mails]
    with caplog.at_level(logging.ERROR):
        done = await ingestor.drain()

    assert [done[i].status for i in ids] == ["stored", "quarantined", "stored", "stored"]
    assert "internal error: RuntimeError: a bug outside the per-mail boundary" in done[ids[1]].reason
    assert "retrying them one by one" in caplog.text
    async with any_db.transaction() as session:
        [held] = (await session.scalars(select(QuarantineEntry))).all()
        assert await session.scalar(select(Blob.data).where(Blob.sha256 == held.raw_sha256)) == mails[1]
        assert held.source == "smtp"
        statuses = (await session.scalars(select(SpoolEntry.status).order_by(SpoolEntry.id))).all()
    assert statuses == ["done"] * 4 and await rows(any_db, Ticket) == 3
    assert await ingestor.drain() == {}  # nothing left to run, nothing runs twice


async def test_database_trouble_in_a_batch_leaves_its_rows_pending_for_the_next_drain(any_db, settings_factory,
                                                                                       clock, monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    ids = [await ingestor.accept(make_mail(subject=f"n{n}").as_bytes(), source="smtp") for n in range(3)]
    original = spool.finish

    async def gone(*args, **kwargs):
        raise OperationalError("UPDATE spool", {}, Exception("disk I/O error"))

    monkeypatch.setattr(spool, "finish", gone)
    with pytest.raises(TempFail):
        await ingestor.drain()
    assert await rows(any_db, Ticket) == 0 and await rows(any_db, SpoolEntry, SpoolEntry.status == "pending") == 3
    monkeypatch.setattr(spool, "finish", original)
    done = await ingestor.drain()
    assert sorted(done) == ids and await rows(any_db, Ticket) == 3


async def test_two_instances_on_postgresql_never_process_a_row_twice(pg_db, settings_factory, clock, monkeypatch):
    settings = settings_factory()
    runs: collections.Counter = collections.Counter()
    original = Ingestor._run

    async def counted(self, session, job, now):
        runs[job.digest] += 1  # the pipeline ran for this mail (dedupe would hide a second run's result)
        return await original(self, session, job, now)

    monkeypatch.setattr(Ingestor, "_run", counted)
    other_db = Database(pg_db.url, schema=pg_db.schema)
    first = Ingestor(settings=settings, db=pg_db, clock=clock)
    second = Ingestor(settings=settings, db=other_db, clock=clock)
    try:
        mails = [make_mail(sender=f"user{n}@example.org", subject=f"Problem {n}").as_bytes() for n in range(150)]
        ids = [await first.accept(raw, source="smtp") for raw in mails[:75]]
        ids += [await second.accept(raw, source="smtp") for raw in mails[75:]]
        results = await asyncio.gather(first.drain(), second.drain(), first.drain(), second.drain())
        processed = [spool_id for done in results for spool_id in done]
        assert sorted(processed) == ids  # each row by exactly one drain
        assert all(o.status == "stored" for done in results for o in done.values())
        assert len(runs) == 150 and set(runs.values()) == {1}
        assert await rows(pg_db, Ticket) == 150 and await rows(pg_db, Message, Message.direction == "in") == 150
        assert await rows(pg_db, SpoolEntry, SpoolEntry.status == "pending") == 0
    finally:
        first.close()
        second.close()
        await other_db.dispose()


async def test_ingest_waits_for_a_row_another_drainer_processes(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    raws = [make_mail(subject=f"m{n}").as_bytes() for n in range(5)]
    # serve's worker and direct callers (IMAP, the web page) share one drain at a time, and each
    # caller still gets the outcome of its own mail.
    outcomes = await asyncio.gather(ingestor.drain(), *(ingestor.ingest(raw, source="test") for raw in raws),
                                    ingestor.drain())
    assert sorted(o.ticket_id for o in outcomes[1:-1]) == [1, 2, 3, 4, 5]
    assert await rows(any_db, SpoolEntry, SpoolEntry.status == "done") == 5


async def test_status_and_the_warning_when_the_oldest_mail_waits_too_long(db, settings_factory, clock, caplog):
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    for n in range(2):
        await ingestor.accept(make_mail(subject=f"Waiting {n}").as_bytes(), source="smtp")
    later = FixedClock(clock.now() + timedelta(seconds=400))
    with caplog.at_level(logging.WARNING):
        state = await warn_if_behind(ingestor, clock=later, warn_after=300)
    assert (state.depth, state.oldest_pending_seconds, state.done_last_minute) == (2, 400, 0)
    assert "the oldest accepted mail has waited 400 s" in caplog.text
    await Ingestor(settings=settings_factory(), db=db, clock=later).drain()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        state = await warn_if_behind(ingestor, clock=later, warn_after=300)
    assert state.as_dict() == {"depth": 0, "oldest_pending_seconds": None, "done_last_minute": 2,
                               "done_last_hour": 2}
    assert caplog.text == ""
    # Done rows are forgotten after spool.keep_days; the mail itself stays.
    assert await prune_done(ingestor, clock=FixedClock(later.now() + timedelta(days=6)), keep_days=7) == 0
    assert await prune_done(ingestor, clock=FixedClock(later.now() + timedelta(days=8)), keep_days=7) == 2
    assert await rows(db, SpoolEntry) == 0 and await rows(db, Ticket) == 2


def test_spool_status_command(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n[digest]\nrecipients = []\n')

    def gateway(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                              capture_output=True, timeout=60, text=True)

    assert gateway("db", "upgrade").returncode == 0
    assert json.loads(gateway("spool", "status", "--json").stdout) == {
        "depth": 0, "oldest_pending_seconds": None, "done_last_minute": 0, "done_last_hour": 0}
    # `gateway ingest` with no serve running spools the mail and drains it itself.
    piped = subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), "ingest"],
                           input=make_mail().as_bytes(), capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    result = gateway("spool", "status")
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["pending: 0", "oldest pending: -", "done in the last minute: 1",
                                          "done in the last hour: 1"]


async def test_a_row_that_keeps_losing_unique_key_races_is_held_not_retried_for_ever(any_db, settings_factory, clock,
                                                                                      monkeypatch):
    from sqlalchemy.exc import IntegrityError

    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    original = Ingestor._run

    async def always_conflicts(self, session, job, now):
        if job.mail.subject == "Conflicted":
            raise IntegrityError("INSERT INTO messages", {}, Exception("UNIQUE constraint failed"))
        return await original(self, session, job, now)

    monkeypatch.setattr(Ingestor, "_run", always_conflicts)
    conflicted = await ingestor.accept(make_mail(subject="Conflicted").as_bytes(), source="smtp")
    fine = await ingestor.accept(make_mail(subject="Fine").as_bytes(), source="smtp")
    done: dict = {}
    for _ in range(4):  # each drain leaves it pending once more (the next may see the other writer's row)
        done.update(await ingestor.drain())
    assert done[fine].status == "stored"
    assert done[conflicted].status == "quarantined" and "conflicting concurrent writes" in done[conflicted].reason
    assert await rows(any_db, SpoolEntry, SpoolEntry.status == "pending") == 0
