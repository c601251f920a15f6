"""The web face's own SQL (board search, SLA state, status links, the stored secret) on SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import select

from gateway.store.models import Message, Outbox
from gateway.web.app import session_secret
from tests.conftest import outbox_mail
from tests.unit.web.webkit import client, csrf_of, new_ticket, sign_in, web_app, web_settings


async def test_board_status_page_and_secret(settings_factory, any_db, clock):
    settings = web_settings(settings_factory)
    async with web_app(settings, any_db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, subject="Printer 50%_off")
        await new_ticket(ingestor, subject="Server down, nobody can work")
        clock.advance(hours=2)
        async with client(app) as http:
            await sign_in(http, "dora")
            board = (await http.get("/", params={"q": "50%_"})).text
            assert re.findall(r'data-ref="([^"]+)"', board) == ["HD-1"]
            full = (await http.get("/")).text
            assert re.findall(r'data-ref="([^"]+)"', full) == ["HD-2", "HD-1"] and "sla-breached" in full
            assert 'gateway_sla_breached_tickets 1.0' in (await http.get("/metrics")).text
        async with any_db.sessions() as session:
            raw = await outbox_mail(session, Outbox.template == "customer/ack")
        path = re.search(rb"(/s/[A-Za-z0-9_-]+)", raw).group(1).decode()
        async with client(app) as http:
            token = csrf_of((await http.get(path)).text)
            assert (await http.post(path, data={"csrf": token, "text": "Any news?"})).status_code == 303
        async with any_db.sessions() as session:
            assert await session.scalar(select(Message.ticket_id).where(Message.source == "web")) == 1
    # Every instance on one database signs cookies with the same generated key.
    assert await session_secret(settings, any_db, clock.now()) == app.state.secret
