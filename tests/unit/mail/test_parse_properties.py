"""Properties of parse() over hostile mail: a ParsedMail or a Quarantine with a reason, never anything else;
decoded header fields are always one line; an encoded line break stays inside its own header."""
from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.errors import Quarantine
from gateway.mail.parse import ParsedMail, parse
from tests.mail_strategies import built_mail, deep_mail, injection_mail, mutated_seed

PROPERTY = settings(deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example,
                                           HealthCheck.data_too_large])
LINE_BREAKS = ("\r", "\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029")
ONE_LINE_FIELDS = ("message_id", "from_addr", "from_name", "subject")


def parse_or_reason(raw: bytes) -> ParsedMail | None:
    """The mail, or None after checking that the quarantine says why; any other exception fails the test."""
    try:
        mail = parse(raw)
    except Quarantine as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip(), repr(exc.reason)
        event(f"quarantined: {exc.reason.split(':')[0]}")  # `pytest --hypothesis-show-statistics` shows the mix
        return None
    assert isinstance(mail, ParsedMail)
    event("parsed")
    return mail


def assert_one_line(where: str, value: str | None) -> None:
    assert not any(brk in (value or "") for brk in LINE_BREAKS), (where, value)


def assert_decoded_headers_one_line(mail: ParsedMail) -> None:
    for name in ONE_LINE_FIELDS:
        assert_one_line(name, getattr(mail, name))
    for name in ("to", "cc", "reply_to", "in_reply_to", "references"):
        for value in getattr(mail, name):
            assert_one_line(name, value)
            assert value.strip() == value and value, (name, value)
    for part in mail.attachments:
        for where in ("filename", "content_type", "content_id"):
            assert_one_line(where, getattr(part, where))
        assert part.filename not in ("", ".", "..") and not {"/", "\\"} & set(part.filename), part.filename
    for name in list(dict.fromkeys(mail.message.keys()))[:40]:
        assert_one_line(f"header({name})", mail.header(name))


@settings(PROPERTY, max_examples=250)
@given(mutated_seed())
def test_mutated_samples_parse_or_quarantine_with_a_reason(raw):
    mail = parse_or_reason(raw)
    if mail is not None:
        assert_decoded_headers_one_line(mail)


@settings(PROPERTY, max_examples=100)
@given(st.one_of(built_mail(), st.binary(max_size=500)))
def test_built_mails_parse_or_quarantine_with_a_reason(raw):
    mail = parse_or_reason(raw)
    if mail is not None:
        assert_decoded_headers_one_line(mail)


@settings(PROPERTY, max_examples=40)
@given(deep_mail())
def test_nesting_past_the_limit_is_quarantined_not_crashed(raw):
    depth = raw.count(b"Content-Type: multipart/") + raw.count(b"Content-Type: message/rfc822")
    mail = parse_or_reason(raw)
    if depth > 20 + 1:  # the leaf itself may be multipart/* or message/rfc822 without children
        assert mail is None
    elif depth < 20:
        assert mail is not None


@settings(PROPERTY, max_examples=80)
@given(injection_mail("eve@example.org", "inject@example.org"))
def test_encoded_line_breaks_stay_inside_their_header(raw):
    mail = parse_or_reason(raw)
    assert mail is not None, "a well-formed mail must not be quarantined"
    assert_decoded_headers_one_line(mail)
    assert mail.from_addr == "eve@example.org" and mail.message_id == "inject@example.org"
    assert "bcc: evil@example.net" in mail.subject.lower(), mail.subject
    assert mail.header("Bcc") is None and mail.header("X-Injected") is None
    assert mail.to == ("ihelp@example.com",) and mail.cc == ()
