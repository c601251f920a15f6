"""Which spooled replies may wait for their parent (gateway/parent_wait.py), with a hand-set clock."""
from __future__ import annotations

import gc

from gateway.parent_wait import OpenTransactions, ParentWait, parents_of
from gateway.mail.parse import parse


class Envelope:  # stands for aiosmtpd's: only its identity matters
    pass


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def wait(hold: float = 120.0):
    clock = Clock()
    transactions = OpenTransactions(now=clock)
    waiter = ParentWait(transactions, hold)
    transactions.ended = waiter.transaction_ended
    return clock, transactions, waiter


def reply(parent: str = "<p@example.org>", own: str = "<r@example.org>"):
    return parse(f"From: a@example.org\r\nMessage-ID: {own}\r\nIn-Reply-To: {parent}\r\n"
                 f"References: <root@example.org> {parent}\r\nSubject: Re: x\r\n\r\nmore\r\n".encode())


def test_parents_are_read_nearest_first_without_repeats():
    assert parents_of(reply()) == ["p@example.org", "root@example.org"]


def test_a_reply_waits_while_an_older_transaction_is_open_and_not_once_it_ended_and_was_processed():
    clock, transactions, waiter = wait()
    older = Envelope()
    transactions.begin(older)
    clock.t += 1
    waiter.accepted(7, clock())
    assert waiter.still_waiting(7)
    waiter.accepted(8, clock())  # the parent's mail became row 8, after the reply ...
    transactions.end(older, 8)  # ... and then its session heard 250
    assert waiter.still_waiting(7)  # row 8 is spooled, not processed: the parent may be in it
    waiter.forget([8])
    assert not waiter.still_waiting(7)


def test_no_wait_without_an_older_transaction_beyond_the_limit_or_with_the_hold_off():
    clock, transactions, waiter = wait(hold=5)
    waiter.accepted(1, clock())
    assert not waiter.still_waiting(1)  # nothing older is open: its parent is not on its way here
    newer = Envelope()
    clock.t += 1
    transactions.begin(newer)
    assert not waiter.still_waiting(1)  # began after the reply was accepted
    older = Envelope()
    transactions.begin(older)
    clock.t += 1
    waiter.accepted(2, clock())
    assert waiter.still_waiting(2)
    clock.t += 5
    assert not waiter.still_waiting(2)  # the limit
    _, transactions, off = wait(hold=0)
    transactions.begin(Envelope())
    off.accepted(3, 0.0)
    assert not off.still_waiting(3)


def test_a_session_that_vanishes_takes_its_transaction_with_it():
    clock, transactions, waiter = wait()
    transactions.begin(Envelope())  # nobody holds the envelope: the session is gone
    gc.collect()
    clock.t += 1
    waiter.accepted(1, clock())
    assert not waiter.still_waiting(1)
