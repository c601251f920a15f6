"""A bad header line (NUL or 8-bit byte in its name) is dropped; the headers after it stay headers."""
from __future__ import annotations

import pytest

from gateway.mail.loopguard import auto_reason
from gateway.mail.header_block import DROPPED_HEADER
from gateway.mail.parse import parse

TAIL = b"Auto-Submitted: auto-replied\r\nMessage-ID: <after@x.example>\r\nSubject: Away\r\n\r\nI am away.\r\n"


@pytest.mark.parametrize("bad", [
    b"X-Bad\x00Name: v\r\n", b"\x00: v\r\n", b"X-A\x01\x7f: v\r\n", b"X-G\xc3\xbcltig: v\r\n",
])
def test_headers_after_a_bad_line_are_kept(bad: bytes):
    mail = parse(b"From: ooo@client.example\r\n" + bad + TAIL)
    assert (mail.message_id, mail.subject, mail.text) == ("after@x.example", "Away", "I am away.")
    assert mail.header("Auto-Submitted") == "auto-replied" and DROPPED_HEADER in mail.defects
    assert auto_reason(mail.message, envelope_from="ooo@client.example", own_addresses=("ihelp@example.com",),
                       own_domain="helpdesk.example.com") == "auto-submitted: auto-replied"


@pytest.mark.parametrize(("raw", "text"), [
    # a missing blank line: body text with a colon in it is still body, as the parser reads it
    (b"From: a@b.example\r\nSubject: x\r\nDear team: the printer\r\nis broken\r\n",
     "Dear team: the printer\nis broken"),
    (b"From: a@b.example\r\nSubject: x\r\n\r\nX-Bad\x00Name: in the body\r\n", "X-BadName: in the body"),
])
def test_lines_that_are_not_headers_are_left_alone(raw: bytes, text: str):
    mail = parse(raw)
    assert mail.text == text and DROPPED_HEADER not in mail.defects
