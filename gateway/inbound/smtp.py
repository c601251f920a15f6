"""SMTP listener (aiosmtpd) on the service's own loop: 250 only after the spool commit, 451 on any failure."""
from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import ssl
from typing import Awaitable, Callable

from aiosmtpd.smtp import MISSING, SMTP

from gateway.config import SmtpConfig
from gateway.errors import ConfigError, TempFail
from gateway.inbound.handoff_smtp import HANDOFF_HELO
from gateway.inbound.smtp_address import simple_path
from gateway.inbound.smtp_factory import ProtocolFactory
from gateway.mail.tokens import split_plus
from gateway.parent_wait import OpenSessions

log = logging.getLogger(__name__)

IngestFn = Callable[..., Awaitable]


# NUL and other control characters are in no address (RFC 5321 4.1.2); taken in, they end up in
# headers we write, logs and database columns (PostgreSQL refuses NUL in text).
BAD_ADDRESS = "501 5.1.7 bad address: control characters (such as NUL) are not allowed in an address"


def has_control(address: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in address)


class GatewayHandler:
    """aiosmtpd handler: RCPT only for our addresses (never an open relay), DATA → accept into the spool.

    `ingest` is the accept function: it returns the spool id once the mail is durably committed.
    """

    def __init__(self, *, ingest: IngestFn, config: SmtpConfig, sessions: OpenSessions | None = None):
        self.ingest = ingest
        self.sessions = sessions or OpenSessions()
        self.addresses = frozenset(config.addresses)
        self.max_recipients = config.max_recipients
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def accepts(self, address: str) -> bool:
        base, _ = split_plus(address)
        return base in self.addresses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if has_control(address):
            return BAD_ADDRESS
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.sessions.opened(server)  # known since its connection under GatewaySMTP; this covers plain SMTP
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if has_control(address):
            return BAD_ADDRESS
        if not self.accepts(address):
            return "550 5.7.1 relaying denied: this server only accepts mail for its help-desk addresses"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        spool_id = None
        self.in_flight += 1
        self.idle.clear()
        try:
            spool_id = await self.ingest(envelope.original_content or envelope.content, source=source_of(session),
                                        envelope_from=envelope.mail_from, recipients=tuple(envelope.rcpt_tos))
        except TempFail as exc:
            log.warning("SMTP mail from %s not spooled, answered 451: %s", envelope.mail_from, exc)
            return "451 4.3.0 temporary failure storing the mail; try again later"
        except Exception:
            log.exception("SMTP mail from %s not spooled, answered 451", envelope.mail_from)
            return "451 4.3.0 temporary failure storing the mail; try again later"
        finally:
            self.sessions.transaction_ended(server, spool_id)
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()
        return f"250 2.0.0 OK queued as {spool_id}"


def source_of(session) -> str:
    """"pipe" for a mail `gateway ingest` handed over on this machine, else "smtp".

    Only a label, for the operator: a local process could claim the hand-off's EHLO name, but it
    could as well run `gateway ingest` itself. From any other host the name counts for nothing.
    """
    if (session.host_name or "").lower() != HANDOFF_HELO or not session.peer:
        return "smtp"
    try:
        address = ipaddress.ip_address(session.peer[0].split("%")[0])
    except ValueError:
        return "smtp"
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack listener
    return "pipe" if (mapped or address).is_loopback else "smtp"


YIELD_EVERY = 1 << 20  # bytes of DATA read between turns given to the other sessions
TOO_MUCH = "552 Error: Too much mail data"


async def read_data(reader: asyncio.StreamReader, *, size_limit: int | None) -> tuple[bytes, str]:
    """The DATA section up to the lone dot: (mail with dots unstuffed, "") or (b"", refusal to answer).

    A line may be of any length (Postfix takes them too): one longer than the reader buffers arrives
    in pieces, and only the mail's size is limited. A refused mail is still read to its end, as
    RFC 5321 4.2.5 wants, but none of it is kept, so memory stays within size_limit plus the reader's.
    """
    body = io.BytesIO()  # one buffer that grows in place; getvalue() hands it over without a copy
    size, refusal, line_start, paused_at = 0, "", True, 0
    while True:
        if size - paused_at >= YIELD_EVERY:
            # readuntil() returns without suspending while data is buffered: a fast sender of a 25 MB mail
            # would keep every other session waiting until its last line.
            paused_at = size
            await asyncio.sleep(0)
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as exc:
            # Longer than the reader may buffer: take what it has. It keeps back the last byte when no
            # CRLF is in sight, so a CRLF is never split between two pieces.
            line = await reader.read(exc.consumed)
        if line_start and line == b".\r\n":
            break
        size += len(line)
        if size_limit and size > size_limit:
            refusal = refusal or TOO_MUCH
        if refusal:
            body.truncate(0)  # keep nothing of a refused mail while the rest of it arrives
        elif line_start and line.startswith(b"."):
            body.write(memoryview(line)[1:])
        else:
            body.write(line)
        line_start = line.endswith(b"\r\n")
    return (b"", refusal) if refusal else (body.getvalue(), "")


class GatewaySMTP(SMTP):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        # From here the client may send the mail a reply accepted meanwhile answers (gateway/parent_wait.py).
        self.event_handler.sessions.opened(self)

    def connection_lost(self, error) -> None:
        self.event_handler.sessions.closed(self)
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        self.event_handler.sessions.heard(self)  # a silent session holds no reply for its parent
        super().data_received(data)

    # aiosmtpd sizes its StreamReader's buffer by this, and refuses longer command lines. RFC 5321 says
    # 1000 octets a line, but real mail (generated HTML, long headers) breaks it: read_data takes DATA
    # lines of any length in pieces of this size, so only max_message_bytes limits a mail.
    line_length_limit = 64 * 1024

    def _getaddr(self, arg: str):
        # The plain path without the email package's parser (gateway/inbound/smtp_address.py); same result.
        simple = simple_path(arg)
        if simple is None:
            return super()._getaddr(arg)
        if self.local_part_limit and len(simple[0].rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return simple

    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd keeps each line as its own bytearray and joins them at the end: about three times the
        # mail at once, most of it object overhead. Same replies here, with the mail in one buffer.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content, refusal = await read_data(self._reader, size_limit=self.data_size_limit)
        except asyncio.CancelledError:  # the client went away in the middle
            self._writer.close()
            raise
        if refusal:
            self._set_post_data_state()
            await self.push(refusal)
            return
        self.envelope.content = self.envelope.original_content = content
        del content  # the envelope holds the only reference, so the reset below frees the mail
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


def tls_context(config: SmtpConfig) -> ssl.SSLContext | None:
    if not config.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


async def start_listener(*, ingest: IngestFn, config: SmtpConfig, sessions: OpenSessions | None = None
                         ) -> tuple[asyncio.Server, GatewayHandler]:
    """Listen on config.host:port on the running loop; returns the server and its handler."""
    handler = GatewayHandler(ingest=ingest, config=config, sessions=sessions)
    context = tls_context(config)
    loop = asyncio.get_running_loop()
    factory = ProtocolFactory(GatewaySMTP, handler, hostname=config.hostname, data_size_limit=config.max_message_bytes,
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
