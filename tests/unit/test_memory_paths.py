"""A big attachment crosses parse, the blob store and SMTP DATA without whole extra copies of the mail,
and comes out byte for byte. Bounds are multiples of the attachment with wide margins, not timings."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
import threading
import tracemalloc
from email.message import EmailMessage

import pytest
from sqlalchemy import event, func, select

from gateway.clock import FixedClock
from gateway.errors import TempFail
from gateway.ingest import Ingestor
from gateway.inbound.smtp import TOO_MUCH, read_data
from gateway.mail.parse import parse
from gateway.store import blobs
from gateway.store.blobs import get_blob, put_blob
from gateway.store.models import Attachment, Blob

MB = 1024 * 1024


def mail_with(payload: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "customer@example.org", "ihelp@example.com", "Dump attached"
    msg["Message-ID"] = f"<{hashlib.sha256(payload).hexdigest()[:16]}@example.org>"
    msg.set_content("The dump is attached.")
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename="core.dump")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


@contextlib.contextmanager
def largest_bound_value(db):
    """Yield a list that ends up holding the size of the largest bytes value any statement was given."""
    seen = [0]

    def sizes(value):  # parameters come as a dict, a tuple, or a list of either
        if isinstance(value, (bytes, bytearray, memoryview)):
            yield len(value)
        elif isinstance(value, (dict, list, tuple)):
            for item in value.values() if isinstance(value, dict) else value:
                yield from sizes(item)

    def before(conn, cursor, statement, parameters, context, executemany):
        seen[0] = max(seen[0], *sizes(parameters), 0)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


@contextlib.contextmanager
def traced_peak():
    """Yield a list that ends up holding the peak of Python allocations inside the block."""
    peak = [0]
    tracemalloc.start()
    try:
        yield peak
        peak[0] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- blob store -------------------------------------------------------------------------------------


async def test_a_big_blob_comes_back_exactly_and_is_stored_once(any_db):
    data = os.urandom(2 * blobs.PIECE + 12345)  # not a whole number of pieces
    digest = hashlib.sha256(data).hexdigest()
    async with any_db.transaction() as session:
        assert await put_blob(session, data) == digest
        assert await put_blob(session, data, digest) == digest  # same transaction: no conflict
    async with any_db.transaction() as session:
        assert await put_blob(session, data) == digest  # already committed
        assert await get_blob(session, digest) == data
        assert await session.scalar(select(func.count()).select_from(Blob)) == 1
        assert await session.scalar(select(Blob.size).where(Blob.sha256 == digest)) == len(data)


async def test_small_and_empty_blobs_still_take_the_one_statement_way(any_db):
    async with any_db.transaction() as session:
        for data in (b"", b"x", os.urandom(blobs.PIECEWISE_FROM - 1)):
            assert await get_blob(session, await put_blob(session, data)) == data


async def test_a_big_blob_is_never_handed_to_the_driver_whole(any_db):
    data = os.urandom(8 * MB)
    with largest_bound_value(any_db) as bound, traced_peak() as peak:
        async with any_db.transaction() as session:
            await put_blob(session, data)
    # Before: the whole value was bound (SQLite copies it twice more, out of tracemalloc's sight) and
    # asyncpg's message buffers took two to three times its size.
    assert bound[0] < blobs.PIECEWISE_FROM
    assert peak[0] < len(data) / 2


async def test_a_big_blob_is_written_off_the_event_loops_thread(db):
    """Megabytes of zeros, then of the mail, would hold up every SMTP session if written on the loop."""
    loop_thread, traced = threading.get_ident(), []
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.on_thread(lambda sqlite: sqlite.set_trace_callback(
            lambda sql: traced.append((sql.split()[0].upper(), threading.get_ident() == loop_thread))))
    async with db.transaction() as session:
        await session.execute(select(func.count()).select_from(Blob))
        traced.clear()
        await put_blob(session, os.urandom(blobs.PIECEWISE_FROM + 1))
        await session.execute(select(func.count()).select_from(Blob))
    assert ("INSERT", False) in traced and ("INSERT", True) not in traced
    assert traced[-2] == ("SELECT", True)  # and the statements after it are back on the loop's thread


async def test_a_failed_piecewise_write_rolls_back_with_the_transaction(db, monkeypatch):
    def broken(conn, rowid, data):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(blobs, "_write_sqlite_blob", broken)
    with pytest.raises(TempFail, match="database or disk is full"):  # is_transient saw OperationalError
        async with db.transaction() as session:
            await put_blob(session, os.urandom(2 * MB))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Blob)) == 0


async def test_a_spool_group_of_many_mails_is_not_bound_in_one_statement(pg_db):
    from gateway.store.spool_table import STATEMENT_BYTES

    mails = [os.urandom(blobs.PIECEWISE_FROM // 2) for _ in range(4 * STATEMENT_BYTES // blobs.PIECEWISE_FROM)]
    group = [(raw, hashlib.sha256(raw).hexdigest(), "smtp", None, ()) for raw in mails]
    await pg_db.spool.write(group[:1], FixedClock().now())  # connections and statements made outside the trace
    with traced_peak() as peak:
        await pg_db.spool.write(group[1:], FixedClock().now())
    # Bound in one statement, asyncpg's message buffer held all of the group's bytes again at once.
    assert peak[0] < sum(map(len, mails)) / 2


async def test_two_writers_storing_the_same_big_blob_at_once_both_succeed(pg_db):
    data = os.urandom(2 * MB)
    async with pg_db.transaction() as first:
        await put_blob(first, data)
        # The second COPY waits on the first's uncommitted row, then meets a unique violation.
        second = asyncio.create_task(_put_in_own_transaction(pg_db, data))
        await asyncio.sleep(0.5)
        assert not second.done()
    await asyncio.wait_for(second, 30)
    async with pg_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Blob)) == 2
        assert await get_blob(session, hashlib.sha256(data).hexdigest()) == data
        assert await get_blob(session, "0" * 64) == b"x"


async def _put_in_own_transaction(db, data: bytes) -> None:
    async with db.transaction() as session:
        await put_blob(session, data)
        session.add(Blob(sha256="0" * 64, size=1, data=b"x"))  # the rest of its transaction still commits


# --- parse --------------------------------------------------------------------------------------------


def test_parse_adds_only_the_decoded_attachment():
    payload = os.urandom(5 * MB)
    raw = mail_with(payload)
    with traced_peak() as peak:
        mail = parse(raw)
    assert mail.attachments[0].data == payload
    # raw.strip() to test for an empty mail once copied all of it (1.4x) before the attachment was decoded.
    assert peak[0] < 1.2 * len(payload)


# --- the whole ingest -------------------------------------------------------------------------------


async def test_ingesting_a_big_attachment_keeps_no_extra_copy(settings_factory, any_db):
    payload = os.urandom(5 * MB)
    raw = mail_with(payload)
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=FixedClock())
    await ingestor.ingest(b"From: a@example.org\r\nSubject: warm-up\r\n\r\nhello\r\n", source="test")
    with largest_bound_value(any_db) as bound, traced_peak() as peak:
        outcome = await ingestor.ingest(raw, source="test")
    assert outcome.status == "stored"
    # Besides the mail, only its decoded attachment is needed (and asyncpg's pieces in flight); before,
    # each blob went to the driver whole, and asyncpg's buffers alone took over four times the attachment.
    assert peak[0] < 2 * len(payload)
    assert bound[0] < blobs.PIECEWISE_FROM
    async with any_db.transaction() as session:
        assert await get_blob(session, hashlib.sha256(raw).hexdigest()) == raw
        [stored] = (await session.scalars(select(Attachment))).all()
        assert stored.size == len(payload) and await get_blob(session, stored.sha256) == payload


# --- SMTP DATA ----------------------------------------------------------------------------------------


def reader_with(data: bytes, limit: int = 256 * 1024) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=limit)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


@pytest.mark.parametrize("wire,mail,after", [
    (b"Subject: a\r\n\r\nbody\r\n.\r\n", b"Subject: a\r\n\r\nbody\r\n", b""),
    (b"S: a\r\n\r\n..dot line\r\n...\r\n. \r\n.\r\n", b"S: a\r\n\r\n.dot line\r\n..\r\n \r\n", b""),
    (b".\r\n", b"", b""),
    (b"bare\nLF and bare\rCR stay\r\n.\r\n", b"bare\nLF and bare\rCR stay\r\n", b""),
    (b"a\r\n.\r\n.\r\n", b"a\r\n", b".\r\n"),
])
async def test_data_is_unstuffed_up_to_the_lone_dot_and_no_further(wire, mail, after):
    reader = reader_with(wire + b"QUIT\r\n")
    assert await read_data(reader, size_limit=None) == (mail, "")
    assert await reader.read() == after + b"QUIT\r\n"


@pytest.mark.parametrize("wire,size_limit,answer", [
    (b"x" * 50 + b"\r\n" + b"y\r\n" * 100 + b".\r\n", 100, TOO_MUCH),
    (b"short\r\n" + b"z" * 5000 + b"\r\nmore\r\n.\r\n", 4000, TOO_MUCH),  # one line beyond the size limit
])
async def test_a_refused_mail_is_read_to_its_end_and_not_kept(wire, size_limit, answer):
    reader = reader_with(wire + b"QUIT\r\n", limit=1024)
    assert await read_data(reader, size_limit=size_limit) == (b"", answer)
    assert await reader.read() == b"QUIT\r\n"


@pytest.mark.parametrize("wire,mail", [
    (b"short\r\n" + b"z" * 5000 + b"\r\nmore\r\n.\r\n", b"short\r\n" + b"z" * 5000 + b"\r\nmore\r\n"),
    # pieces end just before a CRLF, a dot starting a line after a long one is unstuffed, a dot inside is not
    (b"a" * 1023 + b"\r\n..x\r\n" + b"b" * 1022 + b".\r\n" + b"c" * 2047 + b"\r\n.\r\n",
     b"a" * 1023 + b"\r\n.x\r\n" + b"b" * 1022 + b".\r\n" + b"c" * 2047 + b"\r\n"),
    (b"d" * 1024 + b"\r\n.\r\n", b"d" * 1024 + b"\r\n"),  # the lone dot after a line of exactly the limit
])
async def test_lines_longer_than_the_reader_buffers_are_kept_whole(wire, mail):
    for limit in (1024, 1025, 1023, 7):
        reader = reader_with(wire + b"QUIT\r\n", limit=limit)
        assert await read_data(reader, size_limit=None) == (mail, "")
        assert await reader.read() == b"QUIT\r\n"


async def test_data_is_gathered_in_about_its_own_size():
    raw = mail_with(os.urandom(4 * MB))
    wire = raw + b".\r\n"
    reader = asyncio.StreamReader(limit=256 * 1024)

    async def arrive() -> None:  # as from a socket: a little at a time, as it is read
        view = memoryview(wire)
        for start in range(0, len(view), 64 * 1024):
            reader.feed_data(view[start:start + 64 * 1024])
            await asyncio.sleep(0)
        reader.feed_eof()

    with traced_peak() as peak:
        arriving = asyncio.create_task(arrive())
        mail, refusal = await read_data(reader, size_limit=None)
        await arriving
    assert refusal == "" and mail == raw
    # aiosmtpd's own reading kept a bytearray per line and joined them: about three times the mail.
    assert peak[0] < 1.5 * len(raw)


async def test_reading_a_big_buffered_mail_gives_other_sessions_turns():
    """readuntil() does not suspend while data is buffered: without pauses a fast 8 MB DATA held the loop."""
    reader = reader_with(b"Subject: log\r\n\r\n" + (b"x" * 78 + b"\r\n") * (8 * MB // 80) + b".\r\n")
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = turns
    mail, refusal = await read_data(reader, size_limit=None)
    ticking.cancel()
    assert refusal == "" and len(mail) > 8 * MB - 200
    assert turns - before >= 7  # about one turn per megabyte read
