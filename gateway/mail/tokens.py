"""Reply tokens: the signed detail in a plus-address (ihelp+t42.l1.k3x9q2…@example.com), per recipient.

Each mail we send carries a token bound to (ticket, recipient address, role) by an HMAC over a
server key, so a token proves which address we gave it to and in what role:
  c    a customer (requester, Cc'd people): it only threads a reply onto its ticket;
  l<n> level n's recipient list, which that level's engineers read: it lets those engineers act;
  e    one engineer (or assignee) by address: it lets that address act.
Tokens of the old form (t42.<ticket secret>) keep threading, but authorise nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_lowercase + string.digits
_LEGACY = re.compile(r"^t(\d{1,18})\.([a-z0-9]{6,32})$")
_SIGNED = re.compile(r"^t(\d{1,18})\.(c|e|l\d{1,3})\.([a-z2-7]{16})$")
MAC_CHARS = 16  # base32: 80 bits of HMAC-SHA256

CUSTOMER, ENGINEER = "c", "e"


def level_role(number: int) -> str:
    return f"l{number}"


def new_secret(length: int = 10) -> str:
    """`length` characters drawn uniformly from _ALPHABET, from one read of the system's randomness (per
    character, secrets.choice() read it about twice: a system call each, once per new ticket)."""
    chars: list[str] = []
    while len(chars) < length:
        # 252 = 7 * 36: a byte below it, taken modulo 36, is any of the 36 characters equally often.
        chars += [_ALPHABET[byte % 36] for byte in secrets.token_bytes(2 * length) if byte < 252]
    return "".join(chars[:length])


def new_key() -> str:
    """A fresh server key for signing tokens (hex, 256 bits)."""
    return secrets.token_hex(32)


@dataclass(frozen=True)
class Token:
    """A token read from a plus-address. role "" and secret set: the old, unsigned form."""

    ticket_id: int
    role: str = ""
    mac: str = ""
    secret: str = ""

    @property
    def level(self) -> int | None:
        return int(self.role[1:]) if self.role.startswith("l") else None


def mac_for(key: bytes, ticket_id: int, role: str, address: str) -> str:
    message = f"{ticket_id}|{role}|{address.strip().lower()}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:MAC_CHARS]


def sign(key: bytes, ticket_id: int, role: str, address: str) -> str:
    """The token for mail about `ticket_id` to `address` in `role`, e.g. 't42.c.k3x9…'."""
    return f"t{ticket_id}.{role}.{mac_for(key, ticket_id, role, address)}"


def issued_to(key: bytes, token: Token, addresses) -> str | None:
    """The address among `addresses` this signed token was issued to, or None."""
    if not token.role:
        return None
    for address in addresses:
        if address and hmac.compare_digest(mac_for(key, token.ticket_id, token.role, address), token.mac):
            return address.strip().lower()
    return None


def split_plus(address: str) -> tuple[str, str | None]:
    """'ihelp+t1.ab@x.com' -> ('ihelp@x.com', 't1.ab'); no plus part -> (address, None)."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address, None
    base, plus, detail = local.partition("+")
    return f"{base}@{domain}", (detail if plus else None)


def parse_token(detail: str | None) -> Token | None:
    """'t42.c.abcdefghijklmnop' -> Token(42, 'c', 'abcd…'); 't42.k3x9q2' -> Token(42, secret='k3x9q2'); else None."""
    detail = detail or ""
    match = _SIGNED.match(detail)
    if match:
        return Token(int(match.group(1)), role=match.group(2), mac=match.group(3))
    match = _LEGACY.match(detail)
    return Token(int(match.group(1)), secret=match.group(2)) if match else None


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
