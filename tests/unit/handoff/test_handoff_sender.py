"""The hand-off sender: claim under a lease, find before create, log every request, back off, never lose one."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.handoff.http import Keys, Reply, TransportError
from gateway.handoff.queue import hand_off
from gateway.handoff.send import TrackerSender
from gateway.notify.outbox import Notifier
from gateway.notify.render import Renderer
from gateway.store.models import Event, Outbox, Ticket, TrackerAttempt, TrackerDelivery
from tests.conftest import with_mail
from tests.unit.schedule.helpers import ticket

GITLAB = {"name": "gl", "kind": "gitlab", "url": "https://gitlab.example.com", "project": "8", "token_env": "T"}
HOOK = {"name": "hook", "kind": "webhook", "url": "https://hooks.example.com/in", "secret_env": "S"}


class Script:
    """A transport answering from a list: a Reply, or an exception to raise; records every request."""

    def __init__(self, *answers):
        self.answers, self.requests = list(answers), []

    async def send(self, request):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def created(iid: int = 14) -> Reply:
    return Reply(status=201, body=b'{"iid": %d, "web_url": "https://gitlab.example.com/acme/portal/-/issues/%d"}'
                 % (iid, iid))


@pytest.fixture
def settings(settings_factory):
    return settings_factory(trackers=[GITLAB, HOOK], handoff={"backoff_seconds": 30, "backoff_max_seconds": 1200})


async def queued(db, settings, clock, tracker="gl") -> int:
    async with db.transaction() as session:
        row = ticket(settings, clock.now(), level=1)
        session.add(row)
        await session.flush()
        await hand_off(session, ticket=row, tracker=settings.tracker(tracker), actor="alice@example.com",
                       now=clock.now(), settings=settings, renderer=Renderer(), why="test")
        return row.id


def sender(settings, db, clock, transport) -> TrackerSender:
    return TrackerSender(settings=settings, db=db, clock=clock, keys={"gl": Keys(token="t"), "hook": Keys(secret="s")},
                         notifier=Notifier(settings=settings, clock=clock, renderer=Renderer()), transport=transport,
                         rng=random.Random(1))


async def rows(db, model):
    async with db.transaction() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def test_found_by_key_is_not_created_again(db, settings, clock):
    await queued(db, settings, clock)
    [row] = await rows(db, TrackerDelivery)
    hit = Reply(status=200, body=b'[{"iid": 6, "web_url": "https://gitlab.example.com/acme/portal/-/issues/6", '
                                 b'"description": "... key: %s"}]' % row.idempotency_key.encode())
    transport = Script(hit)
    assert await sender(settings, db, clock, transport).drain_once() == {"delivered": 1, "retried": 0, "failed": 0}
    assert [r.method for r in transport.requests] == ["GET"]  # no POST: the issue a crash left is the one
    [done] = await rows(db, TrackerDelivery)
    assert (done.status, done.issue_ref) == ("delivered", "6")


async def test_retried_with_backoff_at_least_ten_times_over_two_hours_then_failed_and_recorded(db, settings, clock):
    tid = await queued(db, settings, clock, tracker="hook")
    transport = Script(*[Reply(status=503, body=b"busy")] * 12)
    send = sender(settings, db, clock, transport)
    started, waits = clock.now(), []
    for _ in range(settings.handoff.max_attempts):
        result = await send.drain_once()
        assert await send.drain_once() == {"delivered": 0, "retried": 0, "failed": 0}  # not due yet
        [row] = await rows(db, TrackerDelivery)
        if row.status == "failed":
            break
        waits.append(row.next_attempt_at.replace(tzinfo=clock.now().tzinfo) - clock.now())
        clock.at = row.next_attempt_at.replace(tzinfo=clock.now().tzinfo)
    assert result["failed"] == 1 and len(transport.requests) == settings.handoff.max_attempts >= 10
    assert clock.now() - started >= timedelta(hours=1, minutes=45)  # about two hours of trying
    assert all(later >= earlier * 0.6 for earlier, later in zip(waits, waits[1:]))  # growing, up to the cap
    attempts = await rows(db, TrackerAttempt)
    assert [a.status_code for a in attempts] == [503] * 12 and attempts[0].response == "busy"
    kinds = [e.kind for e in await rows(db, Event) if e.ticket_id == tid]
    assert kinds == ["handoff_queued", "handoff_failed"]


async def test_a_refused_request_fails_at_once_and_no_answer_is_retried(db, settings, clock):
    await queued(db, settings, clock, tracker="hook")
    await queued(db, settings, clock, tracker="hook")
    transport = Script(Reply(status=422, body=b'{"error": "bad field"}'), TransportError("refused"))
    assert await sender(settings, db, clock, transport).drain_once() == {"delivered": 0, "retried": 1, "failed": 1}
    first, second = await rows(db, TrackerDelivery)
    assert (first.status, second.status) == ("failed", "pending")
    assert "422" in first.last_error and second.last_error == "refused"
    assert [a.error for a in await rows(db, TrackerAttempt)][1] == "refused"


async def test_a_dead_senders_claim_is_taken_again_after_its_lease(db, settings, clock):
    await queued(db, settings, clock)
    async with db.transaction() as session:  # as a sender that claimed it and died (kill -9) leaves it
        await session.execute(update(TrackerDelivery).values(
            status="sending", lease_until=clock.now() + timedelta(seconds=settings.handoff.lease_seconds)))
    idle = Script()
    assert await sender(settings, db, clock, idle).drain_once() == {"delivered": 0, "retried": 0, "failed": 0}
    assert idle.requests == []  # leased: nobody else takes it
    clock.advance(seconds=settings.handoff.lease_seconds + 1)
    transport = Script(Reply(status=200, body=b"[]"), created())
    assert await sender(settings, db, clock, transport).drain_once() == {"delivered": 1, "retried": 0, "failed": 0}
    [done] = await rows(db, TrackerDelivery)
    assert done.issue_url == "https://gitlab.example.com/acme/portal/-/issues/14"


async def test_delivered_issue_goes_on_the_ticket_and_to_the_level_and_the_engineer(db, settings, clock):
    tid = await queued(db, settings, clock)
    await sender(settings, db, clock, Script(Reply(status=200, body=b"[]"), created())).drain_once()
    [row] = await rows(db, Ticket)
    assert row.tracker_issue_url == "https://gitlab.example.com/acme/portal/-/issues/14"
    async with db.transaction() as session:
        mails = await with_mail(session, list((await session.scalars(select(Outbox).order_by(Outbox.id))).all()))
    assert {m.recipient for m in mails} == {"frontdesk@example.com", "alice@example.com"}
    assert all(m.template == "level/handed_off" and b"/issues/14" in m.raw for m in mails)
    assert [e.kind for e in await rows(db, Event) if e.ticket_id == tid] == ["handoff_queued", "handed_off"]


async def test_an_issue_address_that_is_no_web_address_is_not_kept(db, settings, clock):
    await queued(db, settings, clock, tracker="hook")
    answer = Reply(status=201, body=b'{"url": "javascript:alert(1)", "id": 5}')
    await sender(settings, db, clock, Script(answer)).drain_once()
    [row] = await rows(db, TrackerDelivery)
    assert (row.status, row.issue_url, row.issue_ref) == ("delivered", None, "5")


async def test_trackers_without_hooks_are_asked_and_a_closed_issue_tells_the_customer_once(db, settings_factory, clock):
    from gateway.handoff.poll import poll_closed

    mantis = {"name": "mantis", "kind": "mantis", "url": "https://mantis.example.com", "project": "3", "token_env": "T"}
    hooked = {**GITLAB, "name": "hooked", "secret_env": "S"}  # hears by webhook: never asked
    settings = settings_factory(trackers=[mantis, hooked])
    for tracker in ("mantis", "mantis", "hooked"):
        await queued(db, settings, clock, tracker=tracker)
    async with db.transaction() as session:
        for n, row in enumerate((await session.scalars(select(TrackerDelivery).order_by(TrackerDelivery.id))).all()):
            row.status, row.issue_ref = "delivered", str(40 + n)
    closed = Reply(status=200, body=b'{"issues": [{"id": 40, "status": {"name": "resolved"}}]}')
    still = Reply(status=200, body=b'{"issues": [{"id": 41, "status": {"name": "assigned"}}]}')
    transport = Script(closed, still)
    notifier = Notifier(settings=settings, clock=clock, renderer=Renderer())
    args = dict(settings=settings, db=db, clock=clock, keys={"mantis": Keys(token="m")}, notifier=notifier)
    assert await poll_closed(transport=transport, **args) == 1
    assert [r.url for r in transport.requests] == ["https://mantis.example.com/api/rest/issues/40",
                                                   "https://mantis.example.com/api/rest/issues/41"]
    again = Script(still)  # the closed one is not asked about again
    assert await poll_closed(transport=again, **args) == 0 and len(again.requests) == 1
    told = [r for r in await rows(db, Outbox) if r.template == "customer/tracker_closed"]
    assert len(told) == 1 and told[0].recipient == "customer@client.example"


async def test_an_answer_of_another_shape_is_a_failed_try_not_a_stuck_row(db, settings, clock):
    await queued(db, settings, clock)
    transport = Script(Reply(status=200, body=b'["not an issue"]'))
    assert await sender(settings, db, clock, transport).drain_once() == {"delivered": 0, "retried": 1, "failed": 0}
    [row] = await rows(db, TrackerDelivery)
    assert row.status == "pending" and "unexpected shape" in row.last_error


class Slow(Script):
    """Answers every create with a new issue, after a pause: two senders overlap in time."""

    async def send(self, request):
        import asyncio

        self.requests.append(request)
        await asyncio.sleep(0.05)
        return Reply(status=200, body=b"[]") if request.method == "GET" else created(len(self.requests))


async def test_two_senders_on_one_database_try_each_delivery_once(any_db, settings, clock):
    import asyncio

    for _ in range(6):
        await queued(any_db, settings, clock)
    first, second = Slow(), Slow()
    results = await asyncio.gather(sender(settings, any_db, clock, first).drain_once(),
                                   sender(settings, any_db, clock, second).drain_once())
    assert sum(r["delivered"] for r in results) == 6
    posts = [r for r in first.requests + second.requests if r.method == "POST"]
    assert len(posts) == 6  # no delivery claimed by both
    assert {d.status for d in await rows(any_db, TrackerDelivery)} == {"delivered"}
