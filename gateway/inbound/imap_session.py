"""One blocking IMAP connection to one mailbox (imapclient): connect, select, fetch, move, IDLE."""
from __future__ import annotations

import socket
import ssl
import time
from typing import Callable, Iterable

import imapclient
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from gateway.config import MailboxConfig
from gateway.errors import GatewayError

DELETED, SEEN = imapclient.DELETED, imapclient.SEEN
# Mails fetched in one FETCH: few enough that a batch of large mails stays small in memory.
BATCH_MAILS = 50
BATCH_BYTES = 20 * 1024 * 1024


class MailboxError(GatewayError):
    """Talking to an IMAP mailbox failed; the message names the mailbox, the server's answer and the fix."""

    def __init__(self, message: str, *, login: bool = False):
        super().__init__(message)
        self.login = login  # the server refused our credentials (as opposed to network or protocol trouble)


def server_of(mailbox: MailboxConfig) -> str:
    return f"{mailbox.host}:{port_of(mailbox)}"


def port_of(mailbox: MailboxConfig) -> int:
    return mailbox.port or (993 if mailbox.security == "ssl" else 143)


def tls_context(mailbox: MailboxConfig) -> ssl.SSLContext:
    """Certificate and host name verified, against ca_file when given, else the system's CAs."""
    try:
        return ssl.create_default_context(cafile=mailbox.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"mailbox {mailbox.name!r}: ca_file {mailbox.ca_file!r} cannot be used ({exc}); "
                           f"point ca_file at a readable PEM file with the CA certificate") from None


