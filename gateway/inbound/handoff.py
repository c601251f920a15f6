"""`gateway ingest`, fast: hand the mail to a running `gateway serve` over SMTP on loopback.

An MTA starts one process per mail. Loading the validated configuration, the ORM and the parser
costs such a process most of a second; a running serve already has them, and its group commit
spools the mail with everyone else's. So this module reads only what it needs from config.toml
(no validation: anything odd sends the mail down the ordinary path) and imports nothing heavy:
what it imports is paid on every mail. When no serve answers, or it refuses the sender or a
recipient, the caller spools and processes the mail itself. A 250 from serve means committed to
its spool, exactly as for any SMTP client; a 4xx means try again.
"""
from __future__ import annotations

import collections
import os
from collections.abc import Mapping, Sequence

from gateway.inbound.config_smtp import smtp_settings
from gateway.inbound.handoff_smtp import HANDOFF_HELO, Session, crlf, wire_body

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

DEFAULT_MAX_BYTES = 25 * 1024 * 1024 + 512 * 1024  # smtp.max_message_bytes' default
TIMEOUT = 60.0
EX_UNAVAILABLE, EX_TEMPFAIL = 69, 75

# address: our first help-desk address, the recipient when the MTA named none.
Listener = collections.namedtuple("Listener", "host port address max_bytes")
# code: the exit code to give the MTA; line: for stderr, when not 0.
Handed = collections.namedtuple("Handed", "code line", defaults=("",))


def listener(config_path: str | os.PathLike, environ: Mapping[str, str]) -> Listener | None:
    """Where serve listens by config.toml and GATEWAY_SMTP__*; None when that is not plain to see."""
    smtp = smtp_settings(os.fspath(config_path), environ)
    if smtp is None:
        return None
    host, port = smtp.get("host", "127.0.0.1"), _integer(smtp.get("port", 2525))
    max_bytes, addresses = _integer(smtp.get("max_message_bytes", DEFAULT_MAX_BYTES)), smtp.get("addresses")
    if not isinstance(host, str) or port is None or not 0 < port < 65536:
        return None
    if max_bytes is None or max_bytes <= 1024:  # gateway.config refuses such a limit
        return None
    if addresses is None:
        addresses = ["ihelp@example.com"]
    if not isinstance(addresses, (list, tuple)) or not addresses or not isinstance(addresses[0], str):
        return None
    # A listener on every interface is reached on loopback.
    return Listener("127.0.0.1" if host in ("0.0.0.0", "::", "") else host, port, addresses[0].strip().lower(),
                    max_bytes)


def _integer(value) -> int | None:
    """An int as gateway.config's validation reads one (2600, 2600.0, "2600", " 2_600 "); None otherwise."""
    if isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and value.strip().isascii():
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def read_mail(stream: BinaryIO, limit: int) -> bytes | None:
    """The whole mail, or None when it is larger than `limit` (the caller refuses it)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def hand_off(raw: bytes, *, to: Listener, sender: str, recipients: Sequence[str]) -> Handed | None:
    """Give `raw` to serve; the exit code to end with, or None when this process must store it itself."""
    reverse_path = smtp_path(sender, null=True)
    forward_paths = [smtp_path(address) for address in recipients or [to.address]]
    if reverse_path is None or None in forward_paths:
        return None  # an address plain SMTP cannot carry (non-ASCII, a space, a line break): store it here
    try:
        session = Session(to.host, to.port, timeout=TIMEOUT)
    except OSError:
        return None  # no serve running here
    try:
        handed = _transaction(session, reverse_path, forward_paths, crlf(raw))
    except OSError:
        # Lost in the middle: serve may have stored it or not. Storing it here too is safe, as the
        # same mail twice is stored once.
        session.close()
        return None
    session.quit()
    return handed


def _transaction(session: Session, reverse_path: str, forward_paths: list[str], message: bytes) -> Handed | None:
    code, _ = session.reply()
    if code != 220:
        return None  # e.g. 421 while serve shuts down: store it here
    code, text = session.command(f"EHLO {HANDOFF_HELO}")
    if code != 250:
        return None
    # With SIZE, serve refuses a mail that is too large before we send it.
    size = any(line.upper().startswith("SIZE") for line in text.split("\n")[1:])
    code, text = session.command(f"MAIL FROM:{reverse_path}" + (f" SIZE={len(message)}" if size else ""))
    if code != 250:
        return _refused(code, text)
    for path in forward_paths:
        code, text = session.command(f"RCPT TO:{path}")
        if code not in (250, 251):
            # An address the MTA routes to us but serve does not list: store it here, with every
            # recipient the MTA named, rather than through serve with only some of them.
            return None
    code, text = session.command("DATA")
    if code != 354:
        return _refused(code, text)
    code, text = session.data(wire_body(message))
    return Handed(0) if code == 250 else _refused(code, text)


def _refused(code: int, text: str) -> Handed | None:
    text = text.replace("\n", " ")
    if code == 552:
        return Handed(EX_UNAVAILABLE, f"gateway: serve refused the mail as too large ({text}); "
                                      f"the sender should send a smaller mail")
    if 400 <= code < 500:
        return Handed(EX_TEMPFAIL, f"gateway: temporary failure: serve answered {code} {text}; "
                                   f"nothing was lost, try again later")
    return None  # any other refusal: store it here, where the whole pipeline decides


def smtp_path(address: str, *, null: bool = False) -> str | None:
    """`<address>` for MAIL FROM / RCPT TO; "<>" for an empty sender (a bounce) when `null`.

    None for what plain SMTP cannot carry as it is: non-ASCII, spaces, control characters, or
    anything else unusual, which the caller stores itself rather than guess at quoting.
    """
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    if not address:
        return "<>" if null else None
    if not address.isascii() or not address.isprintable() or any(c in address for c in " <>"):
        return None
    return f"<{address}>"
