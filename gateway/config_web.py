"""The [web] section: the staff board, ticket pages, customer status pages, health and metrics."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebUser(_Section):
    """One staff member who may sign in. password_hash: `gateway web hash-password` prints one (argon2)."""

    name: str = Field(min_length=1, max_length=320)
    # None: this user signs in only through the reverse proxy (web.proxy_user_header).
    password_hash: str | None = Field(None, pattern=r"^\$argon2(id|i|d)\$")
    role: Literal["viewer", "engineer"] = "viewer"
    levels: tuple[int, ...] = ()  # an engineer acts on tickets at these levels only
    # The address the audit trail names (assign "me", escalation mails); default: the name.
    address: str | None = None

    @property
    def actor(self) -> str:
        return (self.address or self.name).lower()


class WebConfig(_Section):
    # Off when no config file says otherwise (the shipped config.toml turns it on): the many tests and
    # benches that write their own config and run several serve processes must not fight over a port.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8025, ge=0, le=65535)
    # How customers reach us: the status link in every acknowledgement starts with this.
    public_url: str = "http://127.0.0.1:8025"
    # Signs the session cookies: from GATEWAY_WEB__SECRET only. Unset: one is generated and kept in
    # the database, so every instance on that database agrees and sessions outlive a restart.
    secret: SecretStr | None = None
    # Send the session cookie only over HTTPS; turn off only to test on plain http away from localhost.
    cookie_secure: bool = True
    session_hours: float = Field(12.0, gt=0)
    # Failed sign-ins allowed per address and per user name in login_window_seconds, then 429.
    login_attempts: int = Field(5, ge=1)
    login_window_seconds: float = Field(300.0, gt=0)
    # The board shows at most this many tickets (the rest are counted): keeps it fast and readable.
    board_limit: int = Field(500, ge=1)
    users: tuple[WebUser, ...] = ()
    # Off by default. When set (e.g. "X-Remote-User"), a request from one of proxy_addresses carrying
    # this header is signed in as the configured user it names: the proxy has authenticated them.
    proxy_user_header: str = ""
    proxy_addresses: tuple[str, ...] = ("127.0.0.1", "::1")

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _unique_users(self) -> "WebConfig":
        names = [u.name.lower() for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError(f"web.users: names must be unique, got {names}")
        return self

    def user(self, name: str) -> WebUser | None:
        for user in self.users:
            if user.name.lower() == (name or "").strip().lower():
                return user
        return None
