"""Parse the /command lines at the top of a reply's new text; pure, no DB."""
from __future__ import annotations

from dataclasses import dataclass, field

from gateway.mail import linear

PRIORITIES = ("urgent", "high", "medium", "low")
CATEGORIES = ("bug", "change", "misc")
CAUSES = ("network", "hardware", "software", "data")  # an incident's cause category (/cause)

# name -> (usage, argument rule). Rules: "none", "optional", "required", or a tuple of allowed words.
USAGE: dict[str, str] = {
    "resolve": "/resolve [resolution text]",
    "reopen": "/reopen",
    "escalate": "/escalate [LEVEL]  (default: the next level)",
    "assign": "/assign ADDRESS|me",
    "priority": "/priority urgent|high|medium|low",
    "category": "/category bug|change|misc",
    "pending": "/pending [text]  (waiting on the customer: the SLA clock pauses)",
    "note": "/note text  (internal: never sent to the customer)",
    "duplicate": "/duplicate HD-n  (the same problem as ticket HD-n: linked and resolved, the customer told)",
    "incident": "/incident [title]  (this ticket stands for an outage; other tickets /link to it)",
    "link": "/link HD-n  (this ticket is part of incident HD-n: its reporter hears the incident's updates)",
    "unlink": "/unlink  (this ticket leaves its incident)",
    "update": "/update text  (on an incident: sent to the reporter of every linked ticket, once each)",
    "cc": "/cc ADDRESS  (on an incident: ADDRESS gets its updates and its resolution)",
    "cause": "/cause [network|hardware|software|data] text  (an incident's root cause, for its final report)",
    "workaround": "/workaround text  (on an incident: how people got by meanwhile, for its final report)",
    "followup": "/followup text  (on an incident: one follow-up action for its final report; several allowed)",
    "handoff": "/handoff [TRACKER]  (an issue in the developers' tracker; default: the first configured)",
    "help": "/help",
}

# Artefacts of HTML-to-text conversion: non-breaking and zero-width spaces, and *bold* markers.
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u200b": None, "\ufeff": None,
                            "\u200c": None, "\u200d": None})
# [\pL\pN_]: the Unicode \w of `re` (RE2's \w is ASCII), so "/résolve" is an unknown command, not prose.
_COMMAND = linear.compile(r"^/(?P<name>[A-Za-z][\pL\pN_-]*)(?:\s+(?P<arg>.*))?$", name="commands.COMMAND")
_BOLD_BEFORE = linear.compile(r"^\*+\s*(/)", name="commands.BOLD_BEFORE")  # the "/" is put back
_BOLD_AFTER_NAME = linear.compile(r"^(/[A-Za-z][\pL\pN_-]*)\*+", name="commands.BOLD_AFTER_NAME")
_ADDRESS = linear.compile(r"^<?([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)>?$", name="commands.ADDRESS")
_TRACKER = linear.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$", name="commands.TRACKER")  # config_trackers' name rule
_TICKET = linear.compile(r"^\[?(?:[A-Za-z][A-Za-z0-9]{0,15}-)?(\d{1,12})\]?$", name="commands.TICKET")  # HD-42, [HD-42] or 42


@dataclass(frozen=True)
class Command:
    """One command line: its name, its argument ('' when none) and its 1-based line number."""

    name: str
    arg: str
    line: int


@dataclass
class ParsedCommands:
    commands: list[Command] = field(default_factory=list)
    rest: str = ""  # the text after the commands: a normal reply
    errors: list[str] = field(default_factory=list)


def clean_line(line: str) -> str:
    """A line without HTML-to-text artefacts: odd spaces, surrounding `*bold*` markers, trailing blanks."""
    line = line.translate(_INVISIBLE).strip()
    if "*" not in line:  # the common case, and the cheap one: a reply may have thousands of lines
        return line
    # Only a command loses its markers ("*/resolve* done*"); "*bold*" prose stays as written.
    unbold = _BOLD_AFTER_NAME.sub(r"\1", _BOLD_BEFORE.sub(r"\1", line))
    return unbold.rstrip("*").rstrip() if unbold.startswith("/") else line


