"""Customer HTML made safe to show: no scripts, handlers, frames, forms or remote loads."""
from __future__ import annotations

import nh3

_LINK_SCHEMES = {"http", "https", "mailto"}


def _attribute(tag: str, name: str, value: str) -> str | None:
    # A remote image is a tracking beacon fired by whoever opens the ticket; inline (cid:) ones are fine.
    if tag == "img" and name == "src" and not value.lower().startswith("cid:"):
        return None
    return value


def safe_html(html: str | None) -> str | None:
    """`html` with only nh3's allow-listed tags and attributes, links made rel=noopener; None stays None.

    safe_html('<p onclick="x()">Hi<script>alert(1)</script></p>') -> '<p>Hi</p>'
    """
    if not html:
        return None
    return nh3.clean(html, url_schemes=_LINK_SCHEMES | {"cid"}, link_rel="noopener noreferrer nofollow",
                     attribute_filter=_attribute, strip_comments=True)
