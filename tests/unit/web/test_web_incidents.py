"""Incidents from the ticket page: make one, link a ticket, send an update to every reporter, unlink."""
from __future__ import annotations

from sqlalchemy import select

from gateway.store.models import Outbox, Ticket
from tests.conftest import with_mail
from tests.unit.web.test_web_tickets import ALICE, act
from tests.unit.web.webkit import client, new_ticket, sign_in, web_app, web_settings


async def state(db) -> tuple[dict[int, tuple], list[tuple[int, str, str]]]:
    async with db.sessions() as session:
        rows = await with_mail(session, list((await session.scalars(
            select(Outbox).where(Outbox.template == "customer/incident_update"))).all()))
        tickets = (await session.scalars(select(Ticket))).all()
        return ({t.id: (t.incident_title, t.incident_id) for t in tickets},
                [(r.ticket_id, r.recipient, r.raw.decode()) for r in rows])


async def test_incident_link_update_and_unlink_from_the_page(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        incident = await new_ticket(ingestor, subject="Printer jammed")
        linked = await new_ticket(ingestor, subject="Printer jammed again", sender="ann@client.example")
        async with client(app) as http:
            await sign_in(http, ALICE)
            await act(http, f"HD-{incident}", action="incident", arg="Mail server down")
            await act(http, f"HD-{linked}", action="link", arg=f"HD-{incident}")
            page = (await http.get(f"/tickets/HD-{linked}")).text
            assert f"Unlink from incident HD-{incident}" in page
            assert f'part of <a href="/tickets/HD-{incident}">HD-{incident}</a>' in page
            page = (await http.get(f"/tickets/HD-{incident}")).text
            assert "Send update" in page
            assert f'Mail server down · linked: <a href="/tickets/HD-{linked}">HD-{linked}</a>' in page
            response = await act(http, f"HD-{incident}", action="update", text="Restoring from backup.\nBack by 14:00.")
            assert "update sent to 2 reporters" in (await http.get(response.headers["location"])).text
            titles, updates = await state(db)
            assert titles == {incident: ("Mail server down", None), linked: (None, incident)}
            assert [(tid, who) for tid, who, _ in updates] == [(incident, "customer@client.example"),
                                                               (linked, "ann@client.example")]
            assert all("Back by 14:00." in raw for _, _, raw in updates)
            bad = await act(http, f"HD-{linked}", action="link", arg="HD-999")
            assert "there is no ticket HD-999" in (await http.get(bad.headers["location"])).text
            await act(http, f"HD-{linked}", action="unlink")
            titles, _ = await state(db)
            assert titles[linked] == (None, None)


async def test_close_out_from_the_page_and_the_final_report_page(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        incident = await new_ticket(ingestor, subject="Printer jammed")
        other = await new_ticket(ingestor, subject="Toner <low>", sender="ann@client.example")
        async with client(app) as http:
            await sign_in(http, ALICE)
            await act(http, f"HD-{incident}", action="incident", arg="Print server <down>")
            await act(http, f"HD-{incident}", action="cause", arg="hardware The print server's disk died")
            await act(http, f"HD-{incident}", action="followup", arg="Monitor the disk")
            await act(http, f"HD-{incident}", action="resolve", arg="New disk")
            page = (await http.get(f"/tickets/HD-{incident}")).text
            assert f'<a href="/tickets/HD-{incident}/report">final report</a>' in page and "Set cause" in page
            report = (await http.get(f"/tickets/HD-{incident}/report")).text
            assert "Final report: Print server &lt;down&gt;" in report  # escaped once, not twice
            assert "Cause category: hardware" in report and "<li>Monitor the disk</li>" in report
            assert f"declared an incident</td><td style=\"padding:2px 12px 2px 0;\">{ALICE}" in report
            missing = await http.get(f"/tickets/HD-{other}/report")
            assert missing.status_code == 404 and f"HD-{other} is not an incident" in missing.text
