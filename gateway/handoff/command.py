"""/handoff [TRACKER]: an engineer hands a ticket to the developers' tracker (mail command and web action)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.handoff.queue import delivery_for, hand_off
from gateway.mail.commands import USAGE, Command

if TYPE_CHECKING:
    from gateway.tickets import Acting


def tracker_named(a: Acting, arg: str):
    """The tracker `arg` names, or the first configured one for a bare /handoff; None when there is none."""
    trackers = a.settings.trackers
    return (a.settings.tracker(arg) if arg else trackers[0]) if trackers else None


def problems(a: Acting, commands: list[Command]) -> list[str]:
    """/handoff lines that cannot apply: no trackers configured, or an unknown one; as error lines."""
    found = []
    names = [t.name for t in a.settings.trackers]
    for c in commands:
        if c.name != "handoff":
            continue
        if not names:
            why = "no tracker is configured; add a [[trackers]] entry to config.toml"
        elif tracker_named(a, c.arg) is None:
            why = f"there is no tracker {c.arg!r}; the trackers are {', '.join(names)}"
        else:
            continue
        found.append(f"line {c.line}: /handoff: {why}; usage: {USAGE['handoff']}")
    return found


async def already(a: Acting, commands: list[Command]) -> list[str]:
    """/handoff lines naming a tracker this ticket went to before, as error lines."""
    found = []
    for c in commands:
        tracker = tracker_named(a, c.arg) if c.name == "handoff" else None
        if tracker is None:
            continue
        row = await delivery_for(a.session, a.ticket.id, tracker.name)
        if row is not None:
            where = row.issue_url or f"queued, {row.status}"
            found.append(f"line {c.line}: /handoff: {a.ref} was handed off to {tracker.name} already ({where}); "
                         f"usage: {USAGE['handoff']}")
    return found


async def handoff(a: Acting, arg: str) -> str:
    tracker = tracker_named(a, arg)
    await hand_off(a.session, ticket=a.ticket, tracker=tracker, actor=a.actor, now=a.now, settings=a.settings,
                   renderer=a.notifier.renderer, why=f"/handoff by {a.actor}")
    return f"handed off to {tracker.name}: queued; you get the issue's address once {tracker.name} has it"
