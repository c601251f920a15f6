"""Adversarial mail: the worst time any shipped pattern takes on inputs built from its own pieces.

    python bench/adversarial.py [--kb 100] [--full] [--smtp-seconds 15] [--no-smtp]

Quick by default (100 kB inputs, a few seconds). --full uses 1 MB inputs. Each row is
`<what> <where> <size> <ms>`; the first row is the worst single pattern over every input.
Then (unless --no-smtp) a `gateway serve` is fed a 24 MB text mail and the 250-byte pathological
one while a good client sends a mail a second (bench/adversarial_smtp.py): the good client's
dialogue p99 and serve's peak memory per MB of mail.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.adversarial import inputs, registry, time_pattern, worst_times  # noqa: E402


def worst_pattern_time(size: int = 100_000) -> tuple[str, str, float]:
    """(pattern name, input kind, seconds) of the slowest shipped pattern on its worst input."""
    return max(worst_times(size), key=lambda row: row[2])


def worst_reply_window() -> tuple[str, float]:
    """mail-parser-reply's header pattern (it backtracks) on the worst bounded window we let it see."""
    from gateway.mail.reply_strip import _HEADER, _MAX_LINE, _MAX_WINDOWS, _WINDOW_LINES, _window

    worst = ("", 0.0)
    for kind, text in inputs(_HEADER.pattern, _MAX_LINE):
        for prefix in ("", "on ", "from: "):
            window = _window([(prefix + text)[:_MAX_LINE]] * _WINDOW_LINES, 0)  # as new_text builds it
            start = time.perf_counter()
            _HEADER.match(window)
            seconds = time.perf_counter() - start
            if seconds > worst[1]:
                worst = (f"{prefix!r} + {kind}", seconds)
    return worst[0], worst[1] * _MAX_WINDOWS  # a mail can make it look at _MAX_WINDOWS windows


def worst_flufl(size: int = 100_000) -> tuple[str, float]:
    """flufl.bounce's detectors (backtracking, a Python loop per line) on the bounded copy of hostile mails."""
    from email import message_from_string, policy

    from gateway.mail import bounce_scan
    from tests.adversarial import GENERIC

    worst = ("", 0.0)
    for piece in (*GENERIC, "please reply to <", "SMTP=", ", a@b,\n", "the postfix "):
        msg = message_from_string("Subject: Returned mail\n\n" + piece * (size // len(piece)), policy=policy.default)
        start = time.perf_counter()
        bounce_scan.failures(msg)
        seconds = time.perf_counter() - start
        worst = max(worst, (repr(piece), seconds), key=lambda item: item[1])
    return worst


def worst_mail_function(size: int = 100_000) -> tuple[str, str, float]:
    """(function, input, seconds): the pure mail functions on hostile texts with many small matches."""
    from email import message_from_string, policy

    from gateway.mail.bounce import parse_bounce
    from gateway.mail.commands import parse_commands
    from gateway.mail.loopguard import auto_reason
    from gateway.mail.parse import _html_to_text
    from gateway.mail.reply_strip import new_text
    from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, evaluate

    def mail(body: str, subject: str):
        return message_from_string(f"From: a@b.example\nSubject: {subject}\n\n{body}", policy=policy.default)

    functions = {
        "new_text": new_text, "parse_commands": parse_commands,
        "auto_reason": lambda t: auto_reason(mail("5.1.1\n" + t, "Notice: delivery failed"), envelope_from=None,
                                             own_addresses=(), own_domain=""),
        "parse_bounce": lambda t: parse_bounce(mail(t, "Returned mail")),
        "evaluate": lambda t: evaluate(CLASSIFY_RULES + PRIORITY_RULES, subject=t[:1000], body=t),
        "html fallback": lambda t: _html_to_text("<" * 300 + t),  # lxml gives up on the nesting
    }
    worst = ("", "", 0.0)
    for piece in ("> wrote\n", "-- \n", "> x\ny\n", "\n", "<b>", "cid:a ", "dear ", ", a@b.c,\n", "=?a?q?b?= "):
        text = piece * (size // len(piece))
        for name, function in functions.items():
            start = time.perf_counter()
            function(text)
            worst = max(worst, (name, repr(piece), time.perf_counter() - start), key=lambda row: row[2])
    return worst


def main(argv: list[str] | None = None) -> list[tuple[str, str, int, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=100, help="input size in kB (default 100)")
    parser.add_argument("--full", action="store_true", help="1 MB inputs")
    parser.add_argument("--smtp-seconds", type=float, default=15, help="how long the good client sends")
    parser.add_argument("--no-smtp", action="store_true", help="patterns only, no serve")
    args = parser.parse_args(argv)
    size = (1024 if args.full else args.kb) * 1000
    patterns = registry()
    name, kind, seconds = worst_pattern_time(size)
    window, window_seconds = worst_reply_window()
    flufl_input, flufl_seconds = worst_flufl(size)
    function, function_input, function_seconds = worst_mail_function(size)
    rows = [
        ("worst single pattern", f"{name} on {kind[:60]}", size, seconds * 1000),
        ("reply-header windows", f"mail-parser-reply, {window[:60]}", 0, window_seconds * 1000),
        ("flufl.bounce detectors", f"bounded copy of {flufl_input[:60]} repeated", size, flufl_seconds * 1000),
        ("worst mail function", f"{function} on {function_input} repeated", size, function_seconds * 1000),
    ]
    print(f"{len(patterns)} patterns, inputs of {size} characters")
    for what, where, chars, ms in rows:
        print(f"{what:24} {where:90} {chars:>8} {ms:9.1f} ms")
    if not args.no_smtp:
        from bench.adversarial_smtp import main as smtp_main

        smtp_main(["--seconds", str(args.smtp_seconds)])
    return rows


if __name__ == "__main__":
    main()
