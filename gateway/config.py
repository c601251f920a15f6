"""config.toml → frozen, validated settings; GATEWAY_<SECTION>__<KEY> overlay; problems as one line each."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from gateway.config_path import find_config_path  # noqa: F401  (re-exported: the CLI's one way to find it)
from gateway.config_source import env_overlay, parse_env_value, read_file  # noqa: F401  (the one reader)
from gateway.config_routing import RoutingConfig
from gateway.config_trackers import HandoffConfig, TrackerConfig, tracker_problems
from gateway.config_web import WebConfig
from gateway.errors import ConfigError
from gateway.mail.parse import ParseLimits

# Keys whose values are secrets: they may come from the environment only, and are never printed.
SECRET_KEYS = {("outbound", "password"), ("mailboxes", "password"), ("security", "secret"), ("web", "secret")}


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseConfig(Section):
    url: str = "sqlite+aiosqlite:///var/gateway.db"
    echo: bool = False
    busy_timeout_ms: int = Field(5000, ge=0)  # SQLite: how long to wait for another writer's lock
    pg_schema: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")  # PostgreSQL search_path


class SmtpConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    hostname: str = "helpdesk.example.com"
    addresses: tuple[str, ...] = ("ihelp@example.com",)
    max_message_bytes: int = Field(25 * 1024 * 1024 + 512 * 1024, gt=1024)
    max_recipients: int = Field(50, ge=1)
    tls_cert: str | None = None
    tls_key: str | None = None

    @field_validator("addresses")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one help-desk address")
        for address in value:
            if address.count("@") != 1:
                raise ValueError(f"{address!r} is not an email address")
        return tuple(a.strip().lower() for a in value)

    @model_validator(mode="after")
    def _tls_pair(self) -> "SmtpConfig":
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: set both for STARTTLS, or neither")
        return self


class SpoolConfig(Section):
    # serve logs a warning while the oldest accepted mail still waits for the pipeline longer than this.
    warn_after_seconds: float = Field(300.0, gt=0)
    # serve drains at once when it accepts mail itself; this often it also looks for mail spooled by
    # other processes (`gateway ingest` while serve was down, another instance) and retries a failed drain.
    poll_seconds: float = Field(2.0, gt=0)
    keep_days: float = Field(7.0, gt=0)  # done rows are forgotten after this (the mail itself is kept)
    # While mail keeps arriving, the drain takes at most about this share of serve's time and pauses for
    # the rest, so the SMTP sessions (on the same loop) are answered first; 1 = never pause.
    drain_share_under_load: float = Field(0.5, gt=0, le=1)
    # A reply whose parent is not stored yet waits at most this long while an SMTP transaction that
    # began before it is still open (the parent may be in it); 0 = never wait (gateway/parent_wait.py).
    hold_for_parent_seconds: float = Field(120.0, ge=0)
    # Worker processes that parse mail and run the steps' pure work for serve's drain (mail under 1 MB);
    # unset: one per core but one (none on a single core); 0: that work stays on a thread of the gateway's process.
    prepare_processes: int | None = Field(None, ge=0)


class OutboundConfig(Section):
    mode: Literal["smtp", "maildir"] = "maildir"
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None  # SecretStr: no repr, log line or error message can show it
    timeout_seconds: float = Field(30.0, gt=0)
    from_address: str = "ihelp@example.com"
    maildir: str = "var/outgoing"
    max_attempts: int = Field(8, ge=1)
    backoff_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(3600.0, gt=0)
    batch_size: int = Field(50, ge=1)
    poll_seconds: float = Field(2.0, gt=0)
    # A sender owns the rows it claimed this long; rows of a sender that died go out again after it.
    lease_seconds: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> "OutboundConfig":
        if self.lease_seconds < 2 * self.timeout_seconds:
            raise ValueError(f"lease_seconds ({self.lease_seconds:g}) must be at least twice timeout_seconds "
                             f"({self.timeout_seconds:g}): a row still being sent must not be claimed again")
        return self


class HelpdeskConfig(Section):
    name: str = "Example Help Desk"
    ticket_prefix: str = Field("HD", pattern=r"^[A-Za-z][A-Za-z0-9]{0,15}$")
    # Default: smtp.hostname. A host name only the gateway uses: mail clients put their user's own
    # domain in Message-IDs, and those must not look like our own outbound mail to the loop guard.
    message_id_domain: str | None = None


class LevelHours(Section):
    """A level's own working hours (e.g. a 24/7 on-call team); unset keys come from [business]."""

    days: tuple[int, ...] | None = None  # Monday = 0
    start: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class LevelConfig(Section):
    number: int = Field(ge=0)
    name: str
    recipients: tuple[str, ...] = ()
    engineers: tuple[str, ...] = ()
    hours: LevelHours | None = None  # SLA clocks of tickets at this level run on these hours
    # A customer's reply to a ticket resolved at this level reopens it within this many days, later
    # it opens a new ticket linked to the old one; 0: always a new ticket. None: [tickets] reopen_days.
    reopen_days: int | None = Field(None, ge=0)


