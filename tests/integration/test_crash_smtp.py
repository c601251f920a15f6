"""Faults with real processes: kill -9 of `gateway serve` during 300 SMTP mails from 10 clients, and
the relay gone for a while mid-stream. What the clients saw answered 250 is stored, once; every
notification reaches the relay; a resend only for the rows in flight at the kill, same Message-ID."""
from __future__ import annotations

from gateway.notify.send import CHUNK
from tests.integration import crashkit


def test_kill_9_mid_stream_loses_nothing_answered_250_and_stores_nothing_twice(tmp_path):
    result = crashkit.kill_9(mails=300, clients=10, kill_at=0.4, home=tmp_path)
    assert result.acknowledged == 300
    assert result.lost == 0 and result.stored_twice == 0 and result.stored == 300
    # Each new ticket: an acknowledgement and an announcement.
    assert result.notifications == 600 and result.sent == result.notifications
    # One sender claims at most CHUNK rows and records their results together, so a kill leaves at
    # most CHUNK rows 'sending'; only those may reach the relay twice, and then under their own
    # Message-ID (a resend under a new one would show as a delivery that is no outbox row's).
    assert result.in_flight is not None and result.in_flight <= CHUNK
    assert result.sent_twice <= result.in_flight and result.resent_outside_flight == 0
    assert result.not_ours == 0


def test_relay_down_mid_stream_then_back_delivers_everything_once(tmp_path):
    result = crashkit.relay_outage(mails=300, clients=10, outage_seconds=3, home=tmp_path)
    assert result.acknowledged == result.stored == 300 and result.lost == 0 and result.stored_twice == 0
    assert result.notifications == 600 and result.sent == 600 and result.sent_twice == 0
    assert result.not_ours == 0 and result.in_flight is None
    # The sender met the dead relay and backed off: rows went out only after failed attempts.
    assert result.retried > 0
    assert "notifications waiting when it came back" in result.notes[0]
