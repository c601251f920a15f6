"""End to end over SMTP: an engineer's /escalate 3, /note and /resolve by reply, seen at the capture relay."""
from __future__ import annotations

from email import policy
from unittest.mock import ANY

from sqlalchemy import select

from gateway.store.models import Event, Ticket
from tests.integration.serving import asend, body, make_mail, to, wait_for

ALICE = "alice@example.com"  # an engineer of level 1 in the default levels
CUSTOMER = "customer@example.org"


def engineer_reply(token_address: str, ack, commands: str):
    """A Gmail-style reply: text and HTML parts, each with the quoted acknowledgement below."""
    quoted = "\n".join(f"> {line}" for line in body(ack).splitlines())
    text = f"{commands}\n\nOn Mon, 5 Jan 2026 at 09:00, Example Help Desk <ihelp@example.com> wrote:\n{quoted}\n"
    mail = make_mail(sender=ALICE, to=token_address, subject=f"Re: {ack['Subject']}", body=text,
                     In_Reply_To=ack["Message-ID"], References=ack["Message-ID"])
    html_lines = "\n".join(f"<div>{line or '<br>'}</div>" for line in commands.splitlines())
    history = "<br>\n".join(body(ack).splitlines())
    mail.add_alternative(f'<div dir="ltr">{html_lines}</div>\n<div class="gmail_quote">\n'
                         f'<div class="gmail_attr">On Mon, 5 Jan 2026 at 09:00, Example Help Desk '
                         f'&lt;ihelp@example.com&gt; wrote:<br></div>\n<blockquote class="gmail_quote">\n'
                         f'{history}</blockquote></div>\n', subtype="html", cte="quoted-printable")
    # smtplib sends bytes as they are: the lines must already end in CRLF.
    return mail.as_bytes(policy=policy.SMTP)


async def ticket_row(gw) -> tuple[Ticket, list[str]]:
    async def read(session):
        row = (await session.scalars(select(Ticket))).one()
        kinds = list((await session.scalars(select(Event.kind).where(Event.ticket_id == row.id)
                                            .order_by(Event.id))).all())
        return row, kinds
    return await gw.read(read)


async def open_ticket(gw, relay):
    await asend(gw.port, make_mail(subject="Printer broken", body="The printer on floor 2 is broken."))
    await wait_for(lambda: len(relay.messages) >= 2)
    [ack] = to(relay, CUSTOMER)
    return ack, ack["Reply-To"].addresses[0].addr_spec


async def announced_ticket(gw, relay):
    """Open a ticket; the level's announcement and its Reply-To, whose token the level's engineers act with."""
    await open_ticket(gw, relay)
    [announce] = to(relay, "frontdesk@example.com")
    return announce, announce["Reply-To"].addresses[0].addr_spec


async def test_escalate_note_and_resolve_by_reply(gw, relay):
    ack, token_address = await announced_ticket(gw, relay)

    assert await asend(gw.port, engineer_reply(token_address, ack, "/escalate 3\n\nWe are looking at the print server."),
                sender=ALICE, recipients=[token_address]) == (250, ANY)
    await wait_for(lambda: len(relay.messages) >= 5)
    [escalated] = to(relay, "sysadmins@example.com")
    assert "Ticket HD-1 was escalated from level 1 (Help desk front end) to level 3" in body(escalated)
    [confirmation] = to(relay, ALICE)
    assert "escalated from level 1 to level 3" in body(confirmation)
    customer_reply = to(relay, CUSTOMER)[-1]
    assert "We are looking at the print server." in body(customer_reply)
    assert "/escalate" not in body(customer_reply) and "wrote:" not in body(customer_reply)
    row, kinds = await ticket_row(gw)
    assert row.level == 3 and "command_escalate" in kinds

    count = len(relay.messages)
    assert await asend(gw.port, engineer_reply(token_address, ack, "/note The customer has the old driver."),
                sender=ALICE, recipients=[token_address]) == (250, ANY)
    await wait_for(lambda: len(relay.messages) >= count + 1)
    assert len(to(relay, CUSTOMER)) == 2  # the ack and the reply above: the note went nowhere near them
    assert "internal note added" in body(to(relay, ALICE)[-1])

    count = len(relay.messages)
    assert await asend(gw.port, engineer_reply(token_address, ack, "/resolve Reinstalled the printer driver"),
                sender=ALICE, recipients=[token_address]) == (250, ANY)
    await wait_for(lambda: len(relay.messages) >= count + 2)
    resolved = to(relay, CUSTOMER)[-1]
    assert resolved["Subject"] == "[HD-1] Resolved: Printer broken"
    assert "Resolution: Reinstalled the printer driver" in body(resolved)
    row, kinds = await ticket_row(gw)
    assert row.status == "resolved" and kinds.count("command_note") == 1


async def test_commands_from_a_customer_stay_text(gw, relay):
    ack, token_address = await open_ticket(gw, relay)
    reply = make_mail(subject=f"Re: {ack['Subject']}", to=token_address, body="/resolve\nI fixed it myself?")
    await asend(gw.port, reply, recipients=[token_address])
    await wait_for(lambda: len(relay.messages) >= 3)
    row, kinds = await ticket_row(gw)
    assert row.status == "open" and "commands_refused" in kinds
    assert "/resolve" in body(to(relay, "frontdesk@example.com")[-1])  # passed on to the level as text


async def test_an_engineer_on_the_help_desks_own_domain_can_act(gw, relay):
    """Thunderbird puts its user's domain in Message-IDs: example.com mail must not look like our own."""
    import email

    ack, token_address = await announced_ticket(gw, relay)
    reply = email.message_from_bytes(engineer_reply(token_address, ack, "/priority high"), policy=policy.SMTP)
    reply.replace_header("Message-ID", "<4f1e2d3c-alice@example.com>")
    assert await asend(gw.port, reply.as_bytes(), sender=ALICE, recipients=[token_address]) == (250, ANY)
    row, kinds = await ticket_row(gw)
    assert row.priority == "high" and "command_priority" in kinds
