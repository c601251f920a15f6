"""Hypothesis strategies for hostile mail: the sample mails mutated at byte and MIME level, and mails built
from nothing (random MIME trees, charsets, transfer encodings, RFC 2047 words hiding line breaks)."""
from __future__ import annotations

import base64
import binascii
import functools
import quopri
import re
from typing import Callable
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from tests.conftest import DATA

SEEDS = tuple(path.read_bytes() for path in sorted(DATA.rglob("*.eml")))

# Real labels, labels Python knows but that are no text encoding (rot13, hex, zlib), and labels mail uses
# for "no idea" (unknown-8bit, x-user-defined); generated ones below add names nobody knows.
KNOWN_CHARSETS = ("utf-8", "us-ascii", "iso-8859-1", "iso-8859-15", "windows-1252", "koi8-r", "shift_jis",
                  "euc-jp", "iso-2022-jp", "gb2312", "gb18030", "big5", "utf-16", "utf-16-le", "utf-32",
                  "utf-7", "cp037", "hz", "unknown-8bit", "x-user-defined", "rot13", "hex", "zlib", "idna",
                  "utf-8*en", "UTF-8", "", "\"utf-8\"")
ENCODINGS = ("base64", "quoted-printable", "7bit", "8bit", "binary", "x-uuencode", "BASE64", "base-64",
             "bogus", "", "base64; x=y")
# Decoded, each of these would end the header line and start a Bcc header if anyone wrote it out raw.
INJECTIONS = ("x\r\nBcc: evil@example.net", "x\nBcc: evil@example.net", "x\rBcc: evil@example.net",
              "x\r\n\r\nBcc: evil@example.net", "x\u2028Bcc: evil@example.net", "x\x85Bcc: evil@example.net",
              "x\r\n Bcc: evil@example.net", "x\r\nBcc: evil@example.net\r\nX-Injected: yes")
BREAKS = ("\r\n", "\n", "\r", "\t", "\x00", "\x0b", "\x0c", "\x1b", "\x85", "\u2028", "\u2029", "\ufeff")


# Strategy factories are cached: building a strategy (from_regex, recursive) costs far more than drawing
# from it, and the composites below ask for them in every example.
@functools.cache
def charsets() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(KNOWN_CHARSETS),
                     st.from_regex(r"[A-Za-z][A-Za-z0-9_.:+-]{0,20}(\*[a-z]{2})?", fullmatch=True))


