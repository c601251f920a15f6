"""`gateway import` on PostgreSQL analyses the tables it grows: a lookup prepared while they were nearly
empty keeps its sequential scan until then (this machine's server runs with autovacuum off)."""
from __future__ import annotations

import mailbox
from email.message import EmailMessage

from sqlalchemy import text

from gateway.clock import SystemClock
from gateway.inbound import history
from gateway.ingest import Ingestor


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


async def test_an_import_analyses_what_it_grew_from_a_threshold_on_and_at_the_end(pg_db, settings_factory,
                                                                                  tmp_path, monkeypatch):
    monkeypatch.setattr(history, "ANALYZE_FROM", 10)
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
    for table in history.GROWN:
        assert await planner_rows(pg_db, table) >= 0, table
    assert await planner_rows(pg_db, "messages") == 25


async def count_messages(db) -> int:
    async with db.transaction() as session:
        return await session.scalar(text("SELECT count(*) FROM messages"))
