"""`gateway import mbox|maildir PATH`: a help desk's old mail through the normal pipeline, sending nothing.

Mail is read one message at a time (Python's mailbox module keeps only an index of where each one
starts), stored in batches of HISTORY_BATCH, each batch one transaction, oldest first so that replies find the
tickets they answer. An interrupted import is resumed by running it again: what was stored before is
found by the ordinary dedupe and skipped. Imported mail is `source = "import"`; see
MailContext.history for what that changes (no mail out, no commands, tickets resolved as of their
last mail, no SLA clocks).
"""
from __future__ import annotations

import asyncio
import collections
import mailbox
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from tqdm import tqdm

from gateway.errors import UsageError
from gateway.ingest import HISTORY_BATCH, Incoming, Ingestor
from gateway.pipeline.context import HISTORY_SOURCE
from gateway.store.planner import Growth


@dataclass
class ImportResult:
    read: int = 0
    counts: collections.Counter = field(default_factory=collections.Counter)  # by outcome status
    seconds: float = 0.0
    interrupted: bool = False

    def line(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        parts = ", ".join(f"{self.counts[s]} {s}" for s in ("stored", "duplicate", "quarantined", "discarded"))
        return f"read {self.read}: {parts} in {self.seconds:.1f} s ({rate:.0f} mails/s)"


@dataclass(frozen=True)
class Source:
    """An opened archive: how many mails, and the raw bytes of each, oldest first."""

    total: int
    mails: Callable[[], Iterator[bytes]]


def open_mbox(path: Path) -> Source:
    if not path.is_file():
        raise UsageError(f"{path}: no such mbox file; give the path of an mbox (one file of mails)")
    box = mailbox.mbox(path, create=False)
    try:
        keys = box.keys()  # one pass over the file, keeping only where each mail starts
    except (OSError, mailbox.Error) as exc:
        raise UsageError(f"{path}: cannot be read as an mbox ({exc})") from exc
    # An mbox is in the order mail was delivered: oldest first already.
    return Source(len(keys), lambda: (box.get_bytes(key) for key in keys))


def open_maildir(path: Path) -> Source:
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise UsageError(f"{path}: not a Maildir (it has no cur/ or new/ folder)")
    box = mailbox.Maildir(path, factory=None, create=False)
    # Maildir file names begin with the delivery time; sort on it so replies come after what they answer.
    keys = sorted(box.keys(), key=_delivered)
    return Source(len(keys), lambda: (box.get_bytes(key) for key in keys))


def _delivered(key: str) -> tuple[int, int, str]:
    """Sort key from a Maildir name: "1700000000.M123456P42Q7.host" -> (seconds, microseconds, name)."""
    match = _MAILDIR_NAME.match(key)
    if match is None:
        return (2**63, 0, key)  # not a name a delivery agent made: after the rest, by name
    return (int(match.group(1)), int(match.group(2) or 0), key)


_MAILDIR_NAME = re.compile(r"^(\d+)\.(?:[^.]*?M(\d+))?")


OPENERS = {"mbox": open_mbox, "maildir": open_maildir}


async def open_archive(kind: str, path: Path) -> Source:
    """OPENERS[kind](path) on a thread of its own, a daemon: indexing reads the whole archive (half a
    second per 50 MB of mbox here), and on the loop's thread a Ctrl-C would wait for the end of it."""
    loop = asyncio.get_running_loop()
    opened: asyncio.Future = loop.create_future()

    def settle(source: Source | None, error: BaseException | None) -> None:  # on the loop's thread
        if opened.done():  # given up on (Ctrl-C)
            return
        if error is None:
            opened.set_result(source)
        else:
            opened.set_exception(error)

    def index() -> None:
        try:
            outcome: tuple = (OPENERS[kind](path), None)
        except BaseException as exc:
            outcome = (None, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is closed: the import was interrupted, nobody waits for this
            pass

    threading.Thread(target=index, name=f"index {path.name}", daemon=True).start()
    return await opened


async def import_mail(source: Source, *, ingestor: Ingestor, progress: bool,
                      report: Callable[[str], None] = print) -> ImportResult:
    """Store every mail of `source` through the pipeline as history; counts by outcome."""
    result, started = ImportResult(), time.monotonic()
    # A run interrupted between a batch's spool commit and its drain left it pending: process it first.
    leftover = await ingestor.drain()
    if leftover:
        report(f"processed {len(leftover)} mail(s) accepted into the spool earlier and not yet processed")
    bar = tqdm(total=source.total, unit="mail", disable=not progress, smoothing=0.05)

    growth = Growth(ingestor.db)  # (PostgreSQL's plans as the tables grow: gateway/store/planner.py)

    async def settle(ids: list[int]) -> None:
        outcomes = await ingestor.settle(ids, batch=HISTORY_BATCH)
        result.read += len(ids)
        result.counts.update(outcome.status for outcome in outcomes)
        bar.update(len(ids))
        await growth.add(len(ids))

    try:
        # Each batch is spooled before the one before it is processed: with worker processes it is
        # prepared there while that one is stored (Ingestor._prepare_ahead). Two batches in memory at most.
        spooled: list[int] = []
        for batch in _batches(source.mails(), HISTORY_BATCH):
            ids = await ingestor.accept_many([Incoming(raw, HISTORY_SOURCE) for raw in batch])
            if spooled:
                await settle(spooled)
            spooled = ids
        if spooled:
            await settle(spooled)
        await growth.done()  # for serve's lookups after the import
    except BaseException:  # Ctrl-C or the database gone: the batch in flight rolled back, earlier ones kept
        result.interrupted = True
        raise
    finally:
        bar.close()
        result.seconds = time.monotonic() - started
        report(result.line() + ("; interrupted: run the same command again to go on" if result.interrupted else ""))
    return result


def _batches(mails: Iterator[bytes], size: int) -> Iterator[Sequence[bytes]]:
    batch: list[bytes] = []
    for raw in mails:
        batch.append(raw)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