DEFAULT_LEVELS = (
    LevelConfig(number=0, name="Regional liaisons", recipients=("liaisons@example.com",)),
    LevelConfig(number=1, name="Help desk front end", recipients=("frontdesk@example.com",),
                engineers=("alice@example.com",)),
    LevelConfig(number=2, name="Operations director", recipients=("ops-director@example.com",),
                engineers=("director@example.com",)),
    LevelConfig(number=3, name="Servers, firewalls and system administrators",
                recipients=("sysadmins@example.com",), engineers=("bob@example.com",)),
    LevelConfig(number=4, name="Engineers", recipients=("engineering@example.com",),
                engineers=("carol@example.com",)),
)


class RuleConfig(Section):
    """One keyword/regex rule: when `pattern` matches `field`, it adds `weight` for `value`."""

    name: str
    value: str
    pattern: str
    field: Literal["subject", "body", "any"] = "any"
    weight: float = 1.0

    @classmethod
    def built_in(cls, **fields) -> "RuleConfig":
        """A rule that ships with the gateway, unchecked: the suite checks every one of them
        (tests/unit/triage/test_triage_word_bounds.py) and their modules compile each with RE2 when they load
        (rules.compile_built_in), so no process start (serve, its preparation workers, `gateway import`) runs the
        operator's checks on them again: the rules' modules loaded in 245 ms with them, about 100 ms without."""
        return cls.model_construct(**fields)

    @model_validator(mode="after")
    def _runs_in_linear_time(self) -> "RuleConfig":
        # RE2 alone judges: it runs the rules, and it reads \pL, which Python's `re` refuses.
        from gateway.mail import linear
        from gateway.mail.word_bounds import dead_boundaries

        try:
            linear.check(self.pattern)
        except linear.Unsupported as exc:
            if exc.construct is None:
                raise ValueError(f"rule {self.name!r}: pattern is not a valid regular expression "
                                 f"({exc.reason})") from None
            raise ValueError(f"rule {self.name!r}: pattern {exc}; rewrite it without that construct") from None
        dead = dead_boundaries(self.pattern)
        if dead:
            raise ValueError(
                f"rule {self.name!r}: pattern has \\b beside {', '.join(dead)}, where it never matches "
                f"(RE2's \\b knows only ASCII letters); write ([^\\pL\\pN_]|$) after a word that ends in such a "
                f"letter and (^|[^\\pL\\pN_]) before one that begins with it")
        return self


