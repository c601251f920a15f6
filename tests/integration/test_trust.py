"""Over real SMTP: tokens are per recipient, strangers cannot join tickets, nobody is mailed who did not write."""
from __future__ import annotations

import logging
from unittest.mock import ANY

from sqlalchemy import select

from gateway.mail.tokens import parse_token, split_plus
from gateway.store.models import Event, Ticket
from tests.conftest import free_port
from tests.integration.serving import asend, body, make_mail, start, stats, to, wait_for

ALICE = "alice@example.com"  # an engineer of level 1 in the default levels
CUSTOMER = "customer@example.org"
MALLORY = "mallory@evil.example"


def reply_address(mail) -> str:
    return mail["Reply-To"].addresses[0].addr_spec


async def tickets(gw) -> list[tuple[Ticket, list[Event]]]:
    async def read(session):
        found = []
        for row in (await session.scalars(select(Ticket).order_by(Ticket.id))).all():
            events = (await session.scalars(select(Event).where(Event.ticket_id == row.id).order_by(Event.id))).all()
            found.append((row, list(events)))
        return found
    return await gw.read(read)


async def open_ticket(gw, relay, **headers):
    await asend(gw.port, make_mail(subject="Printer broken", body="The printer on floor 2 is broken.", **headers))
    await wait_for(lambda: len(relay.messages) >= 2)
    [ack] = to(relay, CUSTOMER)
    [announce] = to(relay, "frontdesk@example.com")
    return ack, announce


async def test_a_customer_cannot_act_with_the_token_of_their_acknowledgement(gw, relay):
    """Finding 3: the customer's token only threads. With it and an engineer's From (envelope too, both the
    sender's to choose), /priority, /assign and /escalate used to run; now they stay text."""
    ack, announce = await open_ticket(gw, relay)
    assert parse_token(split_plus(reply_address(ack))[1]).role == "c"
    assert parse_token(split_plus(reply_address(announce))[1]).role == "l1"
    attack = make_mail(sender=ALICE, subject=f"Re: {ack['Subject']}", to=reply_address(ack),
                       body="/priority urgent\n/assign attacker@evil.org\n/escalate 4\nPlease hurry.")
    assert await asend(gw.port, attack, recipients=[reply_address(ack)]) == (250, ANY)
    [(row, events)] = await tickets(gw)
    assert (row.priority, row.assignee, row.level) != ("urgent", "attacker@evil.org", 4)
    assert row.assignee is None and row.level == 1
    refused = [e for e in events if e.kind == "commands_refused"]
    assert refused and refused[0].data["reason"] == \
        f"the reply token was not issued to {ALICE} as an engineer of this ticket"
    # The customer's later mail goes to the level, never to an address the customer named.
    await asend(gw.port, make_mail(subject=f"Re: {ack['Subject']}", to=reply_address(ack), body="My password is x"),
                recipients=[reply_address(ack)])
    await wait_for(lambda: len(to(relay, "frontdesk@example.com")) >= 2)
    assert "My password is x" in body(to(relay, "frontdesk@example.com")[-1])
    assert not to(relay, "attacker@evil.org")


async def test_an_engineer_acts_with_the_level_token_but_not_with_the_customers(gw, relay):
    ack, announce = await open_ticket(gw, relay)
    with_customer_token = make_mail(sender=ALICE, subject=f"Re: {ack['Subject']}", to=reply_address(ack),
                                    body="/priority high")
    assert await asend(gw.port, with_customer_token, recipients=[reply_address(ack)]) == (250, ANY)
    [(row, events)] = await tickets(gw)
    assert row.priority != "high" and events[-1].kind in ("commands_refused", "message_in")

    with_level_token = make_mail(sender=ALICE, subject=f"Re: {announce['Subject']}", to=reply_address(announce),
                                 body="/priority high")
    assert await asend(gw.port, with_level_token, recipients=[reply_address(announce)]) == (250, ANY)
    [(row, events)] = await tickets(gw)
    assert row.priority == "high" and "command_priority" in [e.kind for e in events]
    # The confirmation carries a token issued to alice herself, which works for her alone.
    await wait_for(lambda: to(relay, ALICE))
    confirmation = to(relay, ALICE)[-1]
    assert parse_token(split_plus(reply_address(confirmation))[1]).role == "e"
    stolen = make_mail(sender="bob@example.com", subject="Re: x", to=reply_address(confirmation), body="/priority low")
    await asend(gw.port, stolen, recipients=[reply_address(confirmation)])
    [(row, _)] = await tickets(gw)
    assert row.priority == "high"


