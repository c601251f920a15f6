"""Preparation in worker processes: parsing and the steps' pure work beside the drain, not under its GIL."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from gateway.config import Settings
from gateway.mail.parse import ParseLimits
from gateway.notify.mail_bytes import Parts, compose_all
from gateway.pipeline.prepare import prepare
from gateway.pipeline.runner import Incoming, Job, step_lists

if TYPE_CHECKING:
    from gateway.mail.parse import ParsedMail

log = logging.getLogger(__name__)

# A mail that kills the worker preparing it alone this often (a crash in C code, out of memory) is poison:
# it is quarantined rather than let kill every new pool. Mail in a pool that broke is retried first.
POISON_CRASHES = 2

# Prepared once by every new worker, so that the triage models are loaded then and not during a real mail.
WARM_UP = Incoming(b"From: <warm-up@example.org>\r\nSubject: The printer does not print\r\n\r\nIt does not.\r\n",
                   "warm-up")

# What a worker sends back: a Job's mail, problem and prepare() results, not the bytes the caller has.
Prepared = tuple["ParsedMail | None", str, dict]


def pool_size(configured: int | None) -> int:
    """How many worker processes prepare mail: `configured`, else one per core this process may run on
    beside the one its event loop keeps busy (0 on a single core: preparation stays on the threads).

    Not one per core: on this 2-core machine one worker and two drained at the same rate (bench/drain.py,
    98-101 against 99-102 mails/s, interleaved), and each worker holds about 50 MB of its own."""
    if configured is not None:
        return configured
    return len(os.sched_getaffinity(0)) - 1


class PreparePool:
    """concurrent.futures' process pool with the steps built and their models loaded once in each worker;
    a pool that breaks (a worker killed) is replaced and its mail prepared again, each alone."""

    work: Callable[[Incoming, str], Prepared]  # what a worker runs for each mail (tests put a crashing one here)

    def __init__(self, *, settings: Settings, processes: int, fork_if_alone: bool = False):
        """fork_if_alone: fork the workers from this process when it runs no other thread yet (see _context)."""
        self.work = prepare_here
        self._settings = settings
        self._processes = processes
        self._fork_if_alone = fork_if_alone
        self._crashes: dict[str, int] = {}  # SHA-256 of a mail -> its worker died while it was prepared alone
        self._alone_now = asyncio.Lock()
        self._pool: ProcessPoolExecutor | None = self._start()

    def _context(self) -> multiprocessing.context.BaseContext:
        # serve runs threads (the preparation lanes, database drivers): a plain fork could copy a lock one of
        # them holds. The fork server imports the preparation code once; each worker forks from it.
        # A process with no other thread has no such lock to copy: `gateway import` forks its worker from
        # itself, with everything imported already, where the fork server cost it 1.3 s of start-up.
        if self._fork_if_alone and threading.active_count() == 1:
            return multiprocessing.get_context("fork")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, "gateway.pipeline.steps"])
        return context

    def _start(self) -> ProcessPoolExecutor:
        context = self._context()
        # With fork, every worker starts here and now (and the pool's thread after them): still alone.
        pool = ProcessPoolExecutor(self._processes, mp_context=context, initializer=start_worker,
                                   initargs=(self._settings, os.getpid()))
        for _ in range(self._processes):  # a submit while no worker is idle starts one: all start, and warm up, now
            pool.submit(os.getpid)
        return pool

    def close(self) -> None:
        """Stop the workers (they are idle between batches) and wait until they are gone."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def prepare(self, item: Incoming, digest: str, *, here: Callable[[Incoming, str], Awaitable[Job]]) -> Job:
        """The Job of `item` (SHA-256 `digest`), prepared in a worker. `here` prepares it in this process
        instead: a result that cannot come back (does not pickle), and all mail once workers cannot start."""
        try:
            return await self._one(item, digest)
        except BrokenProcessPool:
            return await self._alone(item, digest, here)
        except Exception as exc:
            log.warning("mail %s: preparing it in a worker process failed (%s: %s); preparing it here",
                        digest[:12], type(exc).__name__, exc)
            return await here(item, digest)

    async def compose(self, many: Sequence[Parts | str]) -> list[bytes | str]:
        """mail_bytes.compose_all() in a worker: the outbox sender's composing, off serve's GIL as well.
        On a thread of this process instead while the pool is broken or a mail of a broken pool is tried alone."""
        pool = self._pool
        if pool is not None and not self._alone_now.locked():
            try:
                return await asyncio.wrap_future(pool.submit(compose_all, many))
            except BrokenProcessPool:
                self._renew(pool)
            except Exception as exc:  # (a result that does not pickle): the chunk must still go
                log.warning("composing %d mails in a worker process failed (%s: %s); composing them here",
                            len(many), type(exc).__name__, exc)
        return await asyncio.to_thread(compose_all, many)

    async def _one(self, item: Incoming, digest: str) -> Job:
        if self._alone_now.locked():  # a mail of a broken pool is being tried alone: it must stay alone
            async with self._alone_now:
                pass
        return await self._submit(item, digest)

    async def _submit(self, item: Incoming, digest: str) -> Job:
        pool = self._pool
        if pool is None:
            raise BrokenProcessPool("the worker processes do not start")
        try:
            mail, problem, prepared = await asyncio.wrap_future(pool.submit(self.work, item, digest))
        except BrokenProcessPool:
            self._renew(pool)
            raise
        self._crashes.pop(digest, None)
        return Job(item, digest, mail, problem, prepared)

    def _renew(self, broken: ProcessPoolExecutor) -> None:
        if broken is self._pool:  # the first of its mails to hear it; the others find the new pool
            log.warning("a mail preparation worker process died; starting %d new ones", self._processes)
            broken.shutdown(wait=False)
            self._pool = self._start()

    async def _alone(self, item: Incoming, digest: str, here) -> Job:
        """Prepare a mail of a pool that broke with nothing else in the pool (one at a time, new mail waits);
        quarantine it when it kills its worker again and again."""
        async with self._alone_now:
            while True:
                try:
                    return await self._submit(item, digest)
                except BrokenProcessPool:
                    if not await self._starts():
                        return await here(item, digest)
                    crashes = self._crashes[digest] = self._crashes.get(digest, 0) + 1
                    if crashes >= POISON_CRASHES:
                        del self._crashes[digest]
                        return Job(item, digest, None, f"preparing this mail killed the worker process {crashes} "
                                                       f"times on its own (a crash, or out of memory)")

    async def _starts(self) -> bool:
        """Whether the new pool's workers start at all: if not, no mail is to blame, and this process prepares
        all mail from now on (on its threads) rather than quarantine healthy mail as poison."""
        if self._pool is not None:
            try:
                await asyncio.wrap_future(self._pool.submit(os.getpid))
                return True
            except BrokenProcessPool:
                log.error("mail preparation worker processes do not start; preparing mail in this process instead")
                self._pool.shutdown(wait=False)
                self._pool = None
        return False