class ClassifyConfig(Section):
    default: Literal["bug", "change", "misc"] = "misc"
    threshold: float = 1.0
    rules: tuple[RuleConfig, ...] | None = None  # None: the built-in rules of gateway.pipeline.rules
    # Two stages (gateway.triage): rules whose best total reaches rules_decide_at decide alone; below
    # it the learned model decides, and says "not sure" under sure_at. use_model = false: rules only.
    use_model: bool = True
    rules_decide_at: float = Field(3.0, gt=0)
    sure_at: float = Field(0.6, ge=0, le=1)
    model_dir: str = "var/models"  # `gateway classifier train` writes versioned models here
    # serve retrains nightly at this local time ([business] timezone) from /category corrections; None: never
    train_at: str | None = Field("02:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @field_validator("rules")
    @classmethod
    def _values(cls, rules: tuple[RuleConfig, ...] | None) -> tuple[RuleConfig, ...] | None:
        for rule in rules or ():
            if rule.value not in ("bug", "change", "misc"):
                raise ValueError(f"rule {rule.name!r}: value must be bug, change or misc")
        return rules


class PriorityConfig(Section):
    default: Literal["urgent", "high", "medium", "low"] = "medium"
    urgent_level: int = 3
    default_level: int = 1
    threshold: float = 1.0
    use_headers: bool = True  # Importance / X-Priority
    rules: tuple[RuleConfig, ...] | None = None
    # The built-in EN/DE/FR signals (gateway.triage.signals) and the emergency model, which raises a
    # mail to urgent at emergency_at unless it says "not urgent". use_model = false: rules only.
    use_model: bool = True
    emergency_at: float = Field(0.5, ge=0, le=1)
    # ...and at emergency_despite_calm_at when the mail's only calm words say nothing of the situation ("no
    # rush if it's already known"); 1: such a mail is never raised.
    emergency_despite_calm_at: float = Field(0.9, ge=0, le=1)
    # The built-in outage signal's urgent ("website traffic is down"), when nothing else says urgent, is
    # lowered to high where the model reads the words of the whole mail as calm; false: never.
    model_may_doubt: bool = True

    @field_validator("rules")
    @classmethod
    def _values(cls, rules: tuple[RuleConfig, ...] | None) -> tuple[RuleConfig, ...] | None:
        for rule in rules or ():
            if rule.value not in ("urgent", "high", "medium", "low"):
                raise ValueError(f"rule {rule.name!r}: value must be urgent, high, medium or low")
        return rules


class LoopGuardConfig(Section):
    max_auto_replies_per_hour: int = Field(5, ge=0)
    max_auto_replies_per_day: int = Field(20, ge=0)
    # All automatic mail together, per hour: a flood of forged senders must not make us a spam cannon.
    max_auto_mail_per_hour: int = Field(500, ge=0)
    # A permanent bounce stops automatic mail to the failed address for this many days (0: never stop).
    suppress_days: int = Field(30, ge=0)
    # Where operational alerts go (failing mailbox logins); not postmaster@, which we never write to.
    admin_address: str = "helpdesk-admin@example.com"


class LimitsConfig(Section):
    """Beyond any of these a mail is not processed but kept whole in quarantine, with the limit as reason."""

    max_header_count: int = Field(ParseLimits.max_header_count, ge=10)
    max_header_bytes: int = Field(ParseLimits.max_header_bytes, ge=1024)  # the top-level header block
    max_depth: int = Field(ParseLimits.max_depth, ge=1)  # MIME nesting
    max_parts: int = Field(ParseLimits.max_parts, ge=1)
    max_attachments: int = Field(ParseLimits.max_attachments, ge=0)


class SecurityConfig(Section):
    require_token: bool = True
    # Signs reply tokens; from the environment only. Unset: a key the database made for itself at upgrade.
    secret: SecretStr | None = None
    # authserv-ids (RFC 8601) of our own MTA: only its Authentication-Results headers are believed.
    trusted_authserv_ids: tuple[str, ...] = ()

    @field_validator("trusted_authserv_ids")
    @classmethod
    def _lower_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in value if v.strip())


