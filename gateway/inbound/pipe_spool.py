"""`gateway ingest` with no serve running: commit the mail to the spool file beside a SQLite database.

An MTA starts one process per mail. Loading the validated configuration and the ORM costs such a
process most of a second, and running the pipeline more; neither is needed to take the mail: its
bytes and envelope committed to the spool (store/spool_file.py, the standard library's sqlite3) is
"accepted" (exit 0), and serve, `gateway ingest --drain` or `gateway jobs run spool` runs the
pipeline over it later. So this module reads only the [database] table (no validation: anything odd,
or a database other than a SQLite file, sends the mail down the ordinary path) and imports nothing
heavy.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from gateway.config_source import overlaid
from gateway.errors import ConfigError
from gateway.store import spool_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SQLITE = "sqlite+aiosqlite:///"
DEFAULT_URL = SQLITE + "var/gateway.db"  # database.url's default
DEFAULT_BUSY_TIMEOUT_MS = 5000  # database.busy_timeout_ms' default


def spool_target(config_path: str, environ: Mapping[str, str]) -> tuple[str, int] | None:
    """(spool file, busy timeout in ms) when config.toml and GATEWAY_DATABASE__* name a SQLite database
    file, as gateway.config resolves it; None otherwise (the ordinary path decides)."""
    try:
        database = overlaid(config_path, environ).get("database", {})
    except ConfigError:
        return None
    if not isinstance(database, dict):
        return None
    url, timeout = database.get("url", DEFAULT_URL), database.get("busy_timeout_ms", DEFAULT_BUSY_TIMEOUT_MS)
    if not isinstance(url, str) or not url.startswith(SQLITE) or "?" in url or ":memory:" in url:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        return None
    path = url[len(SQLITE):]
    if not path:
        return None
    if not path.startswith("/"):  # relative to the config file's folder, as Settings.database_url has it
        path = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(config_path)), path))
    return spool_file.path_for(path), timeout


def spool_mail(raw: bytes, *, path: str, busy_timeout_ms: int, sender: str | None,
               recipients: Sequence[str]) -> int:
    """Commit `raw` and its envelope to the spool file at `path`; its spool id once durable.

    Raises sqlite3.Error or OSError when it is not: then nothing was accepted.
    """
    conn = spool_file.connect(path, busy_timeout_ms=busy_timeout_ms)
    try:
        # No SHA-256 here (hashlib loads OpenSSL: milliseconds of every pipe process): the drain computes it.
        # datetime.now(), not gateway.clock: its imports (dataclasses, typing) would cost every pipe process.
        [spool_id] = spool_file.write(conn, [(datetime.now(timezone.utc).isoformat(), "pipe", sender,
                                              json.dumps(list(recipients)), spool_file.DIGEST_LATER, raw)])
    finally:
        conn.close()
    return spool_id

