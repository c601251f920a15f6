"""source_of: "pipe" only for the hand-off's EHLO name from this machine; anything else is "smtp"."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.inbound.handoff_smtp import HANDOFF_HELO
from gateway.inbound.smtp import source_of


@pytest.mark.parametrize("host_name, peer, source", [
    (HANDOFF_HELO, ("127.0.0.1", 40000), "pipe"),
    (HANDOFF_HELO.upper(), ("127.0.0.2", 40000), "pipe"),
    (HANDOFF_HELO, ("::1", 40000, 0, 0), "pipe"),
    (HANDOFF_HELO, ("::ffff:127.0.0.1", 40000, 0, 0), "pipe"),
    (HANDOFF_HELO, ("192.0.2.7", 40000), "smtp"),  # the name from elsewhere counts for nothing
    (HANDOFF_HELO, ("::ffff:192.0.2.7", 40000, 0, 0), "smtp"),
    (HANDOFF_HELO, ("fe80::1%eth0", 40000, 0, 2), "smtp"),
    (HANDOFF_HELO, ("not-an-address", 0), "smtp"),
    (HANDOFF_HELO, None, "smtp"),
    ("localhost", ("127.0.0.1", 40000), "smtp"),
    (None, ("127.0.0.1", 40000), "smtp"),
])
def test_source_of(host_name, peer, source):
    assert source_of(SimpleNamespace(host_name=host_name, peer=peer)) == source
