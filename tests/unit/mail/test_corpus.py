"""The loop guard and bounce parser against the real bounces and auto-replies in the shared corpus."""
from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from gateway.mail.bounce import parse_bounce
from gateway.mail.loopguard import auto_reason

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "bounces"
MAILDIR = CORPUS / "maildir"
pytestmark = pytest.mark.skipif(
    not MAILDIR.is_dir(), reason=f"shared corpus not found at {CORPUS} (only the main work tree has it)")

OWN = ("ihelp@example.com",)
OWN_DOMAIN = "helpdesk.example.com"

# Two files in the "bounce" folders are a person forwarding a bounce ("Fwd: Returned mail: …",
# "Begin forwarded message:", the bounce quoted with ">"). Sisimai digs the bounce out of them; for
# us a person wrote them and wants help, so they must get an answer. Pinned here as None.
PERSON_FORWARDS = {"lhost-sendmail-14.eml", "make-test-36.eml"}


def load(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def reason_for(path: Path) -> str | None:
    # No envelope here: a stored file's Return-Path header stands in for MAIL FROM.
    return auto_reason(load(path), envelope_from=None, own_addresses=OWN, own_domain=OWN_DOMAIN)


def automatic_files() -> list[Path]:
    files = [path for folder in ("bsd", "dos", "mac", "err", "tmp")
             for path in sorted((MAILDIR / folder).glob("*.eml"))]
    return files + sorted((CORPUS / "to-be-debugged-because").rglob("*.eml"))


def test_every_bounce_and_auto_reply_is_guarded():
    files = automatic_files()
    assert len(files) > 800
    missed = [f"{path.relative_to(CORPUS)}" for path in files
              if path.name not in PERSON_FORWARDS and reason_for(path) is None]
    print(f"{len(files) - len(missed)}/{len(files)} corpus mails guarded")
    assert missed == [], "automatic mail that would get an answer:\n" + "\n".join(missed)


def test_person_forwards_of_bounces_are_answered():
    found = [path for path in automatic_files() if path.name in PERSON_FORWARDS]
    assert len(found) == len(PERSON_FORWARDS)
    assert [reason_for(path) for path in found] == [None] * len(found)


@pytest.mark.parametrize(("name", "automatic"), [
    ("is-not-bounce-01.eml", False),  # plain mail sent through an HTTP-to-SMTP service; nothing automatic
    ("is-not-bounce-02.eml", False),  # a person attaching a mail as original.eml
    # Not a DSN, but a bounce all the same (Return-Path <>, Auto-Submitted, From postmaster): guard it.
    ("rb-issue-368-bug.eml", True),
])
def test_not_folder(name, automatic):
    assert (reason_for(MAILDIR / "not" / name) is not None) is automatic


def test_bounce_recipients_found_for_most_real_bounces():
    bounces = [path for folder in ("bsd", "dos", "mac")
               for path in sorted((MAILDIR / folder).glob("lhost-*.eml"))
               if path.name not in PERSON_FORWARDS and reason_for(path) is not None]
    found = [path for path in bounces if (report := parse_bounce(load(path))) and report.recipients]
    share = len(found) / len(bounces)
    print(f"parse_bounce found recipients in {len(found)}/{len(bounces)} lhost bounces ({share:.1%})")
    assert len(bounces) > 500
    assert share >= 0.88


def test_auto_replies_are_not_bounces():
    replies = sorted(MAILDIR.glob("*/rfc3834-*.eml"))
    assert replies and [path.name for path in replies if parse_bounce(load(path)) is not None] == []
