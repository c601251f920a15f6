"""Reply tokens in plus-addresses: signed per (ticket, recipient, role); the old form still parses."""
import string
from collections import Counter

import pytest

from gateway.mail.tokens import Token, issued_to, mac_for, new_key, new_secret, parse_token, sign, split_plus

ALPHABET = set(string.ascii_lowercase + string.digits)

KEY = b"k" * 32


def test_a_signed_token_round_trips_through_a_plus_address():
    token = sign(KEY, 42, "c", "Customer@Example.org")
    parsed = parse_token(split_plus(f"IHELP+{token}@Example.com")[1])
    assert parsed == Token(42, role="c", mac=mac_for(KEY, 42, "c", "customer@example.org"))
    assert issued_to(KEY, parsed, ["someone@else.org", "customer@example.org"]) == "customer@example.org"


@pytest.mark.parametrize("changed", [
    {"ticket": 43}, {"role": "e"}, {"role": "l1"}, {"address": "mallory@evil.org"}, {"key": b"x" * 32},
])
def test_a_token_is_bound_to_ticket_role_address_and_key(changed):
    """Any other ticket, role, address or key gives another MAC: a token cannot be re-aimed."""
    args = {"ticket": 42, "role": "c", "address": "customer@example.org", "key": KEY, **changed}
    token = parse_token(sign(args["key"], args["ticket"], args["role"], args["address"]))
    genuine = Token(42, role="c", mac=token.mac)
    assert issued_to(KEY, genuine, ["customer@example.org"]) is None


def test_the_level_is_read_from_a_list_token():
    assert parse_token(sign(KEY, 7, "l3", "sysadmins@example.com")).level == 3
    assert parse_token(sign(KEY, 7, "e", "bob@example.com")).level is None


def test_old_unsigned_tokens_still_parse_but_are_issued_to_nobody():
    old = parse_token("t42.k3x9q2ab")
    assert old == Token(42, secret="k3x9q2ab") and old.role == ""
    assert issued_to(KEY, old, ["customer@example.org"]) is None


def test_plain_and_foreign_details():
    assert split_plus("ihelp@example.com") == ("ihelp@example.com", None)
    assert split_plus("<ihelp+x@example.com>") == ("ihelp@example.com", "x")
    assert parse_token("x") is None and parse_token(None) is None and parse_token("t1.ab") is None
    assert parse_token("t1.x.abcdefghijklmnop") is None  # no such role
    assert parse_token("t1.c.ABCDEFGHIJKLMNOP") is None  # split_plus lower-cases; upper case is not ours


def test_server_keys_are_fresh():
    assert new_key() != new_key() and len(new_key()) == 64


@pytest.mark.parametrize("length", [1, 10, 32])
def test_new_secret_is_that_many_characters_of_the_alphabet(length):
    assert all(len(secret) == length and set(secret) <= ALPHABET for secret in (new_secret(length) for _ in range(200)))


def test_new_secret_draws_every_character_about_equally_often():
    counts = Counter("".join(new_secret() for _ in range(3600)))  # 36,000 characters: 1,000 of each expected
    assert set(counts) == ALPHABET
    assert 800 < min(counts.values()) and max(counts.values()) < 1200  # 6 standard deviations
    # Bytes 0-255 taken modulo 36 without rejecting 252-255 would favour a-d: 4,500 of them, not 4,000 (sd 63).
    assert abs(sum(counts[char] for char in "abcd") - 4000) < 300


def test_new_secrets_differ():
    assert len({new_secret() for _ in range(1000)}) == 1000
