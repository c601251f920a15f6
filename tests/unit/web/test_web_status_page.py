"""The customer's status page: reached only by a live token, shows only public messages, replies via ingest."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from gateway.errors import TempFail
from gateway.store import status_links
from gateway.store.models import Message, Outbox, StatusLink
from gateway.web.customer import attachment_type
from tests.conftest import outbox_mail
from tests.unit.web.webkit import client, csrf_of, new_ticket, sign_in, web_app, web_settings


async def link_from_ack(db) -> str:
    """The status page path from the acknowledgement the customer got."""
    async with db.sessions() as session:
        raw = await outbox_mail(session, Outbox.template == "customer/ack")
    return re.search(rb"https://help\.example\.com(/s/[A-Za-z0-9_-]+)", raw).group(1).decode()


async def test_the_acknowledgement_carries_a_link_to_the_status_page(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, subject="Printer broken")
        path = await link_from_ack(db)
        assert len(path) > 3 + 30  # 192 random bits
        async with client(app) as http:
            page = await http.get(path)
    assert page.status_code == 200 and "HD-1" in page.text and "Printer broken" in page.text
    assert "a first answer by" in page.text and "Help desk front end" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_no_link_in_the_acknowledgement_while_the_web_face_is_off(settings_factory, db, clock):
    async with web_app(settings_factory(), db, clock) as (_, ingestor, _):
        await new_ticket(ingestor)
    async with db.sessions() as session:
        raw = await outbox_mail(session, Outbox.template == "customer/ack")
        assert await session.scalar(select(StatusLink.id)) is None
    assert b"/s/" not in raw and b"See where your request stands" not in raw


async def test_wrong_and_revoked_tokens_get_the_same_404(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        path = await link_from_ack(db)
        async with client(app) as http:
            assert (await http.get(path)).status_code == 200
            wrong = await http.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB"))
            assert wrong.status_code == 404
            assert (await http.get("/s/" + "x" * 500)).status_code == 404
            async with db.transaction() as session:
                assert await status_links.revoke(session, 1, now=clock.now()) == 1
            revoked = await http.get(path)
            assert revoked.status_code == 404 and revoked.text == wrong.text
            csrf = csrf_of((await http.get("/login")).text)
            assert (await http.post(path, data={"csrf": csrf, "text": "hello?"})).status_code == 404
        async with db.transaction() as session:  # a new link replaces the revoked one
            ticket = await session.get(status_links.Ticket, 1)
            fresh = await status_links.link_token(session, ticket, now=clock.now())
        assert fresh != path.removeprefix("/s/")


async def test_the_page_shows_public_messages_only(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, body="My printer is broken.")
        path = await link_from_ack(db)
        async with client(app) as http:
            await sign_in(http, "alice@example.com")
            page = await http.get("/tickets/HD-1")
            for form in ({"action": "note", "text": "Secret: the vendor owes us money."},
                         {"action": "pending", "arg": "Which floor is it on?"}):
                await http.post("/tickets/HD-1/act", data={"csrf": csrf_of(page.text), **form})
        async with client(app) as http:
            status = (await http.get(path)).text
    assert "My printer is broken." in status and "Which floor is it on?" in status
    assert "vendor owes" not in status and "announce" not in status and "New ticket" not in status
    assert "waiting for your answer" in status


async def test_a_reply_from_the_page_threads_onto_the_ticket_through_ingest(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, woken):
        await new_ticket(ingestor)
        path = await link_from_ack(db)
        async with client(app) as http:
            form_token = csrf_of((await http.get(path)).text)
            refused = await http.post(path, data={"text": "no token"})
            assert refused.status_code == 403
            sent = await http.post(path, data={"csrf": form_token, "text": "It is on floor 2."},
                                   files={"file": ("photo.png", b"\x89PNG\r\n\x1a\nfake", "image/png")})
            assert sent.status_code == 303
            after = (await http.get(path)).text
    async with db.sessions() as session:
        reply = await session.scalar(select(Message).where(Message.source == "web"))
        ticket_count = await session.scalar(select(Message.ticket_id).distinct().where(Message.direction == "in")
                                            .order_by(Message.ticket_id.desc()).limit(1))
    assert reply.ticket_id == 1 and ticket_count == 1 and reply.from_addr == "customer@client.example"
    assert reply.thread_reason.startswith("reply token") and "no token" not in after
    assert "It is on floor 2." in after and "photo.png" in after and "your reply was added" in after
    assert woken


async def test_a_reply_larger_than_a_mail_may_be_is_refused_before_it_is_read(settings_factory, db, clock):
    settings = web_settings(settings_factory)
    settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"max_message_bytes": 4096})})
    async with web_app(settings, db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        path = await link_from_ack(db)
        async with client(app) as http:
            form_token = csrf_of((await http.get(path)).text)
            response = await http.post(path, data={"csrf": form_token, "text": "see attached"},
                                       files={"file": ("big.bin", b"x" * 5000, "application/octet-stream")})
    assert response.status_code == 413 and "at most" in response.text
    async with db.sessions() as session:
        assert await session.scalar(select(Message.id).where(Message.source == "web")) is None


async def test_replies_through_one_link_are_rate_limited(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        path = await link_from_ack(db)
        app.state.deps.replies.attempts = 2
        async with client(app) as http:
            form_token = csrf_of((await http.get(path)).text)
            codes = [(await http.post(path, data={"csrf": form_token, "text": f"reply {n}"})).status_code
                     for n in range(3)]
            assert codes == [303, 303, 429]
            clock.advance(hours=1, seconds=1)
            assert (await http.post(path, data={"csrf": form_token, "text": "later"})).status_code == 303
    async with db.sessions() as session:
        assert len((await session.scalars(select(Message.id).where(Message.source == "web"))).all()) == 3


@pytest.mark.parametrize("declared, expected", [
    ("image/png", ("image", "png")), ("text/plain; charset=utf-8", ("text", "plain")),
    ("multipart/mixed; boundary=x", ("application", "octet-stream")),
    ("message/rfc822", ("application", "octet-stream")),
    ("", ("application", "octet-stream")), ("image/png\r\nX-Evil: 1", ("application", "octet-stream")),
])
def test_an_uploads_type_is_a_leaf_type_or_octet_stream(declared, expected):
    assert attachment_type(declared) == expected


async def test_a_reply_that_cannot_be_stored_now_asks_to_try_again_without_details(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        path = await link_from_ack(db)

        async def database_down(raw, **kwargs):
            raise TempFail("database postgresql://gw@db.internal/gateway unavailable")

        ingestor.ingest = database_down
        async with client(app) as http:
            form_token = csrf_of((await http.get(path)).text)
            response = await http.post(path, data={"csrf": form_token, "text": "hello"})
    assert response.status_code == 503 and "try" in response.text.lower() and "db.internal" not in response.text
