"""/duplicate HD-n: links the two tickets, resolves this one and tells its customer; bad targets are errors."""
from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from gateway.mail.commands import parse_commands
from gateway.store.models import Event
from tests.unit.pipeline.test_commands_step import reply
from tests.unit.schedule.helpers import ticket, utc


@pytest.mark.parametrize("line, arg", [("/duplicate HD-3", "3"), ("/duplicate [hd-12]", "12"), ("/duplicate 7", "7")])
def test_duplicate_takes_a_ticket_reference(line, arg):
    parsed = parse_commands(line)
    assert [(c.name, c.arg) for c in parsed.commands] == [("duplicate", arg)] and parsed.errors == []


@pytest.mark.parametrize("line", ["/duplicate", "/duplicate the printer one"])
def test_duplicate_without_a_reference_is_an_error(line):
    assert parse_commands(line).errors[0].startswith("line 1: /duplicate needs a ticket reference")


@pytest.fixture
async def two(settings_factory, db) -> tuple[int, int]:
    async with db.transaction() as session:
        rows = [ticket(settings_factory(), utc("2026-01-05 09:00")) for _ in range(2)]
        session.add_all(rows)
        await session.flush()
        return rows[0].id, rows[1].id


async def test_duplicate_links_resolves_and_tells_the_customer(settings_factory, db, two):
    first, second = two
    row, events, rows = await reply(db, settings_factory(), second, text=f"/duplicate HD-{first}")
    assert row.status == "resolved" and row.linked_ticket_id == first
    assert [e.kind for e in events if e.kind.startswith("command_")] == ["command_duplicate"]
    to_customer = [r for r in rows if r.template == "customer/duplicate"]
    assert len(to_customer) == 1 and to_customer[0].recipient == row.requester
    mail = email.message_from_bytes(to_customer[0].raw, policy=policy.default)
    assert f"The same problem as HD-{first}" in mail["Subject"]
    assert f"the same problem as ticket HD-{first}" in mail.get_body(("plain",)).get_content()
    async with db.transaction() as session:
        linked = (await session.scalars(select(Event).where(Event.ticket_id == first))).all()
    assert [(e.kind, e.data["ticket"]) for e in linked] == [("duplicate_linked", second)]


@pytest.mark.parametrize("target, error", [("HD-999", "there is no ticket HD-999"),
                                           ("self", "cannot be a duplicate of itself")])
async def test_a_bad_target_changes_nothing_and_says_why(settings_factory, db, two, target, error):
    _, second = two
    target = f"HD-{second}" if target == "self" else target
    row, events, rows = await reply(db, settings_factory(), second, text=f"/duplicate {target}")
    assert row.status == "open" and row.linked_ticket_id is None
    failed = next(e for e in events if e.kind == "commands_failed")
    assert error in failed.data["errors"][0]
    assert [r.template for r in rows] == ["engineer/error"]
