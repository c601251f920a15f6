"""config_smtp: [smtp] read line by line only from plainly written files, and then exactly as tomllib reads it."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.inbound.config_smtp import plain_smtp_table, smtp_settings

SHIPPED = Path(__file__).resolve().parents[3] / "config.toml"

# Files read plainly: what tomllib gives for [smtp], without tomllib.
PLAIN = [
    "",
    "# only a comment\n",
    "[database]\nurl = 'x'\n",
    '[smtp]\nhost = "127.0.0.1"\nport = 2525\n',
    '[smtp]\nport = 2_525  # a comment\nhost = \'0.0.0.0\' # another\n',
    '[smtp]\naddresses = ["a@example.com", \'b@example.com\',]\nmax_message_bytes = +1000000\n',
    '[smtp]\naddresses = []\nenable = true\nother = false\nzero = 0\nminus = -3\n',
    '[smtp] # the listener\nhost = "a#b"\n',
    '[a]\nx = [\n  [1, 2],\n  "q",\n]\n[smtp]\nport = 1\n[b]\ny = { z = 1 }\n[[levels]]\nn = 1\n',
    '[smtp]\nhost = ""\n\n\n[outbound]\nhost = "relay"\nport = 25\n',
    "[smtp]\r\nport = 2526\r\n",
    '[x]\nnote = "a\u2028[smtp]\u2028port = 2600 # "\n',  # one line to TOML, whatever str.splitlines thinks
]

# Files with something that could change [smtp] in a way a line reader would not see: tomllib decides.
NOT_PLAIN = [
    'smtp.port = 2600\n[smtp]\n',  # a root key
    'port = 1\n',
    '[smtp]\nport = 1\n[smtp.tls]\ncert = "x"\n',
    '[ smtp ]\nport = 1\n',
    '["smtp"]\nport = 1\n',
    '[[smtp]]\nport = 1\n',
    '[smtp]\nport = 1\n[smtp]\nport = 2\n',
    '[smtp]\nport = 1\nport = 2\n',
    '[smtp]\ntls.cert = "x"\n',
    '[smtp]\n"port" = 1\n',
    '[smtp]\naddresses = [\n  "a@example.com",\n]\n',
    '[smtp]\nhost = "a\\"b"\n',
    '[smtp]\nhost = """x"""\n',
    "[x]\ns = '''\n[smtp]\nport = 1\n'''\n",
    '[smtp]\nport = 0x9DE\n',
    '[smtp]\nport = 02525\n',
    '[smtp]\nport = 2525.0\n',
    '[smtp]\nport = 1__0\n',
    '[smtp]\nlimits = { a = 1 }\n',
    '[smtp]\nport = 25 26\n',
    '[smtp]\nhost = "x" y\n',
    '[smtp]\nport\n',
    '[smtp]\nhost = "tab\there"\n',
    '[smtp]\nhost = "a\u2028b"\n',
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_files_read_as_tomllib_reads_them(text):
    assert plain_smtp_table(text) == tomllib.loads(text).get("smtp", {})


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_anything_else_is_left_to_tomllib(text):
    assert plain_smtp_table(text) is None


def test_the_shipped_config_is_read_plainly():
    text = SHIPPED.read_text(encoding="utf-8")
    assert plain_smtp_table(text) == tomllib.loads(text)["smtp"]


keys = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
# Printable text without quotes or backslashes (others may be valid TOML too, but go to tomllib).
strings = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\\\"'"),
                  max_size=20).filter(str.isprintable)
values = st.one_of(
    strings.map(lambda s: (s, f'"{s}"')), strings.map(lambda s: (s, f"'{s}'")),
    st.integers(-10**12, 10**12).map(lambda n: (n, str(n))), st.booleans().map(lambda b: (b, str(b).lower())),
    st.lists(strings, max_size=4).map(lambda items: (items, "[" + ", ".join(f'"{s}"' for s in items) + "]")))


@given(st.dictionaries(keys, values, max_size=8), st.sampled_from(["", "  # note"]))
def test_any_plain_table_reads_as_written(table, comment):
    lines = "".join(f"{key} = {shown}{comment}\n" for key, (_, shown) in table.items())
    text = f"[database]\nurl = 'x'\n[smtp]\n{lines}"
    assert plain_smtp_table(text) == {key: value for key, (value, _) in table.items()} == tomllib.loads(text)["smtp"]


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
    (tmp_path / "tomllib.toml").write_text('[smtp]\nport = 0x9DE\n')
    assert smtp_settings(str(tmp_path / "bad.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "binary.toml"), {}) is None
    assert smtp_settings(str(tmp_path / "missing.toml"), {}) is None
    assert smtp_settings(str(tmp_path), {}) is None  # a folder
    assert smtp_settings(str(tmp_path / "tomllib.toml"), {}) == {"port": 2526}


PIECES = ["[smtp]", "[database]", "[smtp.tls]", "[[levels]]", "[ smtp ]", 'port = 2526', 'port = 2_527 # c',
          'host = "10.0.0.1"', "host = '::1'", 'addresses = ["a@x.org", "b@x.org"]', 'addresses = [', '"c@x.org",',
          "]", "[1, 2],", 'x = """', '"""', "smtp.port = 2600", "smtp = { port = 2601 }", 'tls.cert = "c"',
          '"port" = 2602', "# [smtp]", "", 'name = "a # not a comment"', "port = 0x9DE", "n = 1.5", "t = true",
          "port = 0_1", "port = -0", "x = ['a',] # c", "y = ['a' 'b']", "z = [1]"]


@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_never_a_different_answer_from_tomllib(lines):
    text = "\n".join(lines) + "\n"
    try:
        expected = tomllib.loads(text).get("smtp", {})
    except tomllib.TOMLDecodeError:
        return  # gateway.config refuses the file; what the reader says does not matter
    assert plain_smtp_table(text) in (None, expected)
