"""Raw bytes by SHA-256 in the database, so they commit in the same transaction as what they cause."""
from __future__ import annotations

import functools
import hashlib
import sqlite3
import struct
from typing import AsyncIterator, Sequence

from sqlalchemy import func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.db import insert_ignoring_conflicts, savepoint
from gateway.store.models import Blob
from gateway.store.upsert import insert_for

# A value handed to the driver whole is copied on its way: SQLite copies the bound value and then
# builds its row from it, asyncpg encodes it into message buffers, so storing a 36 MB mail took two to
# three times its size again for a moment. From this size on the bytes go in pieces of PIECE.
PIECEWISE_FROM = 1 << 20
PIECE = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def put_blob(session: AsyncSession, data: bytes, digest: str | None = None) -> str:
    """Store `data` once; return its SHA-256 hex digest."""
    digest = digest or sha256_hex(data)
    dialect = session.bind.dialect.name
    if len(data) >= PIECEWISE_FROM and dialect == "sqlite":
        await _put_sqlite_piecewise(session, data, digest)
    elif len(data) >= PIECEWISE_FROM and dialect == "postgresql":
        await _put_pg_piecewise(session, data, digest)
    else:
        await session.execute(insert_ignoring_conflicts(session, Blob),
                              [{"sha256": digest, "size": len(data), "data": data}])
    return digest


async def put_blobs(session: AsyncSession, items: Sequence[tuple[bytes, str]]) -> None:
    """Store each (data, its SHA-256 hex digest) once: a batch of mail's raw bytes in one statement, the large
    ones piece by piece (put_blob). On the connection, not the session: nothing of the session's is written
    first, and a plain table INSERT skips the ORM's bulk path (a third of a mail's blob cost)."""
    small = {digest: data for data, digest in items if len(data) < PIECEWISE_FROM}
    if small:
        connection = await session.connection()
        rows = [{"sha256": digest, "size": len(data), "data": data} for digest, data in small.items()]
        await connection.execute(_insert_blobs(session.bind.dialect.name), rows)
    for data, digest in items:
        if len(data) >= PIECEWISE_FROM:
            await put_blob(session, data, digest)


@functools.cache
def _insert_blobs(dialect: str):
    return insert_for(dialect)(Blob.__table__).on_conflict_do_nothing()


async def get_blob(session: AsyncSession, digest: str) -> bytes | None:
    return await session.scalar(select(Blob.data).where(Blob.sha256 == digest))


def _pieces(data: bytes):
    view = memoryview(data)
    return (view[start:start + PIECE] for start in range(0, len(view), PIECE))


async def _driver(session: AsyncSession):
    """The driver's own connection under this session's transaction (aiosqlite or asyncpg)."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


# --- SQLite: a row of zeros (SQLite writes those page by page), then the bytes through a blob handle --


async def _put_sqlite_piecewise(session: AsyncSession, data: bytes, digest: str) -> None:
    zeros = func.zeroblob(len(data))
    insert = insert_ignoring_conflicts(session, Blob).values(sha256=digest, size=len(data), data=zeros)
    driver = await _driver(session)
    with driver.off_loop():  # writing megabytes of zeros would hold up the event loop (32 ms for 25 MB)
        rowid = await session.scalar(insert.returning(literal_column("rowid")))
    if rowid is None:
        return  # stored before: same digest, same bytes
    try:
        await driver.on_thread(_write_sqlite_blob, rowid, data)  # off the loop too: megabytes through a blob handle
    except sqlite3.Error as exc:  # e.g. a full disk: the same error SQLAlchemy would have raised
        raise DBAPIError.instance("blob write into blobs.data", None, exc, sqlite3.Error) from exc


def _write_sqlite_blob(conn: sqlite3.Connection, rowid: int, data: bytes) -> None:
    with conn.blobopen("blobs", "data", rowid) as blob:
        for piece in _pieces(data):
            blob.write(piece)


# --- PostgreSQL: COPY … FROM STDIN (FORMAT binary), one row streamed in pieces --------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # signature, flags, no extension
_COPY_TRAILER = struct.pack("!h", -1)


async def _put_pg_piecewise(session: AsyncSession, data: bytes, digest: str) -> None:
    import asyncpg  # here, so that SQLite deployments never load it

    if await session.scalar(select(Blob.size).where(Blob.sha256 == digest)) is not None:
        return  # stored before: same digest, same bytes
    # COPY has no ON CONFLICT: a writer storing the same bytes at the same moment makes it fail with a
    # unique violation, and then the savepoint takes our half back and theirs stands.
    try:
        async with savepoint(session):
            driver = await _driver(session)  # inside the savepoint: asking for the connection emits it
            try:
                await driver.copy_to_table(Blob.__tablename__, source=_copy_rows(data, digest),
                                           columns=["sha256", "size", "data"], format="binary")
            except asyncpg.UniqueViolationError:
                raise
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # As SQLAlchemy would raise it: gateway.store.db.is_transient reads the SQLSTATE (disk full, …).
                raise DBAPIError.instance("COPY blobs FROM STDIN", None, exc, Exception) from exc
    except asyncpg.UniqueViolationError:
        return


async def _copy_rows(data: bytes, digest: str) -> AsyncIterator[bytes | memoryview]:
    key = digest.encode("ascii")
    yield (_COPY_HEADER + struct.pack("!hi", 3, len(key)) + key + struct.pack("!iqi", 8, len(data), len(data)))
    for piece in _pieces(data):
        yield piece
    yield _COPY_TRAILER
