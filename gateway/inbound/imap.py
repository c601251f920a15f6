"""IMAP poller: each configured mailbox feeds the inbound spool from its own task; mail moves out once spooled."""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping

from gateway.clock import Clock
from gateway.config import MailboxConfig, Settings
from gateway.errors import TempFail
from gateway.inbound.imap_session import ImapSession, MailboxError, server_of
from gateway.inbound.imap_state import StateStore
from gateway.notify.render import Renderer
from gateway.pipeline.runner import Incoming
from gateway.store.db import Database

log = logging.getLogger(__name__)

IDLE_REARM_MAX = 25 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes; re-issue it well before
STOP_GRACE = 5.0  # seconds run_pollers waits for pollers after `stop` before cancelling them
IDLE_SETTLE = 1.0  # after a pass that took mail, the next IDLE lasts this long (see _serve)
IDLE_SLICE = 1.0  # one idle_check() never blocks longer than this, so `stop` is seen within about a second
# Several instances may poll the same mailbox; one holds its lease. The holder renews it every
# LEASE_RENEW seconds; one that dies lets it run out after LEASE_SECONDS, and a standby instance,
# asking every STANDBY_SECONDS, takes over within LEASE_SECONDS + STANDBY_SECONDS (under 30 s).
LEASE_SECONDS = 20.0
LEASE_RENEW = 5.0
STANDBY_SECONDS = 5.0


def instance_name() -> str:
    """Who holds a lease: host and process, readable in `gateway mailboxes status`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def gone(holder: str | None) -> bool:
    """True when `holder` names a process of this host that no longer runs (it was killed, then we restarted)."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


class LeaseLost(Exception):
    """Another instance holds this mailbox's lease now (ours ran out, e.g. while the database was away)."""


def mailbox_password(mailbox: MailboxConfig, environ: Mapping[str, str]) -> str | None:
    """The mailbox's password: `password` (from GATEWAY_MAILBOXES), else environ[password_env], else None."""
    if mailbox.password:
        return mailbox.password.get_secret_value()
    if mailbox.password_env:
        return environ.get(mailbox.password_env) or None
    return None


class Backoff:
    """Exponential delays with ±20% jitter, so mailboxes that failed together do not retry together."""

    def __init__(self, base: float, cap: float, rng: Callable[[], float] = random.random):
        self.base, self.cap, self.rng = base, cap, rng
        self.failures = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        return delay * (0.8 + 0.4 * self.rng())

    def reset(self) -> None:
        self.failures = 0


