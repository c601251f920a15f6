"""Which spooled replies may wait for their parent (gateway/parent_wait.py), with a hand-set clock."""
from __future__ import annotations

import gc

from gateway.parent_wait import QUIET_SECONDS, OpenSessions, ParentWait, parents_first, parents_of
from gateway.mail.parse import parse


class Session:  # stands for an SMTP session's protocol object: only its identity matters
    pass


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def wait(hold: float = 120.0):
    clock = Clock()
    sessions = OpenSessions(now=clock)
    waiter = ParentWait(sessions, hold)
    sessions.ended = waiter.transaction_ended
    return clock, sessions, waiter


def reply(parent: str = "<p@example.org>", own: str = "<r@example.org>"):
    return parse(f"From: a@example.org\r\nMessage-ID: {own}\r\nIn-Reply-To: {parent}\r\n"
                 f"References: <root@example.org> {parent}\r\nSubject: Re: x\r\n\r\nmore\r\n".encode())


def test_parents_are_read_nearest_first_without_repeats():
    assert parents_of(reply()) == ["p@example.org", "root@example.org"]


def test_a_reply_waits_while_an_older_session_is_open_and_not_once_its_mail_was_processed():
    clock, sessions, waiter = wait()
    older = Session()
    sessions.opened(older)  # connected; no MAIL FROM yet
    clock.t += 1
    waiter.accepted(7, clock())
    assert waiter.still_waiting(7)
    waiter.accepted(8, clock())  # the parent's mail became row 8, after the reply ...
    sessions.transaction_ended(older, 8)  # ... and then its session heard 250
    assert waiter.still_waiting(7)  # row 8 is spooled, not processed: the parent may be in it
    waiter.forget([8])
    assert not waiter.still_waiting(7)


def test_a_session_after_its_mail_holds_only_replies_accepted_since_then():
    clock, sessions, waiter = wait()
    session = Session()
    sessions.opened(session)
    clock.t += 1
    waiter.accepted(1, clock())
    sessions.transaction_ended(session, 1)  # the reply's own session: its next mail begins now
    sessions.opened(session)  # STARTTLS connects again: the moment stays
    assert not waiter.still_waiting(1)
    clock.t += 1
    waiter.accepted(2, clock())
    assert waiter.still_waiting(2)  # the open session may bring its next mail, the parent
    sessions.closed(session)
    assert not waiter.still_waiting(2)


def test_no_wait_without_an_older_session_beyond_the_limit_or_with_the_hold_off():
    clock, sessions, waiter = wait(hold=5)
    waiter.accepted(1, clock())
    assert not waiter.still_waiting(1)  # nothing older is open: its parent is not on its way here
    newer = Session()
    clock.t += 1
    sessions.opened(newer)
    assert not waiter.still_waiting(1)  # connected after the reply was accepted
    older = Session()
    sessions.opened(older)
    clock.t += 1
    waiter.accepted(2, clock())
    assert waiter.still_waiting(2)
    clock.t += 5
    assert not waiter.still_waiting(2)  # the limit
    _, sessions, off = wait(hold=0)
    sessions.opened(Session())
    off.accepted(3, 0.0)
    assert not off.still_waiting(3)


def test_a_session_whose_client_is_silent_holds_no_reply_until_it_speaks_again():
    clock, sessions, waiter = wait()
    idle = Session()
    sessions.opened(idle)  # an MTA's cached connection: greeted, then nothing
    clock.t += 1
    waiter.accepted(1, clock())
    assert waiter.still_waiting(1)
    clock.t += QUIET_SECONDS - 1.5
    assert waiter.still_waiting(1)
    clock.t += 0.5  # silent for QUIET_SECONDS now
    assert not waiter.still_waiting(1)
    sessions.heard(idle)  # it sends MAIL FROM after all: its mail may be the parent
    assert waiter.still_waiting(1)
    clock.t += QUIET_SECONDS - 0.5
    sessions.heard(idle)  # a long DATA, a piece at a time, keeps it heard
    clock.t += QUIET_SECONDS - 0.5
    assert waiter.still_waiting(1)


def test_a_session_that_vanishes_takes_its_entry_with_it():
    clock, sessions, waiter = wait()
    sessions.opened(Session())  # nobody holds the session: it is gone
    gc.collect()
    clock.t += 1
    waiter.accepted(1, clock())
    assert not waiter.still_waiting(1)


def mail_with(own: str, *parents: str):
    refs = f"In-Reply-To: {parents[0]}\r\nReferences: {' '.join(parents)}\r\n" if parents else ""
    return parse(f"From: a@example.org\r\nMessage-ID: {own}\r\n{refs}Subject: x\r\n\r\nbody\r\n".encode())


def test_parents_first_puts_a_reply_after_a_later_parent_and_keeps_the_rest_in_order():
    rows = [("r2", mail_with("<r2@x>", "<r1@x>")), ("a", mail_with("<a@x>")), ("r1", mail_with("<r1@x>", "<p@x>")),
            ("p", mail_with("<p@x>")), ("b", mail_with("<b@x>", "<a@x>")), ("bad", None)]
    ordered = [name for name, _ in parents_first(rows, lambda row: row[1])]
    assert ordered == ["a", "p", "r1", "r2", "b", "bad"]  # b's parent came before it: b keeps its place
    loop = [("x", mail_with("<x@x>", "<y@x>")), ("y", mail_with("<y@x>", "<x@x>"))]  # forged: each answers the other
    assert [name for name, _ in parents_first(loop, lambda row: row[1])] == ["y", "x"]
    assert parents_first(rows[1:2], lambda row: row[1]) == rows[1:2]
