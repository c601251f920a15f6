"""The inbound spool (invariant 1), on SQLite and PostgreSQL: accepted means committed to the spool; the
drain processes it in arrival order, a batch per transaction; a poison mail is held and blocks nothing."""
from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import os
import logging
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from gateway.clock import FixedClock
from gateway.errors import TempFail
from gateway.ingest import BATCH, Incoming, Ingestor
from gateway.spool_worker import prune_done, warn_if_behind
from gateway.store import spool_file
from gateway.store.db import Database
from gateway.store.models import Blob, Message, QuarantineEntry, Ticket
from gateway.store.spool import Spooled
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start


async def rows(db, model, *where) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def pending(db) -> int:
    return (await db.spool.status(FixedClock().now())).depth


async def spooled(db, spool_id):
    """The pending spool row `spool_id` as the drain reads it, or None."""
    return next((row for row in await db.spool.pending(limit=1000, max_bytes=1 << 30, known={})
                 if row.id == spool_id), None)


async def spool_write_fails(db, monkeypatch) -> None:
    """Every spool write from now on fails as a full disk does, in the spool's own home."""
    if db.spool_path:  # SQLite: the spool file
        def full(*args, **kwargs):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(spool_file, "write", full)
        return
    # PostgreSQL: the server itself refuses the spool table's INSERT with a full disk's SQLSTATE (the
    # trigger goes with the test's throwaway schema).
    async with db.transaction() as session:
        await session.execute(text(
            "CREATE FUNCTION spool_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'database or disk is full' USING ERRCODE = 'disk_full'; END $$"))
        await session.execute(text("CREATE TRIGGER spool_disk_full BEFORE INSERT ON spool "
                                   "FOR EACH STATEMENT EXECUTE FUNCTION spool_disk_full()"))


