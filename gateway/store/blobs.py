"""Raw bytes by SHA-256 in the database, so they commit in the same transaction as what they cause."""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.models import Blob


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def insert_ignoring_conflicts(session: AsyncSession, model):
    """INSERT … ON CONFLICT DO NOTHING for this session's dialect."""
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).on_conflict_do_nothing()


async def put_blob(session: AsyncSession, data: bytes, digest: str | None = None) -> str:
    """Store `data` once; return its SHA-256 hex digest."""
    digest = digest or sha256_hex(data)
    await session.execute(insert_ignoring_conflicts(session, Blob),
                          [{"sha256": digest, "size": len(data), "data": data}])
    return digest


async def get_blob(session: AsyncSession, digest: str) -> bytes | None:
    return await session.scalar(select(Blob.data).where(Blob.sha256 == digest))
