"""Outgoing mail composition: headers, threading ids, header injection, plus-addressing."""
from __future__ import annotations

import email
import re
from datetime import datetime, timezone
from email import policy

import pytest

from gateway.mail.compose import make_message_id, message_bytes, one_line, plus_address

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def compose(**overrides) -> bytes:
    fields = dict(from_name="Example Help Desk", from_address="ihelp@example.com", to="cust@example.org",
                  subject="Printer on fire", text="We have it.\n", html=None,
                  message_id="abc123@helpdesk.example.com", date=WHEN, in_reply_to=None, references=(),
                  reply_to="ihelp+t42.k3x9q2ab@example.com", auto_submitted="auto-replied",
                  loop_address="ihelp@example.com")
    fields.update(overrides)
    return message_bytes(**fields)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


@pytest.mark.parametrize("field, value", [
    ("subject", "hi\r\nBcc: evil@x"),
    ("subject", "hi\nBcc: evil@x"),
    ("subject", "hi\rBcc: evil@x"),
    ("subject", "hi\r\n\r\nbody injected"),
    ("from_name", "Help\r\nBcc: evil@x"),
])
def test_crlf_in_text_never_makes_a_header(field, value):
    raw = compose(**{field: value})
    mail = parse(raw)
    assert len(mail.get_all("Subject")) == 1
    assert mail["Bcc"] is None
    assert not re.search(r"^Bcc:", header_block(raw), re.MULTILINE | re.IGNORECASE)
    assert mail.get_content().startswith("We have it.")  # the body was not moved either


def test_injected_subject_is_one_line_with_the_text_kept():
    assert parse(compose(subject="hi\r\nBcc: evil@x"))["Subject"] == "hi Bcc: evil@x"


def test_headers_of_a_reply():
    raw = compose(in_reply_to="<orig@customer.example>", references=["<older@customer.example>", "orig@customer.example"])
    mail = parse(raw)
    expected = {
        "From": "Example Help Desk <ihelp@example.com>",
        "To": "cust@example.org",
        "Subject": "Printer on fire",
        "Date": "Mon, 05 Jan 2026 09:00:00 +0000",
        "Message-ID": "<abc123@helpdesk.example.com>",
        "In-Reply-To": "<orig@customer.example>",
        "References": "<older@customer.example> <orig@customer.example>",
        "Reply-To": "ihelp+t42.k3x9q2ab@example.com",
        "Auto-Submitted": "auto-replied",
        "X-Loop": "ihelp@example.com",
        "X-Auto-Response-Suppress": "All",
        "MIME-Version": "1.0",
    }
    assert {name: str(mail[name]) for name in expected} == expected
    assert mail.get_content_type() == "text/plain"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_no_threading_headers_without_a_parent():
    mail = parse(compose())
    assert mail["In-Reply-To"] is None and mail["References"] is None


def test_long_message_ids_are_folded_between_ids_not_encoded():
    long_id = "a" * 120 + "@mail.example"
    raw = compose(in_reply_to=long_id, references=[f"r{i}-{'b' * 60}@x.example" for i in range(3)] + [long_id])
    block = header_block(raw)
    assert "=?" not in block
    assert parse(raw)["In-Reply-To"] == f"<{long_id}>"
    assert max(len(line) for line in block.split("\r\n")) <= 998


def test_unusable_reference_ids_are_dropped():
    mail = parse(compose(references=["<ok@x.example>", "no at sign", "<sp ace@x>", ""]))
    assert mail["References"] == "<ok@x.example>"


def test_html_alternative_and_non_ascii_stay_7bit():
    raw = compose(subject="Drucker brennt – dringend", from_name="Hélp Désk", text="Grüße\n",
                  html="<p>Grüße</p>")
    assert raw.isascii()  # no relay needs 8BITMIME or SMTPUTF8
    mail = parse(raw)
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail.get_body(("html",)).get_content().rstrip() == "<p>Grüße</p>"
    assert mail.get_body(("plain",)).get_content().rstrip() == "Grüße"
    assert mail["Subject"] == "Drucker brennt – dringend"
    assert mail["From"].addresses[0].display_name == "Hélp Désk"


def test_each_alternative_mail_has_a_boundary_of_its_own_that_its_text_does_not_contain():
    first, second = (compose(message_id=f"{n}@helpdesk.example.com", text="--==gw.\n", html="<p>--==gw.</p>")
                     for n in (1, 2))
    boundaries = {parse(mail).get_boundary() for mail in (first, second)}
    assert len(boundaries) == 2 and all(b.startswith("==gw.") for b in boundaries)
    assert [p.get_content().rstrip() for p in parse(first).iter_parts()] == ["--==gw.", "<p>--==gw.</p>"]
    # Someone who quotes the boundary a mail would get makes it take another.
    taken = parse(first).get_boundary()
    quoting = parse(compose(message_id="1@helpdesk.example.com", text=f"--{taken}\n", html="<p>--==gw.</p>"))
    assert quoting.get_boundary() != taken
    assert [p.get_content().rstrip() for p in quoting.iter_parts()] == [f"--{taken}", "<p>--==gw.</p>"]


def test_the_same_mail_composed_again_is_the_same_bytes():
    """An outbox row is composed anew for each attempt: a resend after a crash must be the same mail."""
    fields = dict(text="We have it.\n", html="<p>We have it.</p>", references=("a@b.example",),
                  in_reply_to="a@b.example")
    assert compose(**fields) == compose(**fields)


@pytest.mark.parametrize("name", ['Help "Desk", Inc.', "O'Brien; Support", "Desk (1st line) <team>"])
def test_display_names_with_specials_survive_the_text_round_trip(name):
    sender = parse(compose(from_name=name))["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (name, "ihelp@example.com")


def test_extra_headers_are_added_and_checked():
    assert parse(compose(extra={"X-Gateway-Ticket": "HD-1\r\nBcc: x@y"}))["X-Gateway-Ticket"] == "HD-1 Bcc: x@y"
    with pytest.raises(ValueError, match="header field name"):
        compose(extra={"Bad Name": "x"})


@pytest.mark.parametrize("to", ["not an address", "a@b@c", "", "ü@example.com", "x@exämple.com"])
def test_unusable_recipient_is_a_value_error_naming_it(to):
    with pytest.raises(ValueError, match="usable email address"):
        compose(to=to)


@pytest.mark.parametrize("address, token, expected", [
    ("ihelp@example.com", "t42.k3x9", "ihelp+t42.k3x9@example.com"),
    ("IHelp@Example.com", "t1.abcdef", "IHelp+t1.abcdef@Example.com"),
    ("ihelp+old@example.com", "t7.zzzzzz", "ihelp+t7.zzzzzz@example.com"),
])
def test_plus_address(address, token, expected):
    assert plus_address(address, token) == expected


def test_plus_address_rejects_a_non_address():
    with pytest.raises(ValueError, match="not an email address"):
        plus_address("ihelp", "t1.abcdef")


def test_make_message_id_is_unique_and_bare():
    ids = {make_message_id("Helpdesk.Example.com") for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        assert re.fullmatch(r"[0-9a-f]{32}@helpdesk\.example\.com", value)


@pytest.mark.parametrize("text, expected", [
    ("a\r\nb", "a b"), ("a\tb", "a b"), ("  a \n\n b  ", "a b"), ("plain", "plain"), ("", ""),
])
def test_one_line(text, expected):
    assert one_line(text) == expected
