"""safe_html: customer HTML keeps its formatting and loses everything that could run or call out."""
from __future__ import annotations

import pytest

from gateway.mail.sanitize import safe_html


@pytest.mark.parametrize("hostile", [
    '<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example/"></iframe>', '<form action="https://evil.example/"><input></form>',
    '<style>body{background:url(https://evil.example/)}</style>', '<svg onload="alert(1)"></svg>',
    '<object data="x.swf"></object>', '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<a href="JaVaScRiPt:alert(1)">x</a>', '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>', '<!-- <script>alert(1)</script> -->',
    '<img src="https://tracker.example/pixel.gif">',
])
def test_hostile_markup_is_removed(hostile):
    cleaned = safe_html(f"<p>before</p>{hostile}<p>after</p>")
    lowered = cleaned.lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<form", "<style", "<svg", "<object",
                "<meta", "data:text", "evil.example", "tracker.example", "style="):
        assert bad not in lowered
    assert "<p>before</p>" in cleaned and "<p>after</p>" in cleaned


def test_formatting_and_links_survive():
    html = ('<table><tr><td><b>Server</b></td><td>db1</td></tr></table>'
            '<a href="https://status.example.com/">status</a><img src="cid:shot1" alt="screenshot">')
    cleaned = safe_html(html)
    assert "<table>" in cleaned and "<b>Server</b>" in cleaned and 'alt="screenshot"' in cleaned
    assert 'href="https://status.example.com/"' in cleaned and 'rel="noopener noreferrer nofollow"' in cleaned
    assert 'src="cid:shot1"' in cleaned


def test_nothing_stays_nothing():
    assert safe_html(None) is None and safe_html("") is None
