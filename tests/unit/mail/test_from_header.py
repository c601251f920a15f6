"""From is read as mail programs read it: addresses parsed on the raw text, display names decoded after."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.mail.parse import parse

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "nasty" / "from"

# (file, from_name, from_addr, from_problem): from_addr "" means the mail is from nobody we can name.
CASES = [
    ("encoded-newline-group.eml", "Support X: alice@example.com", "mallory@evil.org", ""),
    ("encoded-newline-bare.eml", "Support X: alice@example.com;", "mallory@evil.org", ""),
    ("encoded-address-name.eml", "alice@example.com", "mallory@evil.org", ""),
    ("encoded-comma.eml", "Smith, John", "john@example.org", ""),
    ("encoded-angle.eml", "Bob <bob@example.com>", "eve@evil.org", ""),
    ("encoded-colon-semicolon.eml", "Team: a@x.example;", "team@example.org", ""),
    ("encoded-local-part.eml", "", "", "From is read as different addresses by different parsers"),
    ("encoded-quoted-local-part.eml", "", "", "From is read as different addresses by different parsers"),
    ("address-as-unquoted-name.eml", "", "joe.bloggs@x.example", ""),
    ("two-addresses.eml", "", "", "2 addresses in From"),
    ("two-from-headers.eml", "", "", "2 From headers"),
    ("group-one.eml", "", "", "group syntax in From"),
    ("group-empty.eml", "", "", "group syntax in From"),
    ("no-address.eml", "", "", "unusable address in From"),
    ("null-address.eml", "", "", "unusable address in From"),
    ("no-from.eml", "", "", "no From header"),
    ("utf8-name.eml", "Jürgen Müller", "juergen@example.de", ""),
    ("latin1-name.eml", "Renée", "renee@example.fr", ""),
    ("gb2312-name.eml", "张三", "zhang@example.cn", ""),
    ("split-words.eml", "山田太郎", "yamada@example.jp", ""),
    ("raw-utf8-name.eml", "José García", "jose@example.es", ""),
]


def test_every_sample_has_a_row():
    assert {c[0] for c in CASES} == {p.name for p in SAMPLES.glob("*.eml")}


@pytest.mark.parametrize(("file", "name", "addr", "problem"), CASES, ids=[c[0] for c in CASES])
def test_from(file: str, name: str, addr: str, problem: str):
    mail = parse((SAMPLES / file).read_bytes())
    assert (mail.from_name, mail.from_addr, mail.from_problem) == (name, addr, problem)


@pytest.mark.parametrize(("header", "addrs"), [
    (b'"=?utf-8?q?Help=0A,_alice@example.com?=" <mallory@evil.org>', ("mallory@evil.org",)),
    (b"=?utf-8?q?a=2C_b@c.example?= <d@e.example>, f@g.example", ("d@e.example", "f@g.example")),
    (b"Group: a@x.example, b@y.example;", ("a@x.example", "b@y.example")),
])
def test_other_address_headers_are_parsed_before_decoding(header: bytes, addrs: tuple[str, ...]):
    mail = parse(b"From: a@b.example\r\nTo: " + header + b"\r\nCc: " + header + b"\r\n\r\nx")
    assert mail.to == addrs and mail.cc == addrs