class DigestConfig(Section):
    recipients: tuple[str, ...] = ("frontdesk@example.com",)
    time: str = Field("07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class MailboxConfig(Section):
    """One IMAP mailbox to poll (issue: IMAP poller)."""

    name: str
    host: str
    port: int | None = Field(None, ge=1, le=65535)  # None: 993 for ssl, 143 otherwise
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    password: SecretStr | None = None  # from the environment only: GATEWAY_MAILBOXES or password_env
    password_env: str | None = None  # name of an environment variable holding the password
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    ca_file: str | None = None
    idle: bool = True
    poll_seconds: float = Field(60.0, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)
    alert_after_minutes: float = Field(30.0, gt=0)


class BusinessConfig(Section):
    """Business hours and holidays for SLA clocks (issue: engineers and SLAs)."""

    timezone: str = "Europe/London"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: str = Field("08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("17:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    holidays: tuple[str, ...] = ()  # ISO dates
    country: str | None = None  # e.g. "GB": adds that country's public holidays via `holidays`
    high_cutoff: str = Field("15:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class SlaTargetConfig(Section):
    """One priority's promises, in business hours (urgent: wall-clock hours, around the clock)."""

    first_response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)  # high ignores it: same day / next morning by the cut-off rule
    stall_hours: float = Field(gt=0)  # no activity for this long nudges the assignee, once per stall


class SlaConfig(Section):
    """SLA targets per priority (issue: engineers and SLAs); warn_share of a target warns once."""

    urgent: SlaTargetConfig = SlaTargetConfig(first_response_hours=1, resolution_hours=2, stall_hours=1)
    high: SlaTargetConfig = SlaTargetConfig(first_response_hours=2, resolution_hours=8, stall_hours=4)
    medium: SlaTargetConfig = SlaTargetConfig(first_response_hours=4, resolution_hours=24, stall_hours=8)
    low: SlaTargetConfig = SlaTargetConfig(first_response_hours=8, resolution_hours=48, stall_hours=16)
    warn_share: float = Field(0.75, gt=0, lt=1)
    # high priority arriving after [business] high_cutoff (or out of hours): due at this local time
    # on the next working day.
    high_next_morning: str = Field("12:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # An urgent ticket that breaches: "escalate" moves it up a level; "page" keeps it at its level
    # ("all urgent issues are handled at level 3") and pages that level's recipients, once per breach.
    urgent_breach: Literal["escalate", "page"] = "escalate"

    def target(self, priority: str) -> SlaTargetConfig:
        return getattr(self, priority if priority in ("urgent", "high", "medium", "low") else "medium")


class TicketsConfig(Section):
    reopen_days: int = Field(14, ge=0)
    # A new ticket's announcement lists up to similar_max open tickets (of the newest similar_among)
    # whose words match at cosine similar_at or more; 0 turns it off.
    similar_max: int = Field(3, ge=0, le=10)
    similar_at: float = Field(0.3, gt=0, le=1)
    similar_among: int = Field(300, ge=1)


class IncidentService(Section):
    """A service whose outages are incidents of their own: the words a mail about it uses."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
    words: tuple[str, ...] = Field(min_length=1)

    @field_validator("words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        words = tuple(" ".join(w.split()) for w in value)
        if not all(words):
            raise ValueError("an empty word matches every mail; remove it")
        return words


class IncidentsConfig(Section):
    """A new ticket much like a recent ticket of an open incident joins that incident by itself."""

    # Similarity (as [tickets] similar_at) at which a new ticket is linked without asking; between
    # similar_at and link_at the announcement suggests /link instead. 0 turns automatic linking off.
    link_at: float = Field(0.5, ge=0, le=1)
    # Only tickets opened this recently count as the same outage.
    window_hours: float = Field(24.0, gt=0)
    # A new urgent ticket that joins no open incident becomes one itself, so that the reports after it
    # join it without an engineer (the first report of an outage is usually urgent).
    open_for_urgent: bool = False
    # Addresses that get every incident's updates and resolution (a status list, business owners);
    # /cc ADDRESS adds one to a single incident.
    announce: tuple[str, ...] = ()
    # Services with their words ([[incidents.services]] name = "mail", words = ["outlook", "mail server"]).
    # When any are set, open_for_urgent opens incidents only for urgent mail naming one of them, each
    # incident is of that service, and a new mail naming the service of an open incident (within
    # window_hours of its newest ticket) joins it, before and beyond word similarity.
    services: tuple[IncidentService, ...] = ()

    @field_validator("services")
    @classmethod
    def _unique_services(cls, value: tuple[IncidentService, ...]) -> tuple[IncidentService, ...]:
        names = [s.name.lower() for s in value]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique, got {[s.name for s in value]}")
        return value

    @field_validator("announce")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if address.count("@") != 1:
                raise ValueError(f"{address!r} is not an email address")
        return tuple(a.strip() for a in value)


class PipelineConfig(Section):
    steps: tuple[str, ...] | None = None  # None: gateway.pipeline.steps.DEFAULT_STEPS


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(Section):
    database: DatabaseConfig = DatabaseConfig()
    smtp: SmtpConfig = SmtpConfig()
    spool: SpoolConfig = SpoolConfig()
    outbound: OutboundConfig = OutboundConfig()
    helpdesk: HelpdeskConfig = HelpdeskConfig()
    levels: tuple[LevelConfig, ...] = DEFAULT_LEVELS
    classify: ClassifyConfig = ClassifyConfig()
    priority: PriorityConfig = PriorityConfig()
    loopguard: LoopGuardConfig = LoopGuardConfig()
    limits: LimitsConfig = LimitsConfig()
    security: SecurityConfig = SecurityConfig()
    digest: DigestConfig = DigestConfig()
    mailboxes: tuple[MailboxConfig, ...] = ()
    business: BusinessConfig = BusinessConfig()
    tickets: TicketsConfig = TicketsConfig()
    sla: SlaConfig = SlaConfig()
    routing: RoutingConfig = RoutingConfig()
    incidents: IncidentsConfig = IncidentsConfig()
    pipeline: PipelineConfig = PipelineConfig()
    logging: LoggingConfig = LoggingConfig()
    web: WebConfig = WebConfig()
    trackers: tuple[TrackerConfig, ...] = ()  # the developers' trackers /handoff delivers to (gateway.handoff)
    handoff: HandoffConfig = HandoffConfig()
    # Set by load(): where relative paths (sqlite file, maildir) are anchored.
    base_dir: str = "."

    @field_validator("levels")
    @classmethod
    def _levels(cls, levels: tuple[LevelConfig, ...]) -> tuple[LevelConfig, ...]:
        numbers = [level.number for level in levels]
        if not levels:
            raise ValueError("needs at least one [[levels]] entry")
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"level numbers must be unique, got {numbers}")
        return tuple(sorted(levels, key=lambda level: level.number))

    @field_validator("mailboxes")
    @classmethod
    def _mailbox_names(cls, mailboxes: tuple[MailboxConfig, ...]) -> tuple[MailboxConfig, ...]:
        names = [m.name for m in mailboxes]
        if len(set(names)) != len(names):
            raise ValueError(f"mailbox names must be unique (their state is kept by name), got {names}")
        return mailboxes

    @model_validator(mode="after")
    def _routing_levels_exist(self) -> "Settings":
        numbers = {level.number for level in self.levels}
        found = [f"priority.{key}: level {getattr(self.priority, key)} is not among [[levels]] {sorted(numbers)}"
                 for key in ("urgent_level", "default_level") if getattr(self.priority, key) not in numbers]
        found += self.routing.problems(numbers)
        found += tracker_problems(self.trackers, self.handoff)
        found += [f"handoff.rules[{i}] ({rule.name}): level {rule.level} is not among [[levels]] {sorted(numbers)}"
                  for i, rule in enumerate(self.handoff.rules) if rule.level is not None and rule.level not in numbers]
        if found:
            raise ValueError("\n".join(found))  # one problem a line: _format_error splits them
        return self

    # Derived, read-only views that many steps need.
    @property
    def message_id_domain(self) -> str:
        return self.helpdesk.message_id_domain or self.smtp.hostname

    @property
    def engineers(self) -> frozenset[str]:
        return frozenset(e.lower() for level in self.levels for e in level.engineers)

    @property
    def staff_lists(self) -> frozenset[str]:
        """The addresses we announce to (level recipients, digest recipients): lists, not people."""
        return frozenset(a.lower() for a in (*(r for level in self.levels for r in level.recipients),
                                             *self.digest.recipients))

    def tracker(self, name: str) -> TrackerConfig | None:
        return next((t for t in self.trackers if t.name == name), None)

    def level(self, number: int) -> LevelConfig:
        for level in self.levels:
            if level.number == number:
                return level
        raise ConfigError(f"levels: no level {number}; add a [[levels]] entry with number = {number}")

    def reopen_days_for_level(self, number: int) -> int:
        """How long a reply reopens a ticket resolved at level `number`: its own reopen_days, else [tickets]'s."""
        own = next((level.reopen_days for level in self.levels if level.number == number), None)
        return self.tickets.reopen_days if own is None else own

    def business_for_level(self, number: int) -> BusinessConfig:
        """[business] with the level's own working hours laid over it, when it has any."""
        hours = self.level(number).hours if number in {lv.number for lv in self.levels} else None
        if hours is None:
            return self.business
        return self.business.model_copy(update={k: v for k, v in hours.model_dump().items() if v is not None})

    def resolve_path(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    def open_database(self):
        """The Database this configuration names."""
        from gateway.store.db import Database

        return Database(self.database_url, echo=self.database.echo, schema=self.database.pg_schema,
                        busy_timeout_ms=self.database.busy_timeout_ms)

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path anchored at the config file's folder."""
        url = self.database.url
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve_path(url[len(prefix):]).resolve())
        return url


def _secrets_from_file(data: Mapping[str, Any]) -> list[str]:
    problems = []
    for section, key in SECRET_KEYS:
        value = data.get(section)
        entries = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for entry in entries:
            if isinstance(entry, dict) and entry.get(key):
                problems.append(
                    f"{section}.{key}: secrets are not read from config.toml; remove it there and set "
                    f"GATEWAY_{section.upper()}__{key.upper()} (or the entry's password_env) in the environment"
                )
    return problems


# Keys an earlier release read: an upgraded config.toml still has them, so say why they went, not "unknown".
RETIRED_KEYS = {
    "mailboxes.max_attempts": "no longer used: the IMAP poller moves a mail once it is in the spool, and the "
                              "spool worker quarantines a mail the pipeline cannot process; remove it",
}


def _format_error(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if not loc:  # a check across sections: its message names the keys, one problem a line
        return "\n".join(f"{line}; fix it in config.toml" for line in message.split("\n"))
    if error["type"] == "extra_forbidden":
        retired = RETIRED_KEYS.get(".".join(str(p) for p in error["loc"] if not isinstance(p, int)))
        if retired:
            return f"{loc}: {retired}"
        return f"{loc}: unknown key; remove it or check its spelling against the shipped config.toml"
    if error["type"] == "missing":
        return f"{loc}: required; add it to config.toml"
    env = "GATEWAY_" + "__".join(str(p).upper() for p in error["loc"] if not isinstance(p, int))
    return f"{loc}: {message}; fix it in config.toml or {env}"


def problems(path: Path, environ: Mapping[str, str], *, deep: bool = True) -> tuple[Settings | None, list[str]]:
    """Load and validate; return the settings (or None) and every problem as one line.

    deep: also build the business calendars and the pipeline (gateway.config_check); that imports
    every step (about 0.5 s), which commands that only read the database can do without.
    """
    try:
        data = read_file(str(path))
    except ConfigError as exc:
        return None, [str(exc)]
    found = _secrets_from_file(data)
    try:
        data = env_overlay(data, environ)
    except ConfigError as exc:
        return None, found + [str(exc)]
    data["base_dir"] = str(path.resolve().parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        return None, found + [line for e in exc.errors() for line in _format_error(e).split("\n")]
    if deep:
        from gateway.config_check import settings_problems  # builds calendars and the pipeline: import late

        found += settings_problems(settings)
    return (None if found else settings), found


def load(path: Path, environ: Mapping[str, str] | None = None, *, deep: bool = True) -> Settings:
    """Load settings or raise ConfigError listing every problem, one per line (deep: as for problems)."""
    settings, found = problems(path, os.environ if environ is None else environ, deep=deep)
    if found or settings is None:
        raise ConfigError("\n".join(found))
    return settings
