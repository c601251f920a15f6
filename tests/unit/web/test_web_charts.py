"""The charts page: opened and resolved per day, backlog by age, SLA met per level and priority."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from gateway.schedule.sla import BREACH_RESOLUTION
from gateway.store.models import Ticket
from tests.unit.web.webkit import client, new_ticket, sign_in, web_app, web_settings


async def test_charts_count_what_happened(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, subject="old one")  # 5 Jan
        clock.advance(days=2)
        for n in range(3):
            await new_ticket(ingestor, subject=f"new {n}")  # 7 Jan
        async with db.transaction() as session:
            # Resolved in time; its due time passes later, which must not count against it.
            await session.execute(update(Ticket).where(Ticket.id == 2).values(
                status="resolved", resolved_at=clock.now(), resolution_due=clock.now() + timedelta(minutes=30)))
            await session.execute(update(Ticket).where(Ticket.id == 3).values(sla_fired=BREACH_RESOLUTION))
        clock.advance(hours=1)
        async with client(app) as http:
            await sign_in(http, "dora")
            page = (await http.get("/charts")).text
    assert "<title>05 Jan: opened 1</title>" in page and "<title>07 Jan: opened 3</title>" in page
    assert "<title>07 Jan: resolved 1</title>" in page and "<title>06 Jan: opened 0</title>" in page
    assert "<title>&lt; 1 day: tickets 2</title>" in page and "<title>1–3 days: tickets 1</title>" in page
    # Level 1, medium: four tickets. HD-1 has waited two days for a first answer (past due now), the sweep
    # saw HD-3 breach; HD-2 (resolved) and HD-4 are within their targets.
    assert "<td>1</td><td>medium</td><td>4</td><td>2</td><td>50 %</td>" in page
