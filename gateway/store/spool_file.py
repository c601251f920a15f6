"""The inbound spool as a SQLite file of its own beside a SQLite database, with the standard library only.

SQLite has one writer at a time and a drain transaction holds it for a whole batch; in a file of its
own, with its own lock, accepting a mail (the SMTP 250) never waits for a drain. The drain records each
row it ran in the database's spool_done table, in the batch's transaction; this file drops the row
afterwards, and a row still here whose id is in spool_done is done (a crash came in between).
`gateway ingest` with no serve running writes this file itself: nothing here imports more than
sqlite3, so such a process never loads the ORM. Functions take a connection from connect() and run
on the caller's thread; each write is one transaction.
"""
from __future__ import annotations

import os
import sqlite3
from typing import Collection

SUFFIX = ".spool.sqlite"

# AUTOINCREMENT: an id is never used twice, also after every row is deleted; spool_done holds ids.
SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,  -- ISO 8601, UTC
    source TEXT NOT NULL,
    envelope_from TEXT,  -- '' the null sender; NULL unknown
    recipients TEXT NOT NULL,  -- a JSON array
    raw_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    raw BLOB NOT NULL
)"""
INSERT = ("INSERT INTO spool (received_at, source, envelope_from, recipients, raw_sha256, size, raw) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")
INSERT_ZEROS = INSERT.replace("?)", "zeroblob(?))")
# raw_sha256 of a row whose writer left hashing to the drain (the pipe with no serve).
DIGEST_LATER = ""
FIELDS = ("id", "received_at", "source", "envelope_from", "recipients", "raw_sha256")


def path_for(database_path: str) -> str:
    """The spool file beside the database file `database_path`."""
    return database_path + SUFFIX


def connect(path: str, *, busy_timeout_ms: int, create: bool = False) -> sqlite3.Connection:
    """A connection whose transactions are explicit; WAL, and every commit fsync'd (synchronous=FULL).

    Without `create`, sqlite3.OperationalError when the file does not exist: `gateway db upgrade` makes it.
    """
    if not create and not os.path.exists(path):
        raise sqlite3.OperationalError(f"no such file: {path}")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        if create:
            conn.execute(SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def _transaction(conn: sqlite3.Connection, work):
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


# SQLite copies a value bound whole and builds its row from the copy: a 25 MB mail would take two to
# three times its size again for a moment. From this size on the row is made of zeros (which SQLite
# writes page by page) and the bytes go in through a blob handle, PIECE at a time.
PIECEWISE_FROM = 1 << 20
PIECE = 1 << 20


def write(conn: sqlite3.Connection, mails: list[tuple]) -> list[int]:
    """Insert (received_at, source, envelope_from, recipients_json, raw_sha256, raw) tuples in this order,
    in one transaction; their ids, ascending. Durable once this returns."""
    def insert(mail: tuple) -> int:
        raw = mail[5]
        if len(raw) < PIECEWISE_FROM:
            return conn.execute(INSERT, (*mail[:5], len(raw), raw)).lastrowid
        spool_id = conn.execute(INSERT_ZEROS, (*mail[:5], len(raw), len(raw))).lastrowid
        view = memoryview(raw)
        with conn.blobopen("spool", "raw", spool_id) as blob:
            for start in range(0, len(view), PIECE):
                blob.write(view[start:start + PIECE])
        return spool_id

    return _transaction(conn, lambda: [insert(mail) for mail in mails])


def heads(conn: sqlite3.Connection, limit: int, skip: Collection[int] = ()) -> list[tuple[int, int, str]]:
    """(id, size, raw_sha256) of the oldest `limit` rows, leaving out the ids in `skip`."""
    skip = list(skip)
    return conn.execute(f"SELECT id, size, raw_sha256 FROM spool WHERE id NOT IN ({','.join('?' * len(skip))}) ORDER BY id LIMIT ?",
                        (*skip, limit)).fetchall()


def rows(conn: sqlite3.Connection, ids: list[int], *, with_raw: set[int]) -> list[tuple]:
    """FIELDS plus raw (None unless the id is in `with_raw`) of the rows `ids`, by id."""
    marks = ",".join("?" * len(ids))
    found = conn.execute(f"SELECT {', '.join(FIELDS)}, CASE WHEN id IN ({','.join('?' * len(with_raw)) or 'NULL'}) "
                         f"THEN raw END FROM spool WHERE id IN ({marks}) ORDER BY id", [*with_raw, *ids])
    return found.fetchall()


def drop(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete the rows `ids` (done: spool_done has them). Not fsync'd: a crash brings back rows spool_done
    already names, and those count as done."""
    if not ids:
        return
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        _transaction(conn, lambda: conn.execute(f"DELETE FROM spool WHERE id IN ({','.join('?' * len(ids))})", ids))
    finally:
        conn.execute("PRAGMA synchronous=FULL")


def ids_upto(conn: sqlite3.Connection, upto: int) -> list[tuple[int, str]]:
    """(id, received_at) of the rows with id <= `upto`: the only ones spool_done may name."""
    return conn.execute("SELECT id, received_at FROM spool WHERE id <= ? ORDER BY id", (upto,)).fetchall()


def beyond(conn: sqlite3.Connection, after: int) -> tuple[int, str | None]:
    """(how many rows, received_at of the oldest) with id > `after`: pending, spool_done has none of them."""
    count, = conn.execute("SELECT count(*) FROM spool WHERE id > ?", (after,)).fetchone()
    oldest = conn.execute("SELECT received_at FROM spool WHERE id > ? ORDER BY id LIMIT 1", (after,)).fetchone()
    return count, oldest[0] if oldest else None


def start_ids_above(conn: sqlite3.Connection, floor: int) -> None:
    """Make the next id greater than `floor` (a new file must not reuse ids that spool_done holds)."""
    def work() -> None:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'spool'").fetchone()
        if row is None:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('spool', ?)", (floor,))
        elif row[0] < floor:
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'spool'", (floor,))
    _transaction(conn, work)


def put_back(conn: sqlite3.Connection, mails: list[tuple]) -> None:
    """Insert rows with the ids they had elsewhere: (id, received_at, source, envelope_from, recipients_json,
    raw_sha256, raw); a row already here is left alone (moving them again after a crash is harmless)."""
    _transaction(conn, lambda: conn.executemany(
        "INSERT OR IGNORE INTO spool (id, received_at, source, envelope_from, recipients, raw_sha256, size, raw) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*mail[:6], len(mail[6]), mail[6]) for mail in mails]))


def problem(path: str, exc: BaseException) -> str:
    """One line for a spool file that failed: what, and what to do when there is something to do."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if text.startswith(("no such file", "no such table")):
        return f"spool file {path} is missing or incomplete ({text}): run `gateway db upgrade`"
    return f"spool file {path} unavailable: {text}"
