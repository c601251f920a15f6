"""Named counters for `gateway stats`: what happened to mail that leaves no row of its own."""
from __future__ import annotations

import collections
import re

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.models import Counter
from gateway.store.upsert import insert_for

# Groups shown as {kind: count} by `gateway stats --json`; a counter "group:kind" belongs to one.
GROUPS = ("loop_guarded_by_kind", "bounces_by_kind", "quarantined_by_reason", "held_back_by_reason")

PENDING = "pending_counters"  # session.info key: what this transaction added, not yet written


def bump(session: AsyncSession, name: str, by: int = 1) -> None:
    """Add `by` to counter `name` as part of the session's transaction.

    Nothing is written here: Database.transaction writes every counter the transaction bumped in
    one statement just before it commits, and a savepoint that rolls back takes its bumps with it.
    """
    session.info.setdefault(PENDING, collections.Counter())[name[:128]] += by


def pending(session: AsyncSession) -> dict[str, int]:
    """A copy of what the transaction has bumped so far, for `restore` when a savepoint rolls back."""
    return dict(session.info.get(PENDING, {}))


def restore(session: AsyncSession, saved: dict[str, int]) -> None:
    session.info[PENDING] = collections.Counter(saved)


async def write_pending(session: AsyncSession) -> None:
    """One upsert for all of the transaction's bumps, safe against concurrent writers."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    insert = insert_for(session.bind.dialect.name)
    statement = insert(Counter.__table__)
    # In name order, so that two instances bumping the same counters lock their rows in one order.
    await session.execute(
        statement.on_conflict_do_update(index_elements=[Counter.name],
                                        set_={"value": Counter.value + statement.excluded.value}),
        [{"name": name, "value": by} for name, by in sorted(pending.items())])


def kind_of(reason: str) -> str:
    """The stable head of a reason, for grouping: 'too many MIME parts: 300 > 200' -> 'too many MIME parts'."""
    head = reason.split(":", 1)[0].strip()
    return re.sub(r"\s+", " ", head)[:80] or "unknown"