class MailboxPoller:
    """One mailbox: connect, spool the folder's new mail, IDLE (or poll), reconnect with backoff; never raises.

    `ingestor` needs only `accept_many` (gateway.ingest.Ingestor's): the spool commit. The pipeline runs
    the spooled mail later (serve's spool worker); a mail it cannot process is quarantined from the spool,
    so nothing here counts failures per mail: a mail that could not be spooled stays unseen on the server.
    """

    def __init__(self, *, mailbox: MailboxConfig, settings: Settings, ingestor, db: Database, clock: Clock,
                 stop: asyncio.Event, password: str | None, renderer: Renderer | None = None,
                 opener: Callable[[MailboxConfig, str | None], ImapSession] = ImapSession.open,
                 reconnect: Backoff | None = None, holder: str | None = None):
        self.mailbox, self.ingestor, self.clock, self.stop = mailbox, ingestor, clock, stop
        self.holder = holder or instance_name()
        self.renewed_at = 0.0  # monotonic time of the last lease renewal
        self.password, self.opener = password, opener
        self.source = f"imap:{mailbox.name}"
        self.state = StateStore(db=db, settings=settings, mailbox=mailbox, renderer=renderer or Renderer())
        self.reconnect = reconnect or Backoff(1.0, 300.0)
        self.session: ImapSession | None = None
        self.uidvalidity: int | None = None
        self.last_uid = 0  # every mail still in the folder up to this UID is spooled (MailboxState.last_uid)
        self.worked = False  # the last pass spooled or moved mail
        # One thread per mailbox: a server that hangs ties up its own thread only, not the loop's pool.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"imap-{mailbox.name}"[:30])

    async def _io(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args))

    async def run(self) -> None:
        try:
            while not self.stop.is_set():
                error = None
                try:
                    if not await self._await_lease():
                        break
                    await self.connect()
                    self.reconnect.reset()
                    await self._serve()
                except LeaseLost as exc:
                    log.warning("%s; standing by", exc)
                except MailboxError as exc:
                    error = (str(exc), exc.login)
                except TempFail as exc:  # our spool or database, not the mailbox: the mail waits on the server, unseen
                    error = (f"mailbox {self.mailbox.name!r}: mail left unseen on the server: {exc}", False)
                except Exception as exc:  # a bug must not end polling for good: log it, back off, go on
                    log.exception("mailbox %r: unexpected error", self.mailbox.name)
                    error = (f"mailbox {self.mailbox.name!r}: internal error {type(exc).__name__}: {exc}", False)
                await self._disconnect()
                if error:
                    await self._failed(error[0], login=error[1])
        except asyncio.CancelledError:
            # The worker thread may be stuck in a blocking call (bounded by timeout_seconds): do not wait
            # for it; it closes the connection when that call returns.
            session, self.session = self.session, None
            if session is not None:
                self.executor.submit(session.close)
            raise
        finally:
            await self._safely(self.state.release(holder=self.holder))
            self.executor.shutdown(wait=False)

    async def _await_lease(self) -> bool:
        """Wait until this instance holds the mailbox's lease; False when told to stop first."""
        waiting, dead = False, None
        while not self.stop.is_set():
            if await self.state.lease(holder=self.holder, now=self.clock.now(), seconds=LEASE_SECONDS, dead=dead):
                self.renewed_at = time.monotonic()
                if waiting or dead:
                    log.info("mailbox %r: taking over from %s", self.mailbox.name, dead or "an instance that stopped")
                return True
            holder = await self.state.holder()
            if gone(holder):
                dead = holder
                continue
            if not waiting:
                log.info("mailbox %r: polled by %s; standing by", self.mailbox.name, holder)
                waiting = True
            await self._sleep(STANDBY_SECONDS)
        return False

    async def _keep_lease(self) -> None:
        if time.monotonic() - self.renewed_at < LEASE_RENEW:
            return
        if not await self.state.lease(holder=self.holder, now=self.clock.now(), seconds=LEASE_SECONDS):
            raise LeaseLost(f"mailbox {self.mailbox.name!r}: another instance took the lease")
        self.renewed_at = time.monotonic()

    async def _failed(self, error: str, *, login: bool) -> None:
        if self.stop.is_set():
            return
        delay = self.reconnect.next()
        # One line per attempt; attempts are spaced by the backoff (at most 5 minutes apart).
        log.warning("%s; retrying in %.0fs", error, delay)
        await self._safely(self.state.failed(error=error, login=login, now=self.clock.now()))
        await self._sleep(delay)

    async def _safely(self, coro) -> None:
        try:
            await coro
        except TempFail as exc:  # state is bookkeeping: losing one update must not stop the mail
            log.warning("mailbox %r: cannot record its state: %s", self.mailbox.name, exc)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            pass

    async def connect(self) -> None:
        """Log in, SELECT, load the position (reset on a new UIDVALIDITY), create the processed folder."""
        mailbox = self.mailbox
        if mailbox.processed_folder == mailbox.folder:
            raise MailboxError(f"mailbox {mailbox.name!r}: processed_folder equals folder ({mailbox.folder!r}); "
                               f"set processed_folder to another folder, e.g. \"Processed\"")
        self.session = await self._io(self.opener, mailbox, self.password)
        uidvalidity = await self._io(self.session.select)
        position = await self.state.connected(uidvalidity=uidvalidity, now=self.clock.now())
        self.uidvalidity, self.last_uid = uidvalidity, position.last_uid
        if await self._io(self.session.ensure_folder, mailbox.processed_folder):
            log.info("mailbox %r: created folder %r", mailbox.name, mailbox.processed_folder)
        log.info("mailbox %r: connected to %s as %s, folder %r (UIDVALIDITY %s, handled up to UID %s)",
                 mailbox.name, server_of(mailbox), mailbox.username, mailbox.folder, uidvalidity, self.last_uid)

    async def _disconnect(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            await self._io(session.close)  # never raises: logging out is a courtesy

    async def _serve(self) -> None:
        while not self.stop.is_set():
            await self._keep_lease()
            backlog = await self.drain()
            await self._safely(self.state.checked(backlog=backlog, now=self.clock.now()))
            if self.stop.is_set():
                return
            if await self._io(self.session.announced):
                continue  # mail arrived during the pass: IDLE would not report it, so look again now
            if self.mailbox.idle and self.session.can_idle:
                # Dovecot can miss a mail delivered in the instant IDLE begins (seen in bench/imap.py): mail
                # comes in bursts, so after a busy pass idle only briefly, and take one more look.
                await self._idle(IDLE_SETTLE if self.worked else min(self.mailbox.poll_seconds, IDLE_REARM_MAX))
            else:
                await self._sleep(self.mailbox.poll_seconds)

    async def _idle(self, limit: float) -> None:
        deadline = time.monotonic() + limit
        await self._io(self.session.idle_start)
        try:
            while not self.stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                await self._keep_lease()
                if await self._io(self.session.idle_wait, min(IDLE_SLICE, left)) != "quiet":
                    return  # new mail, or something to look at: leave IDLE and run a pass
        finally:
            await self._io(self.session.idle_done)  # on a dead connection this raises, and we reconnect

    async def drain(self) -> int:
        """One pass over the folder: spool what is new, a FETCH batch per spool commit, and move it out;
        returns the mails left for the next pass (some only when told to stop midway).

        Raises TempFail when the spool could not be written: that batch and the rest stay unseen in the
        folder, and run() tries again after its backoff.
        """
        session = self.session
        uids = await self._io(session.pending)
        self.worked = False
        leftover = [uid for uid in uids if uid <= self.last_uid]
        if leftover:  # spooled earlier, but the move was interrupted (crash, lost connection)
            await self._io(session.move, leftover, self.mailbox.processed_folder)
            self.worked = True
        todo = [uid for uid in uids if uid > self.last_uid]
        done = 0
        for batch in await self._io(session.batches, todo):
            if self.stop.is_set():
                break
            await self._keep_lease()
            raws = await self._io(session.fetch, batch)
            fetched = [uid for uid in batch if uid in raws]  # a UID that vanished (someone else removed it) is done
            ids = await self.ingestor.accept_many([Incoming(raws[uid], self.source) for uid in fetched])
            log.info("mailbox %r: UIDs %s-%s spooled (%d mails, spool ids %s-%s)", self.mailbox.name, batch[0],
                     batch[-1], len(ids), ids[0] if ids else "-", ids[-1] if ids else "-")
            # Position first, then MOVE: a crash in between leaves spooled mail that the next pass moves
            # without spooling it again. A crash before the position is saved spools it again, and dedupe
            # stores it once.
            await self._advance(batch[-1])
            await self._io(session.move, fetched, self.mailbox.processed_folder)
            done += len(batch)
            self.worked = True
        return len(todo) - done

    async def _advance(self, last: int) -> None:
        """Every mail up to UID `last` is spooled: move the watermark there and persist it."""
        if last > self.last_uid:
            self.last_uid = last
            await self._safely(self.state.advance(uidvalidity=self.uidvalidity, last_uid=last))


async def run_pollers(*, settings: Settings, ingestor, db: Database, clock: Clock, stop: asyncio.Event,
                      environ: Mapping[str, str]) -> None:
    """One independent task per configured mailbox; returns when `stop` is set and every poller has let go."""
    notifier = getattr(ingestor, "notifier", None)
    renderer = getattr(notifier, "renderer", None) or Renderer()
    pollers, holder = [], instance_name()
    for mailbox in settings.mailboxes:  # names are unique: config validation refuses duplicates
        pollers.append(MailboxPoller(mailbox=mailbox, settings=settings, ingestor=ingestor, db=db, clock=clock,
                                     stop=stop, password=mailbox_password(mailbox, environ), renderer=renderer,
                                     holder=holder))
    tasks = [asyncio.create_task(p.run(), name=f"imap:{p.mailbox.name}") for p in pollers]
    if not tasks:
        return
    try:
        await stop.wait()
        # Pollers notice `stop` within about IDLE_SLICE; one stuck in a blocking call is not waited for.
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE)
        for task in late:
            log.warning("%s: still busy %gs after stop; abandoning it", task.get_name(), STOP_GRACE)
            task.cancel()
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