# --- in each worker process -------------------------------------------------------------------------------

_prepare_here: Callable[[Incoming, str], Job] | None = None


def start_worker(settings: Settings, owner: int) -> None:
    """Build the steps once for this worker and prepare a sample mail, which loads the triage models;
    end the worker when the process `owner` (serve) ends, however it ends."""
    global _prepare_here
    # Ctrl-C in a terminal reaches every process of serve's group: the workers stop when serve stops
    # them (close()), not half-way through its shutdown with a KeyboardInterrupt each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker shares the owner's event loop wake-up socket: a signal here must not wake the owner's loop.
    signal.set_wakeup_fd(-1)
    threading.Thread(target=_end_with, args=(owner,), name="end-with-serve", daemon=True).start()
    limits = ParseLimits(**settings.limits.model_dump())
    steps, history_steps = step_lists(settings)

    def here(item: Incoming, digest: str) -> Job:
        return prepare(item, digest, settings=settings, limits=limits, steps=steps, history_steps=history_steps)

    _prepare_here = here
    here(WARM_UP, "0" * 64)


def _end_with(owner: int) -> None:
    """Exit once `owner` has: a worker waits for work on a queue whose writing end it holds itself, so a
    serve killed with SIGKILL left it (and the fork server, which lives while a child does) running for
    good, ~95 MB each time. The fork server then ends by itself."""
    try:
        ended = os.pidfd_open(owner)  # readable once the process has ended (Linux 5.3 and later)
    except (AttributeError, OSError):  # no pidfd here, or the owner is gone already: look every second
        while _alive(owner):
            time.sleep(1)
    else:
        select.select([ended], [], [])
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # (PermissionError: the pid is another user's process now)
        return False
    return True


def prepare_here(item: Incoming, digest: str) -> Prepared:
    """One mail's Job in this worker, without the mail's bytes (the caller has them: not pickled back)."""
    job = _prepare_here(item, digest)
    return job.mail, job.problem, job.prepared
