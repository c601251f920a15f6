"""`gateway ingest`, fast: hand the mail to a running `gateway serve` over SMTP on loopback.

An MTA starts one process per mail. Loading the validated configuration, the ORM and the parser
costs such a process most of a second; a running serve already has them, and its group commit
stores the mail with everyone else's. So this module reads only what it needs from config.toml
(no validation: anything odd sends the mail down the ordinary path) and imports nothing heavy.
When no serve answers, or it refuses the recipients, the caller stores the mail itself as before.
A 250 from serve means committed, exactly as for any SMTP client; a 4xx means try again.
"""
from __future__ import annotations

import re
import smtplib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Mapping, Sequence

DEFAULT_MAX_BYTES = 25 * 1024 * 1024 + 512 * 1024  # smtp.max_message_bytes' default
TIMEOUT = 60.0
_EOL = re.compile(rb"\r?\n")
EX_UNAVAILABLE, EX_TEMPFAIL = 69, 75


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    address: str  # our first help-desk address: the recipient when the MTA named none
    max_bytes: int


def listener(config_path: Path, environ: Mapping[str, str]) -> Listener | None:
    """Where serve listens by config.toml and GATEWAY_SMTP__*; None when that is not plain to see."""
    try:
        smtp = tomllib.loads(config_path.read_text(encoding="utf-8")).get("smtp", {}) if config_path.exists() else {}
        host = environ.get("GATEWAY_SMTP__HOST") or smtp.get("host", "127.0.0.1")
        port = int(environ.get("GATEWAY_SMTP__PORT") or smtp.get("port", 2525))
        max_bytes = int(environ.get("GATEWAY_SMTP__MAX_MESSAGE_BYTES") or smtp.get("max_message_bytes",
                                                                                  DEFAULT_MAX_BYTES))
        address = (smtp.get("addresses") or ["ihelp@example.com"])[0]
    except (OSError, ValueError, TypeError, AttributeError, tomllib.TOMLDecodeError):
        return None
    if "GATEWAY_SMTP__ADDRESSES" in environ or not isinstance(host, str) or not 0 < port < 65536:
        return None
    # A listener on every interface is reached on loopback.
    return Listener("127.0.0.1" if host in ("0.0.0.0", "::", "") else host, port, str(address), max_bytes)


def read_mail(stream: BinaryIO, limit: int) -> bytes | None:
    """The whole mail, or None when it is larger than `limit` (the caller refuses it)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


@dataclass(frozen=True)
class Handed:
    code: int  # the exit code to give the MTA
    line: str = ""  # for stderr, when not 0


def hand_off(raw: bytes, *, to: Listener, sender: str, recipients: Sequence[str]) -> Handed | None:
    """Give `raw` to serve; the exit code to end with, or None when this process must store it itself."""
    try:
        client = smtplib.SMTP(to.host, to.port, timeout=TIMEOUT)
    except OSError:
        return None  # no serve running here
    try:
        # On the wire lines end in CRLF; an MTA's pipe gives LF. Sent as LF, a mail would reach
        # serve as one long line, and dots at the start of its lines would stay doubled.
        client.sendmail(sender, list(recipients) or [to.address], _EOL.sub(b"\r\n", raw))
        return Handed(0)
    except smtplib.SMTPRecipientsRefused:
        return None  # an address the MTA routes to us but serve does not list: store it as before
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if exc.smtp_code == 552:
            return Handed(EX_UNAVAILABLE, f"gateway: serve refused the mail as too large ({text}); "
                                          f"the sender should send a smaller mail")
        if 400 <= exc.smtp_code < 500:
            return Handed(EX_TEMPFAIL, f"gateway: temporary failure: serve answered {exc.smtp_code} {text}; "
                                       f"nothing was lost, try again later")
        return None
    except (OSError, smtplib.SMTPException, UnicodeError):
        # Lost in the middle (or an address plain SMTP cannot carry): serve may have stored it or
        # not. Storing it here too is safe, as the same mail twice is stored once.
        return None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
