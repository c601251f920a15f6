"""Every shipped pattern on outside text runs in linear time: adversarial inputs built from each pattern."""
from __future__ import annotations

import email
import re
import time
from email import policy

import pytest

from gateway.mail import bounce_scan, linear
from gateway.mail.bounce import parse_bounce
from gateway.mail.commands import parse_commands
from gateway.mail.loopguard import auto_reason
from gateway.mail.reply_strip import new_text
from gateway.pipeline.rules import CLASSIFY_RULES, PRIORITY_RULES, evaluate
from tests.adversarial import GENERIC, inputs, pieces, registry, time_pattern

# Generous: RE2 takes milliseconds on 100 kB; a backtracking pattern takes seconds to hours. The
# bound is for one pattern on one input, so a busy 2-core machine does not make it flake.
BOUND = 0.5
SIZE = 100_000
PATTERNS = registry()


def test_registry_holds_every_pattern_module_and_the_rule_tables():
    prefixes = {name.split(".")[0] for name in PATTERNS}
    assert {"loopguard", "autotext", "bounce", "reply_strip", "commands", "parse", "decode", "rules"} <= prefixes
    assert {f"rules.{rule.name}" for rule in CLASSIFY_RULES + PRIORITY_RULES} <= set(PATTERNS)
    assert len(PATTERNS) >= 40


def test_inputs_are_built_from_the_pattern_itself():
    words = pieces(r"^(?:(?:hello|dear [^,\n]{0,40})[,.!]?\s*)*(i am away)")
    assert "dear " in words and "hello" in words and "i am away" in words
    assert set(GENERIC) <= set(words)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_fast_on_adversarial_input(name):
    pattern = PATTERNS[name]
    slow = [(kind, round(seconds, 3)) for kind, text in inputs(pattern.pattern, SIZE)
            if (seconds := time_pattern(pattern, text)) > BOUND]
    assert slow == [], f"{name} took over {BOUND} s on {SIZE}-character inputs: {slow}"


def _mail(body: str, subject: str = "Re: your mail") -> email.message.EmailMessage:
    raw = f"From: pat@customer.example.org\nTo: ihelp@example.com\nSubject: {subject}\n\n{body}\n"
    return email.message_from_bytes(raw.encode(), policy=policy.default)


@pytest.mark.timeout(20)
def test_the_250_byte_dear_mail_does_not_freeze_the_loop_guard():
    # Issue 16, finding 1: this body took the old backtracking pattern minutes (x2.3 per "dear ").
    msg = _mail("dear " * 23 + "x")
    assert len(msg.as_bytes()) <= 250
    start = time.perf_counter()
    assert auto_reason(msg, envelope_from="pat@customer.example.org", own_addresses=("ihelp@example.com",),
                       own_domain="helpdesk.example.com") is None
    assert time.perf_counter() - start < BOUND


def _hostile_texts():
    for piece in ("dear ", "hello, ", "I am ", "On Mon wrote ", "> ", "-- \n", "\n", " ", "From: a\n", "-" * 3,
                  "<a@b>: ", ", a@b.c,", "please ", "could you add ", "5.1.1 ", "=?", "*/"):
        yield piece, piece * (SIZE // len(piece)) + "x"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("piece", "text"), list(_hostile_texts()), ids=lambda v: repr(v)[:12])
def test_mail_functions_stay_fast_on_hostile_text(piece, text):
    """The functions that run the patterns (and mail-parser-reply's, on bounded windows) on one mail."""
    timings = {}
    for name, run in (
        # A subject that names a failure and a status code in the body: flufl.bounce runs as well.
        ("auto_reason", lambda: auto_reason(_mail("5.1.1\n" + text, subject="Notice: delivery failed " + text[:200]),
                                            envelope_from=None, own_addresses=(), own_domain="")),
        ("bounce_scan", lambda: bounce_scan.failures(_mail(text, subject="Returned mail"))),
        ("parse_bounce", lambda: parse_bounce(_mail(text, subject="Returned mail"))),
        ("new_text", lambda: new_text(text)),
        ("parse_commands", lambda: parse_commands(text)),
        ("evaluate", lambda: evaluate(CLASSIFY_RULES + PRIORITY_RULES, subject=text[:1000], body=text)),
    ):
        start = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - start
    slow = {name: round(seconds, 2) for name, seconds in timings.items() if seconds > 4 * BOUND}
    assert slow == {}, f"slow on {piece!r} x {SIZE // len(piece)}: {slow}"


def test_lone_surrogates_read_as_replacement_characters():
    pattern = linear.compile(r"b+", name="test.surrogates")
    assert pattern.search("a\udcffbb").span() == (2, 4)
    assert pattern.sub("-", "a\udcffbb") == "a\udcff-"
    assert pattern.split("\udcffbb\udcfe") == ["\udcff", "\udcfe"]


def test_char_class_refuses_anything_but_one_class():
    assert linear.char_class("[\udc80-\udcff]+", name="test.class").sub("", "a\udc80b") == "ab"
    with pytest.raises(linear.Unsupported, match="single character class"):
        linear.char_class("(a+)+", name="test.not-a-class")


@pytest.mark.parametrize(("pattern", "construct"), [
    (r"(a)\1", "backreference"), (r"a(?=b)", "lookahead"), (r"(?<!a)b", "negative lookbehind"),
    (r"a\Z", r"\z instead"), (r"a*+", "possessive"), (r"a{0,5000}", "over 1000"),
])
def test_unsupported_constructs_are_named(pattern, construct):
    with pytest.raises(linear.Unsupported, match=re.escape(construct)):
        linear.check(pattern)
