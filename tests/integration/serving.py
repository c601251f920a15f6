"""Run `serve()` in-process for a test: a real SMTP listener on a free port, outbound to a relay."""
from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from gateway.app import serve
from gateway.config import Settings
from gateway.store.db import Database


@dataclass
class Running:
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task

    @property
    def port(self) -> int:
        return self.settings.smtp.port

    async def shutdown(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)

    def database(self) -> Database:
        return self.settings.open_database()

    async def drained(self, timeout: float = 20.0) -> None:
        await drained(self.settings, timeout)

    async def read(self, work):
        """`await work(session)` on this serve's database, once it has processed what it accepted
        (a 250 means spooled: the pipeline may still be running)."""
        await self.drained()
        db = self.database()
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()


async def start(settings: Settings, clock=None, environ: dict | None = None) -> Running:
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, environ=environ or {}, clock=clock, stop=stop, ready=ready))
    done, _ = await asyncio.wait({task, asyncio.create_task(ready.wait())}, timeout=20,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # serve() failed on start: raise its error here
    return Running(settings=settings, stop=stop, task=task)


def make_mail(*, sender="customer@example.org", to="ihelp@example.com", subject="Printer broken",
              body="The printer on floor 2 does not work.", **headers) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


def smtp_send(port: int, mail: EmailMessage | bytes, *, sender: str | None = None,
              recipients: list[str] | None = None, helo: str | None = None) -> tuple[int, bytes]:
    """Send with a real smtplib client (EHLO `helo`, default this host's name); return the DATA reply (code, text)."""
    # As on the wire: smtplib sends bytes as they are, and aiosmtpd reads DATA by CRLF-ended lines.
    raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
    if sender is None:  # as a real client does: the envelope sender is the From address
        sender = envelope_sender(raw)
    with smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=30) as client:
        client.ehlo()
        code, text = client.mail(sender)
        assert code == 250, text
        for rcpt in recipients or ["ihelp@example.com"]:
            code, text = client.rcpt(rcpt)
            if code != 250:
                return code, text
        return client.data(raw)


def envelope_sender(raw: bytes) -> str:
    """The From address of `raw`, or customer@example.org when it has none that parses."""
    from email import message_from_bytes, policy
    from email.utils import parseaddr

    try:
        address = parseaddr(str(message_from_bytes(raw, policy=policy.compat32).get("From", "")))[1]
    except Exception:
        address = ""
    return address if "@" in address and address.isascii() else "customer@example.org"


async def asend(port: int, mail, **kwargs) -> tuple[int, bytes]:
    return await asyncio.to_thread(smtp_send, port, mail, **kwargs)


async def stats(running: Running) -> dict:
    """`gateway stats` of a running serve's database, once it has processed what it accepted."""
    from gateway.store import repo

    return await running.read(repo.stats)


def to(relay, address: str) -> list:
    """The mails the capture relay got for `address`, parsed."""
    return [m for m in relay.parsed() if address in m["To"]]


def body(mail) -> str:
    return mail.get_body(("plain",)).get_content()


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll `predicate` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def drained(settings: Settings, timeout: float = 20.0) -> None:
    """Wait until serve's spool worker has processed every accepted mail (a 250 means spooled, not yet stored)."""
    from gateway.clock import SystemClock

    db = settings.open_database()
    try:
        async def empty() -> bool:
            return (await db.spool.status(SystemClock().now())).depth == 0

        await wait_for(empty, timeout=timeout)
    finally:
        await db.dispose()
