"""The inbound spool as a table of the database (PostgreSQL): rows claimed FOR UPDATE SKIP LOCKED, so
several instances drain one spool without processing a row twice, and marked done in the batch's transaction."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Collection, Mapping, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.blobs import put_blob
from gateway.store.db import Database
from gateway.store.models import Blob, SpoolEntry
from gateway.store.spool import Mail, Spooled, SpoolStatus, age


class TableSpool:
    """The spool table of `db`; see gateway.store.spool.Spool for what each method promises."""

    def __init__(self, db: Database):
        self.db = db

    async def write(self, mails: Sequence[Mail], now: datetime) -> list[int]:
        async with self.db.transaction() as session:
            entries = []
            for raw, digest, source, envelope_from, recipients in mails:
                await put_blob(session, raw, digest)
                entries.append(SpoolEntry(received_at=now, source=source, envelope_from=envelope_from,
                                          recipients=list(recipients), raw_sha256=digest, status="pending"))
            session.add_all(entries)
            await session.flush()  # one INSERT per row keeps their ids in the order given
            return [entry.id for entry in entries]

    async def pending(self, *, limit: int, max_bytes: int, known: Mapping[int, bytes],
                      skip: Collection[int] = ()) -> list[Spooled]:
        async with self.db.transaction() as session:
            return await self._pending(session, limit, max_bytes, known, skip)

    async def _pending(self, session: AsyncSession, limit: int, max_bytes: int,
                       known: Mapping[int, bytes], skip: Collection[int] = ()) -> list[Spooled]:
        query = (select(SpoolEntry.id, Blob.size).join(Blob, Blob.sha256 == SpoolEntry.raw_sha256)
                 .where(SpoolEntry.status == "pending", SpoolEntry.id.not_in(list(skip)))
                 .order_by(SpoolEntry.id).limit(limit))
        heads = (await session.execute(query)).all()
        if heads and session.bind.dialect.name == "postgresql":
            free = (await session.execute(query.with_for_update(skip_locked=True, of=SpoolEntry))).all()
            if not free or free[0].id != heads[0].id:
                # Another instance's batch holds the oldest rows. Taking the ones after them would process a
                # reply before the mail it answers; wait for that batch instead (and parse nothing meanwhile).
                return []
        chosen, total = [], 0
        for head in heads:
            if chosen and total + head.size > max_bytes:
                break
            chosen.append(head.id)
            total += head.size
        if not chosen:
            return []
        entries = (await session.scalars(select(SpoolEntry).where(SpoolEntry.id.in_(chosen))
                                         .order_by(SpoolEntry.id))).all()
        # Bytes a caller of this process still holds are not read back: a second copy of a 25 MB mail for nothing.
        wanted = {entry.raw_sha256 for entry in entries if entry.id not in known}
        data = dict((await session.execute(select(Blob.sha256, Blob.data).where(Blob.sha256.in_(wanted)))).all()) \
            if wanted else {}
        return [Spooled(entry.id, known[entry.id] if entry.id in known else data[entry.raw_sha256], entry.raw_sha256,
                        entry.source, entry.envelope_from, tuple(entry.recipients or ())) for entry in entries]

    async def claim(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        # Rows another instance is processing are locked by its batch transaction and skipped; rows it
        # finished are no longer pending.
        query = (select(SpoolEntry.id).where(SpoolEntry.id.in_(list(ids)), SpoolEntry.status == "pending")
                 .with_for_update(skip_locked=True))
        return set((await session.scalars(query)).all())

    async def finish(self, session: AsyncSession, done: Sequence[tuple[Spooled, dict]], now: datetime) -> None:
        for row, outcome in done:
            await session.execute(update(SpoolEntry).where(SpoolEntry.id == row.id)
                                  .values(status="done", outcome=outcome, processed_at=now))

    async def forget(self, ids: Sequence[int]) -> None:
        pass  # marked done in the batch's transaction already

    async def outcomes_of(self, ids: Sequence[int]) -> dict[int, dict]:
        async with self.db.transaction() as session:
            rows = await session.execute(select(SpoolEntry.id, SpoolEntry.outcome)
                                         .where(SpoolEntry.id.in_(list(ids)), SpoolEntry.status == "done"))
            return {row.id: row.outcome for row in rows}

    async def prune(self, before: datetime) -> int:
        async with self.db.transaction() as session:
            result = await session.execute(delete(SpoolEntry).where(SpoolEntry.status == "done",
                                                                    SpoolEntry.processed_at < before))
            return result.rowcount or 0

    async def status(self, now: datetime) -> SpoolStatus:
        async with self.db.transaction() as session:
            depth, oldest = (await session.execute(
                select(func.count(SpoolEntry.id), func.min(SpoolEntry.received_at))
                .where(SpoolEntry.status == "pending"))).one()

            async def done_since(delta: timedelta) -> int:
                return await session.scalar(select(func.count(SpoolEntry.id)).where(
                    SpoolEntry.status == "done", SpoolEntry.processed_at >= now - delta))

            return SpoolStatus(depth, age(oldest, now), await done_since(timedelta(minutes=1)),
                               await done_since(timedelta(hours=1)))

    def close(self) -> None:
        pass
