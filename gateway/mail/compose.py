"""Build outgoing mail as bytes to send, with the email package; pure, no I/O, header injection impossible."""
from __future__ import annotations

import functools
import hashlib
import re
import uuid
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Mapping, Sequence

from gateway.mail.header_registry import CachedHeaderRegistry

# policy.SMTP: CRLF line ends, and every header value is checked for CR/LF before it is stored.
# cte_type 7bit: bodies go out quoted-printable/base64, so no relay needs 8BITMIME or SMTPUTF8.
POLICY = policy.SMTP.clone(cte_type="7bit", header_factory=CachedHeaderRegistry())
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field-name: printable ASCII except ':'
_MSG_ID = re.compile(r"^[!-;=?-~]+@[!-;=?-~]+$")  # printable ASCII without '<', '>' or spaces
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext, ASCII
# local@domain of dot-atoms only (no quoting, comments or domain literals): every one makes a usable Address.
DOT_ATOM_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*")


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


def check_address(address: str) -> None:
    """ValueError as mailbox(address) raises it, and nothing kept: for an address made once, such as a
    reply address with its token, which in mailbox()'s cache would push out the addresses that recur.
    A plain dot-atom address is known good by a pattern, a tenth of the time the parser takes."""
    if not DOT_ATOM_ADDRESS.fullmatch(address):
        mailbox.__wrapped__(address)


def _bare_id(value: str) -> str | None:
    """'<a@b>' or 'a@b' -> 'a@b'; None for anything that is not a plain ASCII msg-id."""
    value = value.strip().strip("<>").strip()
    if len(value) > 900 or not _MSG_ID.match(value):
        return None
    return value


def _boundary(own_id: str, text: str, html: str) -> str:
    """A MIME boundary made from the Message-ID and found in neither part.

    Our own: the generator's would compile a new regex per mail to check it is unused. Not random: an
    outbox row composed again (a resend after a crash) must give the same bytes, since the maildir
    transport names a file by them. Someone who quotes the boundary they guessed gets the next one.
    """
    seed = own_id
    while True:
        boundary = "==gw." + hashlib.sha256(seed.encode()).hexdigest()[:32]
        if boundary not in text and boundary not in html:
            return boundary
        seed = boundary


class _IdListHeader(str):
    """A header of msg-ids folded between ids: the stock folder would RFC 2047-encode a long id."""

    def __new__(cls, name: str, ids: Sequence[str]) -> "_IdListHeader":
        self = super().__new__(cls, " ".join(f"<{i}>" for i in ids))
        self.name = name
        self.ids = tuple(ids)
        return self

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + f"{policy.linesep} ".join(f"<{i}>" for i in self.ids) + policy.linesep


def message_bytes(*, from_name: str, from_address: str, to: str, subject: str, text: str, html: str | None,
                  message_id: str, date: datetime, in_reply_to: str | None, references: Sequence[str],
                  reply_to: str | None, auto_submitted: str, loop_address: str,
                  extra: Mapping[str, str] | None = None) -> bytes:
    """One mail to one recipient, as bytes to send: text part, plus an HTML alternative when `html` is given.

    Every header value passes through `one_line` or `Address`, so a customer's subject such as
    "hi\\r\\nBcc: evil@x" stays inside the Subject header. ValueError names a bad address.
    """
    msg = EmailMessage(policy=POLICY)
    # Headers go in as text, which the header registry parses once per distinct value (our From, a
    # level's list, this second's Date); an Address or datetime object would be parsed every time.
    msg["From"] = str(mailbox(from_address, from_name))
    msg["To"] = str(mailbox(to))
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    own_id = _bare_id(message_id)
    if own_id is None:
        raise ValueError(f"message_id {message_id!r} is not of the form local@domain")
    msg["Message-ID"] = f"<{own_id}>"
    parent = _bare_id(in_reply_to) if in_reply_to else None
    if parent:
        msg["In-Reply-To"] = _IdListHeader("In-Reply-To", [parent])
    chain = list(dict.fromkeys(i for i in (_bare_id(r) for r in references) if i))
    if chain:
        msg["References"] = _IdListHeader("References", chain)
    if reply_to:
        msg["Reply-To"] = str(mailbox(reply_to))
    msg["Auto-Submitted"] = one_line(auto_submitted)
    msg["X-Loop"] = one_line(loop_address)
    # Exchange/Outlook: no out-of-office, delivery or read receipts in answer to our notifications.
    msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"extra header name {name!r} is not a valid header field name")
        msg[name] = one_line(value)
    msg.set_content(text)  # also sets MIME-Version, Content-Type and a safe transfer encoding
    if html is not None:
        msg.make_alternative(boundary=_boundary(own_id, text, html))
        msg.add_alternative(html, subtype="html")
        for part in msg.iter_parts():
            del part["MIME-Version"]  # add_alternative copies it into the parts; it belongs on top only
    return msg.as_bytes()
