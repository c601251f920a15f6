"""Is a From plausibly the real sender: our MTA's Authentication-Results first, else the envelope."""
from __future__ import annotations

import time

import pytest

from gateway.mail.authenticity import check, organisational_domain, parse_auth_results

OURS = ("mx.helpdesk.example",)


@pytest.mark.parametrize("from_addr, envelope, return_path, plausible, why", [
    ("bob@client.example", "bob@client.example", None, True, "envelope sender is the From address"),
    ("bob@client.example", "bounces+x@mail.client.example", None, True, "organisational domain"),
    ("bob@client.co.uk", "b@news.client.co.uk", None, True, "organisational domain"),
    ("bob@client.co.uk", "b@other.co.uk", None, False, "another domain"),  # co.uk is a public suffix
    ("victim@bank.example", "mallory@evil.example", None, False, "another domain"),
    ("bob@client.example", None, "<bob@client.example>", True, "envelope sender is the From address"),
    ("bob@client.example", None, "<mallory@evil.example>", False, "another domain"),
    ("bob@client.example", None, None, False, "envelope sender unknown"),
    ("bob@client.example", "", None, False, "null envelope sender"),
    ("", "bob@client.example", None, False, "no usable From"),
])
def test_the_envelope_decides_without_our_authentication_results(from_addr, envelope, return_path, plausible, why):
    result = check(from_addr=from_addr, envelope_from=envelope, return_path=return_path, auth_results=[],
                   trusted_ids=OURS)
    assert result.plausible is plausible and why in result.why


@pytest.mark.parametrize("header, plausible, why", [
    ("mx.helpdesk.example; dmarc=pass header.from=bank.example", True, "dmarc=pass"),
    ("mx.helpdesk.example 1; dkim=pass (good signature) header.d=mail.bank.example header.s=s1", True, "dkim=pass"),
    ("mx.helpdesk.example; spf=pass smtp.mailfrom=bounce@bank.example", True, "spf=pass"),
    ("mx.helpdesk.example; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=x@evil.example", False,
     "no aligned pass"),
    ("mx.helpdesk.example; dmarc=fail header.from=bank.example; spf=softfail", False, "dmarc=fail, spf=softfail"),
    ('mx.helpdesk.example; dkim=pass reason="a; b" header.d=bank.example', True, "dkim=pass"),
])
def test_our_mtas_verdict_overrides_the_envelope(header, plausible, why):
    # The envelope agrees with From: only the Authentication-Results can make it implausible.
    result = check(from_addr="ceo@bank.example", envelope_from="ceo@bank.example", return_path=None,
                   auth_results=[header], trusted_ids=OURS)
    assert result.plausible is plausible and why in result.why


def test_authentication_results_of_another_authserv_id_are_ignored():
    """Anyone can write an Authentication-Results header: only our own MTA's count."""
    forged = "mx.helpdesk.example.evil; dmarc=pass header.from=bank.example"
    result = check(from_addr="ceo@bank.example", envelope_from="mallory@evil.example", return_path=None,
                   auth_results=[forged, "mx.google.com; dmarc=pass"], trusted_ids=OURS)
    assert not result.plausible and "another domain" in result.why


def test_parse_drops_comments_and_keeps_quoted_strings():
    assert parse_auth_results('mx.x (comment; with (nested) semicolons); dkim=pass (ok) header.d="D.Example"; '
                              'spf=none') == ("mx.x", [("dkim", "pass", {"header.d": "d.example"}),
                                                      ("spf", "none", {})])
    assert parse_auth_results("") is None and parse_auth_results("(only a comment)") is None


def test_parsing_a_hostile_header_is_linear():
    for hostile in ("(" * 200_000, '"' * 200_000, "a=b " * 100_000, "\\" * 200_000, ";" * 200_000):
        started = time.perf_counter()
        parse_auth_results("mx.helpdesk.example; " + hostile)
        assert time.perf_counter() - started < 0.5


def test_organisational_domain_uses_the_public_suffix_list():
    assert organisational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organisational_domain("mail.example.com") == "example.com"
