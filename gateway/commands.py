"""What each CLI command does, one async function per command; cli.py maps errors to exit codes."""
from __future__ import annotations

import argparse
import sys
from typing import Mapping

from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.ingest import Ingestor
from gateway.store import repo
from gateway.store.db import Database

Args = argparse.Namespace


def open_db(settings: Settings) -> Database:
    return settings.open_database()


def table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: min(max(len(c), *(len(str(r.get(c) or "")) for r in rows)), 60) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns)]
    for row in rows:
        lines.append("  ".join(str(row.get(c) if row.get(c) is not None else "")[:60].ljust(widths[c])
                               for c in columns))
    return "\n".join(lines)


def emit(data, as_json: bool, render) -> None:
    import json

    print(json.dumps(data, indent=2, default=str) if as_json else render(data))


async def web_run(args: Args, settings: Settings, environ: Mapping[str, str]) -> int:
    from gateway.web.run import run_alone

    return await run_alone(settings, environ)


async def web_hash_password(args: Args, settings: Settings, environ: Mapping[str, str]) -> int:
    import asyncio

    from gateway.errors import UsageError
    from gateway.web.auth import hash_password
    from gateway.web.run import read_password

    password = read_password()
    if len(password) < 8:
        raise UsageError("web hash-password: the passwords differ or are shorter than 8 characters; run it again")
    print(await asyncio.to_thread(hash_password, password))
    return 0


async def serve_run(args: Args, settings: Settings, environ: Mapping[str, str]) -> int:
    from gateway.app import serve

    await serve(settings, environ=environ)
    return 0


async def ingest_run(args: Args, settings: Settings, environ: Mapping[str, str]) -> int:
    from gateway.inbound.pipe import drain_spool, ingest_stdin

    if args.drain:
        return await drain_spool(settings)
    return await ingest_stdin(settings, sender=args.sender, recipients=args.recipient, stdin=sys.stdin.buffer,
                              raw=getattr(args, "mail", None))


async def _with_session(settings: Settings, work):
    db = open_db(settings)
    try:
        async with db.transaction() as session:
            return await work(session)
    finally:
        await db.dispose()


async def tickets_list(args: Args, settings: Settings, environ) -> int:
    page = await _with_session(settings, lambda s: repo.list_tickets(
        s, prefix=settings.helpdesk.ticket_prefix, status=args.status, limit=args.limit, before=args.before))
    emit(page, args.json, lambda p: table(p["tickets"], ["ref", "status", "priority", "category", "level",
                                                         "requester", "assignee", "subject"]))
    if page["next_before"] is not None and not args.json:
        print(f"more tickets: add --before {page['next_before']} for the next {args.limit}")
    return 0


