"""hand_off() against a scripted listener: every reply maps to exit 0, 69, 75 or "store it here" (None)."""
from __future__ import annotations

import socket

import pytest

from gateway.inbound.handoff import EX_TEMPFAIL, EX_UNAVAILABLE, Handed, Listener, hand_off, listener, smtp_path
from gateway.inbound.handoff_smtp import HANDOFF_HELO
from tests.unit.inbound.smtp_script import HANG_UP, ScriptedSMTP

MAIL = b"From: c@example.org\nSubject: hi\n\n.leading dot\n..two dots\n.\nlast line\n"


@pytest.fixture
def script(request):
    server = ScriptedSMTP(**getattr(request, "param", {}))
    yield server
    server.close()


def to(server: ScriptedSMTP) -> Listener:
    return Listener("127.0.0.1", server.port, "ihelp@example.com", 1000)


def test_a_250_is_exit_0_and_the_mail_goes_as_smtp_carries_it(script):
    assert hand_off(MAIL, to=to(script), sender="c@example.org", recipients=[]) == Handed(0)
    crlf = MAIL.replace(b"\n", b"\r\n")
    assert script.commands == [f"EHLO {HANDOFF_HELO}", f"MAIL FROM:<c@example.org> SIZE={len(crlf)}",
                               "RCPT TO:<ihelp@example.com>", "DATA", "QUIT"]
    # Lines end in CRLF; a dot that starts a line is doubled; CRLF.CRLF ends the mail.
    assert script.mails == [b"From: c@example.org\r\nSubject: hi\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n"
                            b"last line\r\n.\r\n"]


def test_the_recipients_the_mta_named_and_an_empty_sender_as_the_null_path(script):
    assert hand_off(b"x", to=to(script), sender="", recipients=["a@example.com", "<b@example.com>"]) == Handed(0)
    assert script.commands[1:4] == ["MAIL FROM:<> SIZE=1", "RCPT TO:<a@example.com>", "RCPT TO:<b@example.com>"]
    assert script.mails == [b"x\r\n.\r\n"]


@pytest.mark.parametrize("script, expected", [
    ({"greeting": "421 shutting down"}, None),
    ({"EHLO": "502 no"}, None),
    ({"MAIL": "452 4.3.1 no room"}, EX_TEMPFAIL),
    ({"MAIL": "552 5.3.4 too big"}, EX_UNAVAILABLE),
    ({"MAIL": "553 no such sender"}, None),
    ({"RCPT": "550 5.7.1 relaying denied"}, None),
    ({"RCPT": "452 4.5.3 too many recipients"}, None),
    ({"DATA": "451 later"}, EX_TEMPFAIL),
    ({".": "451 4.3.0 temporary failure storing the mail"}, EX_TEMPFAIL),
    ({".": "552 5.3.4 message too big"}, EX_UNAVAILABLE),
    ({".": "554 5.6.0 no"}, None),
    ({".": HANG_UP}, None),  # lost after the mail was sent: serve may have it; storing it again is safe
    ({"MAIL": HANG_UP}, None),
    ({"greeting": "hello there"}, None),  # not SMTP at all
], indirect=["script"])
def test_each_reply_ends_as_an_exit_code_or_as_store_it_here(script, expected):
    handed = hand_off(MAIL, to=to(script), sender="c@example.org", recipients=[])
    assert (handed if handed is None else handed.code) == expected
    if expected is not None and expected != 0:
        assert handed.line.startswith("gateway: ") and "\n" not in handed.line


@pytest.mark.parametrize("script", [{"RCPT": "550 5.7.1 relaying denied"}], indirect=True)
def test_a_refused_recipient_sends_no_mail(script):
    assert hand_off(MAIL, to=to(script), sender="c@example.org", recipients=["ihelp@example.com"]) is None
    assert "DATA" not in script.commands and script.mails == []


@pytest.mark.parametrize("script", [{".": "451 4.3.0 temporary failure storing the mail; try again later"}],
                         indirect=True)
def test_a_temporary_failure_names_serve_s_answer(script):
    handed = hand_off(MAIL, to=to(script), sender="c@example.org", recipients=[])
    assert handed.line == ("gateway: temporary failure: serve answered 451 4.3.0 temporary failure storing the "
                           "mail; try again later; nothing was lost, try again later")


def test_nobody_listening_is_store_it_here():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert hand_off(MAIL, to=Listener("127.0.0.1", port, "ihelp@example.com", 1000), sender="c@example.org",
                    recipients=[]) is None


@pytest.mark.parametrize("sender, recipients", [
    ("jöns@example.org", []), ("c@example.org", ["hjälp@example.com"]), ("c d@example.org", []),
    ("c@example.org>\r\nRCPT TO:<x@example.net", []), ("c@example.org", [""]),
])
def test_an_address_plain_smtp_cannot_carry_is_stored_here_without_asking(script, sender, recipients):
    assert hand_off(MAIL, to=to(script), sender=sender, recipients=recipients) is None
    assert script.commands == []


@pytest.mark.parametrize("address, null, expected", [
    ("a@example.org", False, "<a@example.org>"), ("<a@example.org>", False, "<a@example.org>"),
    ("", True, "<>"), ("<>", True, "<>"), ("", False, None), ("a b@example.org", False, None),
    ("a\t@example.org", False, None), ("ä@example.org", False, None), ("a<b@example.org", False, None),
])
def test_smtp_path(address, null, expected):
    assert smtp_path(address, null=null) == expected


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_listener_from_config_and_environment(tmp_path):
    path = write(tmp_path, '[smtp]\nhost = "0.0.0.0"\nport = 2600\naddresses = ["Help@Example.com", "b@x.org"]\n'
                           'max_message_bytes = 5000\n')
    assert listener(path, {}) == Listener("127.0.0.1", 2600, "help@example.com", 5000)
    assert listener(path, {"GATEWAY_SMTP__PORT": "2700", "GATEWAY_SMTP__HOST": "::1"}) == \
        Listener("::1", 2700, "help@example.com", 5000)
    assert listener(write(tmp_path, "[database]\n"), {}) == Listener("127.0.0.1", 2525, "ihelp@example.com",
                                                                     25 * 1024 * 1024 + 512 * 1024)


@pytest.mark.parametrize("text", ['[smtp]\nport = 0\n', '[smtp]\nport = "0x9DE"\n', '[smtp]\nport = 2525.5\n',
                                  '[smtp]\naddresses = []\n', '[smtp]\nmax_message_bytes = 10\n', '[smtp\n'])
def test_listener_is_none_when_the_config_is_odd(tmp_path, text):
    assert listener(write(tmp_path, text), {}) is None


def test_a_missing_config_file_is_defaults_only_for_the_default_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert listener("config.toml", {}) == Listener("127.0.0.1", 2525, "ihelp@example.com",
                                                   25 * 1024 * 1024 + 512 * 1024)
    assert listener(tmp_path / "elsewhere.toml", {}) is None
