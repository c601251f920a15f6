"""The inbound spool: what accepting and draining mail ask of it, and which of its two homes a database gets.

PostgreSQL keeps the spool in a table of the database (store/spool_table.py): several instances claim
its rows with SKIP LOCKED. SQLite keeps it in a file of its own beside the database
(store/spool_sqlite.py), so that accepting a mail never waits for the one write lock a drain holds.
Either way a batch's transaction records its rows as done together with what the pipeline made of
them, and a crash re-runs exactly the rows not recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Collection, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from gateway.store.db import Database

# (raw, digest, source, envelope_from, recipients): one mail as accept() hands it to write().
Mail = tuple[bytes, str, str, "str | None", Sequence[str]]


@dataclass(frozen=True)
class Spooled:
    """One pending row as the drain reads it: its bytes and the envelope it arrived with."""

    id: int
    raw: bytes
    digest: str
    source: str
    envelope_from: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class SpoolStatus:
    depth: int
    oldest_pending_seconds: float | None
    done_last_minute: int
    done_last_hour: int

    def as_dict(self) -> dict:
        return {"depth": self.depth, "oldest_pending_seconds": self.oldest_pending_seconds,
                "done_last_minute": self.done_last_minute, "done_last_hour": self.done_last_hour}


class Spool(Protocol):
    async def write(self, mails: Sequence[Mail], now: datetime) -> list[int]:
        """Commit the mails in this order, in one transaction; their ids, ascending. TempFail: nothing written."""

    async def pending(self, *, limit: int, max_bytes: int, known: Mapping[int, bytes],
                      skip: Collection[int] = (), writing: Mapping[str, bytes] | None = None) -> list[Spooled]:
        """The oldest pending rows, at most `limit` and about `max_bytes` of mail (always at least one
        row); `known`: the bytes of rows the caller holds already, by id; `writing`: by SHA-256, those
        of mail whose write() has not returned yet (its rows may be committed, their ids not known to the
        caller); neither is read back. `skip`: ids set aside for now (a reply waiting for its parent).
        [] also while another instance processes the oldest rows, so that the spool is processed in
        arrival order."""

    async def claim(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        """Of `ids`, those still pending and now ours until the batch transaction `session` ends."""

    async def finish(self, session: AsyncSession, done: Sequence[tuple[Spooled, dict]], now: datetime) -> None:
        """Record (row, outcome) pairs as done in the batch transaction `session`."""

    async def forget(self, ids: Sequence[int]) -> None:
        """After the batch's commit: rows `ids` are done (here or by another instance)."""

    async def outcomes_of(self, ids: Sequence[int]) -> dict[int, dict]:
        """The stored outcomes of those of `ids` that are done, by id."""

    async def prune(self, before: datetime) -> int:
        """Forget done rows processed before `before` (their mail lives on in messages and blobs); how many."""

    async def status(self, now: datetime) -> SpoolStatus:
        """Pending depth, the oldest pending mail's age, rows done in the last minute and hour."""

    def close(self) -> None:
        """Let go of what the spool holds beside the database's engine."""


def open_spool(db: Database) -> Spool:
    """The spool of `db`: in a file beside a SQLite database file, else in the database's spool table."""
    if db.spool_path is not None:
        from gateway.store.spool_sqlite import FileSpool

        return FileSpool(db, db.spool_path)
    from gateway.store.spool_table import TableSpool

    return TableSpool(db)


def age(oldest: datetime | None, now: datetime) -> float | None:
    """Seconds since `oldest` (None: nothing pending); a naive time (SQLite returns those) is taken as now's zone."""
    if oldest is None:
        return None
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())
