"""`gateway ingest` as an MTA runs it: a real process, a mail on stdin, an exit code."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port
from tests.integration import crashkit
from tests.integration.serving import make_mail


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n'
                    f'[outbound]\nmaildir = "{tmp_path}/out"\n[smtp]\nmax_message_bytes = 50000\n'
                    f'port = {free_port()}\n')  # no serve there: the pipe spools, `ingest --drain` processes
    return path


def gateway(config, *args, stdin: bytes = b"", env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                          input=stdin, capture_output=True, timeout=60, env=env)


def test_pipe_stores_a_mail_and_exits_0(config):
    assert gateway(config, "db", "upgrade").returncode == 0
    result = gateway(config, "ingest", "--sender", "customer@example.org", stdin=make_mail().as_bytes())
    assert result.returncode == 0, result.stderr
    assert gateway(config, "ingest", "--drain").returncode == 0
    listed = json.loads(gateway(config, "tickets", "list", "--json").stdout)["tickets"]
    assert [t["ref"] for t in listed] == ["HD-1"]
    assert set(listed[0]) >= {"number", "ref", "subject", "requester", "category", "priority", "level",
                              "status", "assignee", "created_at"}
    shown = json.loads(gateway(config, "tickets", "show", "HD-1", "--json").stdout)
    assert shown["messages"][0]["direction"] == "in" and shown["events"]
    # Without --sender the envelope is unknown: stored and announced, not acknowledged (backscatter guard).
    again = gateway(config, "ingest", stdin=make_mail().as_bytes())
    assert again.returncode == 0
    assert gateway(config, "ingest", "--drain").returncode == 0
    stats = json.loads(gateway(config, "stats", "--json").stdout)
    assert stats["tickets"] == 2 and stats["outbox_pending"] == 3
    assert stats["held_back_by_reason"] == {"sender not verified": 1}


def test_unusable_mail_is_quarantined_and_exits_0(config):
    gateway(config, "db", "upgrade")
    garbage = b"\x00\x01\x02binary garbage with no header at all\xff\xfe"
    result = gateway(config, "ingest", stdin=garbage)
    assert result.returncode == 0, result.stderr
    assert gateway(config, "ingest", "--drain").returncode == 0
    held = json.loads(gateway(config, "quarantine", "list", "--json").stdout)
    assert len(held) == 1 and held[0]["reason"]
    shown = gateway(config, "quarantine", "show", str(held[0]["id"]))
    assert b"binary garbage" in shown.stdout


def test_database_unavailable_exits_75_with_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"\n'
                    f'[smtp]\nport = {free_port()}\n')
    result = gateway(path, "ingest", stdin=make_mail().as_bytes())
    assert result.returncode == 75
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "try again later" in lines[0] and "Traceback" not in result.stderr.decode()


def test_bad_config_in_pipe_mode_exits_75_not_bounce(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\nport = "not a number"\n')
    result = gateway(path, "ingest", stdin=make_mail().as_bytes())
    assert result.returncode == 75
    assert b"smtp.port" in result.stderr


def test_usage_error_exits_64(config):
    result = gateway(config, "ingest", "--no-such-flag")
    assert result.returncode == 64 and b"usage" in result.stderr


def test_oversize_mail_exits_69(config):
    gateway(config, "db", "upgrade")
    result = gateway(config, "ingest", stdin=make_mail(body="x" * 80_000).as_bytes())
    assert result.returncode == 69 and b"max_message_bytes" in result.stderr


def test_config_check(tmp_path, config):
    assert gateway(config, "config", "check").returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[smtp]\nport = 99999\naddresses = []\n[outbound]\npassword = "hunter2"\n')
    result = gateway(bad, "config", "check")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "smtp.port" in err and "smtp.addresses" in err and "outbound.password" in err
    assert "hunter2" not in err + result.stdout.decode()


def test_limits_come_from_config_and_the_mail_is_kept_in_quarantine(config):
    gateway(config, "db", "upgrade")
    mail = make_mail(subject="Two files")
    for name in ("a.txt", "b.txt"):
        mail.add_attachment(b"data", maintype="text", subtype="plain", filename=name)
    env = {**os.environ, "GATEWAY_LIMITS__MAX_ATTACHMENTS": "1"}
    result = gateway(config, "ingest", stdin=mail.as_bytes(), env=env)
    assert result.returncode == 0, result.stderr
    assert gateway(config, "ingest", "--drain", env=env).returncode == 0  # the limits apply where the pipeline runs
    [held] = json.loads(gateway(config, "quarantine", "list", "--json").stdout)
    assert held["reason"] == "too many attachments: 2 > 1"
    assert b"Two files" in gateway(config, "quarantine", "show", str(held["id"])).stdout
    assert gateway(config, "quarantine", "retry", str(held["id"])).returncode == 0  # default limits now
    listed = json.loads(gateway(config, "tickets", "list", "--json").stdout)["tickets"]
    assert [t["subject"] for t in listed] == ["Two files"]


def test_a_database_without_the_schema_exits_75_and_says_to_upgrade(config, tmp_path):
    result = gateway(config, "ingest", stdin=make_mail().as_bytes())
    err = result.stderr.decode()
    assert result.returncode == 75 and len(err.strip().splitlines()) == 1
    assert "run `gateway db upgrade`" in err and f"{tmp_path}/gw.db.spool.sqlite" in err


def test_a_locked_spool_file_exits_75_and_spools_the_mail_on_the_retry(config, tmp_path):
    gateway(config, "db", "upgrade")
    env = {**os.environ, "GATEWAY_DATABASE__BUSY_TIMEOUT_MS": "200"}
    blocker = sqlite3.connect(tmp_path / "gw.db.spool.sqlite", isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the spool file's write lock
        locked = gateway(config, "ingest", stdin=make_mail().as_bytes(), env=env)
        err = locked.stderr.decode()
        assert locked.returncode == 75 and "database is locked" in err and len(err.strip().splitlines()) == 1
        blocker.execute("ROLLBACK")
        assert blocker.execute("select count(*) from spool").fetchone() == (0,)
    finally:
        blocker.close()
    assert gateway(config, "ingest", stdin=make_mail().as_bytes(), env=env).returncode == 0
    assert json.loads(gateway(config, "spool", "status", "--json").stdout)["depth"] == 1


def test_a_spool_file_that_cannot_be_written_exits_75_and_accepts_nothing(config, tmp_path):
    gateway(config, "db", "upgrade")
    spool_file = tmp_path / "gw.db.spool.sqlite"
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"gw.db.spool.sqlite{suffix}").unlink(missing_ok=True)
    spool_file.write_bytes(b"not a database, whatever wrote it" * 100)
    result = gateway(config, "ingest", "--sender", "customer@example.org", stdin=make_mail().as_bytes())
    err = result.stderr.decode()
    assert result.returncode == 75 and len(err.strip().splitlines()) == 1, err
    assert f"spool file {spool_file} unavailable" in err and "try again later" in err
    assert spool_file.read_bytes() == b"not a database, whatever wrote it" * 100


def test_with_no_serve_the_pipe_spools_without_the_orm_and_serve_processes_the_mail(tmp_path):
    relay = crashkit.Relay()
    relay.start()
    serve = crashkit.Serve(tmp_path, relay.port)  # its config, its database; not started yet
    try:
        probe = ("import json, sys\nfrom gateway.cli import main\n"
                 "code = main(['--config', sys.argv[1], 'ingest', '--sender', 'customer@example.org'])\n"
                 "print(json.dumps([code, sorted(sys.modules)]))")
        ran = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "config.toml")],
                             input=make_mail(subject="Piped while serve was down").as_bytes(), capture_output=True,
                             timeout=60)
        code, modules = json.loads(ran.stdout)
        assert code == 0, ran.stderr
        heavy = [m for m in modules if m in ("gateway.config", "gateway.store.db")
                 or m.split(".")[0] in ("sqlalchemy", "pydantic", "aiosqlite", "asyncio", "jinja2", "hashlib")]
        assert heavy == []
        assert serve.query("SELECT count(*) FROM spoolfile.spool") == [(1,)]
        assert serve.query("SELECT count(*) FROM tickets") == [(0,)]
        serve.start()  # drains at start
        deadline = time.monotonic() + 60
        while serve.query("SELECT subject FROM tickets") != [("Piped while serve was down",)]:
            assert time.monotonic() < deadline, serve.log()
            time.sleep(0.05)
        assert serve.query("SELECT source, from_addr FROM messages WHERE direction = 'in'") == [
            ("pipe", "customer@example.org")]
    finally:
        serve.stop()
        relay.stop()
