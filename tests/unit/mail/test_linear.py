"""The linear-time adapter answers as `re` does for the calls we use, on ASCII, other scripts and bytes."""
from __future__ import annotations

import re

import pytest

from gateway.mail import linear

CASES = [
    # (pattern, flags, text): every method must agree with `re` on these.
    (r"a(b)?", 0, "xab a ab"),
    (r"(?P<w>é+)|(x)", 0, "aaéé xé"),
    (r"^--\s*$", linear.MULTILINE, "a\n--\n-- \nb"),
    (r"\s+", 0, "a  b\tc\n"),
    (r"", 0, "aé"),
    (r"[,;]", 0, "a,b;;c"),
    (r"(\d+)-(\d+)?", linear.IGNORECASE, "10-20 30- x"),
    (r"héllo", linear.IGNORECASE, "HÉLLO héllo"),
    (r"<script\b.*?(?:</script\s*>|\z)", linear.IGNORECASE | linear.DOTALL, "a<SCRIPT>x\ny</script >b<script>c"),
]


def spans(matches):
    return [(m.span(), m.group(), m.groups()) for m in matches]


@pytest.mark.parametrize(("pattern", "flags", "text"), CASES)
def test_agrees_with_re(pattern, flags, text):
    ours = linear.compile(pattern, flags, name="test.agree")
    theirs = re.compile(pattern.replace(r"\z", r"\Z"), flags)
    assert spans(ours.finditer(text)) == spans(theirs.finditer(text))
    for method in ("search", "match", "fullmatch"):
        mine, other = getattr(ours, method)(text), getattr(theirs, method)(text)
        assert (mine and (mine.span(), mine.groups())) == (other and (other.span(), other.groups()))
    assert ours.findall(text) == theirs.findall(text)
    assert ours.split(text) == theirs.split(text)
    assert ours.sub("<>", text) == theirs.sub("<>", text)
    assert ours.sub(lambda m: m.group().upper(), text) == theirs.sub(lambda m: m.group().upper(), text)


def test_match_api_we_use():
    match = linear.compile(r"(?P<name>[a-z]+)(?:=(?P<value>\d+))?", name="test.api").search("  ab=12")
    assert match.group("name") == "ab" and match["value"] == "12" and match.group(1, 2) == ("ab", "12")
    assert match.start() == 2 and match.end("value") == 7 and match.span(1) == (2, 4)
    assert match.lastgroup == "value" and match.expand(r"\g<value>:\1") == "12:ab"
    assert linear.compile(r"(a)|(b)", name="test.last").search("b").lastgroup is None  # unnamed groups


def test_pos_and_endpos_count_characters_not_bytes():
    pattern = linear.compile(r"b", name="test.pos")
    assert pattern.search("ééb b", 3).span() == (4, 5)
    assert pattern.search("ééb b", 0, 2) is None and pattern.match("ééb", 2).span() == (2, 3)


def test_bytes_patterns_read_every_byte_as_one_character():
    pattern = linear.compile(rb"^--(\S+)\r?$", linear.MULTILINE, name="test.bytes")
    assert pattern.search(b"x\n--b\xffnd\r\ny").group(1) == b"b\xffnd"
    assert pattern.sub(rb"[\1]", b"--a\n--b") == b"[a]\n[b]"


@pytest.mark.parametrize(("opening", "excluded", "closing", "text", "found"), [
    ("<", "<>", ">", "a<b>c<<d</e>", ["b", "/e"]),
    ("cid:", " \"'<>)", "", 'src="cid:Part1@x" CID:y) cid: z', ["Part1@x", "y"]),
])
def test_run_is_the_delimited_pattern(opening, excluded, closing, text, found):
    assert linear.run(opening, excluded, closing, name="test.run", flags=re.IGNORECASE).findall(text) == found


def test_run_refuses_delimiters_that_could_make_it_quadratic():
    with pytest.raises(linear.Unsupported, match="must start with characters the run excludes"):
        linear.run("<", ">", ">", name="test.quadratic")  # "<<<<…" without ">": every start scans to the end


def test_every_compile_is_registered_under_its_name():
    pattern = linear.compile(r"x", name="test.registered")
    assert linear.REGISTRY["test.registered"] is pattern


def test_google_re2_private_engine_is_still_what_the_adapter_drives():
    # gateway.mail.linear drives re2._re2 directly (its `re`-like wrapper is ~10x slower per match).
    import re2
    from re2 import _re2

    engine = _re2.RE2(b"(b+)", re2.Options())
    assert engine.ok() and engine.NumberOfCapturingGroups() == 1
    assert engine.Match(_re2.RE2.Anchor.UNANCHORED, b"abb", 0, 3) == [(1, 3), (1, 3)]
    assert _re2.BytesToCharLen("éb".encode(), 0, 2) == 1 and _re2.CharLenToBytes("éb".encode(), 0, 1) == 2
