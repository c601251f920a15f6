"""Raw mail bytes -> ParsedMail (ids, addresses, body text, attachments); raises nothing but Quarantine."""
from __future__ import annotations

import copy
import hashlib
import html as htmllib
import io
import mimetypes
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser
from urllib.parse import unquote

import inscriptis

from gateway.errors import Quarantine
from gateway.mail import header_block, linear
from gateway.mail.bigparts import elide
from gateway.mail.decode import (
    _POLICY,
    _addresses,
    _clean_text,
    _date,
    _decode_bytes,
    _decode_header,
    _decode_words,
    _fold,
    _header_defects,
    _raw_values,
    _sender,
    _unescape,
)


@dataclass(frozen=True)
class ParseLimits:
    max_header_count: int = 1000
    max_header_bytes: int = 256 * 1024  # the top-level header block
    max_depth: int = 20  # MIME nesting
    max_parts: int = 500
    max_attachments: int = 200


@dataclass(frozen=True)
class AttachmentPart:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool
    sha256: str
    size: int


@dataclass(frozen=True)
class ParsedMail:
    message: EmailMessage
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_addr: str
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[AttachmentPart, ...]
    defects: tuple[str, ...]
    # Why from_addr is "" (no From, several From headers or mailboxes, a group, no usable address): the
    # mail is from nobody we can name, so it is stored but never answered and never a command.
    from_problem: str = ""

    def header(self, name: str) -> str | None:
        """First `name` header, decoded and on one line; None when absent. Never raises."""
        try:
            raw = _raw_values(self.message, name)
            return _fold(_decode_header(name, raw[0])) if raw else None
        except Exception:  # a header accessor must not be able to crash a pipeline step
            return None

    def headers(self, name: str, limit: int = 50) -> list[str]:
        """Every `name` header (at most `limit`), decoded and on one line each. Never raises."""
        try:
            return [_fold(_decode_header(name, raw)) for raw in _raw_values(self.message, name)[:limit]]
        except Exception:
            return []


_ID = linear.compile(r"<([^<>]*)>", name="parse.ID")
_ID_SEPARATORS = linear.compile(r"[\s,]+", name="parse.ID_SEPARATORS")
_MAX_ID = 998  # RFC 5322 line limit; also the width of the message_id columns


def normalise_message_id(value: str | None) -> str | None:
    """'  <abc@x> <def@y>' -> 'abc@x' (the first <...> token, or the bare value); None when empty."""
    if not value:
        return None
    match = _ID.search(value)
    token = match.group(1) if match else value.replace("<", "").replace(">", "")
    token = "".join(ch for ch in token if not ch.isspace() and unicodedata.category(ch)[0] != "C")
    return token[:_MAX_ID] or None


def parse_id_list(value: str | None) -> tuple[str, ...]:
    """Every <...> id in a References/In-Reply-To value, in order, once each: ('a@x', 'b@y')."""
    if not value:
        return ()
    # Some clients drop the angle brackets; then bare tokens that look like ids are the best we have.
    tokens = _ID.findall(value) or [t for t in _ID_SEPARATORS.split(value) if "@" in t]
    ids = (normalise_message_id(f"<{t}>") for t in tokens)
    return tuple(dict.fromkeys(i for i in ids if i))


# --- part accessors: our policy first, the raw-string compat32 view when that fails ------------------


def _compat(part: Message) -> Message:
    view = copy.copy(part)
    view.policy = policy.compat32
    return view


def _guarded(part: Message, getter, default):
    """getter(part), retried on the compat32 view when it raises or yields U+FFFD for 8-bit bytes."""
    fallback = default
    for view in (lambda: part, lambda: _compat(part)):
        try:
            value = getter(view())
        except Exception:
            continue
        if not (isinstance(value, str) and "\ufffd" in value):
            return value
        fallback = value if fallback is default else fallback
    return fallback


_CTYPE = linear.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", name="parse.CTYPE")


def _ctype(part: Message) -> str:
    ctype = _unescape(_guarded(part, lambda p: p.get_content_type(), "text/plain")).strip().lower()
    return ctype if _CTYPE.fullmatch(ctype) and len(ctype) <= 255 else "application/octet-stream"


