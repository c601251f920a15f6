"""PostgreSQL's plans for our lookups, kept fit as the tables grow.

A statement prepared while its tables were nearly empty keeps the plan made then (a sequential scan) until
the tables are analysed, and with autovacuum off nothing else analyses them: every lookup then reads the
whole table (a 6,000-mail import: the dedupe lookup 1.4 -> 3.1 -> 4.7 ms by thirds, the threading lookup
1.3 -> 4.3 ms). Whoever stores mail (an import, serve's drain) analyses the tables that grow with it once
it has stored ANALYZE_FROM mails, and again at each tenfold; an import also when it ends.
"""
from __future__ import annotations

from gateway.store.db import Database
from gateway.store.models import Attachment, Blob, Event, Message, Participant, Ticket

GROWN = tuple(model.__tablename__ for model in (Message, Ticket, Participant, Event, Blob, Attachment))
ANALYZE_FROM = 1000


class Growth:
    """The mails one process stored; GROWN analysed when their count passes ANALYZE_FROM, 10x that, …"""

    def __init__(self, db: Database):
        self.db = db
        self.stored = 0
        self.analysed = 0  # self.stored at the last ANALYZE
        self.next = ANALYZE_FROM

    async def add(self, count: int) -> None:
        self.stored += count
        if self.stored >= self.next:
            while self.next <= self.stored:
                self.next *= 10
            await self._analyze()

    async def done(self) -> None:
        """The last mail is stored (an import's end): analyse what grew since the last time, if anything did."""
        if self.stored > self.analysed:
            await self._analyze()

    async def _analyze(self) -> None:
        self.analysed = self.stored
        await self.db.analyze(GROWN)
