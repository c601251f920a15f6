"""Who may see and do what on the web face: sign-in, sessions, CSRF, roles and levels."""
from __future__ import annotations

import httpx
import pytest

from gateway.web.auth import LoginLimiter
from tests.unit.web.webkit import client, csrf_of, new_ticket, sign_in, web_app, web_settings

# The only pages without a session; /hooks/tracker/{name} answers only a request signed with the tracker's
# secret (tests/unit/web/test_web_handoff.py).
PUBLIC = {"/login", "/s/{token}", "/healthz", "/metrics", "/static", "/hooks/tracker/{name}"}


def staff_urls(app) -> list[tuple[str, str]]:
    """(method, url) for every route of the app that is not public, its parameters filled in."""
    found = []
    for route in app.routes:
        if route.path in PUBLIC:
            continue
        url = route.path.replace("{ref}", "HD-1").replace("{id:int}", "1")
        found += [(method, url) for method in sorted(route.methods - {"HEAD"})]
    return found


async def test_every_staff_url_without_a_session_redirects_to_sign_in(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        urls = staff_urls(app)
        assert {url for _, url in urls} >= {"/", "/board/rows", "/charts", "/tickets/HD-1", "/tickets/HD-1/act",
                                            "/tickets/HD-1/attachments/1", "/logout"}
        async with client(app) as http:
            for method, url in urls:
                response = await http.request(method, url, data={"action": "resolve"} if method == "POST" else None)
                assert response.status_code == 303 and response.headers["location"].startswith("/login"), url
            # A cookie from another key (or forged) is no session either.
            http.cookies.set("gateway_session", "eyJ1c2VyIjogImRvcmEifQ==.forged.sig", domain="testserver")
            assert (await http.get("/")).status_code == 303


async def test_sign_in_sets_a_secure_httponly_cookie_and_shows_the_board(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor, subject="VPN is down")
        async with client(app) as http:
            response = await sign_in(http, "dora")
            assert response.status_code == 303 and response.headers["location"] == "/"
            cookie = response.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
            board = await http.get("/")
            assert board.status_code == 200 and "VPN is down" in board.text and "HD-1" in board.text
            assert "script-src 'self'" in board.headers["content-security-policy"]


async def test_wrong_password_is_refused_and_sign_in_is_rate_limited(settings_factory, db, clock):
    settings = web_settings(settings_factory, login_attempts=3)
    async with web_app(settings, db, clock) as (app, _, _):
        async with client(app) as http:
            for _ in range(3):
                assert (await sign_in(http, "dora", "wrong")).status_code == 401
            blocked = await sign_in(http, "dora")  # the right password, too late
            assert blocked.status_code == 429 and "Too many" in blocked.text
            clock.advance(seconds=settings.web.login_window_seconds + 1)
            assert (await sign_in(http, "dora")).status_code == 303


async def test_sign_in_form_without_csrf_token_is_refused(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, _, _):
        async with client(app) as http:
            await http.get("/login")
            response = await http.post("/login", data={"name": "dora", "password": "correct horse battery"})
            assert response.status_code == 403
            assert (await http.get("/")).status_code == 303


@pytest.mark.parametrize("target, expected", [("/tickets/HD-1", "/tickets/HD-1"), ("//evil.example/x", "/"),
                                              ("https://evil.example/", "/"), ("/\\evil.example", "/")])
async def test_sign_in_returns_only_to_our_own_pages(settings_factory, db, clock, target, expected):
    async with web_app(web_settings(settings_factory), db, clock) as (app, _, _):
        async with client(app) as http:
            page = await http.get("/login", params={"next": target})
            response = await http.post("/login", data={"name": "dora", "password": "correct horse battery",
                                                       "csrf": csrf_of(page.text), "next": target})
            assert response.headers["location"] == expected


async def act(http, ref: str, **form):
    page = await http.get(f"/tickets/{ref}")
    return await http.post(f"/tickets/{ref}/act", data={"csrf": csrf_of(page.text), **form})


async def test_a_viewer_reads_everything_and_acts_on_nothing(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            await sign_in(http, "dora")
            page = await http.get("/tickets/HD-1")
            assert page.status_code == 200 and "Escalate" not in page.text
            refused = await act(http, "HD-1", action="resolve", arg="done")
            assert refused.status_code == 403
            assert "open" in (await http.get("/tickets/HD-1")).text


async def test_an_engineer_acts_only_at_their_levels(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)  # level 1
        async with client(app) as http:
            await sign_in(http, "carol@example.com")  # level 4 only
            assert (await act(http, "HD-1", action="resolve", arg="done")).status_code == 403
        async with client(app) as http:
            await sign_in(http, "alice@example.com")
            done = await act(http, "HD-1", action="resolve", arg="done")
            assert done.status_code == 303
            assert ">resolved<" in (await http.get("/tickets/HD-1")).text


async def test_an_action_without_the_sessions_csrf_token_is_refused(settings_factory, db, clock):
    async with web_app(web_settings(settings_factory), db, clock) as (app, ingestor, _):
        await new_ticket(ingestor)
        async with client(app) as http:
            await sign_in(http, "alice@example.com")
            for form in ({"action": "resolve"}, {"action": "resolve", "csrf": "guessed"}):
                assert (await http.post("/tickets/HD-1/act", data=form)).status_code == 403
            assert ">open<" in (await http.get("/tickets/HD-1")).text
            out = await http.post("/logout", data={})
            assert out.status_code == 403  # signing someone out needs the token too


async def test_removing_a_user_from_the_config_ends_their_session(settings_factory, db, clock):
    settings = web_settings(settings_factory)
    async with web_app(settings, db, clock) as (app, _, _):
        async with client(app) as http:
            await sign_in(http, "dora")
            assert (await http.get("/")).status_code == 200
            deps = app.state.deps
            deps.settings = settings.model_copy(update={"web": settings.web.model_copy(
                update={"users": tuple(u for u in settings.web.users if u.name != "dora")})})
            assert (await http.get("/")).status_code == 303


def test_the_sign_in_limiter_forgets_quiet_keys_and_stays_bounded(clock):
    limiter = LoginLimiter(attempts=2, window_seconds=60)
    limiter.MAX_KEYS = 3
    for n in range(5):
        limiter.failed([f"user:{n}"], clock.now())
    assert list(limiter.failures) == ["user:2", "user:3", "user:4"]
    limiter.failed(["user:4"], clock.now())
    assert limiter.blocked(["ip:1.2.3.4", "user:4"], clock.now())
    clock.advance(seconds=61)
    assert not limiter.blocked(["user:4"], clock.now()) and "user:4" not in limiter.failures


async def test_a_trusted_proxys_user_header_signs_in_only_when_configured_and_from_the_proxy(
        settings_factory, db, clock):
    users = [{"name": "erin", "role": "viewer"}]  # no password: only through the proxy
    for header, proxies, expected in (("", ("127.0.0.1",), 303), ("X-Remote-User", ("10.0.0.9",), 303),
                                      ("X-Remote-User", ("127.0.0.1",), 200)):
        settings = web_settings(settings_factory, users=users, proxy_user_header=header, proxy_addresses=proxies)
        async with web_app(settings, db, clock) as (app, _, _):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
                response = await http.get("/", headers={"X-Remote-User": "erin"})
                assert response.status_code == expected, (header, proxies)
                assert (await http.get("/", headers={"X-Remote-User": "mallory"})).status_code == 303
                failed = await sign_in(http, "erin", "")  # no password hash: no password sign-in either
                assert failed.status_code == 401


async def test_behind_our_proxy_sign_in_limits_apply_per_forwarded_client(settings_factory, db, clock):
    settings = web_settings(settings_factory, login_attempts=2)
    async with web_app(settings, db, clock) as (app, _, _):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # the proxy
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            async def attempt(client_ip: str, name: str, password: str) -> int:
                page = await http.get("/login")
                response = await http.post("/login", headers={"X-Forwarded-For": client_ip}, data={
                    "name": name, "password": password, "csrf": csrf_of(page.text)})
                return response.status_code

            assert [await attempt("203.0.113.9", f"guess{n}", "x") for n in range(3)] == [401, 401, 429]
            assert await attempt("198.51.100.7", "dora", "correct horse battery") == 303  # someone else
        other = httpx.ASGITransport(app=app, client=("192.0.2.1", 40000))  # not our proxy: its header is ignored
        async with httpx.AsyncClient(transport=other, base_url="https://testserver") as http:
            for n in range(2):
                page = await http.get("/login")
                await http.post("/login", headers={"X-Forwarded-For": f"10.0.0.{n}"},
                                data={"name": f"x{n}", "password": "x", "csrf": csrf_of(page.text)})
            page = await http.get("/login")
            blocked = await http.post("/login", headers={"X-Forwarded-For": "10.0.0.99"},
                                      data={"name": "dora", "password": "correct horse battery",
                                            "csrf": csrf_of(page.text)})
            assert blocked.status_code == 429