def render_ticket(t: dict) -> str:
    from gateway.triage.report import describe

    head = [f"{t['ref']}  {t['subject']}",
            f"  status {t['status']}  priority {t['priority']}  category {t['category']}  level {t['level']}"
            f"  assignee {t['assignee'] or '-'}  requester {t['requester']}  created {t['created_at']}"]
    # Why the ticket got its category and priority: which stage decided (rules or model) and on what.
    head += [f"  why: {d['text']}" for e in t["events"] if e["kind"] == "created" and isinstance(e["data"], dict)
             for d in e["data"].get("decisions", ())]
    head += ["  " + describe(e["data"]["report"])
             for e in t["events"] if e["kind"] == "created" and isinstance(e["data"], dict) and e["data"].get("report")]
    if t.get("incident_title") is not None:
        linked = ", ".join(t.get("linked_tickets") or ()) or "none yet"
        head.append(f"  incident: {t['incident_title']}; linked: {linked}")
        done = t.get("close_out") or {}
        cause = ": ".join(part for part in (done.get("cause_category"), done.get("cause")) if part)
        head.append(f"  close-out: service {done.get('service') or '-'}; cause {cause or '-'}; workaround "
                    f"{done.get('workaround') or '-'}; {len(done.get('followups') or ())} follow-up(s)"
                    f" (`gateway report {t['ref']}`)")
    if t.get("incident"):
        head.append(f"  part of incident {t['incident']}")
    for h in t.get("handoffs") or ():
        where = h["issue_url"] or h["issue_ref"] or f"{h['status']}, {h['attempts']} attempt(s)"
        closed = t.get("tracker_closed_at") and h["issue_url"] == t.get("tracker_issue_url")
        closed = " (closed there)" if closed else ""
        error = f"; last error: {h['last_error']}" if h["last_error"] and h["status"] != "delivered" else ""
        head.append(f"  tracker {h['tracker']}: {where}{closed}{error}")
    for m in t["messages"]:
        head += ["", f"--- {m['direction']} #{m['id']} {m['date']} from {m['from']} <{m['message_id']}>",
                 f"    subject: {m['subject']}", f"    threaded: {m['thread_reason']}"]
        if m["auto_reason"]:
            head.append(f"    automatic: {m['auto_reason']}")
        head += ["    " + line for line in (m["text"] or "").splitlines()[:40]]
        head += [f"    [attachment] {a['filename']} ({a['content_type']}, {a['size']} bytes)" for a in m["attachments"]]
    head += ["", "events:"] + [f"  {e['at']}  {e['kind']}  {e['actor']}  {e['data']}" for e in t["events"]]
    return "\n".join(head)


async def tickets_show(args: Args, settings: Settings, environ) -> int:
    detail = await _with_session(settings, lambda s: repo.show_ticket(
        s, ref=args.ref, prefix=settings.helpdesk.ticket_prefix))
    emit(detail, args.json, render_ticket)
    return 0


async def tickets_revoke_link(args: Args, settings: Settings, environ) -> int:
    from gateway.store.status_links import revoke

    number = repo.parse_ref(args.ref, settings.helpdesk.ticket_prefix)
    count = await _with_session(settings, lambda s: revoke(s, number, now=SystemClock().now()))
    ref = f"{settings.helpdesk.ticket_prefix}-{number}"
    print(f"{ref}: {count} status link{'' if count == 1 else 's'} revoked: they no longer open the page")
    return 0


async def report_run(args: Args, settings: Settings, environ) -> int:
    from gateway import incident_report
    from gateway.errors import UsageError
    from gateway.notify.render import Renderer

    report = await _with_session(settings, lambda s: incident_report.load(s, args.ref, settings))
    data = incident_report.render(report, args.format, Renderer(), settings)
    if not args.output:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise UsageError(f"report: cannot write {args.output}: {exc.strerror}; name a file in a folder you may "
                         f"write to") from None
    print(f"{report.ref}: final report written to {args.output} ({args.format}, {len(data)} bytes)", file=sys.stderr)
    return 0


async def quarantine_list(args: Args, settings: Settings, environ) -> int:
    rows = await _with_session(settings, lambda s: repo.list_quarantine(s, status=None if args.all else "held"))
    emit(rows, args.json, lambda r: table(r, ["id", "status", "at", "source", "reason"]))
    return 0


async def quarantine_show(args: Args, settings: Settings, environ) -> int:
    from gateway.store.blobs import get_blob

    async def work(session):
        entry = await repo.get_quarantine(session, args.id)
        return repo.quarantine_summary(entry), await get_blob(session, entry.raw_sha256)

    summary, raw = await _with_session(settings, work)
    if args.json:
        emit({**summary, "raw": (raw or b"").decode("utf-8", "replace")}, True, str)
    else:
        print(table([summary], ["id", "status", "at", "source", "reason"]))
        print()
        sys.stdout.write((raw or b"").decode("utf-8", "replace"))
    return 0


