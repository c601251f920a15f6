"""cli: the quick reading of an MTA's `ingest` command line agrees with argparse, and main() hands the mail off."""
from __future__ import annotations

import io
import sys

import pytest

from gateway.cli import EXIT_TEMPFAIL, main, plain_ingest
from gateway.cli_parser import build_parser
from tests.unit.inbound.smtp_script import ScriptedSMTP

READ_QUICKLY = [
    ["ingest"],
    ["ingest", "--sender", "a@example.org"],
    ["--config", "/etc/gw.toml", "ingest", "--sender", "a@example.org", "--recipient", "ihelp@example.com"],
    ["--config=/etc/gw.toml", "ingest", "--sender=", "--recipient=x@example.com", "--recipient", "y@example.com"],
    ["ingest", "--sender", "", "--recipient", "ihelp@example.com"],  # Postfix's ${sender} of a bounce
    ["--config", "a", "--config", "b", "ingest", "--sender", "1", "--sender", "2"],
    ["--config", "ingest", "ingest"],
    ["ingest", "--sender=-dash@example.org"],
]
LEFT_TO_ARGPARSE = [
    [], ["serve"], ["--config", "x", "serve"], ["ingest", "--send", "a@example.org"],
    ["ingest", "--sender", "-a"], ["ingest", "--sender"], ["ingest", "--config", "x"],
    ["--sender", "a", "ingest"], ["ingest", "extra"], ["ingest", "--help"], ["-h"], ["ingest", "--", "x"],
    ["ingest", "ingest"], ["--config", "x"], ["ingest", "--recipient", "a", "b"],
]


@pytest.mark.parametrize("argv", READ_QUICKLY)
def test_the_quick_reading_is_argparse_s(argv):
    args = build_parser().parse_args(argv)
    assert args.command == "ingest"
    assert plain_ingest(argv) == (args.config, args.sender, args.recipient)


@pytest.mark.parametrize("argv", LEFT_TO_ARGPARSE)
def test_anything_else_is_left_to_argparse(argv):
    assert plain_ingest(argv) is None


@pytest.fixture
def serve_double(tmp_path, monkeypatch):
    server = ScriptedSMTP()
    (tmp_path / "config.toml").write_text(f"[smtp]\nport = {server.port}\n")
    monkeypatch.delenv("GATEWAY_SMTP__PORT", raising=False)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Subject: hi\n\nbody\n")))
    yield server, str(tmp_path / "config.toml")
    server.close()


def test_main_hands_the_mail_to_serve_before_argparse(serve_double):
    server, config = serve_double
    assert main(["--config", config, "ingest", "--sender", "a@example.org"]) == 0
    assert server.mails == [b"Subject: hi\r\n\r\nbody\r\n.\r\n"]


def test_main_hands_off_a_spelling_only_argparse_reads(serve_double):
    server, config = serve_double
    assert main(["--config", config, "ingest", "--send", "a@example.org"]) == 0
    assert server.commands[1] == "MAIL FROM:<a@example.org> SIZE=21"


def test_serve_s_temporary_failure_is_75_with_one_line(serve_double, capsys):
    server, config = serve_double
    server.answers["."] = "451 4.3.0 try again later"
    assert main(["--config", config, "ingest", "--sender", "a@example.org"]) == EXIT_TEMPFAIL
    assert capsys.readouterr().err.splitlines() == [
        "gateway: temporary failure: serve answered 451 4.3.0 try again later; nothing was lost, try again later"]


def test_a_bug_in_the_hand_off_is_75(serve_double, monkeypatch, capsys):
    _, config = serve_double

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("gateway.inbound.handoff.hand_off", broken)
    assert main(["--config", config, "ingest", "--sender", "a@example.org"]) == EXIT_TEMPFAIL
    assert capsys.readouterr().err.startswith("gateway: internal error: RuntimeError: boom")