def describe_error(mailbox: MailboxConfig, exc: BaseException) -> MailboxError:
    """Turn whatever imapclient, ssl or the socket raised into one line that names the fix."""
    where = f"mailbox {mailbox.name!r} ({mailbox.username} at {server_of(mailbox)})"
    if isinstance(exc, MailboxError):
        return exc
    if isinstance(exc, LoginError):
        answer = _text(exc.args[0] if exc.args else exc)
        return MailboxError(f"{where}: login refused: {answer}; check username and password "
                            f"(password_env or GATEWAY_MAILBOXES)", login=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailboxError(f"{where}: TLS certificate not trusted ({exc.verify_message}); set ca_file to the CA "
                            f"that signed the server's certificate, or fix host to match the certificate")
    if isinstance(exc, ssl.SSLError):
        return MailboxError(f"{where}: TLS failed ({exc.reason or exc}); check port and security "
                            f"(\"ssl\" is usually port 993, \"starttls\" port 143)")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return MailboxError(f"{where}: no answer within {mailbox.timeout_seconds:g}s; check host, port and "
                            f"firewalls, or raise timeout_seconds")
    if isinstance(exc, ConnectionRefusedError):
        return MailboxError(f"{where}: connection refused; check host and port, and that the server runs")
    if isinstance(exc, socket.gaierror):
        return MailboxError(f"{where}: host name {mailbox.host!r} does not resolve ({exc.strerror}); fix host")
    if isinstance(exc, OSError):
        return MailboxError(f"{where}: network error ({exc.strerror or exc}); the poller reconnects by itself")
    if isinstance(exc, IMAPClientError):
        return MailboxError(f"{where}: server said {_text(exc)}; the poller reconnects by itself")
    return MailboxError(f"{where}: {type(exc).__name__}: {exc}")


def _text(value) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text.strip().removeprefix("b'").removesuffix("'")


class ImapSession:
    """A logged-in connection; every method blocks (run it in a worker thread) and raises MailboxError."""

    def __init__(self, mailbox: MailboxConfig, client: IMAPClient):
        self.mailbox = mailbox
        self.client = client
        self.capabilities = {c.decode().upper() if isinstance(c, bytes) else str(c).upper()
                             for c in client.capabilities()}
        self.idling = False

    @classmethod
    def open(cls, mailbox: MailboxConfig, password: str | None,
             factory: Callable[..., IMAPClient] = IMAPClient) -> "ImapSession":
        """Connect (TLS as configured), log in, and return the session."""
        if not password:
            env = f"environment variable {mailbox.password_env}" if mailbox.password_env else "password_env"
            raise MailboxError(f"mailbox {mailbox.name!r}: no password; set {env} "
                               f"(or the password in GATEWAY_MAILBOXES)", login=True)
        client = None
        try:
            context = tls_context(mailbox) if mailbox.security != "none" else None
            client = factory(mailbox.host, port=port_of(mailbox), ssl=mailbox.security == "ssl",
                             ssl_context=context, timeout=mailbox.timeout_seconds)
            if mailbox.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise MailboxError(f"mailbox {mailbox.name!r}: {server_of(mailbox)} does not offer STARTTLS; "
                                       f"use security = \"ssl\" with its TLS port, or \"none\" on a trusted network")
                client.starttls(context)
            client.login(mailbox.username, password)
            return cls(mailbox, client)
        except BaseException as exc:
            if client is not None:
                _close_quietly(client)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise describe_error(mailbox, exc) from exc

    def call(self, method, *args):
        """Run one imapclient call; whatever it raises comes out as a MailboxError naming the fix."""
        try:
            return method(*args)
        except Exception as exc:
            raise describe_error(self.mailbox, exc) from exc

    def select(self) -> int:
        """SELECT the folder read-write; returns its UIDVALIDITY."""
        info = self.call(self.client.select_folder, self.mailbox.folder)
        return int(info[b"UIDVALIDITY"])

    def ensure_folder(self, name: str) -> bool:
        """Create folder `name` when it is missing; True when it was created."""
        if self.call(self.client.folder_exists, name):
            return False
        try:
            self.client.create_folder(name)
        except IMAPClientError as exc:
            if self.call(self.client.folder_exists, name):  # someone else created it meanwhile
                return False
            raise MailboxError(f"mailbox {self.mailbox.name!r}: cannot create folder {name!r} "
                               f"({_text(exc)}); create it by hand or change processed_folder") from exc
        return True

    def pending(self) -> list[int]:
        """Every UID in the folder, ascending: the folder is the queue, whatever flags a person set."""
        self.announced()  # what was announced before this SEARCH, the SEARCH itself sees
        self.call(self.client.noop)  # lets a server that only reports new mail at command ends catch up
        return sorted(self.call(self.client.search, ["ALL"]))

    def announced(self) -> bool:
        """True (once) when the server announced new mail (EXISTS) in the answers to our own commands.

        A mail arriving while we SEARCH, FETCH or MOVE is reported in those answers, where imaplib files
        it away; IDLE will not report it again, so the poller asks here before it idles.
        """
        return self.client._imap.untagged_responses.pop("EXISTS", None) is not None

    def batches(self, uids: list[int]) -> list[list[int]]:
        """`uids` cut into FETCH batches of at most BATCH_MAILS mails and about BATCH_BYTES bytes."""
        if not uids:
            return []
        sizes = self.call(self.client.fetch, uids, ["RFC822.SIZE"])
        result, current, total = [], [], 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if current and (len(current) >= BATCH_MAILS or total + size > BATCH_BYTES):
                result.append(current)
                current, total = [], 0
            current.append(uid)
            total += size
        if current:
            result.append(current)
        return result

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """Raw bytes by UID; BODY.PEEK[] so fetching never sets \\Seen. Vanished UIDs are absent."""
        data = self.call(self.client.fetch, uids, ["BODY.PEEK[]"])
        return {uid: bytes(item[b"BODY[]"]) for uid, item in data.items() if b"BODY[]" in item}

    def move(self, uids: Iterable[int], folder: str) -> None:
        """Mark \\Seen, then MOVE where the server has it, else COPY + \\Deleted + UID EXPUNGE (EXPUNGE w/o UIDPLUS)."""
        uids = sorted(uids)
        if not uids:
            return
        # Handled mail is marked read, so a person looking at the processed folder sees what we took.
        self.call(self.client.add_flags, uids, [SEEN], True)
        if "MOVE" in self.capabilities:
            self.call(self.client.move, uids, folder)
            return
        self.call(self.client.copy, uids, folder)
        self.call(self.client.add_flags, uids, [DELETED], True)
        if "UIDPLUS" in self.capabilities:
            self.call(self.client.uid_expunge, uids)
        else:
            self.call(self.client.expunge)

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def idle_start(self) -> None:
        self.call(self.client.idle)
        self.idling = True

    def idle_wait(self, timeout: float) -> str:
        """Wait up to `timeout` s in IDLE: "mail" (new mail), "quiet" (nothing), or "check" (maybe closed)."""
        started = time.monotonic()
        responses = self.call(self.client.idle_check, timeout)
        for response in responses:
            if len(response) >= 2 and response[1] == b"EXISTS":
                return "mail"
            if response and response[0] == b"BYE":
                raise MailboxError(f"mailbox {self.mailbox.name!r}: server closed the connection "
                                   f"({_text(response[1]) if len(response) > 1 else 'BYE'}); reconnecting")
        # idle_check swallows EOF and returns []: an empty answer before the timeout means a closed socket.
        if not responses and time.monotonic() - started >= timeout * 0.9:
            return "quiet"
        return "check"

    def idle_done(self) -> None:
        if self.idling:
            self.idling = False
            self.call(self.client.idle_done)

    def close(self) -> None:
        _close_quietly(self.client)


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; logging out is a courtesy
        try:
            client.shutdown()
        except Exception:
            pass
