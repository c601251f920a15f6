"""Whether two imports stored the same: the rows of every table an import writes, compared between two SQLite databases.

    python bench/import_rows.py BEFORE.db AFTER.db

For a change meant to make `gateway import` faster without changing what it stores: import the same
archive (bench/import_history.py's archive()) into two fresh databases, before and after, and compare.
Reply tokens are left out (random by design); everything else, ids included, must be equal. Exit 0 when
equal, 1 with the first differences said.
"""
from __future__ import annotations

import sqlite3
import sys

TABLES = ("tickets", "messages", "attachments", "events", "participants", "followups", "blobs", "quarantine",
          "outbox", "counters", "suppressions")
RANDOM = {"reply_token"}
BYTES = {"data"}  # blobs.data: compared through its sha256 and size, which are columns too


def rows(path: str) -> dict[str, list[tuple]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        found = {}
        for table in TABLES:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] not in RANDOM | BYTES]
            names = ", ".join(f'"{c}"' for c in columns)
            found[table] = [tuple(zip(columns, row)) for row in conn.execute(f"SELECT {names} FROM {table} ORDER BY 1")]
        return found


def differences(before: dict[str, list[tuple]], after: dict[str, list[tuple]], limit: int = 5) -> list[str]:
    said = []
    for table in TABLES:
        if len(before[table]) != len(after[table]):
            said.append(f"{table}: {len(before[table])} rows before, {len(after[table])} after")
        for old, new in zip(before[table], after[table]):
            if old != new and len(said) < limit:
                changed = {name: (value, dict(new).get(name)) for name, value in old if dict(new).get(name) != value}
                said.append(f"{table} {old[0]}: {changed}")
    return said


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    before, after = rows(argv[0]), rows(argv[1])
    said = differences(before, after)
    for line in said:
        print(line)
    if not said:
        print("same: " + ", ".join(f"{len(before[t])} {t}" for t in TABLES if before[t]))
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
