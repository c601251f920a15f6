"""CPU work on a mail runs off the event loop, and staff mail quotes a bounded excerpt of a big mail."""
from __future__ import annotations

import asyncio
import threading
import time
from unittest.mock import ANY

from sqlalchemy import select

from gateway import ingest as ingest_module
from gateway.pipeline import prepare as prepare_module
from gateway.ingest import Ingestor
from gateway.pipeline.steps import classify, commands, loop_guard, record
from gateway.store.models import Message, Outbox
from tests.conftest import free_port, with_mail
from tests.integration.serving import asend, make_mail, start, wait_for


async def test_parsing_and_each_steps_pure_work_run_off_the_event_loop(db, settings_factory, clock, monkeypatch):
    threads: dict[str, set[int]] = {}

    def spy(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            threads.setdefault(name, set()).add(threading.get_ident())
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((prepare_module, "parse"), (loop_guard, "auto_reason"), (classify, "classify_mail"),
                         (record, "new_text"), (record, "safe_html"), (commands, "parse_commands")):
        spy(module, name)
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    mail = make_mail(body="The report crashes with error 500.")
    mail.add_alternative("<p>The report <b>crashes</b></p>", subtype="html")
    outcome = await ingestor.ingest(mail.as_bytes(), source="test", envelope_from="customer@example.org")
    ingestor.close()
    assert outcome.status == "stored" and outcome.new_ticket
    assert set(threads) == {"parse", "auto_reason", "classify_mail", "new_text", "safe_html", "parse_commands"}
    loop_thread = threading.get_ident()
    assert all(loop_thread not in idents for idents in threads.values()), threads


async def test_a_good_client_is_answered_while_a_big_mail_is_being_parsed(settings_factory, relay, monkeypatch):
    """A mail whose parse takes 4 s (as a 24 MB one did on the loop) must not hold anyone's 250."""
    real_parse = prepare_module.parse

    def slow_parse(raw, **kwargs):
        if b"BIG-AND-SLOW" in raw:
            time.sleep(4)
        return real_parse(raw, **kwargs)
    monkeypatch.setattr(prepare_module, "parse", slow_parse)
    monkeypatch.setattr(ingest_module, "LARGE", 1000)  # this test's "big" mail is a few kB
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": relay.port, "poll_seconds": 0.05})
    gw = await start(settings)
    try:
        big = asyncio.create_task(asend(gw.port, make_mail(subject="BIG-AND-SLOW", body="x\n" * 5000)))
        await asyncio.sleep(0.5)  # the big mail is in its parse now
        # 250 means spooled: nobody's answer waits for any parse, the big mail's neither.
        assert await big == (250, ANY)
        for n in range(3):
            started = time.monotonic()
            assert await asend(gw.port, make_mail(subject=f"small {n}")) == (250, ANY)
            assert time.monotonic() - started < 2.0
        await gw.drained(timeout=30)  # the big mail's parse, then the small ones in arrival order
        db = gw.database()
        async with db.transaction() as session:
            subjects = (await session.scalars(select(Message.subject).where(Message.direction == "in")
                                              .order_by(Message.id))).all()
        await db.dispose()
        assert subjects == ["BIG-AND-SLOW", "small 0", "small 1", "small 2"]
    finally:
        await gw.shutdown()


async def test_a_big_mail_is_announced_with_an_excerpt_and_kept_whole(db, settings_factory, clock):
    """A 25 MB text mail became two announcements of twice its size; now they quote 20 kB of it."""
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    lines = [f"line {n}: the nightly export failed again with the same error" for n in range(60_000)]
    mail = make_mail(subject="Export log", body="\n".join(lines))
    outcome = await ingestor.ingest(mail.as_bytes(), source="test", envelope_from="customer@example.org")
    ingestor.close()
    async with db.transaction() as session:
        [announce] = await with_mail(session, list((await session.scalars(
            select(Outbox).where(Outbox.template == "level/announce"))).all()))
        stored = await session.scalar(select(Message.text).where(Message.direction == "in"))
    assert outcome.new_ticket and stored.count("\n") == len(lines) - 1
    assert len(announce.raw) < 100_000 < len(mail.as_bytes())
    text = announce.raw.decode("ascii")
    assert "line 0:" in text and "line 59999" not in text
    assert "more lines in the ticket" in text


async def test_a_reply_does_not_overtake_the_mail_it_answers_while_that_one_is_parsed(db, settings_factory, clock,
                                                                                      monkeypatch):
    """Preparation happens off the loop; mail must still reach the transaction in the order it arrived."""
    real_parse = prepare_module.parse

    def parse(raw, **kwargs):
        if b"Subject: Printer broken" in raw:
            time.sleep(0.3)  # the first mail takes longer to parse than its reply
        return real_parse(raw, **kwargs)
    monkeypatch.setattr(prepare_module, "parse", parse)
    ingestor = Ingestor(settings=settings_factory(), db=db, clock=clock)
    first = make_mail(subject="Printer broken")
    reply = make_mail(subject="Re: Printer broken", body="Also the scanner.", In_Reply_To=first["Message-ID"])
    parent = asyncio.create_task(ingestor.ingest(first.as_bytes(), source="smtp",
                                                 envelope_from="customer@example.org"))
    await asyncio.sleep(0.05)  # the first mail is in its parse now
    answered = await ingestor.ingest(reply.as_bytes(), source="smtp", envelope_from="customer@example.org")
    opened = await parent
    ingestor.close()
    assert opened.new_ticket and not answered.new_ticket and answered.ticket_id == opened.ticket_id
