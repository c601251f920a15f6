"""ImapSession over a scripted imapclient double: TLS choices, error messages, MOVE fallback, IDLE answers."""
from __future__ import annotations

import socket
import ssl

import pytest
from imapclient.exceptions import IMAPClientError, LoginError

from gateway.config import MailboxConfig
from gateway.inbound.imap_session import ImapSession, MailboxError, describe_error, port_of


class ScriptedClient:
    """Records calls; capabilities and answers are set per test."""

    def __init__(self, host, port=None, ssl=True, ssl_context=None, timeout=None, *, caps=(b"IMAP4REV1",),
                 login_error=None, idle_answers=()):
        self.opened = dict(host=host, port=port, ssl=ssl, ssl_context=ssl_context, timeout=timeout)
        self.caps, self.login_error = tuple(caps), login_error
        self.idle_answers = list(idle_answers)
        self.calls: list[tuple] = []

    def capabilities(self):
        return self.caps

    def has_capability(self, name):
        return name.encode() in self.caps

    def starttls(self, context):
        self.calls.append(("starttls", context))

    def login(self, user, password):
        self.calls.append(("login", user, password))
        if self.login_error:
            raise self.login_error

    def logout(self):
        self.calls.append(("logout",))

    def __getattr__(self, name):  # move, copy, add_flags, uid_expunge, expunge, fetch ...
        def record(*args):
            self.calls.append((name, *args))
            if name == "idle_check":
                return self.idle_answers.pop(0)
            if name == "fetch":
                return {uid: {b"RFC822.SIZE": size} for uid, size in zip(args[0], (10, 10, 15, 15, 30, 1))}
            return None
        return record


def mailbox(**overrides) -> MailboxConfig:
    return MailboxConfig(**{"name": "support", "host": "imap.example.com", "username": "ihelp", **overrides})


def open_with(config: MailboxConfig, **client_kwargs) -> tuple[ImapSession, ScriptedClient]:
    made = []

    def factory(*args, **kwargs):
        made.append(ScriptedClient(*args, **kwargs, **client_kwargs))
        return made[0]

    return ImapSession.open(config, "pw", factory=factory), made[0]


@pytest.mark.parametrize("security, port, use_ssl, starttls", [
    ("ssl", 993, True, False), ("starttls", 143, False, True), ("none", 143, False, False)])
def test_security_modes(security, port, use_ssl, starttls):
    session, client = open_with(mailbox(security=security), caps=(b"IMAP4REV1", b"STARTTLS"))
    assert client.opened["port"] == port == port_of(session.mailbox) and client.opened["ssl"] is use_ssl
    assert any(call[0] == "starttls" for call in client.calls) is starttls
    context = client.opened["ssl_context"]
    if security == "none":
        assert context is None
    else:  # verification is on by default
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert ("login", "ihelp", "pw") in client.calls


def test_starttls_refused_when_the_server_does_not_offer_it():
    with pytest.raises(MailboxError, match="does not offer STARTTLS; use security = \"ssl\""):
        open_with(mailbox(security="starttls"))


def test_a_missing_password_names_the_variable():
    with pytest.raises(MailboxError, match="no password; set environment variable SUPPORT_PW") as info:
        ImapSession.open(mailbox(password_env="SUPPORT_PW"), None, factory=ScriptedClient)
    assert info.value.login


def test_a_refused_login_carries_the_server_answer_and_logs_out():
    with pytest.raises(MailboxError) as info:
        open_with(mailbox(security="none"), login_error=LoginError(b"[AUTHENTICATIONFAILED] Authentication failed."))
    assert str(info.value) == ("mailbox 'support' (ihelp at imap.example.com:143): login refused: "
                               "[AUTHENTICATIONFAILED] Authentication failed.; check username and password "
                               "(password_env or GATEWAY_MAILBOXES)")
    assert info.value.login


def test_an_unreadable_ca_file_is_named(tmp_path):
    with pytest.raises(MailboxError, match="ca_file .*missing.pem.* cannot be used"):
        open_with(mailbox(ca_file=str(tmp_path / "missing.pem")))


def cert_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    return error


@pytest.mark.parametrize("exc, expected, login", [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused; check host and port", False),
    (socket.timeout("timed out"), "no answer within 30s; check host, port and firewalls", False),
    (socket.gaierror(-2, "Name or service not known"), "does not resolve (Name or service not known); fix host",
     False),
    (cert_error(), "TLS certificate not trusted (self-signed certificate); set ca_file", False),
    (IMAPClientError("select failed: [NONEXISTENT] Mailbox doesn't exist: Inbox2"),
     "server said select failed: [NONEXISTENT]", False),
    (LoginError("[AUTHENTICATIONFAILED] no"), "login refused: [AUTHENTICATIONFAILED] no", True),
])
def test_errors_are_one_line_naming_the_mailbox_and_the_fix(exc, expected, login):
    error = describe_error(mailbox(), exc)
    assert str(error).startswith("mailbox 'support' (ihelp at imap.example.com:993): ")
    assert expected in str(error) and error.login is login and "\n" not in str(error)


@pytest.mark.parametrize("caps, expected", [
    ((b"MOVE", b"UIDPLUS"), [("add_flags", [3, 7], [b"\\Seen"], True), ("move", [3, 7], "Processed")]),
    ((b"UIDPLUS",), [("add_flags", [3, 7], [b"\\Seen"], True), ("copy", [3, 7], "Processed"),
                     ("add_flags", [3, 7], [b"\\Deleted"], True), ("uid_expunge", [3, 7])]),
    ((), [("add_flags", [3, 7], [b"\\Seen"], True), ("copy", [3, 7], "Processed"),
          ("add_flags", [3, 7], [b"\\Deleted"], True), ("expunge",)]),
])
def test_move_falls_back_to_copy_delete_expunge(caps, expected):
    session, client = open_with(mailbox(security="none"), caps=caps)
    client.calls.clear()
    session.move([7, 3], "Processed")
    assert client.calls == expected


def test_batches_are_cut_by_count_and_size(monkeypatch):
    monkeypatch.setattr("gateway.inbound.imap_session.BATCH_MAILS", 3)
    monkeypatch.setattr("gateway.inbound.imap_session.BATCH_BYTES", 25)
    session, _ = open_with(mailbox(security="none"))
    # sizes 10, 10, 15, 15, 30, 1: a mail larger than the limit still gets a batch of its own
    assert session.batches([1, 2, 3, 4, 5, 6]) == [[1, 2], [3], [4], [5], [6]]
    assert session.batches([]) == []


def test_idle_answers():
    session, client = open_with(mailbox(security="none"), idle_answers=[
        [(3, b"EXISTS")], [(b"OK", b"Still here")], [], [(b"BYE", b"Server shutting down.")]])
    assert session.idle_wait(0.2) == "mail"
    assert session.idle_wait(0.2) == "check"
    assert session.idle_wait(0.2) == "check"  # an empty answer at once: the socket may have closed
    with pytest.raises(MailboxError, match="server closed the connection \\(Server shutting down.\\)"):
        session.idle_wait(0.2)