async def test_tokens_of_the_old_form_still_thread_but_grant_nothing(gw, relay):
    await open_ticket(gw, relay)
    [(row, _)] = await tickets(gw)
    old = f"ihelp+t{row.id}.{row.reply_token}@example.com"
    await asend(gw.port, make_mail(sender=ALICE, subject="no tag", to=old, body="/resolve"), recipients=[old])
    [(row, events)] = await tickets(gw)
    assert row.status == "open"
    assert any(e.kind == "message_in" and "unsigned, old form" in e.data["thread_reason"] for e in events)


async def test_knowing_a_message_id_does_not_join_a_ticket(gw, relay):
    """Finding 6: a stranger who answers the customer's acknowledgement gets a new ticket, linked."""
    ack, announce = await open_ticket(gw, relay)
    nosy = make_mail(sender=MALLORY, subject="Re: your printer", body="Let me in",
                     In_Reply_To=ack["Message-ID"], References=ack["Message-ID"])
    assert await asend(gw.port, nosy) == (250, ANY)
    found = await tickets(gw)
    assert len(found) == 2
    new, events = found[1]
    assert new.linked_ticket_id == found[0][0].id
    assert any(e.kind == "linked" and "possible follow-up of HD-1" in e.data["why"] for e in events)
    await wait_for(lambda: len(to(relay, "frontdesk@example.com")) >= 2)
    assert "Linked:    HD-1 (possible follow-up of HD-1" in body(to(relay, "frontdesk@example.com")[-1])
    # The customer it was sent to threads by the same reference.
    own = make_mail(subject="Re: your printer", body="Still broken", In_Reply_To=ack["Message-ID"])
    await asend(gw.port, own)
    assert len(await tickets(gw)) == 2


async def test_a_forged_participant_with_a_subject_tag_opens_a_linked_ticket(gw, relay):
    await open_ticket(gw, relay)
    forged = make_mail(sender=CUSTOMER, subject="[HD-1] cancel everything", body="Close it")
    assert await asend(gw.port, forged, sender=MALLORY) == (250, ANY)
    found = await tickets(gw)
    assert len(found) == 2 and found[1][0].linked_ticket_id == 1
    # ... and the forged From gets no acknowledgement: MAIL FROM was another domain.
    assert len(to(relay, CUSTOMER)) == 1


async def test_backscatter_no_acknowledgement_to_a_from_the_envelope_does_not_vouch_for(gw, relay):
    """Finding 5: MAIL FROM another domain: stored and announced, not acknowledged, and the reason recorded."""
    phish = make_mail(sender='"Your bank: verify at http://evil.example" <victim@bank.example>',
                      subject="Urgent: verify your account at http://evil.example", body="x")
    assert await asend(gw.port, phish, sender=MALLORY) == (250, ANY)
    await wait_for(lambda: to(relay, "frontdesk@example.com"))
    assert not to(relay, "victim@bank.example")
    [(row, events)] = await tickets(gw)
    [withheld] = [e for e in events if e.kind == "ack_withheld"]
    assert withheld.data == {"address": "victim@bank.example",
                             "why": f"envelope sender {MALLORY} is of another domain than From victim@bank.example"}
    assert (await stats(gw))["held_back_by_reason"]["sender not verified"] == 1


async def test_an_acknowledgement_echoes_200_characters_of_subject_and_no_display_name(gw, relay):
    subject = "Please visit http://evil.example/login " + "x" * 200_000
    mail = make_mail(sender='"Call +1 555 0100 now" <customer@example.org>', subject=subject, body="x")
    assert await asend(gw.port, mail) == (250, ANY)
    await wait_for(lambda: to(relay, CUSTOMER))
    [ack] = to(relay, CUSTOMER)
    raw = relay.messages[[m["To"] for m in relay.parsed()].index(ack["To"])][2]
    assert len(raw) < 10_000 and b"555 0100" not in raw
    assert len(ack["Subject"]) <= len("[HD-1] ") + 200
    assert ack["Subject"].endswith("…")


async def test_a_global_cap_stops_a_flood_of_automatic_mail(settings_factory, relay, caplog):
    settings = settings_factory(smtp={"port": free_port()}, loopguard={"max_auto_mail_per_hour": 3},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05})
    gw = await start(settings)
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.notify.outbox"):
            for n in range(5):
                assert await asend(gw.port, make_mail(sender=f"c{n}@client{n}.example", body=f"n{n}")) == (250, ANY)
            await wait_for(lambda: len(to(relay, "frontdesk@example.com")) >= 5)
        acks = [m for m in relay.parsed() if m["To"].startswith("c")]
        assert len(acks) == 3
        assert [r for r in caplog.records if "GLOBAL CAP REACHED" in r.getMessage()]
        assert (await stats(gw))["held_back_by_reason"]["global cap"] == 2
    finally:
        await gw.shutdown()
