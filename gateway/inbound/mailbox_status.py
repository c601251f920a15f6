"""`gateway mailboxes status` and `check`: how each IMAP poller is doing, and a live login test."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import select

from gateway.clock import utc
from gateway.config import MailboxConfig, Settings
from gateway.inbound.imap import mailbox_password
from gateway.inbound.imap_session import ImapSession, MailboxError, server_of
from gateway.store.db import Database
from gateway.store.models import MailboxState


def _iso(value: datetime | None) -> str | None:
    return utc(value).isoformat(timespec="seconds") if value else None


async def mailbox_status(*, settings: Settings, db: Database) -> list[dict[str, Any]]:
    """One dict per configured mailbox, in config order; times are ISO strings or None.

    [{"name": "support", "server": "imap.example.com:993", "connected": True,
      "last_success_at": "2026-01-05T09:00:00+00:00", "last_error": None, "last_error_at": None,
      "backlog": 0, "failing_since": None, "alert_sent_at": None, "last_uid": 1041, "uidvalidity": 1700000000,
      "polled_by": "gw1.example.com:4242"}]  (polled_by: the instance holding the mailbox's lease, if any)
    A mailbox the poller has never tried has connected False and every time None.
    """
    async with db.transaction() as session:
        rows = {row.name: row for row in (await session.scalars(select(MailboxState))).all()}
    now = datetime.now(timezone.utc)
    result = []
    for mailbox in settings.mailboxes:
        row = rows.get(mailbox.name)
        result.append({
            "name": mailbox.name,
            "server": server_of(mailbox),
            "username": mailbox.username,
            "folder": mailbox.folder,
            "connected": bool(row and row.connected),
            "last_success_at": _iso(row.last_success_at) if row else None,
            "last_error": row.last_error if row else None,
            "last_error_at": _iso(row.last_error_at) if row else None,
            "backlog": row.backlog if row else 0,
            "failing_since": _iso(row.failing_since) if row else None,
            "alert_sent_at": _iso(row.alert_sent_at) if row else None,
            "last_uid": row.last_uid if row else 0,
            "uidvalidity": row.uidvalidity if row else None,
            "polled_by": row.lease_holder if row and row.lease_until and utc(row.lease_until) > now else None,
        })
    return result


def check_mailbox(mailbox: MailboxConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    """Log in and look around without changing anything: folders, capabilities, message and unseen counts."""
    result: dict[str, Any] = {"name": mailbox.name, "server": server_of(mailbox), "security": mailbox.security,
                              "username": mailbox.username, "folder": mailbox.folder, "ok": False, "error": None}
    session = None
    try:
        session = ImapSession.open(mailbox, mailbox_password(mailbox, environ))
        client = session.client
        folders = sorted(name for _flags, _delim, name in session.call(client.list_folders))
        status = session.call(client.folder_status, mailbox.folder, ["MESSAGES", "UNSEEN", "UIDVALIDITY"])
        result.update(
            ok=True,
            capabilities=sorted(session.capabilities),
            folders=folders,
            messages=int(status[b"MESSAGES"]),
            unseen=int(status[b"UNSEEN"]),
            uidvalidity=int(status[b"UIDVALIDITY"]),
            processed_folder=mailbox.processed_folder,
            processed_folder_exists=mailbox.processed_folder in folders,
            idle=mailbox.idle and session.can_idle,
            move="MOVE" in session.capabilities,
        )
    except MailboxError as exc:
        result["error"] = str(exc)
    finally:
        if session is not None:
            session.close()
    return result


def check_mailboxes(settings: Settings, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """check_mailbox() for every configured mailbox, side by side (an unreachable host costs its timeout once).

    [{"name": "support", "server": "imap.example.com:993", "ok": True, "error": None, "folders": ["INBOX", ...],
      "capabilities": ["IDLE", "MOVE", ...], "messages": 12, "unseen": 3, "processed_folder_exists": True, ...},
     {"name": "sales", "ok": False, "error": "mailbox 'sales' (...): login refused: ...; check username ..."}]
    The CLI exits 2 when any entry has ok False.
    """
    if not settings.mailboxes:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(settings.mailboxes))) as pool:
        return list(pool.map(lambda mailbox: check_mailbox(mailbox, environ), settings.mailboxes))


def format_status(rows: list[dict[str, Any]]) -> str:
    """Plain-text lines for `gateway mailboxes status` (one block per mailbox)."""
    if not rows:
        return "no [[mailboxes]] configured"
    lines = []
    for row in rows:
        state = "connected" if row["connected"] else ("FAILING" if row["failing_since"] else "not connected")
        lines.append(f"{row['name']}: {state}, {row['server']} as {row['username']}, folder {row['folder']}, "
                     f"backlog {row['backlog']}")
        lines.append(f"  last success: {row['last_success_at'] or 'never'}")
        if row["polled_by"]:
            lines.append(f"  polled by: {row['polled_by']}")
        if row["failing_since"]:
            lines.append(f"  failing since: {row['failing_since']}"
                         + (f" (alert sent {row['alert_sent_at']})" if row["alert_sent_at"] else ""))
        if row["last_error"]:
            lines.append(f"  last error ({row['last_error_at']}): {row['last_error']}")
    return "\n".join(lines)


def format_check(rows: list[dict[str, Any]]) -> str:
    """Plain-text lines for `gateway mailboxes check`."""
    if not rows:
        return "no [[mailboxes]] configured"
    lines = []
    for row in rows:
        if not row["ok"]:
            lines.append(f"{row['name']}: FAILED {row['error']}")
            continue
        lines.append(f"{row['name']}: ok, {row['server']} ({row['security']}) as {row['username']}")
        lines.append(f"  {row['folder']}: {row['messages']} mails, {row['unseen']} unseen; processed folder "
                     f"{row['processed_folder']!r} {'exists' if row['processed_folder_exists'] else 'will be created'}")
        lines.append(f"  IDLE {'yes' if row['idle'] else 'no (polling)'}, MOVE {'yes' if row['move'] else 'no (copy+expunge)'}")
        lines.append(f"  folders: {', '.join(row['folders'])}")
        lines.append(f"  capabilities: {' '.join(row['capabilities'])}")
    return "\n".join(lines)