# Bodies taken out before parsing (gateway.mail.bigparts), by the token left in their place.
_ELIDED: ContextVar[dict[str, bytes]] = ContextVar("elided", default={})


def _payload_bytes(part: Message) -> bytes:
    elided = _ELIDED.get()
    if elided and not part.is_multipart():
        body = _guarded(part, lambda p: p.get_payload(), "")
        if isinstance(body, str) and body.strip() in elided:
            return elided[body.strip()]
    data = _guarded(part, lambda p: p.get_payload(decode=True), None)
    if isinstance(data, bytes):
        return data
    payload = _guarded(part, lambda p: p.get_payload(), "") if not part.is_multipart() else ""
    return str(payload).encode("utf-8", "surrogateescape")


def _part_text(part: Message) -> str:
    charset = _guarded(part, lambda p: p.get_content_charset(), None)
    return _clean_text(_decode_bytes(_payload_bytes(part), _unescape(str(charset)) if charset else None))


# A "--boundary" line followed by the Content-... header of a part: the boundary a body really uses.
_BOUNDARY_LINE = linear.compile(rb"^--(\S[^\r\n]{0,199}?)[ \t]*\r?\n(?:[ \t]*\r?\n)*content-",
                                linear.MULTILINE | linear.IGNORECASE, name="parse.BOUNDARY_LINE")


