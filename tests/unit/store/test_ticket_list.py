"""`gateway tickets list` pages through every ticket and says when more exist (it used to stop at 500 silently)."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from gateway.cli import EXIT_USAGE, main
from gateway.store.db import Database
from gateway.store.models import Ticket


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/g.db"\n'
                    f'[outbound]\nmaildir = "{tmp_path}/out"\n')
    assert main(["--config", str(path), "db", "upgrade"]) == 0

    async def add(count: int) -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.db")
        at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        try:
            async with db.transaction() as session:
                session.add_all(Ticket(subject=f"t{n}", requester="c@example.org", requester_name="", category="misc",
                                       priority="low", level=1, status="open" if n % 2 else "resolved",
                                       reply_token=f"k{n}", created_at=at, updated_at=at, last_activity_at=at,
                                       sla_fired=0) for n in range(1, count + 1))
        finally:
            await db.dispose()

    asyncio.run(add(505))
    return str(path)


def listing(config: str, capsys, *args: str) -> dict:
    assert main(["--config", config, "tickets", "list", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_default_page_says_more_exist(config, capsys):
    page = listing(config, capsys)
    assert len(page["tickets"]) == 500 and page["tickets"][0]["number"] == 505
    assert page["next_before"] == 6
    assert [t["number"] for t in listing(config, capsys, "--before", "6")["tickets"]] == [5, 4, 3, 2, 1]


def test_a_script_reads_every_ticket_page_by_page(config, capsys):
    numbers, before = [], []
    while True:
        page = listing(config, capsys, "--limit", "100", *before)
        numbers += [t["number"] for t in page["tickets"]]
        if page["next_before"] is None:
            break
        before = ["--before", str(page["next_before"])]
    assert numbers == list(range(505, 0, -1))


def test_pages_of_one_status(config, capsys):
    page = listing(config, capsys, "--status", "open", "--limit", "2", "--before", "10")
    assert [t["number"] for t in page["tickets"]] == [9, 7] and page["next_before"] == 7
    assert listing(config, capsys, "--status", "open", "--before", "2") == {"tickets": [{**page["tickets"][0],
        "number": 1, "ref": "HD-1", "subject": "t1"}], "next_before": None}


def test_the_table_names_the_next_page(config, capsys):
    assert main(["--config", config, "tickets", "list", "--limit", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "more tickets: add --before 503 for the next 3"


@pytest.mark.parametrize("limit", ["0", "-1", "10001", "all"])
def test_a_bad_page_size_is_a_usage_error(config, capsys, limit):
    with pytest.raises(SystemExit) as done:
        main(["--config", config, "tickets", "list", "--limit", limit])
    assert done.value.code == EXIT_USAGE
    assert f"argument --limit: {limit!r} is not a page size; give a number from 1 to 10000" in capsys.readouterr().err
