"""[web] configuration, `gateway web hash-password`, and `gateway web` running alone."""
from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import urllib.request

from argon2 import PasswordHasher
from sqlalchemy import select

from gateway.cli import main
from gateway.commands import tickets_revoke_link
from gateway.config import Settings, load, problems
from gateway.store.models import StatusLink
from tests.conftest import REPO, free_port, wait_listening
from tests.unit.web.webkit import USERS, client, new_ticket, web_app, web_settings

SHIPPED = REPO / "config.toml"


def test_the_shipped_config_serves_the_web_face_and_the_embedded_default_does_not():
    web = load(SHIPPED, {}).web
    assert web.enabled and (web.host, web.port) == ("127.0.0.1", 8025) and web.cookie_secure
    assert not Settings().web.enabled  # configs written without [web] (tests, benches) bind no web port


def test_the_secret_comes_from_the_environment_only(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[web]\nsecret = "in-the-file"\n')
    _, found = problems(path, {})
    assert found == ["web.secret: secrets are not read from config.toml; remove it there and set "
                     "GATEWAY_WEB__SECRET (or the entry's password_env) in the environment"]
    settings = load(SHIPPED, {"GATEWAY_WEB__SECRET": "from-env"})
    assert settings.web.secret.get_secret_value() == "from-env" and "from-env" not in repr(settings)


def test_users_are_checked_one_line_each(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[web.users]]\nname = "ann"\npassword_hash = "plaintext"\nrole = "boss"\n'
                    '[[web.users]]\nname = "bob"\npassword_hash = "$argon2id$v=19$x"\n'
                    '[[web.users]]\nname = "BOB"\npassword_hash = "$argon2id$v=19$y"\n')
    _, found = problems(path, {})
    assert any(line.startswith("web.users.0.password_hash: String should match pattern") for line in found)
    assert any(line.startswith("web.users.0.role: Input should be 'viewer' or 'engineer'") for line in found)
    path.write_text('[[web.users]]\nname = "bob"\npassword_hash = "$argon2id$v=19$x"\n'
                    '[[web.users]]\nname = "BOB"\npassword_hash = "$argon2id$v=19$y"\n')
    _, found = problems(path, {})
    assert found == ["web: web.users: names must be unique, got ['bob', 'bob']; fix it in config.toml or GATEWAY_WEB"]


def test_hash_password_prints_an_argon2_hash_of_the_line_on_stdin(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["web", "hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$") and PasswordHasher().verify(printed, "a long enough password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["web", "hash-password"]) == 64
    assert "shorter than 8 characters" in capsys.readouterr().err


def test_gateway_web_alone_serves_the_database_until_sigterm(tmp_path):
    port = free_port()
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n'
                                          f'[web]\nenabled = true\nport = {port}\n')
    users = ", ".join("{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in user.items()) + "}" for user in USERS)
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_WEB__USERS": f"[{users}]"}  # TOML inline tables
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(tmp_path / "config.toml"), "web"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_listening(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            health = json.load(response)
        assert response.status == 200 and health["status"] == "ok"
        assert "smtp_listener" not in health  # no listener in this process, and none expected
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert b"Sign in" in response.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]


async def test_tickets_revoke_link_closes_the_status_page(settings_factory, db, clock, tmp_path, capsys):
    settings = web_settings(settings_factory)
    async with web_app(settings, db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with db.sessions() as session:
            token = await session.scalar(select(StatusLink.token))
        async with client(app) as http:
            assert (await http.get(f"/s/{token}")).status_code == 200
            assert await tickets_revoke_link(type("Args", (), {"ref": "HD-1"})(), settings, {}) == 0
            assert (await http.get(f"/s/{token}")).status_code == 404
    assert capsys.readouterr().out == "HD-1: 1 status link revoked: they no longer open the page\n"
