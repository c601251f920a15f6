"""message_bytes() writes the very bytes the email package writes for the same EmailMessage."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.mail.compose import (
    POLICY,
    IdListHeader,
    address_text,
    bare_id,
    header_line,
    mailbox,
    message_bytes,
    one_line,
)

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def by_the_email_package(*, from_name, from_address, to, subject, text, html, message_id, date, in_reply_to,
                         references, reply_to, auto_submitted, loop_address, extra=None,
                         boundary="==gw.0") -> bytes:
    """The same mail built as an EmailMessage and written by its generator (how the gateway composed before)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = str(mailbox(from_address, from_name))
    msg["To"] = str(mailbox(to))
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{bare_id(message_id)}>"
    if in_reply_to and bare_id(in_reply_to):
        msg["In-Reply-To"] = IdListHeader("In-Reply-To", [bare_id(in_reply_to)])
    chain = list(dict.fromkeys(i for i in (bare_id(r) for r in references) if i))
    if chain:
        msg["References"] = IdListHeader("References", chain)
    if reply_to:
        msg["Reply-To"] = str(mailbox(reply_to))
    msg["Auto-Submitted"] = one_line(auto_submitted)
    msg["X-Loop"] = one_line(loop_address)
    msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra or {}).items():
        msg[name] = one_line(value)
    msg.set_content(text)
    if html is not None:
        msg.make_alternative(boundary=boundary)
        msg.add_alternative(html, subtype="html")
        for part in msg.iter_parts():
            del part["MIME-Version"]
    return msg.as_bytes()


def fields(**overrides) -> dict:
    base = dict(from_name="Example Help Desk", from_address="ihelp@example.com", to="cust@example.org",
                subject="[HD-7] Received: Printer on fire", text="We have it.\n", html=None,
                message_id="abc123@helpdesk.example.com", date=WHEN, in_reply_to="<orig@customer.example>",
                references=("<older@customer.example>", "orig@customer.example"),
                reply_to="ihelp+t42.c.k3x9q2ab@example.com", auto_submitted="auto-replied",
                loop_address="ihelp@example.com")
    return {**base, **overrides}


def assert_same(**kwargs) -> None:
    ours = message_bytes(**kwargs)
    found = re.search(rb'boundary="([^"]+)"', ours)
    theirs = by_the_email_package(**kwargs, **({"boundary": found.group(1).decode()} if found else {}))
    assert ours == theirs


LONG_LINE = "This is a realistic paragraph of text about the problem. " * 12


@pytest.mark.parametrize("overrides", [
    {},
    {"html": "<p>We have it.</p>\n"},
    {"text": "", "html": ""},
    {"text": "no newline at the end", "html": "<p>none either</p>"},
    {"text": "Grüße aus Köln\n", "html": "<p>Grüße</p>"},  # quoted-printable
    {"text": "日本語のテキストです。\n" * 30},  # base64 is shorter
    {"text": "Grüße\n" * 10}, {"text": "Grüße\n" * 11},  # quoted-printable of the first ten lines, or of all
    {"text": LONG_LINE + "\n" + "short\n" * 20, "html": "<p>" + LONG_LINE + "</p>"},  # a line too long for 7bit
    {"text": "a\r\nb\rc\nd\x0be\x0cf\u2028g\n"},  # every kind of line end
    {"subject": "Drucker brennt – dringend", "from_name": "Hélp Désk"},
    {"subject": "[HD-12] Received: " + "a very long subject that goes on " * 8},
    {"subject": "=?utf-8?q?caf=C3=A9?= is not decoded", "from_name": 'Help "Desk", Inc.'},
    {"subject": "  spaces\tand\r\nbreaks  ", "from_name": "Desk (1st line) <team>"},
    {"to": '"quoted local"@example.org', "reply_to": None, "in_reply_to": None, "references": ()},
    {"in_reply_to": "a" * 120 + "@mail.example", "references": [f"r{i}-{'b' * 60}@x.example" for i in range(3)]},
    {"extra": {"X-Gateway-Ticket": "HD-1\r\nBcc: x@y", "X-Long": "word " * 30}},
    {"date": datetime(2026, 3, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))},
])
def test_the_same_bytes_as_the_email_package(overrides):
    assert_same(**fields(**overrides))


PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)
TEXTISH = st.one_of(PRINTABLE, st.sampled_from(list("\r\n\t äöüßéœ–€日")))


@settings(max_examples=300, deadline=None)
@given(subject=st.text(TEXTISH, max_size=120), from_name=st.text(TEXTISH, max_size=40),
       text=st.text(TEXTISH, max_size=300), html=st.none() | st.text(TEXTISH, max_size=200),
       auto=st.text(PRINTABLE, max_size=90))
@example(subject="x" * 69, from_name="", text="", html=None, auto="")  # "Subject: " + 69 = 78, the longest unfolded
@example(subject="x" * 70, from_name="", text="", html=None, auto="")
def test_any_text_gives_the_same_bytes(subject, from_name, text, html, auto):
    assert_same(**fields(subject=subject, from_name=from_name, text=text, html=html, auto_submitted=auto))


def _registry(name: str, value: str) -> str:
    return POLICY.header_factory(name, value).fold(policy=POLICY)


# header_line() writes a plain value as it is: for each kind of value we write, that must be what the
# registry writes too.
@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["Subject", "X-Loop", "Auto-Submitted", "X-Gateway-Ticket"]),
       value=st.text(PRINTABLE, max_size=90))
@example(name="Subject", value="=?utf-8?q?caf=C3=A9?=")
def test_plain_text_headers_as_the_registry_writes_them(name, value):
    assert header_line(name, one_line(value)) == _registry(name, one_line(value))


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["From", "To", "Reply-To"]), address=st.emails(),
       display=st.text(PRINTABLE, max_size=30))
def test_address_headers_as_the_registry_writes_them(name, address, display):
    try:
        value = str(mailbox(address, display))
    except ValueError:  # refused before it gets to a header
        return
    assert header_line(name, value) == _registry(name, value)


@settings(max_examples=200, deadline=None)
@given(when=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1),
                         timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                                    timezone(timedelta(hours=-8))])),
       local=st.text(st.sampled_from("abcdef0123456789.-_+=$"), min_size=1, max_size=70),
       domain=st.sampled_from(["helpdesk.example.com", "x", "mail.example"]))
def test_dates_and_message_ids_as_the_registry_writes_them(when, local, domain):
    assert header_line("Date", format_datetime(when)) == _registry("Date", format_datetime(when))
    own = bare_id(f"{local}@{domain}")
    if own is not None:
        assert header_line("Message-ID", f"<{own}>") == _registry("Message-ID", f"<{own}>")


@settings(max_examples=300, deadline=None)
@given(address=st.emails() | st.from_regex(r"[a-z+.]{1,12}@[a-z.-]{1,12}", fullmatch=True))
@example(address="ihelp+t42.c.k3x9q2ab@example.com")
def test_a_plain_address_is_written_as_mailbox_writes_it(address):
    try:
        expected = str(mailbox(address))
    except ValueError:
        with pytest.raises(ValueError):
            address_text(address)
        return
    assert address_text(address) == expected
