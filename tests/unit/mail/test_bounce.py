"""Bounce parsing: recipients, permanence and the returned Message-ID, from sample bounces."""
from __future__ import annotations

import base64
import email
from email import policy
from pathlib import Path

import pytest

from gateway.mail.bounce import BounceReport, original_message_id, parse_bounce

DATA = Path(__file__).resolve().parents[2] / "data"


def load(folder: str, name: str):
    return email.message_from_bytes((DATA / folder / name).read_bytes(), policy=policy.default)


BOUNCES = [
    # Original-Recipient is what we addressed, so it wins over Final-Recipient (lowercased).
    ("postfix-dsn.eml", BounceReport(("nobody@customer.example.org",), True, False,
                                     "<ack-20@helpdesk.example.com>", "dsn")),
    ("delayed-dsn.eml", BounceReport(("slow@customer.example.org",), False, True,
                                     "<ack-21@helpdesk.example.com>", "dsn")),
    ("exchange-ndr.eml", BounceReport(("left.company@corp.example.net",), True, False,
                                      "<ack-24@helpdesk.example.com>", "dsn")),
    ("gmail-delivery-failure.eml", BounceReport(("typo@gmial.example.com",), True, False,
                                                "<ack-25@helpdesk.example.com>", "dsn")),
    ("exim-bounce.eml", BounceReport(("gone@oldcompany.example.net",), True, False,
                                     "<ack-22@helpdesk.example.com>", "heuristic")),
    ("qmail-failure-notice.eml", BounceReport(("olduser@isp.example.com",), True, False,
                                              "<ack-23@helpdesk.example.com>", "heuristic")),
]


@pytest.mark.parametrize(("name", "expected"), BOUNCES)
def test_bounces(name, expected):
    assert parse_bounce(load("auto", name)) == expected


@pytest.mark.parametrize(("folder", "name"), [
    ("auto", "rfc3834-vacation.eml"), ("auto", "exchange-oof.eml"), ("auto", "gmail-vacation.eml"),
    ("auto", "mailing-list.eml"), ("auto", "newsletter-bulk.eml"), ("auto", "noreply-team.eml"),
    *[("human", path.name) for path in sorted((DATA / "human").glob("*.eml"))],
])
def test_not_bounces(folder, name):
    assert parse_bounce(load(folder, name)) is None


def test_null_sender_vacation_is_not_a_bounce():
    raw = (b"Return-Path: <>\nFrom: kim@example.org\nSubject: Away\nAuto-Submitted: auto-replied\n\n"
           b"Until Monday. In urgent cases write to other@example.org\n")
    assert parse_bounce(email.message_from_bytes(raw, policy=policy.default)) is None


def test_plain_text_bounce_without_dsn():
    raw = (b"Return-Path: <>\nFrom: MAILER-DAEMON <>\nTo: ihelp@example.com\nSubject: Mail delivery failed\n\n"
           b"There was an error delivering your mail to <lost@example.net>.\n"
           b"550 5.1.1 user unknown\nMessage headers follow.\n"
           b"To: <lost@example.net>\nMessage-Id: <ack-9@helpdesk.example.com>\n")
    report = parse_bounce(email.message_from_bytes(raw, policy=policy.default))
    assert report == BounceReport(("lost@example.net",), True, False, "<ack-9@helpdesk.example.com>", "heuristic")


def test_base64_delivery_status_is_read_as_text():
    status = (b"Reporting-MTA: dns; mx\r\n\r\n"
              b"Final-Recipient: rfc822; b64@example.net\r\nAction: failed\r\nStatus: 5.0.0\r\n")
    raw = (b"From: MAILER-DAEMON@mx.example.com\nContent-Type: multipart/report; report-type=delivery-status; "
           b"boundary=XX\nMIME-Version: 1.0\n\n--XX\nContent-Type: text/plain\n\nfailed\n--XX\n"
           b"Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
           + base64.encodebytes(status) + b"--XX--\n")
    report = parse_bounce(email.message_from_bytes(raw, policy=policy.default))
    assert report is not None and report.recipients == ("b64@example.net",) and report.permanent


def test_message_id_from_body_line():
    raw = b"From: x@example.org\nSubject: y\n\nsome text\n   Message-ID: <quoted-1@helpdesk.example.com>\n"
    assert original_message_id(email.message_from_bytes(raw, policy=policy.default)) == \
        "<quoted-1@helpdesk.example.com>"


def test_garbage_never_raises():
    for raw in (b"", b"\x00\xff" * 1000, b"Content-Type: multipart/report; boundary=\n\n--\n--\n",
                b"From: MAILER-DAEMON\nContent-Type: message/delivery-status\n\nAction: failed\n"):
        assert parse_bounce(email.message_from_bytes(raw, policy=policy.default)) is None


@pytest.mark.parametrize(("name", "recipient", "permanent"), [
    ("flufl-qmail-notification.eml", "bob@partner.example.net", True),
    ("flufl-postfix-notice.eml", "carl@partner.example.net", True),
    ("returned-mail-dash.eml", "nobody@legacy.example.org", True),
    ("av-mail-could-not-be-delivered.eml", "bob@partner.example.net", False),
    ("de-unzustellbare-nachricht.eml", "hans@firma.example.de", False),
])
def test_bounces_without_a_dsn_name_the_failed_recipient(name, recipient, permanent):
    report = parse_bounce(load("auto", name))
    assert report is not None and report.recipients == (recipient,) and report.permanent is permanent
