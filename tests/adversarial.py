"""Adversarial inputs built from a pattern's own pieces, and the time each shipped pattern takes on them."""
from __future__ import annotations

import importlib
import re
import time
from collections.abc import Iterator

# Every module that compiles patterns for outside text: importing them fills linear.REGISTRY.
PATTERN_MODULES = (
    "gateway.mail.loopguard", "gateway.mail.autotext", "gateway.mail.bounce", "gateway.mail.reply_strip",
    "gateway.mail.commands", "gateway.mail.parse", "gateway.mail.decode", "gateway.pipeline.rules",
    "gateway.triage.clauses",
)
# Characters that start or continue the constructs mail heuristics look for.
GENERIC = (" ", "\n", "\t", "\r\n", "-", "--", ">", "> ", "a@", "a@b.", "=?", "?=", "<", "<a", "a", "a ",
           ",", ", a@b,", ".", ":", "0", "5.", "/", "*", "_", "=", "\u00e9", "x:", "on ")
_LITERAL = re.compile(r"[a-z' \u00c0-\uffff]{2,}", re.IGNORECASE)


def registry() -> dict:
    """name -> compiled pattern, for every shipped pattern that runs on text from outside."""
    for module in PATTERN_MODULES:
        importlib.import_module(module)
    from gateway.mail import linear

    return dict(linear.REGISTRY)


def pieces(source: str | bytes, limit: int = 40) -> list[str]:
    """The literal words of a pattern ("dear ", "out of office", …) and the generic trouble-makers."""
    text = source.decode("latin-1") if isinstance(source, bytes) else source
    text = re.sub(r"\\[a-zA-Z]", " ", text)  # \s, \b, \d are not literal letters
    words = list(dict.fromkeys(m.group() for m in _LITERAL.finditer(text)))[:limit]
    return words + [w + " " for w in words[:limit // 2]] + list(GENERIC)


def inputs(source: str | bytes, size: int) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs of about `size` characters: each piece repeated, then a character that spoils it."""
    for piece in pieces(source):
        repeats = max(size // len(piece), 1)
        yield f"{piece!r} x {repeats} + 'x'", piece * repeats + "x"
        yield f"{piece + chr(10)!r} x {repeats} + 'x'", (piece + "\n") * (repeats // 2) + "x"


def time_pattern(pattern, text) -> float:
    """Seconds for search and match of `text` (bytes patterns get the text as Latin-1 bytes)."""
    if isinstance(pattern.pattern, bytes):
        text = text.encode("utf-8", "replace")
    start = time.perf_counter()
    pattern.search(text)
    pattern.match(text)
    return time.perf_counter() - start


def worst_times(size: int = 100_000) -> list[tuple[str, str, float]]:
    """(pattern name, input kind, seconds) of the slowest input for each registered pattern."""
    worst = []
    for name, pattern in sorted(registry().items()):
        found = max(((kind, time_pattern(pattern, text)) for kind, text in inputs(pattern.pattern, size)),
                    key=lambda item: item[1])
        worst.append((name, found[0], found[1]))
    return worst
