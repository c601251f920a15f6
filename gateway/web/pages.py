"""Sign-in, sign-out and the board (with its live fragment)."""
from __future__ import annotations

import asyncio
import hashlib

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.config_web import WebUser
from gateway.web.auth import check_password, client_address, csrf_ok
from gateway.web.board_query import Filters, board
from gateway.web.deps import Deps, deps, staff


def safe_next(target: str | None) -> str:
    """Only a path of our own: never another site (//evil.example or https://…) after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login(request: Request) -> Response:
    d = deps(request)
    target = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return d.render(request, "login.html.j2", {"next": target, "error": ""})
    form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    if not csrf_ok(request, form.get("csrf")):
        return d.render(request, "login.html.j2", {"next": target, "error": "The form expired; try again."}, 403)
    now = d.clock.now()
    keys = [f"ip:{client_address(request, d.settings.web)}", f"user:{name.lower()}"]
    if d.limiter.blocked(keys, now):
        return d.render(request, "login.html.j2", {"next": target, "error": "Too many failed sign-ins; wait a few "
                                                   "minutes and try again."}, 429)
    user = await asyncio.to_thread(check_password, d.settings.web, name, password)  # argon2: ~50 ms of CPU
    if user is None:
        d.limiter.failed(keys, now)
        return d.render(request, "login.html.j2", {"next": target, "error": "Wrong name or password."}, 401)
    request.session.clear()  # a new session on sign-in: nothing set before it carries over
    request.session["user"] = user.name
    return RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)


@staff
async def logout(request: Request, d: Deps, user: WebUser) -> Response:
    form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
    if not csrf_ok(request, form.get("csrf")):
        return HTMLResponse("The form expired; reload the page and try again.", status_code=403)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def board_data(request: Request, d: Deps) -> tuple[Filters, dict]:
    filters = Filters.from_query(request.query_params, d.prefix)
    async with d.db.sessions() as session:
        data = await board(session, filters, prefix=d.prefix, now=d.clock.now(), limit=d.settings.web.board_limit)
    return filters, data


@staff
async def board_page(request: Request, d: Deps, user: WebUser) -> Response:
    filters, data = await board_data(request, d)
    return d.render(request, "board.html.j2", {"filters": filters, "board": data, "levels": d.settings.levels,
                                               "query": request.url.query})


@staff
async def board_rows(request: Request, d: Deps, user: WebUser) -> Response:
    """The live part of the board; 304 when it has not changed since the page last asked."""
    filters, data = await board_data(request, d)
    html = d.env.get_template("board_rows.html.j2").render({"board": data, "prefix": d.prefix})
    etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return HTMLResponse(html, headers={"ETag": etag, "Cache-Control": "no-cache"})