@functools.cache
def decoded_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Text as an encoded word may decode to: any code point, line breaks and control characters."""
    piece = st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(BREAKS))
    return st.lists(piece, max_size=max_size).map("".join)


def _codec(label: str) -> str:
    return label.strip('"').split("*")[0]  # RFC 2231 puts a language after '*'


def encode_text(text: str, charset: str) -> bytes:
    """`text` in `charset` when Python can do that, else UTF-8 (what a sender with a wrong label does)."""
    try:
        return text.encode(_codec(charset))
    except Exception:  # unknown label, no text codec, or a character the charset lacks
        return text.encode("utf-8")


def _cannot_encode(text: str, charset: str) -> bool:
    """True when `charset` is a codec that lacks a character of `text` (an unknown label is no such codec)."""
    try:
        text.encode(_codec(charset))
    except LookupError:
        return False
    except Exception:
        return True
    return False


def _q(data: bytes) -> str:
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in data)


@st.composite
def encoded_word(draw, text: str | None = None, flawed: bool = True) -> bytes:
    """One RFC 2047 word, B or Q, in a random or made-up charset; when `flawed`, sometimes broken the ways
    senders break it, and sometimes labelled with a charset that cannot hold the text."""
    text = draw(decoded_text()) if text is None else text
    charset, kind = draw(charsets()), draw(st.sampled_from("BbQq"))
    if not flawed and _cannot_encode(text, charset):
        charset = "utf-8"  # a lying label is a flaw; unflawed words decode to `text` in whatever charset
    data = encode_text(text, charset)
    payload = base64.b64encode(data).decode() if kind in "Bb" else _q(data)
    flaw = draw(st.sampled_from(("", "truncated", "no padding", "junk", "unclosed"))) if flawed else ""
    if flaw == "truncated":
        payload = payload[:draw(st.integers(0, len(payload)))]
    elif flaw == "no padding":
        payload = payload.rstrip("=")
    elif flaw == "junk":
        at = draw(st.integers(0, len(payload)))
        payload = payload[:at] + draw(st.sampled_from(("!", "*", "==", "\x7f", "é"))) + payload[at:]
    word = f"=?{charset}?{kind}?{payload}" + ("" if flaw == "unclosed" else "?=")
    return word.encode("utf-8")


@functools.cache
def injected_word(flawed: bool = False) -> st.SearchStrategy[bytes]:
    """An encoded word that decodes to a line break followed by a Bcc header."""
    return st.sampled_from(INJECTIONS).flatmap(lambda text: encoded_word(text, flawed=flawed))


def _no_breaks(data: bytes) -> bytes:
    return re.sub(rb"[\r\n]", b"", data)


@functools.cache
def header_value() -> st.SearchStrategy[bytes]:
    plain = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.encode)
    words = st.tuples(st.lists(encoded_word(), min_size=1, max_size=3),
                      st.sampled_from((b" ", b"", b"\r\n ", b"\r\n\t"))).map(lambda t: t[1].join(t[0]))
    return st.one_of(plain, words, st.tuples(plain, words).map(b" ".join), st.binary(max_size=40).map(_no_breaks),
                     injected_word(flawed=True))


@functools.cache
def _local_part() -> st.SearchStrategy[bytes]:
    return st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,15}", fullmatch=True).map(str.encode)


@functools.cache
def address_value() -> st.SearchStrategy[bytes]:
    addr = _local_part().map(lambda local: local + b"@example.org")
    one = st.one_of(
        addr,
        st.tuples(header_value(), addr).map(lambda t: t[0] + b" <" + t[1] + b">"),
        st.tuples(header_value(), addr).map(lambda t: b'"' + t[0] + b'" <' + t[1] + b">"),
        st.just(b"undisclosed-recipients:;"),
        st.binary(max_size=40).map(_no_breaks))
    return st.lists(one, min_size=1, max_size=3).map(b", ".join)


def _body(cte: str, data: bytes, honest: bool) -> bytes:
    """`data` in transfer encoding `cte` when `honest`; otherwise the label lies about the bytes."""
    name = cte.split(";")[0].strip().lower()
    if not honest:
        return data
    if name == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if name == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    if name == "x-uuencode":
        lines = (binascii.b2a_uu(data[i:i + 45]) for i in range(0, len(data), 45))
        return b"begin 644 f.bin\r\n" + b"".join(lines).replace(b"\n", b"\r\n") + b"`\r\nend\r\n"
    return data


@st.composite
def _disposition(draw, filename: bytes | None) -> bytes:
    """A Content-Disposition line (or none), the file name plain, RFC 2231 encoded or split in pieces."""
    disposition = draw(st.sampled_from((None, b"inline", b"attachment", b"form-data", b"garbage;;;")))
    if disposition is None:
        return b""
    if filename is not None:
        disposition += draw(st.sampled_from((
            b'; filename="' + filename + b'"',
            b"; filename*=utf-8''" + quote_from_bytes(filename).encode(),
            b'; filename*0="' + filename[:5] + b'"; filename*1="' + filename[5:] + b'"')))
    return b"Content-Disposition: " + disposition + b"\r\n"


@st.composite
def leaf_part(draw) -> bytes:
    """A single MIME part (headers, blank line, body) with any type, charset, encoding and file name."""
    ctype = draw(st.sampled_from(("text/plain", "text/html", "application/octet-stream", "image/png",
                                  "message/delivery-status", "text/calendar", "application/ms-tnef",
                                  "multipart/mixed", "message/rfc822", "TEXT/PLAIN", "text", "x/", "")))
    charset = draw(st.one_of(st.none(), charsets()))
    cte = draw(st.one_of(st.none(), st.sampled_from(ENCODINGS)))
    if draw(st.booleans()):
        content = encode_text(draw(decoded_text(200)), charset or "utf-8")
    else:
        content = draw(st.binary(max_size=300))
    if ctype == "text/html":
        content = b"<html><body><p>" + content + b"</p><img src=\"cid:img1\"></body></html>"
    head = b"Content-Type: " + ctype.encode()
    head += b'; charset="' + charset.encode() + b'"' if charset is not None else b""
    filename = draw(st.one_of(st.none(), header_value(),
                              st.sampled_from((b"../../etc/passwd", b"C:\\boot.ini", b"\xe2\x80\xaegpj.exe", b".."))))
    if filename is not None and draw(st.booleans()):
        head += b"; name=\"" + filename + b"\""
    head += b"\r\n"
    if cte is not None:
        head += b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
    head += draw(_disposition(filename))
    if draw(st.booleans()):
        head += b"Content-ID: <img1>\r\n"
    return head + b"\r\n" + _body(cte or "", content, draw(st.booleans()))


@functools.cache
def boundaries() -> st.SearchStrategy[str]:
    return st.one_of(st.from_regex(r"[A-Za-z0-9'()+_,./:=?-]{1,69}", fullmatch=True),
                     st.sampled_from(("=_", "--", "a b", "x" * 120, "\u00e9t\u00e9", "b")))


@st.composite
def multipart(draw, children: st.SearchStrategy[bytes]) -> bytes:
    """A multipart around `children`, its boundary sometimes undeclared, wrong, unclosed or never opened."""
    kids = draw(st.lists(children, min_size=1, max_size=4))
    subtype = draw(st.sampled_from(("mixed", "alternative", "related", "report", "signed", "digest", "x-odd")))
    boundary = draw(boundaries()).encode("utf-8")
    flaw = draw(st.sampled_from(("", "", "undeclared", "wrong", "no close", "no open", "unquoted", "garbage")))
    declared = {"undeclared": b"", "wrong": b'; boundary="' + boundary + b'x"',
                "unquoted": b"; boundary=" + boundary}.get(flaw, b'; boundary="' + boundary + b'"')
    head = b"Content-Type: multipart/" + subtype.encode() + declared + b"\r\n"
    body = b"This is a multi-part message in MIME format.\r\n"
    for index, kid in enumerate(kids):
        if not (flaw == "no open" and index == 0):
            body += b"--" + boundary + b"\r\n"
        body += kid + b"\r\n"
    if flaw == "garbage":
        body += draw(st.binary(min_size=1, max_size=100))
    if flaw != "no close":
        body += b"--" + boundary + b"--\r\n"
    return head + b"\r\n" + body


@st.composite
def enclosed(draw, children: st.SearchStrategy[bytes]) -> bytes:
    """A message/rfc822 part holding a mail, sometimes (wrongly) base64 encoded."""
    inner = draw(top_headers()) + draw(children)
    cte = draw(st.sampled_from((b"", b"7bit", b"base64")))
    head = b"Content-Type: message/rfc822\r\n" + (b"Content-Transfer-Encoding: " + cte + b"\r\n" if cte else b"")
    return head + b"\r\n" + (_body("base64", inner, True) if cte == b"base64" else inner)


@functools.cache
def mime_tree() -> st.SearchStrategy[bytes]:
    return st.recursive(leaf_part(), lambda kids: st.one_of(multipart(kids), enclosed(kids)), max_leaves=8)


@functools.cache
def _extra_names() -> st.SearchStrategy[bytes]:
    return st.from_regex(r"[A-Za-z0-9-]{1,30}", fullmatch=True).map(str.encode)


@st.composite
def top_headers(draw) -> bytes:
    """The top header lines of a mail (no blank line: the root part's own headers follow)."""
    message_id = b"<" + draw(st.uuids()).hex.encode() + b"@example.org>"
    fields = [(b"From", draw(address_value())), (b"To", draw(address_value())),
              (b"Subject", draw(header_value())), (b"Message-ID", message_id)]
    for name, values in ((b"Cc", address_value()), (b"Reply-To", address_value()),
                         (b"In-Reply-To", st.just(b"<" + draw(st.uuids()).hex.encode() + b"@example.com>")),
                         (b"References", header_value()), (b"MIME-Version", st.sampled_from((b"1.0", b"2.0", b"")))):
        if draw(st.booleans()):
            fields.append((name, draw(values)))
    fields.append((b"Date", draw(st.sampled_from((b"Mon, 2 Mar 2026 10:00:00 +0100", b"yesterday",
                                                   b"Fri, 31 Feb 2026 25:61:00 +9999", b"")))))
    fields += draw(st.lists(st.tuples(_extra_names(), header_value()), max_size=4))
    return b"".join(name + b": " + value + b"\r\n" for name, value in draw(st.permutations(fields)))


@st.composite
def built_mail(draw) -> bytes:
    """A whole mail from nothing: random headers over a random MIME tree, in random line endings."""
    raw = draw(top_headers()) + draw(mime_tree())
    ending = draw(st.sampled_from((b"\r\n", b"\r\n", b"\n", b"\r")))
    return raw.replace(b"\r\n", ending)


@st.composite
def deep_mail(draw) -> bytes:
    """A leaf under 1 to 60 levels of multiparts and enclosed mails: across the nesting limit of 20."""
    body = draw(leaf_part())
    for level in range(draw(st.integers(1, 60))):
        if draw(st.integers(0, 4)) == 0:
            body = b"Content-Type: message/rfc822\r\n\r\nSubject: level " + str(level).encode() + b"\r\n" + body
        else:
            boundary = b"=_level%d" % level
            body = (b'Content-Type: multipart/' + draw(st.sampled_from((b"mixed", b"alternative", b"related")))
                    + b'; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n" + body
                    + b"\r\n--" + boundary + b"--\r\n")
    return draw(top_headers()) + b"MIME-Version: 1.0\r\n" + body


# --- mutations of the sample mails: each takes (draw, raw) and returns new bytes --------------------

_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.IGNORECASE)
_CHARSET = re.compile(rb'charset\s*=\s*"?[^";\s]*"?', re.IGNORECASE)
_CTE = re.compile(rb"^(Content-Transfer-Encoding:)[^\r\n]*", re.IGNORECASE | re.MULTILINE)
Mutation = Callable[[Callable, bytes], bytes]


