"""Linear-time patterns for text from outside: RE2 behind the few `re` calls we use, each one registered."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import re2

# Flags as in `re`; they become RE2's inline flags. RE2's \b, \w, \d and \s are ASCII-only:
# patterns that must see letters beyond ASCII say so with \pL (e.g. "[\pL\pN_]" for a Unicode \w).
IGNORECASE, MULTILINE, DOTALL = re.IGNORECASE, re.MULTILINE, re.DOTALL
_INLINE = ((IGNORECASE, "i"), (MULTILINE, "m"), (DOTALL, "s"))
_SURROGATE = re.compile("[\ud800-\udfff]")  # one character class: linear in any engine
# What RE2 refuses, by the start of its error message -> the construct named for a person.
_CONSTRUCTS = (
    ("invalid escape sequence: \\Z", r"\Z (write \z instead)"),
    *((f"invalid escape sequence: \\{digit}", f"a backreference (\\{digit})") for digit in "123456789"),
    ("invalid escape sequence: \\", r"an escape RE2 does not know (for \uXXXX write \x{XXXX})"),
    ("invalid perl operator: (?=", "a lookahead (?=...)"),
    ("invalid perl operator: (?!", "a negative lookahead (?!...)"),
    ("invalid perl operator: (?<=", "a lookbehind (?<=...)"),
    ("invalid perl operator: (?<!", "a negative lookbehind (?<!...)"),
    ("invalid perl operator: (?P", "a named backreference (?P=...)"),
    ("invalid perl operator: (?>", "an atomic group (?>...)"),
    ("invalid perl operator: (?(", "a conditional group (?(...)"),
    ("bad repetition operator", "a possessive quantifier (*+, ++, ?+)"),
    ("invalid repetition size", "a repeat count over 1000"),
)

_SPECIAL = frozenset("\\.^$*+?()[]{}|-#&~")
REGISTRY: dict[str, "Pattern"] = {}  # every pattern compiled through here, by name: the adversarial test reads it


class Unsupported(ValueError):
    """A pattern the linear-time engine cannot run; the message names the construct."""


def _options(text_is_bytes: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception; no stderr noise
    if text_is_bytes:
        options.encoding = re2.Options.Encoding.LATIN1  # every byte one character, as in `re`
    return options


def _engine(pattern: str | bytes, flags: int):
    inline = "".join(letter for flag, letter in _INLINE if flags & flag)
    if inline:
        prefix = f"(?{inline})"
        pattern = prefix.encode() + pattern if isinstance(pattern, bytes) else prefix + pattern
    try:
        return re2.compile(pattern, _options(isinstance(pattern, bytes)))
    except re2.error as exc:
        raise Unsupported(_explain(str(exc))) from None


def _explain(message: str) -> str:
    message = message.removeprefix("b'").removeprefix('b"').rstrip("'\"").replace("\\\\", "\\")
    for start, construct in _CONSTRUCTS:
        if message.startswith(start):
            return f"uses {construct}, which the linear-time engine (RE2) cannot run ({message})"
    return f"is not a pattern the linear-time engine (RE2) can run ({message})"


def escape(text: str) -> str:
    """`text` as a literal inside a pattern: punctuation backslashed, letters and spaces kept."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def check(pattern: str) -> None:
    """Raise Unsupported (naming the construct) unless RE2 can run `pattern`; flags do not matter here."""
    _engine(pattern, 0)


def _safe(text):
    """`text` with lone surrogates (surrogate-escaped bytes) as U+FFFD: same length, valid UTF-8."""
    if isinstance(text, str):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _SURROGATE.sub("\ufffd", text)
    return text


class Pattern:
    """A compiled pattern with the `re.Pattern` methods we use; runs in time linear in the text."""

    __slots__ = ("name", "pattern", "flags", "_re2")

    def __init__(self, name: str, pattern: str | bytes, flags: int = 0) -> None:
        self.name, self.pattern, self.flags = name, pattern, flags
        self._re2 = _engine(pattern, flags)

    def __repr__(self) -> str:
        return f"linear.Pattern({self.name!r}, {self.pattern!r})"

    def search(self, text, pos: int = 0, endpos: int | None = None):
        return self._re2.search(_safe(text), pos, endpos)

    def match(self, text, pos: int = 0, endpos: int | None = None):
        return self._re2.match(_safe(text), pos, endpos)

    def fullmatch(self, text, pos: int = 0, endpos: int | None = None):
        return self._re2.fullmatch(_safe(text), pos, endpos)

    def finditer(self, text, pos: int = 0, endpos: int | None = None) -> Iterator:
        return self._re2.finditer(_safe(text), pos, endpos)

    def findall(self, text) -> list:
        return self._re2.findall(_safe(text))

    def split(self, text) -> list:
        """As re.split; the pieces are taken from `text` itself (surrogates and all)."""
        pieces, end = [], 0
        for match in self._re2.finditer(_safe(text)):
            pieces.append(text[end:match.start()])
            pieces.extend(match.groups())
            end = match.end()
        pieces.append(text[end:])
        return pieces

    def sub(self, repl: str | bytes | Callable, text, count: int = 0):
        """As re.sub; the text between matches is taken from `text` itself (surrogates and all)."""
        pieces, end = [], 0
        for number, match in enumerate(self._re2.finditer(_safe(text)), 1):
            pieces.append(text[end:match.start()])
            pieces.append(repl(match) if callable(repl) else match.expand(repl))
            end = match.end()
            if number == count:
                break
        pieces.append(text[end:])
        return text[:0].join(pieces)


def compile(pattern: str | bytes, flags: int = 0, *, name: str) -> Pattern:
    """The linear-time Pattern for `pattern`, recorded in REGISTRY under `name` (module.CONSTANT).

    Raises Unsupported for backreferences, lookaround and the like. Example:
    compile(r"^out of office\\b", IGNORECASE, name="loopguard.OOF").match("Out of Office: x") -> match
    """
    compiled = Pattern(name, pattern, flags)
    REGISTRY[name] = compiled
    return compiled


def char_class(pattern: str, *, name: str) -> re.Pattern[str]:
    """A pattern of one character class ("[...]" with an optional "+") for `re`: linear in any engine.

    For classes RE2 cannot take, such as lone surrogates. Recorded in REGISTRY like the others.
    """
    if not re.fullmatch(r"\[[^\[\]]+\]\+?", pattern):
        raise Unsupported(f"{name}: {pattern!r} is not a single character class; use compile()")
    compiled = re.compile(pattern)
    REGISTRY[name] = compiled  # type: ignore[assignment]  (same search/sub surface for the test)
    return compiled
