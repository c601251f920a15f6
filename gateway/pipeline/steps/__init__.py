"""The built-in steps, and the order a mail goes through them."""
from gateway.pipeline.steps import (  # noqa: F401  (importing registers each step)
    bounce,
    classify,
    commands,
    dedupe,
    incident_link,
    loop_guard,
    notify,
    prioritise,
    record,
    reopen,
    route,
    similar,
    thread,
)

DEFAULT_STEPS: tuple[str, ...] = (
    "dedupe",      # first: a mail we already hold must change nothing and send nothing
    "loop_guard",  # before anything can answer: decide whether this mail may get an automatic reply
    "bounce",      # a delivery report joins the ticket of the mail it returns; suppress failed addresses
    "thread",      # token, then In-Reply-To/References, then [HD-n] from a participant; else a new ticket
    "reopen",      # a customer's reply to a long-resolved ticket becomes a new ticket linking the old one
    "classify",    # new tickets only: bug / change / misc, with the rules that hit
    "prioritise",  # new tickets only: emergencies are urgent; rules and Importance headers otherwise
    "route",       # new tickets only: urgent to the servers level, the rest to the front end
    "similar",     # new tickets only: open tickets that look like the same problem, before record adds this one
    "record",      # open the ticket (SLA clocks set) if new; store message, attachments, participants, events
    "incident_link",  # new tickets only: join the open incident a very similar recent ticket belongs to
    "commands",    # follow-ups: engineers act by reply (authorised only); others' commands stay text
    "notify",      # last, so every row it writes sees the final state: ack, announce, forward
)
