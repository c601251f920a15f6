"""The ticket page: actions take the mail commands' path (same events, same outbox mail), safe attachments."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.store.models import Attachment, Event, Message, Outbox, Ticket
from tests.unit.web.webkit import client, csrf_of, mail, new_ticket, sign_in, web_app, web_settings

ALICE = "alice@example.com"


async def act(http, ref: str, **form):
    page = await http.get(f"/tickets/{ref}")
    return await http.post(f"/tickets/{ref}/act", data={"csrf": csrf_of(page.text), **form})


async def trail(db, ticket_id: int, since_event: int = 0, since_outbox: int = 0):
    """(event kinds with actor and data, outbox (template, recipient)) after the given ids."""
    async with db.sessions() as session:
        events = (await session.scalars(select(Event).where(Event.ticket_id == ticket_id, Event.id > since_event)
                                        .order_by(Event.id))).all()
        rows = (await session.scalars(select(Outbox).where(Outbox.ticket_id == ticket_id, Outbox.id > since_outbox)
                                      .order_by(Outbox.id))).all()
        return ([(e.kind, e.actor, {k: v for k, v in e.data.items() if k != "line"}) for e in events],
                [(r.template, r.recipient) for r in rows])


async def command_mail(ingestor, ticket_id: int, text: str):
    """An engineer's command reply to the level's announcement, sent to its reply-token address as mail clients do."""
    async with ingestor.db.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        level_list = ingestor.settings.level(ticket.level).recipients[0]
        to = await ingestor.notifier.reply_address(session, ticket, level_list)
    raw = mail(sender=ALICE, subject="Re: x", body=text).replace(b"To: ihelp@example.com", f"To: {to}".encode())
    outcome = await ingestor.ingest(raw, source="smtp", envelope_from=ALICE, recipients=(to,))
    assert outcome.status == "stored" and outcome.ticket_id == ticket_id


async def last_ids(db):
    async with db.sessions() as session:
        return (await session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0,
                await session.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1)) or 0)


@pytest.mark.parametrize("line, form", [
    ("/escalate 3", {"action": "escalate", "arg": "3"}),
    ("/resolve Replaced the toner.", {"action": "resolve", "arg": "Replaced the toner."}),
    ("/priority urgent", {"action": "priority", "arg": "urgent"}),
    ("/assign me", {"action": "assign", "arg": "me"}),
    ("/pending Which printer?", {"action": "pending", "arg": "Which printer?"}),
])
async def test_a_page_action_leaves_the_same_trail_as_the_mail_command(settings_factory, db, clock, line, form):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, woken):
        by_mail, by_web = await new_ticket(ingestor), await new_ticket(ingestor, subject="Scanner broken")
        before = await last_ids(db)
        await command_mail(ingestor, by_mail, line)
        mail_events, mail_rows = await trail(db, by_mail, *before)
        async with client(app) as http:
            await sign_in(http, ALICE)
            response = await act(http, f"HD-{by_web}", **form)
            assert response.status_code == 303
            assert "Not done" not in (await http.get(response.headers["location"])).text
        web_events, web_rows = await trail(db, by_web, *before)
    # The mail itself is recorded (and answered with engineer/result); everything else is the same.
    assert mail_events[0][0] == "message_in"
    assert web_events == mail_events[1:]
    assert web_rows == [r for r in mail_rows if r[0] != "engineer/result"]
    assert woken  # the outbox sender is told there is mail to send now


async def test_an_action_that_cannot_apply_says_why_and_changes_nothing(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            await sign_in(http, ALICE)
            response = await act(http, "HD-1", action="reopen")
            page = await http.get(response.headers["location"])
            assert "Not done" in page.text and "is open, not resolved" in page.text
            bad = await act(http, "HD-1", action="priority", arg="whenever")
            assert "must be one of" in (await http.get(bad.headers["location"])).text
        assert (await trail(db, 1))[0][-1][0] != "command_reopen"


async def test_timeline_shows_messages_events_and_internal_notes(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, body="The printer on floor 2 is jammed.")
        async with client(app) as http:
            await sign_in(http, ALICE)
            await act(http, "HD-1", action="note", text="Called the vendor,\nthey come Tuesday.")
            page = (await http.get("/tickets/HD-1")).text
    assert "floor 2 is jammed" in page and "command note" in page and "Called the vendor" in page
    assert "customer/ack" in page  # the acknowledgement we sent is on the timeline too


HTML_MAIL = b"""From: customer@client.example\r
To: ihelp@example.com\r
Subject: Report attached\r
Message-ID: <html-1@client.example>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="b"\r
\r
--b\r
Content-Type: text/html; charset=utf-8\r
\r
<p>See <b>attached</b></p><script>document.title='owned'</script><img src=x onerror="alert(1)">\r
--b\r
Content-Type: text/html; name="report.html"\r
Content-Disposition: attachment; filename="report.html"\r
\r
<script>alert('from the attachment')</script>\r
--b--\r
"""


async def test_attachments_download_as_files_never_as_html(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        outcome = await ingestor.ingest(HTML_MAIL, source="smtp", envelope_from="customer@client.example")
        async with db.sessions() as session:
            attachment = await session.scalar(select(Attachment))
            html = await session.scalar(select(Message.html).where(Message.direction == "in"))
        async with client(app) as http:
            await sign_in(http, "dora")
            response = await http.get(f"/tickets/{outcome.ticket_ref}/attachments/{attachment.id}")
            assert response.status_code == 200 and b"from the attachment" in response.content
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''report.html"
            assert response.headers["x-content-type-options"] == "nosniff"
            other = await http.get(f"/tickets/HD-999/attachments/{attachment.id}")
            assert other.status_code == 404  # an attachment is reached through its own ticket only
            page = (await http.get(f"/tickets/{outcome.ticket_ref}")).text
    assert "<script" not in html and "onerror" not in html  # sanitised when recorded
    assert '<iframe class="mail-html" sandbox=""' in page and "&lt;b&gt;attached&lt;/b&gt;" in page


async def test_one_form_is_one_action_even_with_a_line_break_in_its_field(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            await sign_in(http, ALICE)
            response = await act(http, "hd-1", action="assign", arg="me\n/resolve sneaked in")
            assert response.headers["location"] == "/tickets/HD-1"
            assert "Not done: /assign needs an email address" in (await http.get("/tickets/HD-1")).text
        events, _ = await trail(db, 1)
    assert not [kind for kind, _, _ in events if kind.startswith("command_")]
