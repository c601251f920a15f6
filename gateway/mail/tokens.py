"""Reply tokens: the secret in a ticket's plus-address (ihelp+t42.k3x9q2@example.com)."""
from __future__ import annotations

import hmac
import re
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
_TOKEN = re.compile(r"^t(\d{1,18})\.([a-z0-9]{6,32})$")


def new_secret(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def token_for(ticket_id: int, secret: str) -> str:
    return f"t{ticket_id}.{secret}"


def split_plus(address: str) -> tuple[str, str | None]:
    """'ihelp+t1.ab@x.com' -> ('ihelp@x.com', 't1.ab'); no plus part -> (address, None)."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address, None
    base, plus, detail = local.partition("+")
    return f"{base}@{domain}", (detail if plus else None)


def parse_token(detail: str | None) -> tuple[int, str] | None:
    """'t42.k3x9q2' -> (42, 'k3x9q2'); anything else -> None."""
    match = _TOKEN.match(detail or "")
    return (int(match.group(1)), match.group(2)) if match else None


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
