"""Rows worked off under a lease (the mail outbox, tracker deliveries): which are due, claiming them,
handing untried ones back, the backoff between tries, and listing them for the CLI.

A model used here has id, status (pending|sending|…), next_attempt_at and lease_until columns.
"""
from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

JITTER = 0.2  # ±20% on each backoff delay, so rows that failed together do not retry together


def due(model, now: datetime):
    """Pending and due, or 'sending' under a lease that ran out (its sender died)."""
    return or_(and_(model.status == "pending", model.next_attempt_at <= now),
               and_(model.status == "sending", model.lease_until < now))


async def claim(session: AsyncSession, model, *, now: datetime, lease: timedelta, limit: int) -> list:
    """Up to `limit` due rows, oldest due first, marked 'sending' until now + lease, in `session`'s transaction.

    PostgreSQL: rows another sender has locked are skipped, not waited for. SQLite: the transaction
    began IMMEDIATE, so no other writer can take these rows meanwhile.
    """
    query = select(model).where(due(model, now)).order_by(model.next_attempt_at, model.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.scalars(query)).all())
    if rows:
        await session.execute(update(model).where(model.id.in_([row.id for row in rows]))
                              .values(status="sending", lease_until=now + lease)
                              .execution_options(synchronize_session=False))
    return rows


async def work_off(claim_some: Callable[[int], Awaitable[list]], deliver: Callable[[list], Awaitable[list[str]]], *,
                   limit: int, chunk: int, stop: asyncio.Event | None, counts: dict[str, int]) -> dict[str, int]:
    """Claim up to `limit` due rows `chunk` at a time and deliver each chunk, until none is due or `stop` is
    set; `counts` (a key for each outcome `deliver` returns) counted up and returned.

    A claim that got fewer rows than it asked for took every row due: the next would find none, and cost a
    transaction to say so (under a steady stream, every other claim of the outbox's), unless `deliver` handed
    some back untried. Rows that come due meanwhile are the next round's, which whoever makes them asks for
    (the sender's wake())."""
    while limit > 0 and not (stop is not None and stop.is_set()):
        asked = min(limit, chunk)
        claimed = await claim_some(asked)
        if not claimed:
            break
        limit -= len(claimed)
        outcomes = await deliver(claimed)
        for outcome in outcomes:
            counts[outcome] += 1
        if len(claimed) < asked and len(outcomes) == len(claimed):  # (rows handed back untried are due again)
            break
    return counts


async def release(session: AsyncSession, model, ids: Sequence[int]) -> None:
    """Hand claimed rows back untried: pending again, due as they were."""
    if ids:
        await session.execute(update(model).where(model.id.in_(list(ids))).values(status="pending", lease_until=None)
                              .execution_options(synchronize_session=False))


def backoff(attempts: int, *, base_seconds: float, max_seconds: float, rng: random.Random) -> timedelta:
    """min(base_seconds * 2**(attempts-1), max_seconds), then ±20% jitter."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempts - 1), max_seconds) * rng.uniform(1 - JITTER, 1 + JITTER))


async def list_rows(session: AsyncSession, model, *, status: str | None = None, limit: int = 200) -> list:
    """The newest `limit` rows (optionally of one status), oldest first."""
    query = select(model).order_by(model.id.desc()).limit(limit)
    if status:
        query = query.where(model.status == status)
    return list((await session.scalars(query)).all())[::-1]
