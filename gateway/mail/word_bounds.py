"""Word boundaries that can never match: RE2's \\b knows only ASCII letters, so beside "é", "à" or "ü" it
fails, and "(réseau|network)\\b" or "\\bà tous" match less than they say, silently.

dead_boundaries() finds them by walking the pattern's parse tree (Python's own parser: RE2's syntax for
what rules use is the same, and \\pL is read as a class of no letter in particular). The built-in rules
are tested with it, and an operator's rule that has one is a config error (gateway.config.RuleConfig).
"""
from __future__ import annotations

import re
import re._constants as c
import re._parser as parser

# RE2's Unicode classes, which Python's parser does not know: a class of no letter in particular here.
_UNICODE_CLASS = re.compile(r"\\[pP](\{\w+\}|\w)")
# Latin letters with diacritics reach U+024F; letters beyond are not looked for.
_LAST_LETTER = 0x24F


def dead_boundaries(pattern: str) -> str:
    """The letters outside ASCII that stand beside a \\b of `pattern` (sorted, each once); "" when none,
    or when Python cannot parse the pattern (RE2's own checks judge it then)."""
    try:
        tree = parser.parse(_UNICODE_CLASS.sub(r"\\w", pattern))
    except (re.error, RecursionError, OverflowError):
        return ""
    found: set[str] = set()
    _walk(list(tree), found)
    return "".join(sorted(found))


def _walk(items: list, found: set[str]) -> None:
    for index, (op, value) in enumerate(items):
        if op is c.AT and value is c.AT_BOUNDARY:
            beside = _edge(items[:index], last=True)[0] | _edge(items[index + 1:], last=False)[0]
            found.update(letter for letter in beside if letter.isalpha() and not letter.isascii())
        elif op is c.SUBPATTERN:
            _walk(list(value[-1]), found)
        elif op is c.BRANCH:
            for branch in value[1]:
                _walk(list(branch), found)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _walk(list(value[2]), found)


def _edge(items: list, *, last: bool) -> tuple[set[str], bool]:
    """The characters a sequence can end (last) or begin with, and whether it can be empty."""
    chars: set[str] = set()
    for op, value in (reversed(items) if last else items):
        found, empty = _item_edge(op, value, last)
        chars |= found
        if not empty:
            return chars, False
    return chars, True


def _item_edge(op, value, last: bool) -> tuple[set[str], bool]:
    if op is c.LITERAL:
        return {chr(value)}, False
    if op is c.IN:
        chars = set()
        for kind, item in value:
            if kind is c.LITERAL:
                chars.add(chr(item))
            elif kind is c.RANGE:
                chars.update(chr(code) for code in range(item[0], min(item[1], _LAST_LETTER) + 1))
            else:  # negated, or a category such as \w: no letter of its own
                return {"?"}, False
        return chars, False
    if op is c.SUBPATTERN:
        return _edge(list(value[-1]), last=last)
    if op is c.BRANCH:
        chars, empty = set(), False
        for branch in value[1]:
            found, may_be_empty = _edge(list(branch), last=last)
            chars, empty = chars | found, empty or may_be_empty
        return chars, empty
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        if _gap(value[2]):  # [^.!?\n]{0,40}, .{0,40}: it can take the space a boundary needs
            return {"?"}, False
        found, empty = _edge(list(value[2]), last=last)
        return found, empty or value[0] == 0
    if op is c.AT and value is c.AT_BOUNDARY:
        return set(), True
    return {"?"}, False  # an anchor (^, $: only the text's edge beyond), any character, a category


def _gap(sub) -> bool:
    if len(sub) != 1:
        return False
    op, value = sub[0]
    return op is c.ANY or (op is c.IN and bool(value) and value[0][0] is c.NEGATE)
