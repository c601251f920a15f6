"""Bounce understanding: which recipients failed, how badly, and which of our mails it was."""
from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from gateway.mail import bounce_scan, linear
from gateway.mail.loopguard import BOUNCE_KINDS, auto_reasons, never_answer

# Linear in any input (RE2), so the repeats need no bounds for speed; the local part keeps its RFC limit.
# [\pL\pN_]: the Unicode \w of `re` (RE2's \w is ASCII), for internationalised domain names.
_ADDRESS = linear.compile(r"[^\s<>\"'();,:\[\]@]{1,64}@(?:[\pL\pN_-]+\.)+[A-Za-z][\pL\pN_-]*",
                          name="bounce.ADDRESS")
_STATUS = linear.compile(r"([245])\.\d{1,3}\.\d{1,3}", name="bounce.STATUS")
_BODY_MESSAGE_ID = linear.compile(r"^[ \t>]*Message-ID:[ \t]*(<[^<>\s]{1,500}>)",
                                  linear.IGNORECASE | linear.MULTILINE, name="bounce.BODY_MESSAGE_ID")
_ENCODED = ("base64", "quoted-printable")
_BODY_SCAN_LIMIT = 256 * 1024  # a bounce's quoted headers sit near the top; never scan megabytes
# Where a plain-text bounce stops explaining and starts quoting the returned mail.
_RETURNED_STARTS = linear.compile(
    r"^[ \t]*(?:(?:received|return-path|message-id|from|to|subject|date|mime-version|content-type"
    r"|dkim-signature|x-[\w-]+):[ \t]"
    r"|.{0,40}(?:original message|copy of (?:the|your) message|message follows|headers follow"
    r"|this line is a copy|unsent message))", linear.IGNORECASE | linear.MULTILINE, name="bounce.RETURNED_STARTS")
_PERMANENT_TEXT = linear.compile(r"\b(?:5\.\d{1,3}\.\d{1,3}|5\d\d)\b", name="bounce.PERMANENT_TEXT")
_DELAYED_TEXT = linear.compile(r"\b(?:4\.\d{1,3}\.\d{1,3}|4\d\d)\b|delay", linear.IGNORECASE,
                               name="bounce.DELAYED_TEXT")
_WHITESPACE = linear.compile(r"\s+", name="bounce.WHITESPACE")
_BLANK_LINE = linear.compile(r"\n[ \t]*\n", name="bounce.BLANK_LINE")
_ANGLE_ID = linear.compile(r"<[^<>\s]{1,500}>", name="bounce.ANGLE_ID")


@dataclass(frozen=True)
class BounceReport:
    """What a bounce says: failed recipients, permanent or not, and the Message-ID it is about."""

    recipients: tuple[str, ...]
    permanent: bool
    delayed: bool
    original_message_id: str | None
    kind: str  # "dsn" (RFC 3464 delivery-status) | "heuristic" (flufl.bounce / X-Failed-Recipients)


def parse_bounce(msg: Message) -> BounceReport | None:
    """The BounceReport for a bounce or delay notice; None for mail that is not one.

    Example: a Postfix DSN for bob@x.org -> BounceReport(("bob@x.org",), True, False, "<id@us>", "dsn").
    """
    try:
        report = _from_dsn(msg)
        if report is None and _looks_like_bounce(msg):
            report = _from_heuristics(msg)
    except Exception:  # a malformed bounce must not break ingest; it is just not understood
        return None
    return report


def _looks_like_bounce(msg: Message) -> bool:
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type", "") or "").lower()
        return report_type not in ("feedback-report", "disposition-notification")
    if msg.get_all("x-failed-recipients"):
        return True
    reasons = auto_reasons(msg, envelope_from=None, own_addresses=(), own_domain="")
    kinds = {reason.split(":")[0] for reason in reasons}
    if kinds & (BOUNCE_KINDS - {"null sender"}):  # vacation replies use the null sender too: below
        return True
    # Vacation replies come from the null sender too (RFC 3834 asks for it): they are not bounces.
    auto_replied = "auto-submitted: auto-replied" in reasons or kinds & {"auto-reply subject", "auto-reply body", "autoreply header"}
    return "null sender" in kinds and not auto_replied


def _fields(block: str) -> dict[str, str]:
    """'Action: failed\\nStatus: 5.1.1' -> {"action": "failed", "status": "5.1.1"} (first value wins)."""
    fields: dict[str, str] = {}
    try:
        parsed = HeaderParser(policy=policy.compat32).parsestr(block)
    except Exception:
        return fields
    for name, value in parsed.items():
        fields.setdefault(name.lower(), _WHITESPACE.sub(" ", str(value)).strip())
    return fields


def _status_blocks(msg: Message) -> list[dict[str, str]]:
    """Every per-message and per-recipient field block of every message/delivery-status part."""
    blocks: list[dict[str, str]] = []
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        payload = part.get_payload()
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
        if isinstance(payload, list) and encoding not in _ENCODED:  # already split into header blocks
            texts = ["".join(f"{k}: {v}\n" for k, v in block.raw_items()) for block in payload]
        else:  # still encoded or left as text: decode and split the blocks ourselves
            texts = _BLANK_LINE.split(_delivery_status_text(payload, encoding)[:_BODY_SCAN_LIMIT])
        blocks.extend(_fields(text) for text in texts if text.strip())
    return blocks


