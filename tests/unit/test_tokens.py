"""Reply tokens in plus-addresses."""
from gateway.mail.tokens import new_secret, parse_token, split_plus, token_for


def test_round_trip():
    secret = new_secret()
    assert parse_token(split_plus(f"IHELP+{token_for(42, secret)}@Example.com")[1]) == (42, secret)


def test_plain_and_foreign_details():
    assert split_plus("ihelp@example.com") == ("ihelp@example.com", None)
    assert split_plus("<ihelp+x@example.com>") == ("ihelp@example.com", "x")
    assert parse_token("x") is None and parse_token(None) is None and parse_token("t1.ab") is None
