"""The pipe's hand-off finds serve where serve listens: both read config.toml and GATEWAY_* by one reader."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import problems
from gateway.inbound.config_smtp import smtp_settings
from gateway.inbound.handoff import Listener, listener

SHIPPED = Path(__file__).resolve().parents[3] / "config.toml"


def test_settings_overlay_the_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\nhost = "127.0.0.1"\nport = 2525\n')
    assert smtp_settings(str(path), {"GATEWAY_SMTP__PORT": "2600", "GATEWAY_SMTP__HOSTNAME": "x", "PATH": "/bin"}) \
        == {"host": "127.0.0.1", "port": 2600, "hostname": "x"}
    assert smtp_settings(str(path), {"GATEWAY_SMTP__MAX_MESSAGE_BYTES": "5_000"}) == \
        {"host": "127.0.0.1", "port": 2525, "max_message_bytes": 5000}


def test_any_smtp_variable_is_followed(tmp_path):
    """Setting GATEWAY_SMTP__ADDRESSES used to make the hand-off give up, so every mail was stored the slow way."""
    path = tmp_path / "config.toml"
    path.write_text("[smtp]\nport = 2525\n")
    assert listener(path, {"GATEWAY_SMTP__ADDRESSES": '["Help@Corp.example", "b@corp.example"]'}) == \
        Listener("127.0.0.1", 2525, "help@corp.example", 25 * 1024 * 1024 + 512 * 1024)
    assert smtp_settings(str(path), {"GATEWAY_SMTP": "{port = 2600}"}) == {"port": 2600}
    assert smtp_settings(str(path), {"GATEWAY_smtp__port": "2601"}) == {"port": 2601}
    assert smtp_settings(str(path), {"GATEWAY_SMTP__HOST": '"::1"'}) == {"port": 2525, "host": "::1"}


def test_files_it_cannot_use(tmp_path):
    (tmp_path / "bad.toml").write_text("[smtp\n")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe[smtp]\n")
    (tmp_path / "hex.toml").write_text('[smtp]\nport = 0x9DE\n')
    assert smtp_settings(str(tmp_path / "bad.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "binary.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "missing.toml"), {}) is None
    assert smtp_settings(str(tmp_path), {}) is None  # a folder
    assert smtp_settings(str(tmp_path / "hex.toml"), {}) == {"port": 2526}
    assert smtp_settings(str(tmp_path / "hex.toml"), {"GATEWAY_SMTP____PORT": "1"}) is None  # malformed name


FILES = ["", "[smtp]\nport = 2525\n", '[smtp]\nhost = "0.0.0.0"\nport = 2700\naddresses = ["Desk@X.example"]\n',
         "[smtp]\nmax_message_bytes = 9000\n", SHIPPED.read_text()]
VALUES = {
    "GATEWAY_SMTP__HOST": ["127.0.0.1", '"::1"', "0.0.0.0", "localhost", "", "::"],
    "GATEWAY_SMTP__PORT": ["2600", '"2601"', "0x9DE", "2_602", "", "70000", "2603.0", "2603.5", "true", "-1"],
    "GATEWAY_smtp__PORT": ["2604"],
    "GATEWAY_SMTP__ADDRESSES": ['["A@x.example", "b@y.example"]', "single@x.example", "[]", '["bad"]',
                                '[" Spaced@X.example "]'],
    "GATEWAY_SMTP__MAX_MESSAGE_BYTES": ["5000", "5_000", "10", '"6000"', "7e3"],
    "GATEWAY_SMTP": ['{port = 2605, addresses = ["z@q.example"]}', "{}", "nonsense", '{host = "0.0.0.0"}'],
    "GATEWAY_SMTP__HOSTNAME": ["desk.example"],
    "GATEWAY_SMTP__MAX_RECIPIENTS": ["7", "zero"],
    "GATEWAY_DATABASE__URL": ["sqlite+aiosqlite:///x.db"],
}
ENVIRONS = st.dictionaries(st.sampled_from(sorted(VALUES)), st.just(None), max_size=4).flatmap(
    lambda names: st.fixed_dictionaries({name: st.sampled_from(VALUES[name]) for name in names}))


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(FILES), environ=ENVIRONS)
def test_serve_and_the_hand_off_agree(tmp_path, text, environ):
    path = tmp_path / "config.toml"
    path.write_text(text)
    config, found = problems(path, environ)
    handed = listener(path, environ)
    if config is None:
        return  # serve does not start with this configuration; ingest stores the mail itself and says why
    smtp = config.smtp
    host = "127.0.0.1" if smtp.host in ("0.0.0.0", "::", "") else smtp.host
    assert handed == Listener(host, smtp.port, smtp.addresses[0], smtp.max_message_bytes), (environ, found)
