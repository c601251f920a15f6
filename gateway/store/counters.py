"""Named counters for `gateway stats`: what happened to mail that leaves no row of its own."""
from __future__ import annotations

import re

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.models import Counter

# Groups shown as {kind: count} by `gateway stats --json`; a counter "group:kind" belongs to one.
GROUPS = ("loop_guarded_by_kind", "bounces_by_kind", "quarantined_by_reason", "held_back_by_reason")


async def bump(session: AsyncSession, name: str, by: int = 1) -> None:
    """Add `by` to counter `name`, creating it; one upsert, safe against concurrent bumps."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Counter).values(name=name[:128], value=by)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + statement.excluded.value}))


def kind_of(reason: str) -> str:
    """The stable head of a reason, for grouping: 'too many MIME parts: 300 > 200' -> 'too many MIME parts'."""
    head = reason.split(":", 1)[0].strip()
    return re.sub(r"\s+", " ", head)[:80] or "unknown"
