"""Hold a reply briefly for the mail it answers when that mail may still be on its way.

Twenty SMTP sessions at once: a customer's colleague answers within a second, and the answer's
DATA ends before the first mail's does, or even before the first mail's client has sent MAIL FROM
(its session was opened first, but it was still in its greeting or EHLO). The spool is processed in
acceptance order, so the answer would open a ticket of its own. The drain therefore sets aside a reply
whose parent is not stored while an SMTP session that may have carried a mail since before the reply
was accepted is still open (its parent may be in it), or ended such a mail after the reply and that
row is not processed yet; for at most `[spool] hold_for_parent_seconds`. A reply with no such session
is processed at once: holding every reply to an unknown thread would delay its acknowledgement for nothing.
Nor does a session the client has left silent for QUIET_SECONDS hold it (an MTA caching an idle connection):
a mail on its way there would be arriving.
"""
from __future__ import annotations

import time
import weakref
from typing import Callable, Iterable, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.mail.parse import ParsedMail
from gateway.store.models import Message

T = TypeVar("T")
MAX_REFS = 20  # of a reply's In-Reply-To and References, nearest first: its parent is among them
# A session that sent nothing for this long carries no mail on its way: a client in its greeting, EHLO,
# TLS handshake or DATA sends within milliseconds to a second or two (slow links included), while an
# MTA's cached idle connection stays open for minutes and held every reply to an unknown thread as long.
QUIET_SECONDS = 10.0


class OpenSessions:
    """This process's open SMTP sessions, each with the moment since which it may carry a mail not yet
    accepted: when it connected, then the end of its last mail transaction.

    From the connection, not from MAIL FROM: a client that connected before a reply was accepted may
    still be in its greeting, EHLO or STARTTLS, with the reply's parent to send next (bench/reply_threading.py
    caught a parent whose MAIL FROM came 27 ms after its reply's DATA end, on a connection made before it).
    Keyed weakly by the session's protocol object: one that vanishes without `closed` drops its entry.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._since: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._heard: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # session -> when it last sent
        self.now = now
        self.quiet_after = QUIET_SECONDS  # read here, so that a test may set the module's value
        self.ended: Callable[[float, int | None], None] = lambda since, spool_id: None

    def opened(self, session) -> None:
        """The session connected (again, after STARTTLS: the first moment stays)."""
        self._since.setdefault(session, self.now())
        self._heard[session] = self.now()

    def heard(self, session) -> None:
        """The client of `session` sent something (a command, a piece of its DATA)."""
        self._heard[session] = self.now()

    def transaction_ended(self, session, spool_id: int | None = None) -> None:
        """A mail transaction of the session is over; `spool_id`: the row its mail became (None: refused or
        failed). The session's next mail, if any, begins now."""
        since = self._since.get(session)
        if since is not None:
            self._since[session] = self._heard[session] = self.now()
            self.ended(since, spool_id)

    def closed(self, session) -> None:
        self._since.pop(session, None)
        self._heard.pop(session, None)

    def open_since_before(self, moment: float) -> bool:
        """Some session open now may have carried a mail since before `moment`, and its client is not silent."""
        quiet_since = self.now() - self.quiet_after
        return any(since < moment and self._heard[session] > quiet_since
                   for session, since in list(self._since.items()))


def parents_of(mail: ParsedMail) -> list[str]:
    """The Message-IDs a reply names as its ancestors, the nearest first."""
    ids = [*reversed(mail.in_reply_to), *reversed(mail.references)]
    return list(dict.fromkeys(ids))[:MAX_REFS]


def parents_first(rows: list[T], mail_of: Callable[[T], ParsedMail | None]) -> list[T]:
    """`rows` of one batch, in order, except that a reply goes right after a later row that it names as
    its parent: no session held it (that mail's client connected after the reply's spool commit), but
    the drain has both, and the parent is stored first. A row named by nothing later keeps its place."""
    position = {}
    for n, row in enumerate(rows):
        mail = mail_of(row)
        if mail is not None and mail.message_id:
            position.setdefault(mail.message_id, n)
    after: dict[int, list[int]] = {}  # position of a parent -> positions of the replies that go after it
    for n, row in enumerate(rows):
        mail = mail_of(row)
        later = [position[ref] for ref in (parents_of(mail) if mail is not None else ()) if position.get(ref, n) > n]
        if later:
            after.setdefault(later[0], []).append(n)  # the nearest parent named, as threading takes it
    if not after:
        return rows
    deferred = {n for replies in after.values() for n in replies}
    ordered: list[T] = []

    def place(n: int) -> None:  # a reply's parent is later than it, so this ends
        ordered.append(rows[n])
        for reply in after.get(n, ()):
            place(reply)

    for n in range(len(rows)):
        if n not in deferred:
            place(n)
    return ordered


class ParentWait:
    """Which spooled replies may still wait for their parent, from what this process saw accepted."""

    def __init__(self, sessions: OpenSessions, hold_seconds: float):
        self.sessions = sessions
        self.hold_seconds = hold_seconds
        # Both only for rows not yet processed: spool id -> when it was accepted (its spool commit), and
        # since when the SMTP session that brought it may have carried it.
        self._accepted: dict[int, float] = {}
        self._began: dict[int, float] = {}

    def accepted(self, spool_id: int, at: float) -> None:
        if self.hold_seconds > 0:
            self._accepted[spool_id] = at

    def transaction_ended(self, since: float, spool_id: int | None) -> None:
        if spool_id is not None and spool_id in self._accepted:
            self._began[spool_id] = since

    def forget(self, ids: Iterable[int]) -> None:
        """These rows are processed (here or by another instance)."""
        for spool_id in ids:
            self._accepted.pop(spool_id, None)
            self._began.pop(spool_id, None)

    def still_waiting(self, spool_id: int) -> bool:
        """Accepted here within the limit, while a session that may have carried a mail since before it
        is open, or ended one in a row after it that is not processed yet: the row's parent, if it has
        one, may be there."""
        at = self._accepted.get(spool_id)
        if at is None or self.sessions.now() - at >= self.hold_seconds:
            return False
        if self.sessions.open_since_before(at):
            return True
        return any(began < at and row > spool_id for row, began in self._began.items())

    async def waiting(self, session: AsyncSession, rows: list[tuple[int, ParsedMail | None]]) -> set[int]:
        """Of the (spool id, mail) rows of a batch, in order, those to leave in the spool for now:
        replies that may still wait and whose parents are neither stored nor earlier in the batch."""
        candidates = {spool_id: parents_of(mail) for spool_id, mail in rows
                      if mail is not None and (mail.in_reply_to or mail.references) and self.still_waiting(spool_id)}
        if not candidates:
            return set()
        named = {ref for refs in candidates.values() for ref in refs}
        known = set((await session.scalars(select(Message.message_id).where(Message.message_id.in_(named)))).all())
        waiting: set[int] = set()
        for spool_id, mail in rows:
            refs = candidates.get(spool_id)
            if refs is not None and not known.intersection(refs):
                waiting.add(spool_id)
            elif mail is not None and mail.message_id:
                known.add(mail.message_id)  # a later reply in this batch threads onto this one
        return waiting
