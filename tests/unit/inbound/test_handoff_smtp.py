"""handoff_smtp: the mail on the wire exactly as smtplib would send it; replies read as SMTP defines them."""
from __future__ import annotations

import re
import smtplib
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.inbound.handoff_smtp import Session, crlf, wire_body


def as_smtplib_sends(raw: bytes) -> bytes:
    """What the hand-off sent before: LF -> CRLF, then smtplib's SMTP.data() on the bytes."""
    body = smtplib._quote_periods(re.sub(rb"\r?\n", b"\r\n", raw))
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    return body + b".\r\n"


@pytest.mark.parametrize("raw, wire", [
    (b"", b"\r\n.\r\n"),
    (b"a", b"a\r\n.\r\n"),
    (b"a\n", b"a\r\n.\r\n"),
    (b"a\r\n", b"a\r\n.\r\n"),
    (b".", b"..\r\n.\r\n"),
    (b".\n", b"..\r\n.\r\n"),
    (b"a\n.\nb\n", b"a\r\n..\r\nb\r\n.\r\n"),
    (b"a\r\n..b\r\n", b"a\r\n...b\r\n.\r\n"),
    (b"a\rb\n", b"a\rb\r\n.\r\n"),  # a lone CR is no line end
    (b"a\r\r\n", b"a\r\r\n.\r\n"),
    (b"a\n\n\n", b"a\r\n\r\n\r\n.\r\n"),
])
def test_wire_form(raw, wire):
    assert wire_body(crlf(raw)) == wire == as_smtplib_sends(raw)


@given(st.lists(st.sampled_from([b"a", b".", b"..", b"\n", b"\r\n", b"\r", b" ", b"\xc3\xa4", b"\x00"]), max_size=30))
def test_wire_form_is_smtplib_s(pieces):
    raw = b"".join(pieces)
    assert wire_body(crlf(raw)) == as_smtplib_sends(raw)


def test_a_large_mail_with_long_lines():
    raw = (b"x" * 300_000 + b"\n.\n") * 3
    assert wire_body(crlf(raw)) == as_smtplib_sends(raw)


class Peer:
    """Sends `greeting`, then `script` after the first command it receives; then hangs up."""

    def __init__(self, greeting: bytes, script: bytes = b""):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._run, args=(greeting, script), daemon=True)
        self.thread.start()

    def _run(self, greeting: bytes, script: bytes) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.sendall(greeting)
            if script:
                conn.recv(1000)
                for piece in script.split(b"|"):  # sent apart, as TCP may deliver a reply
                    conn.sendall(piece)

    def close(self):
        self.server.close()
        self.thread.join(5)


@pytest.mark.parametrize("greeting, expected", [
    (b"220 ready\r\n", (220, "ready")),
    (b"220-first\r\n220-second\r\n220 third\r\n", (220, "first\nsecond\nthird")),
    (b"220\r\n", (220, "")),
    (b"421 bye\n", (421, "bye")),  # bare LF accepted
])
def test_replies(greeting, expected):
    peer = Peer(greeting)
    session = Session("127.0.0.1", peer.port, timeout=5)
    try:
        assert session.reply() == expected
    finally:
        session.close()
        peer.close()


def test_a_reply_in_pieces():
    peer = Peer(b"220 ready\r\n", b"250-one\r|\n250 t|wo\r\n")
    session = Session("127.0.0.1", peer.port, timeout=5)
    try:
        assert session.reply() == (220, "ready")
        assert session.command("EHLO x") == (250, "one\ntwo")
    finally:
        session.close()
        peer.close()


@pytest.mark.parametrize("greeting", [b"hello\r\n", b"22 x\r\n", b"220x\r\n", b"2a0 x\r\n", b"220 no end",
                                      b"x" * 70_000])
def test_what_is_not_smtp_is_an_oserror(greeting):
    peer = Peer(greeting)
    session = Session("127.0.0.1", peer.port, timeout=5)
    try:
        with pytest.raises(OSError):
            session.reply()
    finally:
        session.close()
        peer.close()
