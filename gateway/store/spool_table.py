"""The inbound spool as a table of the database (PostgreSQL): rows claimed FOR UPDATE SKIP LOCKED, so
several instances drain one spool without processing a row twice, and marked done in the batch's transaction."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Collection, Mapping, Sequence

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.blobs import PIECEWISE_FROM, put_blob
from gateway.store.db import Database
from gateway.store.models import Blob, SpoolEntry
from gateway.store.spool import Mail, Spooled, SpoolStatus, age


# A group's blobs and spool rows in one statement, one round trip whatever the group's size: under load
# every round trip waits for a turn of the event loop that twenty SMTP sessions and the drain share, and
# the ORM's INSERT per blob plus a flush took a group of ten ~30 ms on a busy machine (10 ms this way),
# with every session of the next group waiting behind it. Arrays, not a VALUES list, so that the text (and its prepared statement) is
# the same for any group. The spool rows' foreign key is checked at the end of the statement, when the
# blobs inserted beside them are there; a blob stored before (same digest, same bytes) is left alone.
# The bytes one statement may carry: asyncpg copies every bound value into its message buffer, so a group
# of 64 mails just under PIECEWISE_FROM (or an import batch of 200) would take that much again at once.
STATEMENT_BYTES = 4 << 20
_WRITE = text("""
WITH blob AS (
    INSERT INTO blobs (sha256, size, data)
    SELECT * FROM unnest(CAST(:blob_sha256 AS varchar[]), CAST(:blob_size AS bigint[]), CAST(:blob_data AS bytea[]))
    ON CONFLICT DO NOTHING
)
INSERT INTO spool (received_at, source, envelope_from, recipients, raw_sha256, status)
SELECT CAST(:received_at AS timestamptz), mail.source, mail.envelope_from, CAST(mail.recipients AS json), mail.raw_sha256, 'pending'
FROM unnest(CAST(:source AS varchar[]), CAST(:envelope_from AS text[]), CAST(:recipients AS text[]),
            CAST(:raw_sha256 AS varchar[])) WITH ORDINALITY AS mail(source, envelope_from, recipients, raw_sha256, n)
ORDER BY mail.n
RETURNING id
""")


class TableSpool:
    """The spool table of `db`; see gateway.store.spool.Spool for what each method promises."""

    def __init__(self, db: Database):
        self.db = db

    async def write(self, mails: Sequence[Mail], now: datetime) -> list[int]:
        whole = (all(len(raw) < PIECEWISE_FROM for raw, *_ in mails)
                 and sum(len(raw) for raw, *_ in mails) <= STATEMENT_BYTES)
        bound = mails if whole else []
        values = {"blob_sha256": [mail[1] for mail in bound], "blob_size": [len(mail[0]) for mail in bound],
                  "blob_data": [mail[0] for mail in bound], "received_at": now,
                  "source": [mail[2] for mail in mails], "envelope_from": [mail[3] for mail in mails],
                  "recipients": [json.dumps(list(mail[4])) for mail in mails],
                  "raw_sha256": [mail[1] for mail in mails]}
        if whole:
            ids = await self.db.autocommit_scalars(_WRITE, values)  # the one statement is the transaction
        else:  # blob by blob first (a big one in pieces), so that no more than about a mail is bound at once
            async with self.db.transaction() as session:
                for raw, digest, *_ in mails:
                    await put_blob(session, raw, digest)
                ids = (await session.scalars(_WRITE, values)).all()
        return sorted(ids)  # taken from the sequence in the order given (ORDER BY n), so ascending = that order

    async def pending(self, *, limit: int, max_bytes: int, known: Mapping[int, bytes],
                      skip: Collection[int] = (), writing: Mapping[str, bytes] | None = None) -> list[Spooled]:
        async with self.db.transaction() as session:
            return await self._pending(session, limit, max_bytes, known, skip, writing or {})

    async def _pending(self, session: AsyncSession, limit: int, max_bytes: int, known: Mapping[int, bytes],
                       skip: Collection[int] = (), writing: Mapping[str, bytes] | None = None) -> list[Spooled]:
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
        # By digest too: a row committed while its write() has not returned yet has no id the caller knows.
        writing = writing or {}
        held = {entry.id: known[entry.id] if entry.id in known else writing.get(entry.raw_sha256)
                for entry in entries}
        wanted = {entry.raw_sha256 for entry in entries if held[entry.id] is None}
        data = dict((await session.execute(select(Blob.sha256, Blob.data).where(Blob.sha256.in_(wanted)))).all()) \
            if wanted else {}
        return [Spooled(entry.id, data[entry.raw_sha256] if held[entry.id] is None else held[entry.id], entry.raw_sha256,
                        entry.source, entry.envelope_from, tuple(entry.recipients or ())) for entry in entries]

    async def claim(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        # Rows another instance is processing are locked by its batch transaction and skipped; rows it
        # finished are no longer pending.
        query = (select(SpoolEntry.id).where(SpoolEntry.id.in_(list(ids)), SpoolEntry.status == "pending")
                 .with_for_update(skip_locked=True))
        return set((await session.scalars(query)).all())

    async def finish(self, session: AsyncSession, done: Sequence[tuple[Spooled, dict]], now: datetime) -> None:
        if done:  # by primary key, one executemany: asyncpg sends the rows in one round trip
            await session.execute(update(SpoolEntry), [{"id": row.id, "status": "done", "outcome": outcome,
                                                        "processed_at": now} for row, outcome in done])

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
