"""The web face in a real browser (Playwright + Debian's chromium) against a running serve with real SMTP."""
from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import select

from gateway.notify.mail_bytes import bytes_of
from gateway.store.models import Message, Outbox
from tests.conftest import free_port
from tests.integration.serving import asend, make_mail, start, wait_for
from tests.unit.web.webkit import PASSWORD, USERS

CHROMIUM = shutil.which("chromium")
playwright = pytest.importorskip("playwright.async_api", reason="pip install playwright (the test extras)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (scripts/test does)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
HOSTILE_HTML = ("<p>Look at <b>this</b></p><script>window.owned = 'script'; alert('script')</script>"
                "<img src=x onerror=\"window.owned = 'onerror'; alert('img')\">")


@pytest.fixture
async def running(settings_factory):
    web_port = free_port()
    settings = settings_factory(smtp={"port": free_port()}, outbound={"poll_seconds": 0.1},
                                web={"enabled": True, "port": web_port, "users": USERS,
                                     "public_url": f"http://127.0.0.1:{web_port}"})
    served = await start(settings)
    yield served, f"http://127.0.0.1:{web_port}"
    await served.shutdown()


@pytest.fixture
async def browser():
    async with playwright.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


async def rows(db, model, *where):
    async with db.sessions() as session:
        return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())


async def mails(db, outbox: list[Outbox]) -> list[bytes]:
    async with db.sessions() as session:
        return await bytes_of(session, outbox)


async def test_board_ticket_escalation_and_customer_reply_in_a_browser(running, browser, tmp_path):
    served, base = running
    db = served.database()
    staff = await browser.new_page()
    await staff.goto(base + "/")
    assert "/login" in staff.url  # no board without a session
    await staff.fill("input[name=name]", "alice@example.com")
    await staff.fill("input[name=password]", PASSWORD)
    await staff.click("button[type=submit]")
    await staff.wait_for_selector("#board-live")

    # A mail over real SMTP shows up on the open board without a reload (it polls every second).
    code, _ = await asend(served.port, make_mail(subject="The printer is on fire", body="Smoke on floor 2."))
    assert code == 250
    await staff.wait_for_selector('tr[data-ref="HD-1"]', timeout=3000)
    await staff.screenshot(path=str(tmp_path / "board.png"), full_page=True)

    await staff.click('a[href="/tickets/HD-1"]')
    await staff.wait_for_selector("text=Smoke on floor 2.")
    await staff.select_option("form:has(input[value=escalate]) select[name=arg]", "3")
    await staff.fill("form:has(input[value=escalate]) input[name=text]", "Needs the sysadmins now.")
    await staff.click("form:has(input[value=escalate]) button")
    await staff.wait_for_selector("#level:text-is('3')")
    await staff.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)
    escalated = await rows(db, Outbox, Outbox.template == "level/escalated")
    assert [row.recipient for row in escalated] == ["sysadmins@example.com"]
    assert b"Needs the sysadmins now." in (await mails(db, escalated))[0]
    assert not await rows(db, Outbox, Outbox.template == "customer/reply")  # a word for staff only

    # The customer follows the link in the acknowledgement and adds a reply that threads onto HD-1.
    [ack] = await rows(db, Outbox, Outbox.template == "customer/ack")
    link = re.search(rb"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+", (await mails(db, [ack]))[0]).group(0).decode()
    customer = await (await browser.new_context()).new_page()
    await customer.goto(link)
    await customer.wait_for_selector("text=Your request HD-1")
    await customer.fill("textarea[name=text]", "The fire is out, the printer is not.")
    await customer.click("form.reply button")
    await customer.wait_for_selector("text=your reply was added")
    await customer.screenshot(path=str(tmp_path / "status.png"), full_page=True)
    [reply] = await rows(db, Message, Message.source == "web")
    assert reply.ticket_id == 1 and reply.thread_reason.startswith("reply token")
    await staff.goto(base + "/tickets/HD-1")
    assert await staff.is_visible("text=The fire is out, the printer is not.")
    await staff.goto(base + "/charts")
    assert await staff.locator("svg.chart").count() == 2
    await staff.screenshot(path=str(tmp_path / "charts.png"), full_page=True)
    await db.dispose()


async def test_customer_html_with_script_never_runs_in_the_browser(running, browser):
    served, base = running
    mail = make_mail(subject="Hostile markup", body="plain part")
    mail.add_alternative(HOSTILE_HTML, subtype="html")
    assert (await asend(served.port, mail))[0] == 250
    db = served.database()
    await wait_for(lambda: rows(db, Message, Message.direction == "in"))
    page = await browser.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    await page.goto(base + "/login")
    await page.fill("input[name=name]", "dora")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.goto(base + "/tickets/HD-1")
    frame_element = await page.wait_for_selector("iframe.mail-html")
    frame = await frame_element.content_frame()
    await frame.wait_for_selector("text=this")  # the sanitised HTML is shown
    await page.wait_for_timeout(300)  # time for an onerror to fire, were it there
    assert dialogs == []
    assert await page.evaluate("window.owned") is None
    assert await page.evaluate("document.querySelectorAll('iframe.mail-html[sandbox=\"\"]').length") == 1
    await db.dispose()
