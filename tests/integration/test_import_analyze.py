"""`gateway import` and serve's spool worker on PostgreSQL analyse the tables they grow: a lookup prepared
while they were nearly empty keeps its sequential scan until then (this machine's server runs with
autovacuum off); gateway/store/planner.py."""
from __future__ import annotations

import asyncio
import mailbox
from email.message import EmailMessage

from sqlalchemy import text

from gateway.clock import SystemClock
from gateway.inbound import history
from gateway.ingest import Ingestor
from gateway.spool_worker import run_spool_worker
from gateway.store import planner


def write_mbox(path, count: int) -> None:
    box = mailbox.mbox(path)
    for n in range(count):
        mail = EmailMessage()
        mail["From"], mail["To"] = f"user{n}@example.org", "ihelp@example.com"
        mail["Subject"], mail["Message-ID"] = f"Printer {n} jams", f"<old-{n}@example.org>"
        mail.set_content("Paper jam on the second tray since Monday.")
        box.add(mail)
    box.close()


async def planner_rows(db, table: str) -> float:
    """The planner's row count of `table`: -1 until the table is first analysed."""
    async with db.transaction() as session:
        return await session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                                    {"name": table})


async def count_messages(db) -> int:
    async with db.transaction() as session:
        return await session.scalar(text("SELECT count(*) FROM messages"))


async def test_an_import_analyses_what_it_grew_from_a_threshold_on_and_at_the_end(pg_db, settings_factory,
                                                                                  tmp_path, monkeypatch):
    monkeypatch.setattr(planner, "ANALYZE_FROM", 10)
    monkeypatch.setattr(history, "HISTORY_BATCH", 5)
    write_mbox(tmp_path / "old.mbox", 25)
    ingestor = Ingestor(settings=settings_factory(), db=pg_db, clock=SystemClock())
    analysed_at: list[int] = []
    analyse = pg_db.analyze

    async def counting(tables):
        analysed_at.append(await count_messages(pg_db))
        await analyse(tables)

    monkeypatch.setattr(pg_db, "analyze", counting)
    assert await planner_rows(pg_db, "messages") == -1
    try:
        source = await history.open_archive("mbox", tmp_path / "old.mbox")
        result = await history.import_mail(source, ingestor=ingestor, progress=False, report=lambda line: None)
    finally:
        ingestor.close()
    assert result.counts["stored"] == 25
    assert analysed_at == [10, 25]  # past 10 mails (the next would be at 100), and at the end
    for table in planner.GROWN:
        assert await planner_rows(pg_db, table) >= 0, table
    assert await planner_rows(pg_db, "messages") == 25


async def test_serves_spool_worker_analyses_once_it_stored_the_first_mails(pg_db, settings_factory, monkeypatch):
    monkeypatch.setattr(planner, "ANALYZE_FROM", 3)
    ingestor = Ingestor(settings=settings_factory(), db=pg_db, clock=SystemClock())
    stop = asyncio.Event()
    worker = asyncio.create_task(run_spool_worker(ingestor=ingestor, clock=SystemClock(),
                                                  config=settings_factory().spool, stop=stop, on_stored=lambda: None))
    try:
        assert await planner_rows(pg_db, "messages") == -1
        for n in range(4):
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = f"user{n}@example.org", "ihelp@example.com", f"VPN {n}"
            mail.set_content("The VPN drops every hour.")
            await ingestor.accept(mail.as_bytes(), source="smtp", envelope_from=f"user{n}@example.org",
                                  recipients=["ihelp@example.com"])
        for _ in range(200):
            if await planner_rows(pg_db, "messages") >= 0:
                break
            await asyncio.sleep(0.05)
        stored = await count_messages(pg_db)  # the four mails and what answered them
        assert stored >= 4 and await planner_rows(pg_db, "messages") == stored
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
        ingestor.close()


class CountingDb:
    def __init__(self):
        self.analysed = 0

    async def analyze(self, tables):
        assert tables == planner.GROWN
        self.analysed += 1


async def test_growth_analyses_past_the_threshold_and_each_tenfold_after_it():
    db = CountingDb()
    growth = planner.Growth(db)
    seen = []
    for count in (400, 700, 5000, 4000, 50000, 90000, 1):
        await growth.add(count)
        seen.append(db.analysed)
    # 400, 1,100 (past 1,000), 6,100, 10,100 (past 10,000), 60,100, 150,100 (past 100,000), 150,101
    assert seen == [0, 1, 1, 2, 2, 3, 3]
    await growth.add(10_000_000)  # past several tenfolds at once: one ANALYZE, the next tenfold beyond
    assert db.analysed == 4 and growth.next == 100_000_000


async def test_an_analyze_the_server_cannot_take_is_a_warning_not_an_error(caplog):
    from gateway.store.db import Database
    from tests.conftest import free_port

    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nobody")  # no server listens there
    try:
        await db.analyze(planner.GROWN)  # the import or drain that asked goes on
    finally:
        await db.dispose()
    assert "ANALYZE skipped" in caplog.text and "unavailable" in caplog.text
