"""The inbound spool on SQLite: a file of its own beside the database (store/spool_file.py), on one
thread and connection of its own, and the database's spool_done table that each batch's transaction
writes. Pending = rows of the file whose id spool_done does not hold."""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Collection, Mapping, Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import TempFail
from gateway.store import spool_file
from gateway.store.blobs import sha256_hex
from gateway.store.db import Database
from gateway.store.models import Blob, SpoolDone, SpoolEntry
from gateway.store.spool import Mail, Spooled, SpoolStatus, age

log = logging.getLogger(__name__)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


class FileSpool:
    """The spool file at `path` beside `db`; see gateway.store.spool.Spool for what each method promises."""

    def __init__(self, db: Database, path: str):
        self.db, self.path = db, path
        # One thread owns the file's connection: accepts queue here, never behind the database's write lock.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-file")
        self._conn: sqlite3.Connection | None = None

    async def _call(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)
        except (sqlite3.Error, OSError) as exc:
            raise TempFail(spool_file.problem(self.path, exc)) from exc

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        if self._conn is None:
            self._conn = spool_file.connect(self.path, busy_timeout_ms=self.db.busy_timeout_ms)
        return work(self._conn)

    async def write(self, mails: Sequence[Mail], now: datetime) -> list[int]:
        at = iso(now)
        rows = [(at, source, envelope_from, json.dumps(list(recipients)), digest, raw)
                for raw, digest, source, envelope_from, recipients in mails]
        return await self._call(lambda conn: spool_file.write(conn, rows))

    async def pending(self, *, limit: int, max_bytes: int, known: Mapping[int, bytes],
                      skip: Collection[int] = (), writing: Mapping[str, bytes] | None = None) -> list[Spooled]:
        writing = writing or {}

        def read(conn: sqlite3.Connection) -> list[tuple]:
            chosen, total, held = [], 0, {}
            for spool_id, size, digest in spool_file.heads(conn, limit, skip):
                if chosen and total + size > max_bytes:
                    break
                chosen.append(spool_id)
                total += size
                # Bytes a caller of this process still holds are not read back: a second copy of a 25 MB mail for
                # nothing. Looked up here, on this thread, right after the write queued before this read: the
                # caller learns the new ids only once it is back on the loop, so by id alone a mail accepted
                # while the drain looked was read back (bench/memory.py --via smtp: 4.7x instead of 3.2x, now
                # and then). dict.get is atomic; the bytes are referenced from here on.
                raw = known.get(spool_id)
                if raw is None and digest != spool_file.DIGEST_LATER:
                    raw = writing.get(digest)
                if raw is not None:
                    held[spool_id] = raw
            found = spool_file.rows(conn, chosen, with_raw={i for i in chosen if i not in held}) if chosen else []
            # The pipe with no serve leaves hashing to us (held bytes were hashed when accepted here).
            return [(*row[:5], sha256_hex(row[6]) if row[5] == spool_file.DIGEST_LATER else row[5],
                     held.get(row[0], row[6])) for row in found]

        return [Spooled(spool_id, raw, digest, source, envelope_from, tuple(json.loads(recipients)))
                for spool_id, _, source, envelope_from, recipients, digest, raw in await self._call(read)]

    async def claim(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        # The batch transaction holds the database's one write lock: a row not in spool_done now is ours.
        done = set((await session.scalars(select(SpoolDone.id).where(SpoolDone.id.in_(list(ids))))).all())
        return set(ids) - done

    async def finish(self, session: AsyncSession, done: Sequence[tuple[Spooled, dict]], now: datetime) -> None:
        if done:
            await session.execute(insert(SpoolDone), [{"id": row.id, "raw_sha256": row.digest, "outcome": outcome,
                                                       "processed_at": now} for row, outcome in done])

    async def forget(self, ids: Sequence[int]) -> None:
        try:
            await self._call(lambda conn: spool_file.drop(conn, list(ids)))
        except TempFail as exc:  # harmless: spool_done says they are done, the next forget() drops them
            log.warning("spool file: done rows not dropped yet: %s", exc)

    async def outcomes_of(self, ids: Sequence[int]) -> dict[int, dict]:
        async with self.db.transaction() as session:
            rows = await session.execute(select(SpoolDone.id, SpoolDone.outcome).where(SpoolDone.id.in_(list(ids))))
            return {row.id: row.outcome for row in rows}

    async def prune(self, before: datetime) -> int:
        async with self.db.transaction() as session:
            gone = await session.execute(SpoolDone.__table__.delete().where(SpoolDone.processed_at < before))
            return gone.rowcount or 0

    async def status(self, now: datetime) -> SpoolStatus:
        async with self.db.transaction() as session:
            last_done = await session.scalar(select(func.max(SpoolDone.id))) or 0
            minute, hour = [await session.scalar(select(func.count()).select_from(SpoolDone)
                                                 .where(SpoolDone.processed_at >= now - delta))
                            for delta in (timedelta(minutes=1), timedelta(hours=1))]
        # Rows up to the newest done id may be done and not dropped yet (a crash in between): ask spool_done.
        behind, (count, oldest) = await self._call(
            lambda conn: (spool_file.ids_upto(conn, last_done), spool_file.beyond(conn, last_done)))
        if behind:
            async with self.db.transaction() as session:
                done = set((await session.scalars(select(SpoolDone.id).where(
                    SpoolDone.id.in_([spool_id for spool_id, _ in behind])))).all())
            behind = [(spool_id, at) for spool_id, at in behind if spool_id not in done]
            oldest = behind[0][1] if behind else oldest
        return SpoolStatus(count + len(behind), age(datetime.fromisoformat(oldest) if oldest else None, now),
                           minute, hour)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._thread.submit(shut)
        self._thread.shutdown(wait=False)


async def create_file(db: Database) -> None:
    """Make the spool file beside `db` if it is missing, with ids above any the database has seen, and move
    mail a gateway before it left pending in the database's spool table into it. Safe to run on every start."""
    async with db.transaction() as session:
        floor = max(await session.scalar(select(func.max(SpoolEntry.id))) or 0,
                    await session.scalar(select(func.max(SpoolDone.id))) or 0)
        legacy = (await session.execute(
            select(SpoolEntry.id, SpoolEntry.received_at, SpoolEntry.source, SpoolEntry.envelope_from,
                   SpoolEntry.recipients, SpoolEntry.raw_sha256, Blob.data)
            .join(Blob, Blob.sha256 == SpoolEntry.raw_sha256).where(SpoolEntry.status == "pending"))).all()

    def make() -> None:
        conn = spool_file.connect(db.spool_path, busy_timeout_ms=db.busy_timeout_ms, create=True)
        try:
            spool_file.start_ids_above(conn, floor)
            spool_file.put_back(conn, [(row.id, iso(row.received_at.replace(tzinfo=row.received_at.tzinfo or
                                                                             timezone.utc)),
                                        row.source, row.envelope_from, json.dumps(list(row.recipients or ())),
                                        row.raw_sha256, row.data) for row in legacy])
        finally:
            conn.close()

    try:
        await asyncio.to_thread(make)
    except (sqlite3.Error, OSError) as exc:
        raise TempFail(f"spool file {db.spool_path} cannot be made: {exc}") from exc
    if legacy:
        async with db.transaction() as session:
            await session.execute(update(SpoolEntry).where(SpoolEntry.id.in_([row.id for row in legacy]))
                                  .values(status="moved"))
        log.info("moved %d pending mail(s) from the database's spool table into %s", len(legacy), db.spool_path)
