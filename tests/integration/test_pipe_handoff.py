"""`gateway ingest` beside a running serve: the mail goes through serve's listener (same exit codes);
without a serve, or for a recipient serve does not list, the process commits it to the spool file itself."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

from sqlalchemy import select

from gateway.config import load
from gateway.store.blobs import get_blob
from gateway.store.models import Message
from tests.conftest import free_port
from tests.integration.serving import drained, make_mail, start


def write_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\nbusy_timeout_ms = 200\n'
                    f'[outbound]\nmaildir = "{tmp_path}/out"\n[smtp]\nport = {free_port()}\n'
                    f'[digest]\nrecipients = []\n')
    return path


async def pipe(config, raw: bytes, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, *python, "-m", "gateway.cli", "--config", str(config), "ingest", *args],
        input=raw, capture_output=True, timeout=60)


def imported(result: subprocess.CompletedProcess) -> set[str]:
    """The modules a process run with -X importtime imported."""
    return {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line}


async def raw_of(settings, subject: str) -> tuple[str, bytes]:
    await drained(settings)  # serve's 250 to the hand-off means spooled: wait for its spool worker
    db = settings.open_database()
    try:
        async with db.transaction() as session:
            source, digest = (await session.execute(select(Message.source, Message.raw_sha256)
                                                    .where(Message.subject == subject))).one()
            return source, await get_blob(session, digest)
    finally:
        await db.dispose()


async def stored(settings) -> list[tuple[str, str, str]]:
    await drained(settings)
    db = settings.open_database()
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(Message.subject, Message.source, Message.text)
                                          .where(Message.direction == "in").order_by(Message.id))).all()
    finally:
        await db.dispose()
    return [tuple(row) for row in rows]


async def test_ingest_hands_the_mail_to_a_running_serve(tmp_path):
    config = write_config(tmp_path)
    settings = load(config, {})
    running = await start(settings)
    try:
        # As Postfix's pipe gives it: LF line ends, and a line that starts with a dot.
        mail = make_mail(subject="Handed over", body="Line one\n.hidden dot line\nLast line\n")
        result = await pipe(config, mail.as_bytes(), "--sender", "customer@example.org")
        assert result.returncode == 0, result.stderr
        foreign = make_mail(subject="For an alias serve does not list")
        result = await pipe(config, foreign.as_bytes(), "--sender", "customer@example.org",
                            "--recipient", "helpdesk-alias@example.com")
        assert result.returncode == 0, result.stderr
        # No --sender: SMTP could only say MAIL FROM:<>, which would make it a bounce; stored here instead.
        result = await pipe(config, make_mail(subject="Sender unknown").as_bytes())
        assert result.returncode == 0, result.stderr
        result = await pipe(config, make_mail(subject="Umlaut sender").as_bytes(), "--sender", "jöns@example.org")
        assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
        rows = await stored(settings)
        assert [(subject, source) for subject, source, _ in rows] == [
            ("Handed over", "pipe"), ("For an alias serve does not list", "pipe"), ("Sender unknown", "pipe"),
            ("Umlaut sender", "pipe")]
        # Which went through serve: SMTP carries CRLF line ends; a pipe process storing itself keeps the LF.
        assert b"\r\n" in (await raw_of(settings, "Handed over"))[1]
        for subject in ("For an alias serve does not list", "Sender unknown", "Umlaut sender"):
            assert b"\r\n" not in (await raw_of(settings, subject))[1], subject
        assert rows[0][2].splitlines() == ["Line one", ".hidden dot line", "Last line"]

        blocker = sqlite3.connect(tmp_path / "gw.db.spool.sqlite", isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")  # serve cannot commit to its spool: it answers 451
            locked = await pipe(config, make_mail(subject="While locked").as_bytes(), "--sender", "c@example.org")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        err = locked.stderr.decode()
        assert locked.returncode == 75 and "serve answered 451" in err and len(err.splitlines()) == 1
    finally:
        await running.shutdown()
    alone = await pipe(config, make_mail(subject="No serve running").as_bytes(), "--sender", "c@example.org",
                       python=("-X", "importtime"))
    assert alone.returncode == 0, alone.stderr
    assert "alembic" not in {name.split(".")[0] for name in imported(alone)}  # migrations are serve's business
    assert (await pipe(config, b"", "--drain")).returncode == 0  # no serve to process what the pipe spooled
    assert [(subject, source) for subject, source, _ in await stored(settings)][-1] == ("No serve running", "pipe")


# What `gateway ingest` may not import before serve has the mail: each of these costs every mail milliseconds.
# (tomli, about 3 ms, is the one parser allowed: reading config.toml is a parser's job, not ours. The
# stdlib's tomllib is the same parser but loads typing and string at import, about 9 ms more.)
HEAVY = ("argparse", "asyncio", "pydantic", "sqlalchemy", "smtplib", "email", "ssl", "socket",
         "dataclasses", "pathlib", "gateway.config", "gateway.cli_parser", "tomllib", "typing", "string")


async def test_large_mail_and_dot_lines_reach_serve_intact_and_nothing_heavy_is_imported(tmp_path):
    config = write_config(tmp_path)
    settings = load(config, {})
    running = await start(settings)
    try:
        # As an MTA's pipe gives it: LF line ends, lines that are or start with dots, long lines, > 256 KB.
        head = make_mail(subject="Large, with dots").as_bytes().split(b"\n\n")[0].replace(
            b"quoted-printable", b"8bit").replace(b"7bit", b"8bit")
        body = b"\n".join([b".", b"..", b". leading dot", b"x" * 5000, "\u00e4".encode() * 30, b"last"] * 60)
        mail = head + b"\n\n" + body + b"\n" + b"y" * 100_000 + b"\n.\n"
        assert len(mail) > 256 * 1024 and b"\r\n" not in mail
        result = await pipe(config, mail, "--sender", "customer@example.org")
        assert result.returncode == 0, result.stderr
        assert await raw_of(settings, "Large, with dots") == ("pipe", mail.replace(b"\n", b"\r\n"))

        result = await pipe(config, make_mail(subject="Watched imports").as_bytes(), "--sender",
                            "customer@example.org", python=("-X", "importtime"))
        assert result.returncode == 0, result.stderr
        assert {name for name in imported(result) if name.split(".")[0] in HEAVY or name in HEAVY} == set()
        assert (await raw_of(settings, "Watched imports"))[0] == "pipe"
    finally:
        await running.shutdown()
