"""Which configured services ([[incidents.services]]) a mail names: one linear-time pattern per service."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gateway.mail import linear
from gateway.triage.features import MAX_BODY


@dataclass(frozen=True)
class Named:
    """A service the mail names, and the first of its words found."""

    service: str
    word: str


@functools.lru_cache(maxsize=64)
def pattern(service: str, words: tuple[str, ...]) -> linear.Pattern:
    """Any of `words` as a whole word, any case; a space in a word matches any run of white space."""
    return linear.compile("|".join(whole_word(word) for word in words), linear.IGNORECASE,
                          name=f"incident_services.{service}")


def whole_word(word: str) -> str:
    # RE2's \b knows ASCII word characters only: a word that starts or ends otherwise ("Zürich-Ä") is
    # bounded only where it can be, rather than never matching.
    body = r"\s+".join(re.escape(part) for part in word.split())
    edge = [r"\b" if ch.isascii() and (ch.isalnum() or ch == "_") else "" for ch in (word.strip()[:1], word.strip()[-1:])]
    return f"(?:{edge[0]}{body}{edge[1]})"


def named(services, subject: str, text: str) -> list[Named]:
    """The services of `services` (IncidentService entries, in config order) that `subject` or `text` names.

    named([IncidentService(name="mail", words=("outlook",))], "Outlook down", "") -> [Named("mail", "outlook")]
    The text is read up to triage's MAX_BODY characters, as the similarity of tickets is.
    """
    found = []
    for service in services:
        for where in (subject, text[:MAX_BODY]):
            match = pattern(service.name, service.words).search(where or "")
            if match:
                found.append(Named(service.name, " ".join(match.group(0).lower().split())))
                break
    return found
