"""Several instances, one mailbox: one poller holds the lease, the others stand by and take over when it dies."""
from __future__ import annotations

import asyncio
import logging
import socket
import subprocess

import pytest
from imap_fakes import FakeIngestor, FakeServer
from test_imap_drain import make_poller, mail, state, wait_until

from gateway.inbound import imap


@pytest.fixture(autouse=True)
def quick_standby(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="gateway.inbound.imap")
    monkeypatch.setattr(imap, "STANDBY_SECONDS", 0.05)
    monkeypatch.setattr(imap, "LEASE_RENEW", 0.0)  # renew on every look: a lost lease is noticed at once


@pytest.fixture
def settings(settings_factory):
    return settings_factory(mailboxes=[{"name": "support", "host": "imap.example.com", "username": "ihelp",
                                        "password": "pw", "poll_seconds": 0.2}])


class Instance:
    """One gateway's poller for the shared mailbox, as a task."""

    def __init__(self, settings, db, clock, server, holder: str):
        self.stop, self.ingestor = asyncio.Event(), FakeIngestor()
        self.poller = make_poller(settings, db, clock, server, self.ingestor, stop=self.stop, holder=holder)
        self.task = asyncio.create_task(self.poller.run())

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 3)

    def die(self) -> None:
        """kill -9: no release, the lease stays until it runs out."""
        self.poller.state.release = _nothing
        self.task.cancel()


async def _nothing(**_) -> None:
    return None


async def test_one_of_two_instances_polls_and_the_other_takes_over_when_its_lease_runs_out(settings, db, clock,
                                                                                          caplog):
    server = FakeServer()
    first = Instance(settings, db, clock, server, "gw1.example.com:100")
    await wait_until(lambda: server.logins == 1)
    second = Instance(settings, db, clock, server, "gw2.example.com:200")
    server.deliver(mail(1), mail(2))
    await wait_until(lambda: len(first.ingestor.stored) == 2)
    await asyncio.sleep(0.3)  # the standby keeps asking, and keeps being told no
    assert server.logins == 1 and second.ingestor.calls == []
    assert (await state(db)).lease_holder == "gw1.example.com:100"
    assert "polled by gw1.example.com:100; standing by" in caplog.text

    first.die()
    server.deliver(mail(3))
    await asyncio.sleep(0.3)
    assert second.ingestor.calls == []  # the dead holder's lease has not run out yet
    clock.advance(seconds=imap.LEASE_SECONDS + 1)
    await wait_until(lambda: server.folders["INBOX"] == {})
    assert second.ingestor.calls == [mail(3)]
    assert (await state(db)).lease_holder == "gw2.example.com:200"
    await second.halt()
    assert (await state(db)).lease_holder is None  # a clean stop hands the lease back at once


async def test_a_clean_stop_hands_over_without_waiting_for_the_lease(settings, db, clock):
    server = FakeServer()
    first = Instance(settings, db, clock, server, "gw1.example.com:100")
    await wait_until(lambda: server.logins == 1)
    second = Instance(settings, db, clock, server, "gw2.example.com:200")
    await first.halt()
    server.deliver(mail(1))
    await wait_until(lambda: len(second.ingestor.stored) == 1)  # the clock never moved
    await second.halt()


async def test_a_restart_on_the_same_host_takes_over_from_its_dead_process_at_once(settings, db, clock, caplog):
    dead = subprocess.Popen(["true"])
    dead.wait()
    server = FakeServer()
    ghost = Instance(settings, db, clock, server, f"{socket.gethostname()}:{dead.pid}")
    await wait_until(lambda: server.logins == 1)
    ghost.die()
    restarted = Instance(settings, db, clock, server, f"{socket.gethostname()}:{dead.pid + 1}")
    server.deliver(mail(1))
    await wait_until(lambda: len(restarted.ingestor.stored) == 1)  # the clock never moved
    assert f"taking over from {socket.gethostname()}:{dead.pid}" in caplog.text
    await restarted.halt()


async def test_a_holder_that_lost_its_lease_stops_polling_and_stands_by(settings, db, clock, caplog):
    server = FakeServer()
    first = Instance(settings, db, clock, server, "gw1.example.com:100")
    await wait_until(lambda: server.logins == 1)
    # Its database was away longer than the lease, and another instance took the mailbox meanwhile.
    other = make_poller(settings, db, clock, server, FakeIngestor(), holder="gw2.example.com:200")
    clock.advance(seconds=imap.LEASE_SECONDS + 1)
    assert await other.state.lease(holder=other.holder, now=clock.now(), seconds=imap.LEASE_SECONDS)
    await wait_until(lambda: "another instance took the lease; standing by" in caplog.text)
    server.deliver(mail(1))
    await asyncio.sleep(0.3)
    assert first.ingestor.calls == [] and server.folders["INBOX"] != {}
    await first.halt()
    assert (await state(db)).lease_holder == "gw2.example.com:200"  # its stop leaves the other's lease alone