async def quarantine_retry(args: Args, settings: Settings, environ) -> int:
    from gateway.quarantine import retry

    db = open_db(settings)
    try:
        ingestor = Ingestor(settings=settings, db=db, clock=SystemClock())
        ids = args.id
        if not ids:
            async with db.transaction() as session:
                ids = [row["id"] for row in await repo.list_quarantine(session)]
        for entry_id in ids:
            outcome = await retry(ingestor, entry_id)
            print(f"{entry_id}: {outcome.status} {outcome.ticket_ref or ''} {outcome.reason}".rstrip())
    finally:
        await db.dispose()
    return 0


async def import_mbox(args: Args, settings: Settings, environ) -> int:
    return await _import_history("mbox", args, settings)


async def import_maildir(args: Args, settings: Settings, environ) -> int:
    return await _import_history("maildir", args, settings)


async def _import_history(kind: str, args: Args, settings: Settings) -> int:
    from pathlib import Path

    from gateway.inbound.history import import_mail, open_archive
    from gateway.prepare_pool import pool_size
    from gateway.store.migrate import upgrade

    db = open_db(settings)
    # First, while this process has no other thread: its preparation workers fork from it (no start-up).
    ingestor = Ingestor(settings=settings, db=db, clock=SystemClock(),
                        processes=pool_size(settings.spool.prepare_processes), fork_if_alone=True, warm_large=False)
    try:
        source = await open_archive(kind, Path(args.path))
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        await upgrade(db)
        await import_mail(source, ingestor=ingestor, progress=progress)
    finally:
        ingestor.close()
        await db.dispose()
    return 0


async def outbox_list(args: Args, settings: Settings, environ) -> int:
    from gateway.notify.send import list_rows

    rows = await _with_session(settings, lambda s: list_rows(s, status=args.status))
    data = [{"id": r.id, "status": r.status, "template": r.template, "recipient": r.recipient,
             "attempts": r.attempts, "next_attempt_at": repo.iso(r.next_attempt_at), "message_id": r.message_id,
             "ticket_id": r.ticket_id, "last_error": r.last_error} for r in rows]
    emit(data, args.json, lambda r: table(r, ["id", "status", "template", "recipient", "attempts",
                                               "next_attempt_at", "last_error"]))
    return 0


async def outbox_retry(args: Args, settings: Settings, environ) -> int:
    from gateway.notify.send import retry

    count = await _with_session(settings, lambda s: retry(s, ids=args.id or None, now=SystemClock().now()))
    print(f"{count} row(s) queued to send again")
    return 0


async def handoffs_list(args: Args, settings: Settings, environ) -> int:
    from gateway.handoff.rows import list_rows

    rows = await _with_session(settings, lambda s: list_rows(s, status=args.status))
    prefix = settings.helpdesk.ticket_prefix
    data = [{"id": r.id, "ticket": f"{prefix}-{r.ticket_id}", "tracker": r.tracker, "status": r.status,
             "attempts": r.attempts, "next_attempt_at": repo.iso(r.next_attempt_at), "issue_url": r.issue_url,
             "issue_ref": r.issue_ref, "key": r.idempotency_key, "last_error": r.last_error} for r in rows]
    emit(data, args.json, lambda r: table(r, ["id", "ticket", "tracker", "status", "attempts", "issue_url",
                                               "last_error"]))
    return 0


async def handoffs_retry(args: Args, settings: Settings, environ) -> int:
    from gateway.handoff.rows import retry

    count = await _with_session(settings, lambda s: retry(s, ids=args.id or None, now=SystemClock().now()))
    print(f"{count} hand-off(s) queued to try again")
    return 0


async def suppressions_list(args: Args, settings: Settings, environ) -> int:
    rows = await _with_session(settings, lambda s: repo.list_suppressions(s, now=SystemClock().now()))
    emit(rows, args.json, lambda r: table(r, ["address", "until", "bounces", "ticket_id", "reason"]))
    return 0


async def suppressions_lift(args: Args, settings: Settings, environ) -> int:
    await _with_session(settings, lambda s: repo.lift_suppression(s, args.address))
    print(f"{args.address}: automatic mail will be sent again")
    return 0


