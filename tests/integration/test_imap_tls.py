"""IMAPS and STARTTLS against Dovecot's self-signed certificate: trusted through ca_file, refused without it."""
from __future__ import annotations

import asyncio

import pytest

from gateway.clock import SystemClock
from gateway.inbound.imap import run_pollers
from gateway.inbound.mailbox_status import check_mailboxes, mailbox_status
from tests.integration.conftest import RecordingIngestor, make_mail, wait_for

pytestmark = pytest.mark.dovecot


def tls_entry(user, security: str, **overrides) -> dict:
    port = user.server.ssl_port if security == "ssl" else user.server.port
    # "localhost" is in the certificate's subjectAltName, so host name checking stays on.
    return user.mailbox(security=security, host="localhost", port=port, **overrides)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_mail_flows_over_tls_with_the_private_ca_as_ca_file(security, imap_user, settings_factory, db):
    imap_user.append(make_mail(subject=f"Over {security}").as_bytes())
    settings = settings_factory(mailboxes=[tls_entry(imap_user, security, ca_file=str(imap_user.server.cert))])
    ingestor, stop = RecordingIngestor(), asyncio.Event()
    task = asyncio.create_task(run_pollers(settings=settings, ingestor=ingestor, db=db, clock=SystemClock(),
                                           stop=stop, environ={}))
    try:
        await wait_for(ingestor.count, timeout=5)
        await wait_for(lambda: not imap_user.uids("INBOX"), timeout=5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert await ingestor.subjects() == [f"Over {security}"]
    [status] = await mailbox_status(settings=settings, db=db)
    assert status["last_error"] is None and status["last_uid"] == 1


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_without_ca_file_the_self_signed_certificate_is_refused(security, imap_user, settings_factory):
    settings = settings_factory(mailboxes=[tls_entry(imap_user, security)])
    [result] = check_mailboxes(settings, {})
    assert not result["ok"]
    assert "TLS certificate not trusted (self-signed certificate); set ca_file" in result["error"]


def test_check_over_tls_reports_the_mailbox(imap_user, settings_factory):
    settings = settings_factory(mailboxes=[tls_entry(imap_user, "ssl", ca_file=str(imap_user.server.cert))])
    [result] = check_mailboxes(settings, {})
    assert result["ok"] and result["error"] is None and "INBOX" in result["folders"]
