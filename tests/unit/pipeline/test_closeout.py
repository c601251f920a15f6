"""An incident's close-out by command (/cause, /workaround, /followup) and its final report to the recipient list."""
from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from gateway.mail.commands import parse_commands
from gateway.store.models import FollowUp
from tests.unit.pipeline.test_commands_step import reply
from tests.unit.pipeline.test_incidents import outage, sent  # noqa: F401  (outage is a fixture)

STATUS = "status@example.com"


def text_of(row) -> str:
    return email.message_from_bytes(row.raw, policy=policy.default).get_body(("plain",)).get_content()


@pytest.mark.parametrize("line, arg, error", [
    ("/cause Network switch in rack 4 died", "network switch in rack 4 died", None),
    ("/cause DATA", "data", None),
    ("/cause a full disk", "a full disk", None),
    ("/cause", "", "needs a category (network, hardware, software, data)"),
    ("/workaround Use webmail", "Use webmail", None),
    ("/workaround", "", "needs the text"),
    ("/followup Monitor the disk array", "Monitor the disk array", None),
    ("/followup", "", "needs the text"),
])
def test_closeout_commands_parse(line, arg, error):
    parsed = parse_commands(line)
    if error is None:
        assert [c.arg for c in parsed.commands] == [arg] and parsed.errors == []
    else:
        assert parsed.commands == [] and error in parsed.errors[0]


async def test_closeout_is_stored_before_and_after_resolve_and_follow_ups_add_up(settings_factory, db, outage):
    settings = settings_factory()
    incident, *_ = outage
    await reply(db, settings, incident, text="/incident Mail server down\n/cause hardware\n/followup Buy spare disks")
    row, _, rows = await reply(db, settings, incident, text="/resolve Replaced the disk")
    result = text_of([r for r in rows if r.template == "engineer/result"][-1])
    # The confirmation asks for what the report still lacks: the cause's text and the workaround.
    assert "/cause [network|hardware|software|data] text" in result and "/workaround text" in result
    assert "/followup text" not in result
    row, _, rows = await reply(db, settings, incident, text="/cause The disk array's controller failed\n"
                                                            "/workaround Webmail kept working\n/followup Alert on controller errors")
    assert (row.cause_category, row.cause, row.workaround) == ("hardware", "The disk array's controller failed",
                                                               "Webmail kept working")
    assert "For its final report" not in text_of([r for r in rows if r.template == "engineer/result"][-1])
    async with db.transaction() as session:
        followups = (await session.scalars(select(FollowUp.text).order_by(FollowUp.id))).all()
    assert followups == ["Buy spare disks", "Alert on controller errors"]


@pytest.mark.parametrize("text, error", [
    ("/cause network", "is not an incident; make it one with /incident"),
    ("/workaround Use webmail", "is not an incident; make it one with /incident"),
    ("/followup Check it", "its incident HD-1 takes the close-out"),
])
async def test_closeout_on_a_plain_ticket_changes_nothing_and_says_why(settings_factory, db, outage, text, error):
    settings = settings_factory()
    incident, linked, *_ = outage
    await reply(db, settings, incident, text="/incident")
    if "its incident" in error:
        await reply(db, settings, linked, text=f"/link HD-{incident}")
    row, events, _ = await reply(db, settings, linked, text=text)
    assert error in [e for e in events if e.kind == "commands_failed"][-1].data["errors"][0]
    assert (row.cause_category, row.workaround) == (None, None)


async def test_closeout_lines_from_a_non_engineer_do_nothing(settings_factory, db, outage):
    settings = settings_factory(incidents={"announce": [STATUS]})
    incident, *_ = outage
    await reply(db, settings, incident, text="/incident Mail down")
    await reply(db, settings, incident, text="/resolve Fixed")
    row, events, rows = await reply(db, settings, incident, sender="mallory@client.example", token="customer",
                                    text="/cause data\n/workaround None\n/followup Fire the admins")
    assert (row.cause_category, row.workaround) == (None, None)
    assert [e.data["lines"] for e in events if e.kind == "commands_refused"] == [
        ["/cause data", "/workaround None", "/followup Fire the admins"]]
    assert sent(rows, "stakeholder/final_report_updated") == []
    async with db.transaction() as session:
        assert (await session.scalars(select(FollowUp))).all() == []


async def test_the_list_gets_the_report_once_at_close_and_again_when_the_cause_comes_later(settings_factory, db, outage):
    settings = settings_factory(incidents={"announce": [STATUS]})
    incident, ann, ben, _ = outage
    await reply(db, settings, incident, text="/incident Mail server down\n/cc owner@client.example")
    for tid in (ann, ben):
        await reply(db, settings, tid, text=f"/link HD-{incident}")
    _, _, rows = await reply(db, settings, incident, text="/resolve Replaced the disk\n/cause hardware A disk died")
    closed = [r for r in rows if r.template == "stakeholder/incident_resolved"]
    assert [r.recipient for r in closed] == [STATUS, "owner@client.example"]
    report = text_of(closed[0])
    assert "# Final report: Mail server down (HD-1)" in report
    assert "- Reporters: 3, on 3 tickets" in report  # Ann wrote once on the linked tickets, the boss on HD-1
    assert "- Cause category: hardware" in report and "- Root cause: A disk died" in report  # same mail, later line
    assert "resolved (alice@example.com): Replaced the disk" in report
    assert "2 on the recipient list told, with the final report" in text_of(
        [r for r in rows if r.template == "engineer/result"][-1])
    last = rows[-1].id
    _, _, rows = await reply(db, settings, incident, text="/workaround Webmail\n/followup Spare disks on site")
    again = [r for r in rows if r.id > last and r.template == "stakeholder/final_report_updated"]
    assert [r.recipient for r in again] == [STATUS, "owner@client.example"]  # one mail each for the two lines
    assert "1. Spare disks on site" in text_of(again[0]) and "- Workaround: Webmail" in text_of(again[0])
    last = rows[-1].id
    _, _, rows = await reply(db, settings, incident, text="/note looked at the logs again")
    assert [r.template for r in rows if r.id > last] == ["engineer/result"]  # nothing new for the list
