"""Doubles for the IMAP poller's unit tests: an in-memory mailbox server and a recording ingestor."""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from gateway.errors import TempFail
from gateway.inbound.imap_session import MailboxError


class FakeIngestor:
    """Keeps what it was given, as the spool would; `down`: every spool write fails, like a full disk."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.calls: list[bytes] = []
        self.down = False

    async def accept_many(self, items) -> list[int]:
        self.calls.extend(item.raw for item in items)
        if self.down:
            raise TempFail("spool file /var/lib/gateway/gateway.db.spool.sqlite: disk full (test)")
        for item in items:
            self.stored[hashlib.sha256(item.raw).hexdigest()] = item.raw
        first = len(self.calls) - len(items) + 1
        return list(range(first, first + len(items)))


@dataclass
class FakeServer:
    """A mailbox store shared by the sessions the poller opens; `refuse` makes logins fail."""

    uidvalidity: int = 111
    folders: dict[str, dict[int, bytes]] = field(default_factory=lambda: {"INBOX": {}})
    next_uid: int = 1
    capabilities: set[str] = field(default_factory=lambda: {"IMAP4REV1", "IDLE", "MOVE", "UIDPLUS"})
    refuse: str | None = None  # a login error message
    logins: int = 0
    moves: list[list[int]] = field(default_factory=list)
    fail_moves: int = 0  # the next N moves lose the connection
    new_mail: threading.Event = field(default_factory=threading.Event)

    def deliver(self, *raws: bytes, folder: str = "INBOX") -> list[int]:
        uids = []
        for raw in raws:
            self.folders.setdefault(folder, {})[self.next_uid] = raw
            uids.append(self.next_uid)
            self.next_uid += 1
        self.new_mail.set()
        return uids

    def open(self, mailbox, password) -> "FakeSession":
        self.logins += 1
        if self.refuse:
            raise MailboxError(f"mailbox {mailbox.name!r}: login refused: {self.refuse}; check username and password",
                               login=True)
        return FakeSession(self, mailbox)


class FakeSession:
    """The ImapSession interface over a FakeServer (blocking calls are instant here)."""

    def __init__(self, server: FakeServer, mailbox) -> None:
        self.server, self.mailbox = server, mailbox
        self.capabilities = set(server.capabilities)
        self.closed = False

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def select(self) -> int:
        return self.server.uidvalidity

    def ensure_folder(self, name: str) -> bool:
        created = name not in self.server.folders
        self.server.folders.setdefault(name, {})
        return created

    def pending(self) -> list[int]:
        return sorted(self.server.folders[self.mailbox.folder])

    def batches(self, uids: list[int]) -> list[list[int]]:
        return [uids[i:i + 2] for i in range(0, len(uids), 2)]

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        folder = self.server.folders[self.mailbox.folder]
        return {uid: folder[uid] for uid in uids if uid in folder}

    def move(self, uids, folder: str) -> None:
        uids = sorted(uids)
        if not uids:
            return
        if self.server.fail_moves:
            self.server.fail_moves -= 1
            raise MailboxError(f"mailbox {self.mailbox.name!r}: network error (test); the poller reconnects by itself")
        source = self.server.folders[self.mailbox.folder]
        for uid in uids:
            self.server.folders[folder][uid] = source.pop(uid)
        self.server.moves.append(uids)

    def announced(self) -> bool:
        return False

    def idle_start(self) -> None:
        self.server.new_mail.clear()

    def idle_wait(self, timeout: float) -> str:
        return "mail" if self.server.new_mail.wait(timeout) else "quiet"

    def idle_done(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
