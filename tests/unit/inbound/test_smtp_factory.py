"""ProtocolFactory: a protocol per connection equal to the one aiosmtpd's own __init__ builds, made without it.

These tests guard what the factory relies on in aiosmtpd: that SMTP.__init__ sets only attributes that
depend on its options (plus StreamReaderProtocol's stream state), and that the protocol's own methods are
the only values bound to it. An aiosmtpd release that changes either fails here.
"""
from __future__ import annotations

import asyncio
import smtplib
import weakref
from types import FunctionType, MethodType

from aiosmtpd.smtp import SMTP

from gateway.inbound.smtp import GatewaySMTP
from gateway.inbound.smtp_factory import ProtocolFactory
from gateway.parent_wait import OpenSessions

OPTIONS = dict(hostname="gw.example", data_size_limit=1 << 20, enable_SMTPUTF8=True, decode_data=False,
               tls_context=None, ident="Support Gateway")


class Handler:
    def __init__(self):
        self.mails: list[tuple[str, list[str], bytes]] = []
        self.sessions = OpenSessions()  # GatewaySMTP tells it of each connection and what its client sends

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 OK queued as 7"


def shape(value, owner):
    """`value` comparable across two protocols: what is bound to `owner` named "own", per-connection objects by kind."""
    if isinstance(value, MethodType):
        return ("method", value.__func__, "own" if value.__self__ is owner else value.__self__)
    if isinstance(value, dict):
        return {key: shape(item, owner) for key, item in value.items()}
    if isinstance(value, tuple):
        return (type(value), *(shape(item, owner) for item in value))
    if isinstance(value, weakref.ref):
        return ("weakref", "own reader" if value() is owner._strong_reader else value())
    if isinstance(value, asyncio.StreamReader):
        return ("reader", value._limit)
    if isinstance(value, asyncio.Future):
        return ("future", value.done())
    return value


def shapes(protocol) -> dict:
    return {name: shape(value, protocol) for name, value in vars(protocol).items()}


async def test_a_copy_has_what_aiosmtpd_builds_itself():
    handler = Handler()
    factory = ProtocolFactory(GatewaySMTP, handler, **OPTIONS)
    built = GatewaySMTP(handler, **OPTIONS)  # aiosmtpd's own __init__, as on every connection before
    copy = factory()
    assert type(copy) is GatewaySMTP
    assert shapes(copy) == shapes(built)
    assert copy._stream_reader_wr() is copy._strong_reader


async def test_a_copy_of_plain_smtp_too():
    handler = Handler()
    assert shapes(ProtocolFactory(SMTP, handler, **OPTIONS)()) == shapes(SMTP(handler, **OPTIONS))


# What two connections may hold the very same object of: values that cannot change, and the listener's own parts.
IMMUTABLE = (type(None), bool, int, float, str, bytes, frozenset, FunctionType)
LISTENER_PARTS = {"event_handler", "loop", "_loop", "tls_context"}


async def test_connections_share_no_state():
    factory = ProtocolFactory(GatewaySMTP, Handler(), **OPTIONS)
    one, two = factory(), factory()
    for name, value in vars(one).items():
        if value is getattr(two, name) and name not in LISTENER_PARTS:
            assert isinstance(value, IMMUTABLE), f"{name}: one {type(value).__name__} shared by every connection"
    assert one._smtp_methods["DATA"].__self__ is one and two._smtp_methods["DATA"].__self__ is two
    assert one._auth_methods["PLAIN"].method.__self__ is one
    assert one._client_connected_cb.__self__ is one
    assert one.event_handler is two.event_handler  # the one handler of the listener


async def test_copies_serve_a_real_client_one_connection_each():
    handler = Handler()
    server = await asyncio.get_running_loop().create_server(ProtocolFactory(GatewaySMTP, handler, **OPTIONS),
                                                            "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    def send(n: int) -> dict:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            code, _ = client.ehlo("client.example")
            assert code == 250 and client.has_extn("smtputf8")  # the options reached every copy
            return client.sendmail("a@example.org", ["ihelp@example.com"], f"Subject: {n}\r\n\r\nbody {n}\r\n")

    try:
        for n in range(3):
            assert await asyncio.to_thread(send, n) == {}
    finally:
        server.close()
        await server.wait_closed()
    assert [(frm, tos, content.split(b"\r\n")[0]) for frm, tos, content in handler.mails] == [
        ("a@example.org", ["ihelp@example.com"], f"Subject: {n}".encode()) for n in range(3)]