def _delivery_status_text(payload, encoding: str) -> str:
    if isinstance(payload, list):  # the parser read encoded text as header blocks; undo that
        payload = "".join("".join(f"{k}: {v}\n" for k, v in block.raw_items()) + "\n" + str(block.get_payload())
                          for block in payload)
    raw = str(payload).encode("ascii", "replace")
    if encoding == "base64":
        raw = base64.b64decode(raw)  # non-alphabet characters (line breaks) are skipped
    elif encoding == "quoted-printable":
        raw = quopri.decodestring(raw)
    return raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def _recipient(fields: dict[str, str]) -> str | None:
    for name in ("original-recipient", "final-recipient", "x-actual-recipient"):
        value = fields.get(name, "")
        match = _ADDRESS.search(value.partition(";")[2] or value)
        if match:
            return match.group(0).strip(".").lower()
    return None


def _from_dsn(msg: Message) -> BounceReport | None:
    recipients: list[str] = []
    permanent = delayed = False
    for fields in _status_blocks(msg):
        action = fields.get("action", "").lower()
        status = _STATUS.search(fields.get("status", ""))
        klass = status.group(1) if status else None
        failed = action.startswith(("fail", "error")) or (not action and klass == "5")
        late = action.startswith("delay") or (not action and klass == "4")
        address = _recipient(fields)
        if not (failed or late) or address is None:
            continue  # delivered, relayed, expanded, or the per-message block
        if address not in recipients:
            recipients.append(address)
        permanent |= failed and klass in ("5", None)
        delayed |= late
    if not recipients:
        return None
    return BounceReport(tuple(recipients), permanent, delayed, original_message_id(msg), "dsn")


def _from_heuristics(msg: Message) -> BounceReport | None:
    temporary, permanent = _flufl_failures(msg)
    header_failed = [m.group(0).lower() for value in msg.get_all("x-failed-recipients") or ()
                     for m in _ADDRESS.finditer(str(value))]
    recipients = list(dict.fromkeys([*header_failed, *sorted(permanent), *sorted(temporary)]))
    is_permanent, is_delayed = bool(header_failed or permanent), bool(temporary)
    if not recipients:
        explanation = _explanation(msg)
        recipients = _explained_addresses(msg, explanation)
        is_permanent = bool(_PERMANENT_TEXT.search(explanation))
        is_delayed = not is_permanent and bool(_DELAYED_TEXT.search(explanation))
    if not recipients:
        return None
    return BounceReport(tuple(recipients), is_permanent, is_delayed, original_message_id(msg), "heuristic")


def _explanation(msg: Message) -> str:
    """The bounce's own prose: its first text part, up to where the returned message begins."""
    stack = [msg]
    while stack:
        part = stack.pop(0)
        if part.get_content_maintype() == "message":
            continue  # the returned mail itself: its addresses are not the failed ones
        if part.is_multipart():
            stack[:0] = [p for p in part.get_payload() if isinstance(p, Message)]
        elif part.get_content_type() == "text/plain":
            text = _text(part)[:_BODY_SCAN_LIMIT]
            end = _RETURNED_STARTS.search(text)
            return text[:end.start()] if end else text
    return ""


def _explained_addresses(msg: Message, explanation: str) -> list[str]:
    """Addresses named in the explanation, minus the bounce's own parties and machine addresses."""
    parties = {addr.lower() for _, addr in getaddresses(
        [str(v) for name in ("from", "to", "cc", "reply-to", "sender", "return-path")
         for v in msg.get_all(name) or ()])}
    found: list[str] = []
    for match in _ADDRESS.finditer(explanation):
        address = match.group(0).strip(".").lower().removeprefix("mailto:")
        if address in parties or address in found or never_answer(address, ()) is not None:
            continue
        found.append(address)
    return found[:50]


def _flufl_failures(msg: Message) -> tuple[set[str], set[str]]:
    """flufl.bounce's (temporary, permanent) addresses; only whole addresses (it sometimes yields "@host")."""
    temporary, permanent = bounce_scan.failures(msg)
    return ({a for a in temporary if _ADDRESS.fullmatch(a)}, {a for a in permanent if _ADDRESS.fullmatch(a)})


def original_message_id(msg: Message) -> str | None:
    """The Message-ID of the mail a bounce returns: attached message, attached headers, or body text."""
    for part in msg.walk():
        if part is msg:
            continue
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            found = _attached_message_id(part)
        elif kind in ("text/rfc822-headers", "text/rfc822-header", "message/rfc822-headers"):
            found = _header_text_message_id(part)
        else:
            continue
        if found:
            return found
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            match = _BODY_MESSAGE_ID.search(_text(part)[:_BODY_SCAN_LIMIT])
            if match:
                return match.group(1)
    return None


def _attached_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is not None:
        for name, value in inner.raw_items():
            if name.lower() == "message-id":
                return _clean_id(str(value))
        return None
    return _header_text_message_id(part)


def _header_text_message_id(part: Message) -> str | None:
    match = _BODY_MESSAGE_ID.search(_text(part)[:_BODY_SCAN_LIMIT])
    return match.group(1) if match else None


def _clean_id(value: str) -> str | None:
    match = _ANGLE_ID.search(value)
    return match.group(0) if match else (value.strip() or None)


def _text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return raw.decode(charset, "replace")
        except LookupError:
            return raw.decode("utf-8", "replace")
    payload = part.get_payload()
    return payload if isinstance(payload, str) else ""
