"""kill -9 of `gateway serve` in the middle of an IMAP backlog, then a restart: every mail stored exactly once."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port
from tests.integration.conftest import make_mail

pytestmark = pytest.mark.dovecot
MAILS = 60


def count(db_path, sql: str) -> int:
    """A read from outside the gateway process (WAL lets it run beside the writer); 0 before the schema exists."""
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def start(tmp_path, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "ab"))


def wait(predicate, timeout: float, what: str, proc: subprocess.Popen, tmp_path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"serve exited ({proc.returncode}): {(tmp_path / 'serve.log').read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s: {(tmp_path / 'serve.log').read_text()[-3000:]}")
        time.sleep(0.005)


def test_kill_9_in_the_middle_of_a_backlog_loses_and_duplicates_nothing(imap_user, tmp_path):
    imap_user.append(*(make_mail(subject=f"Crash test {n}", body=f"Mail number {n}.",
                                 sender=f"customer{n}@example.org").as_bytes() for n in range(MAILS)))
    (tmp_path / "config.toml").write_text(f"""
[database]
url = "sqlite+aiosqlite:///gateway.db"

[smtp]
port = {free_port()}

[outbound]
mode = "maildir"
maildir = "outgoing"

{imap_user.mailbox_toml(poll_seconds=30)}""")
    env = {"PATH": "/usr/bin:/bin", "SUPPORT_IMAP_PASSWORD": imap_user.password}
    db_path = tmp_path / "gateway.db"
    inbound = "SELECT count(*) FROM messages WHERE direction = 'in'"

    first = start(tmp_path, env)
    try:
        wait(lambda: count(db_path, inbound) >= 10, 30, "10 mails stored", first, tmp_path)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    stored_at_kill = count(db_path, inbound)
    assert stored_at_kill < MAILS, "the backlog was drained before the kill; make it larger"

    second = start(tmp_path, env)
    try:
        wait(lambda: count(db_path, inbound) >= MAILS and not imap_user.uids("INBOX"), 60,
             "backlog drained after the restart", second, tmp_path)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, (tmp_path / "serve.log").read_text()[-3000:]

    assert count(db_path, inbound) == MAILS
    assert count(db_path, "SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'") == MAILS
    assert count(db_path, "SELECT count(DISTINCT dedupe_key) FROM messages WHERE direction = 'in'") == MAILS
    assert count(db_path, "SELECT count(*) FROM tickets") == MAILS
    assert count(db_path, "SELECT count(*) FROM quarantine") == 0
    assert imap_user.uids("INBOX") == [] and len(imap_user.uids("Processed")) == MAILS
    assert count(db_path, "SELECT last_uid FROM mailbox_state WHERE name = 'support'") == MAILS
