"""Build outgoing mail as bytes to send; pure, no I/O, header injection impossible."""
from __future__ import annotations

import binascii
import functools
import re
import uuid
from datetime import datetime
from email import policy, quoprimime
from email.headerregistry import Address
from email.utils import format_datetime
from typing import Mapping, Sequence

from gateway.mail.header_registry import CachedHeaderRegistry

# policy.SMTP: CRLF line ends, and every header value is checked for CR/LF before it is stored.
# cte_type 7bit: bodies go out quoted-printable/base64, so no relay needs 8BITMIME or SMTPUTF8.
POLICY = policy.SMTP.clone(cte_type="7bit", header_factory=CachedHeaderRegistry())
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field-name: printable ASCII except ':'
_MSG_ID = re.compile(r"^[!-;=?-~]+@[!-;=?-~]+$")  # printable ASCII without '<', '>' or spaces


def one_line(value: str) -> str:
    """Fold CR, LF, tabs and runs of spaces into single spaces, so text can never start a new header."""
    return " ".join(str(value).split())


def make_message_id(domain: str) -> str:
    """A new globally unique Message-ID without angle brackets, e.g. '3f2a…9c@helpdesk.example.com'."""
    return f"{uuid.uuid4().hex}@{domain.strip().lower()}"


def plus_address(address: str, token: str) -> str:
    """'ihelp@example.com', 't42.k3x9' -> 'ihelp+t42.k3x9@example.com' (an existing +detail is replaced)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        raise ValueError(f"{address!r} is not an email address; expected local@domain")
    return f"{local.partition('+')[0]}+{token}@{domain}"


@functools.lru_cache(maxsize=1024)  # the same few addresses recur: our own, the level lists, regulars
def mailbox(address: str, name: str = "") -> Address:
    """An Address for `address` with display name `name`; ValueError naming the address if unusable."""
    try:
        result = Address(display_name=one_line(name), addr_spec=one_line(address))
        # Non-ASCII addresses would need SMTPUTF8, which we do not negotiate: refuse them here, not at send.
        result.addr_spec.encode("ascii")
    except Exception as exc:  # the parser raises several unrelated types for a bad address
        raise ValueError(f"{address!r} is not a usable email address ({exc})") from None
    return result


# local@domain of atoms only: an address that parses to itself, so mail to it need not be parsed (the
# Reply-To, a new tokened address on every mail, was the one header value no cache could keep).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def address_text(address: str, name: str = "") -> str:
    """str(mailbox(address, name)), e.g. 'Help Desk <ihelp@example.com>'; ValueError for an unusable address."""
    if not name and _PLAIN_ADDRESS.fullmatch(address):
        return address
    return str(mailbox(address, name))


def bare_id(value: str) -> str | None:
    """'<a@b>' or 'a@b' -> 'a@b'; None for anything that is not a plain ASCII msg-id."""
    value = value.strip().strip("<>").strip()
    if len(value) > 900 or not _MSG_ID.match(value):
        return None
    return value


class IdListHeader(str):
    """A header of msg-ids folded between ids: the stock folder would RFC 2047-encode a long id."""

    def __new__(cls, name: str, ids: Sequence[str]) -> "IdListHeader":
        self = super().__new__(cls, " ".join(f"<{i}>" for i in ids))
        self.name = name
        self.ids = tuple(ids)
        return self

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + f"{policy.linesep} ".join(f"<{i}>" for i in self.ids) + policy.linesep


# A header value the registry would write back unchanged: printable ASCII words with single spaces, no
# encoded-word, quote, comment or group syntax, on one line. Most of ours are (dates, ids, tokened
# addresses, "auto-replied"); parsing each one with the email package cost more than the rest of the mail.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
_NOT_PLAIN = re.compile(r'=\?|[()"\\,;:\[\]]')
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
MAX_LINE = POLICY.max_line_length  # 78
_PART_HEADS = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: {}\r\n'


def header_line(name: str, value: str) -> str:
    """`name: value` as the email package writes it under POLICY (folded, RFC 2047 where needed), CRLF-ended."""
    if len(name) + 2 + len(value) <= MAX_LINE and _PLAIN.fullmatch(value) and not _NOT_PLAIN.search(value):
        return f"{name}: {value}\r\n"
    return POLICY.header_factory(name, value).fold(policy=POLICY)


def _text_part(text: str, subtype: str) -> tuple[str, str]:
    """A text part's headers and its body, encoded as the email package's set_content() encodes text as UTF-8
    under POLICY: 7bit when it is ASCII in lines of at most 78, else quoted-printable or base64, whichever
    is the shorter for its first ten lines."""
    lines = text.encode("utf-8").splitlines()
    if text.isascii() and max(map(len, lines), default=0) <= MAX_LINE:
        return _PART_HEADS.format(subtype, "7bit"), (b"\r\n".join(lines) + b"\r\n").decode("ascii")
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        whole = b"\r\n".join(lines) + b"\r\n"
        step = MAX_LINE // 4 * 3  # bytes per base64 line
        body = b"".join(binascii.b2a_base64(whole[i:i + step]) for i in range(0, len(whole), step)).decode("ascii")
        cte = "base64"
    else:
        cte = "quoted-printable"
        body = sniff_qp if len(lines) <= 10 else quoprimime.body_encode(
            (b"\n".join(lines) + b"\n").decode("latin-1"), MAX_LINE)
    return _PART_HEADS.format(subtype, cte), _LINE_ENDS.sub("\r\n", body)


def message_bytes(*, from_name: str, from_address: str, to: str, subject: str, text: str, html: str | None,
                  message_id: str, date: datetime, in_reply_to: str | None, references: Sequence[str],
                  reply_to: str | None, auto_submitted: str, loop_address: str,
                  extra: Mapping[str, str] | None = None) -> bytes:
    """One mail to one recipient, as bytes to send: text part, plus an HTML alternative when `html` is given.

    The bytes are those the email package writes for the same EmailMessage (under POLICY), written here
    without building one: headers plain enough are written as they are, the rest folded by the email
    package's header registry, bodies encoded as its content manager encodes them
    (tests/unit/notify/test_compose_bytes.py compares the two).
    Every header value passes through `one_line` or `Address`, so a customer's subject such as
    "hi\\r\\nBcc: evil@x" stays inside the Subject header. ValueError names a bad address.
    """
    own_id = bare_id(message_id)
    if own_id is None:
        raise ValueError(f"message_id {message_id!r} is not of the form local@domain")
    lines = [header_line("From", address_text(from_address, from_name)), header_line("To", address_text(to)),
             header_line("Subject", one_line(subject)), header_line("Date", format_datetime(date)),
             header_line("Message-ID", f"<{own_id}>")]
    parent = bare_id(in_reply_to) if in_reply_to else None
    if parent:
        lines.append(IdListHeader("In-Reply-To", [parent]).fold(policy=POLICY))
    chain = list(dict.fromkeys(i for i in (bare_id(r) for r in references) if i))
    if chain:
        lines.append(IdListHeader("References", chain).fold(policy=POLICY))
    if reply_to:
        lines.append(header_line("Reply-To", address_text(reply_to)))
    lines.append(header_line("Auto-Submitted", one_line(auto_submitted)))
    lines.append(header_line("X-Loop", one_line(loop_address)))
    # Exchange/Outlook: no out-of-office, delivery or read receipts in answer to our notifications.
    lines.append("X-Auto-Response-Suppress: All\r\n")
    for name, value in (extra or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"extra header name {name!r} is not a valid header field name")
        lines.append(header_line(name, one_line(value)))
    heads, payload = _text_part(text, "plain")
    if html is None:
        lines += [heads, "MIME-Version: 1.0\r\n\r\n", payload]
        return "".join(lines).encode("ascii")
    # Our own boundary, unguessable, and checked against the text (only if someone quoted one they guessed).
    boundary = f"==gw.{uuid.uuid4().hex}"
    while boundary in text or boundary in html:
        boundary = f"==gw.{uuid.uuid4().hex}"
    html_heads, html_payload = _text_part(html, "html")
    # (Folded as the registry folds it: our boundaries are all of this one length.)
    lines += ["MIME-Version: 1.0\r\n", f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n',
              f"\r\n--{boundary}\r\n", heads, "\r\n", payload,
              f"\r\n--{boundary}\r\n", html_heads, "\r\n", html_payload, f"\r\n--{boundary}--\r\n"]
    return "".join(lines).encode("ascii")
