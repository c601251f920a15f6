"""Group commit, on SQLite and PostgreSQL: mails that arrive together share one transaction, yet each
one succeeds or fails on its own, and every caller hears of its mail only after the commit."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select

from gateway.errors import TempFail
from gateway.ingest import Incoming, Ingestor
from gateway.store import repo
from gateway.store.models import Blob, Message, Ticket
from tests.integration.serving import make_mail


def count_commits(db) -> list[int]:
    commits = [0]
    event.listen(db.engine.sync_engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))
    return commits


async def test_concurrent_mails_share_commits_and_each_gets_its_outcome(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    mails = [make_mail(sender=f"user{n}@example.org", subject=f"Problem {n}").as_bytes() for n in range(30)]
    commits = count_commits(any_db)

    outcomes = await asyncio.gather(*(ingestor.ingest(raw, source="test") for raw in mails))

    assert [o.status for o in outcomes] == ["stored"] * 30
    assert len({o.ticket_id for o in outcomes}) == 30
    assert commits[0] < 20, commits  # 30 mails, far fewer transactions: accepts share commits, the drain takes 8 a batch
    async with any_db.transaction() as session:
        requesters = dict((await session.execute(select(Ticket.id, Ticket.requester))).all())
    for n, outcome in enumerate(outcomes):  # each caller got the outcome of its own mail
        assert requesters[outcome.ticket_id] == f"user{n}@example.org"


async def test_one_bad_mail_does_not_spoil_its_group(any_db, settings_factory, clock, monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    record = next(s for s in ingestor.steps if s.name == "record")
    original = record.run

    async def fails_for_one(ctx):
        await original(ctx)  # it has written rows: they must roll back with its savepoint only
        if ctx.mail.subject == "poison":
            raise RuntimeError("a bug in a step")

    monkeypatch.setattr(record, "run", fails_for_one)
    good = [make_mail(subject=f"Fine {n}").as_bytes() for n in range(4)]
    poison = make_mail(subject="poison").as_bytes()
    twice = make_mail(subject="Sent twice in one group").as_bytes()

    outcomes = await ingestor.ingest_many([Incoming(raw, "test") for raw in [*good[:2], poison, twice, twice,
                                                                             *good[2:]]])

    assert [o.status for o in outcomes] == ["stored", "stored", "quarantined", "stored", "duplicate", "stored",
                                            "stored"]
    assert "internal error: RuntimeError: a bug in a step" in outcomes[2].reason
    async with any_db.transaction() as session:
        subjects = sorted((await session.scalars(select(Message.subject).where(Message.direction == "in"))).all())
        data = await repo.stats(session)
        [held] = await repo.list_quarantine(session)
        assert await session.scalar(select(Blob.data).where(Blob.sha256 == held["sha256"])) == poison
    assert "poison" not in subjects and len(subjects) == 5
    assert data["tickets"] == 5 and data["duplicates"] == 1
    assert data["quarantined_by_reason"] == {"internal error": 1}


async def test_database_trouble_fails_the_whole_group_and_stores_nothing(any_db, settings_factory, clock,
                                                                         monkeypatch):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    await ingestor.ingest(make_mail(subject="Before").as_bytes(), source="test")
    notify = next(s for s in ingestor.steps if s.name == "notify")
    original = notify.run
    from sqlalchemy.exc import OperationalError

    async def disk_full(ctx):
        if ctx.mail.subject == "Third":
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        await original(ctx)

    monkeypatch.setattr(notify, "run", disk_full)
    mails = [make_mail(subject=s).as_bytes() for s in ("First", "Second", "Third", "Fourth")]
    results = await asyncio.gather(*(ingestor.ingest(raw, source="test") for raw in mails),
                                   return_exceptions=True)

    failed = [r for r in results if isinstance(r, TempFail)]
    assert failed and all(isinstance(r, TempFail) or r.status == "stored" for r in results)
    assert isinstance(results[2], TempFail)
    async with any_db.transaction() as session:
        stored = set((await session.scalars(select(Message.subject).where(Message.direction == "in"))).all())
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
    # Whatever shared a transaction with the failing mail was told "try again" and is not stored.
    told_stored = {s for s, r in zip(("First", "Second", "Third", "Fourth"), results)
                   if not isinstance(r, Exception)}
    assert stored == {"Before"} | told_stored and tickets == len(stored)


@pytest.mark.parametrize("size", [1, 64, 65])
async def test_group_sizes_at_and_beyond_the_cap(any_db, settings_factory, clock, size):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    outcomes = await asyncio.gather(*(ingestor.ingest(make_mail(subject=f"n{n}").as_bytes(), source="test")
                                      for n in range(size)))
    assert sorted(o.ticket_id for o in outcomes) == list(range(1, size + 1))
