"""The inbound spool's queries: write accepted mail, read and claim pending rows in order, mark them done, report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.blobs import put_blob
from gateway.store.models import Blob, SpoolEntry


@dataclass(frozen=True)
class Spooled:
    """One pending row as the drain reads it: its bytes and the envelope it arrived with."""

    id: int
    raw: bytes
    digest: str
    source: str
    envelope_from: str | None
    recipients: tuple[str, ...]


async def write(session: AsyncSession, mails: Sequence[tuple[bytes, str, str, str | None, Sequence[str]]],
                now: datetime) -> list[int]:
    """Spool (raw, digest, source, envelope_from, recipients) tuples in this order; their ids, ascending."""
    entries = []
    for raw, digest, source, envelope_from, recipients in mails:
        await put_blob(session, raw, digest)
        entries.append(SpoolEntry(received_at=now, source=source, envelope_from=envelope_from,
                                  recipients=list(recipients), raw_sha256=digest, status="pending"))
    session.add_all(entries)
    await session.flush()  # one INSERT per row keeps their ids in the order given
    return [entry.id for entry in entries]


async def pending(session: AsyncSession, *, limit: int, max_bytes: int,
                  known: Mapping[int, bytes] | None = None) -> list[Spooled]:
    """The oldest pending rows, at most `limit` and about `max_bytes` of mail (always at least one row);
    `known`: the bytes of rows the caller holds already, by spool id.

    [] also while another instance is processing the oldest pending rows (PostgreSQL), so that
    instances take turns batch by batch and the spool is processed in arrival order.
    """
    query = (select(SpoolEntry.id, Blob.size).join(Blob, Blob.sha256 == SpoolEntry.raw_sha256)
             .where(SpoolEntry.status == "pending").order_by(SpoolEntry.id).limit(limit))
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
    known = known or {}
    entries = (await session.scalars(select(SpoolEntry).where(SpoolEntry.id.in_(chosen)).order_by(SpoolEntry.id))).all()
    # Bytes a caller of this process still holds are not read back: a second copy of a 25 MB mail for nothing.
    wanted = {entry.raw_sha256 for entry in entries if entry.id not in known}
    data = dict((await session.execute(select(Blob.sha256, Blob.data).where(Blob.sha256.in_(wanted)))).all()) \
        if wanted else {}
    return [Spooled(entry.id, known[entry.id] if entry.id in known else data[entry.raw_sha256], entry.raw_sha256,
                    entry.source, entry.envelope_from, tuple(entry.recipients or ())) for entry in entries]


async def claim(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Of `ids`, those still pending and now ours until this transaction ends.

    PostgreSQL: rows another instance is processing are locked by its batch transaction and skipped;
    rows it finished are no longer pending. SQLite: the batch transaction holds the one write lock.
    """
    query = (select(SpoolEntry.id).where(SpoolEntry.id.in_(list(ids)), SpoolEntry.status == "pending")
             .with_for_update(skip_locked=True))
    return set((await session.scalars(query)).all())


async def finish(session: AsyncSession, spool_id: int, outcome: dict, now: datetime) -> None:
    await session.execute(update(SpoolEntry).where(SpoolEntry.id == spool_id)
                          .values(status="done", outcome=outcome, processed_at=now))


async def outcomes_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict]:
    """The stored outcomes of those of `ids` that are done, by id."""
    rows = await session.execute(select(SpoolEntry.id, SpoolEntry.outcome)
                                 .where(SpoolEntry.id.in_(list(ids)), SpoolEntry.status == "done"))
    return {row.id: row.outcome for row in rows}


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forget done rows processed before `before` (their mail lives on in messages and blobs); how many."""
    result = await session.execute(delete(SpoolEntry).where(SpoolEntry.status == "done",
                                                            SpoolEntry.processed_at < before))
    return result.rowcount or 0


@dataclass(frozen=True)
class SpoolStatus:
    depth: int
    oldest_pending_seconds: float | None
    done_last_minute: int
    done_last_hour: int

    def as_dict(self) -> dict:
        return {"depth": self.depth, "oldest_pending_seconds": self.oldest_pending_seconds,
                "done_last_minute": self.done_last_minute, "done_last_hour": self.done_last_hour}


async def status(session: AsyncSession, now: datetime) -> SpoolStatus:
    depth, oldest = (await session.execute(select(func.count(SpoolEntry.id), func.min(SpoolEntry.received_at))
                                           .where(SpoolEntry.status == "pending"))).one()

    async def done_since(delta: timedelta) -> int:
        return await session.scalar(select(func.count(SpoolEntry.id)).where(
            SpoolEntry.status == "done", SpoolEntry.processed_at >= now - delta))

    age = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)  # SQLite returns naive times
        age = max(0.0, (now - oldest).total_seconds())
    return SpoolStatus(depth, age, await done_since(timedelta(minutes=1)), await done_since(timedelta(hours=1)))
