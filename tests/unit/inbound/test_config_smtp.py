"""config_smtp: the [smtp] table as tomli reads it, with the environment overlay gateway.config applies."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.inbound.config_smtp import smtp_settings

SHIPPED = Path(__file__).resolve().parents[3] / "config.toml"

def test_settings_overlay_the_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\nhost = "127.0.0.1"\nport = 2525\n')
    assert smtp_settings(str(path), {"GATEWAY_SMTP__PORT": "2600", "GATEWAY_SMTP__HOSTNAME": "x", "PATH": "/bin"}) \
        == {"host": "127.0.0.1", "port": 2600}
    assert smtp_settings(str(path), {"GATEWAY_SMTP__MAX_MESSAGE_BYTES": "5_000"}) == \
        {"host": "127.0.0.1", "port": 2525, "max_message_bytes": 5000}


@pytest.mark.parametrize("environ", [
    {"GATEWAY_SMTP__ADDRESSES": '["x@example.com"]'},  # an array in TOML: gateway.config's to read
    {"GATEWAY_SMTP": "{port = 2600}"},
    {"GATEWAY_smtp__port": "2600"},
    {"GATEWAY_SMTP__PORT": "0x9DE"},
    {"GATEWAY_SMTP__PORT": ""},
    {"GATEWAY_SMTP__HOST": '"::1"'},
])
def test_an_overlay_it_does_not_follow_gives_none(tmp_path, environ):
    path = tmp_path / "config.toml"
    path.write_text("[smtp]\nport = 2525\n")
    assert smtp_settings(str(path), environ) is None


def test_files_it_cannot_use(tmp_path):
    (tmp_path / "bad.toml").write_text("[smtp\n")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe[smtp]\n")
    (tmp_path / "hex.toml").write_text('[smtp]\nport = 0x9DE\n')
    assert smtp_settings(str(tmp_path / "bad.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "binary.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "missing.toml"), {}) is None
    assert smtp_settings(str(tmp_path), {}) is None  # a folder
    assert smtp_settings(str(tmp_path / "hex.toml"), {}) == {"port": 2526}

