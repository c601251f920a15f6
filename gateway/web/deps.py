"""What every web handler needs: settings, database, clock, ingest, templates, and the signed-in user."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.clock import Clock
from gateway.config import Settings
from gateway.config_web import WebUser
from gateway.store.db import Database
from gateway.web.auth import LoginLimiter, csrf_token, current_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
REPLIES_PER_HOUR = 20


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    ingestor: Any  # gateway.ingest.Ingestor: customers' replies enter through it
    wake: Callable[[], None] = lambda: None  # tell the outbox sender there is mail to send now
    smtp_up: Callable[[], bool] | None = None  # None: this process runs no SMTP listener (`gateway web`)
    timings: Any = None  # gateway.ingest_timings.IngestTimings of this process's SMTP listener, if any
    limiter: LoginLimiter | None = None
    tracker_keys: dict = field(default_factory=dict)  # {tracker name: gateway.handoff.http.Keys}: inbound hooks
    # Replies per status link: a leaked link must not become a way to flood a ticket and its engineers.
    replies: LoginLimiter = field(default_factory=lambda: LoginLimiter(attempts=REPLIES_PER_HOUR, window_seconds=3600))
    env: jinja2.Environment = field(default_factory=lambda: jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True))

    def __post_init__(self):
        web = self.settings.web
        self.limiter = self.limiter or LoginLimiter(attempts=web.login_attempts,
                                                    window_seconds=web.login_window_seconds)

    @property
    def prefix(self) -> str:
        return self.settings.helpdesk.ticket_prefix

    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        """templates/web/<name> with the helpdesk, the user and this session's CSRF token always there."""
        has_session = "session" in request.scope
        user = current_user(request, self.settings.web) if has_session else None
        base = {"helpdesk": self.settings.helpdesk, "user": user, "prefix": self.prefix,
                "csrf": csrf_token(request) if has_session else "", "flash": pop_flash(request)}
        html = self.env.get_template(name).render({**base, **context})
        return HTMLResponse(html, status_code=status)


def deps(request: Request) -> Deps:
    return request.app.state.deps


def flash(request: Request, text: str) -> None:
    request.session["flash"] = text


def pop_flash(request: Request) -> str:
    return request.session.pop("flash", "") if "session" in request.scope else ""


def staff(handler: Callable[[Request, Deps, WebUser], Awaitable[Response]]):
    """A staff page: without a signed-in, still configured user it redirects to /login."""

    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        d = deps(request)
        user = current_user(request, d.settings.web)
        if user is None:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return await handler(request, d, user)

    return page