def _stats_lines(data: dict) -> list[str]:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{key}:" + ("" if value else " none"))
            lines.extend(f"  {kind:30} {count}" for kind, count in value.items())
        else:
            lines.append(f"{key:32} {value}")
    return lines


async def stats_run(args: Args, settings: Settings, environ) -> int:
    data = await _with_session(settings, repo.stats)
    emit(data, args.json, lambda d: "\n".join(_stats_lines(d)))
    return 0


async def spool_status(args: Args, settings: Settings, environ) -> int:
    db = open_db(settings)
    try:
        state = await db.spool.status(SystemClock().now())
    finally:
        await db.dispose()
    emit(state.as_dict(), args.json, lambda d: "\n".join(_spool_lines(d, settings.spool.warn_after_seconds)))
    return 0


def _spool_lines(data: dict, warn_after: float) -> list[str]:
    age = data["oldest_pending_seconds"]
    lines = [f"pending: {data['depth']}",
             f"oldest pending: {'-' if age is None else f'{age:.0f} s'}",
             f"done in the last minute: {data['done_last_minute']}",
             f"done in the last hour: {data['done_last_hour']}"]
    if age is not None and age > warn_after:
        lines.append(f"behind: the oldest mail waits longer than spool.warn_after_seconds ({warn_after:.0f} s); "
                     f"is `gateway serve` running? see its log")
    return lines


async def db_upgrade(args: Args, settings: Settings, environ) -> int:
    from gateway.store.migrate import upgrade  # alembic: only for the commands that migrate

    db = open_db(settings)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print(f"database {repo_describe(settings)} is at the newest schema")
    return 0


def repo_describe(settings: Settings) -> str:
    from gateway.store.db import describe

    return describe(settings.database_url)


async def classifier_evaluate(args: Args, settings: Settings, environ) -> int:
    from pathlib import Path

    from gateway.triage.learn import evaluate_csv

    scores = evaluate_csv(Path(args.csv), config=settings.classify,
                          model_dir=settings.resolve_path(settings.classify.model_dir))
    emit(scores.as_dict(), args.json, lambda _: scores.table())
    return 0


async def classifier_train(args: Args, settings: Settings, environ) -> int:
    from gateway.triage.learn import corrections, retrain

    found = await _with_session(settings, corrections)
    result = retrain(found, model_dir=settings.resolve_path(settings.classify.model_dir), now=SystemClock().now())
    emit(result.as_dict(), args.json, lambda _: result.summary())
    return 0


async def jobs_run(args: Args, settings: Settings, environ) -> int:
    from datetime import datetime, timezone

    from gateway.clock import FixedClock
    from gateway.errors import UsageError
    from gateway.schedule.jobs import run_jobs

    clock = SystemClock()
    if args.as_of:
        try:
            at = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise UsageError(f"--as-of {args.as_of!r}: not an ISO time; write e.g. 2026-01-05T09:00:00+00:00") from None
        clock = FixedClock(at if at.tzinfo else at.replace(tzinfo=timezone.utc))
    db = open_db(settings)
    try:
        done = await run_jobs(args.job, settings=settings, db=db, clock=clock)
    finally:
        await db.dispose()
    emit(done, args.json, lambda d: "\n".join(f"{name}: {value}" for name, value in d.items()))
    return 0


async def mailboxes_status(args: Args, settings: Settings, environ) -> int:
    from gateway.inbound.mailbox_status import format_status, mailbox_status

    db = open_db(settings)
    try:
        rows = await mailbox_status(settings=settings, db=db)
    finally:
        await db.dispose()
    emit(rows, args.json, format_status)
    return 0


async def mailboxes_check(args: Args, settings: Settings, environ) -> int:
    import asyncio

    from gateway.inbound.mailbox_status import check_mailboxes, format_check

    rows = await asyncio.to_thread(check_mailboxes, settings, environ)
    emit(rows, args.json, format_check)
    return 0 if all(row.get("ok") for row in rows) else 2
