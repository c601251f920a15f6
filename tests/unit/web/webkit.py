"""Helpers for web tests: a configured app on the test's own loop, signed-in clients, tickets made by mail."""
from __future__ import annotations

import re
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from gateway.ingest import Ingestor
from gateway.web.app import build_app, session_secret
from gateway.web.auth import hash_password
from gateway.web.deps import Deps

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)  # argon2 takes a while: once per test session
# alice: engineer at level 1; carol: engineer at level 4; dora: director, viewer.
USERS = [{"name": "alice@example.com", "password_hash": _HASH, "role": "engineer", "levels": [1]},
         {"name": "carol@example.com", "password_hash": _HASH, "role": "engineer", "levels": [4]},
         {"name": "dora", "password_hash": _HASH, "role": "viewer"}]


def web_settings(settings_factory, **web):
    return settings_factory(web={"enabled": True, "users": USERS, "public_url": "https://help.example.com", **web})


@asynccontextmanager
async def web_app(settings, db, clock, *, smtp_up=None, timings=None, tracker_keys=None):
    """(app, ingestor, woken) on the running loop; a client reaches it over https://testserver."""
    ingestor = Ingestor(settings=settings, db=db, clock=clock)
    woken = []
    deps = Deps(settings=settings, db=db, clock=clock, ingestor=ingestor, wake=lambda: woken.append(1),
                smtp_up=smtp_up, timings=timings, tracker_keys=tracker_keys or {})
    app = build_app(deps, await session_secret(settings, db, clock.now()))
    yield app, ingestor, woken


def client(app) -> httpx.AsyncClient:
    # https: the session cookie is Secure, and httpx (like a browser) sends it over https only.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    page = await http.get("/login")
    return await http.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text),
                                           "next": "/"})


def mail(*, sender="customer@client.example", subject="Printer broken", body="It does not print.",
         **headers) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "ihelp@example.com", subject
    message["Message-ID"] = make_msgid(domain="client.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


async def new_ticket(ingestor: Ingestor, **kwargs) -> int:
    outcome = await ingestor.ingest(mail(**kwargs), source="smtp", envelope_from=kwargs.get("sender",
                                                                                            "customer@client.example"))
    assert outcome.status == "stored" and outcome.new_ticket, outcome
    return outcome.ticket_id
