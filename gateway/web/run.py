"""Start the web face inside `gateway serve`, or alone for `gateway web`; print a password hash."""
from __future__ import annotations

import asyncio
import getpass
import logging
import signal
import sys
from typing import Callable

from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.store.db import Database
from gateway.web.app import build_app, session_secret
from gateway.web.deps import Deps
from gateway.web.server import WebServer

log = logging.getLogger("gateway.web")


async def start_web(*, settings: Settings, db: Database, clock: Clock, ingestor,
                    wake: Callable[[], None] = lambda: None, smtp_up: Callable[[], bool] | None = None,
                    timings=None, tracker_keys=None) -> WebServer:
    """Bind [web] host:port and serve there on this loop; ConfigError when the address cannot be had."""
    deps = Deps(settings=settings, db=db, clock=clock, ingestor=ingestor, wake=wake, smtp_up=smtp_up,
                timings=timings, tracker_keys=tracker_keys or {})
    secret = await session_secret(settings, db, clock.now())
    server = WebServer(build_app(deps, secret), settings.web)
    await server.start()
    if not settings.web.users:
        log.warning("web: no [[web.users]] configured: nobody can sign in to the board; "
                    "`gateway web hash-password` makes a password_hash")
    log.info("web on http://%s", server.address)
    return server


async def run_alone(settings: Settings, environ=None) -> int:
    """`gateway web`: the web face against the configured database, until SIGTERM/SIGINT."""
    from gateway.app import setup_logging
    from gateway.handoff.keys import tracker_keys
    from gateway.ingest import Ingestor
    from gateway.store.migrate import upgrade

    setup_logging(settings)
    keys = tracker_keys(settings.trackers, environ or {})  # the inbound hooks verify with their secrets
    clock, stop = SystemClock(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    db = settings.open_database()
    try:
        await upgrade(db)
        ingestor = Ingestor(settings=settings, db=db, clock=clock)
        server = await start_web(settings=settings, db=db, clock=clock, ingestor=ingestor, tracker_keys=keys)
        await stop.wait()
        await server.stop()
    finally:
        await db.dispose()
    return 0


def read_password() -> str:
    """Twice without echo at a terminal; one line from standard input otherwise (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        return ""
    return first
