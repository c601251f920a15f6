"""Shared fixtures: settings, fresh databases (SQLite and PostgreSQL), a fixed clock, a capture relay."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.config import Settings
from gateway.notify.mail_bytes import bytes_of
from gateway.store.db import Database
from gateway.store.migrate import upgrade
from gateway.store.models import Outbox

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CORPUS = REPO.parent / "shared" / "corpus"
PG_URL = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def outbox_mail(session, *where) -> bytes:
    """The mail of the first outbox row matching `where`, as the sender sends it (composed unless it has raw)."""
    row = await session.scalar(select(Outbox).where(*where).order_by(Outbox.id).limit(1))
    assert row is not None, "no outbox row matches"
    return (await bytes_of(session, [row]))[0]


async def with_mail(session, rows: list[Outbox]) -> list[Outbox]:
    """`rows`, detached from `session` (nothing is written back), each with raw set to its mail as the sender
    sends it."""
    for row, mail in zip(rows, await bytes_of(session, rows)):
        session.expunge(row)
        row.raw = mail
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen | None = None, timeout: float = 30,
                   context: Callable[[], str] = lambda: "") -> None:
    """Until something accepts on 127.0.0.1:port. RuntimeError, with context(), when `proc` exits
    first or `timeout` seconds pass (benchmarks and process tests use this to start `gateway serve`)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"exited ({proc.returncode}) before listening on {port}: {context()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port} after {timeout:g} s: {context()}") from None
            time.sleep(0.02)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Settings from defaults plus per-section overrides, anchored at tmp_path (maildir, sqlite)."""

    def make(**sections: Any) -> Settings:
        data: dict[str, Any] = {"base_dir": str(tmp_path)}
        data["database"] = {"url": f"sqlite+aiosqlite:///{tmp_path}/gateway.db"}
        data["smtp"] = {"port": 0}
        data["outbound"] = {"mode": "maildir", "maildir": str(tmp_path / "outgoing")}
        # serve() looks for a due digest at start: with recipients, a test run after 07:30 on a working
        # day would find the digest among its mail. Tests of the digest name their recipients.
        data["digest"] = {"recipients": []}
        for name, value in sections.items():
            if isinstance(value, dict) and isinstance(data.get(name), dict):
                data[name] = {**data[name], **value}
            else:
                data[name] = value
        return Settings.model_validate(data)

    return make


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    await upgrade(database)
    yield database
    await database.dispose()


def _pg_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return None
    except OSError as exc:
        return f"no PostgreSQL server answers at {url.host}:{url.port} ({exc}); set GATEWAY_TEST_PG_URL"


async def make_pg_database() -> tuple[Database, Callable]:
    """A Database on a throwaway schema of the test server, and an async function that drops it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(PG_URL)
    conn = await asyncpg.connect(host=url.host, port=url.port, user=url.username,
                                 password=url.password, database=url.database)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    database = Database(PG_URL, schema=schema)

    async def drop() -> None:
        await database.dispose()
        c = await asyncpg.connect(host=url.host, port=url.port, user=url.username,
                                  password=url.password, database=url.database)
        await c.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await c.close()

    return database, drop


async def migrated_pg():
    """Yield a migrated Database in a throwaway schema, or skip when no server answers."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    database, drop = await make_pg_database()
    await upgrade(database)
    yield database
    await drop()


@pytest.fixture
async def pg_db():
    async for database in migrated_pg():
        yield database


@pytest.fixture(params=["sqlite", "pg"])
async def any_db(request, tmp_path: Path):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "pg":
        async for database in migrated_pg():
            yield database
        return
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    await upgrade(database)
    yield database
    await database.dispose()


@dataclass
class CaptureHandler:
    """An aiosmtpd handler that keeps every envelope; RCPTs containing `reject` get 550."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    received: asyncio.Event | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK captured"


class CaptureRelay:
    """A real SMTP server standing in for the outbound relay; stop() and start() simulate outages."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = CaptureHandler()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.messages

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def parsed(self) -> list:
        import email
        from email import policy

        return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]


@pytest.fixture
def relay():
    capture = CaptureRelay()
    capture.start()
    yield capture
    capture.stop()
