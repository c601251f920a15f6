"""Property: whatever bytes arrive, parse() gives a ParsedMail or a Quarantine with a reason, nothing
else, and no decoded header it hands on carries a CR or LF."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from gateway.errors import Quarantine
from gateway.mail.parse import ParsedMail, parse
from tests.mutants import hostile

ONE_LINE_FIELDS = ("from_addr", "from_name", "subject", "message_id")


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_parse_gives_a_mail_or_a_quarantine_reason(raw):
    try:
        mail = parse(raw)
    except Quarantine as exc:
        assert exc.reason.strip()
        return
    assert isinstance(mail, ParsedMail)
    for name in ONE_LINE_FIELDS:
        value = getattr(mail, name) or ""
        assert "\r" not in value and "\n" not in value, (name, value)
    for address in (*mail.to, *mail.cc, *mail.reply_to, *mail.references, *mail.in_reply_to):
        assert "\r" not in address and "\n" not in address
    for part in mail.attachments:
        assert "/" not in part.filename and "\\" not in part.filename and not part.filename.startswith(".")
        assert all(ch >= " " for ch in part.filename), part.filename
    assert mail.header("Subject") is None or "\n" not in mail.header("Subject")
