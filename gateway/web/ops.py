"""/healthz (200 or 503 with the reasons as JSON) and /metrics (Prometheus text format)."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.clock import utc
from gateway.errors import TempFail
from gateway.reports import sla_state
from gateway.store.models import (
    Counter,
    MailboxState,
    Message,
    Outbox,
    QuarantineEntry,
    Ticket,
    TrackerDelivery,
)
from gateway.store.repo import iso
from gateway.web.deps import deps


async def healthz(request: Request) -> Response:
    d = deps(request)
    now, problems, report = d.clock.now(), [], {}
    try:
        async with d.db.sessions() as session:
            await session.execute(text("SELECT 1"))
            report["outbox_pending"] = await session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))) or 0
            report["outbox_failed"] = await session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.status == "failed")) or 0
            states = {s.name: s for s in (await session.scalars(select(MailboxState))).all()}
        report["database"] = "ok"
    except Exception as exc:  # any failure to reach it is the answer, whatever its type
        report["database"] = f"unreachable: {type(exc).__name__}"
        problems.append(f"database unreachable ({type(exc).__name__}); check [database] url and the server")
        states = {}
    if report["database"] == "ok":
        await spool_health(d, now, problems, report)
    if d.smtp_up is not None:
        report["smtp_listener"] = "up" if d.smtp_up() else "down"
        if not d.smtp_up():
            problems.append("SMTP listener is not serving; see the gateway's log")
    report["mailboxes"] = {}
    for box in d.settings.mailboxes:
        state = states.get(box.name)
        failing = state.failing_since if state else None
        report["mailboxes"][box.name] = {"last_success_at": iso(state.last_success_at) if state else None,
                                         "last_error": state.last_error if state else None}
        if failing is not None and now - utc(failing) > timedelta(minutes=box.alert_after_minutes):
            problems.append(f"mailbox {box.name} failing since {utc(failing):%Y-%m-%d %H:%M} UTC: "
                            f"{state.last_error}; `gateway mailboxes check` says why")
    body = {"status": "fail" if problems else "ok", "problems": problems, **report}
    return JSONResponse(body, status_code=503 if problems else 200, headers={"Cache-Control": "no-store"})


async def spool_health(d, now, problems: list[str], report: dict) -> None:
    """The spool's depth and age; on SQLite it is a file of its own, whose trouble says what to do (TempFail)."""
    try:
        waiting = await d.db.spool.status(now)
    except TempFail as exc:
        report["spool"] = "unavailable"
        problems.append(f"spool: {exc}")
        return
    report["spool_pending"], report["spool_oldest_seconds"] = waiting.depth, waiting.oldest_pending_seconds
    bound = d.settings.spool.warn_after_seconds
    if waiting.oldest_pending_seconds is not None and waiting.oldest_pending_seconds > bound:
        problems.append(f"spool: the oldest accepted mail has waited {waiting.oldest_pending_seconds:.0f} s "
                        f"(over [spool] warn_after_seconds = {bound:g}); is serve draining? see its log")


async def _numbers(session, now) -> dict:
    by_source = (await session.execute(select(Message.source, func.count()).where(Message.direction == "in")
                                       .group_by(Message.source))).all()
    by_status = (await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all()
    outbox = (await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
    handoffs = (await session.execute(select(TrackerDelivery.status, func.count())
                                      .group_by(TrackerDelivery.status))).all()
    counters = dict((await session.execute(select(Counter.name, Counter.value).where(
        Counter.name.in_(("loop_guarded", "duplicates", "held_back"))))).all())
    quarantined = await session.scalar(select(func.count()).select_from(QuarantineEntry)
                                       .where(QuarantineEntry.status == "held")) or 0
    breached = await session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.status == "open", sla_state(now) == "breached")) or 0
    return {"by_source": by_source, "by_status": by_status, "outbox": outbox, "handoffs": handoffs,
            "counters": counters,
            "quarantined": quarantined, "breached": breached}


async def metrics(request: Request) -> Response:
    d = deps(request)
    async with d.db.sessions() as session:
        n = await _numbers(session, d.clock.now())
    n["spool"] = await d.db.spool.status(d.clock.now())
    registry = CollectorRegistry(auto_describe=False)
    gauge = lambda name, doc, labels=(): Gauge(name, doc, labels, registry=registry)  # noqa: E731
    mails = gauge("gateway_mails_in", "Mails stored, by the transport they came in by", ("source",))
    for source, count in n["by_source"]:
        mails.labels(source=(source or "unknown").split(":")[0]).inc(count)
    tickets = gauge("gateway_tickets", "Tickets by status", ("status",))
    for status, count in n["by_status"]:
        tickets.labels(status=status).set(count)
    outbox = gauge("gateway_outbox", "Outbox rows by status (pending, sending, sent, failed)", ("status",))
    for status in ("pending", "sending", "sent", "failed"):
        outbox.labels(status=status).set(dict(n["outbox"]).get(status, 0))
    handoffs = gauge("gateway_handoffs", "Hand-offs to trackers by status (pending, sending, delivered, failed)",
                     ("status",))
    for status in ("pending", "sending", "delivered", "failed"):
        handoffs.labels(status=status).set(dict(n["handoffs"]).get(status, 0))
    for name, doc in (("loop_guarded", "Mails stored but never answered (auto-replies, lists, our own)"),
                      ("duplicates", "Mails received again and stored once"),
                      ("held_back", "Automatic mails not sent (rate limit, suppression, never-answer)")):
        gauge(f"gateway_{name}_total", doc).set(n["counters"].get(name, 0))
    gauge("gateway_quarantine_held", "Mails in quarantine").set(n["quarantined"])
    gauge("gateway_sla_breached_tickets", "Open tickets past a due time now").set(n["breached"])
    gauge("gateway_spool_pending", "Mails accepted and not yet processed").set(n["spool"].depth)
    gauge("gateway_spool_oldest_seconds", "Age of the oldest accepted, unprocessed mail (0: none)").set(
        n["spool"].oldest_pending_seconds or 0)
    if d.timings is not None:
        registry.register(_TimingsCollector(d.timings))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _TimingsCollector:
    """The SMTP listener's ingest times (this process only) as a Prometheus histogram."""

    def __init__(self, timings):
        self.timings = timings

    def collect(self):
        family = HistogramMetricFamily("gateway_ingest_seconds", "From DATA received to the mail committed "
                                       "(what the sender waits for), in this process", labels=["transport"])
        for transport in sorted(self.timings.counts):
            family.add_metric([transport], self.timings.cumulative(transport), self.timings.sums[transport])
        yield family
