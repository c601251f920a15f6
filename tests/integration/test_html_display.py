"""Customer HTML is stored sanitised and is the only HTML staff are ever shown (announcement, `tickets show`)."""
from __future__ import annotations

from email import message_from_bytes, policy

from sqlalchemy import select

from gateway.ingest import Ingestor
from gateway.notify.mail_bytes import bytes_of
from gateway.store import repo
from gateway.store.models import Blob, Message, Outbox
from tests.integration.serving import make_mail

HOSTILE = ('<html><head><style>p{}</style><script>steal(document.cookie)</script></head><body>'
           '<p onmouseover="steal()">The <b>invoice run</b> fails:</p>'
           '<table><tr><td>Job</td><td>nightly-invoices</td></tr></table>'
           '<a href="javascript:steal()">details</a><img src="https://tracker.example/open.gif">'
           '<iframe src="https://evil.example/"></iframe></body></html>')


async def test_hostile_html_is_shown_sanitised_and_kept_whole_raw(any_db, settings_factory, clock):
    ingestor = Ingestor(settings=settings_factory(), db=any_db, clock=clock)
    mail = make_mail(subject="Invoice run fails")
    mail.clear_content()
    mail.set_content(HOSTILE, subtype="html")
    raw = mail.as_bytes()
    outcome = await ingestor.ingest(raw, source="test")

    async with any_db.transaction() as session:
        stored = await session.scalar(select(Message).where(Message.direction == "in"))
        announce = await session.scalar(select(Outbox).where(Outbox.template == "level/announce"))
        [announced] = await bytes_of(session, [announce])
        blob = await session.scalar(select(Blob.data).where(Blob.sha256 == stored.raw_sha256))
        shown = await repo.show_ticket(session, ref=outcome.ticket_ref, prefix="HD")
    html_part = message_from_bytes(announced, policy=policy.default).get_body(("html",)).get_content()
    for html in (stored.html, shown["messages"][0]["html"], html_part):
        lowered = html.lower()
        assert "<b>invoice run</b>" in lowered and "nightly-invoices" in lowered  # formatting kept
        for bad in ("<script", "steal", "<iframe", "evil.example", "tracker.example", "<style"):
            assert bad not in lowered, bad
    assert "&lt;b&gt;" not in html_part  # shown as HTML, not escaped a second time
    assert blob == raw  # the original is kept whole; only what is shown is cleaned
    assert "invoice run" in stored.text and "<b>" not in stored.text
