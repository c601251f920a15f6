"""The plain `<local@domain> PARAMS` of MAIL FROM and RCPT TO read with string operations, without the email parser."""
from __future__ import annotations

import string

# aiosmtpd reads the path of every MAIL and RCPT with the email package's header parser (get_angle_addr):
# ~7% of serve's CPU under smtp-source, for what is nearly always `<local@domain>`. That form is read
# here in linear time, to the same result; anything else (quoted or non-ASCII local parts, comments,
# source routes, address literals, the null path) goes to aiosmtpd's parser as before.
# tests/unit/inbound/test_smtp_address.py compares the two on a table and on generated paths.
_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
_LABEL = frozenset(string.ascii_letters + string.digits + "-")


def _dot_atom(text: str, allowed: frozenset) -> bool:
    return bool(text) and all(part and allowed.issuperset(part) for part in text.split("."))


def simple_path(arg: str) -> tuple[str, str] | None:
    """(address, the parameters after it) for a plain `<local@domain>[ PARAMS]`; None for anything else."""
    if not arg.startswith("<"):
        return None
    end = arg.find(">")
    if end < 0:
        return None
    address, after = arg[1:end], arg[end + 1:]
    local, at, domain = address.rpartition("@")
    if not at or not _dot_atom(local, _ATEXT) or not _dot_atom(domain, _LABEL):
        return None
    if after:
        if after[0] != " ":
            return None
        after = after.lstrip(" ")
        if after[:1] in ("(", "\t"):  # a comment or folding white space: the parser's business
            return None
    return address, after
