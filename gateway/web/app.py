"""The Starlette application: routes, session cookies, security headers, and its signing secret."""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.store.db import Database, insert_ignoring_conflicts
from gateway.store.models import WebSecret
from gateway.web import charts, customer, hooks, ops, pages, ticket_page
from gateway.web.deps import Deps

STATIC = Path(__file__).resolve().parent / "static"
# Scripts only from us, customer HTML only in a sandboxed frame, never framed by others, no Referer
# (a status link must not leak to a site a customer's message links to).
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds HEADERS to every response that does not set its own (attachments set a stricter CSP)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in HEADERS if k not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


async def session_secret(settings, db: Database, now) -> str:
    """GATEWAY_WEB__SECRET, else the one kept in the database (made by whichever instance came first)."""
    if settings.web.secret is not None:
        return settings.web.secret.get_secret_value()
    async with db.transaction() as session:
        await session.execute(insert_ignoring_conflicts(session, WebSecret).values(
            name="session", value=secrets.token_urlsafe(48), created_at=now))
        return await session.scalar(select(WebSecret.value).where(WebSecret.name == "session"))


def build_app(deps: Deps, secret: str) -> Starlette:
    web = deps.settings.web
    routes = [
        Route("/", pages.board_page),
        Route("/board/rows", pages.board_rows),
        Route("/charts", charts.charts_page),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/tickets/{ref}", ticket_page.ticket_page),
        Route("/tickets/{ref}/act", ticket_page.act, methods=["POST"]),
        Route("/tickets/{ref}/report", ticket_page.report_page),
        Route("/tickets/{ref}/attachments/{id:int}", ticket_page.attachment),
        Route("/s/{token}", customer.status_page),
        Route("/s/{token}", customer.status_reply, methods=["POST"]),
        Route("/healthz", ops.healthz),
        Route("/metrics", ops.metrics),
        Route("/hooks/tracker/{name}", hooks.tracker_hook, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="gateway_session",
                   max_age=int(web.session_hours * 3600), same_site="lax", https_only=web.cookie_secure),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.deps, app.state.secret = deps, secret
    return app
