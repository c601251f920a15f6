"""Just enough of an SMTP client to hand one mail to our own listener, without smtplib.

Importing smtplib (with email.*, ssl and what they pull in) costs a `gateway ingest` process more
than everything else it does. The hand-off needs five commands to a listener we run ourselves, so
this speaks them on `_socket`: the `socket` module would also load enum and selectors for nothing.
Every failure, including a peer that does not speak SMTP, is an OSError.
"""
from __future__ import annotations

import _socket

MAX_REPLY = 64 * 1024  # a reply line longer than this is not our listener talking
# The EHLO name of `gateway ingest` handing a mail to serve: a fixed name, as looking ours up (smtplib's
# getfqdn) can stall on DNS. From loopback, serve records such mail with source "pipe", not "smtp".
HANDOFF_HELO = "pipe.gateway.localhost"


class Session:
    """One SMTP connection to host:port, opened by the constructor (OSError when nothing answers)."""

    def __init__(self, host: str, port: int, *, timeout: float):
        # An IP literal (what config.toml names) needs no resolver; a host name is resolved by connect().
        family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
        self._sock = _socket.socket(family, _socket.SOCK_STREAM)
        self._buffer = b""
        try:
            self._sock.settimeout(timeout)
            # Each command waits for its reply anyway; Nagle would only hold back the tail of a large mail
            # until the peer's delayed ACK.
            self._sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self._sock.connect((host, port))
        except OSError:
            self._sock.close()
            raise

    def reply(self) -> tuple[int, str]:
        """The next reply: its code and its text, the lines of a multi-line reply joined by newlines."""
        lines = []
        while True:
            line = self._line()
            code, more = line[:3], line[3:4]
            if len(code) != 3 or not code.isdigit() or more not in (b"-", b" ", b""):
                raise ConnectionError(f"not an SMTP reply: {line[:80]!r}")
            lines.append(line[4:].decode("utf-8", "replace"))
            if more != b"-":
                return int(code), "\n".join(lines)

    def command(self, line: str) -> tuple[int, str]:
        """Send one command line (ASCII; UnicodeError otherwise) and read its reply."""
        self._sock.sendall(line.encode("ascii") + b"\r\n")
        return self.reply()

    def data(self, body: bytes) -> tuple[int, str]:
        """After a 354: send `body` (already in wire form, see wire_body) and read the final reply."""
        self._sock.sendall(body)
        return self.reply()

    def quit(self) -> None:
        """Say goodbye when the peer is still there to hear it; close in any case."""
        try:
            self.command("QUIT")
        except OSError:
            pass
        finally:
            self._sock.close()

    def close(self) -> None:
        self._sock.close()

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_REPLY:
                raise ConnectionError("SMTP reply line too long")
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed in the middle of an SMTP reply")
            self._buffer += chunk
        line, self._buffer = self._buffer[:end], self._buffer[end + 1:]
        return line.rstrip(b"\r")


def crlf(raw: bytes) -> bytes:
    """Lines ended by CRLF, as on the wire; an MTA's pipe gives LF. A lone CR stays as it is."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def wire_body(message: bytes) -> bytes:
    """`message` (CRLF lines) as DATA carries it: a dot that starts a line doubled, then CRLF.CRLF.

    Without the doubling, a line holding only a dot would end the mail early, and the receiver
    would strip the first dot of every line that starts with one.
    """
    body = message.replace(b"\n.", b"\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