def _recover_parts(part: Message) -> list[Message] | None:
    """A multipart whose boundary is undeclared or wrong: find the boundary its body really uses."""
    body = _payload_bytes(part)
    match = _BOUNDARY_LINE.search(body)
    if not match:
        return None
    boundary = match.group(1).replace(b'"', b"")
    sub = BytesParser(policy=_POLICY).parsebytes(
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n' + body)
    if not sub.is_multipart():
        return None
    return [k for k in sub.get_payload() if isinstance(k, Message)] or None


class _Tree:
    """Children of each part, computed once (with boundary recovery) and shared by every walk."""

    def __init__(self) -> None:
        self._kids: dict[int, tuple[Message, list[Message] | None]] = {}

    def kids(self, part: Message) -> list[Message] | None:
        if id(part) not in self._kids:
            if part.is_multipart():
                kids = [k for k in part.get_payload() if isinstance(k, Message)]
            else:
                kids = _recover_parts(part) if _ctype(part).startswith("multipart/") else None
            self._kids[id(part)] = (part, kids)  # keeping `part` keeps its id() from being reused
        return self._kids[id(part)][1]

    def check(self, root: Message, limits: ParseLimits) -> list[str]:
        """Enforce depth and part limits without recursion; return the parts' defect names."""
        count, defects, stack = 0, [], [(root, 0)]
        while stack:
            part, depth = stack.pop()
            count += 1
            if depth > limits.max_depth:
                raise Quarantine(f"MIME nesting too deep: more than {limits.max_depth} levels")
            defects.extend(type(d).__name__ for d in part.defects)
            stack.extend((kid, depth + 1) for kid in self.kids(part) or ())
        if count > limits.max_parts:
            raise Quarantine(f"too many MIME parts: {count} > {limits.max_parts}")
        return defects


# --- body and attachments --------------------------------------------------------------------------


@dataclass
class _Found:
    plains: list[str]
    htmls: list[str]
    files: list[Message]


def _disposition(part: Message) -> str | None:
    return _guarded(part, lambda p: p.get_content_disposition(), None)


def _filename(part: Message) -> str | None:
    name = _guarded(part, lambda p: p.get_filename(), None)
    return _unescape(_decode_words(str(name))).strip() or None if name is not None else None


def _walk(part: Message, tree: _Tree, found: _Found) -> None:
    ctype, kids = _ctype(part), tree.kids(part)
    if kids is not None and ctype.startswith("multipart/"):
        if ctype != "multipart/alternative":
            for kid in kids:
                _walk(kid, tree, found)
            return
        subs = [_Found([], [], found.files) for _ in kids]
        for kid, sub in zip(kids, subs):
            _walk(kid, tree, sub)
        # Prefer the plain alternative unless it is empty; keep the richest (last) HTML alternative.
        found.plains.extend(next((s.plains for s in subs if "".join(s.plains).strip()), []))
        found.htmls.extend(next((s.htmls for s in reversed(subs) if s.htmls), []))
    elif (ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")) and \
            _disposition(part) != "attachment" and _filename(part) is None:
        (found.htmls if ctype == "text/html" else found.plains).append(_part_text(part))
    else:
        found.files.append(part)


# One alternative per element instead of a backreference (RE2 has none): an unclosed <script> ends
# at the end of the data.
_SCRIPT_OR_STYLE = linear.compile(r"<script\b.*?(?:</script\s*>|\z)|<style\b.*?(?:</style\s*>|\z)",
                                  linear.IGNORECASE | linear.DOTALL, name="parse.SCRIPT_OR_STYLE")
_TAG = linear.run("<", "<>", ">", name="parse.TAG")  # one match per tag: millions in a big page


def _html_to_text(html: str) -> str:
    try:
        text = inscriptis.get_text(html)
    except Exception:  # lxml or inscriptis choke on some broken markup
        text = ""
    if text.strip():
        return text
    # lxml also gives up silently (e.g. past its nesting limit); a crude strip is still readable.
    html = _SCRIPT_OR_STYLE.sub(" ", html)
    return htmllib.unescape(" ".join(_TAG.sub(" ", html).split()))


_OUT = _POLICY.clone(linesep="\r\n", refold_source="none", max_line_length=None)
_TYPES = mimetypes.MimeTypes()  # built-in table only, so names do not depend on the host's mime.types
_EXTENSIONS = {"application/ms-tnef": ".dat", "text/calendar": ".ics", "message/delivery-status": ".txt"}


def _compat_tree(msg: Message) -> Message:
    view = _compat(msg)
    if msg.is_multipart():
        view._payload = [_compat_tree(k) if isinstance(k, Message) else k for k in msg.get_payload()]
    return view


def _flatten_body(part: Message) -> bytes:
    """The body of a message/* part (the inner mail of a message/rfc822) as bytes."""
    for view, out in ((part, _OUT), (_compat_tree(part), policy.compat32.clone(linesep="\r\n"))):
        try:
            buf = io.BytesIO()
            BytesGenerator(buf, mangle_from_=False, policy=out).flatten(view)
        except Exception:
            continue
        blob = buf.getvalue()
        return blob[2:] if blob.startswith(b"\r\n") else blob.partition(b"\r\n\r\n")[2]
    return b""


def _inner_mail(part: Message) -> tuple[bytes, Message | None]:
    if not part.is_multipart():
        data = _payload_bytes(part)
        return data, BytesParser(policy=_POLICY).parsebytes(data)
    data = _flatten_body(part)
    cte = "".join(_raw_values(part, "content-transfer-encoding")[:1]).strip().lower()
    if cte in ("base64", "quoted-printable"):
        # Not allowed for message/rfc822, but sent anyway: the parser saw encoded text, not a mail.
        holder = Message()
        holder.set_payload(data.decode("ascii", "surrogateescape"))
        holder["Content-Transfer-Encoding"] = cte
        data = holder.get_payload(decode=True)
        return data, BytesParser(policy=_POLICY).parsebytes(data)
    kids = part.get_payload()
    return data, kids[0] if len(kids) == 1 and isinstance(kids[0], Message) else None


def _sanitise_filename(name: str | None) -> str | None:
    if not name:
        return None
    name = name.replace("/", "_").replace("\\", "_")
    # Cc: control characters; Cf: bidi overrides that disguise "gpj.exe" as "exe.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()
    if name in ("", ".", ".."):
        return None
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:199 - len(ext)]}.{ext}" if dot and stem and len(ext) <= 16 else name[:200]
    return name


def _attachment(part: Message, index: int, cids: set[str]) -> AttachmentPart:
    ctype = _ctype(part)
    raw_cid = _raw_values(part, "content-id")
    cid = normalise_message_id(_unescape(raw_cid[0])) if raw_cid else None
    name = _filename(part)
    if ctype == "message/rfc822":
        data, inner = _inner_mail(part)
        subjects = _raw_values(inner, "subject")[:1] if inner is not None else []
        subject = _fold(_decode_header("subject", subjects[0])) if subjects else ""
        name = f"{subject}.eml" if subject else name
    elif ctype.startswith("message/") or part.is_multipart():
        data = _flatten_body(part)
    else:
        data = _payload_bytes(part)
    ext = _EXTENSIONS.get(ctype) or _TYPES.guess_extension(ctype) or (".txt" if ctype.startswith("text/") else "")
    referenced = ctype.startswith("image/") and cid is not None and cid.lower() in cids
    return AttachmentPart(
        filename=_sanitise_filename(name) or f"attachment-{index}{ext}", content_type=ctype, data=data,
        content_id=cid, inline=_disposition(part) == "inline" or referenced,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data))


