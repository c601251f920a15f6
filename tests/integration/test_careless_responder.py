"""A careless auto-responder behind the relay: it answers every mail it gets, with no Auto-Submitted or
Precedence header, no In-Reply-To or References and a subject and body no heuristic knows. Each answer
is a new ticket and so asks for a new acknowledgement; only the per-address cap ends the exchange."""
from __future__ import annotations

import asyncio
import collections
import smtplib
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from aiosmtpd.controller import Controller

from gateway.store import repo
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start

HOUR_CAP = 5


class CarelessResponder:
    """Relay and mail server of the recipients at once: keeps each mail, and answers it from its recipient."""

    def __init__(self) -> None:
        self.port = free_port()
        self.gateway_port = 0
        self.received: list[tuple[float, str]] = []  # (when, recipient)
        self.answered = 0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            with self.lock:
                self.received.append((time.monotonic(), rcpt.lower()))
            threading.Thread(target=self._answer, args=(rcpt,), daemon=True).start()
        return "250 OK"

    def _answer(self, rcpt: str) -> None:
        answer = EmailMessage()
        answer["From"], answer["To"] = rcpt, "ihelp@example.com"
        answer["Subject"] = "Thanks for writing to us"
        answer["Message-ID"] = make_msgid(domain="responder.example.net")
        answer.set_content("Hello,\n\nthis mailbox is read on Mondays. Your message matters to us and we will "
                           "look at it then.\n\nKind regards\n")
        try:
            with smtplib.SMTP("127.0.0.1", self.gateway_port, timeout=10) as client:
                raw = answer.as_bytes(policy=answer.policy.clone(linesep="\r\n"))
                client.sendmail(rcpt, ["ihelp@example.com"], raw)
            with self.lock:
                self.answered += 1
        except (OSError, smtplib.SMTPException):
            pass  # the gateway is stopping

    def per_recipient(self) -> collections.Counter[str]:
        with self.lock:
            return collections.Counter(rcpt for _, rcpt in self.received)

    def last_at(self) -> float:
        with self.lock:
            return self.received[-1][0] if self.received else 0.0


TWO_LISTS = [{"number": 1, "name": "Front end", "recipients": ["frontdesk@example.com", "helpdesk2@example.com"]},
             {"number": 3, "name": "Servers", "recipients": ["sysadmins@example.com"]}]


@pytest.mark.parametrize("levels", [None, TWO_LISTS], ids=["shipped-levels", "two-careless-lists"])
async def test_a_careless_auto_responder_gets_a_bounded_number_of_mails(settings_factory, levels):
    responder = CarelessResponder()
    responder.controller.start()
    settings = settings_factory(smtp={"port": free_port()},
                                outbound={"mode": "smtp", "port": responder.port, "poll_seconds": 0.05},
                                loopguard={"max_auto_replies_per_hour": HOUR_CAP, "max_auto_replies_per_day": 20},
                                **({"levels": levels} if levels else {}))
    responder.gateway_port = settings.smtp.port
    running = await start(settings)
    try:
        code, _ = await asend(running.port, make_mail(sender="customer@example.org", subject="VPN drops"))
        assert code == 250
        # Unchecked, a round trip takes well under a second: a minute is dozens of rounds per address.
        # Run the minute, or stop earlier once nothing has moved for 5 s.
        started = time.monotonic()
        while time.monotonic() - started < 60 and time.monotonic() - max(responder.last_at(), started) < 5:
            await asyncio.sleep(0.2)
        quiet_after = responder.last_at() - started
        counts = responder.per_recipient()
        db = running.database()
        async with db.transaction() as session:
            stats = await repo.stats(session)
        await db.dispose()
    finally:
        await running.shutdown()
        responder.controller.stop()
    assert quiet_after < 50, counts  # the exchange ended by itself
    assert counts["customer@example.org"] == HOUR_CAP, counts  # it did run, and the cap ended it
    customer_tickets = HOUR_CAP + 1
    lists = set(counts) - {"customer@example.org"}
    assert lists == set(settings.level(1).recipients), counts
    # A list hears of each of the customer's tickets, plus at most the cap of mail caused by the lists' own answers.
    assert all(counts[address] <= customer_tickets + HOUR_CAP for address in lists), counts
    assert stats["rate_limited"] >= 1 and stats["tickets"] == responder.answered + 1
