"""flufl.bounce's detectors on a bounded copy of a mail, so their backtracking patterns only see short lines."""
from __future__ import annotations

import copy
import logging
from email.message import Message

from flufl.bounce import all_failures

# flufl's patterns ("<([^>]*)>:", ".*<([^>]*)>", ...) cost up to n² per line, and its 17 detectors
# each loop over every line in Python, so each line is cut to _MAX_LINE, the text to _BUDGET
# characters and _MAX_LINES lines. Real bounce explanations name the failed address near the top,
# on short lines; what is cut is the returned mail and base64 noise.
_MAX_LINE = 256
_BUDGET = 32 * 1024
_MAX_LINES = 600
_MAX_PARTS = 20


def failures(msg: Message) -> tuple[set[str], set[str]]:
    """flufl.bounce's (temporary, permanent) failed addresses, lower case; empty sets when none or it breaks.

    Example: failures(qmail_bounce) -> (set(), {"bob@example.org"}).
    """
    flufl_log = logging.getLogger("flufl.bounce")
    was_disabled, flufl_log.disabled = flufl_log.disabled, True  # it logs a traceback, then re-raises
    try:
        temporary, permanent = all_failures(bounded_copy(msg))
    except Exception:
        return set(), set()
    finally:
        flufl_log.disabled = was_disabled
    return _text(temporary), _text(permanent)


def _text(addresses) -> set[str]:
    decoded = (a.decode("ascii", "replace") if isinstance(a, bytes) else str(a) for a in addresses)
    return {a.strip().strip("<>").lower() for a in decoded if a.strip()}


def bounded_copy(msg: Message) -> Message:
    """A copy of `msg` with at most _BUDGET characters in _MAX_LINES lines of _MAX_LINE, in _MAX_PARTS parts."""
    budget = [_BUDGET, _MAX_PARTS, _MAX_LINES]
    return _copy(msg, budget)


def _copy(part: Message, budget: list[int]) -> Message:
    clone = copy.copy(part)  # shallow: headers are shared read-only, the payload is replaced below
    budget[1] -= 1
    payload = part.get_payload()
    if isinstance(payload, list):
        kids = [_copy(kid, budget) for kid in payload if isinstance(kid, Message) and budget[1] > 0]
        clone.set_payload(kids)
    elif isinstance(payload, str):
        clone.set_payload(_clip(payload, budget))
    return clone


def _clip(text: str, budget: list[int]) -> str:
    text = text[:max(budget[0], 0)]
    lines = [line[:_MAX_LINE] for line in text.splitlines(keepends=False)[:max(budget[2], 0)]]
    clipped = "\n".join(lines)
    budget[0] -= len(clipped)
    budget[2] -= len(lines)
    return clipped
