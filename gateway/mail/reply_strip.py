"""Reply stripping: the part of a reply the sender just wrote, without quoted history or signature."""
from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from mailparser_reply.parser import EmailMessage as _ReplyMessage

from gateway.mail import linear

# mail-parser-reply knows the "On … wrote:" and "From:/Sent:" header forms of many languages and
# clients, but its patterns backtrack badly (20 kB of blank lines take a minute). So we only let it
# look at short windows of lines that a cheap, linear pre-check picked out, and at most
# _MAX_WINDOWS of them: its worst window takes about 5-10 ms, so a whole mail costs at most ~0.2 s
# (bench/adversarial.py measures it). Everything else here runs on RE2 (gateway.mail.linear).
# Polish is left out: its From-block pattern takes a single "Data:" line.
_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "sv", "da", "cs", "ja", "zh", "ko")
_HEADER = _ReplyMessage(text="", languages=list(_LANGUAGES)).HEADER_REGEX
_WINDOW_LINES = 4
_MAX_LINE = 300  # a reply header line is short; longer lines are content
_MAX_WINDOWS = 20

# Words that end an "On <date>, <who> wrote:" line in the languages above.
_WROTE_WORDS = ("wrote", "schrieb", "écrit", "escribió", "scritto", "schreef", "skrev", "napsal",
                "写道", "작성", "年")
# Separator lines some clients put above the quoted mail, in their several languages.
_ORIGINAL_MESSAGE = linear.compile(
    r"-{2,} ?(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|ursprungligt meddelande|oprindelig meddelelse"
    r"|původní zpráva) ?-{2,}", linear.IGNORECASE, name="reply_strip.ORIGINAL_MESSAGE")
# A forward's marker: what follows it is the content the sender passes on, not history to drop.
_FORWARD = linear.compile(
    r"(?:-{2,} ?(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado"
    r"|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande) ?-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié :?)",
    linear.IGNORECASE, name="reply_strip.FORWARD")
# Lines where the pre-check sends a window to the header patterns: a From-like field, a separator
# or forward marker, or a "wrote"-like word. Only bounded repeats, so it stays linear.
_CANDIDATE = linear.compile(
    r"^[ \t*]{0,8}(?:(?:from|von|de|van|da|från|fra|od|发件人|보낸\s?사람)\s?:|-{2,}|begin forw|anfang der|début du)"
    r"|^(?:[ \t]*[^>\s][^\n]*?)?(?P<wrote>" + "|".join(_WROTE_WORDS) + ")",
    linear.IGNORECASE | linear.MULTILINE, name="reply_strip.CANDIDATE")
# What the library's patterns miss: Gmail's Spanish ("… escribió:") and Dutch ("… schreef X <x>:")
# headers. The sentence must start like a date line and end in ":", unlike "On Monday it wrote: no".
# The word stands alone: [^\pL\pN_] either side, since RE2's \b does not know "é" or "ó" for letters.
_OWN_WROTE = linear.compile(
    r"(?:on|am|le|el|il|op|den|dne)\s(?:.{0,300}?[^\pL\pN_])?"
    r"(?:wrote|schrieb|écrit|escribió|scritto|schreef|skrev|napsal)"
    r"(?:[^\pL\pN_][^\n]{0,300})?:[ \t]*$", linear.IGNORECASE, name="reply_strip.OWN_WROTE")
SIGNATURE_DELIMITERS = frozenset({"--", "-- ", "--\t"})  # RFC 3676 "-- "; many clients trim the space
_SEPARATOR = linear.compile(r"[_\-=*]{5,}", name="reply_strip.SEPARATOR")
SCAN_LIMIT = 256 * 1024  # characters of a reply searched for its quoted history


def new_text(text: str) -> str:
    """The new part of a reply: quoted history, reply headers and the "-- " signature removed.

    Text in which nothing is quoted comes back stripped; so does text that is all history (a bare
    forward), because then the history is the content. Example:
    new_text("Works now.\\n\\nOn Mon, 3 Jun 2024, Help <h@x.com> wrote:\\n> Try again") -> "Works now."
    """
    try:
        if len(text) <= SCAN_LIMIT:
            return _new_text(text)
        # A reply's new part and the header of its history sit near the top; scanning a 25 MB log for
        # them cost seconds of CPU that no other thread could use (the regex engine holds the GIL).
        head = text[:SCAN_LIMIT]
        new = _new_text(head)
        return new if new != head.strip() else text.strip()
    except Exception:  # stripping is a convenience; the full text is stored anyway
        return text.strip() if isinstance(text, str) else ""


def _new_text(text: str) -> str:
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = norm.split("\n")
    cut = _history_start(norm, lines)
    kept = _without_quotes(lines[:cut])
    # The last "-- " line starts the signature (lines, not a pattern: a mail may hold millions).
    signature = next((i for i in range(len(kept) - 1, -1, -1) if kept[i] in SIGNATURE_DELIMITERS), None)
    if signature is not None:
        kept = kept[:signature]
    return _drop_trailing_separators("\n".join(kept)).strip() or text.strip()


def _without_quotes(lines: list[str]) -> list[str]:
    """The lines with each block of quoted ("> ") lines as one blank line, and no two blank lines in a row,
    so the paragraphs around a quote stay apart."""
    kept: list[str] = []
    for line in lines:
        if line.lstrip(" \t").startswith(">"):
            line = ""
        if line or not kept or kept[-1]:
            kept.append(line)
    return kept


def _history_start(norm: str, lines: list[str]) -> int:
    """Index of the first line of quoted history (a reply header), or len(lines) when there is none."""
    starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    windows = 0
    seen: set[int] = set()
    for match in _CANDIDATE.finditer(norm):
        index = bisect_right(starts, match.start()) - 1
        # A "wrote" word may end a header that began on the line before (Gmail wraps long ones).
        for candidate in (index - 1, index) if match.lastgroup == "wrote" else (index,):
            if candidate < 0 or candidate in seen:
                continue
            seen.add(candidate)
            stripped = lines[candidate].strip()
            if not stripped or stripped.startswith(">") or len(stripped) > _MAX_LINE:
                continue
            if _FORWARD.match(stripped):
                return len(lines)  # everything from here on is forwarded content
            if _ORIGINAL_MESSAGE.match(stripped):
                return candidate
            if windows >= _MAX_WINDOWS:
                return len(lines)
            windows += 1
            window = _window(lines, candidate)
            first_two = window.split("\n")[:2]
            if (_HEADER.match(window) or _OWN_WROTE.match(first_two[0])
                    or _OWN_WROTE.match(" ".join(first_two))):
                return candidate
    return len(lines)


def _window(lines: list[str], index: int) -> str:
    window = []
    for line in lines[index:index + _WINDOW_LINES]:
        if len(line) > _MAX_LINE:
            break
        window.append(" ".join(line.split()))  # runs of blanks are where the library's patterns backtrack
    return "\n".join(window)


def _drop_trailing_separators(head: str) -> str:
    """Drop the "_____" or "-----" lines left above a cut-off Outlook header (no regex: runs are long)."""
    while True:
        head = head.rstrip()
        last_start = head.rfind("\n") + 1
        if not _SEPARATOR.fullmatch(head[last_start:].strip()):
            return head
        head = head[:last_start]