def _at(draw, raw: bytes) -> int:
    return draw(st.integers(0, len(raw)))


def _truncate(draw, raw: bytes) -> bytes:
    return raw[:_at(draw, raw)]


def _cut(draw, raw: bytes) -> bytes:
    start = _at(draw, raw)
    return raw[:start] + raw[draw(st.integers(start, len(raw))):]


def _splice(draw, raw: bytes) -> bytes:
    at = _at(draw, raw)
    return raw[:at] + draw(st.binary(min_size=1, max_size=300)) + raw[at:]


def _overwrite(draw, raw: bytes) -> bytes:
    at = _at(draw, raw)
    junk = draw(st.binary(min_size=1, max_size=64))
    return raw[:at] + junk + raw[at + len(junk):]


def _boundary(draw, raw: bytes) -> bytes:
    found = _BOUNDARY.search(raw)
    if not found:
        return raw
    old = found.group(1)
    how = draw(st.sampled_from(("rename declared", "remove parameter", "remove closing", "rename delimiters")))
    if how == "rename declared":
        return raw[:found.start(1)] + draw(boundaries()).encode() + raw[found.end(1):]
    if how == "remove parameter":
        return raw[:found.start()] + raw[found.end():]
    if how == "remove closing":
        return raw.replace(b"--" + old + b"--", b"")
    return raw[:found.end()] + raw[found.end():].replace(b"--" + old, b"--" + old[:-1])


