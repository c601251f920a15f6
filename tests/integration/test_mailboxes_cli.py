"""`gateway mailboxes check|status` as a real process against the throwaway Dovecot."""
from __future__ import annotations

import json
import subprocess
import sys


def run(config, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), *args],
                          capture_output=True, timeout=60, env=env)


def test_check_and_status_from_the_command_line(imap_user_factory, tmp_path):
    good, bad = imap_user_factory(), imap_user_factory()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/gw.db"\n')
    entries = [good.mailbox("good", password=None, password_env="GOOD_PW"),
               bad.mailbox("bad", password=None, password_env="BAD_PW")]
    inline = ", ".join("{" + ", ".join(f'{k} = {json.dumps(v)}' for k, v in e.items() if v is not None) + "}"
                       for e in entries)
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_MAILBOXES": f"[{inline}]",
           "GOOD_PW": good.password, "BAD_PW": "wrong"}
    checked = run(config, "mailboxes", "check", "--json", env=env)
    assert checked.returncode == 2, checked.stderr
    rows = {row["name"]: row for row in json.loads(checked.stdout)}
    assert rows["good"]["ok"] and not rows["bad"]["ok"]
    assert "wrong" not in checked.stdout.decode() + checked.stderr.decode()
    assert run(config, "db", "upgrade", env=env).returncode == 0
    status = run(config, "mailboxes", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert {row["name"] for row in json.loads(status.stdout)} == {"good", "bad"}
