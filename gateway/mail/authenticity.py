"""Is the From of a mail plausibly its real sender? Our MTA's Authentication-Results, else the envelope.

Anyone can write any From. Before the gateway mails that address (an acknowledgement) or lets it
join a ticket on the strength of being a participant, the From must be plausible:
  1. an Authentication-Results header (RFC 8601) from one of *our* MTAs (security.trusted_authserv_ids)
     says dmarc=pass, or dkim/spf=pass for a domain aligned with the From's organisational domain;
     when such a header is present and says none of that, the From is not plausible;
  2. otherwise the envelope sender (MAIL FROM, else the Return-Path our MTA wrote) is the From
     address, or shares its organisational domain (a bounce address of the same company).
Headers from any other authserv-id are ignored: a sender can write those too.
"""
from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Plausibility:
    plausible: bool
    why: str


@functools.lru_cache(maxsize=1)
def _suffixes():
    from publicsuffixlist import PublicSuffixList  # the list ships inside the package: nothing is fetched

    return PublicSuffixList()


@functools.lru_cache(maxsize=4096)
def organisational_domain(domain: str) -> str:
    """'mail.corp.example.co.uk' -> 'example.co.uk' (the Public Suffix List's registrable domain)."""
    domain = domain.strip().strip(".").lower()
    return _suffixes().privatesuffix(domain) or domain


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower()


def aligned(a: str, b: str) -> bool:
    return bool(a) and bool(b) and organisational_domain(a) == organisational_domain(b)


def check(*, from_addr: str, envelope_from: str | None, return_path: str | None,
          auth_results: Iterable[str], trusted_ids: Collection[str]) -> Plausibility:
    """Whether `from_addr` plausibly sent the mail, and why (one line for the ticket's history)."""
    if not from_addr:
        return Plausibility(False, "no usable From address")
    verdicts = [results for value in auth_results
                if (results := parse_auth_results(value)) is not None and results[0] in trusted_ids]
    if verdicts:
        return _by_auth_results(from_addr, verdicts)
    envelope = envelope_from if envelope_from is not None else return_path
    if envelope is None:
        return Plausibility(False, "envelope sender unknown and no Authentication-Results from our MTA")
    envelope = envelope.strip().strip("<>").strip().lower()
    if not envelope:
        return Plausibility(False, "null envelope sender")
    if envelope == from_addr:
        return Plausibility(True, "envelope sender is the From address")
    if aligned(domain_of(envelope), domain_of(from_addr)):
        return Plausibility(True, f"envelope sender {envelope} shares the From's organisational domain")
    return Plausibility(False, f"envelope sender {envelope} is of another domain than From {from_addr}")


def _by_auth_results(from_addr: str, verdicts: list[tuple[str, list[tuple[str, str, dict[str, str]]]]]) -> Plausibility:
    from_domain, seen = domain_of(from_addr), []
    for authserv_id, results in verdicts:
        for method, result, props in results:
            seen.append(f"{method}={result}")
            if result != "pass":
                continue
            if method == "dmarc" and aligned(props.get("header.from", from_domain), from_domain):
                return Plausibility(True, f"dmarc=pass by {authserv_id}")
            if method == "dkim" and aligned(props.get("header.d") or domain_of(props.get("header.i", "")),
                                            from_domain):
                return Plausibility(True, f"dkim=pass for an aligned domain by {authserv_id}")
            if method == "spf" and aligned(domain_of(props.get("smtp.mailfrom", "")) or props.get("smtp.helo", ""),
                                           from_domain):
                return Plausibility(True, f"spf=pass for an aligned domain by {authserv_id}")
    ids = ", ".join(sorted({v[0] for v in verdicts}))
    return Plausibility(False, f"Authentication-Results by {ids}: no aligned pass ({', '.join(seen) or 'none'})")


MAX_HEADER = 4096  # an Authentication-Results header longer than this is read only this far


def parse_auth_results(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]] | None:
    """'mx.example.com; dkim=pass header.d=x.org' -> ('mx.example.com', [('dkim', 'pass', {'header.d': 'x.org'})]).

    Comments are dropped and quoted strings kept whole; one pass over the text, so linear in its length.
    None when there is no authserv-id.
    """
    segments = _segments(value[:MAX_HEADER])
    if not segments or not segments[0]:
        return None
    authserv_id = segments[0][0].lower()
    results = []
    for tokens in segments[1:]:
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = {}
        for token in tokens[1:]:
            name, eq, val = token.partition("=")
            if eq and "." in name:
                props.setdefault(name.lower(), val.strip('"').lower())
        results.append((method.split("/")[0].lower(), result.lower(), props))
    return authserv_id, results


def _segments(text: str) -> list[list[str]]:
    """Split on ';' into whitespace-separated tokens, outside quotes and (nested) comments."""
    segments: list[list[str]] = [[]]
    token: list[str] = []
    depth, quoted, escaped = 0, False, False

    def end_token() -> None:
        if token:
            segments[-1].append("".join(token))
            token.clear()

    for ch in text:
        if escaped:
            escaped = False
            if not depth:
                token.append(ch)
        elif ch == "\\":
            escaped = True
        elif quoted:
            token.append(ch)
            quoted = ch != '"'
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth:
            continue
        elif ch == '"':
            token.append(ch)
            quoted = True
        elif ch == ";":
            end_token()
            segments.append([])
        elif ch.isspace():
            end_token()
        else:
            token.append(ch)
    end_token()
    return segments