def _charset(draw, raw: bytes) -> bytes:
    return _CHARSET.sub(lambda _: b'charset="' + draw(charsets()).encode() + b'"', raw)


def _cte(draw, raw: bytes) -> bytes:
    return _CTE.sub(lambda m: m.group(1) + b" " + draw(st.sampled_from(ENCODINGS)).encode(), raw)


def _encoded_header(draw, raw: bytes) -> bytes:
    # Put first, so parse() takes this one over the sample's own field.
    name = draw(st.sampled_from((b"Subject", b"From", b"Reply-To", b"Cc", b"To")))
    value = draw(header_value() if name == b"Subject" else address_value())
    return name + b": " + value + b"\r\n" + raw


def _huge_header(draw, raw: bytes) -> bytes:
    size = draw(st.sampled_from((1_000, 70_000, 262_000, 300_000)))
    if draw(st.booleans()):
        return b"X-Huge: " + b"a" * size + b"\r\n" + raw
    return b"X-Folded: x" + b"\r\n b" * (size // 4) + b"\r\n" + raw


def _many_headers(draw, raw: bytes) -> bytes:
    return b"".join(b"X-Many-%d: v\r\n" % n for n in range(draw(st.sampled_from((50, 999, 1001, 3000))))) + raw


def _line_ends(draw, raw: bytes) -> bytes:
    ending = draw(st.sampled_from((b"\n", b"\r", b"\r\r\n", b"\n\r")))
    return raw.replace(b"\r\n", b"\n").replace(b"\n", ending)


def _wrap(draw, raw: bytes) -> bytes:
    for level in range(draw(st.integers(1, 25))):
        raw = (b"From: wrapper@example.org\r\nContent-Type: message/rfc822\r\n\r\n" + raw if level % 2 else
               b'Content-Type: multipart/mixed; boundary="w%d"\r\n\r\n--w%d\r\n' % (level, level) + raw
               + b"\r\n--w%d--\r\n" % level)
    return b"Subject: wrapped\r\n" + raw


def _control(draw, raw: bytes) -> bytes:
    at = _at(draw, raw)
    return raw[:at] + draw(st.sampled_from((b"\x00", b"\x1b[2J", b"\xc2\x85", b"\xe2\x80\xa8", b"\xff\xfe"))) + raw[at:]


def _two_header_blocks(draw, raw: bytes) -> bytes:
    head = raw.partition(b"\r\n\r\n")[0]
    return head + b"\r\n" + raw


MUTATIONS: tuple[Mutation, ...] = (_truncate, _cut, _splice, _overwrite, _boundary, _charset, _cte, _encoded_header,
                                   _huge_header, _many_headers, _line_ends, _wrap, _control, _two_header_blocks)


@st.composite
def mutated_seed(draw) -> bytes:
    """A sample mail from tests/data with one to four mutations stacked."""
    raw = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        raw = draw(st.sampled_from(MUTATIONS))(draw, raw)
    return raw


@functools.cache
def hostile_mail() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated_seed(), built_mail(), deep_mail(), st.binary(max_size=500))


def injection_mail(sender: str, message_id: str) -> st.SearchStrategy[bytes]:
    """A well-formed mail whose Subject and From name are encoded words decoding to 'x<line break>Bcc: …'."""
    def build(parts: tuple[bytes, bytes, bytes]) -> bytes:
        subject, name, body = parts
        return (b"From: " + name + b" <" + sender.encode() + b">\r\nTo: ihelp@example.com\r\n"
                b"Subject: " + subject + b"\r\nMessage-ID: <" + message_id.encode() + b">\r\n"
                b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n")

    return st.tuples(injected_word(), injected_word(), st.text(max_size=80).map(str.encode)).map(build)
