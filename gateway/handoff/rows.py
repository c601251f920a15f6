"""Hand-offs for the CLI: list them, and queue failed ones again (the mail outbox's list/retry, for trackers)."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import leases
from gateway.store.models import TrackerDelivery


async def list_rows(session: AsyncSession, *, status: str | None = None, limit: int = 200) -> list[TrackerDelivery]:
    """The newest `limit` deliveries (optionally of one status), oldest first."""
    return await leases.list_rows(session, TrackerDelivery, status=status, limit=limit)


async def retry(session: AsyncSession, *, ids: Sequence[int] | None, now: datetime) -> int:
    """Failed deliveries (or those `ids` names, unless being tried or delivered) due again now; how many.

    They keep their idempotency key: a delivery that did reach the tracker finds its issue instead of
    making a second one.
    """
    query = update(TrackerDelivery).values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
    if ids:
        query = query.where(TrackerDelivery.id.in_(list(ids)), TrackerDelivery.status.in_(("pending", "failed")))
    else:
        query = query.where(TrackerDelivery.status == "failed")
    result = await session.execute(query.execution_options(synchronize_session=False))
    return result.rowcount
