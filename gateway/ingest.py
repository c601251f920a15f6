"""The one path every mail takes: accept into the inbound spool, then drain it through the pipeline.

`accept()` commits the raw bytes and envelope to the spool (group-committed: concurrent sessions share
one commit) and only then may the source hear "accepted" (SMTP 250, pipe exit 0, IMAP move). `drain()`
runs pending spool rows through the pipeline in arrival order, a batch per transaction, each mail in its
own savepoint, and marks the batch's rows done in that same transaction: a crash re-runs exactly the
rows not done, and dedupe makes the re-run store nothing twice. `ingest()` is accept + drain for the
callers that need an Outcome. Where the spool lives (a table on PostgreSQL, a file of its own beside a
SQLite database, so that an accept never waits for a drain's write lock) is store/spool.py's business.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Callable, Sequence

from gateway.clock import Clock
from gateway.config import Settings
from gateway.errors import TempFail
from gateway.notify.render import Renderer
from gateway.parent_wait import OpenSessions, ParentWait, parents_first
from gateway.pipeline.prepare import prepare
from gateway.pipeline.runner import HISTORY_SKIPS, Incoming, Job, Outcome, PipelineRunner, Redo, history_time
from gateway.prepare_pool import WARM_UP, PreparePool
from gateway.store import spool
from gateway.store.blobs import sha256_hex
from gateway.store.db import Database

__all__ = ["HISTORY_SKIPS", "Incoming", "Ingestor", "Outcome", "history_time"]

log = logging.getLogger(__name__)

MAX_GROUP = 64  # mails per spool commit: enough to amortise a commit, small enough to keep latency flat
# Spool rows per drain transaction. Chosen small when accepts waited behind the drain's write lock
# (smtp-source -s 20: 40 mails/s with 64 rows a batch, 100 with 8). Accepts no longer wait for it (on
# SQLite the spool has a file of its own), and bench/spool.py's drain showed no clear difference
# between 8, 32 and 64 (same run, contended machine), so it stays small: a short transaction.
BATCH = 8
# `gateway import` has no one waiting for an acknowledgement: its batches are bigger, fewer transactions
# (300 archived mails: 1.9-2.3 s of processing instead of 2.4-2.8 s, 3 runs each, interleaved; noisy machine).
# It reads the archive in batches of this size too, each processed while the next is prepared in the worker
# process; nothing is stored until the first one is prepared. 50, 100 and 200 measured alike (1000 mails,
# processing 2.5-3.9 s, 2.6-3.7 s, 2.7-3.5 s, 3 runs each interleaved, on a machine shared with other work).
HISTORY_BATCH = 100
BATCH_BYTES = 32 << 20  # and about this much mail at most in memory at once (a batch has at least one row)
HOLD_BYTES = 64 << 20  # spooled mail kept in memory for the drain (beyond it, the drain reads it back)
MAX_CONFLICTS = 3  # unique-key races one row may lose before it is held in quarantine
MAX_PAUSE = 0.5  # seconds: the longest the drain gives way to arriving mail between two batches


# Parsing and the steps' pure work run on worker threads, never on the event loop: a 25 MB mail takes
# seconds of CPU, and every SMTP session shares the loop. Each lane is one thread, so mail leaves it
# in the order it arrived (a reply stays behind the mail it answers) and a second thread would win
# nothing (the GIL). Mail from LARGE bytes up has its own lane, so small mail never queues behind a
# big one and only one big mail is parsed at a time. With worker processes (serve;
# gateway/prepare_pool.py) they prepare the small mail, out from under the drain's GIL; a large mail
# stays on its thread lane, not pickled there and back (memory: bench/memory.py).
LARGE = 1 << 20
# Below this a mail's SHA-256 takes microseconds: hashed on the loop, not queued on a lane behind the
# drain's parsing (which held each accept up by as much).
HASH_HERE = 64 << 10


class Ingestor(PipelineRunner):
    """Accepts mail into the spool and drains it; every method is safe to call concurrently from many transports."""

    def __init__(self, *, settings: Settings, db: Database, clock: Clock, renderer: Renderer | None = None,
                 processes: int = 0, fork_if_alone: bool = False, warm_large: bool = True):
        """processes: worker processes that prepare mail below LARGE (prepare_pool.pool_size); 0: the threads.
        fork_if_alone: see PreparePool (`gateway import`: made before any thread of this process starts).
        warm_large: with processes, load the models here now for mail of LARGE and up (serve: the first big
        mail must not wait for them); `gateway import` loads them at its first big mail, if it has one."""
        super().__init__(settings=settings, db=db, clock=clock, renderer=renderer)
        self._accepting: list[tuple[Incoming, str, asyncio.Future]] = []
        self._acceptor: asyncio.Task | None = None
        self._drain_lock = asyncio.Lock()
        self._conflicts: dict[int, int] = {}  # spool id -> unique-key races lost
        self._wanted: set[int] = set()  # spool ids callers of settle() wait for ...
        self._finished: dict[int, Outcome] = {}  # ... and those of them a drain in this process finished
        # The bytes of mail this process spooled, up to HOLD_BYTES, so the drain need not read them back.
        self._held: dict[int, bytes] = {}
        self._held_bytes = 0
        self._writing: dict[str, bytes] = {}  # ... and of mail whose spool write has not returned, by SHA-256
        self.spooled = asyncio.Event()  # set on every spool commit: serve's drain worker waits on it
        # Replies set aside by the current drain until their parent may have come (gateway/parent_wait.py).
        self.sessions = OpenSessions()
        self.parent_wait = ParentWait(self.sessions, settings.spool.hold_for_parent_seconds)
        self._set_aside: set[int] = set()
        self.sessions.ended = self._transaction_ended
        self._spooled_count = 0  # mails spooled so far: the drain gives way while they come faster than it settles them
        self._small = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare")
        self._large = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-large")
        self._processes = None
        if processes:
            self._processes = PreparePool(settings=settings, processes=processes, fork_if_alone=fork_if_alone)
            # Mail of LARGE and up is still prepared in this process: its models load now, as in each worker,
            # not during the first big mail, whose memory peak and wait they would add to.
            if warm_large:
                self._large.submit(self._prepare, WARM_UP, "0" * 64)
        self._ahead: dict[int, asyncio.Future] = {}  # spool id -> its Job, prepared before its batch came
        self._no_savepoints = True  # (see _process)

    @property
    def composer(self):
        """What composes the outbox sender's mail (OutboxSender's composer): the preparation worker
        processes when there are some, else None (the sender's own thread)."""
        return self._processes.compose if self._processes is not None else None

    @property
    def spool(self) -> spool.Spool:
        return self.db.spool

    def close(self) -> None:
        """Let the worker threads go (they end once their current mail is prepared) and stop the worker
        processes (waiting for them: they are idle unless a drain is under way)."""
        self._small.shutdown(wait=False, cancel_futures=True)
        self._large.shutdown(wait=False, cancel_futures=True)
        self._forget_ahead()
        if self._processes is not None:
            self._processes.close()

    def _prepare(self, item: Incoming, digest: str) -> Job:
        """Parse and each step's pure work, on a worker thread: the writer's time is for writing."""
        return prepare(item, digest, settings=self.settings, limits=self.limits, steps=self.steps,
                       history_steps=self.history_steps)

    def _preparing(self, row: spool.Spooled) -> asyncio.Future:
        """Start preparing `row` (its Job when done): below LARGE in a worker process when there are some,
        else on its thread lane."""
        item = _incoming(row)
        if self._processes is not None and len(row.raw) < LARGE:
            return asyncio.ensure_future(self._processes.prepare(item, row.digest, here=self._prepare_on_thread))
        return self._prepare_on_thread(item, row.digest)

    def _prepare_on_thread(self, item: Incoming, digest: str) -> asyncio.Future:
        return asyncio.get_running_loop().run_in_executor(self._lane(len(item.raw)), self._prepare, item, digest)

    def _prepare_ahead(self, rows: list[spool.Spooled]) -> None:
        """Start preparing `rows`, the ones after this batch, in the worker processes while this batch is
        stored: the next batch then finds its mail prepared. Small mail only (below LARGE: at most a batch of
        it is held beside the batch being stored); a Job depends on nothing but the row's bytes and
        envelope, so one made early is the one made on time."""
        for row in rows:
            if len(row.raw) < LARGE and row.id not in self._ahead:
                self._ahead[row.id] = self._preparing(row)

    def _forget_ahead(self, keep_above: int | None = None) -> None:
        """Cancel the preparations ahead (all, or those of rows up to id `keep_above`)."""
        for spool_id in [i for i in self._ahead if keep_above is None or i <= keep_above]:
            preparing = self._ahead.pop(spool_id)
            preparing.cancel()
            if preparing.done() and not preparing.cancelled():
                preparing.exception()  # retrieved: a row no batch took (done elsewhere, set aside) is no error

    def _lane(self, size: int) -> ThreadPoolExecutor:
        return self._large if size >= LARGE else self._small

    # --- accept: the spool commit every source waits for ------------------------------------------------

    async def accept(self, raw: bytes, *, source: str, envelope_from: str | None = None,
                     recipients: Sequence[str] = ()) -> int:
        """Commit `raw` and its envelope to the spool (group-committed); its spool id once durable.

        Raises TempFail when the spool write failed: then nothing was accepted.
        """
        loop = asyncio.get_running_loop()
        if len(raw) < HASH_HERE:
            digest = sha256_hex(raw)
        else:
            digest = await loop.run_in_executor(self._lane(len(raw)), sha256_hex, raw)  # 25 MB: ~50 ms of CPU
        done = loop.create_future()
        self._accepting.append((Incoming(raw, source, envelope_from, tuple(recipients)), digest, done))
        if self._acceptor is None:
            self._acceptor = asyncio.create_task(self._commit_accepted())
        return await done

    async def accept_many(self, items: Sequence[Incoming]) -> list[int]:
        """Spool several mails in one transaction; their ids, in the same order."""
        digests = await asyncio.get_running_loop().run_in_executor(
            self._small, lambda: [sha256_hex(item.raw) for item in items])
        return await self._spool_write(list(zip(items, digests)))

    async def _spool_write(self, pairs: list[tuple[Incoming, str]]) -> list[int]:
        # While the write is under way the drain may already see its rows: it finds their bytes here.
        writing = {digest: item.raw for item, digest in pairs if digest not in self._writing}
        self._writing.update(writing)
        try:
            ids = await self.spool.write([(item.raw, digest, item.source, item.envelope_from, item.recipients)
                                          for item, digest in pairs], self.clock.now())
        finally:
            for digest in writing:
                del self._writing[digest]
        for spool_id, (item, _) in zip(ids, pairs):
            if self._held_bytes + len(item.raw) <= HOLD_BYTES:
                self._held[spool_id] = item.raw
                self._held_bytes += len(item.raw)
        self._spooled_count += len(ids)
        self.spooled.set()
        return ids

    def _let_go(self, below: int | None) -> None:
        """Drop held bytes of rows below id `below` (all with None): those are done, here or elsewhere."""
        for spool_id in [i for i in self._held if below is None or i < below]:
            self._held_bytes -= len(self._held.pop(spool_id))

    async def _commit_accepted(self) -> None:
        """Spool whatever is waiting, one commit per group, until nothing is; then end (the next mail starts anew)."""
        try:
            while self._accepting:
                group, self._accepting = self._accepting[:MAX_GROUP], self._accepting[MAX_GROUP:]
                try:
                    ids = await self._spool_write([(item, digest) for item, digest, *_ in group])
                except BaseException as exc:  # TempFail (or a bug): every caller of this group hears it
                    for *_, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                # Accepted as of the commit: a session that connected while the group was being written may
                # hold a parent too, and the older the moment, the more such sessions are overlooked.
                at = self.sessions.now()
                for (*_, done), spool_id in zip(group, ids):
                    self.parent_wait.accepted(spool_id, at)  # before any drain can see the row
                    if not done.done():  # a caller that gave up (client gone) still had its mail spooled
                        done.set_result(spool_id)
        finally:
            self._acceptor = None

    # --- the callers that need an Outcome: accept, then drain until their rows are done -----------------

    async def ingest(self, raw: bytes, *, source: str, envelope_from: str | None = None,
                     recipients: Sequence[str] = ()) -> Outcome:
        """Accept `raw`, then drain until it is processed; its Outcome.

        TempFail before the spool commit: nothing was accepted. TempFail after it: the mail waits in the
        spool for the next drain, and a re-delivery by the source is absorbed by dedupe.
        """
        spool_id = await self.accept(raw, source=source, envelope_from=envelope_from, recipients=recipients)
        [outcome] = await self.settle([spool_id])
        return outcome

    async def ingest_many(self, items: Sequence[Incoming], *, batch: int = BATCH) -> list[Outcome]:
        """Accept several mails in one commit, then drain until each is processed (`batch` rows a transaction);
        outcomes in the same order."""
        return await self.settle(await self.accept_many(items), batch=batch)

    async def settle(self, ids: Sequence[int], *, batch: int = BATCH) -> list[Outcome]:
        """Drain until every spool row of `ids` is done (here or by another instance); their Outcomes."""
        self._wanted.update(ids)
        try:
            while True:
                missing = [spool_id for spool_id in ids if spool_id not in self._finished]
                if missing:
                    async with self._drain_lock:  # the drain before us may have done them meanwhile
                        missing = [spool_id for spool_id in missing if spool_id not in self._finished]
                        if missing:
                            await self._drain(upto=max(missing), batch=batch)
                    missing = [spool_id for spool_id in missing if spool_id not in self._finished]
                if missing:  # processed by another instance (or held by it right now): read what it stored
                    stored = await self.spool.outcomes_of(missing)
                    self._finished.update((spool_id, Outcome(**value)) for spool_id, value in stored.items())
                if all(spool_id in self._finished for spool_id in ids):
                    return [self._finished[spool_id] for spool_id in ids]
                await asyncio.sleep(0.05)  # another instance's batch holds them; its commit is near
        finally:
            self._wanted.difference_update(ids)
            for spool_id in ids:
                self._finished.pop(spool_id, None)

    # --- the drain: spooled mail through the pipeline, in arrival order, a batch per transaction -------

    async def drain(self, *, upto: int | None = None, stop: asyncio.Event | None = None,
                    give_way: bool = False, on_stored: Callable[[], None] | None = None) -> dict[int, Outcome]:
        """Process pending spool rows oldest first until none is left (or none up to id `upto`, or
        `stop` is set: it is looked at between batches, so that serve stops without draining a backlog).

        give_way: serve's background drain pauses between batches while mail arrives faster than they settle it
        (_give_way).
        on_stored: called after each batch that stored mail (serve wakes its outbox sender: under a steady
        stream the drain never ends, and the batch's acknowledgements must not wait for it to).
        Returns the outcomes of the rows this call processed, by spool id. One drain at a time in this
        process (serve's worker and direct callers share it); other instances are kept off our rows by
        the claim in each batch's transaction. Raises TempFail when the database failed: the rows of the
        failed batch stay pending.
        """
        async with self._drain_lock:
            return await self._drain(upto=upto, stop=stop, give_way=give_way, on_stored=on_stored)

    async def _drain(self, *, upto: int | None, stop: asyncio.Event | None = None, give_way: bool = False,
                     batch: int = BATCH, on_stored: Callable[[], None] | None = None) -> dict[int, Outcome]:
        try:
            return await self._drain_batches(upto=upto, stop=stop, give_way=give_way, batch=batch,
                                             on_stored=on_stored)
        finally:
            # Rows past `upto` being prepared stay so, for the next drain (`gateway import` settles one batch
            # while the next is prepared); with no `upto` the spool had nothing left that is ours.
            self._forget_ahead(keep_above=upto)

    async def _drain_batches(self, *, upto: int | None, stop: asyncio.Event | None, give_way: bool,
                             batch: int, on_stored: Callable[[], None] | None) -> dict[int, Outcome]:
        done: dict[int, Outcome] = {}
        head = None
        # With worker processes the rows after a batch are read with it and prepared while it is stored.
        ahead = batch if self._processes is not None else 0
        self._set_aside = set()  # looked at afresh by every drain: their parent may have come meanwhile
        while stop is None or not stop.is_set():  # serve stopping: the rest waits for the next start
            self._set_aside = {spool_id for spool_id in self._set_aside if self.parent_wait.still_waiting(spool_id)}
            rows = await self.spool.pending(limit=batch + ahead, max_bytes=BATCH_BYTES, known=self._held,
                                            writing=self._writing, skip=self._set_aside)
            self._let_go(rows[0].id if rows else None)
            if not rows or (upto is not None and rows[0].id > upto):
                return done
            self._prepare_ahead(rows[batch:])
            del rows[batch:]
            started, spooled, first = time.monotonic(), self._spooled_count, rows[0].id
            processed = await self._drain_batch(rows)
            if on_stored is not None and any(outcome.status == "stored" for outcome in processed.values()):
                on_stored()
            # Not held through the pause and the next read: a batch is up to BATCH_BYTES of mail, and the
            # next may be as much again, read back or arriving over SMTP meanwhile.
            del rows
            # Only while mail comes faster than the batches settle it: a stream the drain keeps up with would
            # otherwise be held to drain_share_under_load of its pace and back up (bench/latency.py at 50
            # mails/s: a median of 1.6-2.5 s to the acknowledgement, 0.46-0.67 s with this rule).
            if give_way and self._spooled_count - spooled > len(processed):
                await self._give_way(time.monotonic() - started)
            if not processed and first == head:
                return done  # another instance holds these rows
            # (Nothing processed, a new head: the rows were done elsewhere, the next batch may be ours.)
            head = first
            done.update(processed)
        return done

    async def _give_way(self, worked: float) -> None:
        """More mail arrived during the batch that took `worked` seconds than it settled: pause so that the
        drain has about spool.drain_share_under_load of the time. The drain's pipeline runs on the loop the
        SMTP sessions share, and every mail accepted meanwhile is one more the drain must run: under a burst
        it would hold intake down to its own pace, while a mail accepted is safe and its processing can wait."""
        share = self.settings.spool.drain_share_under_load
        if share < 1:
            await asyncio.sleep(min(MAX_PAUSE, worked * (1 - share) / share))

    async def _drain_batch(self, rows: list[spool.Spooled]) -> dict[int, Outcome]:
        # Parsing off the loop, before the transaction: SQLite's one write lock is held only for writing.
        jobs = await asyncio.gather(*(self._ahead.pop(row.id, None) or self._preparing(row) for row in rows))
        done: dict[int, Outcome] = {}
        for row in rows:  # lost unique-key races again and again: not a race, hold it
            if self._conflicts.get(row.id, 0) >= MAX_CONFLICTS:
                done.update(await self._hold_row(row, "conflicting concurrent writes, again and again"))
        try:
            done.update(await self._process([(row, job) for row, job in zip(rows, jobs) if row.id not in done]))
            return done
        except TempFail:
            raise
        except Exception:  # a bug outside the per-mail boundary: find the mail that causes it
            log.exception("spool batch of %d mail(s) failed as a whole; retrying them one by one", len(rows))
        for row, job in zip(rows, jobs):
            if row.id in done:
                continue
            try:
                done.update(await self._process([(row, job)]))
            except TempFail:
                raise
            except Exception as exc:
                log.exception("spool row %d failed on its own", row.id)
                done.update(await self._hold_row(row, f"internal error: {type(exc).__name__}: {exc}"))
        return done

    async def _process(self, pairs: list[tuple[spool.Spooled, Job]]) -> dict[int, Outcome]:
        """One transaction: claim the rows, run the pipeline over the claimed ones, mark them done.

        A batch is first stored without a savepoint per mail (a savepoint cost about a sixth of a new ticket's
        CPU in bench/drain.py); when one of its mails is not simply stored (a duplicate, a quarantine, a lost
        race), the transaction is rolled back and run again with them, and so are the batches after it until
        one stores every mail (a resumed import begins with batches of duplicates). Nothing a step does
        outside the transaction is undone by the rollback, so none may do anything there that the second
        run would do wrong twice: the steps write rows, and the similar-ticket index tells a ticket from one
        rolled back by its reply token.
        """
        if self._no_savepoints and all(job.mail is not None for _, job in pairs):
            try:
                return await self._process_once(pairs, savepoints=False)
            except Redo as exc:
                log.debug("batch of %d imported mail(s) stored again with savepoints: %s", len(pairs), exc)
                self._no_savepoints = False
        done = await self._process_once(pairs, savepoints=True)
        self._no_savepoints = all(outcome.status == "stored" for outcome in done.values())
        return done

    async def _process_once(self, pairs: list[tuple[spool.Spooled, Job]], *, savepoints: bool) -> dict[int, Outcome]:
        async with self.db.transaction() as session:
            now = self.clock.now()
            mine = await self.spool.claim(session, [row.id for row, _ in pairs])
            picked = parents_first([(row, job) for row, job in pairs if row.id in mine], lambda pair: pair[1].mail)
            aside = await self.parent_wait.waiting(session, [(row.id, job.mail) for row, job in picked])
            if aside:
                self._set_aside |= aside
                picked = [(row, job) for row, job in picked if row.id not in aside]
            outcomes = await self._store_in(session, [job for _, job in picked], now, savepoints=savepoints)
            done: dict[int, Outcome] = {}
            for (row, _), outcome in zip(picked, outcomes):
                if outcome is None:  # lost a unique-key race: stays pending, the next batch sees the winner's row
                    self._conflicts[row.id] = self._conflicts.get(row.id, 0) + 1
                    continue
                done[row.id] = outcome
            await self.spool.finish(session, [(row, asdict(done[row.id])) for row, _ in picked if row.id in done],
                                    now)
        await self.spool.forget([row.id for row, _ in pairs if row.id in done or row.id not in mine])
        self.parent_wait.forget([row.id for row, _ in pairs if row.id not in mine])
        self._settled(done)
        return done

    def _transaction_ended(self, since: float, spool_id: int | None) -> None:
        self.parent_wait.transaction_ended(since, spool_id)
        if self._set_aside:
            self.spooled.set()  # serve's drain worker looks at the replies set aside again

    def _settled(self, done: dict[int, Outcome]) -> None:
        self.parent_wait.forget(done)
        for spool_id, outcome in done.items():
            self._conflicts.pop(spool_id, None)
            if spool_id in self._held:
                self._held_bytes -= len(self._held.pop(spool_id))
            if spool_id in self._wanted:  # a caller in settle() waits for it
                self._finished[spool_id] = outcome

    async def _hold_row(self, row: spool.Spooled, reason: str) -> dict[int, Outcome]:
        """Quarantine a spool row whole with `reason` and mark it done, so it no longer blocks the spool."""
        async with self.db.transaction() as session:
            if not await self.spool.claim(session, [row.id]):
                return {}
            outcome = await self._hold(session, Job(_incoming(row), row.digest, None, reason), reason)
            await self.spool.finish(session, [(row, asdict(outcome))], self.clock.now())
        await self.spool.forget([row.id])
        self._settled({row.id: outcome})
        return {row.id: outcome}


def _incoming(row: spool.Spooled) -> Incoming:
    return Incoming(row.raw, row.source, row.envelope_from, row.recipients)


