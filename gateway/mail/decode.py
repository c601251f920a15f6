"""Decoding that never raises: bytes in any charset, RFC 2047 words, headers the email package chokes on."""
from __future__ import annotations

import base64
import codecs
import quopri
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy, utils
from email.message import Message
from email.policy import EmailPolicy

from gateway.mail import linear
from gateway.mail.header_registry import CachedHeaderRegistry

# --- text decoding: every charset works or degrades, nothing raises --------------------------------

# Mail labels often name a subset of what the sender really used: decode with the superset first.
_SUPERSETS = {"gb2312": ("gb18030",), "gbk": ("gb18030",), "x-gbk": ("gb18030",), "big5": ("big5hkscs", "cp950"),
              "iso-2022-jp": ("iso2022_jp_ext", "iso2022_jp_2"), "shift_jis": ("cp932",), "euc-kr": ("cp949",),
              "ks_c_5601-1987": ("cp949",), "iso-8859-1": ("cp1252",), "latin1": ("cp1252",)}
# Western labels are often stuck on UTF-8 text by misconfigured senders; valid UTF-8 wins for those.
_WESTERN = {"iso-8859-1", "latin1", "latin-1", "iso-8859-15", "windows-1252", "cp1252", "us-ascii", "ascii"}
# Lone surrogates cannot go to RE2 (it reads UTF-8): one character class each, linear in `re` too.
_SURROGATES = linear.char_class("[\udc80-\udcff]+", name="decode.SURROGATES")
_CONTROL = linear.char_class("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", name="decode.CONTROL")
_LINE_BREAKS = linear.compile("[\r\n\t\x0b\x0c\x85\u2028\u2029]+", name="decode.LINE_BREAKS")


def _decode_bytes(data: bytes, charset: str | None = None) -> str:
    label = (charset or "").strip().strip("\"'").lower()
    chain = [*_SUPERSETS.get(label, ()), label, "utf-8", "cp1252"]
    if label in _WESTERN and not data.isascii():
        chain.insert(0, "utf-8")
    for name in chain:
        try:
            if name and codecs.lookup(name)._is_text_encoding:
                return data.decode(name)
        except Exception:  # unknown label, invalid bytes, or an exotic codec failing its own way
            continue
    return data.decode("latin-1", errors="replace")


# A regex holds the GIL for its whole run: over a 25 MB body that was a second in which no other
# thread (the event loop's included) could run. Long texts go through it in pieces of this size.
_PIECE = 1 << 20


def _has_surrogates(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unescape(text: str) -> str:
    """Bytes the parser kept surrogate-escaped (8-bit headers, unknown charsets) -> text by the chain."""
    if len(text) > _PIECE and not _has_surrogates(text):  # one pass in C, without the regex
        return text
    return _SURROGATES.sub(lambda m: _decode_bytes(m.group().encode("utf-8", "surrogateescape")), text)


def _clean_text(text: str) -> str:
    """One newline style and no control characters (NUL breaks PostgreSQL text columns)."""
    text = _unescape(text).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) <= _PIECE:
        return _CONTROL.sub("", text)
    # One character class: no match can span two pieces.
    return "".join(_CONTROL.sub("", text[start:start + _PIECE]) for start in range(0, len(text), _PIECE))


def _fold(text: str) -> str:
    """Line breaks (also encoded ones, the classic header-injection trick) and tabs become one space."""
    pieces = (piece.strip(" ") for piece in _LINE_BREAKS.split(text))
    text = " ".join(piece for piece in pieces if piece)
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs")).strip()


_EW = linear.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=", name="decode.EW")
_EW_GAP = linear.compile(r"\?=\s+=\?", name="decode.EW_GAP")  # white space between two encoded words
_FOLD = linear.compile(r"\r?\n([ \t])", name="decode.FOLD")  # a folded header line: the break goes


def _decode_words(value: str) -> str:
    """RFC 2047 decoding of our own, used when the email package fails or yields U+FFFD."""

    def one(match) -> str:
        charset, kind, payload = match.groups()
        try:
            if kind in "bB":
                data = codecs.decode((payload + "=" * (-len(payload) % 4)).encode("ascii"), "base64")
            else:
                data = quopri.decodestring(payload.encode("utf-8", "surrogateescape"), header=True)
        except Exception:
            return match.group()
        return _decode_bytes(data, charset.split("*")[0])

    return _EW.sub(one, _EW_GAP.sub("?==?", value))


# --- headers ---------------------------------------------------------------------------------------

_UNSTRUCTURED = CachedHeaderRegistry(use_default_map=False)  # every header read as plain text


