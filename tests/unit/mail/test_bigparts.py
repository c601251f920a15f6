"""Large base64 parts decoded outside the email parser give exactly what the parser would have given,
and keep the parse of a big attachment to a small multiple of its size."""
from __future__ import annotations

import dataclasses
import os
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.mail import bigparts
from gateway.mail.parse import parse

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLES = sorted(p for folder in ("nasty", "human", "auto") for p in (DATA / folder).rglob("*.eml"))


def comparable(raw: bytes):
    try:
        mail = parse(raw)
    except Exception as exc:  # the quarantine reason must not change either
        return repr(exc)
    return {field.name: getattr(mail, field.name) for field in dataclasses.fields(mail) if field.name != "message"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_parses_the_same_with_every_base64_part_elided(path, monkeypatch):
    raw = path.read_bytes()
    whole = comparable(raw)
    monkeypatch.setattr(bigparts, "THRESHOLD", 1)  # elide every base64 leaf, however small
    assert comparable(raw) == whole


def tricky_mail() -> bytes:
    inner = EmailMessage()
    inner["Subject"] = "nested"
    inner.set_content("inner text")
    inner.add_attachment(b"\x00inner-bytes" * 50, maintype="application", subtype="octet-stream",
                         filename="inner.bin")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "a@example.org", "ihelp@example.com", "Tricky"
    outer.set_content("see attached")
    outer.add_attachment(os.urandom(3000), maintype="application", subtype="pdf", filename="report.pdf")
    outer.attach(inner)
    raw = outer.as_bytes()
    boundary = outer.get_boundary().encode()
    # A line that starts with the boundary but is longer is body text, not a delimiter; an epilogue
    # after the close delimiter holds a fake delimiter that must be ignored.
    raw = raw.replace(b"see attached", b"see attached\n--" + boundary + b"XYZ not a delimiter")
    return raw + b"\n--" + boundary + b"\nContent-Transfer-Encoding: base64\n\nAAAA\n"


def test_boundaries_are_read_as_the_parser_reads_them(monkeypatch):
    raw = tricky_mail()
    whole = comparable(raw)
    monkeypatch.setattr(bigparts, "THRESHOLD", 1)
    small, bodies = bigparts.elide(raw)
    assert len(bodies) >= 2 and len(small) < len(raw)
    assert comparable(raw) == whole


def test_a_big_attachment_is_parsed_in_little_more_than_its_size():
    payload = os.urandom(8 * 1024 * 1024)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.org", "ihelp@example.com", "Dump"
    msg.set_content("attached")
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename="core.dump")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    tracemalloc.start()
    try:
        mail = parse(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [attachment] = mail.attachments
    assert attachment.data == payload and attachment.filename == "core.dump"
    assert peak < 2.5 * len(payload)  # the feed parser alone took over ten times the size
