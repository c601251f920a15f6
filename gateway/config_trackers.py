"""The [[trackers]] and [handoff] sections: the developers' trackers a ticket can be handed off to."""
from __future__ import annotations

import re
from typing import Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["webhook", "github", "gitlab", "jira", "mantis"]
# What `project` means for each kind, and an example; the error for a missing one quotes it.
PROJECT = {"github": "the repository, e.g. \"acme/portal\"", "gitlab": "the project's id or path, e.g. \"acme/portal\"",
           "jira": "the project key, e.g. \"OPS\"", "mantis": "the project's id, e.g. \"3\""}
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrackerConfig(_Section):
    """One tracker: where its API is, which project, and the names of the variables holding its secrets."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")  # in /handoff NAME and /hooks/tracker/NAME
    kind: Kind
    # webhook: the URL posted to; the others: the API's base, e.g. https://api.github.com,
    # https://gitlab.example.com, https://acme.atlassian.net, https://mantis.example.com.
    url: str = Field(pattern=r"^https?://[^\s/]+")
    project: str = ""
    # Environment variable names: the API token (GitHub/GitLab/Jira/Mantis), the Jira user (Basic auth
    # with an API token on Jira Cloud; unset: the token is a personal access token, sent as Bearer), and
    # the secret that signs our webhook and that the tracker's own webhook to us carries.
    token_env: str | None = None
    user_env: str | None = None
    secret_env: str | None = None
    labels: tuple[str, ...] = ()
    issue_type: str = "Bug"  # Jira
    category: str = "General"  # Mantis
    jira_cloud: bool = True  # Jira Cloud searches /rest/api/2/search/jql; Server and Data Center /rest/api/2/search

    @field_validator("token_env", "user_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.match(value):
            raise ValueError(f"{value!r} is not an environment variable name; give the variable's name, "
                             f"not the secret itself")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> "TrackerConfig":
        if self.kind != "webhook" and not self.project:
            raise ValueError(f"tracker {self.name!r} ({self.kind}): project is required: {PROJECT[self.kind]}")
        if self.kind == "github" and self.project.count("/") != 1:
            raise ValueError(f"tracker {self.name!r}: project must be OWNER/REPO, got {self.project!r}")
        if self.kind == "mantis" and not self.project.isdigit():
            raise ValueError(f"tracker {self.name!r}: project must be the Mantis project's number, got "
                             f"{self.project!r}")
        if self.kind != "webhook" and not self.token_env:
            raise ValueError(f"tracker {self.name!r} ({self.kind}): token_env is required: the name of the "
                             f"environment variable holding the API token")
        if self.kind == "webhook" and not self.secret_env:
            raise ValueError(f"tracker {self.name!r} (webhook): secret_env is required: the name of the "
                             f"environment variable holding the signing secret")
        return self


class HandoffRule(_Section):
    """A ticket matching every given field is handed off to `tracker` by itself (e.g. bugs at level 4)."""

    name: str = Field(min_length=1, max_length=64)
    tracker: str
    category: Literal["bug", "change", "misc"] | None = None
    level: int | None = None
    priority: Literal["urgent", "high", "medium", "low"] | None = None

    def matches(self, *, category: str, level: int, priority: str) -> bool:
        return ((self.category is None or self.category == category) and (self.level is None or self.level == level)
                and (self.priority is None or self.priority == priority))


class HandoffConfig(_Section):
    """How deliveries to trackers are retried; rules that hand off by themselves."""

    # 12 attempts, doubling from 30 s up to 20 min: the last one about 2 h 10 min after the first.
    max_attempts: int = Field(12, ge=1)
    backoff_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(1200.0, gt=0)
    timeout_seconds: float = Field(20.0, gt=0)
    # A sender owns the deliveries it claimed this long; those of a sender that died are tried again after it.
    lease_seconds: float = Field(120.0, gt=0)
    poll_seconds: float = Field(5.0, gt=0)
    # Trackers that send no webhook (Mantis; others without secret_env) are asked this often whether
    # our issues are closed.
    poll_closed_minutes: float = Field(30.0, gt=0)
    rules: tuple[HandoffRule, ...] = ()

    @model_validator(mode="after")
    def _lease_outlasts_a_try(self) -> "HandoffConfig":
        # One try is at most two requests (look for the issue, then create it).
        if self.lease_seconds < 3 * self.timeout_seconds:
            raise ValueError(f"lease_seconds ({self.lease_seconds:g}) must be at least three times timeout_seconds "
                             f"({self.timeout_seconds:g}): a delivery still being tried must not be claimed again")
        return self


def tracker_problems(trackers: tuple[TrackerConfig, ...], handoff: HandoffConfig) -> list[str]:
    """Names used twice, rules naming a tracker that is not configured; one line each."""
    names = [t.name for t in trackers]
    found = [f"trackers: the name {n!r} is used twice; give each [[trackers]] entry its own name"
             for n in sorted({n for n in names if names.count(n) > 1})]
    for index, rule in enumerate(handoff.rules):
        if rule.tracker not in names:
            found.append(f"handoff.rules[{index}] ({rule.name}): tracker {rule.tracker!r} is not among "
                         f"[[trackers]] {names}")
    return found


def env_problems(trackers: tuple[TrackerConfig, ...], environ: Mapping[str, str]) -> list[str]:
    """One line per named environment variable that is not set."""
    found = []
    for tracker in trackers:
        for key in ("token_env", "user_env", "secret_env"):
            name = getattr(tracker, key)
            if name and not environ.get(name):
                found.append(f"trackers ({tracker.name}): {key} names {name}, which is not set; "
                             f"set it in the environment of gateway serve")
    return found
