"""`gateway import mbox|maildir PATH` as a real process: old mail becomes resolved tickets with their
threads, nothing is sent, a second run stores nothing new, an interrupted run resumes."""
from __future__ import annotations

import json
import mailbox
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

from gateway.ingest import HISTORY_BATCH
from tests.conftest import free_port

START = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)


def old_mail(n: int, *, subject: str, sender: str, reply_to: EmailMessage | None = None,
             body: str = "The VPN drops every hour.") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, "ihelp@example.com"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(START + timedelta(hours=n))
    mail["Message-ID"] = f"<old-{n}@example.org>"
    if reply_to is not None:
        mail["In-Reply-To"] = reply_to["Message-ID"]
        mail["References"] = reply_to["Message-ID"]
    mail.set_content(body)
    return mail


def history() -> list[EmailMessage]:
    first = old_mail(0, subject="VPN drops", sender="ann@example.org")
    second = old_mail(1, subject="New laptop for Bob", sender="bob@example.org")
    answer = old_mail(2, subject="Re: VPN drops", sender="carol@example.com", reply_to=first,
                      body="/resolve\nFixed the VPN concentrator.")  # an engineer's command, years ago
    thanks = old_mail(30, subject="Re: VPN drops", sender="ann@example.org", reply_to=answer, body="Thanks!")
    return [first, second, answer, thanks]


def write_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n'
                    f'[outbound]\nmaildir = "{tmp_path}/out"\n[smtp]\nport = {free_port()}\n')
    return path


def gateway(config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                          capture_output=True, timeout=120)


def rows(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "gw.db") as conn:
        return conn.execute(sql).fetchall()


def test_an_mbox_becomes_resolved_threaded_tickets_and_nothing_is_sent(tmp_path):
    box = mailbox.mbox(tmp_path / "ihelp.mbox")
    for mail in history():
        box.add(mail)
    box.add(history()[1])  # the same mail twice, as archives have
    box.add(b"From MAILER-DAEMON Mon Mar  4 09:00:00 2024\n\x00\x01 binary junk, no header at all\n")
    box.flush()
    config = write_config(tmp_path)

    first = gateway(config, "import", "mbox", str(tmp_path / "ihelp.mbox"))
    assert first.returncode == 0, first.stderr
    assert "read 6: 4 stored, 1 duplicate, 1 quarantined, 0 discarded" in first.stdout.decode()
    tickets = json.loads(gateway(config, "tickets", "list", "--json").stdout)["tickets"]
    assert sorted((t["subject"], t["status"]) for t in tickets) == [("New laptop for Bob", "resolved"),
                                                                   ("VPN drops", "resolved")]
    vpn = json.loads(gateway(config, "tickets", "show", "HD-1", "--json").stdout)
    assert [m["from"] for m in vpn["messages"]] == ["ann@example.org", "carol@example.com", "ann@example.org"]
    # Dated by the mail, resolved as of its last mail; the old /resolve ran nothing and no clock started.
    assert rows(tmp_path, "SELECT created_at, resolved_at, sla_check_at FROM tickets WHERE id = 1") == [
        ("2024-03-04 09:00:00.000000", "2024-03-05 15:00:00.000000", None)]
    assert {e["kind"] for e in vpn["events"]} <= {"created", "message_in"}
    assert rows(tmp_path, "SELECT count(*) FROM outbox") == [(0,)]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.eml"))

    again = gateway(config, "import", "mbox", str(tmp_path / "ihelp.mbox"))
    assert again.returncode == 0, again.stderr
    assert "read 6: 0 stored, 5 duplicate, 1 quarantined, 0 discarded" in again.stdout.decode()
    assert rows(tmp_path, "SELECT count(*) FROM messages") == [(4,)]


def test_a_maildir_is_imported_oldest_first_so_replies_thread(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for mail in history():
        box.add(mail)
        time.sleep(0.002)  # distinct delivery times, as a delivery agent gives them
    config = write_config(tmp_path)
    result = gateway(config, "import", "maildir", str(tmp_path / "Maildir"))
    assert result.returncode == 0, result.stderr
    assert "read 4: 4 stored" in result.stdout.decode()
    assert rows(tmp_path, "SELECT ticket_id, count(*) FROM messages GROUP BY ticket_id ORDER BY ticket_id") == [
        (1, 3), (2, 1)]


def test_a_customer_writing_again_after_the_import_reopens_or_starts_a_linked_ticket(tmp_path):
    box = mailbox.mbox(tmp_path / "ihelp.mbox")
    for mail in history():
        box.add(mail)
    box.flush()
    config = write_config(tmp_path)
    assert gateway(config, "import", "mbox", str(tmp_path / "ihelp.mbox")).returncode == 0
    late = old_mail(99, subject="Re: VPN drops", sender="ann@example.org", reply_to=history()[3],
                    body="It is back, sadly.")
    del late["Date"]
    late["Date"] = format_datetime(datetime.now(timezone.utc))
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), "ingest",
                             "--sender", "ann@example.org"], input=late.as_bytes(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert gateway(config, "ingest", "--drain").returncode == 0  # no serve runs: the pipe only spooled it
    tickets = {t["ref"]: t for t in json.loads(gateway(config, "tickets", "list", "--json").stdout)["tickets"]}
    assert tickets["HD-3"]["status"] == "open" and tickets["HD-1"]["status"] == "resolved"  # resolved in 2024
    assert rows(tmp_path, "SELECT linked_ticket_id FROM tickets WHERE id = 3") == [(1,)]
    assert rows(tmp_path, "SELECT count(*) FROM outbox") == [(2,)]  # this one is answered and announced


def test_an_interrupted_import_resumes_and_stores_each_mail_once(tmp_path):
    box = mailbox.mbox(tmp_path / "big.mbox")
    for n in range(800):
        box.add(old_mail(n, subject=f"Printer {n} jammed", sender=f"user{n}@example.org"))
    box.flush()
    config = write_config(tmp_path)
    assert gateway(config, "db", "upgrade").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "import", "mbox",
                             str(tmp_path / "big.mbox")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while rows(tmp_path, "SELECT count(*) FROM messages") < [(200,)]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: run the same command again to go on" in out.decode()
    assert "Traceback" not in err.decode()
    stored_before = rows(tmp_path, "SELECT count(*) FROM messages")[0][0]
    # Batches are accepted into the spool whole, each before the one before it is processed: an
    # interrupted drain leaves the rest of one pending and the next one, and the next run processes them first.
    spooled = json.loads(gateway(config, "spool", "status", "--json").stdout)["depth"]
    assert stored_before < 800 and (stored_before + spooled) % HISTORY_BATCH == 0 and spooled <= 2 * HISTORY_BATCH

    resumed = gateway(config, "import", "mbox", str(tmp_path / "big.mbox"))
    assert resumed.returncode == 0, resumed.stderr
    done_first = stored_before + spooled
    assert f"{800 - done_first} stored, {done_first} duplicate" in resumed.stdout.decode()
    assert (f"processed {spooled} mail(s) accepted into the spool earlier" in resumed.stdout.decode()) == bool(spooled)
    assert rows(tmp_path, "SELECT count(*), count(DISTINCT message_id) FROM messages") == [(800, 800)]


def test_a_path_that_is_not_an_archive_is_one_line_and_exit_64(tmp_path):
    config = write_config(tmp_path)
    for kind in ("mbox", "maildir"):
        result = gateway(config, "import", kind, str(tmp_path / "missing"))
        err = result.stderr.decode()
        assert result.returncode == 64 and len(err.strip().splitlines()) == 1 and str(tmp_path / "missing") in err
