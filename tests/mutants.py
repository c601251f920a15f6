"""Hypothesis strategies for hostile mail: our samples mutated (truncated, boundaries broken, charsets and
transfer encodings swapped, garbage spliced in, huge or countless headers) and mails built from scratch
(deep nesting, encoded words hiding CR/LF and extra headers). Used by the parse and ingest property tests."""
from __future__ import annotations

import base64
import re

from hypothesis import strategies as st

from tests.conftest import DATA

SEEDS = [path.read_bytes() for path in sorted(DATA.rglob("*.eml"))]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "gb2312", "utf-16", "utf-7",
            "x-unknown-charset", "", "utf-8'en'", "\"broken"]
ENCODINGS = ["base64", "quoted-printable", "7bit", "8bit", "binary", "x-uuencode", "bogus", ""]
INJECTION = "x\r\nBcc: evil@example.net\r\nX-Injected: yes"

_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)
_CHARSET = re.compile(rb'charset="?[^";\r\n]*"?', re.IGNORECASE)
_CTE = re.compile(rb"(Content-Transfer-Encoding:)[^\r\n]*", re.IGNORECASE)


def encoded_word(text: str, charset: str = "utf-8") -> str:
    """RFC 2047 B-encoding of `text`, CR/LF and all."""
    try:
        payload = text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        payload = text.encode("utf-8")
    return f"=?{charset or 'utf-8'}?B?{base64.b64encode(payload).decode()}?="


@st.composite
def mutated(draw) -> bytes:
    """One sample with one to three mutations."""
    raw = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "splice", "boundary", "charset", "cte", "big_header",
                                     "many_headers", "crlf_subject", "strip_cr", "nul"]))
        at = draw(st.integers(0, max(0, len(raw))))
        if kind == "truncate":
            raw = raw[:at]
        elif kind == "splice":
            raw = raw[:at] + draw(st.binary(min_size=1, max_size=200)) + raw[at:]
        elif kind == "boundary":
            found = _BOUNDARY.search(raw)
            if found:  # the declared boundary and the body's delimiters stop agreeing
                other = draw(st.sampled_from([b"", b"x", found.group(1)[:-1], b"--", found.group(1) * 3]))
                raw = raw.replace(found.group(1), other, draw(st.integers(1, 3)))
        elif kind == "charset":
            raw = _CHARSET.sub(b'charset="' + draw(st.sampled_from(CHARSETS)).encode() + b'"', raw, count=1)
        elif kind == "cte":
            raw = _CTE.sub(b"\\1 " + draw(st.sampled_from(ENCODINGS)).encode(), raw, count=1)
        elif kind == "big_header":
            raw = b"X-Big: " + b"a" * draw(st.integers(1000, 300_000)) + b"\r\n" + raw
        elif kind == "many_headers":
            raw = b"".join(b"X-H%d: v\r\n" % n for n in range(draw(st.integers(10, 1500)))) + raw
        elif kind == "crlf_subject":
            raw = b"Subject: " + encoded_word(INJECTION, draw(st.sampled_from(CHARSETS))).encode() + b"\r\n" + raw
        elif kind == "strip_cr":
            raw = raw.replace(b"\r", b"")
        elif kind == "nul":
            raw = raw[:at] + b"\x00" * draw(st.integers(1, 50)) + raw[at:]
    return raw


@st.composite
def nested(draw) -> bytes:
    """A multipart nested `depth` levels, its leaf in a random charset and transfer encoding."""
    depth = draw(st.integers(1, 40))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(ENCODINGS))
    leaf = (f"Content-Type: text/plain; charset=\"{charset}\"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
            .encode() + draw(st.binary(max_size=300)) + b"\r\n")
    body = leaf
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                + body + b"--" + boundary + b"--\r\n")
    subject = encoded_word(draw(st.text(max_size=40)) + draw(st.sampled_from(["", INJECTION])),
                           draw(st.sampled_from(CHARSETS)))
    name = encoded_word(draw(st.sampled_from(["Eve", INJECTION, "A\nB"])), "utf-8")
    head = (f"From: {name} <eve@example.org>\r\nTo: ihelp@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <{draw(st.uuids()).hex}@example.org>\r\nMIME-Version: 1.0\r\n").encode()
    return head + body


def hostile() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(), nested(), st.binary(max_size=2000))
