"""Completion flows down: the levels that escalated a ticket hear once when it is resolved above them."""
from __future__ import annotations

import email
from email import policy

import pytest

from gateway.schedule.escalate import levels_to_tell
from gateway.store.models import Event, Ticket
from tests.unit.pipeline.test_commands_step import NOW, reply
from tests.unit.schedule.helpers import ticket, utc


async def escalated(db, settings, *moves: tuple[int, int]) -> int:
    """A ticket moved along `moves` ((from, to), ...) by "escalated" events, sitting at the last level."""
    async with db.transaction() as session:
        row = ticket(settings, utc("2026-01-05 09:00"), level=moves[-1][1] if moves else 1)
        session.add(row)
        await session.flush()
        session.add_all(Event(ticket_id=row.id, kind="escalated", actor="sla", at=NOW,
                              data={"from": old, "to": new, "reason": "test"}) for old, new in moves)
        return row.id


async def move(db, tid: int, old: int, new: int) -> None:
    async with db.transaction() as session:
        (await session.get(Ticket, tid)).level = new
        session.add(Event(ticket_id=tid, kind="escalated", actor="sla", at=NOW, data={"from": old, "to": new}))


def completions(rows) -> list[str]:
    return sorted(r.recipient for r in rows if r.template == "level/completed")


async def test_each_level_below_is_told_once_with_the_resolution(settings_factory, db):
    settings = settings_factory()
    tid = await escalated(db, settings, (1, 2), (2, 3))
    row, events, rows = await reply(db, settings, tid, text="/resolve Replaced the switch")
    assert row.status == "resolved"
    assert completions(rows) == ["frontdesk@example.com", "ops-director@example.com"]
    mail = email.message_from_bytes(next(r for r in rows if r.template == "level/completed").raw, policy=policy.default)
    assert mail["Subject"] == f"[HD-{tid}] Resolved at level 3: Printer down"
    text = mail.get_body(("plain",)).get_content()
    assert "level 1 (Help desk front end) escalated" in text and "Resolution: Replaced the switch" in text
    [told] = [e for e in events if e.kind == "completion_told"]
    assert told.data == {"levels": [1, 2], "mailed": [1, 2], "resolved_at_level": 3}
    result = next(r for r in rows if r.template == "engineer/result")
    assert "level 1, 2 told it is done" in email.message_from_bytes(result.raw, policy=policy.default).get_body(
        ("plain",)).get_content()


async def test_a_resolve_reopen_resolve_cycle_tells_nobody_twice(settings_factory, db):
    settings = settings_factory()
    tid = await escalated(db, settings, (1, 3))
    await reply(db, settings, tid, text="/resolve")
    await reply(db, settings, tid, text="/reopen")
    _, _, rows = await reply(db, settings, tid, text="/resolve fixed for good")
    assert completions(rows) == ["frontdesk@example.com"]  # from the first resolve only
    await reply(db, settings, tid, text="/reopen")
    await move(db, tid, 3, 4)  # a new escalation from level 3: level 3 has a completion to hear about
    _, events, rows = await reply(db, settings, tid, text="/resolve")
    assert completions(rows) == ["frontdesk@example.com", "sysadmins@example.com"]
    assert [e.data["levels"] for e in events if e.kind == "completion_told"] == [[1], [3]]


async def test_a_duplicate_resolved_above_tells_the_level_below(settings_factory, db):
    settings = settings_factory()
    other = await escalated(db, settings)
    tid = await escalated(db, settings, (1, 3))
    _, _, rows = await reply(db, settings, tid, text=f"/duplicate HD-{other}")
    [row] = [r for r in rows if r.template == "level/completed"]
    assert f"Resolution: the same problem as HD-{other}" in row.raw.decode()


@pytest.mark.parametrize("moves", [(), ((3, 1),)], ids=["never escalated", "moved back down"])
async def test_no_completion_mail_without_a_level_below(settings_factory, db, moves):
    settings = settings_factory()
    tid = await escalated(db, settings, *moves)
    _, events, rows = await reply(db, settings, tid, text="/resolve")
    assert completions(rows) == [] and not [e for e in events if e.kind == "completion_told"]


def test_levels_to_tell_reads_only_escalations_after_the_last_notice():
    moves = [Event(id=i, kind="escalated", data={"from": old, "to": new})
             for i, (old, new) in enumerate([(0, 1), (1, 3), (3, 2), (2, 4)], start=1)]
    assert levels_to_tell(moves, since=0, current=4) == [0, 1, 2, 3]
    assert levels_to_tell(moves, since=2, current=4) == [2, 3]
    assert levels_to_tell(moves, since=0, current=2) == [0, 1]


async def test_an_incident_and_its_linked_tickets_tell_each_level_once(settings_factory, db):
    settings = settings_factory()
    incident, linked, other = [await escalated(db, settings, (1, 3)) for _ in range(3)]
    await reply(db, settings, incident, text="/incident Mail server down")
    await reply(db, settings, linked, text=f"/link HD-{incident}")
    await reply(db, settings, other, text=f"/link HD-{incident}")
    _, _, rows = await reply(db, settings, incident, text="/resolve Replaced the disk")
    assert [(r.ticket_id, r.recipient) for r in rows if r.template == "level/completed"] == [
        (incident, "frontdesk@example.com")]
    await reply(db, settings, linked, text="/reopen")
    _, events, rows = await reply(db, settings, linked, text="/resolve")  # told with the incident already
    assert len([r for r in rows if r.template == "level/completed"]) == 1
    assert [e.data["mailed"] for e in events if e.kind == "completion_told"] == [[]]
