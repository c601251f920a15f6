"""The customer's status page (/s/<token>): where the request stands, its public messages, a reply form."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.clock import utc
from gateway.errors import GatewayError
from gateway.mail.compose import mailbox, make_message_id
from gateway.store import status_links
from gateway.store.models import Message, Ticket
from gateway.web.deps import Deps, deps

MAX_TEXT = 100_000
log = logging.getLogger(__name__)


def form_token(secret: str, token: str) -> str:
    """The status page form's CSRF token: only a page we served knows it (no session for customers)."""
    return hmac.new(secret.encode(), f"status-form:{token}".encode(), hashlib.sha256).hexdigest()


def is_public(message: Message, ticket: Ticket, staff: frozenset[str]) -> bool:
    """Mail the customer wrote, or mail we wrote to them; never staff mail, notes or announcements."""
    if message.direction == "in":
        return message.from_addr.lower() == ticket.requester.lower() and message.auto_reason is None
    return message.source.startswith("outbox:customer/") and ticket.requester.lower() in \
        [a.lower() for a in message.to_addrs] and message.from_addr.lower() not in staff


def expectation(ticket: Ticket) -> str:
    if ticket.status == "resolved":
        return "resolved"
    if ticket.status == "pending":
        return "waiting for your answer"
    due = ticket.first_response_due if ticket.first_response_at is None else ticket.resolution_due
    what = "a first answer" if ticket.first_response_at is None else "a resolution"
    return f"{what} by {utc(due):%A %d %B %Y, %H:%M} UTC" if due is not None else "as soon as possible"


async def _found(d: Deps, token: str):
    async with d.db.sessions() as session:
        found = await status_links.find(session, token)
        if found is None:
            return None
        link, ticket = found
        messages = (await session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                                          .options(selectinload(Message.attachments)).order_by(Message.id))).all()
    public = [m for m in messages if is_public(m, ticket, d.settings.engineers)]
    return link, ticket, public, messages


def missing(d: Deps, request: Request) -> Response:
    # The same answer for an unknown, mistyped and revoked token: a token reveals nothing else.
    return d.render(request, "error.html.j2", {"title": "Not found", "text": "This link is not valid (any more)."},
                    404)


async def status_page(request: Request) -> Response:
    d, token = deps(request), request.path_params["token"]
    found = await _found(d, token)
    if found is None:
        return missing(d, request)
    _, ticket, public, _ = found
    return d.render(request, "status.html.j2", {
        "ticket": ticket, "ref": f"{d.prefix}-{ticket.id}", "level": d.settings.level(ticket.level),
        "messages": public, "expect": expectation(ticket), "form_token": form_token(request.app.state.secret, token),
        "token": token, "can_reply": ticket.requester.lower() not in d.settings.engineers})


_TYPE = re.compile(r"(application|image|audio|video|text|font|model)/([a-z0-9][a-z0-9.+-]{0,100})")


def attachment_type(declared: str) -> tuple[str, str]:
    """The browser's type for an upload if it is a plain leaf type; never multipart/* or message/*,
    whose bytes the parser would open as structure: those and anything odd become octet-stream."""
    match = _TYPE.fullmatch((declared or "").split(";")[0].strip().lower())
    return (match.group(1), match.group(2)) if match else ("application", "octet-stream")


def reply_mail(d: Deps, ticket: Ticket, thread: list[Message], text: str, upload: "Upload | None",
               reply_address: str) -> bytes:
    """The customer's reply as the mail they would have sent: from them, to their own reply address."""
    settings = d.settings
    mail = EmailMessage()
    mail["From"] = mailbox(ticket.requester, ticket.requester_name)
    mail["To"] = reply_address
    mail["Subject"] = f"Re: [{d.prefix}-{ticket.id}] {ticket.subject}"[:900]
    mail["Date"] = format_datetime(d.clock.now())
    # Not our own Message-ID domain: the loop guard would take the mail for our own outbound mail.
    mail["Message-ID"] = f"<{make_message_id('status-page.' + settings.message_id_domain)}>"
    last = next((m.message_id for m in reversed(thread) if m.message_id), None)
    if last:
        mail["In-Reply-To"] = f"<{last}>"
        mail["References"] = f"<{last}>"
    mail.set_content(text or "(attachment only)")
    if upload is not None:
        main, sub = attachment_type(upload.content_type)
        mail.add_attachment(upload.data, maintype=main, subtype=sub, filename=(upload.filename or "attachment")[:200])
    return mail.as_bytes()


async def status_reply(request: Request) -> Response:
    """The form's reply enters like a mail: through ingest, threaded onto the ticket by its reply token."""
    d, token = deps(request), request.path_params["token"]
    limit = d.settings.smtp.max_message_bytes
    length = request.headers.get("content-length", "")
    if not length.isdigit():  # browsers send it; without it the size could only be learnt by reading
        return d.render(request, "error.html.j2", {"title": "Length required", "text": "Send the form from a "
                                                   "browser."}, 411)
    if int(length) > limit:  # checked before any byte is read or spooled to disk
        return d.render(request, "error.html.j2", {"title": "Too large", "text": f"A reply with its attachment "
                                                   f"may be at most {limit:,} bytes."}, 413)
    form = await request.form(max_files=1, max_fields=5, max_part_size=limit)
    found = await _found(d, token)
    if found is None:
        return missing(d, request)
    _, ticket, _, thread = found
    if not hmac.compare_digest(str(form.get("csrf", "")), form_token(request.app.state.secret, token)):
        return d.render(request, "error.html.j2", {"title": "Refused", "text": "The form expired; reload the page "
                                                   "and try again."}, 403)
    if ticket.requester.lower() in d.settings.engineers:  # staff act from the ticket page, never as a customer
        return missing(d, request)
    now = d.clock.now()
    if d.replies.blocked([token], now):
        return d.render(request, "error.html.j2", {"title": "Too many replies", "text": "Please wait a while "
                                                   "before adding more, or reply to our mail instead."}, 429)
    text = str(form.get("text", "")).strip()[:MAX_TEXT]
    upload = form.get("file")
    data = await upload.read() if upload is not None and getattr(upload, "filename", "") else None
    if not text and not data:
        return RedirectResponse(f"/s/{token}", status_code=303)
    upload_part = Upload(upload.filename, upload.content_type or "", data) if data else None
    # Encoding an attachment of many megabytes is CPU work: off the loop that serves mail too.
    try:
        # The token the requester's own mail carries: it threads the reply, and authorises nothing.
        async with d.db.transaction() as session:
            address = await d.ingestor.notifier.reply_address(session, ticket, ticket.requester)
        raw = await asyncio.to_thread(reply_mail, d, ticket, list(thread), text, upload_part, address)
        outcome = await d.ingestor.ingest(raw, source="web", envelope_from=ticket.requester.lower(),
                                          recipients=(address,))
    except GatewayError as exc:  # the reason is for the operator's log, not for the customer's screen
        log.warning("status page reply for ticket %s not stored: %s", ticket.id, exc)
        return d.render(request, "error.html.j2", {"title": "Try again", "text": "Your reply could not be stored "
                                                   "just now; please send it again in a minute."}, 503)
    d.replies.failed([token], now)  # counted once stored: a refused or failed reply does not use one up
    d.wake()
    request.session["flash"] = "Thank you: your reply was added." if outcome.status == "stored" else \
        f"Your reply was kept ({outcome.status})."
    return RedirectResponse(f"/s/{token}", status_code=303)


@dataclass(frozen=True)
class Upload:
    """The form's file, read: what reply_mail attaches."""

    filename: str
    content_type: str
    data: bytes
