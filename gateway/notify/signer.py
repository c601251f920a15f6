"""The reply-token signer: the server key (environment or database) and the role of each recipient."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import Settings
from gateway.errors import TempFail
from gateway.mail.tokens import CUSTOMER, ENGINEER, level_role, sign
from gateway.store.models import ServerKey, Ticket

KEY_NAME = "reply-tokens"


class Signer:
    """Issues the token for each recipient of a ticket's mail; the key is read once per process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        secret = settings.security.secret
        self._key: bytes | None = secret.get_secret_value().encode() if secret else None
        # Address -> the levels whose recipient list has it, in level order: made once, not per recipient.
        self._lists: dict[str, list[int]] = {}
        for level in settings.levels:
            for address in {recipient.lower() for recipient in level.recipients}:
                self._lists.setdefault(address, []).append(level.number)

    async def key(self, session: AsyncSession) -> bytes:
        if self._key is None:
            value = await session.scalar(select(ServerKey.value).where(ServerKey.name == KEY_NAME))
            if value is None:
                raise TempFail(f"the database has no {KEY_NAME!r} key: run `gateway db upgrade`, "
                               f"or set GATEWAY_SECURITY__SECRET")
            self._key = value.encode()
        return self._key

    def role_for(self, ticket: Ticket, address: str) -> str:
        """Level list > engineer or assignee > customer; the ticket's own level wins for a shared list."""
        address = address.strip().lower()
        lists = self._lists.get(address)
        if lists:
            return level_role(ticket.level if ticket.level in lists else lists[0])
        if address in self.settings.engineers or address == (ticket.assignee or "").lower():
            return ENGINEER
        return CUSTOMER

    async def token(self, session: AsyncSession, ticket: Ticket, address: str) -> str:
        return sign(await self.key(session), ticket.id, self.role_for(ticket, address), address)