async def test_accept_commits_the_mail_to_the_spool_and_stores_nothing_yet(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    raw = make_mail(subject="Accepted").as_bytes()
    spool_id = await ingestor.accept(raw, source="smtp", envelope_from="customer@example.org",
                                     recipients=["ihelp@example.com"])
    entry = await spooled(any_db, spool_id)
    assert (entry.source, entry.envelope_from, entry.recipients, entry.raw) == (
        "smtp", "customer@example.org", ("ihelp@example.com",), raw)
    assert await rows(any_db, Ticket) == 0 and await pending(any_db) == 1  # accepted, not yet processed
    done = await ingestor.drain()
    assert [outcome.status for outcome in done.values()] == ["stored"] and list(done) == [spool_id]
    assert (await any_db.spool.outcomes_of([spool_id]))[spool_id]["ticket_ref"] == "HD-1"
    assert await spooled(any_db, spool_id) is None
    async with any_db.transaction() as session:  # the bytes moved into the database's blobs
        assert await session.scalar(select(Blob.data).where(Blob.sha256 == entry.digest)) == raw


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
    assert await pending(any_db) == 3
    assert sorted(await ingestor.drain()) == ids


async def test_a_failing_spool_write_accepts_nothing(any_db, settings_factory, clock, monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    await spool_write_fails(any_db, monkeypatch)
    with pytest.raises(TempFail, match="database or disk is full"):
        await ingestor.accept(make_mail().as_bytes(), source="smtp")
    assert [await pending(any_db), await rows(any_db, Blob), await rows(any_db, Message)] == [0, 0, 0]


async def test_a_group_keeps_its_order_and_stores_each_blob_once_big_mail_or_small(any_db, clock):
    from gateway.store.blobs import PIECEWISE_FROM, sha256_hex

    small = make_mail(subject="Small").as_bytes()
    big = make_mail(subject="Big", body="x" * PIECEWISE_FROM).as_bytes()
    many = [make_mail(subject=f"Many {n}", body="y" * (PIECEWISE_FROM // 2)).as_bytes() for n in range(10)]
    mails = [small, big, small, make_mail(subject="Other").as_bytes()]  # the same bytes twice: one blob
    # all small (one statement), then with a big one, then more bytes than one statement carries
    for group in (mails[:1] + mails[2:], mails, many):
        ids = await any_db.spool.write([(raw, sha256_hex(raw), "smtp", "customer@example.org", ["ihelp@example.com"])
                                        for raw in group], clock.now())
        assert ids == sorted(ids) and len(set(ids)) == len(group)
        assert [(await spooled(any_db, spool_id)).raw for spool_id in ids] == group
    if not any_db.spool_path:  # the spool table (PostgreSQL) refers to blobs; SQLite's spool file holds the bytes
        assert await rows(any_db, Blob) == 3 + len(many)


async def test_a_spool_write_after_the_server_dropped_its_connection_succeeds(pg_db, settings_factory, clock):
    # No ping before the write: the pool drops a connection it knows closed, the write retries on a fresh
    # one when the closing had not been seen yet. Which of the two happens is a race, so several rounds.
    ingestor = Ingestor(settings=settings_factory(), db=pg_db, clock=clock)
    last = await ingestor.accept(make_mail(subject="Before").as_bytes(), source="smtp")
    for n in range(6):
        async with pg_db.statement() as connection:  # the spool writer's pooled connection
            writer = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with pg_db.transaction() as session:  # as a server restart or an idle timeout would
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": writer})
        spool_id = await ingestor.accept(make_mail(subject=f"After {n}").as_bytes(), source="smtp")
        assert spool_id > last
        last = spool_id
    assert await pending(pg_db) == 7


async def test_the_drain_does_not_read_back_a_mail_whose_spool_write_has_not_returned(db, settings_factory, clock,
                                                                                     monkeypatch):
    # The spool file's thread runs the drain's read right after the write it queued behind: the row is there,
    # its id not yet known on the loop. The bytes the SMTP session holds serve; a second copy read back from
    # the file made a 25 MB mail's peak 4.7x its size instead of 3.2x (bench/memory.py --via smtp).
    entered, gate = threading.Event(), threading.Event()
    real_write, real_rows = spool_file.write, spool_file.rows
    read_back: list[set] = []

    def held_write(conn, mails):
        entered.set()
        gate.wait(10)
        return real_write(conn, mails)

    def recorded_rows(conn, ids, *, with_raw):
        read_back.append(set(with_raw))
        return real_rows(conn, ids, with_raw=with_raw)

    monkeypatch.setattr(spool_file, "write", held_write)
    monkeypatch.setattr(spool_file, "rows", recorded_rows)
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    raw = make_mail(subject="Big one", body="x" * 200_000).as_bytes()
    accepting = asyncio.create_task(ingestor.accept(raw, source="smtp"))
    await asyncio.to_thread(entered.wait, 10)
    draining = asyncio.create_task(ingestor.drain())
    await asyncio.sleep(0.1)  # the drain's read is queued behind the write
    gate.set()
    spool_id = await accepting
    outcomes = await draining
    assert outcomes[spool_id].status == "stored"
    assert read_back and read_back[0] == set()  # the row was seen by the first read, its bytes not read


async def test_the_drain_lets_a_batch_go_before_it_reads_the_next(db, settings_factory, clock):
    # A batch is up to BATCH_BYTES of mail; held while the next batch is read (or arrives over SMTP), a big
    # mail's bytes were in memory beside the next one's.
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    first = await ingestor.accept(make_mail(subject="First", body="x" * 2000).as_bytes(), source="smtp")
    real_pending = ingestor.spool.pending
    still_held: list[set[int]] = []

    async def watched_pending(**kwargs):
        alive = {obj.id for obj in gc.get_objects() if isinstance(obj, Spooled)}
        still_held.append(alive)
        return await real_pending(**kwargs)

    ingestor.spool.pending = watched_pending
    outcomes = await ingestor.drain()
    assert outcomes[first].status == "stored"
    assert len(still_held) == 2  # the batch's read, then the read that finds nothing more
    assert first not in still_held[1]


async def test_smtp_answers_250_once_spooled_and_451_when_the_spool_write_fails(settings_factory, relay,
                                                                                 monkeypatch):
    settings = settings_factory(smtp={"port": free_port()}, outbound={"mode": "smtp", "port": relay.port})
    running = await start(settings)
    db = running.database()
    try:
        code, text = await asend(running.port, make_mail(subject="Spooled"))
        assert code == 250 and text.startswith(b"2.0.0 OK queued as ")
        spool_id = int(text.rsplit(b" ", 1)[1])
        # Another connection sees it: committed before the 250 (or processed already).
        assert await spooled(db, spool_id) or await db.spool.outcomes_of([spool_id])

        with monkeypatch.context() as patched:
            await spool_write_fails(db, patched)
            code, text = await asend(running.port, make_mail(subject="Not spooled"))
        assert code == 451, text
        await running.drained()
        async with db.transaction() as session:
            subjects = (await session.scalars(select(Message.subject).where(Message.direction == "in"))).all()
        assert subjects == ["Spooled"] and list(await db.spool.outcomes_of(range(spool_id + 5))) == [spool_id]
    finally:
        await db.dispose()
        await running.shutdown()


async def test_a_poison_mail_is_held_whole_and_does_not_block_the_rows_after_it(any_db, settings_factory, clock,
                                                                                 monkeypatch, caplog):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    original = Ingestor._store_in

    async def fails_outside_the_savepoints(self, session, jobs, now, **how):
        # A bug around the per-mail boundary: the whole batch's transaction fails, whatever else it holds.
        if any(job.mail is not None and job.mail.subject == "Poison" for job in jobs):
            raise RuntimeError("a bug outside the per-mail boundary")
        return await original(self, session, jobs, now, **how)

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
    assert sorted(await any_db.spool.outcomes_of(ids)) == ids and await pending(any_db) == 0
    assert await rows(any_db, Ticket) == 3
    assert await ingestor.drain() == {}  # nothing left to run, nothing runs twice


async def test_database_trouble_in_a_batch_leaves_its_rows_pending_for_the_next_drain(any_db, settings_factory,
                                                                                       clock, monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    ids = [await ingestor.accept(make_mail(subject=f"n{n}").as_bytes(), source="smtp") for n in range(3)]
    home = type(any_db.spool)
    original = home.finish

    async def gone(*args, **kwargs):
        raise OperationalError("UPDATE spool", {}, Exception("disk I/O error"))

    monkeypatch.setattr(home, "finish", gone)
    with pytest.raises(TempFail):
        await ingestor.drain()
    assert await rows(any_db, Ticket) == 0 and await pending(any_db) == 3
    monkeypatch.setattr(home, "finish", original)
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
        assert await pending(pg_db) == 0
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
    assert (await any_db.spool.status(clock.now())).done_last_minute == 5


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
    assert (await db.spool.status(later.now())).done_last_hour == 0 and await rows(db, Ticket) == 2


def test_spool_status_command(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n[digest]\nrecipients = []\n')

    def gateway(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                              capture_output=True, timeout=60, text=True)

    assert gateway("db", "upgrade").returncode == 0
    assert json.loads(gateway("spool", "status", "--json").stdout) == {
        "depth": 0, "oldest_pending_seconds": None, "done_last_minute": 0, "done_last_hour": 0}
    # `gateway ingest` with no serve running spools the mail; `ingest --drain` processes the spool.
    piped = subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), "ingest"],
                           input=make_mail().as_bytes(), capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert gateway("spool", "status").stdout.splitlines()[0] == "pending: 1"
    assert gateway("ingest", "--drain").returncode == 0
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
    assert await pending(any_db) == 0


# --- SQLite: the spool in a file of its own beside the database ------------------------------------------


async def test_on_sqlite_accepting_never_waits_for_a_drain_transaction(db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    main_file = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
    try:
        async with db.transaction() as session:  # a drain's batch: this process's write lock on the database ...
            await session.execute(select(func.count()).select_from(Ticket))
            main_file.execute("BEGIN")  # ... and another process reading beside it
            main_file.execute("SELECT count(*) FROM tickets").fetchone()
            # Were the spool in the database, this accept would wait for the transaction around it: for ever.
            spool_id = await asyncio.wait_for(
                ingestor.accept(make_mail(subject="Not held up").as_bytes(), source="smtp"), 30)
            # Committed while the database's write lock is held: another connection to the spool file sees it.
            with sqlite3.connect(db.spool_path) as spool_file_reader:
                assert spool_file_reader.execute("SELECT id FROM spool").fetchall() == [(spool_id,)]
        main_file.execute("ROLLBACK")
    finally:
        main_file.close()
    assert [o.status for o in (await ingestor.drain()).values()] == ["stored"]


async def test_on_sqlite_a_crash_between_the_batch_commit_and_the_file_drop_runs_nothing_again(
        db, settings_factory, clock, monkeypatch):
    runs: collections.Counter = collections.Counter()
    original_run = Ingestor._run

    async def counted(self, session, job, now):
        runs[job.digest] += 1
        return await original_run(self, session, job, now)

    monkeypatch.setattr(Ingestor, "_run", counted)
    crashed = Ingestor(settings=settings_factory(), db=db, clock=clock)
    ids = [await crashed.accept(make_mail(subject=f"n{n}").as_bytes(), source="smtp") for n in range(3)]
    home = type(db.spool)
    original_forget = home.forget

    async def killed(self, spool_ids):  # the process died after the database's commit, before the file's
        pass

    monkeypatch.setattr(home, "forget", killed)
    assert sorted(await crashed.drain()) == ids and sum(runs.values()) == 3
    with sqlite3.connect(db.spool_path) as reader:  # the rows are still in the spool file ...
        assert reader.execute("SELECT count(*) FROM spool").fetchone() == (3,)
    assert await pending(db) == 0  # ... and not pending: spool_done names them
    monkeypatch.setattr(home, "forget", original_forget)
    stored = [await rows(db, model) for model in (Ticket, Message, Blob)]

    restarted_db = Database(db.url)
    try:
        restarted = Ingestor(settings=settings_factory(), db=restarted_db, clock=clock)
        assert await restarted.drain() == {}
        assert sum(runs.values()) == 3 and [await rows(db, model) for model in (Ticket, Message, Blob)] == stored
        with sqlite3.connect(db.spool_path) as reader:  # the drain dropped them from the file
            assert reader.execute("SELECT count(*) FROM spool").fetchone() == (0,)
        restarted.close()
    finally:
        await restarted_db.dispose()


async def test_a_lost_spool_file_is_made_again_with_ids_no_done_row_has(db, settings_factory, clock):
    from gateway.store.migrate import upgrade

    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    first = await ingestor.ingest(make_mail(subject="First").as_bytes(), source="smtp")
    await db.dispose()
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(db.spool_path + suffix)
    with pytest.raises(TempFail, match="run `gateway db upgrade`"):
        await ingestor.accept(make_mail().as_bytes(), source="smtp")
    await upgrade(db)
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    second = await ingestor.ingest(make_mail(subject="Second").as_bytes(), source="smtp")
    assert first.status == second.status == "stored" and second.ticket_id == first.ticket_id + 1


# (share, give_way, mails arriving during the first batch of one mail, pauses): the drain gives way only while
# mail comes faster than its batches settle it; one mail for one settled is a stream it keeps up with.
@pytest.mark.parametrize("share, give_way, arriving, pauses",
                         [(0.5, True, 2, 1), (0.5, True, 1, 0), (1.0, True, 2, 0), (0.5, False, 2, 0)])
async def test_serve_s_drain_gives_way_while_mail_comes_faster_than_it_settles_it(
        db, settings_factory, clock, monkeypatch, share, give_way, arriving, pauses):
    import gateway.ingest as ingest_module

    ingestor = Ingestor(settings=settings_factory(spool={"drain_share_under_load": share}), db=db, clock=clock)
    await ingestor.accept(make_mail(subject="First").as_bytes(), source="smtp")
    original = Ingestor._drain_batch
    arrivals = [make_mail(subject=f"Arrives meanwhile {n}").as_bytes() for n in range(arriving)]

    async def batch_while_mail_arrives(self, rows):
        done = await original(self, rows)
        if arrivals:  # SMTP sessions' mail, committed while this batch ran
            await self.accept_many([Incoming(raw, "smtp") for raw in arrivals])
            arrivals.clear()
        return done

    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(seconds, *args):  # (asyncio's own sleep, for the whole loop: turns taken are sleep(0))
        if seconds:
            slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(Ingestor, "_drain_batch", batch_while_mail_arrives)
    monkeypatch.setattr(ingest_module.asyncio, "sleep", recorded)
    done = await ingestor.drain(give_way=give_way)
    monkeypatch.undo()
    assert [o.status for o in done.values()] == ["stored"] * (1 + arriving)  # it paused, it did not stop
    assert len(slept) == pauses and all(0 < s <= ingest_module.MAX_PAUSE for s in slept)


async def test_the_drain_says_after_each_batch_that_it_stored_mail(db, settings_factory, clock):
    # serve wakes its outbox sender on it: under a steady stream the drain does not end, and a batch's
    # acknowledgements must not wait until it does (they waited for the sender's 2 s poll).
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    mails = [make_mail(subject=f"Mail {n}").as_bytes() for n in range(2 * BATCH + 1)]
    await ingestor.accept_many([Incoming(raw, "smtp") for raw in mails])
    await ingestor.accept_many([Incoming(mails[0], "smtp")])  # the same mail again: not stored twice
    told: list[int] = []
    done = await ingestor.drain(on_stored=lambda: told.append(len(told)))
    assert sorted(o.status for o in done.values()).count("stored") == 2 * BATCH + 1
    assert told == [0, 1, 2]  # three batches stored mail; the last, the copy alone, stored none


async def test_mail_an_older_gateway_left_in_the_database_s_spool_table_moves_into_the_spool_file(
        db, settings_factory, clock):
    from gateway.store.blobs import put_blob
    from gateway.store.migrate import upgrade
    from gateway.store.models import SpoolEntry

    # Before the spool file, SQLite kept the spool in this table: one mail accepted, not yet processed.
    raw = make_mail(subject="Accepted before the upgrade").as_bytes()
    async with db.transaction() as session:
        entry = SpoolEntry(received_at=clock.now(), source="smtp", envelope_from="customer@example.org",
                           recipients=["ihelp@example.com"], raw_sha256=await put_blob(session, raw), status="pending")
        session.add(entry)
        await session.flush()
        old_id = entry.id
    await upgrade(db)  # again, as every serve start does: the file takes it over
    await upgrade(db)  # and once more: nothing moves twice
    entry = await spooled(db, old_id)
    assert (entry.raw, entry.envelope_from, entry.recipients) == (raw, "customer@example.org", ("ihelp@example.com",))
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    new_id = await ingestor.accept(make_mail(subject="Accepted after").as_bytes(), source="smtp")
    assert new_id > old_id  # the file's ids start above the table's
    done = await ingestor.drain()
    assert [done[old_id].status, done[new_id].status] == ["stored", "stored"] and done[old_id].ticket_ref == "HD-1"
    async with db.transaction() as session:
        assert (await session.scalars(select(SpoolEntry.status))).all() == ["moved"]
