"""SMTP listener (aiosmtpd) on the service's own loop: 250 only after the commit, 451 on any failure."""
from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Awaitable, Callable

from aiosmtpd.smtp import SMTP

from gateway.config import SmtpConfig
from gateway.errors import ConfigError, TempFail
from gateway.mail.tokens import split_plus

log = logging.getLogger(__name__)

IngestFn = Callable[..., Awaitable]


class GatewayHandler:
    """aiosmtpd handler: RCPT only for our addresses (never an open relay), DATA → ingest."""

    def __init__(self, *, ingest: IngestFn, config: SmtpConfig):
        self.ingest = ingest
        self.addresses = frozenset(config.addresses)
        self.max_recipients = config.max_recipients
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def accepts(self, address: str) -> bool:
        base, _ = split_plus(address)
        return base in self.addresses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.accepts(address):
            return "550 5.7.1 relaying denied: this server only accepts mail for its help-desk addresses"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.in_flight += 1
        self.idle.clear()
        try:
            outcome = await self.ingest(envelope.original_content or envelope.content, source="smtp",
                                        envelope_from=envelope.mail_from, recipients=tuple(envelope.rcpt_tos))
        except TempFail as exc:
            log.warning("SMTP mail from %s not stored, answered 451: %s", envelope.mail_from, exc)
            return "451 4.3.0 temporary failure storing the mail; try again later"
        except Exception:
            log.exception("SMTP mail from %s not stored, answered 451", envelope.mail_from)
            return "451 4.3.0 temporary failure storing the mail; try again later"
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()
        detail = f" {outcome.ticket_ref}" if outcome.ticket_ref else ""
        return f"250 2.0.0 OK {outcome.status}{detail}"


class GatewaySMTP(SMTP):
    # RFC 5321 says 1000 octets a line, but real mail (generated HTML, long headers) breaks it; refusing
    # with 500 would bounce a customer's mail, so accept long lines and leave limits to max_message_bytes.
    line_length_limit = 256 * 1024


def tls_context(config: SmtpConfig) -> ssl.SSLContext | None:
    if not config.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


async def start_listener(*, ingest: IngestFn, config: SmtpConfig) -> tuple[asyncio.Server, GatewayHandler]:
    """Listen on config.host:port on the running loop; returns the server and its handler."""
    handler = GatewayHandler(ingest=ingest, config=config)
    context = tls_context(config)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return GatewaySMTP(handler, hostname=config.hostname, data_size_limit=config.max_message_bytes,
                    enable_SMTPUTF8=True, decode_data=False, tls_context=context, ident="Support Gateway")

    try:
        server = await loop.create_server(factory, host=config.host, port=config.port)
    except OSError as exc:
        raise ConfigError(f"smtp.port: cannot listen on {config.host}:{config.port} ({exc.strerror}); stop what "
                          f"uses it or choose another smtp.host/smtp.port (GATEWAY_SMTP__PORT)") from exc
    return server, handler


async def stop_listener(server: asyncio.Server, handler: GatewayHandler, *, grace: float = 30.0) -> None:
    """Stop accepting, then let mail in flight finish its commit (up to `grace` seconds)."""
    server.close()
    try:
        await asyncio.wait_for(handler.idle.wait(), grace)
    except asyncio.TimeoutError:
        log.warning("SMTP stopped with %d mail(s) still in flight; their clients will retry", handler.in_flight)
