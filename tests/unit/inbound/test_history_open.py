"""Opening an archive for `gateway import`: indexed on a thread of its own, so Ctrl-C need not wait."""
from __future__ import annotations

import asyncio
import mailbox
import threading
from email.message import EmailMessage

import pytest

from gateway.errors import UsageError
from gateway.inbound import history


async def test_an_archive_being_indexed_leaves_the_loop_free_and_can_be_given_up(monkeypatch, tmp_path):
    started, release = threading.Event(), threading.Event()

    def slow_index(path):
        started.set()
        release.wait(30)
        return history.Source(0, lambda: iter(()))

    monkeypatch.setitem(history.OPENERS, "mbox", slow_index)
    opening = asyncio.create_task(history.open_archive("mbox", tmp_path / "huge.mbox"))
    try:
        while not started.is_set():
            await asyncio.sleep(0.01)  # the loop runs while the index is read
        opening.cancel()  # what asyncio.run does on Ctrl-C
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(opening, 5)
    finally:
        release.set()


async def test_an_opened_archive_and_an_unusable_path(tmp_path):
    box = mailbox.mbox(tmp_path / "old.mbox")
    for n in range(3):
        mail = EmailMessage()
        mail["From"], mail["Subject"] = f"user{n}@example.org", f"Question {n}"
        mail.set_content("Hello")
        box.add(mail)
    box.flush()
    source = await history.open_archive("mbox", tmp_path / "old.mbox")
    assert source.total == 3 and [b"Question 2" in raw for raw in source.mails()] == [False, False, True]
    with pytest.raises(UsageError, match="no such mbox file"):
        await history.open_archive("mbox", tmp_path / "missing.mbox")
