"""The caps on automatic mail: the hour of everyone's counted once per transaction, rows queued together
written together, and the caps still exact."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from gateway.notify.outbox import Notice, Notifier
from gateway.notify.render import Renderer
from gateway.store.db import savepoint
from gateway.store.models import Outbox
from tests.unit.notify.test_notify_outbox import CONTEXT, add_ticket

ACK = {"level": None, "status_url": "", "missing": []}


@pytest.fixture
def notifier(settings_factory, clock):
    return Notifier(settings=settings_factory(loopguard={"max_auto_mail_per_hour": 3}), clock=clock,
                    renderer=Renderer())


async def ack(session, notifier, ticket, address: str) -> list[Outbox]:
    return await notifier.enqueue(session, ticket=ticket, template="customer/ack", recipients=[address],
                                  context=ACK, automatic=True)


async def stored(db) -> list[str]:
    async with db.transaction() as session:
        return list((await session.scalars(select(Outbox.recipient).order_by(Outbox.id))).all())


async def test_the_hours_automatic_mail_is_counted_once_per_transaction(any_db, notifier, clock):
    ticket = await add_ticket(any_db, clock)
    everyone = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "(SELECT count(*)" in statement:  # the subquery over all automatic mail of the hour
            everyone.append(statement)

    event.listen(any_db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with any_db.transaction() as session:
            for n in range(2):
                await ack(session, notifier, ticket, f"c{n}@customer.example")
        async with any_db.transaction() as session:
            await ack(session, notifier, ticket, "c2@customer.example")
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", count)
    assert len(everyone) == 2  # once in each transaction
    assert await stored(any_db) == ["c0@customer.example", "c1@customer.example", "c2@customer.example"]


async def test_the_global_cap_counts_what_this_transaction_and_earlier_ones_queued(any_db, notifier, clock):
    ticket = await add_ticket(any_db, clock)
    async with any_db.transaction() as session:
        await ack(session, notifier, ticket, "early@customer.example")
    async with any_db.transaction() as session:
        made = [await ack(session, notifier, ticket, f"c{n}@customer.example") for n in range(4)]
    assert [len(rows) for rows in made] == [1, 1, 0, 0]  # cap 3: one before, two now
    assert await stored(any_db) == ["early@customer.example", "c0@customer.example", "c1@customer.example"]


async def test_mail_a_savepoint_took_back_no_longer_counts_against_the_global_cap(any_db, notifier, clock):
    """The tally still holds the rows taken back: at the cap it reads the hour again, so the cap stays exact."""
    ticket = await add_ticket(any_db, clock)
    async with any_db.transaction() as session:
        await ack(session, notifier, ticket, "a@customer.example")
        with pytest.raises(RuntimeError):
            async with savepoint(session):
                await ack(session, notifier, ticket, "b@customer.example")
                await ack(session, notifier, ticket, "c@customer.example")
                raise RuntimeError("this mail failed after its acknowledgements")
        assert [len(await ack(session, notifier, ticket, f"{n}@customer.example")) for n in "def"] == [1, 1, 0]
        assert await session.scalar(select(func.count()).select_from(Outbox)) == 3
    assert await stored(any_db) == ["a@customer.example", "d@customer.example", "e@customer.example"]


async def test_notices_queued_together_are_written_together(any_db, notifier, clock):
    """A new ticket's acknowledgement and announcement: one INSERT per table for both."""
    ticket = await add_ticket(any_db, clock)
    inserts = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(")[0].split()[-1].strip('"'))

    announce = {"level": notifier.settings.level(1), "message": CONTEXT["message"], "reasons": []}
    event.listen(any_db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with any_db.transaction() as session:
            made = await notifier.enqueue_all(session, ticket=ticket, notices=[
                Notice("customer/ack", ["bob@customer.example"], ACK, automatic=True),
                Notice("level/announce", ["a@staff.example", "b@staff.example"], announce, automatic=False)])
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", count)
    assert inserts == ["messages", "outbox"]
    assert [(r.template, r.recipient) for r in made] == [
        ("customer/ack", "bob@customer.example"), ("level/announce", "a@staff.example"),
        ("level/announce", "b@staff.example")]
    assert [r.id for r in made] == sorted(r.id for r in made)
    assert await stored(any_db) == ["bob@customer.example", "a@staff.example", "b@staff.example"]


async def test_rows_queued_together_count_against_the_caps_of_the_next_automatic_notice(
        any_db, settings_factory, clock):
    notifier = Notifier(settings=settings_factory(loopguard={"max_auto_replies_per_hour": 1}), clock=clock,
                        renderer=Renderer())
    ticket = await add_ticket(any_db, clock)
    async with any_db.transaction() as session:
        made = await notifier.enqueue_all(session, ticket=ticket, notices=[
            Notice("customer/ack", ["bob@customer.example"], ACK, automatic=True),
            Notice("customer/ack", ["Bob@customer.example", "ann@customer.example"], ACK, automatic=True)])
    assert [r.recipient for r in made] == ["bob@customer.example", "ann@customer.example"]
