"""Ask trackers that send us no webhook whether our issues are closed (Mantis; any tracker without secret_env)."""
from __future__ import annotations

import logging

from sqlalchemy import select

from gateway.config_trackers import TrackerConfig
from gateway.handoff.http import Keys, TransportError
from gateway.handoff.inbound import Closed, mark_closed
from gateway.handoff.trackers import adapter_for
from gateway.store.models import Ticket, TrackerDelivery

log = logging.getLogger(__name__)
BATCH = 200  # issues asked about per round; the oldest first, the rest next round


def polled(tracker: TrackerConfig) -> bool:
    """Mantis sends no webhooks; GitHub, GitLab and Jira hooks need secret_env to be believed."""
    return tracker.kind == "mantis" or (tracker.kind != "webhook" and not tracker.secret_env)


async def poll_closed(*, settings, db, clock, keys: dict[str, Keys], transport, notifier) -> int:
    """One round: ask about each delivered issue of a polled tracker not yet closed; returns how many closed."""
    trackers = {t.name: t for t in settings.trackers if polled(t)}
    if not trackers:
        return 0
    async with db.transaction() as session:
        rows = (await session.execute(
            select(TrackerDelivery.tracker, TrackerDelivery.issue_ref)
            .join(Ticket, Ticket.id == TrackerDelivery.ticket_id)
            .where(TrackerDelivery.status == "delivered", TrackerDelivery.tracker.in_(list(trackers)),
                   TrackerDelivery.issue_ref.is_not(None), Ticket.tracker_closed_at.is_(None))
            .order_by(TrackerDelivery.id).limit(BATCH))).all()
    closed = []
    for name, ref in rows:
        adapter = adapter_for(trackers[name], keys.get(name, Keys()))
        request = adapter.status(ref)
        try:
            reply = await transport.send(request)
            if reply.ok and adapter.is_closed(reply):
                closed.append((name, ref))
            elif not reply.ok:
                log.warning("handoff poll: %s answered %d: %s", request.line, reply.status, reply.excerpt(200))
        except (TransportError, ValueError) as exc:
            log.warning("handoff poll: %s: %s", request.line, exc)
    for name, ref in closed:
        async with db.transaction() as session:
            await mark_closed(session, tracker=trackers[name], closed=Closed(ref=ref), now=clock.now(),
                              notifier=notifier)
    return len(closed)