# Used while parsing too (the parser itself reads Content-Type), and by every module that reads
# ParsedMail.message, so none of them can crash on a header the email package cannot parse.
class _TolerantPolicy(EmailPolicy):
    """policy.default, but 8-bit header bytes decode by the chain and unparsable headers read as text."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = _unescape(value)
        try:
            return super().header_fetch_parse(name, value)
        except Exception:
            pass
        try:
            return _UNSTRUCTURED(name, value.replace("\r", "").replace("\n", ""))
        except Exception:
            return value

    def __reduce__(self):
        # Parsed mail is pickled to and from the preparation processes (gateway/prepare_pool.py): the header
        # registry (classes made at run time, a cache) stays behind, the copy uses the receiver's own.
        return _tolerant_policy, ({key: value for key, value in vars(self).items() if key != "header_factory"},)


def _tolerant_policy(changed: dict) -> _TolerantPolicy:
    return _POLICY.clone(**changed) if changed else _POLICY


_POLICY = _TolerantPolicy(header_factory=CachedHeaderRegistry())
_DEFAULT = policy.default.clone(header_factory=_POLICY.header_factory)  # the stock reading, for defects


def _raw_values(msg: Message, name: str) -> list[str]:
    lowered = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == lowered]


def _decode_header(name: str, raw: str) -> str:
    value = _unescape(raw)
    try:
        text = _unescape(str(_POLICY.header_fetch_parse(name, value)))
    except Exception:
        text = "\ufffd"
    if "\ufffd" in text and "\ufffd" not in value:  # an encoded word with bytes its charset cannot decode
        text = _decode_words(_FOLD.sub(r"\1", value))
    return text


def _reencode_words(raw: str) -> str:
    """Each encoded word replaced by the UTF-8 base64 word of its own decoding, folded to one line.

    The address parser then finds the structure on the raw text, where an encoded ':' or ',' is not
    syntax, and decodes names only afterwards (as mail programs and DMARC checkers do); a decoded
    CR/LF or an undecodable byte can no longer make it fail and send us to a weaker fallback.
    Only words standing alone as a token (RFC 2047 section 5) are touched, so no token boundary moves.
    """
    words: list[tuple[int, int, str]] = []  # (start, end, decoded text) of each run of adjacent words
    for match in _EW.finditer(raw):
        start, end = match.span()
        before, after = raw[start - 1:start], raw[end:end + 1]
        alone = (before in ("", '"', "(") or before.isspace()) and (after in ("", '"', ")") or after.isspace())
        if not alone:
            continue
        text = _decode_words(match.group())
        if words and not raw[words[-1][1]:start].strip():  # whitespace between two words is not text
            start, text = words[-1][0], words.pop()[2] + text
        words.append((start, end, text))
    out, end = [], 0
    for start, stop, text in words:
        encoded = base64.b64encode(_fold(text).encode("utf-8", "surrogatepass")).decode("ascii")
        out += [raw[end:start], "=?utf-8?b?", encoded, "?="]
        end = stop
    return "".join(out) + raw[end:]


@dataclass(frozen=True)
class AddressField:
    """Every mailbox of one header name: (display name, lowercased address), usable ones only."""

    pairs: tuple[tuple[str, str], ...]
    headers: int  # how many such header lines the mail has
    parsed: int  # mailboxes found, usable or not
    grouped: bool  # "name: a@b, c@d;" group syntax was used


def _address_field(msg: Message, name: str) -> AddressField:
    raws = [_reencode_words(_unescape(v)) for v in _raw_values(msg, name)]
    try:
        fields = [_POLICY.header_fetch_parse(name, raw) for raw in raws]
        pairs = [(a.display_name, a.addr_spec) for f in fields for a in f.addresses]
        grouped = any(g.display_name is not None for f in fields for g in f.groups)
    except Exception:  # the stdlib parser gave up (or fell back to plain text): the lenient one, still raw
        pairs = [(_fold(_decode_words(n)), a) for n, a in utils.getaddresses(raws) if n or a]
        grouped = False
    out = []
    for display, addr in pairs:
        addr = _fold(_unescape(addr)).lower()
        if addr and addr != "<>" and len(addr) <= 320 and not any(c.isspace() or c in "<>" for c in addr):
            out.append((_fold(_unescape(display)), addr))
    return AddressField(tuple(out), len(raws), len(pairs), grouped)


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """All (display name, lowercased address) pairs of every `name` header; unusable ones dropped."""
    return list(_address_field(msg, name).pairs)


def _sender(msg: Message) -> tuple[str, str, str]:
    """(display name, address, problem) of From; address "" and the problem said when From is not one mailbox.

    Example: 'From: a@x, b@y' -> ("", "", "2 addresses in From"). Such mail is from nobody we can name:
    stored, but never answered and never a command.
    """
    field = _address_field(msg, "from")
    if field.headers != 1:
        return "", "", "no From header" if not field.headers else f"{field.headers} From headers"
    if field.grouped:
        return "", "", "group syntax in From"
    if field.parsed != 1:
        return "", "", "no address in From" if not field.parsed else f"{field.parsed} addresses in From"
    if not field.pairs or "@" not in field.pairs[0][1]:
        return "", "", "unusable address in From"
    # The lenient parser reads the raw text without decoding anything: when it finds another address,
    # the strict one decoded an encoded word inside the address itself, which no mail program shows.
    raws = [_reencode_words(_unescape(v)) for v in _raw_values(msg, "from")]
    lenient = {_fold(a).lower() for _, a in utils.getaddresses(raws) if a}  # "a@x <a@x>" reads a@x twice
    if lenient != {field.pairs[0][1]}:
        return "", "", "From is read as different addresses by different parsers"
    return *field.pairs[0], ""


def _date(msg: Message) -> datetime | None:
    raws = _raw_values(msg, "date")
    if not raws:
        return None
    try:
        when = _POLICY.header_fetch_parse("date", raws[0]).datetime
    except Exception:
        try:
            when = utils.parsedate_to_datetime(raws[0])
        except Exception:
            return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # "-0000" means UTC, zone unknown


def _header_defects(msg: Message) -> list[str]:
    names = []
    for name, raw in msg.raw_items():
        try:
            names.extend(type(d).__name__ for d in _DEFAULT.header_fetch_parse(name, str(raw)).defects)
        except Exception:  # the email package itself crashed on it; we read it through the fallbacks
            names.append("InvalidHeaderDefect")
    return names
