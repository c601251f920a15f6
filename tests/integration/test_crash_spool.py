"""kill -9 of `gateway serve` between the spool commit and the pipeline: the restarted serve processes
exactly the rows not done, loses none and stores none twice (invariant 1)."""
from __future__ import annotations

import asyncio
import time

from gateway.clock import SystemClock
from gateway.config import load
from gateway.ingest import Ingestor
from tests.integration import crashkit
from tests.integration.serving import make_mail

MAILS = 300
# Rows of the spool file (SQLite) that spool_done, written in each batch's transaction, does not name.
PENDING = "SELECT count(*) FROM spoolfile.spool WHERE id NOT IN (SELECT id FROM spool_done)"


async def spool_mails(config, mails) -> None:
    """Accept `mails` as serve's listener would, without draining: the state a kill -9 right after the 250s leaves."""
    settings = load(config, {})
    db = settings.open_database()
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
    try:
        for mail in mails:
            await ingestor.accept(mail.as_bytes(), source="smtp", envelope_from=str(mail["From"]),
                                  recipients=("ihelp@example.com",))
    finally:
        ingestor.close()
        await db.dispose()


def wait(condition, timeout: float, what: str, serve: crashkit.Serve):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"{what} within {timeout}s; serve log:\n{serve.log()}")


def test_kill_9_mid_drain_then_restart_processes_each_spooled_mail_once(tmp_path):
    relay = crashkit.Relay()
    relay.start()
    serve = crashkit.Serve(tmp_path, relay.port)
    mails = [make_mail(sender=f"user{n}@example.org", subject=f"Problem {n}") for n in range(MAILS)]
    asyncio.run(spool_mails(tmp_path / "config.toml", mails))
    count = lambda sql: serve.query(sql)[0][0] if serve.query(sql) else 0  # noqa: E731
    try:
        serve.start()  # drains at start: the mail spooled before it came up
        wait(lambda: count("SELECT count(*) FROM spool_done") > 0, 60, "no spool row done", serve)
        serve.kill()
        pending = count(PENDING)
        assert 0 < pending < MAILS, "the kill should land mid-drain"
        # What the dead serve committed is whole: exactly the done rows' mails are stored, nothing of the rest.
        done_ids = {row[0] for row in serve.query(
            "SELECT m.message_id FROM spool_done s JOIN messages m ON m.raw_sha256 = s.raw_sha256 "
            "WHERE m.direction = 'in'")}
        assert count("SELECT count(*) FROM messages WHERE direction = 'in'") == MAILS - pending == len(done_ids)

        serve.start()
        wait(lambda: count(PENDING) == 0 and count("SELECT count(*) FROM spool_done") == MAILS, 120,
             "the spool was not drained", serve)
        assert count("SELECT count(*) FROM tickets") == MAILS
        assert count("SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'") == MAILS
        assert count("SELECT count(*) FROM messages WHERE direction = 'in'") == MAILS
        assert count("SELECT count(*) FROM counters WHERE name = 'duplicates' AND value > 0") == 0
        # One acknowledgement and one announcement per ticket, none queued twice.
        assert count("SELECT count(*) FROM outbox") == 2 * MAILS
        assert serve.query("SELECT ticket_id, template, recipient FROM outbox GROUP BY 1, 2, 3 "
                           "HAVING count(*) > 1") == []
    finally:
        serve.stop()
        relay.stop()
