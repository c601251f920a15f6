"""Linear-time patterns for text from outside: RE2 behind the few `re` calls we use, each one registered."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import re2
# The compiled engine itself (see _engine() for why not the wrapper). A private module: used here only,
# and tests/unit/mail/test_linear.py fails when google-re2 changes it.
from re2 import _re2

# Flags as in `re`; they become RE2's inline flags. RE2's \b, \w, \d and \s are ASCII-only:
# patterns that must see letters beyond ASCII say so with \pL (e.g. "[\pL\pN_]" for a Unicode \w).
IGNORECASE, MULTILINE, DOTALL = re.IGNORECASE, re.MULTILINE, re.DOTALL
_INLINE = ((IGNORECASE, "i"), (MULTILINE, "m"), (DOTALL, "s"))
_SURROGATE = re.compile("[\ud800-\udfff]")  # one character class: linear in any engine
_NULL_SPAN = (-1, -1)
_UNANCHORED, _ANCHOR_START, _ANCHOR_BOTH = (_re2.RE2.Anchor.UNANCHORED, _re2.RE2.Anchor.ANCHOR_START,
                                            _re2.RE2.Anchor.ANCHOR_BOTH)
# Replacement templates are ours, short and trusted: `re` reads them.
_TEMPLATE = re.compile(r"\\(\d{1,2})|\\g<(\w+)>")
_TEMPLATE_BYTES = re.compile(rb"\\(\d{1,2})|\\g<(\w+)>")
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
SET_MEMORY = 8 << 20  # bytes per RE2 set, see PatternSet
SET_PROGRAM = 10000  # RE2 instructions per set, see PatternSet
REGISTRY: dict[str, "Pattern"] = {}  # every pattern compiled through here, by name: the adversarial test reads it


class Unsupported(ValueError):
    """A pattern the linear-time engine cannot run; the message names the construct (`construct`, None for a
    pattern that is not a regular expression at all, such as "(unclosed"). `reason`: RE2's own words."""

    def __init__(self, message: str, reason: str | None = None, construct: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.construct = message if reason is None else reason, construct


def _options(text_is_bytes: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception; no stderr noise
    if text_is_bytes:
        options.encoding = re2.Options.Encoding.LATIN1  # every byte one character, as in `re`
    return options


def _engine(pattern: str | bytes, flags: int):
    """The compiled RE2 program. We drive it ourselves: google-re2's `re`-like wrapper spends ~10 µs
    of Python per match, so a mail with a million small matches took seconds (see Pattern._scan)."""
    inline = "".join(letter for flag, letter in _INLINE if flags & flag)
    raw = pattern if isinstance(pattern, bytes) else pattern.encode("utf-8")
    if inline:
        raw = f"(?{inline})".encode() + raw
    engine = _re2.RE2(raw, _options(isinstance(pattern, bytes)))
    if not engine.ok():
        raise _unsupported(engine.error())
    return engine


def _unsupported(message: str | bytes) -> Unsupported:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    for start, construct in _CONSTRUCTS:
        if message.startswith(start):
            return Unsupported(f"uses {construct}, which the linear-time engine (RE2) cannot run ({message})",
                               message, construct)
    return Unsupported(f"is not a pattern the linear-time engine (RE2) can run ({message})", message)


def escape(text: str) -> str:
    """`text` as a literal inside a pattern: punctuation backslashed, letters and spaces kept."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def check(pattern: str) -> None:
    """Raise Unsupported (naming the construct) unless RE2 can run `pattern`; flags do not matter here."""
    _engine(pattern, 0)


def _utf8(text: str) -> tuple[str, bytes]:
    """(text, its UTF-8), lone surrogates (surrogate-escaped bytes) read as U+FFFD: the same length."""
    try:
        return text, text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
        return text, text.encode("utf-8")


class Pattern:
    """A compiled pattern with the `re.Pattern` methods we use; runs in time linear in the text."""

    __slots__ = ("name", "pattern", "flags", "groups", "groupindex", "_engine")

    def __init__(self, name: str, pattern: str | bytes, flags: int = 0) -> None:
        self.name, self.pattern, self.flags = name, pattern, flags
        self._engine = _engine(pattern, flags)
        self.groups = self._engine.NumberOfCapturingGroups()
        self.groupindex = {key.decode(): index for key, index in self._engine.NamedCapturingGroups()}

    def __repr__(self) -> str:
        return f"linear.Pattern({self.name!r}, {self.pattern!r})"

    def _scan(self, anchor, text, pos: int = 0, endpos: int | None = None) -> Iterator[Match]:
        """Every match from `pos`, left to right, with spans in characters of `text`."""
        endpos = len(text) if endpos is None else min(endpos, len(text))
        if isinstance(text, str):
            safe, data = _utf8(text)
            ascii_only = len(data) == len(safe)  # then byte offsets are character offsets
        else:
            data, ascii_only = text, True
        chars = _Offsets(data, ascii_only)
        at, end = chars.to_bytes(pos), chars.to_bytes(endpos)
        while at <= end:
            spans = self._engine.Match(anchor, data, at, end)
            if spans[0] == _NULL_SPAN:
                return
            yield Match(self, text, spans if ascii_only else chars.to_chars(spans))
            if anchor != _UNANCHORED:
                return
            at = spans[0][1] if spans[0][1] > at else at + chars.width(at)  # past an empty match

    def search(self, text, pos: int = 0, endpos: int | None = None) -> Match | None:
        return next(self._scan(_UNANCHORED, text, pos, endpos), None)

    def match(self, text, pos: int = 0, endpos: int | None = None) -> Match | None:
        return next(self._scan(_ANCHOR_START, text, pos, endpos), None)

    def fullmatch(self, text, pos: int = 0, endpos: int | None = None) -> Match | None:
        return next(self._scan(_ANCHOR_BOTH, text, pos, endpos), None)

    def finditer(self, text, pos: int = 0, endpos: int | None = None) -> Iterator[Match]:
        return self._scan(_UNANCHORED, text, pos, endpos)

    def findall(self, text) -> list:
        if self.groups == 0:
            return [match.group() for match in self._scan(_UNANCHORED, text)]
        if self.groups == 1:
            return [match.group(1) or text[:0] for match in self._scan(_UNANCHORED, text)]
        return [match.groups(text[:0]) for match in self._scan(_UNANCHORED, text)]

    def split(self, text) -> list:
        """As re.split; the pieces are taken from `text` itself (surrogates and all)."""
        pieces, end = [], 0
        for match in self._scan(_UNANCHORED, text):
            pieces.append(text[end:match.start()])
            pieces.extend(match.groups())
            end = match.end()
        pieces.append(text[end:])
        return pieces

    def sub(self, repl: str | bytes | Callable, text, count: int = 0):
        """As re.sub (templates: \\1 and \\g<name> only); the text between matches is `text`'s own."""
        pieces, end = [], 0
        literal = not callable(repl) and ("\\" if isinstance(repl, str) else b"\\") not in repl
        for number, match in enumerate(self._scan(_UNANCHORED, text), 1):
            start, stop = match.span()
            pieces.append(text[end:start])
            pieces.append(repl if literal else repl(match) if callable(repl) else match.expand(repl))
            end = stop
            if number == count:
                break
        pieces.append(text[end:])
        return text[:0].join(pieces)


class PatternSet:
    """Which of several patterns occur in a text, found in one pass over it per RE2::Set: a screen that
    spares searching, pattern by pattern, a text that none of them can match."""

    __slots__ = ("name", "patterns", "_sets")

    def __init__(self, name: str, patterns: tuple[str, ...], flags: int = 0) -> None:
        self.name, self.patterns = name, patterns
        inline = "".join(letter for flag, letter in _INLINE if flags & flag)
        # One pattern raises here if RE2 cannot run it, naming the construct.
        sizes = [_engine(pattern, flags).ProgramSize() for pattern in patterns]
        # Patterns in order, a set to each run of them up to SET_PROGRAM instructions. A set's DFA builds
        # its states as texts lead it to them, and bounded gaps (".{0,40}") in many patterns at once make
        # states without end: one set of all 29 priority patterns (57,000 instructions, 48 MB) took 457 us
        # on a GitHub issue it had not seen before (NLBSE'24 test split after its train split), 170 us on
        # a new help-desk mail. In sets of at most 10,000 (seven, 8 MB each) 103 us and 41 us, 32 MB
        # resident in all against 49 MB; 16 MB each bought nothing. Each set's cap bounds its memory: on
        # text mashed from the patterns' own words (tests/adversarial.py) 48 MB in all against 44 MB.
        self._sets: list[tuple[int, _re2.Set]] = []  # (index of the set's first pattern, RE2 set)
        first, program = 0, 0
        for index, size in enumerate(sizes):
            if index > first and program + size > SET_PROGRAM:
                self._sets.append((first, self._compiled(patterns[first:index], inline)))
                first, program = index, 0
            program += size
        self._sets.append((first, self._compiled(patterns[first:], inline)))

    def _compiled(self, patterns: tuple[str, ...], inline: str) -> _re2.Set:
        options = _options(False)
        options.max_mem = SET_MEMORY
        compiled = _re2.Set(_UNANCHORED, options)
        # First the empty pattern, found in every text: RE2::Set reports giving up (its DFA out of
        # memory) only as "no match", so an answer without it means "could not tell", never "none".
        compiled.Add(b"")
        for pattern in patterns:
            if compiled.Add((f"(?{inline})" if inline else "").encode() + pattern.encode("utf-8")) < 0:
                raise Unsupported(f"{self.name}: {pattern!r} could not join the set")
        if not compiled.Compile():
            raise Unsupported(f"{self.name}: the patterns do not fit in one RE2 set")
        return compiled

    def __repr__(self) -> str:
        return f"linear.PatternSet({self.name!r}, {len(self.patterns)} patterns in {len(self._sets)} sets)"

    def which(self, text: str) -> frozenset[int] | None:
        """The indices (in `patterns`) of those that match somewhere in `text`, as search() would find;
        None when the engine could not tell, and the caller must search each pattern itself."""
        data = _utf8(text)[1]
        found: list[int] = []
        for first, compiled in self._sets:
            indices = compiled.Match(data)
            if 0 not in indices:
                return None
            found.extend(first + index - 1 for index in indices if index)
        return frozenset(found)


class _Offsets:
    """Byte offsets in the UTF-8 text <-> character offsets, counted forward from the last one asked."""

    __slots__ = ("data", "ascii_only", "byte", "char")

    def __init__(self, data: bytes, ascii_only: bool) -> None:
        self.data, self.ascii_only, self.byte, self.char = data, ascii_only, 0, 0

    def to_bytes(self, char: int) -> int:
        return char if self.ascii_only else _re2.CharLenToBytes(self.data, 0, char)

    def width(self, byte: int) -> int:
        return 1 if self.ascii_only else max(_re2.CharLenToBytes(self.data, byte, 1), 1)

    def to_chars(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """One match's spans in characters. Its offsets come in order and none lies before the end of
        the match before, so counting on from there keeps the whole scan linear."""
        chars = {-1: -1}
        for byte in sorted({offset for span in spans for offset in span if offset >= 0}):
            if byte < self.byte:  # only when a caller scans again from an earlier pos: count afresh
                self.byte = self.char = 0
            self.char += _re2.BytesToCharLen(self.data, self.byte, byte)
            self.byte = byte
            chars[byte] = self.char
        return [(chars[start], chars[stop]) for start, stop in spans]


class Match:
    """One match: group(), groups(), start(), end(), span(), lastgroup and expand(), as in `re`."""

    __slots__ = ("re", "string", "_spans")

    def __init__(self, pattern: Pattern, string, spans) -> None:
        self.re, self.string, self._spans = pattern, string, spans

    def _index(self, group: int | str) -> int:
        index = self.re.groupindex[group] if isinstance(group, str) else group
        if not 0 <= index <= self.re.groups:
            raise IndexError("no such group")
        return index

    def __getitem__(self, group: int | str):
        start, stop = self._spans[self._index(group)]
        return None if start < 0 else self.string[start:stop]

    def group(self, *groups):
        if len(groups) > 1:
            return tuple(self[group] for group in groups)
        return self[groups[0] if groups else 0]

    def groups(self, default=None) -> tuple:
        return tuple(default if (value := self[index]) is None else value for index in range(1, self.re.groups + 1))

    def start(self, group: int | str = 0) -> int:
        return self._spans[self._index(group)][0]

    def end(self, group: int | str = 0) -> int:
        return self._spans[self._index(group)][1]

    def span(self, group: int | str = 0) -> tuple[int, int]:
        return tuple(self._spans[self._index(group)])

    @property
    def lastgroup(self) -> str | None:
        """The name of the group that closed last (the outermost on a tie), as `re` has it."""
        matched = [(stop, -index) for index, (start, stop) in enumerate(self._spans) if index and start >= 0]
        if not matched:
            return None
        last = -max(matched)[1]
        return next((name for name, index in self.re.groupindex.items() if index == last), None)

    def expand(self, template):
        """`template` with \\1..\\99 and \\g<name> replaced by those groups ("" when unmatched)."""
        empty = template[:0]
        pattern = _TEMPLATE if isinstance(template, str) else _TEMPLATE_BYTES

        def one(ref) -> str | bytes:
            key = ref.group(1) or ref.group(2)
            key = int(key) if key.isdigit() else key.decode() if isinstance(key, bytes) else key
            return self[key] or empty
        return pattern.sub(one, template)


def compile(pattern: str | bytes, flags: int = 0, *, name: str) -> Pattern:
    """The linear-time Pattern for `pattern`, recorded in REGISTRY under `name` (module.CONSTANT).

    Raises Unsupported for backreferences, lookaround and the like. Example:
    compile(r"^out of office\\b", IGNORECASE, name="loopguard.OOF").match("Out of Office: x") -> match
    """
    compiled = Pattern(name, pattern, flags)
    REGISTRY[name] = compiled
    return compiled


def run(opening: str, excluded: str, closing: str = "", *, name: str, flags: int = 0) -> re.Pattern[str]:
    """`opening`, a run of characters not in `excluded`, then `closing` (or, without one, a run of 1+),
    for `re`, which does these without backtracking and ~20x faster per match than RE2 from Python.

    Only linear when every failed attempt ends before the next can start: so with a `closing`, both
    it and `opening` must begin with an excluded character. Example: run("<", "<>", ">") is "<[^<>]*>".
    """
    if closing and not (opening[:1] in excluded and closing[:1] in excluded):
        raise Unsupported(f"{name}: {opening!r} and {closing!r} must start with characters the run excludes")
    excluded_class = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in excluded)
    body = f"{re.escape(opening)}([^{excluded_class}]" + (f"*){re.escape(closing)}" if closing else "+)")
    compiled = re.compile(body, flags)
    REGISTRY[name] = compiled  # type: ignore[assignment]
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
