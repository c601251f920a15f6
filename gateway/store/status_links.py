"""Customers' status links: one unguessable, revocable token per ticket and requester."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.db import insert_ignoring_conflicts
from gateway.store.models import StatusLink, Ticket

TOKEN_BYTES = 24  # 192 bits: 32 URL-safe characters, beyond guessing


async def link_token(session: AsyncSession, ticket: Ticket, *, now: datetime) -> str:
    """The requester's live token for `ticket`, made on first use; a revoked one is replaced by a new one."""
    address = ticket.requester.lower()
    await session.execute(insert_ignoring_conflicts(session, StatusLink).values(
        ticket_id=ticket.id, address=address, token=secrets.token_urlsafe(TOKEN_BYTES), created_at=now))
    link = await session.scalar(select(StatusLink).where(StatusLink.ticket_id == ticket.id,
                                                         StatusLink.address == address))
    if link.revoked_at is not None:
        link.token, link.revoked_at, link.created_at = secrets.token_urlsafe(TOKEN_BYTES), None, now
    return link.token


async def find(session: AsyncSession, token: str) -> tuple[StatusLink, Ticket] | None:
    """The live link with this token and its ticket; None for an unknown or revoked token."""
    if not token or len(token) > 64:
        return None
    row = (await session.execute(
        select(StatusLink, Ticket).join(Ticket, Ticket.id == StatusLink.ticket_id)
        .where(StatusLink.token == token, StatusLink.revoked_at.is_(None))
    )).first()
    return (row[0], row[1]) if row else None


async def revoke(session: AsyncSession, ticket_id: int, *, now: datetime) -> int:
    """Revoke every live link of a ticket; returns how many were live."""
    result = await session.execute(update(StatusLink).where(StatusLink.ticket_id == ticket_id,
                                                            StatusLink.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount or 0
