"""Large base64 parts decoded straight from the raw bytes, before the email parser sees the mail.

email.feedparser turns the whole mail into text, splits it into line objects and joins them again,
so a 25 MB attachment costs well over ten times its size. Here each base64 leaf body of at least
THRESHOLD bytes is replaced by a one-line token in the copy the parser gets, and decoded once with
binascii from a memoryview of the raw bytes. Anything not plainly well-formed is left to the parser.
"""
from __future__ import annotations

import binascii
import re
from email import policy
from email.parser import BytesHeaderParser

THRESHOLD = 1 << 20
_MAX_DEPTH = 20
_BLANK = re.compile(rb"\r?\n\r?\n")
_HEADERS = BytesHeaderParser(policy=policy.compat32)


def token(index: int) -> str:
    return f"GWELIDED{index:06d}"


def elide(raw: bytes) -> tuple[bytes, dict[str, bytes]]:
    """(raw with each large base64 leaf body replaced by a token line, {token: decoded body}).

    A small mail, or one this reading does not fully understand, comes back unchanged with {}.
    """
    if len(raw) < THRESHOLD:
        return raw, {}
    try:
        spans = _leaf_spans(raw, 0, len(raw), 0)
    except (ValueError, LookupError, UnicodeError):
        return raw, {}
    if not spans:
        return raw, {}
    pieces, bodies, last = [], {}, 0
    view = memoryview(raw)
    for index, (start, end) in enumerate(spans):
        try:
            data = binascii.a2b_base64(view[start:end])
        except binascii.Error:
            continue  # let the parser deal with it as it always does
        name = token(index)
        bodies[name] = data
        pieces += [view[last:start], name.encode() + b"\r\n"]
        last = end
    pieces.append(view[last:])
    return b"".join(pieces), bodies


def _leaf_spans(raw: bytes, start: int, end: int, depth: int) -> list[tuple[int, int]]:
    """(body start, body end) of each large base64 leaf inside raw[start:end], a part with headers."""
    blank = _BLANK.search(raw, start, end)
    if blank is None or depth > _MAX_DEPTH:
        return []
    headers = _HEADERS.parsebytes(raw[start:blank.start()])
    body = blank.end()
    if headers.get_content_maintype() == "multipart":
        boundary = headers.get_param("boundary")
        if not isinstance(boundary, str) or not boundary:
            return []
        return _multipart_spans(raw, body, end, boundary.encode("ascii"), depth)
    if headers.get_content_maintype() == "message":
        return []  # an encoded attached mail is parsed in turn (parse._inner_mail): leave it whole
    if str(headers.get("content-transfer-encoding", "")).strip().lower() == "base64" and end - body >= THRESHOLD:
        return [(body, end)]
    return []


def _multipart_spans(raw: bytes, body: int, end: int, boundary: bytes, depth: int) -> list[tuple[int, int]]:
    # A delimiter line is "--boundary", optionally "--", optional blanks, then the line end, as the
    # feed parser reads it; anything else (a longer boundary with this one as prefix) is body text.
    line = re.compile(rb"^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$", re.MULTILINE)
    delimiters = [m for m in line.finditer(raw, body, end)]
    spans: list[tuple[int, int]] = []
    for here, after in zip(delimiters, delimiters[1:]):
        if here.group(1):  # the close delimiter: what follows is the epilogue
            break
        part_start = raw.find(b"\n", here.end() - 1, after.start()) + 1
        part_end = after.start() - 1  # the line break before a delimiter belongs to the delimiter
        if raw[part_end - 1:part_end] == b"\r":
            part_end -= 1
        if 0 < part_start <= part_end:
            spans += _leaf_spans(raw, part_start, part_end, depth + 1)
    return spans
