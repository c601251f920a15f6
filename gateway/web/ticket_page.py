"""One ticket for staff: its timeline, its attachments, and the actions an engineer may take."""
from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from markupsafe import Markup

from gateway import incident_report, tickets
from gateway.clock import utc
from gateway.config_web import WebUser
from gateway.errors import GatewayError, NotFound, UsageError
from gateway.mail.commands import CATEGORIES, PRIORITIES, parse_commands
from gateway.schedule import sla
from gateway.store.blobs import get_blob
from gateway.store.models import Attachment, Event, Message, Ticket
from gateway.store.repo import parse_ref
from gateway.web.auth import csrf_ok, may_act
from gateway.web.deps import Deps, flash, staff

# What the page offers; "help" is a mail thing (the page itself shows what can be done).
ACTIONS = ("assign", "escalate", "priority", "category", "pending", "resolve", "reopen", "note",
           "incident", "link", "unlink", "update", "cause", "workaround", "followup", "handoff")
# Types a browser may be handed as they are; anything else (HTML, SVG, scripts) goes as octet-stream.
SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                        "text/csv", "application/zip", "application/json"})


def not_found(d: Deps, request: Request, what: str) -> HTMLResponse:
    return d.render(request, "error.html.j2", {"title": "Not found", "text": what}, 404)


def number_of(ref: str, prefix: str) -> int | None:
    try:
        return parse_ref(ref, prefix)
    except UsageError:
        return None


async def load(session, d: Deps, ref: str) -> Ticket | None:
    number = number_of(ref, d.prefix)
    if number is None:
        return None
    return await session.scalar(select(Ticket).where(Ticket.id == number)
                                .options(selectinload(Ticket.messages).selectinload(Message.attachments)))


def timeline(ticket: Ticket, events: list[Event]) -> list[dict]:
    """Messages and events in the order they happened (messages first at the same moment)."""
    items = [{"at": utc(m.created_at), "order": (0, m.id), "message": m} for m in ticket.messages]
    items += [{"at": utc(e.at), "order": (1, e.id), "event": e} for e in events]
    return sorted(items, key=lambda item: (item["at"], item["order"]))


@staff
async def ticket_page(request: Request, d: Deps, user: WebUser) -> Response:
    async with d.db.sessions() as session:
        ticket = await load(session, d, request.path_params["ref"])
        if ticket is None:
            return not_found(d, request, f"There is no ticket {request.path_params['ref']}.")
        events = list((await session.scalars(select(Event).where(Event.ticket_id == ticket.id)
                                             .order_by(Event.id))).all())
        linked = (await session.scalars(select(Ticket.id).where(Ticket.incident_id == ticket.id)
                                        .order_by(Ticket.id))).all() if ticket.incident_title is not None else []
    return d.render(request, "ticket.html.j2", {
        "ticket": ticket, "ref": f"{d.prefix}-{ticket.id}", "timeline": timeline(ticket, events),
        "can_act": may_act(user, ticket.level), "actions": ACTIONS, "levels": d.settings.levels,
        "priorities": PRIORITIES, "categories": CATEGORIES, "engineers": sorted(d.settings.engineers),
        "linked_tickets": list(linked), "trackers": [t.name for t in d.settings.trackers]})


@staff
async def report_page(request: Request, d: Deps, user: WebUser) -> Response:
    """An incident's final report, the same fragment the report mail and `gateway report --format html` show."""
    async with d.db.sessions() as session:
        try:
            report = await incident_report.load(session, request.path_params["ref"], d.settings)
        except (NotFound, UsageError) as exc:
            return not_found(d, request, str(exc))
    # Escaped by the notify renderer (an .html.j2 template), so it goes into the page as it is.
    fragment = Markup(d.ingestor.notifier.renderer.render_file(
        "report/incident.html.j2", {"report": report, "helpdesk": d.settings.helpdesk, "ref": report.ref}))
    return d.render(request, "report.html.j2", {"ref": report.ref, "report_html": fragment})


@staff
async def attachment(request: Request, d: Deps, user: WebUser) -> Response:
    """The attachment's bytes, always as a download and never as a type the browser would run."""
    async with d.db.sessions() as session:
        ticket_id = number_of(request.path_params["ref"], d.prefix) or 0
        row = (await session.execute(
            select(Attachment).join(Message, Message.id == Attachment.message_id)
            .where(Attachment.id == request.path_params["id"], Message.ticket_id == ticket_id))).scalar()
        data = await get_blob(session, row.sha256) if row is not None else None
    if data is None:
        return not_found(d, request, "No such attachment on this ticket.")
    kind = row.content_type.lower() if row.content_type.lower() in SAFE_TYPES else "application/octet-stream"
    name = (row.filename or "attachment").replace("\r", " ").replace("\n", " ")
    return Response(data, media_type=kind, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"})


def command_text(form) -> tuple[str, str, str]:
    """(command line, text after it, note for the new level) from the action form.

    Unlike a command mail, whose text after the commands goes to the customer, the form's text
    field is for staff only: an internal note's text, or the escalation's word to the new level;
    except an incident's update, whose text goes to every reporter.
    """
    name, text = str(form.get("action", "")), str(form.get("text", "")).strip()
    arg = " ".join(str(form.get("arg", "")).split())  # one line: a line break would start a second command
    if name == "note" and not arg:
        arg = " ".join(text.split())[:500]  # the audit line; the whole text is kept as the note's text
    return f"/{name} {arg}".strip(), text if name in ("note", "update") else "", text if name == "escalate" else ""


@staff
async def act(request: Request, d: Deps, user: WebUser) -> Response:
    """One action from the page, through the same lifecycle functions as a command mail."""
    form = await request.form(max_files=0, max_fields=10, max_part_size=64 * 1024)
    ref = request.path_params["ref"]
    if not csrf_ok(request, form.get("csrf")):
        return d.render(request, "error.html.j2", {"title": "Refused", "text": "The form expired or did not come "
                                                   "from this site; reload the page and try again."}, 403)
    if str(form.get("action", "")) not in ACTIONS:
        return d.render(request, "error.html.j2", {"title": "Refused", "text": "Unknown action."}, 400)
    line, text, note = command_text(form)
    parsed = parse_commands(line)
    parsed.rest = text
    try:
        async with d.db.transaction() as session:
            ticket = await load(session, d, ref)
            if ticket is None:
                return not_found(d, request, f"There is no ticket {ref}.")
            if not may_act(user, ticket.level):
                return d.render(request, "error.html.j2", {"title": "Not allowed", "text": f"{user.name} may not act "
                                                           f"on tickets at level {ticket.level}."}, 403)
            change = tickets.Acting(session=session, ticket=ticket, settings=d.settings, notifier=d.ingestor.notifier,
                                    actor=user.actor, now=d.clock.now(), cal=tickets.calendar_for(ticket, d.settings),
                                    note=note, rest=parsed.rest)
            errors = [*parsed.errors, *tickets.problems(change, parsed.commands),
                      *await tickets.missing_tickets(change, parsed.commands)]
            page = f"/tickets/{change.ref}"
            if errors:
                flash(request, "Not done: " + "; ".join(e.split(": ", 1)[-1] for e in errors))
                return RedirectResponse(page, status_code=303)
            changes = await tickets.carry_out(change, parsed)
            sla.schedule_check(ticket, settings=d.settings, cal=change.cal)
    except GatewayError as exc:
        return d.render(request, "error.html.j2", {"title": "Try again", "text": str(exc)}, 503)
    d.wake()
    flash(request, "; ".join(changes))
    return RedirectResponse(page, status_code=303)
