"""The pipe with no serve finds the spool file serve and the drain use: its lean reading of [database]
agrees with gateway.config's, defaults and relative paths included; anything else is left to gateway.config."""
from __future__ import annotations

import sqlite3

import pytest

from gateway.config import load
from gateway.inbound.pipe_spool import spool_mail, spool_target
from gateway.store import spool_file

AGREE = [  # (config.toml text, environment)
    ("", {}),  # every default: var/gateway.db beside the config file
    ('[database]\nurl = "sqlite+aiosqlite:///data/../gw.db"\nbusy_timeout_ms = 250\n', {}),
    ('[database]\nurl = "sqlite+aiosqlite:////srv/gateway/gw.db"\n', {}),
    ('[database]\nurl = "sqlite+aiosqlite:///gw.db"\n', {"GATEWAY_DATABASE__URL": "sqlite+aiosqlite:///other.db",
                                                         "GATEWAY_DATABASE__BUSY_TIMEOUT_MS": "0"}),
]

ORDINARY_PATH = [  # what the lean path leaves to gateway.config (and its one-line errors)
    ('[database]\nurl = "postgresql+asyncpg://gw@db.example/gw"\n', {}),
    ('[database]\nurl = "sqlite+aiosqlite:///:memory:"\n', {}),
    ('[database]\nurl = "sqlite+aiosqlite:///gw.db?mode=ro"\n', {}),
    ('[database]\nbusy_timeout_ms = "soon"\n', {}),
    ('[database\n', {}),
    ("database = 3\n", {}),
]


@pytest.mark.parametrize("text, environ", AGREE)
def test_the_spool_file_and_timeout_are_the_ones_gateway_config_gives(tmp_path, text, environ):
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(text + '[digest]\nrecipients = []\n')
    settings = load(config, environ, deep=False)
    database = settings.open_database()
    assert spool_target(str(config), environ) == (database.spool_path, settings.database.busy_timeout_ms)


@pytest.mark.parametrize("text, environ", ORDINARY_PATH)
def test_anything_but_a_sqlite_file_is_left_to_the_ordinary_path(tmp_path, text, environ):
    config = tmp_path / "config.toml"
    config.write_text(text)
    assert spool_target(str(config), environ) is None


def test_a_spooled_mail_is_durable_in_the_file_with_its_envelope(tmp_path):
    path = str(tmp_path / "gw.db.spool.sqlite")
    spool_file.connect(path, busy_timeout_ms=100, create=True).close()
    first = spool_mail(b"Subject: a\n\nx\n", path=path, busy_timeout_ms=100, sender="", recipients=["ihelp@example.com"])
    second = spool_mail(b"Subject: b\n\ny\n", path=path, busy_timeout_ms=100, sender=None, recipients=[])
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, source, envelope_from, recipients, raw_sha256, raw FROM spool").fetchall()
    assert rows == [(first, "pipe", "", '["ihelp@example.com"]', spool_file.DIGEST_LATER, b"Subject: a\n\nx\n"),
                    (second, "pipe", None, "[]", spool_file.DIGEST_LATER, b"Subject: b\n\ny\n")]
    with pytest.raises(sqlite3.OperationalError, match="no such file"):
        spool_mail(b"x", path=str(tmp_path / "missing.sqlite"), busy_timeout_ms=100, sender=None, recipients=[])
