"""Hand mails to the SMTP relay: one connection for a batch, its smtplib work in one worker thread."""
from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from typing import Callable, Sequence

from gateway.config import OutboundConfig
from gateway.errors import GatewayError, PermanentSendError, TransientSendError

log = logging.getLogger(__name__)

# Connections one batch may open: the first, and one more after the relay dropped it. A relay that is
# down costs one connect timeout per batch, not one per mail.
CONNECTIONS_PER_BATCH = 2


@dataclass(frozen=True)
class Mail:
    envelope_from: str
    recipient: str
    raw: bytes


class SmtpTransport:
    """Send mails through the configured relay: connect, EHLO, STARTTLS and login once per batch."""

    def __init__(self, config: OutboundConfig):
        self.config = config

    async def send(self, *, envelope_from: str, recipient: str, raw: bytes) -> None:
        """One mail over a connection of its own; raises TransientSendError or PermanentSendError."""
        [error] = await self.send_all([Mail(envelope_from, recipient, raw)])
        if error is not None:
            raise error

    async def send_all(self, mails: Sequence[Mail], *,
                       go_on: Callable[[], bool] = lambda: True) -> list[GatewayError | None]:
        """Send `mails` in order over one connection; one outcome per mail tried (None = the relay took it).

        go_on() is asked before each mail, in the worker thread; once it says no, the rest are left
        untried and the list is that much shorter. E.g. [None, PermanentSendError("… 550 …")] for three
        mails means: the first was sent, the second refused for good, the third never tried.
        """
        return await asyncio.to_thread(_Batch(self.config).run, mails, go_on)


class _Batch:
    """The blocking side of send_all: owns one smtplib connection (and at most one replacement)."""

    def __init__(self, config: OutboundConfig):
        self.config = config
        self.where = f"relay {config.host}:{config.port}"
        self.client: smtplib.SMTP | None = None
        self.opened = 0
        self.broken: TransientSendError | None = None  # once set, every mail left gets this answer
        self.go_on: Callable[[], bool] = lambda: True

    def run(self, mails: Sequence[Mail], go_on: Callable[[], bool]) -> list[GatewayError | None]:
        self.go_on = go_on
        outcomes: list[GatewayError | None] = []
        try:
            for mail in mails:
                if not go_on():
                    break
                outcomes.append(self._send(mail))
        finally:
            if self.client is not None:
                _quit(self.client)
        return outcomes

    def _send(self, mail: Mail) -> GatewayError | None:
        while self.broken is None:
            if self.client is None:
                try:
                    self.client = self._open()
                except TransientSendError as exc:  # unreachable, TLS or login: the same for every mail left
                    self.broken = exc
                continue
            try:
                self.client.sendmail(mail.envelope_from, [mail.recipient], mail.raw)
                return None
            except Exception as exc:
                if not _connection_lost(exc):
                    return self._refused(mail, exc)
                # Dropped (or silent) before this mail's DATA got its 250, so the relay did not take it
                # (we cannot know about a reply lost in flight): it goes again on a new connection.
                self._drop(exc)
        return self.broken

    def _drop(self, exc: Exception) -> None:
        """Forget a connection that failed; the next mail gets a new one if one is left and there is time."""
        self.client.close()
        self.client = None
        if self.opened >= CONNECTIONS_PER_BATCH or not self.go_on():
            self.broken = TransientSendError(f"{self.where} failed: {exc or type(exc).__name__}")

    def _refused(self, mail: Mail, exc: Exception) -> GatewayError:
        """This mail's answer when it failed on a working connection; the connection is left ready for the next."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = exc.recipients.get(mail.recipient, next(iter(exc.recipients.values()), (451, b"")))
            return _smtp_error(code, text, f"recipient {mail.recipient}")
        if isinstance(exc, smtplib.SMTPDataError):  # the content itself was refused (e.g. 554 spam)
            return _smtp_error(exc.smtp_code, exc.smtp_error, "the mail")
        if isinstance(exc, smtplib.SMTPSenderRefused):
            # Transient even on 5xx: a refused sender is our configuration, the same for every row.
            return TransientSendError(f"{self.where} refused sender {mail.envelope_from} ({exc.smtp_code} "
                                      f"{_text(exc.smtp_error)}); check outbound.from_address")
        # smtplib reset the transactions above itself; after anything else, we do (a bug or an odd
        # reply tied to this one mail must not cost the others their connection).
        try:
            self.client.rset()
        except OSError as lost:  # SMTPServerDisconnected among them
            self._drop(lost)
        if isinstance(exc, smtplib.SMTPException):
            return TransientSendError(f"{self.where} failed: {exc or type(exc).__name__}")
        log.exception("%s: unexpected error sending to %s", self.where, mail.recipient)
        return TransientSendError(f"unexpected {type(exc).__name__}: {exc}")

    def _open(self) -> smtplib.SMTP:
        c = self.config
        self.opened += 1
        try:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
        except OSError as exc:  # refused, unreachable, timeout
            raise TransientSendError(f"{self.where} unreachable: {exc}") from None
        try:
            client.ehlo_or_helo_if_needed()
            if c.starttls:
                client.starttls(context=ssl.create_default_context())
            if c.username:
                client.login(c.username, c.password.get_secret_value() if c.password else "")
        except smtplib.SMTPAuthenticationError as exc:
            # Transient: fixing GATEWAY_OUTBOUND__PASSWORD and restarting should still deliver the backlog.
            _quit(client)
            raise TransientSendError(f"{self.where} refused login for {c.username!r} ({exc.smtp_code}); check "
                                     f"outbound.username and GATEWAY_OUTBOUND__PASSWORD") from None
        except smtplib.SMTPNotSupportedError as exc:
            _quit(client)
            raise TransientSendError(f"{self.where}: {exc}; set outbound.starttls/username to what it offers") from None
        except (smtplib.SMTPException, OSError) as exc:  # HELO refused, TLS failure, disconnect, timeout
            _quit(client)
            raise TransientSendError(f"{self.where} failed: {exc or type(exc).__name__}") from None
        return client


def _connection_lost(exc: Exception) -> bool:
    # SMTPException is an OSError too; of those only SMTPServerDisconnected means the socket is gone.
    if isinstance(exc, smtplib.SMTPException):
        return isinstance(exc, smtplib.SMTPServerDisconnected)
    return isinstance(exc, OSError)


def _smtp_error(code: int, text: bytes | str, what: str) -> GatewayError:
    """A 5xx reply is permanent, anything else transient; the message carries the relay's words."""
    message = f"relay refused {what}: {code} {_text(text)}".strip()
    return PermanentSendError(message) if 500 <= code < 600 else TransientSendError(message)


def _quit(client: smtplib.SMTP) -> None:
    # The mail is accepted once DATA got 250: a failing QUIT must not turn that into a resend.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
