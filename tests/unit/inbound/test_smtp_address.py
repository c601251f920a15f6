"""The plain SMTP path read without the email parser gives what aiosmtpd's own _getaddr gives, or steps aside.

aiosmtpd's reading is the reference: a release that reads paths differently fails here.
"""
from __future__ import annotations

import random

import pytest
from aiosmtpd.smtp import SMTP

from gateway.inbound.smtp import GatewaySMTP
from gateway.inbound.smtp_address import simple_path

CASES = [
    ("<a@b.c>", ("a@b.c", "")),
    ("<a@b.c> SIZE=100", ("a@b.c", "SIZE=100")),
    ("<a@b.c>   SIZE=100 BODY=8BITMIME", ("a@b.c", "SIZE=100 BODY=8BITMIME")),
    ("<a@b.c> ", ("a@b.c", "")),
    ("<A+tag.x@Ex-ample.COM>", ("A+tag.x@Ex-ample.COM", "")),
    ("<ihelp+t123.k3x9@example.com>", ("ihelp+t123.k3x9@example.com", "")),
    ("<o'brien@example.ie>", ("o'brien@example.ie", "")),
    ("<a@localhost>", ("a@localhost", "")),
    # not plain: left to aiosmtpd's parser
    ("<>", None), ("<> SIZE=1", None), (" <a@b.c>", None), ("a@b.c", None), ("<a@b", None),
    ("<a@b.c>x", None), ("<a..b@c>", None), ("<.a@c>", None), ("<a@b..c>", None), ("<a@b.c.>", None),
    ('<"a b"@c>', None), ("<a@[1.2.3.4]>", None), ("<@x:a@b>", None), ("<ü@b.c>", None), ("<a@b c>", None),
    ("<a(c)@b>", None), ("<a@>", None), ("<@b>", None), ("<a@b.c> (comment) SIZE=1", None),
    ("<a@b.c>\tSIZE=1", None), ("<a@b_c.d>", None),
]


@pytest.fixture(scope="module")
def reference():
    """aiosmtpd's own reading (SMTP._getaddr), on a protocol that needs no loop for it."""
    protocol = SMTP.__new__(SMTP)
    protocol.local_part_limit = 0
    return lambda arg: SMTP._getaddr(protocol, arg)


@pytest.mark.parametrize("arg, expected", CASES)
def test_table(arg, expected, reference):
    assert simple_path(arg) == expected
    if expected is not None:
        assert reference(arg) == expected


def test_generated_paths_read_as_aiosmtpd_reads_them(reference):
    # Paths built from plain pieces and awkward ones, then now and then one character changed.
    rng = random.Random(17)
    local = ["a", "Z9", "o'b", "+t1", "x_y", ".", "..", "", '"q r"', "ü", "(c)", " ", "=", "{}"]
    domain = ["example", "com", "b-c", ".", "..", "-", "b_c", "[1.2.3.4]", "", " ", "ü", "a"]
    after = ["", " ", "  SIZE=12", " SIZE=12 BODY=8BITMIME", " (c)", "\tX", "x", ">", " <a@b>"]
    pieces = "aZ9.-+@<> ()\"[]:\t"
    plain = 0
    for _ in range(20000):
        arg = ("<" + "".join(rng.choice(local) for _ in range(rng.randrange(1, 4))) + "@"
               + ".".join(rng.choice(domain) for _ in range(rng.randrange(1, 4))) + ">" + rng.choice(after))
        if rng.random() < 0.3:
            at = rng.randrange(len(arg))
            arg = arg[:at] + rng.choice(pieces) + arg[at + 1:]
        ours = simple_path(arg)
        if ours is not None:
            plain += 1
            assert ours == reference(arg), arg
    assert plain > 500  # the generator reaches the plain form often enough to mean something


def test_the_listener_uses_it_and_keeps_the_local_part_limit():
    protocol = GatewaySMTP.__new__(GatewaySMTP)
    protocol.local_part_limit = 0
    assert protocol._getaddr("<a@b.c> SIZE=1") == ("a@b.c", "SIZE=1")
    assert protocol._getaddr('<"a b"@c>') == ('"a b"@c', "")  # aiosmtpd's parser, as before
    protocol.local_part_limit = 3
    assert protocol._getaddr("<abcd@b.c>") == (None, None)
    assert protocol._getaddr("<abc@b.c>") == ("abc@b.c", "")