# --- entry point -----------------------------------------------------------------------------------

_INK = linear.compile(rb"[^ \t\n\r\x0b\x0c]", name="parse.INK")  # any byte that bytes.strip() would keep


def _parse(raw: bytes, limits: ParseLimits) -> ParsedMail:
    raw = bytes(raw)
    if not _INK.search(raw):  # not raw.strip(): that copies the whole mail, attachments and all
        raise Quarantine("empty mail: no bytes besides whitespace")
    raw = raw.lstrip(b"\r\n")  # stray blank lines before the headers would make them body
    raw, dropped = header_block.drop_bad_lines(raw, max_bytes=limits.max_header_bytes)
    header_block.check(raw, max_bytes=limits.max_header_bytes, max_count=limits.max_header_count)
    small, elided = elide(raw)
    reset = _ELIDED.set(elided)
    try:
        mail = _parse_elided(small, limits)
    finally:
        _ELIDED.reset(reset)
    return replace(mail, defects=(*mail.defects, header_block.DROPPED_HEADER)) if dropped else mail


_CID = linear.run("cid:", " \t\n\r\f\v\"'<>)", name="parse.CID", flags=linear.IGNORECASE)


def _parse_elided(raw: bytes, limits: ParseLimits) -> ParsedMail:
    try:
        msg = BytesParser(policy=_POLICY).parsebytes(raw)
    except RecursionError:
        reason = f"MIME nesting too deep: more than {limits.max_depth} levels (the parser gave up)"
        raise Quarantine(reason) from None
    tree = _Tree()
    defects = tree.check(msg, limits) + _header_defects(msg)
    found = _Found([], [], [])
    _walk(msg, tree, found)
    if len(found.files) > limits.max_attachments:
        raise Quarantine(f"too many attachments: {len(found.files)} > {limits.max_attachments}")
    cids = {unquote(c).lower() for h in found.htmls for c in _CID.findall(h)}
    plain = "\n\n".join(p.strip("\n") for p in found.plains if p.strip())
    text = plain or "\n\n".join(_html_to_text(_clean_text(h)).strip("\n") for h in found.htmls if h.strip())
    from_name, from_addr, from_problem = _sender(msg)
    subject = _raw_values(msg, "subject")
    return ParsedMail(
        message=msg,
        message_id=normalise_message_id(_unescape("".join(_raw_values(msg, "message-id")[:1]))),
        in_reply_to=parse_id_list(_unescape(" ".join(_raw_values(msg, "in-reply-to")))),
        references=parse_id_list(_unescape(" ".join(_raw_values(msg, "references")))),
        from_addr=from_addr, from_name=from_name, from_problem=from_problem,
        reply_to=tuple(a for _, a in _addresses(msg, "reply-to")),
        to=tuple(a for _, a in _addresses(msg, "to")), cc=tuple(a for _, a in _addresses(msg, "cc")),
        subject=_fold(_decode_header("subject", subject[0])) if subject else "",
        date=_date(msg), text=_clean_text(text).strip(), html=_clean_text(found.htmls[0]) if found.htmls else None,
        attachments=tuple(_attachment(p, i, cids) for i, p in enumerate(found.files, 1)),
        defects=tuple(dict.fromkeys(defects)))


def parse(raw: bytes, *, limits: ParseLimits = ParseLimits()) -> ParsedMail:
    """Parse raw mail bytes. Raises Quarantine(reason) only when the mail cannot be used at all."""
    try:
        return _parse(raw, limits)
    except Quarantine:
        raise
    except Exception as exc:  # the one boundary: anything unexpected quarantines the raw bytes
        raise Quarantine(f"parse error: {type(exc).__name__}: {str(exc)[:300]}") from exc
