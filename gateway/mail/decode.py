"""Decoding that never raises: bytes in any charset, RFC 2047 words, headers the email package chokes on."""
from __future__ import annotations

import codecs
import quopri
import re
import unicodedata
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


def _unescape(text: str) -> str:
    """Bytes the parser kept surrogate-escaped (8-bit headers, unknown charsets) -> text by the chain."""
    return _SURROGATES.sub(lambda m: _decode_bytes(m.group().encode("utf-8", "surrogateescape")), text)


def _clean_text(text: str) -> str:
    """One newline style and no control characters (NUL breaks PostgreSQL text columns)."""
    return _CONTROL.sub("", _unescape(text).replace("\r\n", "\n").replace("\r", "\n"))


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


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """All (display name, lowercased address) pairs of every `name` header; unusable ones dropped."""
    raws = [_unescape(v) for v in _raw_values(msg, name)]
    try:
        pairs = [(a.display_name, a.addr_spec) for raw in raws
                 for a in _POLICY.header_fetch_parse(name, raw).addresses]
        if any("\ufffd" in n for n, _ in pairs):
            raise ValueError("undecodable display name")
    except Exception:  # e.g. "address parts cannot contain CR or LF" for an encoded CR/LF in a name
        # Decoded words go in as quoted strings so that a ':' or ',' inside them is not syntax.
        quoted = [_EW.sub(lambda m: '"' + re.sub(r'["\\]', "", _fold(_decode_words(m.group()))) + '"', raw)
                  for raw in raws]
        pairs = utils.getaddresses(quoted)
    out = []
    for display, addr in pairs:
        addr = _fold(_unescape(addr)).lower()
        if addr and addr != "<>" and len(addr) <= 320 and not any(c.isspace() or c in "<>" for c in addr):
            out.append((_fold(_unescape(display)), addr))
    return out


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