def split_cause(arg: str) -> tuple[str | None, str]:
    """(category or None, text) of a /cause argument: split_cause("Network switch died") -> ("network", "switch died")."""
    word, _, text = arg.partition(" ")
    return (word.lower(), text.strip()) if word.lower() in CAUSES else (None, arg.strip())


def _check(name: str, arg: str) -> tuple[str, str | None]:
    """(normalised argument, error or None) for one command."""
    if name in ("reopen", "help", "unlink"):
        return "", (None if not arg else f"takes no argument, got {arg!r}")
    if name == "note" and not arg:
        return arg, "needs the note's text"
    if name in ("workaround", "followup") and not arg:
        return arg, "needs the text, on the same line"
    if name == "cause" and not arg:
        return arg, f"needs a category ({', '.join(CAUSES)}), the cause's text, or both"
    if name == "cause":
        category, text = split_cause(arg)
        return " ".join(part for part in (category, text) if part), None  # the category in lower case
    if name == "escalate" and arg:
        level = arg.lstrip("Ll")  # "/escalate L3" as well as "/escalate 3"
        if not level.isdigit():
            return arg, f"LEVEL must be a level number, got {arg!r}"
        return str(int(level)), None
    if name == "cc":
        match = _ADDRESS.match(arg)
        return (match.group(1).lower(), None) if match else (arg, f"needs an email address, got {arg!r}")
    if name == "assign":
        if arg.lower() == "me":
            return "me", None
        match = _ADDRESS.match(arg)
        if not match:
            return arg, f"needs an email address or 'me', got {arg!r}" if arg else "needs an email address or 'me'"
        return match.group(1).lower(), None
    if name in ("duplicate", "link"):
        match = _TICKET.match(arg)
        if not match:
            return arg, f"needs a ticket reference such as HD-42, got {arg!r}" if arg else "needs a ticket reference"
        return str(int(match.group(1))), None
    if name == "handoff" and arg:
        word = arg.lower()
        return (word, None) if _TRACKER.match(word) else (arg, f"needs a tracker's name, got {arg!r}")
    if name in ("priority", "category"):
        allowed = PRIORITIES if name == "priority" else CATEGORIES
        word = arg.lower()
        if word not in allowed:
            return arg, f"must be one of {', '.join(allowed)}, got {arg!r}" if arg else f"needs one of {', '.join(allowed)}"
        return word, None
    return arg, None


def parse_commands(text: str) -> ParsedCommands:
    """Commands from the top of `text` (already stripped of quoted history), one per line.

    parse_commands("/resolve Fixed\\nThanks!") ->
        ParsedCommands(commands=[Command("resolve", "Fixed", 1)], rest="Thanks!", errors=[])
    Leading blank lines are skipped; the first line that is not a command ends the commands, and
    it and everything after it is `rest`. An unknown /word or a bad argument becomes an error
    naming the line and the usage; it is not executed.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    result = ParsedCommands()
    index = 0
    for index, raw in enumerate(lines):
        line = clean_line(raw)
        if not line:
            continue
        match = _COMMAND.match(line)
        if not match:
            break
        number, name = index + 1, match.group("name").lower()
        arg = " ".join((match.group("arg") or "").split())
        if name not in USAGE:
            known = ", ".join(f"/{n}" for n in USAGE)
            result.errors.append(f"line {number}: unknown command /{name}; the commands are {known}")
            continue
        arg, problem = _check(name, arg)
        if problem:
            result.errors.append(f"line {number}: /{name} {problem}; usage: {USAGE[name]}")
            continue
        result.commands.append(Command(name=name, arg=arg, line=number))
    else:
        index = len(lines)
    result.rest = "\n".join(lines[index:]).strip()
    return result


def help_text() -> str:
    """Every command with its usage, one per line."""
    return "\n".join(USAGE.values())
