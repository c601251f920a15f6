"""The `gateway` command line: argparse definitions for every command, and the exit codes in --help.

Apart from gateway.cli so that `gateway ingest` handed to a running serve never imports argparse.
"""
from __future__ import annotations

import argparse
import sys

from gateway.cli import EXIT_USAGE

EPILOG = """exit codes:
  0   done (for `ingest`: the mail is spooled; it is then stored, or kept in quarantine)
  1   a ticket, quarantine entry or outbox row named does not exist (`report`: or is not an incident)
  2   configuration problem (`gateway config check` lists them all)
  64  usage error (bad arguments)
  69  `ingest` only: the mail is larger than smtp.max_message_bytes and was refused
  70  internal error (a bug: please report it)
  75  temporary failure (database, disk or relay unavailable): nothing was lost, try again later

Configuration: --config PATH, else $GATEWAY_CONFIG, else ./config.toml; any key can be
overridden as GATEWAY_<SECTION>__<KEY>, e.g. GATEWAY_DATABASE__URL, GATEWAY_SMTP__PORT."""


TICKETS_LIST_EPILOG = """paging:
  One page holds the newest --limit tickets. --json prints {"tickets": [...], "next_before": N}:
  next_before is null on the last page, else run again with --before N for the next one. Numbers
  only grow, so tickets that arrive meanwhile never shift a page. The table ends with a line
  naming the next --before when more tickets exist."""


