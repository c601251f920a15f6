"""Checks that need more than the schema: build every calendar and the pipeline, check step order."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import ConfigError

if TYPE_CHECKING:
    from gateway.config import Settings

# (earlier, later, why): each pair must keep this order when both steps are listed.
STEP_ORDER = (
    ("dedupe", "loop_guard", "a mail we already hold must change nothing"),
    ("loop_guard", "bounce", "bounce reads the loop guard's verdict"),
    ("bounce", "thread", "a delivery report joins the ticket of the mail it returns"),
    ("thread", "reopen", "reopen looks at the ticket thread chose"),
    ("reopen", "record", "a reply to a long-resolved ticket is stored on the new ticket"),
    ("thread", "record", "record stores the mail on the ticket thread chose"),
    ("classify", "record", "the ticket is opened with its category"),
    ("prioritise", "route", "route sends urgent tickets to the urgent level"),
    ("route", "record", "the ticket is opened at its level, with its SLA clocks"),
    ("similar", "record", "a new ticket must not be found similar to itself"),
    ("loop_guard", "notify", "no automatic answer before the loop guard has looked"),
    ("record", "commands", "commands act on the stored ticket and message"),
    ("record", "notify", "notifications quote the stored message"),
    ("commands", "notify", "notify must see the state the commands left"),
    ("similar", "incident_link", "incident_link reads the similar tickets"),
    ("record", "incident_link", "incident_link links the recorded ticket"),
    ("incident_link", "notify", "the announcement says which incident the ticket joined"),
)
REQUIRED_STEPS = {"thread": "mail is not threaded", "record": "mail is not stored"}


def calendar_problems(settings: Settings) -> list[str]:
    """Build [business] and every level's hours as the SLA code will; one line per problem."""
    from gateway.schedule.businesstime import BusinessCalendar

    found = []
    try:
        BusinessCalendar.from_config(settings.business)
    except ConfigError as exc:
        found.append(str(exc))
        return found  # every level's calendar starts from [business]: its errors would repeat this one
    for index, level in enumerate(settings.levels):
        if level.hours is None:
            continue
        try:
            BusinessCalendar.from_config(settings.business_for_level(level.number))
        except ConfigError as exc:
            found.append(f"levels[{index}].hours (level {level.number}, laid over [business]): {exc}")
    return found


def pipeline_problems(settings: Settings) -> list[str]:
    """Build the pipeline as ingest will, and check the order of the steps listed."""
    from gateway.pipeline import registry
    from gateway.pipeline.steps import DEFAULT_STEPS

    names = settings.pipeline.steps or DEFAULT_STEPS
    try:
        registry.build(names)
    except ConfigError as exc:
        return [f"{exc}; fix pipeline.steps in config.toml or remove it for the default order"]
    found = [f"pipeline.steps: {name!r} is missing ({REQUIRED_STEPS[name]}); add it, e.g. as in the default "
             f"{list(DEFAULT_STEPS)}" for name in REQUIRED_STEPS if name not in names]
    if names and names[0] != "dedupe" and "dedupe" in names:
        found.append(f"pipeline.steps: 'dedupe' must come first (a mail we already hold must change nothing); "
                     f"move it to the front of {list(names)}")
    where = {name: index for index, name in enumerate(names)}
    for earlier, later, why in STEP_ORDER:
        if earlier in where and later in where and where[earlier] > where[later]:
            found.append(f"pipeline.steps: {earlier!r} must come before {later!r} ({why}); reorder them")
    return found


def settings_problems(settings: Settings) -> list[str]:
    """Every problem a valid schema can still hide, one line each; [] when serve can start."""
    return calendar_problems(settings) + pipeline_problems(settings)
