"""check_address(): the same verdict as mailbox(), without the parser for plain addresses and without caching."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.mail.compose import DOT_ATOM_ADDRESS, check_address, mailbox

# (address, usable)
CASES = [
    ("ihelp+t42.c.k3x9q2abcdefghij@example.com", True),
    ("o'brien-{x}|y@mail.example.co.uk", True),
    ('"quoted local"@example.com', True),  # not a dot-atom: the parser decides, and takes it
    ("ihelp@[192.0.2.1]", True),
    ("a..b@example.com", False),
    ("jörg@example.com", False),  # non-ASCII: would need SMTPUTF8
    ("no-at-sign", False),
    ("two@at@example.com", False),
    ("trailing.@example.com", False),
]


@pytest.mark.parametrize("address, usable", CASES)
def test_agrees_with_mailbox(address, usable):
    try:
        mailbox.__wrapped__(address)
        parser_says = True
    except ValueError:
        parser_says = False
    assert parser_says is usable
    if usable:
        check_address(address)
    else:
        with pytest.raises(ValueError, match="not a usable email address"):
            check_address(address)


@given(st.from_regex(DOT_ATOM_ADDRESS, fullmatch=True))
def test_every_address_the_pattern_passes_the_parser_takes(address):
    mailbox.__wrapped__(address)  # raises ValueError if the shortcut ever let a bad address through


def test_leaves_mailboxs_cache_alone():
    before = mailbox.cache_info().currsize
    check_address("ihelp+t7.c.zzzzzzzzzzzzzzzz@example.com")
    check_address('"quoted again"@example.com')
    assert mailbox.cache_info().currsize == before
