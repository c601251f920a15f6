"""Property over the whole ingest, on SQLite and on PostgreSQL: any bytes are stored, quarantined, found a
duplicate or set aside, never an exception; the raw bytes are kept whole; and every mail the gateway
queues in answer parses, with one-line headers and none that the input smuggled in."""
from __future__ import annotations

import asyncio
import email
from email import policy

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from gateway.clock import SystemClock
from gateway.ingest import Ingestor
from gateway.store.blobs import sha256_hex
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Blob, Outbox
from tests.conftest import _pg_available, make_pg_database
from tests.mutants import hostile

OUTCOMES = {"stored", "quarantined", "duplicate", "discarded"}


async def check_one(ingestor: Ingestor, db: Database, raw: bytes, seen: set[int]) -> None:
    outcome = await ingestor.ingest(raw, source="fuzz", envelope_from="customer@example.org")
    assert outcome.status in OUTCOMES, outcome
    async with db.transaction() as session:
        kept = await session.scalar(select(Blob.data).where(Blob.sha256 == sha256_hex(raw)))
        rows = (await session.execute(select(Outbox.id, Outbox.raw).where(Outbox.id.not_in(seen or {0})))).all()
    if outcome.status in ("stored", "quarantined"):
        assert kept == raw
    for row_id, out in rows:
        seen.add(row_id)
        assert b"\r\n\r\n" in out or b"\n\n" in out
        mail = email.message_from_bytes(out, policy=policy.default)
        assert not mail.defects, mail.defects
        names = {name.lower() for name in mail.keys()}
        assert "bcc" not in names and "x-injected" not in names, names
        for name, value in mail.items():
            assert "\r" not in str(value) and "\n" not in str(value), (name, value)


def run_property(db: Database, loop: asyncio.AbstractEventLoop, settings_factory, examples: int) -> None:
    ingestor = Ingestor(settings=settings_factory(loopguard={"max_auto_replies_per_hour": 1000,
                                                             "max_auto_replies_per_day": 1000}),
                        db=db, clock=SystemClock())
    seen: set[int] = set()

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(hostile())
    def check(raw: bytes) -> None:
        loop.run_until_complete(check_one(ingestor, db, raw, seen))

    check()
    assert len(seen) >= examples // 4  # enough of the mails were answered for the header checks to mean something


def test_any_bytes_are_stored_or_quarantined_on_sqlite(tmp_path, settings_factory):
    loop = asyncio.new_event_loop()
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    try:
        loop.run_until_complete(upgrade(db))
        run_property(db, loop, settings_factory, examples=150)
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


def test_any_bytes_are_stored_or_quarantined_on_postgresql(settings_factory):
    if reason := _pg_available():
        pytest.skip(reason)
    loop = asyncio.new_event_loop()
    db, drop = loop.run_until_complete(make_pg_database())
    try:
        loop.run_until_complete(upgrade(db))
        run_property(db, loop, settings_factory, examples=60)
    finally:
        loop.run_until_complete(drop())
        loop.close()
