"""parse_commands: command lines at the top of a reply's new text, as a table of text and results."""
from __future__ import annotations

import pytest

from gateway.mail.commands import Command, help_text, parse_commands

C = Command


@pytest.mark.parametrize("text, commands, rest", [
    ("/resolve Fixed the DNS entry\nThanks for your patience.",
     [C("resolve", "Fixed the DNS entry", 1)], "Thanks for your patience."),
    ("\n\n  /escalate 3\n", [C("escalate", "3", 3)], ""),                       # leading blank lines
    ("/escalate\n/assign me\n/priority HIGH\n/category change\nSee below.",
     [C("escalate", "", 1), C("assign", "me", 2), C("priority", "high", 3), C("category", "change", 4)],
     "See below."),
    ("/assign <Bob@Example.com>", [C("assign", "bob@example.com", 1)], ""),
    ("/escalate L4", [C("escalate", "4", 1)], ""),
    ("/pending waiting for the log files\n\nCould you send the logs?",
     [C("pending", "waiting for the log files", 1)], "Could you send the logs?"),
    ("/note Customer is on the old firmware", [C("note", "Customer is on the old firmware", 1)], ""),
    ("/reopen\n/help", [C("reopen", "", 1), C("help", "", 2)], ""),
    # HTML-to-text artefacts: non-breaking spaces, *bold* markers, trailing spaces, zero-width spaces
    ("*/resolve* \u00a0Rebooted\u00a0the\u00a0switch   \n", [C("resolve", "Rebooted the switch", 1)], ""),
    ("\u200b/note\u00a0internal only  ", [C("note", "internal only", 1)], ""),
    ("**/escalate 2**", [C("escalate", "2", 1)], ""),
    ("\r\n/resolve\r\nDone.\r\n", [C("resolve", "", 2)], "Done."),
    # the first non-command line ends the commands: later /lines are text
    ("Hello,\n/resolve", [], "Hello,\n/resolve"),
    ("/resolve done\nThanks\n/note not a command here", [C("resolve", "done", 1)],
     "Thanks\n/note not a command here"),
    ("/usr/local is full", [], "/usr/local is full"),                            # a path, not a command
    ("*Important*: please call", [], "*Important*: please call"),
    ("", [], ""),
])
def test_parse(text, commands, rest):
    parsed = parse_commands(text)
    assert (parsed.commands, parsed.rest, parsed.errors) == (commands, rest, [])


@pytest.mark.parametrize("text, error", [
    ("/frobnicate now", "line 1: unknown command /frobnicate; the commands are /resolve"),
    ("/priority hot", ("line 1: /priority must be one of urgent, high, medium, low, got 'hot'; "
                      "usage: /priority urgent|high|medium|low")),
    ("/priority", "line 1: /priority needs one of urgent, high, medium, low"),
    ("\n/category bugs", "line 2: /category must be one of bug, change, misc"),
    ("/escalate next", "line 1: /escalate LEVEL must be a level number, got 'next'; usage: /escalate [LEVEL]"),
    ("/assign bob", "line 1: /assign needs an email address or 'me', got 'bob'; usage: /assign ADDRESS|me"),
    ("/assign", "line 1: /assign needs an email address or 'me'"),
    ("/note", "line 1: /note needs the note's text; usage: /note text"),
    ("/reopen now", "line 1: /reopen takes no argument, got 'now'; usage: /reopen"),
])
def test_errors_name_the_line_and_usage(text, error):
    parsed = parse_commands(text)
    assert parsed.commands == []
    assert len(parsed.errors) == 1 and parsed.errors[0].startswith(error)


def test_good_lines_survive_a_bad_one():
    parsed = parse_commands("/assign me\n/priority hot\n/resolve fixed\nBye")
    assert parsed.commands == [C("assign", "me", 1), C("resolve", "fixed", 3)]
    assert parsed.errors[0].startswith("line 2: /priority") and parsed.rest == "Bye"


def test_help_text_lists_every_command():
    assert all(f"/{name}" in help_text() for name in
               ("resolve", "reopen", "escalate", "assign", "priority", "category", "pending", "note", "help"))
