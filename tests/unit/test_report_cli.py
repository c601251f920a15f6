"""`gateway report HD-n`: the final report as Markdown, HTML or PDF; one clear line for what has no report."""
from __future__ import annotations

import asyncio
import io

import pypdf
import pytest

from gateway.cli import EXIT_NOT_FOUND, EXIT_USAGE, main
from gateway.store.db import Database
from gateway.store.models import Event, FollowUp, Ticket
from tests.unit.schedule.helpers import utc

TITLE = "Mail server down in Zürich"  # not Latin-1 only: the PDF must keep it


@pytest.fixture
def config(tmp_path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/g.db"\n[outbound]\nmaildir = "{tmp_path}/out"\n'
                    f'[incidents]\nannounce = ["status@example.com"]\n')
    assert main(["--config", str(path), "db", "upgrade"]) == 0

    async def add() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.db")
        at = utc("2026-01-05 09:00")
        common = dict(requester_name="", category="bug", priority="urgent", level=3, created_at=at, updated_at=at,
                      last_activity_at=at, sla_fired=0, first_response_due=utc("2026-01-05 10:00"),
                      resolution_due=utc("2026-01-05 11:00"))
        try:
            async with db.transaction() as session:
                session.add(Ticket(id=1, subject="Mail down?", requester="ann@client.example", reply_token="k1",
                                   incident_title=TITLE, status="resolved", first_response_at=utc("2026-01-05 09:15"),
                                   resolved_at=utc("2026-01-05 10:30"), cause_category="network",
                                   cause="A switch failed", workaround="Webmail", **common))
                await session.flush()
                session.add_all([
                    *(Ticket(id=n, subject="No mail", requester=f"user{n}@client.example", reply_token=f"k{n}",
                             incident_id=1, status="resolved", **common) for n in (2, 3)),
                    Ticket(id=4, subject="Printer", requester="cy@client.example", reply_token="k4", status="open",
                           **common),
                    Event(ticket_id=1, kind="command_incident", actor="bob@example.com", at=utc("2026-01-05 09:10"),
                          data={"arg": TITLE}),
                    Event(ticket_id=1, kind="incident_update", actor="bob@example.com", at=utc("2026-01-05 09:45"),
                          data={"text": "Replacing the switch"}),
                    Event(ticket_id=1, kind="command_resolve", actor="bob@example.com", at=utc("2026-01-05 10:30"),
                          data={"arg": "New switch"}),
                    FollowUp(ticket_id=1, text="Spare switch on site", actor="bob@example.com",
                             at=utc("2026-01-05 10:40")),
                ])
        finally:
            await db.dispose()

    asyncio.run(add())
    return str(path)


def test_markdown_on_standard_output(config, capsysbinary):
    assert main(["--config", config, "report", "HD-1"]) == 0
    text = capsysbinary.readouterr().out.decode()
    assert text.startswith(f"# Final report: {TITLE} (HD-1)")
    for line in ("- 2026-01-05 09:45 UTC: update sent (bob@example.com): Replacing the switch",
                 "- Reporters: 3, on 3 tickets", "- Recipient list: status@example.com",
                 "- Time to acknowledge: 15 min (target 1 hour: met)",
                 "- Time to resolve: 1 h 30 min (target 2 hours: met)",
                 "- Cause category: network", "- Root cause: A switch failed", "- Workaround: Webmail",
                 "  1. Spare switch on site"):
        assert "\n" + line in text


def test_html_to_a_file(config, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["--config", config, "report", "1", "--format", "html", "--output", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and f"Final report: {TITLE} (HD-1)" in page
    assert '<span class="reporters">3</span>' in page and "<li>Spare switch on site</li>" in page
    assert capsys.readouterr().err.startswith(f"HD-1: final report written to {out} (html, ")


def test_pdf_has_the_report_s_text(config, tmp_path):
    out = tmp_path / "report.pdf"
    assert main(["--config", config, "report", "HD-1", "--format", "pdf", "--output", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert reader.metadata.title == f"HD-1 final report: {TITLE}"
    for words in (f"Final report: {TITLE} (HD-1)", "Reporters: 3, on 3 tickets", "Cause category: network",
                  "Spare switch on site", "Time to resolve: 1 h 30 min"):
        assert words in text


@pytest.mark.parametrize("ref, code, line", [
    ("HD-x", EXIT_USAGE, "gateway: 'HD-x' is not a ticket reference; use HD-<number> or the number alone"),
    ("HD-99", EXIT_NOT_FOUND, "gateway: ticket HD-99 does not exist; `gateway tickets list` shows the ones that do"),
    ("HD-4", EXIT_NOT_FOUND, "gateway: HD-4 is not an incident, so it has no final report; "
                             "make it one with /incident [title]"),
    ("HD-2", EXIT_NOT_FOUND, "gateway: HD-2 is not an incident, so it has no final report; "
                             "it is part of incident HD-1: run `gateway report HD-1`"),
])
def test_what_has_no_report_is_one_line_and_a_non_zero_exit(config, capsys, ref, code, line):
    assert main(["--config", config, "report", ref]) == code
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [line] and captured.out == ""


def test_an_unwritable_output_is_one_line(config, tmp_path, capsys):
    assert main(["--config", config, "report", "HD-1", "--output", str(tmp_path / "no" / "such" / "r.md")]) == EXIT_USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"gateway: report: cannot write {tmp_path}/no/such/r.md: No such file or directory")
