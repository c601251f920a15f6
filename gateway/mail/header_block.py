"""The top-level header block as raw bytes, before the parser sees it: its limits, and lines that would end it."""
from __future__ import annotations

from gateway.errors import Quarantine
from gateway.mail import linear

_LINE = linear.compile(rb"([^\r\n]*)(\r\n|\n|\r|$)", name="header_block.LINE")
_FIELD = linear.compile(rb"[\x21-\x39\x3b-\x7e]+:", name="header_block.FIELD")  # the parser's own test for a header line
_CONTROL_BYTES = bytes(range(32)) + b"\x7f"
DROPPED_HEADER = "MalformedHeaderLineDropped"  # the defect named when drop_bad_lines drops a line


def check(raw: bytes, *, max_bytes: int, max_count: int) -> None:
    """Raise Quarantine when the header block is missing, larger than max_bytes or has more than max_count fields."""
    size = fields = 0
    for index, match in enumerate(_LINE.finditer(raw)):
        line = match.group(1)
        if not line:
            break  # the blank line that ends the header block, or the end of the data
        if not (_FIELD.match(line) or line[:1] in b" \t" or (index == 0 and line.startswith(b"From "))):
            break  # the parser starts the body here as well
        fields += bool(_FIELD.match(line))
        size = match.end()
        if size > max_bytes:
            raise Quarantine(f"header block too large: more than {max_bytes} bytes")
        if fields > max_count:
            raise Quarantine(f"too many header fields: more than {max_count}")
    if not fields:
        raise Quarantine("no header block: the data does not start with 'Name: value' header lines")


def _bad_line(line: bytes) -> bool:
    """'X-A\\0b: v': one word and a colon, the word holding a control or 8-bit byte (the parser would end
    the header block there). Words with spaces are left alone: that is body text after a missing blank line."""
    name, colon, _ = line.partition(b":")
    if not (colon and name) or b" " in name or b"\t" in name or _FIELD.match(line):
        return False
    return not name.isascii() or len(name.translate(None, _CONTROL_BYTES)) < len(name)


def drop_bad_lines(raw: bytes, *, max_bytes: int) -> tuple[bytes, bool]:
    """The mail without header lines whose name holds a control or 8-bit byte, and whether any was dropped.

    The parser would end the header block at such a line and read every later header (Auto-Submitted,
    Message-ID, ...) as body; mail programs skip the one bad line instead. Looks no further than the
    header block (at most max_bytes: check() refuses a longer one).
    """
    bad: list[tuple[int, int]] = []
    for index, match in enumerate(_LINE.finditer(raw)):
        line = match.group(1)
        if not line or match.start() > max_bytes:
            break
        if _bad_line(line):
            bad.append(match.span())
        elif not (_FIELD.match(line) or line[:1] in b" \t" or (index == 0 and line.startswith(b"From "))):
            break  # the body starts here
    if not bad:
        return raw, False
    pieces, end = [], 0
    for start, stop in bad:
        pieces.append(raw[end:start])
        end = stop
    return b"".join(pieces) + raw[end:], True
