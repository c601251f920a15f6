"""The final report's builder: the timeline in the order things happened, durations against the SLA, the people."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.incident_report import build, duration
from gateway.store.models import Event, Ticket
from tests.unit.schedule.helpers import ticket, utc

BOB = "bob@example.com"  # an engineer of level 3


def event(n: int, tid: int, kind: str, at: str, actor: str = BOB, **data) -> Event:
    return Event(id=n, ticket_id=tid, kind=kind, actor=actor, at=utc(at), data=data)


def incident(settings, **fields) -> Ticket:
    row = ticket(settings, utc("2026-01-05 09:00"), priority="urgent", level=3, subject="Mail server down?",
                 requester="ann@client.example", incident_title="Mail server down", **fields)
    row.id = 1
    return row


def linked(settings, n: int, requester: str) -> Ticket:
    row = ticket(settings, utc("2026-01-05 09:05"), priority="urgent", level=3, requester=requester, incident_id=1)
    row.id = n
    return row


def test_the_timeline_runs_from_detection_to_resolution_whatever_order_the_events_come_in(settings_factory):
    settings = settings_factory()
    row = incident(settings, first_response_at=utc("2026-01-05 09:20"), resolved_at=utc("2026-01-05 12:00"),
                   status="resolved")
    events = [  # stored out of order: ids do not follow time (a scheduled job wrote one late)
        event(9, 1, "command_resolve", "2026-01-05 12:00", arg="Replaced the disk"),
        event(3, 1, "incident_update", "2026-01-05 10:30", text="Rebuilding the store;\n\nback at 14:00."),
        event(2, 1, "command_incident", "2026-01-05 09:10"),
        event(5, 1, "escalated", "2026-01-05 09:40", actor="sla", **{"from": 3, "to": 4, "reason": "SLA breach"}),
        event(7, 1, "handed_off", "2026-01-05 11:00", issue_url="https://tracker.example/issues/7"),
        event(4, 1, "customer_told", "2026-01-05 09:20", template="customer/reply"),
        event(6, 2, "incident_update", "2026-01-05 10:30", text="Rebuilding"),  # a linked ticket's copy: not a line
        event(8, 1, "message_in", "2026-01-05 11:30", actor="ann@client.example"),  # not a moment
    ]
    report = build(row, events, [linked(settings, 2, "ben@client.example")], [], [], settings)
    assert [(m.at.strftime("%H:%M"), m.what) for m in report.timeline] == [
        ("09:00", "detected: first mail"),
        ("09:10", "declared an incident"),
        ("09:20", "acknowledged: first answer to the reporter"),
        ("09:40", "escalated"),
        ("10:30", "update sent"),
        ("11:00", "handed off to the developers' tracker"),
        ("12:00", "resolved"),
    ]
    lines = {m.what: m for m in report.timeline}
    assert lines["update sent"].detail == "Rebuilding the store; back at 14:00."  # one line
    assert lines["escalated"].detail == "level 3 → 4: SLA breach"
    assert lines["handed off to the developers' tracker"].detail == "https://tracker.example/issues/7"
    assert lines["acknowledged: first answer to the reporter"].actor == BOB
    assert (lines["resolved"].actor, lines["resolved"].detail, report.resolution) == (BOB, "Replaced the disk",
                                                                                       "Replaced the disk")


@pytest.mark.parametrize("priority, answered, resolved, expected", [
    # urgent: 1 and 2 clock hours
    ("urgent", "09:20", "12:00", [("20 min", "1 hour", "met"), ("3 h 00 min", "2 hours", "missed")]),
    ("urgent", "10:01", "10:59", [("1 h 01 min", "1 hour", "missed"), ("1 h 59 min", "2 hours", "met")]),
    ("urgent", None, None, [("not yet", "1 hour", "open"), ("not yet", "2 hours", "open")]),
    # medium: 4 and 24 business hours (Monday 09:00; the working day ends at 17:00)
    ("medium", "12:59", "16:00", [("3 h 59 min", "4 business hours", "met"), ("7 h 00 min", "24 business hours", "met")]),
])
def test_durations_against_the_sla_target(settings_factory, priority, answered, resolved, expected):
    settings = settings_factory()
    row = incident(settings)
    row.priority = priority
    from gateway.schedule import sla
    from gateway.schedule.businesstime import BusinessCalendar

    sla.set_targets(row, start=utc("2026-01-05 09:00"), settings=settings,
                    cal=BusinessCalendar.from_config(settings.business))
    row.first_response_at = utc(f"2026-01-05 {answered}") if answered else None
    row.resolved_at = utc(f"2026-01-05 {resolved}") if resolved else None
    report = build(row, [], [], [], [], settings)
    assert [(t.took_text, t.target_text, t.verdict) for t in (report.acknowledge, report.resolve)] == expected


def test_people_counts_and_close_out(settings_factory):
    settings = settings_factory()
    row = incident(settings, cause_category="hardware", cause="Disk died", workaround="Webmail", incident_service="mail")
    tickets = [linked(settings, 2, "Ben@client.example"), linked(settings, 3, "ben@client.example"),
               linked(settings, 4, "cy@client.example")]
    events = [event(1, 1, "command_incident", "2026-01-05 09:10"),
              event(2, 3, "command_link", "2026-01-05 09:11", actor="alice@example.com"),
              event(3, 2, "linked_to_incident", "2026-01-05 09:12", actor="gateway"),
              event(4, 4, "message_in", "2026-01-05 09:13", actor="cy@client.example")]
    report = build(row, events, tickets, ["Spare disks", "Alerting"], ["status@example.com"], settings)
    assert report.engineers == ["alice@example.com", BOB]
    assert (report.reporters, report.tickets) == (3, 4)  # Ann, Ben (twice, in two spellings), Cy
    assert (report.service, report.cause_category, report.cause, report.workaround, report.followups,
            report.recipients) == ("mail", "hardware", "Disk died", "Webmail", ["Spare disks", "Alerting"],
                                   ["status@example.com"])


@pytest.mark.parametrize("span, text", [
    (timedelta(seconds=59), "0 min"), (timedelta(minutes=12), "12 min"), (timedelta(hours=1), "1 h 00 min"),
    (timedelta(days=2, hours=3, minutes=5, seconds=59), "2 d 3 h 05 min"), (timedelta(seconds=-5), "0 min"),
])
def test_duration_words(span, text):
    assert duration(span) == text


async def test_load_reads_the_incident_its_tickets_and_follow_ups_on_both_databases(settings_factory, any_db):
    from gateway.incident_report import load
    from gateway.store.models import FollowUp, Participant

    settings = settings_factory(incidents={"announce": ["status@example.com"]})
    async with any_db.transaction() as session:
        row = ticket(settings, utc("2026-01-05 09:00"), priority="urgent", level=3, requester="ann@client.example",
                     incident_title="Mail server down", status="resolved", resolved_at=utc("2026-01-05 10:00"))
        session.add(row)
        await session.flush()
        session.add_all([ticket(settings, utc("2026-01-05 09:05"), requester="ben@client.example", incident_id=row.id),
                         Participant(ticket_id=row.id, address="owner@client.example", role="incident_cc"),
                         FollowUp(ticket_id=row.id, text="Spare disks", actor=BOB, at=utc("2026-01-05 10:05")),
                         Event(ticket_id=row.id, kind="command_resolve", actor=BOB, at=utc("2026-01-05 10:00"),
                               data={"arg": "New disk"})])
        incident = row.id
    async with any_db.transaction() as session:
        report = await load(session, f"HD-{incident}", settings)
    assert (report.reporters, report.tickets, report.followups, report.recipients, report.engineers) == (
        2, 2, ["Spare disks"], ["status@example.com", "owner@client.example"], [BOB])
    assert (report.timeline[-1].what, report.resolve.took_text, report.resolve.verdict) == ("resolved", "1 h 00 min",
                                                                                            "met")