def page_size(value: str) -> int:
    """argparse type for --limit: 1 to 10000."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 10000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a page size; give a number from 1 to 10000")
    return number


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 64 (EX_USAGE) as sysexits(3) says."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"gateway: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="gateway", description="Support Gateway: an email help desk.", epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="config file (default: $GATEWAY_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    sub.add_parser("serve", help="run the SMTP listener, IMAP pollers, outbox sender and scheduler")
    web = sub.add_parser("web", help="the web face alone (board, ticket and status pages) against the database")
    web.add_subparsers(dest="action").add_parser(
        "hash-password", help="read a password (twice at a terminal, else one line of stdin); print its "
        "argon2 hash for [[web.users]] password_hash")
    ingest = sub.add_parser("ingest", help="read one mail on stdin and store it (for an MTA's pipe)",
                            epilog="exit 0 spooled (serve, `ingest --drain` or `jobs run spool` processes it), "
                            "75 try again later, 69 too large, 64 usage error")
    ingest.add_argument("--sender", help="envelope sender (Postfix: ${sender}); empty for bounces")
    ingest.add_argument("--recipient", action="append", default=[], help="envelope recipient (repeatable)")
    ingest.add_argument("--drain", action="store_true", help="read no mail: process the spool (mail spooled while "
                        "no serve ran) and exit, as `jobs run spool` does")

    history = sub.add_parser("import", help="import old mail (mbox or Maildir) as history: stored, threaded, "
                             "nothing sent").add_subparsers(dest="action", required=True)
    for kind, what in (("mbox", "an mbox file"), ("maildir", "a Maildir folder")):
        archive = history.add_parser(kind, help=f"import {what}; run again to resume after an interrupt")
        archive.add_argument("path", help=what)
        archive.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                             help="show a progress bar (default: when stderr is a terminal)")

    tickets = sub.add_parser("tickets", help="list and show tickets").add_subparsers(dest="action", required=True)
    listing = tickets.add_parser(
        "list", help="list tickets, newest first, a page at a time", epilog=TICKETS_LIST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    listing.add_argument("--status", help="only tickets with this status (open, pending, resolved)")
    listing.add_argument("--limit", type=page_size, default=500, help="tickets per page (default 500, at most 10000)")
    listing.add_argument("--before", type=int, metavar="NUMBER",
                         help="only tickets numbered below NUMBER: the next page (see next_before)")
    listing.add_argument("--json", action="store_true",
                         help='print {"tickets": [...], "next_before": NUMBER or null}')
    show = tickets.add_parser("show", help="one ticket with its messages and events")
    show.add_argument("ref", help="HD-42 or 42")
    show.add_argument("--json", action="store_true")
    revoke = tickets.add_parser("revoke-link", help="revoke the customer's status page link (/s/...) of a ticket")
    revoke.add_argument("ref", help="HD-42 or 42")

    report = sub.add_parser("report", help="an incident's final report: timeline, people, SLA, cause, "
                            "workaround, follow-ups")
    report.add_argument("ref", help="the incident, HD-42 or 42")
    report.add_argument("--format", choices=["md", "html", "pdf"], default="md", help="default md (Markdown)")
    report.add_argument("--output", metavar="FILE", help="write it to FILE (default: standard output)")

    quarantine = sub.add_parser("quarantine", help="mail that could not be processed").add_subparsers(
        dest="action", required=True)
    q_list = quarantine.add_parser("list")
    q_list.add_argument("--all", action="store_true", help="include released entries")
    q_list.add_argument("--json", action="store_true")
    q_show = quarantine.add_parser("show", help="the entry and its raw mail")
    q_show.add_argument("id", type=int)
    q_show.add_argument("--json", action="store_true")
    q_retry = quarantine.add_parser("retry", help="run held mail through ingest again")
    q_retry.add_argument("id", type=int, nargs="*", help="entry ids (default: every held entry)")

    outbox = sub.add_parser("outbox", help="mail waiting to be sent").add_subparsers(dest="action", required=True)
    o_list = outbox.add_parser("list")
    o_list.add_argument("--status", choices=["pending", "sending", "sent", "failed"])
    o_list.add_argument("--json", action="store_true")
    o_retry = outbox.add_parser("retry", help="send failed rows again")
    o_retry.add_argument("id", type=int, nargs="*", help="row ids (default: every failed row)")

    handoffs = sub.add_parser("handoffs", help="tickets handed off to the developers' trackers").add_subparsers(
        dest="action", required=True)
    h_list = handoffs.add_parser("list", help="deliveries with their state, issue and last error")
    h_list.add_argument("--status", choices=["pending", "sending", "delivered", "failed"])
    h_list.add_argument("--json", action="store_true")
    h_retry = handoffs.add_parser("retry", help="try failed deliveries again (same idempotency key)")
    h_retry.add_argument("id", type=int, nargs="*", help="delivery ids (default: every failed one)")

    spool = sub.add_parser("spool", help="mail accepted and waiting for the pipeline").add_subparsers(
        dest="action", required=True)
    s_status = spool.add_parser("status", help="pending depth, oldest pending age, rows done in the last minute/hour")
    s_status.add_argument("--json", action="store_true")

    stats = sub.add_parser("stats", help="counts of tickets, messages, duplicates, quarantine, outbox")
    stats.add_argument("--json", action="store_true")

    suppressions = sub.add_parser("suppressions", help="addresses that bounced: no automatic mail to them").\
        add_subparsers(dest="action", required=True)
    s_list = suppressions.add_parser("list", help="addresses suppressed now")
    s_list.add_argument("--json", action="store_true")
    s_lift = suppressions.add_parser("lift", help="send automatic mail to an address again (its mailbox works)")
    s_lift.add_argument("address")

    mailboxes = sub.add_parser("mailboxes", help="IMAP mailboxes").add_subparsers(dest="action", required=True)
    m_status = mailboxes.add_parser("status", help="connected, last success, last error, backlog per mailbox")
    m_status.add_argument("--json", action="store_true")
    m_check = mailboxes.add_parser("check", help="log in to each mailbox and report; exit 2 on any failure")
    m_check.add_argument("--json", action="store_true")

    jobs = sub.add_parser("jobs", help="scheduled work").add_subparsers(dest="action", required=True)
    j_run = jobs.add_parser("run", help="run scheduled work now: process the spool, drain the outbox, SLA sweep, daily digest")
    j_run.add_argument("job", nargs="?", default="all", choices=["spool", "outbox", "sla", "digest", "classifier", "all"],
                       help="all = spool, outbox, sla and digest; classifier (retrain from corrections) only when named")
    j_run.add_argument("--as-of", help="act as if it were this ISO time (e.g. 2026-01-05T09:00:00+00:00)")
    j_run.add_argument("--json", action="store_true")

    classifier = sub.add_parser("classifier", help="the learned category model").add_subparsers(
        dest="action", required=True)
    c_eval = classifier.add_parser("evaluate", help="accuracy, per-class precision/recall/F1 and confusion of the "
                                   "classifier as configured on a labelled CSV (columns subject, body, category)")
    c_eval.add_argument("--csv", required=True, help="labelled CSV file")
    c_eval.add_argument("--json", action="store_true")
    c_train = classifier.add_parser("train", help="retrain from the seed set plus the desk's /category "
                                    "corrections; keep the new model only if it is no worse on the held-out part")
    c_train.add_argument("--json", action="store_true")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="bring the database to the newest schema")

    cfg = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    cfg.add_parser("check", help="print every problem as one line; exit 2 when there are any")
    return parser
