"""The SLA sweep with a fixed clock: warn once, escalate once per breach, nudge once per stall."""
from __future__ import annotations

from sqlalchemy import select

from gateway.clock import FixedClock
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.schedule import sla
from gateway.schedule.businesstime import BusinessCalendar
from gateway.schedule.sla import Sweeper
from gateway.store.models import Event, Outbox, Ticket
from tests.conftest import with_mail
from tests.unit.schedule.helpers import ticket, utc


def sweeper(settings, db, clock) -> Sweeper:
    return Sweeper(settings=settings, db=db, clock=clock,
                   notifier=Notifier(settings=settings, clock=clock, renderer=Renderer()))


async def add(db, *rows) -> list[int]:
    async with db.transaction() as session:
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def events(db, kind: str) -> list[Event]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id))).all())


async def outbox(db) -> list[Outbox]:
    async with db.transaction() as session:
        return await with_mail(session, list((await session.scalars(select(Outbox).order_by(Outbox.id))).all()))


async def test_warn_then_escalate_once_however_often_it_runs(settings_factory, any_db):
    db = any_db  # SQLite and PostgreSQL: the once-only claim is a conditional UPDATE on each
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-05 12:30"))  # Monday; medium: first response due 13:00, warn at 12:00
    [tid] = await add(db, ticket(settings, utc("2026-01-05 09:00")))
    first = await sweeper(settings, db, clock).sweep()
    assert (first.warned, first.breached) == ([tid], [])
    assert (await sweeper(settings, db, clock).sweep()).warned == []
    clock.at = utc("2026-01-05 13:05")
    results = [await sweeper(settings, db, clock).sweep() for _ in range(5)]  # five sweeps, "restarts" between
    clock.advance(minutes=30)
    results.append(await sweeper(settings, db, clock).sweep())
    assert [r.breached for r in results] == [[tid], [], [], [], [], []]
    escalated = await events(db, "escalated")
    assert [(e.data["from"], e.data["to"]) for e in escalated] == [(1, 2)]
    assert "first response target missed" in escalated[0].data["reason"]
    rows = await outbox(db)
    assert [(r.template, r.recipient) for r in rows] == [
        ("assignee/sla_warning", "frontdesk@example.com"), ("level/escalated", "ops-director@example.com")]
    async with db.transaction() as session:
        row = await session.get(Ticket, tid)
        assert row.level == 2 and row.sla_fired == sla.WARN_FIRST | sla.BREACH_FIRST
        # next look: the stall (8 business hours without activity), before the resolution warning
        assert sla.utc(row.sla_check_at) == utc("2026-01-05 17:00")


async def test_resolution_breach_is_a_second_breach(settings_factory, any_db):
    db = any_db
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-08 09:00"))  # after both targets of a Monday medium ticket
    [_tid] = await add(db, ticket(settings, utc("2026-01-05 09:00")))
    for _ in range(3):
        await sweeper(settings, db, clock).sweep()
    assert [(e.data["from"], e.data["to"]) for e in await events(db, "escalated")] == [(1, 2), (2, 3)]
    assert [e.data["target"] for e in await events(db, "sla_breach")] == ["first_response", "resolution"]
    assert await events(db, "sla_warning") == []  # a breach replaces its warning


async def test_top_level_breach_is_recorded_not_moved(settings_factory, db):
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-10 06:00"))
    [_tid] = await add(db, ticket(settings, utc("2026-01-10 03:00"), priority="urgent", level=4))
    for _ in range(3):
        await sweeper(settings, db, clock).sweep()
    assert len(await events(db, "escalation_blocked")) == 2  # first response and resolution: once each
    assert await events(db, "escalated") == []


async def test_stall_nudges_once_per_stall_and_waits_for_business_hours(settings_factory, db):
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-05 17:30"))  # medium stalls after 8 business hours: Monday 17:00
    [tid] = await add(db, ticket(settings, utc("2026-01-05 09:00"), assignee="bob@example.com",
                                 first_response_at=utc("2026-01-05 09:10")))
    for _ in range(3):
        await sweeper(settings, db, clock).sweep()
    [nudge] = [r for r in await outbox(db) if r.template == "assignee/stalled"]
    assert nudge.recipient == "bob@example.com"
    assert sla.utc(nudge.next_attempt_at) == utc("2026-01-06 08:30")  # out of hours: sent when they open
    async with db.transaction() as session:  # new activity, then another stall: one more nudge
        row = await session.get(Ticket, tid)
        row.last_activity_at = utc("2026-01-06 09:00")
        sla.schedule_check(row, settings=settings, cal=BusinessCalendar.from_config(settings.business))
    clock.at = utc("2026-01-07 09:30")
    for _ in range(2):
        await sweeper(settings, db, clock).sweep()
    assert len(await events(db, "stalled")) == 2


async def test_sweep_reads_only_due_tickets(settings_factory, db):
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-05 09:30"))
    await add(db, *[ticket(settings, utc("2026-01-05 09:00")) for _ in range(5)],
              ticket(settings, utc("2026-01-05 09:00"), status="pending", sla_check_at=None))
    assert (await sweeper(settings, db, clock).sweep()).checked == 0
    clock.at = utc("2026-01-05 12:01")
    assert (await sweeper(settings, db, clock).sweep()).checked == 5


def test_pause_and_resume_move_the_due_times(settings_factory):
    settings = settings_factory()
    cal = BusinessCalendar.from_config(settings.business)
    row = ticket(settings, utc("2026-01-05 09:00"))
    sla.pause(row, now=utc("2026-01-05 10:00"))
    assert (row.status, row.sla_check_at) == ("pending", None)
    paused = sla.resume(row, now=utc("2026-01-06 09:30"), settings=settings, cal=cal)  # 7 h + 1 h of business time
    assert paused == 8 * 3600
    assert row.status == "open"
    assert (row.first_response_due, row.resolution_due) == (utc("2026-01-06 12:30"), utc("2026-01-08 15:30"))


async def test_night_breach_waits_for_business_hours_unless_urgent(settings_factory, db):
    settings = settings_factory()
    clock = FixedClock(utc("2026-01-09 22:00"))  # Friday night
    await add(db, ticket(settings, utc("2026-01-09 14:00"), priority="high"),  # both due Friday afternoon
              ticket(settings, utc("2026-01-09 19:00"), priority="urgent", level=3))
    result = await sweeper(settings, db, clock).sweep()
    assert result.breached == [1, 1, 2, 2]  # each ticket: first response, then resolution
    announcements = {(r.ticket_id, sla.utc(r.next_attempt_at)) for r in await outbox(db)
                     if r.template == "level/escalated"}
    assert announcements == {(1, utc("2026-01-12 08:30")), (2, utc("2026-01-09 22:00"))}
