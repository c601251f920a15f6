"""SQLAlchemy 2.0 models: tickets, messages, attachments, events, outbox, quarantine, spool, spool_done, status links, helpers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# BigInteger primary keys stay INTEGER on SQLite so they autoincrement there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[str]: JSON}


class Blob(Base):
    """Raw bytes by SHA-256: every mail in, parsed or not, and every attachment."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Ticket(Base):
    __tablename__ = "tickets"
    # The ticket number is the primary key: unique by construction (a sequence on PostgreSQL).
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(Text)
    requester: Mapped[str] = mapped_column(String(320), index=True)
    requester_name: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    assignee: Mapped[str | None] = mapped_column(String(320), nullable=True)
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    # Incidents (gateway.incidents): a ticket with a title is an incident; incident_id links a ticket to one.
    incident_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", name="fk_tickets_incident_id_tickets"),
                                                    nullable=True, index=True)
    # An incident's service ([[incidents.services]] name) and its close-out (gateway.closeout).
    incident_service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cause_category: Mapped[str | None] = mapped_column(String(16), nullable=True)  # network|hardware|software|data
    cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    workaround: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(index=True)  # indexed for the digest's "new since"
    updated_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)  # digest: "resolved since"
    # SLA: due times are indexed so the sweep reads only what is near or past due.
    first_response_due: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # SLA sweep bookkeeping (gateway.schedule.sla): warn moments, which warnings/breaches fired
    # (bit flags, set by conditional UPDATE so each fires once), when the sweep must next look at
    # this ticket (NULL: never, e.g. pending or resolved), and the last stall we nudged about.
    first_response_warn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sla_fired: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_check_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    stall_nudged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Hand-off (gateway.handoff): the developers' issue this ticket became, and when the tracker closed it.
    tracker_issue_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    tracker_closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    messages: Mapped[list["Message"]] = relationship(back_populates="ticket", order_by="Message.id")


class Participant(Base):
    """Someone who takes part in a ticket: the requester, Cc'd people, engineers who replied."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(16))


class FollowUp(Base):
    """One follow-up action an incident's close-out names (/followup): several per incident, in order."""

    __tablename__ = "followups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    # Inbound mail is unique by its dedupe key; outbound by its own Message-ID.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True, nullable=True)
    in_reply_to: Mapped[str | None] = mapped_column(Text, nullable=True)
    references: Mapped[list[str]] = mapped_column(default=list)
    from_addr: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(Text, default="")
    to_addrs: Mapped[list[str]] = mapped_column(default=list)
    cc_addrs: Mapped[list[str]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")  # quoted history stripped, for display
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="")
    thread_reason: Mapped[str] = mapped_column(String(200), default="")
    auto_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list["Attachment"]] = relationship(order_by="Attachment.id")


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    content_id: Mapped[str | None] = mapped_column(String(998), nullable=True)
    inline: Mapped[bool] = mapped_column(Boolean, default=False)


class Event(Base):
    """The audit trail of a ticket: what happened, who did it, and why."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(320), default="gateway")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Outbox(Base):
    """One mail to one recipient, written in the transaction that caused it, sent by the drainer."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_auto_recipient", "recipient", "created_at"),
        Index("ix_outbox_automatic_created", "automatic", "created_at"),  # the global automatic-mail cap
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True, index=True)
    template: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(320))
    envelope_from: Mapped[str] = mapped_column(String(320))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # counts against per-address caps
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    # The mail's bytes. NULL for a notification (gateway.notify.outbox): the sender composes it from the
    # outbound Message row of the same Message-ID and the three columns below (gateway.notify.mail_bytes),
    # so that the drain's transaction does not pay for composing.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reply_to: Mapped[str | None] = mapped_column(String(320), nullable=True)  # with its signed reply token
    auto_submitted: Mapped[str | None] = mapped_column(String(32), nullable=True)  # RFC 3834 value
    loop_address: Mapped[str | None] = mapped_column(String(320), nullable=True)  # X-Loop
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Suppression(Base):
    """An address that bounced permanently: no automatic mail to it until `until` (bounces renew it)."""

    __tablename__ = "suppressions"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    bounces: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime]


class QuarantineEntry(Base):
    """A mail we could not process, kept whole with its reason until `gateway quarantine retry`."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64), default="")  # also the mode: "import" is history
    # The envelope it came with ("" the null sender; None unknown), so a retry runs it as it arrived.
    envelope_from: Mapped[str | None] = mapped_column(Text, nullable=True)
    recipients: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="held")  # held | released
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    at: Mapped[datetime]


class Counter(Base):
    """Named counters for `gateway stats` that have no row of their own (duplicates, guarded mail)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ServerKey(Base):
    """A secret the gateway made for itself (the reply-token signing key), shared by every instance."""

    __tablename__ = "server_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class JobRun(Base):
    """A scheduled job done for one period (e.g. the digest for one day): unique, so done once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class MailboxState(Base):
    """Where an IMAP poller stands in one mailbox, and how it is doing."""

    __tablename__ = "mailbox_state"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    alert_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)


class StatusLink(Base):
    """A customer's link to one ticket's status page (/s/<token>): per ticket and requester, revocable."""

    __tablename__ = "status_links"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))  # lower-cased requester
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class WebSecret(Base):
    """A generated secret the web face needs on every instance (the cookie signing key)."""

    __tablename__ = "web_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SpoolEntry(Base):
    """A mail accepted from its source (bytes in blobs), in arrival order: pending until the pipeline ran it."""

    __tablename__ = "spool"
    __table_args__ = (Index("ix_spool_status_id", "status", "id"),)  # the drain reads pending rows by id
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64))
    envelope_from: Mapped[str | None] = mapped_column(Text, nullable=True)  # "" the null sender; None unknown
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    raw_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # what the pipeline made of it
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)


class TrackerDelivery(Base):
    """One hand-off of a ticket to a tracker, written in the transaction that decided it, delivered by the sender.

    Its idempotency_key is fixed at creation: every try sends it (a header, or a label/field the
    adapter looks for before creating), so a try repeated after a crash finds the issue it made.
    """

    __tablename__ = "tracker_deliveries"
    __table_args__ = (
        UniqueConstraint("ticket_id", "tracker"),  # a ticket goes to a tracker once
        Index("ix_tracker_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    tracker: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    issue_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    issue_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # "42", "OPS-7": inbound hooks find it
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TrackerAttempt(Base):
    """Every request of every delivery try: what was asked, what came back, how long it took."""

    __tablename__ = "tracker_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("tracker_deliveries.id"), index=True)
    at: Mapped[datetime]
    request: Mapped[str] = mapped_column(Text)  # "POST https://api.github.com/repos/acme/portal/issues"
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no answer
    response: Mapped[str] = mapped_column(Text, default="")  # the first RESPONSE_EXCERPT characters
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    seconds: Mapped[float] = mapped_column(default=0.0)


class SpoolDone(Base):
    """A row of the spool file beside a SQLite database (store/spool_file.py) that the pipeline ran.

    Written in the batch's transaction, with the tickets it made: a row in the spool file whose id is
    here is done, whether or not the file has dropped it yet.
    """

    __tablename__ = "spool_done"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # the spool file's id
    raw_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the pipeline made of it
    processed_at: Mapped[datetime] = mapped_column(index=True)
