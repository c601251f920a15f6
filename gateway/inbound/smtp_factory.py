"""Builds an aiosmtpd protocol per connection with SMTP.__init__'s look-ups done once per listener."""
from __future__ import annotations

import asyncio
from types import MethodType
from typing import Any

from aiosmtpd.smtp import SMTP

# aiosmtpd's SMTP.__init__ runs inspect.getmembers() over the protocol and the handler, dir() over both
# and formats an INFO line of AUTH mechanisms, on every connection: ~115 µs of CPU, about 15% of what a
# do-nothing aiosmtpd spends on a mail (one connection per mail is what MTAs do). None of it depends on
# the connection. So one protocol is built the ordinary way, once; each connection gets its attributes,
# with the stream state StreamReaderProtocol.__init__ makes anew and the protocol's own methods rebound
# to the copy. tests/unit/inbound/test_smtp_factory.py compares such a copy with a protocol aiosmtpd built
# itself, attribute by attribute: an aiosmtpd release whose __init__ sets something else fails there.


def _stream_attributes(loop: asyncio.AbstractEventLoop) -> frozenset[str]:
    """The attributes StreamReaderProtocol.__init__ sets: one connection's stream state, never shared."""
    probe = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), client_connected_cb=print, loop=loop)
    return frozenset(vars(probe))


def _rebind(value: Any, old: object, new: object) -> Any:
    """`value` with every method bound to `old` bound to `new` instead (in dicts and tuples too)."""
    if isinstance(value, MethodType):
        return MethodType(value.__func__, new) if value.__self__ is old else value
    if isinstance(value, dict):  # a copy even when nothing is rebound: no two connections share a mutable map
        return {key: _rebind(item, old, new) for key, item in value.items()}
    if isinstance(value, (list, set)):
        return type(value)(_rebind(item, old, new) for item in value)
    if isinstance(value, tuple) and any(isinstance(item, MethodType) for item in value):
        items = [_rebind(item, old, new) for item in value]
        return type(value)._make(items) if hasattr(type(value), "_make") else tuple(items)  # a namedtuple
    return value


class ProtocolFactory:
    """`factory()` is a new `cls(handler, **options)` for one connection, as loop.create_server wants.

    Must be made on the loop the server runs on (the protocols are bound to it).
    """

    def __init__(self, cls: type[SMTP], handler: Any, **options: Any):
        self.cls = cls
        self.loop = options.setdefault("loop", asyncio.get_running_loop())
        self.prototype = cls(handler, **options)
        stream = _stream_attributes(self.loop)
        shared = {name: value for name, value in vars(self.prototype).items() if name not in stream}
        # Plain values go over as they are, in one update; methods and containers are rebuilt per connection.
        self.copied = {name: value for name, value in shared.items()
                       if isinstance(value, (MethodType, dict, list, set, tuple))}
        self.plain = {name: value for name, value in shared.items() if name not in self.copied}

    def __call__(self) -> SMTP:
        protocol = self.cls.__new__(self.cls)
        reader = asyncio.StreamReader(loop=self.loop, limit=self.cls.line_length_limit)
        asyncio.StreamReaderProtocol.__init__(protocol, reader, client_connected_cb=protocol._cb_client_connected,
                                              loop=self.loop)
        protocol.__dict__.update(self.plain)
        for name, value in self.copied.items():
            setattr(protocol, name, _rebind(value, self.prototype, protocol))
        protocol.command_size_limits.clear()  # a class-wide map aiosmtpd empties on every connection: so do we
        return protocol
