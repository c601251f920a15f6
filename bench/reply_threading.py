"""Threading under concurrency: the bench corpus sent over SMTP by 20 clients at once; replies on their thread's ticket.

    python bench/reply_threading.py [--mails 1000] [--clients 20]

The corpus is bench/import_history.archive (a third of its mails reply to an earlier one, by
In-Reply-To and References, from the customer or from the engineer alice). `gateway serve`
(SQLite, its own process) takes them from `--clients` client threads sending in corpus order, a
connection per mail with the From address as envelope sender, as MTAs deliver. So a reply can reach
DATA end while the mail it answers is still in another session. Once every mail is stored, each
reply whose ticket is its parent's counts; printed as n/replies, with how many opened a ticket
of their own.
"""
from __future__ import annotations

import argparse
import mailbox
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import parseaddr
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.import_history import archive  # noqa: E402
from bench.ingest import LOOPGUARD_TOML  # noqa: E402
from tests.conftest import free_port, wait_listening  # noqa: E402


def corpus(path: Path, mails: int) -> list[tuple[str, str, str | None, bytes]]:
    """(message-id, envelope sender, parent message-id or None, raw bytes with CRLF) per mail, in order."""
    archive(path, mails)
    out = []
    for message in mailbox.mbox(path):
        raw = message.as_bytes(unixfrom=False).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        out.append((_bare_id(message["Message-ID"]), parseaddr(str(message["From"]))[1],
                    _bare_id(message["In-Reply-To"]), raw))
    return out


def _bare_id(value) -> str | None:
    """'<hist-3@example.org>' -> 'hist-3@example.org', as the gateway stores Message-IDs."""
    return str(value).strip().strip("<>") if value else None


def send_all(port: int, mails: list[tuple[str, str, str | None, bytes]], clients: int) -> int:
    """Send every mail from `clients` threads taking them in order; the number refused (not 250)."""
    queue, lock, refused = iter(mails), threading.Lock(), []

    def client() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            _, sender, _, raw = item
            try:
                with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost", timeout=120) as smtp:
                    smtp.sendmail(sender, ["ihelp@example.com"], raw)
            except (smtplib.SMTPException, OSError) as exc:
                refused.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(refused)


def tickets_by_message_id(db: Path, expected: int, timeout: float = 600) -> dict[str, int]:
    """message-id -> ticket of every inbound mail, once `expected` are stored (or the timeout passes)."""
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT message_id, ticket_id FROM messages WHERE direction = 'in'").fetchall()
        if len(rows) >= expected or time.time() > deadline:
            return {message_id: ticket for message_id, ticket in rows if message_id}
        time.sleep(0.2)


def measure(mails: int = 1000, clients: int = 20) -> dict:
    """{'replies', 'threaded', 'own_ticket', 'missing', 'refused', 'seconds', 'astray'} for one run on a fresh
    database; 'astray' lists (message-id, mails between it and its parent in the corpus) of each reply that
    opened a ticket of its own."""
    with tempfile.TemporaryDirectory(prefix="gw-threading-") as workdir:
        home = Path(workdir)
        items = corpus(home / "corpus.mbox", mails)
        port = free_port()
        config = home / "config.toml"
        config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{home}/gw.db"\n[smtp]\nport = {port}\n'
                          f'[outbound]\nmode = "maildir"\nmaildir = "{home}/out"\n'
                          + LOOPGUARD_TOML +
                          '[logging]\nlevel = "WARNING"\n')
        server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "serve"],
                                  cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, server)
            started = time.perf_counter()
            refused = send_all(port, items, clients)
            ticket_of = tickets_by_message_id(home / "gw.db", len(items) - refused)
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(30)
    position = {mid: n for n, (mid, _, _, _) in enumerate(items)}
    replies = [(mid, parent) for mid, _, parent, _ in items if parent]
    missing = [mid for mid, _ in replies if mid not in ticket_of]
    astray = [(mid, position[mid] - position[parent]) for mid, parent in replies
              if mid in ticket_of and ticket_of[mid] != ticket_of.get(parent)]
    return {"replies": len(replies), "threaded": len(replies) - len(astray) - len(missing),
            "own_ticket": len(astray), "missing": len(missing), "refused": refused, "seconds": seconds,
            "astray": astray}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args(argv)
    result = measure(args.mails, args.clients)
    print(f"{args.mails} mails, {args.clients} SMTP clients: {result['threaded']}/{result['replies']} replies on "
          f"their thread's ticket; {result['own_ticket']} opened a ticket of their own, {result['missing']} not "
          f"stored, {result['refused']} refused; {result['seconds']:.1f} s to store them all")
    for message_id, gap in result["astray"]:  # a small gap: the parent was still in another session
        print(f"  <{message_id}> opened its own ticket; it came {gap} mails after the one it answers")
    return result


if __name__ == "__main__":
    main()
